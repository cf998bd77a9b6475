"""The assembled right-hand side: sector flows → d(state)/dt of one ensemble member, compiled.

Evaluation order (no algebraic loops; every feedback passes through a stock):
1. stocks and the levers at t;  2. labour force, effective density, productivity, labour demand,
unemployment, employment, output, wage;  3. public services;  4. housing;  5. attractiveness (feeds
only dVp/dt);  6. migration from the perceived attractiveness Vp;  7. births, deaths, ageing;
8. the urban coflow;  9. capital, indices and accumulators.

``derivatives`` is compiled with numba (``jit``) and calls the compiled sector functions; it is the only
statement of the model's assembly. It works on one member: ``y``/``dy`` a member's state vector (blocks at
``state.FIXED_OFFSETS``, population last), ``lv`` the member's lever values at t (``LEVER_OFFSETS``),
``P``/``C`` the member-first parameter and constant records (``records.py``) read at member ``m``.
``Model`` wraps it for member-stacked vectors with the member axis last (scipy's ``solve_ivp``, tests).
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .base_data import N_AGES
from .functions import column_sums, row_sums, smooth_min
from .jit import jit
from .nodes import N_NODES, travel_times
from .records import (AUX_OFFSETS, AUX_SIZE, LEVER_OFFSETS, constants_record, lever_matrix,
                      parameters_record)
from .sectors import demography, economy, expectations, housing, migration, services, students, urbanization
from .state import FIXED_OFFSETS, StateLayout

N = N_NODES
G = N_AGES
NP = N * (N - 1) // 2
# state blocks (offsets in one member's vector)
S_U, S_H = FIXED_OFFSETS["urban_population"], FIXED_OFFSETS["registered_population"]
S_VP, S_VR = FIXED_OFFSETS["perceived_attractiveness"], FIXED_OFFSETS["attractiveness_reference"]
S_EP, S_ER = FIXED_OFFSETS["perceived_ext_utility"], FIXED_OFFSETS["ext_utility_reference"]
S_WBAR, S_WREF = FIXED_OFFSETS["perceived_wage"], FIXED_OFFSETS["wage_reference"]
S_K, S_LNA, S_LND = FIXED_OFFSETS["capital_stock"], FIXED_OFFSETS["log_tfp"], FIXED_OFFSETS["log_deflator"]
S_LNW, S_LNR = FIXED_OFFSETS["log_national_income"], FIXED_OFFSETS["log_rural_income"]
S_HN, S_HO = FIXED_OFFSETS["housing_new"], FIXED_OFFSETS["housing_old"]
S_PIPE, S_PRICE = FIXED_OFFSETS["construction_pipeline"], FIXED_OFFSETS["house_price"]
S_SX, S_CG, S_CGR = FIXED_OFFSETS["extra_students"], FIXED_OFFSETS["cum_graduates"], FIXED_OFFSETS["cum_graduates_retained"]
S_YTIL, S_QS = FIXED_OFFSETS["smoothed_income"], FIXED_OFFSETS["service_capacity"]
S_CB, S_CD, S_CM = FIXED_OFFSETS["cum_births"], FIXED_OFFSETS["cum_deaths"], FIXED_OFFSETS["cum_migration"]
S_CU, S_CS = FIXED_OFFSETS["cum_urbanization"], FIXED_OFFSETS["cum_settlement"]
S_CYR, S_CYN = FIXED_OFFSETS["cum_gdp_real"], FIXED_OFFSETS["cum_gdp_nominal"]
S_CST, S_CCO, S_CDE = FIXED_OFFSETS["cum_starts"], FIXED_OFFSETS["cum_completions"], FIXED_OFFSETS["cum_demolition"]
S_POP = FIXED_OFFSETS["population"]
# levers (offsets in one member's lever vector): scalar levers one value, node levers N, pair levers NP
L = LEVER_OFFSETS
L_TFR, L_HUKOU, L_TALENT, L_AMENITY = L["tfr"], L["hukou_ease"], L["talent_bonus"], L["amenity_bonus"]
L_RHO, L_TT, L_EXTF, L_GNAT = L["metro_integration"], L["travel_time"], L["external_inflow_factor"], L["national_income_growth"]
L_GRUR, L_REC, L_GTFP, L_INV = L["rural_income_growth"], L["reclassification"], L["tfp_growth"], L["investment_rate"]
L_PROJ, L_HC, L_SHOCK, L_GDEF = L["project_investment"], L["human_capital"], L["output_shock"], L["deflator_growth"]
L_TRANS, L_SERV, L_SPOL, L_RENEW = L["transfers"], L["service_spending_factor"], L["policy_housing_starts"], L["renewal_demolition"]
L_HQ, L_RET, L_QUOTA, L_EXTRA = L["housing_quality"], L["retirement_reform"], L["land_quota"], L["extra_net_migration"]
L_UNIV, L_GRAD = L["university_places"], L["graduates_retained"]
EA, GA = students.ENTRY_AGE, students.GRADUATE_AGE
# auxiliaries: A_<name> = offset of each in the auxiliary vector (module constants for the compiler)
globals().update({f"A_{name}": offset for name, offset in AUX_OFFSETS.items()})


@jit
def travel_terms(lv, P, C, m):
    """Everything that depends on travel time (and metro integration) only: (T, commuting time weights,
    access weights, service weights, migration cost), each (N, N) except the cost (N, N+1).

    Levers are linear inside a lever segment and travel time usually constant there, so the compiled
    integrator evaluates these once per segment when the travel-time and integration levers have zero
    slope in it (``dopri.integrate_member``), and at every evaluation otherwise.
    """
    T = travel_times(lv[L_TT:L_TT + NP], C.internal_commute[m])
    return (T,
            economy.commuting_time_weights(T, P.commuting_propensity[m], P.commuting_time_scale[m]),
            economy.access_weights(T, P.access_decay[m]),
            services.service_weights(T, P.service_access_decay[m]),
            migration.migration_cost(T, P.travel_cost_weight[m], lv[L_RHO], P.ext_move_cost[m]))


@jit
def derivatives(t, y, dy, lv, P, C, m, k, aux):
    """Write d(state)/dt of member ``m`` into ``dy``; if ``aux`` is not empty, the auxiliaries too."""
    derivatives_with(t, y, dy, lv, P, C, m, k, aux, travel_terms(lv, P, C, m))


@jit
def derivatives_with(t, y, dy, lv, P, C, m, k, aux, travel):
    """``derivatives`` given the member's ``travel_terms`` at t."""
    T, commute_weights, access_weights, service_weights, cost = travel
    P_cells = y[S_POP:S_POP + N * G * k].reshape((N, G, k))
    pop_by_age = row_sums(P_cells.reshape((N * G, k))).reshape((N, G))          # (N, G)
    pop = row_sums(pop_by_age)                                                 # (N,)
    U = y[S_U:S_U + N]
    rural = pop - U
    human_capital, output_shock = lv[L_HC:L_HC + N], lv[L_SHOCK:L_SHOCK + N]

    # --- economy -------------------------------------------------------------------------
    alpha = P.capital_elasticity[m]
    K, wbar, wref = y[S_K:S_K + N], y[S_WBAR:S_WBAR + N], y[S_WREF:S_WREF + N]
    tau_h = P.trend_perception_time[m]
    wage_forecast = expectations.forecast_multiplicative(wbar, wref, tau_h, P.wage_perception_time[m])
    participation = economy.participation_rates(C.participation[m], lv[L_RET], C.retirement_gain[m],
                                                U / pop, C.urban_reference[m])              # (N, G)
    labour = economy.labour_force(pop_by_age, participation)                               # residents
    commuting = economy.commuting_shares_weighted(commute_weights,
                                         wage_forecast, P.commuting_wage_elasticity[m])
    work_labour = economy.workplace_labour(labour, commuting)                              # at the workplace
    access = economy.effective_density_weighted(work_labour, access_weights)
    tfp = (C.tfp0[m] * np.exp(y[S_LNA:S_LNA + N]) * output_shock
           * np.exp(P.agglomeration_elasticity[m] * np.log(access / C.access0[m])))           # (Acc/Acc0)^ε
    demand = economy.labour_demand(alpha, tfp, K, human_capital, wage_forecast)
    unemp = economy.unemployment(work_labour, demand, P.natural_unemployment[m], P.max_unemployment[m],
                                 P.unemployment_slope[m])
    employment = work_labour * (1 - unemp)
    gdp_core = economy.output(tfp, K, human_capital, employment, alpha)
    wage = (1 - alpha) * gdp_core / employment
    construction = economy.construction_output(P.construction_value_added[m],
                                               y[S_PIPE:S_PIPE + 3 * N].reshape((N, 3)), P.construction_time[m])
    gdp = gdp_core + construction
    deflator = np.exp(y[S_LND])
    gdp_nominal = gdp * deflator

    # --- public services -----------------------------------------------------------------
    revenue = P.fiscal_revenue_share[m] * gdp_nominal + lv[L_TRANS:L_TRANS + N]
    QS = y[S_QS:S_QS + N]
    dy[S_QS:S_QS + N] = (P.service_spending_share[m] * lv[L_SERV:L_SERV + N] * revenue / deflator
                         - QS / P.service_capacity_life[m])
    access_services = services.service_access_weighted(QS, pop, service_weights)

    # --- housing -------------------------------------------------------------------------
    expected_income = economy.residents_expected_income(commuting, wage * (1 - unemp))
    income = housing.household_income(expected_income, labour, pop_by_age, C.retired[m], P.pension_replacement[m])
    ytil = y[S_YTIL:S_YTIL + N]
    dy[S_YTIL:S_YTIL + N] = (income - ytil) / P.income_smoothing_time[m]
    price = y[S_PRICE:S_PRICE + N]
    HN, HO = y[S_HN:S_HN + N], y[S_HO:S_HO + N]
    stock = HN + HO
    floor_pp = housing.desired_floor_area(C.floor_area0[m], ytil / C.income0[m], P.housing_income_elasticity[m],
                                          P.floor_area_saturation[m], price, P.housing_price_elasticity[m])
    demand_area = U * floor_pp
    crowding = housing.crowding(demand_area, stock, P.natural_vacancy[m])
    dy[S_PRICE:S_PRICE + N] = housing.price_change(price, demand_area, stock, P.natural_vacancy[m],
                                                   P.price_adjustment_time[m], P.housing_price_elasticity[m])
    starts = housing.starts(P.normal_starts_rate[m], stock, price, P.starts_price_elasticity[m],
                            lv[L_QUOTA:L_QUOTA + N], lv[L_SPOL:L_SPOL + N])
    completions = housing.pipeline(y[S_PIPE:S_PIPE + 3 * N].reshape((N, 3)), starts, P.construction_time[m],
                                   dy[S_PIPE:S_PIPE + 3 * N].reshape((N, 3)))
    min_drain = P.min_drain_time[m]
    renewal = smooth_min(lv[L_RENEW:L_RENEW + N], HO / min_drain)
    aging = P.vintage_aging_time[m]
    dy[S_HN:S_HN + N] = completions - HN / aging - P.demolition_rate_new[m] * HN
    dy[S_HO:S_HO + N] = HN / aging - P.demolition_rate_old[m] * HO - renewal

    # --- attractiveness, perceived with delay τ_V and trend-corrected (nodes and EXT alike) --
    hukou_gain = lv[L_HUKOU:L_HUKOU + N] - C.hukou_base[m]
    kappa = P.income_weight[m]
    V = migration.attractiveness(kappa, expected_income / C.expected_income0[m],
                                 P.housing_cost_weight[m], price, P.service_weight[m],
                                 access_services / C.service_access0[m], P.hukou_weight[m], hukou_gain,
                                 P.housing_quality_weight[m], lv[L_HQ:L_HQ + N], C.fixed_effect[m],
                                 P.crowding_weight[m], crowding / C.crowding0[m])
    ext_utility = kappa * y[S_LNW]
    tau_V = P.attractiveness_perception_time[m]
    Vp, Vr = y[S_VP:S_VP + N], y[S_VR:S_VR + N]
    Ep, Er = y[S_EP], y[S_ER]
    dy[S_VP:S_VP + N] = (V - Vp) / tau_V
    dy[S_VR:S_VR + N] = (Vp - Vr) / tau_h
    dy[S_EP] = (ext_utility - Ep) / tau_V
    dy[S_ER] = (Ep - Er) / tau_h
    V_forecast = expectations.forecast_additive(Vp, Vr, tau_h, tau_V)
    ext_forecast = expectations.forecast_additive(Ep, Er, tau_h, tau_V)

    # --- migration -----------------------------------------------------------------------
    bonus = (lv[L_AMENITY:L_AMENITY + N][:, None]
             + lv[L_TALENT:L_TALENT + N][:, None] * C.class_talent[m][None, :])               # (N, V)
    prob = migration.choice_probabilities(V_forecast, bonus, C.home_premium[m], cost, ext_forecast)
    moves_in, moves, out_rate = migration.flows(P.move_consideration_rate[m], C.migration_profile[m],
                                                pop_by_age, prob, C.age_class[m])
    ext_in = migration.external_inflow(C.ext_scale[m], lv[L_EXTF], C.ext_age_distribution[m], V_forecast,
                                       bonus, ext_forecast, C.age_class[m])
    ext_in += lv[L_EXTRA:L_EXTRA + N][:, None] * C.ext_age_distribution[m][None, :]     # lever X
    in_by_age = moves_in[:N] + ext_in                                                    # (N, G)

    # --- students and graduates: extra places and the graduate programme move people ------
    Sx = y[S_SX:S_SX + N]
    D = P.study_duration[m]
    n_students, graduates = students.graduation(P.base_enrolment[m], Sx, D)
    university_places, graduates_target = lv[L_UNIV:L_UNIV + N], lv[L_GRAD:L_GRAD + N]
    dy[S_SX:S_SX + N] = university_places - Sx / D
    rho = students.retention_share(P.base_graduate_retention[m], lv[L_TALENT:L_TALENT + N])
    entrant_moves = students.extra_entrant_moves(university_places, P.student_ext_share[m],
                                                 pop_by_age[:, EA].copy(), min_drain)      # (N+1, N)
    leavers = students.extra_graduate_leavers(rho, Sx, D, pop_by_age[:, GA].copy(), min_drain)
    ga_class = C.age_class[m][GA]
    to_ext_rate = P.move_consideration_rate[m] * C.migration_profile[m][GA] * prob[:, N, ga_class]  # (N,) [1/yr]
    retained, attracted = students.programme_retention(graduates_target, rho, graduates,
                                                       to_ext_rate * pop_by_age[:, GA])
    for i in range(N):
        entrants_in = 0.0
        entrants_out = 0.0
        for o in range(N + 1):
            entrants_in += entrant_moves[o, i]
        for d in range(N):
            entrants_out += entrant_moves[i, d]
        in_by_age[i, EA] += entrants_in
        in_by_age[i, GA] += attracted[i]
        out_rate[i, EA] += entrants_out / pop_by_age[i, EA]
        out_rate[i, GA] += (leavers[i] - retained[i]) / pop_by_age[i, GA]
        for d in range(N):
            moves[i, d] += entrant_moves[i, d]
        moves[i, N] += leavers[i] - retained[i]
    dy[S_CG:S_CG + N] = graduates
    dy[S_CGR:S_CGR + N] = rho * graduates + retained + attracted

    # --- demography ----------------------------------------------------------------------
    births = demography.births(lv[L_TFR:L_TFR + N], pop_by_age, C.fertility_weight[m])
    death_rate = demography.death_rates(P.mortality_scale[m], C.mortality[m], P.mortality_improvement[m], t)
    demography.population_change(P_cells, death_rate + out_rate, in_by_age, births,
                                 dy[S_POP:S_POP + N * G * k].reshape((N, G, k)))

    # --- urbanization (coflow) -----------------------------------------------------------
    deaths = row_sums(death_rate * pop_by_age)
    inflow = row_sums(in_by_age)
    outflow = row_sums(out_rate * pop_by_age)
    income_gap = (np.log(expected_income / C.expected_income0[m]) - y[S_LNR:S_LNR + N]
                  + P.hukou_settlement_cost[m] * hukou_gain)
    urban_share = U / pop
    conversion = urbanization.conversion(C.conversion_rate[m], rural, income_gap,
                                         P.rural_urban_income_sensitivity[m], urban_share,
                                         P.urbanization_ceiling[m])
    reclass = urbanization.reclassification(lv[L_REC:L_REC + N], rural, min_drain)
    dy[S_U:S_U + N] = (
        births * urbanization.urban_share_of(P.urban_share_weight_births[m], U, rural)
        - deaths * urbanization.urban_share_of(P.urban_share_weight_deaths[m], U, rural)
        + urbanization.urban_share_of(P.urban_weight_in_migrants[m], U, rural) * inflow
        - urban_share * outflow + conversion + reclass)

    # --- registered (hukou) residents: a coflow; in-migrants arrive without the local hukou --
    Hreg = y[S_H:S_H + N]
    settle = urbanization.settlement_rate(C.settlement_rate0[m], P.settlement_hukou_elasticity[m],
                                          hukou_gain) * (pop - Hreg)
    dy[S_H:S_H + N] = Hreg / pop * (births - deaths - outflow) + settle
    dy[S_CS:S_CS + N] = settle

    # --- capital, wages, indices ---------------------------------------------------------
    dy[S_K:S_K + N] = lv[L_INV:L_INV + N] * gdp + lv[L_PROJ:L_PROJ + N] - P.depreciation[m] * K
    dy[S_WBAR:S_WBAR + N] = (wage - wbar) / P.wage_perception_time[m]
    dy[S_WREF:S_WREF + N] = (wbar - wref) / tau_h
    dy[S_LNA:S_LNA + N] = lv[L_GTFP:L_GTFP + N]
    dy[S_LND] = lv[L_GDEF]
    dy[S_LNW] = lv[L_GNAT]
    dy[S_LNR:S_LNR + N] = lv[L_GRUR:L_GRUR + N]

    # --- accumulators --------------------------------------------------------------------
    dy[S_CB:S_CB + N] = births
    dy[S_CD:S_CD + N] = deaths
    cm = dy[S_CM:S_CM + (N + 1) * (N + 1)].reshape((N + 1, N + 1))
    cm[:N, :] = moves
    cm[N, :N] = row_sums(ext_in) + entrant_moves[N] + attracted
    cm[N, N] = 0.0
    dy[S_CU:S_CU + N] = conversion + reclass
    dy[S_CYR:S_CYR + N] = gdp
    dy[S_CYN:S_CYN + N] = gdp_nominal
    dy[S_CST:S_CST + N] = starts
    dy[S_CCO:S_CCO + N] = completions
    dy[S_CDE:S_CDE + N] = P.demolition_rate_new[m] * HN + P.demolition_rate_old[m] * HO + renewal

    if aux.shape[0] == 0:
        return
    ones = np.ones(N)
    aux[A_labour_force:A_labour_force + N] = labour
    aux[A_workplace_labour:A_workplace_labour + N] = work_labour
    stay = np.empty(N)
    for i in range(N):
        stay[i] = commuting[i, i]
    aux[A_commuters:A_commuters + N] = labour * (1 - stay)
    aux[A_commuting_flow:A_commuting_flow + N * N] = (labour[:, None] * commuting).ravel()
    aux[A_employment:A_employment + N] = employment
    aux[A_unemployment_rate:A_unemployment_rate + N] = unemp
    aux[A_wage:A_wage + N] = wage
    aux[A_gdp_real_rate:A_gdp_real_rate + N] = gdp
    aux[A_gdp_nominal_rate:A_gdp_nominal_rate + N] = gdp_nominal
    aux[A_construction_output:A_construction_output + N] = construction
    aux[A_deflator:A_deflator + N] = deflator * ones
    aux[A_tfp:A_tfp + N] = tfp
    aux[A_effective_density:A_effective_density + N] = access
    aux[A_human_capital:A_human_capital + N] = human_capital
    aux[A_output_shock:A_output_shock + N] = output_shock
    aux[A_attractiveness:A_attractiveness + N] = V
    aux[A_expected_income:A_expected_income + N] = expected_income
    aux[A_service_access:A_service_access + N] = access_services
    aux[A_desired_floor_area:A_desired_floor_area + N] = floor_pp
    aux[A_housing_demand:A_housing_demand + N] = demand_area
    aux[A_housing_occupied:A_housing_occupied + N] = housing.occupied(demand_area, stock)
    aux[A_crowding:A_crowding + N] = crowding
    aux[A_attractiveness_forecast:A_attractiveness_forecast + N] = V_forecast
    aux[A_wage_forecast:A_wage_forecast + N] = wage_forecast
    aux[A_housing_starts_rate:A_housing_starts_rate + N] = starts
    aux[A_housing_completions_rate:A_housing_completions_rate + N] = completions
    aux[A_births_rate:A_births_rate + N] = births
    aux[A_deaths_rate:A_deaths_rate + N] = deaths
    aux[A_in_migration_rate:A_in_migration_rate + N] = inflow
    aux[A_out_migration_rate:A_out_migration_rate + N] = outflow
    aux[A_settlement_rate:A_settlement_rate + N] = settle
    aux[A_students:A_students + N] = n_students
    aux[A_graduates_rate:A_graduates_rate + N] = graduates
    aux[A_graduate_retention:A_graduate_retention + N] = rho


@jit
def derivatives_members(t, Y, DY, LV, P, C, k, AUX):
    """``derivatives`` for every member: rows of Y, DY (M, size), LV (M, n_levers), AUX (M, n_aux or 0)."""
    for m in range(Y.shape[0]):
        derivatives(t, Y[m], DY[m], LV[m], P, C, m, k, AUX[m])


@jit
def outputs_members(times, Y, DY, LV, P, C, k, AUX):
    """Rates and auxiliaries at the output times: Y, DY (M, T, size), LV (M, T, n_levers), AUX (M, T, n_aux)."""
    for m in range(Y.shape[0]):
        for i in range(times.shape[0]):
            derivatives(times[i], Y[m, i], DY[m, i], LV[m, i], P, C, m, k, AUX[m, i])


class Model:
    """d(state)/dt for ``members`` stacked parameter sets, member axis last (scipy's ``solve_ivp``).

    ``p``: member-stacked parameters; ``c``: calibrated constants from ``initial.initialize``. Each
    call transposes to member-first rows and runs the compiled ``derivatives`` on every member.
    """

    def __init__(self, layout: StateLayout, p: SimpleNamespace, c: SimpleNamespace, members: int):
        self.layout, self.p, self.c, self.members = layout, p, c, members
        self.P, self.C = parameters_record(p, members), constants_record(c, members)
        self._no_aux = np.empty((members, 0))

    def derivatives(self, t: float, y: np.ndarray, lev: SimpleNamespace, want_auxiliaries: bool = False):
        return self.derivatives_rows(t, y, lever_matrix(vars(lev), self.members), want_auxiliaries)

    def derivatives_rows(self, t: float, y: np.ndarray, LV: np.ndarray, want_auxiliaries: bool = False):
        """``derivatives`` with the lever values as rows (M, n_lever_values) (``records.lever_matrix``)."""
        M, size = self.members, self.layout.size
        Y = np.ascontiguousarray(y.reshape(size, M).T)
        DY = np.empty_like(Y)
        AUX = np.empty((M, AUX_SIZE)) if want_auxiliaries else self._no_aux
        derivatives_members(float(t), Y, DY, LV, self.P, self.C, self.layout.k, AUX)
        dy = DY.T.reshape(-1)
        if not want_auxiliaries:
            return dy
        return dy, unpack_auxiliaries(AUX)


def unpack_auxiliaries(AUX: np.ndarray) -> dict[str, np.ndarray]:
    """{name: (N, M) or (N, N, M)} from rows (M, n_aux) (member axis last, as the numpy engine returned)."""
    out = {}
    for name, off in AUX_OFFSETS.items():
        size = N * N if name == "commuting_flow" else N
        block = AUX[:, off:off + size].T
        out[name] = block.reshape((N, N, -1)) if name == "commuting_flow" else block
    return out
