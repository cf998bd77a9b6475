"""The assembled right-hand side: sector flows → d(state)/dt, vectorized over ensemble members.

Evaluation order (no algebraic loops; every feedback passes through a stock):
1. stocks and the levers at t;  2. labour force, effective density, productivity, labour demand,
unemployment, employment, output, wage;  3. public services;  4. housing;  5. attractiveness (feeds
only dVp/dt);  6. migration from the perceived attractiveness Vp;  7. births, deaths, ageing;
8. the urban coflow;  9. capital, indices and accumulators.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .functions import smooth_min
from .nodes import N_NODES, travel_time_matrix
from .sectors import demography, economy, expectations, housing, migration, services, students, urbanization
from .state import StateLayout


def probabilities_to_ext(prob: np.ndarray, bonus_class: int) -> np.ndarray:
    """π[o, EXT, class] (N, M): probability that a mover-candidate of that bonus class leaves for the rest of China."""
    return prob[:, -1, bonus_class, :]


class Model:
    """d(state)/dt for ``members`` stacked parameter sets (member axis last in every array).

    ``p``: member-stacked parameters; ``c``: calibrated constants from ``initial.initialize``.
    """

    def __init__(self, layout: StateLayout, p: SimpleNamespace, c: SimpleNamespace, members: int):
        self.layout, self.p, self.c, self.members = layout, p, c, members

    def derivatives(self, t: float, y: np.ndarray, lev: SimpleNamespace, want_auxiliaries: bool = False):
        p, c, M, N = self.p, self.c, self.members, N_NODES
        s = self.layout.unpack(y, M)
        dy = self.layout.empty(M)
        d = self.layout.unpack(dy, M)

        P = s["population"]                                                     # (N, G, k, M)
        pop_by_age = P.sum(axis=2)                                              # (N, G, M)
        pop = pop_by_age.sum(axis=1)                                            # (N, M)
        U = s["urban_population"]
        rural = pop - U
        T = travel_time_matrix(lev.travel_time)

        # --- economy -------------------------------------------------------------------------
        alpha = p.capital_elasticity
        K, wbar, wref = s["capital_stock"], s["perceived_wage"], s["wage_reference"]
        tau_h = p.trend_perception_time
        wage_forecast = expectations.forecast_multiplicative(wbar, wref, tau_h, p.wage_perception_time)
        participation = economy.participation_rates(c.ages.participation, lev.retirement_reform,
                                                    c.ages.retirement_gain, U / pop, c.urban_reference)  # (N, G, M)
        labour = economy.labour_force(pop_by_age, participation)                 # residents
        commuting = economy.commuting_shares(T, p.commuting_propensity, p.commuting_time_scale, wage_forecast,
                                             p.commuting_wage_elasticity)
        work_labour = economy.workplace_labour(labour, commuting)                # at the workplace
        access = economy.effective_density(work_labour, T, p.access_decay)
        tfp = c.tfp0 * np.exp(s["log_tfp"]) * lev.output_shock * (access / c.access0) ** p.agglomeration_elasticity
        demand = economy.labour_demand(alpha, tfp, K, lev.human_capital, wage_forecast)
        unemp = economy.unemployment(work_labour, demand, p.natural_unemployment, p.max_unemployment,
                                     p.unemployment_slope)
        employment = work_labour * (1 - unemp)
        gdp_core = economy.output(tfp, K, lev.human_capital, employment, alpha)
        wage = (1 - alpha) * gdp_core / employment
        construction = economy.construction_output(p.construction_value_added, s["construction_pipeline"],
                                                   p.construction_time)
        gdp = gdp_core + construction
        deflator = np.exp(s["log_deflator"])
        gdp_nominal = gdp * deflator

        # --- public services -----------------------------------------------------------------
        revenue = p.fiscal_revenue_share * gdp_nominal + lev.transfers
        QS = s["service_capacity"]
        d["service_capacity"][:] = (p.service_spending_share * lev.service_spending_factor * revenue / deflator
                                    - QS / p.service_capacity_life)
        access_services = services.service_access(QS, pop, T, p.service_access_decay)

        # --- housing -------------------------------------------------------------------------
        expected_income = economy.residents_expected_income(commuting, wage * (1 - unemp))
        income = housing.household_income(expected_income, labour, pop_by_age, c.ages.retired, p.pension_replacement)
        ytil = s["smoothed_income"]
        d["smoothed_income"][:] = (income - ytil) / p.income_smoothing_time
        price = s["house_price"]
        HN, HO = s["housing_new"], s["housing_old"]
        stock = HN + HO
        floor_pp = housing.desired_floor_area(c.floor_area0, ytil / c.income0, p.housing_income_elasticity,
                                              p.floor_area_saturation, price, p.housing_price_elasticity)
        demand_area = U * floor_pp
        crowding = housing.crowding(demand_area, stock, p.natural_vacancy)
        d["house_price"][:] = housing.price_change(price, demand_area, stock, p.natural_vacancy,
                                                   p.price_adjustment_time, p.housing_price_elasticity)
        starts = housing.starts(p.normal_starts_rate, stock, price, p.starts_price_elasticity,
                                lev.land_quota, lev.policy_housing_starts)
        d["construction_pipeline"][:], completions = housing.pipeline(s["construction_pipeline"], starts,
                                                                      p.construction_time)
        renewal = smooth_min(lev.renewal_demolition, HO / p.min_drain_time)
        d["housing_new"][:] = completions - HN / p.vintage_aging_time - p.demolition_rate_new * HN
        d["housing_old"][:] = HN / p.vintage_aging_time - p.demolition_rate_old * HO - renewal

        # --- attractiveness, perceived with delay τ_V and trend-corrected (nodes and EXT alike) --
        hukou_gain = lev.hukou_ease - c.hukou_base
        V = migration.attractiveness(p.income_weight, expected_income / c.expected_income0,
                                     p.housing_cost_weight, price, p.service_weight,
                                     access_services / c.service_access0, p.hukou_weight, hukou_gain,
                                     p.housing_quality_weight, lev.housing_quality, c.fixed_effect,
                                     p.crowding_weight, crowding / c.crowding0)
        ext_utility = p.income_weight * s["log_national_income"]                    # (1, M)
        tau_V = p.attractiveness_perception_time
        Vp, Vr = s["perceived_attractiveness"], s["attractiveness_reference"]
        Ep, Er = s["perceived_ext_utility"], s["ext_utility_reference"]
        d["perceived_attractiveness"][:] = (V - Vp) / tau_V
        d["attractiveness_reference"][:] = (Vp - Vr) / tau_h
        d["perceived_ext_utility"][:] = (ext_utility - Ep) / tau_V
        d["ext_utility_reference"][:] = (Ep - Er) / tau_h
        V_forecast = expectations.forecast_additive(Vp, Vr, tau_h, tau_V)
        ext_forecast = expectations.forecast_additive(Ep, Er, tau_h, tau_V)

        # --- migration -----------------------------------------------------------------------
        bonus = lev.amenity_bonus[:, None, :] + lev.talent_bonus[:, None, :] * c.ages.class_talent  # (N, 2, M)
        cost = migration.migration_cost(T, p.travel_cost_weight, lev.metro_integration, p.ext_move_cost)
        prob = migration.choice_probabilities(V_forecast, bonus, c.home_premium, cost, ext_forecast)
        moves_in, moves, out_rate = migration.flows(p.move_consideration_rate, c.ages.migration_profile,
                                                    pop_by_age, prob, c.ages.age_class)
        ext_in = migration.external_inflow(c.ext_scale, lev.external_inflow_factor,
                                           c.ages.ext_age_distribution, V_forecast, bonus, ext_forecast,
                                           c.ages.age_class)
        ext_in += lev.extra_net_migration[:, None, :] * c.ages.ext_age_distribution   # lever X (in place: same layout)
        in_by_age = moves_in[:N] + ext_in                                          # (N, G, M)

        # --- students and graduates: extra places and the graduate programme move people ------
        Sx = s["extra_students"]
        D = p.study_duration
        n_students, graduates = students.graduation(p.base_enrolment, Sx, D)
        d["extra_students"][:] = lev.university_places - Sx / D
        rho = students.retention_share(p.base_graduate_retention, lev.talent_bonus)
        ea, ga = students.ENTRY_AGE, students.GRADUATE_AGE
        entrant_moves = students.extra_entrant_moves(lev.university_places, p.student_ext_share,
                                                     pop_by_age[:, ea], p.min_drain_time)  # (N+1, N, M)
        leavers = students.extra_graduate_leavers(rho, Sx, D, pop_by_age[:, ga], p.min_drain_time)
        to_ext_rate = (p.move_consideration_rate * c.ages.migration_profile[ga]
                       * probabilities_to_ext(prob, c.ages.age_class[ga]))        # (N, M) [1/yr]
        retained, attracted = students.programme_retention(lev.graduates_retained, rho, graduates,
                                                           to_ext_rate * pop_by_age[:, ga])
        in_by_age[:, ea] += entrant_moves.sum(axis=0)
        in_by_age[:, ga] += attracted
        with np.errstate(divide="ignore", invalid="ignore"):
            out_rate = out_rate.copy()
            out_rate[:, ea] += entrant_moves[:N].sum(axis=1) / pop_by_age[:, ea]
            out_rate[:, ga] += (leavers - retained) / pop_by_age[:, ga]
        moves = moves.copy()
        moves[:, :N] += entrant_moves[:N]
        moves[:, N] += leavers - retained
        d["cum_graduates"][:] = graduates
        d["cum_graduates_retained"][:] = rho * graduates + retained + attracted

        # --- demography ----------------------------------------------------------------------
        births = demography.births(lev.tfr, pop_by_age, c.ages.fertility_weight)
        death_rate = demography.death_rates(p.mortality_scale, c.ages.mortality, p.mortality_improvement, t)
        demography.population_change(P, death_rate + out_rate, in_by_age, births, out=d["population"])

        # --- urbanization (coflow) -----------------------------------------------------------
        deaths = (death_rate * pop_by_age).sum(axis=1)
        inflow = in_by_age.sum(axis=1)
        outflow = (out_rate * pop_by_age).sum(axis=1)
        income_gap = (np.log(expected_income / c.expected_income0) - s["log_rural_income"]
                      + p.hukou_settlement_cost * hukou_gain)
        urban_share = U / pop
        conversion = urbanization.conversion(c.conversion_rate, rural, income_gap,
                                             p.rural_urban_income_sensitivity, urban_share,
                                             p.urbanization_ceiling)
        reclass = urbanization.reclassification(lev.reclassification, rural, p.min_drain_time)
        d["urban_population"][:] = (
            births * urbanization.urban_share_of(p.urban_share_weight_births, U, rural)
            - deaths * urbanization.urban_share_of(p.urban_share_weight_deaths, U, rural)
            + urbanization.urban_share_of(p.urban_weight_in_migrants, U, rural) * inflow
            - urban_share * outflow + conversion + reclass)

        # --- registered (hukou) residents: a coflow; in-migrants arrive without the local hukou --
        Hreg = s["registered_population"]
        settle = urbanization.settlement_rate(c.settlement_rate0, p.settlement_hukou_elasticity,
                                              hukou_gain) * (pop - Hreg)
        d["registered_population"][:] = Hreg / pop * (births - deaths - outflow) + settle
        d["cum_settlement"][:] = settle

        # --- capital, wages, indices ---------------------------------------------------------
        d["capital_stock"][:] = lev.investment_rate * gdp + lev.project_investment - p.depreciation * K
        d["perceived_wage"][:] = (wage - wbar) / p.wage_perception_time
        d["wage_reference"][:] = (wbar - wref) / tau_h
        d["log_tfp"][:] = lev.tfp_growth
        d["log_deflator"][:] = lev.deflator_growth
        d["log_national_income"][:] = lev.national_income_growth
        d["log_rural_income"][:] = lev.rural_income_growth

        # --- accumulators --------------------------------------------------------------------
        d["cum_births"][:] = births
        d["cum_deaths"][:] = deaths
        cm = d["cum_migration"]
        cm[:N] = moves
        cm[N, :N] = ext_in.sum(axis=1) + entrant_moves[N] + attracted
        d["cum_urbanization"][:] = conversion + reclass
        d["cum_gdp_real"][:] = gdp
        d["cum_gdp_nominal"][:] = gdp_nominal
        d["cum_starts"][:] = starts
        d["cum_completions"][:] = completions
        d["cum_demolition"][:] = p.demolition_rate_new * HN + p.demolition_rate_old * HO + renewal

        if not want_auxiliaries:
            return dy
        aux = dict(labour_force=labour, workplace_labour=work_labour,
                   commuters=labour * (1 - commuting[np.arange(N), np.arange(N)]),
                   commuting_flow=labour[:, None, :] * commuting, employment=employment, unemployment_rate=unemp, wage=wage,
                   gdp_real_rate=gdp, gdp_nominal_rate=gdp_nominal, construction_output=construction, deflator=deflator * np.ones_like(gdp),
                   tfp=tfp, effective_density=access, human_capital=lev.human_capital * np.ones_like(gdp),
                   output_shock=lev.output_shock * np.ones_like(gdp), attractiveness=V, expected_income=expected_income,
                   service_access=access_services, desired_floor_area=floor_pp,
                   housing_demand=demand_area, housing_occupied=housing.occupied(demand_area, stock),
                   crowding=crowding,
                   attractiveness_forecast=V_forecast, wage_forecast=wage_forecast, housing_starts_rate=starts,
                   housing_completions_rate=completions, births_rate=births, deaths_rate=deaths,
                   in_migration_rate=inflow, out_migration_rate=outflow, settlement_rate=settle,
                   students=n_students, graduates_rate=graduates, graduate_retention=rho)
        return dy, aux
