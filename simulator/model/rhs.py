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

from collections import namedtuple
from types import SimpleNamespace

import numpy as np

from .base_data import N_AGES
from .functions import smooth_min
from .jit import jit, unowned
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
    access weights, service weights, migration cost, migration choice weights ``migration.choice_weights``),
    each (N, N) except the cost and choice weights (N, N+1).

    Levers are linear inside a lever segment and travel time usually constant there, so the compiled
    integrator evaluates these once per segment when the travel-time and integration levers have zero
    slope in it (``dopri.integrate_member``), and at every evaluation otherwise.
    """
    T = travel_times(lv[L_TT:L_TT + NP], C.internal_commute[m])
    cost = migration.migration_cost(T, P.travel_cost_weight[m], lv[L_RHO], P.ext_move_cost[m])
    return (T,
            economy.commuting_time_weights(T, P.commuting_propensity[m], P.commuting_time_scale[m]),
            economy.access_weights(T, P.access_decay[m]),
            services.service_weights(T, P.service_access_decay[m]),
            cost, migration.choice_weights(cost))


@jit
def derivatives(t, y, dy, lv, P, C, m, k, aux, work=None):
    """Write d(state)/dt of member ``m`` into ``dy``; if ``aux`` is not empty, the auxiliaries too. ``work``: the
    work arrays (``workspace``), allocated here if not given."""
    if work is None:
        work = workspace(C)
    derivatives_with(t, y, dy, lv, P, C, m, k, aux, travel_terms(lv, P, C, m), work)


#: node arrays (N,) of one evaluation: the rows of the workspace's (N_ROWS, N) array ``rows``
_NODE_ROWS = ("pop", "rural", "urban_share", "wage_forecast", "labour", "work_labour", "access", "tfp", "demand",
              "unemp", "employment", "gdp_core", "wage", "construction", "gdp", "gdp_nominal", "access_services",
              "workplace_income", "expected_income", "income", "floor_pp", "demand_area", "crowding", "starts",
              "completions", "renewal", "hukou_gain", "V", "V_forecast", "graduates", "rho", "leavers",
              "retained", "attracted", "births", "deaths", "inflow", "outflow", "conversion", "reclass", "settle",
              "n_students")
globals().update({f"W_{name}": row for row, name in enumerate(_NODE_ROWS)})
N_ROWS = len(_NODE_ROWS)
#: node × age arrays (N, G) of one evaluation: the planes of the workspace's (N_AGE_ROWS, N, G) array ``by_age``
_AGE_ROWS = ("pop_by_age", "participation", "out_rate", "ext_in", "in_by_age", "death_rate", "loss_rate")
globals().update({f"WA_{name}": row for row, name in enumerate(_AGE_ROWS)})
N_AGE_ROWS = len(_AGE_ROWS)

#: the work arrays of one evaluation (``workspace``); V = number of bonus classes
Workspace = namedtuple("Workspace", ("rows", "by_age", "moves_in", "commuting", "moves", "entrant_moves", "bonus",
                                     "prob"))


@jit
def workspace(C):
    """The work arrays of ``derivatives_with`` (contents undefined): node rows (N_ROWS, N), node × age planes
    (N_AGE_ROWS, N, G), moves in by age (N+1, G), commuting shares (N, N), moves (N, N+1), entrant moves
    (N+1, N), bonus (N, V) and choice probabilities (N, N+1, V). ``dopri.run_member`` allocates one per
    call (a member's integration and its output evaluations); without one, ``derivatives_with`` allocates its
    own. Every entry is written before it is read within an evaluation (none carries over)."""
    V = C.class_talent.shape[1]
    return Workspace(np.empty((N_ROWS, N)), np.empty((N_AGE_ROWS, N, G)), np.empty((N + 1, G)), np.empty((N, N)),
                     np.empty((N, N + 1)), np.empty((N + 1, N)), np.empty((N, V)), np.empty((N, N + 1, V)))


@jit
def derivatives_with(t, y, dy, lv, P, C, m, k, aux, travel, work=None):
    """``derivatives`` given the member's ``travel_terms`` at t.

    Written node by node: the element-wise sector functions are called on numbers (no temporary arrays), the
    others write into views of the work arrays ``work`` (``workspace``; allocated here if not given)."""
    # the arguments' arrays, and every view of them below, are used only within this call: without their
    # owner (``jit.unowned``) the views carry no atomic reference counts
    y, dy, lv, aux, P, C, travel = unowned((y, dy, lv, aux, P, C, travel))
    if work is None:
        work = workspace(C)                       # allocated here: its views keep their own references
    else:
        work = unowned(work)
    T, commute_weights, access_weights, service_weights, cost, choice_weights = travel
    # parameters and constants of member m, all read here before the first loop
    # economy (§5.4): α, trend and wage perception times, participation, commuting η_C, construction v_C and τ_c,
    # productivity and density at t0, unemployment u*, agglomeration ε, u_max, φ_u
    alpha, tau_h, tau_w = P.capital_elasticity[m], P.trend_perception_time[m], P.wage_perception_time[m]
    participation_base, retirement_gain, urban_reference = C.participation[m], C.retirement_gain[m], C.urban_reference[m]
    eta_C, value_added, tau_c = P.commuting_wage_elasticity[m], P.construction_value_added[m], P.construction_time[m]
    tfp0, access0, natural = C.tfp0[m], C.access0[m], P.natural_unemployment[m]
    eps, u_max, u_slope = P.agglomeration_elasticity[m], P.max_unemployment[m], P.unemployment_slope[m]
    # public services (§5.5) and household income (pension replacement b for residents 60+)
    revenue_share, spending_share, capacity_life = (P.fiscal_revenue_share[m], P.service_spending_share[m],
                                                    P.service_capacity_life[m])
    retired, pension_replacement = C.retired[m], P.pension_replacement[m]
    # housing (§5.6): floor area and income at t0, starts, vacancy, price and income elasticities, vintages
    floor_area0, income0, starts_rate0 = C.floor_area0[m], C.income0[m], P.normal_starts_rate[m]
    natural_vacancy, eta_p, min_drain = P.natural_vacancy[m], P.housing_price_elasticity[m], P.min_drain_time[m]
    tau_y, eta_y, saturation = P.income_smoothing_time[m], P.housing_income_elasticity[m], P.floor_area_saturation[m]
    tau_p, eps_q = P.price_adjustment_time[m], P.starts_price_elasticity[m]
    aging, demolition_new, demolition_old = P.vintage_aging_time[m], P.demolition_rate_new[m], P.demolition_rate_old[m]
    # attractiveness and migration (§5.2): κ, τ_V, weights θ_H, β_Q, β_k, β_HQ, β_C, ξ, ψ, bonus classes, μ, r_g
    kappa, tau_V = P.income_weight[m], P.attractiveness_perception_time[m]
    expected_income0, hukou_base = C.expected_income0[m], C.hukou_base[m]
    theta_H, beta_Q, beta_k = P.housing_cost_weight[m], P.service_weight[m], P.hukou_weight[m]
    beta_HQ, beta_C = P.housing_quality_weight[m], P.crowding_weight[m]
    service_access0, fixed_effect, crowding0 = C.service_access0[m], C.fixed_effect[m], C.crowding0[m]
    class_talent, age_class, ext_scale = C.class_talent[m], C.age_class[m], C.ext_scale[m]
    home_premium = C.home_premium[m]
    move_rate, migration_profile, ext_age = P.move_consideration_rate[m], C.migration_profile[m], C.ext_age_distribution[m]
    # students (§5.10), demography (§5.1), urbanization and settlement (§5.3), capital depreciation
    D, student_ext_share = P.study_duration[m], P.student_ext_share[m]
    base_enrolment, rho0 = P.base_enrolment[m], P.base_graduate_retention[m]
    fertility_weight, base_mortality = C.fertility_weight[m], C.mortality[m]
    mortality_scale, mortality_improvement = P.mortality_scale[m], P.mortality_improvement[m]
    chi_k, eta_HT = P.hukou_settlement_cost[m], P.rural_urban_income_sensitivity[m]
    conversion_rate, ceiling = C.conversion_rate[m], P.urbanization_ceiling[m]
    zeta_B, zeta_D, zeta_in = P.urban_share_weight_births[m], P.urban_share_weight_deaths[m], P.urban_weight_in_migrants[m]
    settlement_rate0, beta_S, depreciation = C.settlement_rate0[m], P.settlement_hukou_elasticity[m], P.depreciation[m]
    ga_class, profile_ga = age_class[GA], migration_profile[GA]
    V_classes = class_talent.shape[0]

    rows, by_age, moves_in, commuting = work.rows, work.by_age, work.moves_in, work.commuting
    moves, entrant_moves, bonus, prob = work.moves, work.entrant_moves, work.bonus, work.prob
    pop_by_age, participation, out_rate = by_age[WA_pop_by_age], by_age[WA_participation], by_age[WA_out_rate]
    ext_in, in_by_age = by_age[WA_ext_in], by_age[WA_in_by_age]
    death_rate, loss_rate = by_age[WA_death_rate], by_age[WA_loss_rate]

    pop, rural, urban_share = rows[W_pop], rows[W_rural], rows[W_urban_share]
    P_cells = y[S_POP:S_POP + N * G * k].reshape((N, G, k))
    U = y[S_U:S_U + N]
    for i in range(N):
        total = 0.0
        for g in range(G):
            cell = 0.0
            for j in range(k):
                cell += P_cells[i, g, j]
            pop_by_age[i, g] = cell
            total += cell
        pop[i] = total
        rural[i] = total - U[i]
        urban_share[i] = U[i] / total
    human_capital, output_shock = lv[L_HC:L_HC + N], lv[L_SHOCK:L_SHOCK + N]

    # --- economy -------------------------------------------------------------------------
    K, wbar, wref = y[S_K:S_K + N], y[S_WBAR:S_WBAR + N], y[S_WREF:S_WREF + N]
    wage_forecast = rows[W_wage_forecast]
    for i in range(N):
        wage_forecast[i] = expectations.forecast_multiplicative(wbar[i], wref[i], tau_h, tau_w)
    economy.participation_rates(participation_base, lv[L_RET], retirement_gain, urban_share,
                                urban_reference, participation)                           # (N, G)
    labour = economy.labour_force(pop_by_age, participation, rows[W_labour])                  # residents
    economy.commuting_shares_weighted(commute_weights, wage_forecast, eta_C, commuting)
    work_labour = economy.workplace_labour(labour, commuting, rows[W_work_labour])            # at the workplace
    access = economy.effective_density_weighted(work_labour, access_weights, rows[W_access])
    pipe = y[S_PIPE:S_PIPE + 3 * N].reshape((N, 3))
    construction = economy.construction_output(value_added, pipe, tau_c,
                                               rows[W_construction])
    deflator = np.exp(y[S_LND])
    tfp, demand, unemp, employment = rows[W_tfp], rows[W_demand], rows[W_unemp], rows[W_employment]
    gdp_core, wage, gdp, gdp_nominal = rows[W_gdp_core], rows[W_wage], rows[W_gdp], rows[W_gdp_nominal]
    for i in range(N):
        tfp[i] = (tfp0[i] * np.exp(y[S_LNA + i]) * output_shock[i]
                  * np.exp(eps * np.log(access[i] / access0[i])))                                # (Acc/Acc0)^ε
        demand[i] = economy.labour_demand(alpha, tfp[i], K[i], human_capital[i], wage_forecast[i])
        unemp[i] = economy.unemployment(work_labour[i], demand[i], natural[i], u_max, u_slope)
        employment[i] = work_labour[i] * (1 - unemp[i])
        gdp_core[i] = economy.output(tfp[i], K[i], human_capital[i], employment[i], alpha)
        wage[i] = (1 - alpha) * gdp_core[i] / employment[i]
        gdp[i] = gdp_core[i] + construction[i]
        gdp_nominal[i] = gdp[i] * deflator

    # --- public services -----------------------------------------------------------------
    QS = y[S_QS:S_QS + N]
    for i in range(N):
        revenue = revenue_share * gdp_nominal[i] + lv[L_TRANS + i]
        dy[S_QS + i] = spending_share * lv[L_SERV + i] * revenue / deflator - QS[i] / capacity_life
    access_services = services.service_access_weighted(QS, pop, service_weights, rows[W_access_services])

    # --- housing -------------------------------------------------------------------------
    workplace_income = rows[W_workplace_income]
    for i in range(N):
        workplace_income[i] = wage[i] * (1 - unemp[i])
    expected_income = economy.residents_expected_income(commuting, workplace_income, rows[W_expected_income])
    income = housing.household_income(expected_income, labour, pop_by_age, retired, pension_replacement,
                                      rows[W_income])
    ytil, price = y[S_YTIL:S_YTIL + N], y[S_PRICE:S_PRICE + N]
    HN, HO = y[S_HN:S_HN + N], y[S_HO:S_HO + N]
    floor_pp, demand_area, crowding = rows[W_floor_pp], rows[W_demand_area], rows[W_crowding]
    starts, renewal = rows[W_starts], rows[W_renewal]
    for i in range(N):
        dy[S_YTIL + i] = (income[i] - ytil[i]) / tau_y
        stock = HN[i] + HO[i]
        floor_pp[i] = housing.desired_floor_area(floor_area0[i], ytil[i] / income0[i], eta_y, saturation,
                                                 price[i], eta_p)
        demand_area[i] = U[i] * floor_pp[i]
        crowding[i] = housing.crowding(demand_area[i], stock, natural_vacancy)
        dy[S_PRICE + i] = housing.price_change(price[i], demand_area[i], stock, natural_vacancy, tau_p, eta_p)
        starts[i] = housing.starts(starts_rate0[i], stock, price[i], eps_q,
                                   lv[L_QUOTA + i], lv[L_SPOL + i])
        renewal[i] = smooth_min(lv[L_RENEW + i], HO[i] / min_drain)
    completions = housing.pipeline(pipe, starts, tau_c, dy[S_PIPE:S_PIPE + 3 * N].reshape((N, 3)),
                                   rows[W_completions])
    for i in range(N):
        dy[S_HN + i] = completions[i] - HN[i] / aging - demolition_new * HN[i]
        dy[S_HO + i] = HN[i] / aging - demolition_old * HO[i] - renewal[i]

    # --- attractiveness, perceived with delay τ_V and trend-corrected (nodes and EXT alike) --
    Vp, Vr = y[S_VP:S_VP + N], y[S_VR:S_VR + N]
    hukou_gain, V, V_forecast = rows[W_hukou_gain], rows[W_V], rows[W_V_forecast]
    for i in range(N):
        hukou_gain[i] = lv[L_HUKOU + i] - hukou_base[i]
        V[i] = migration.attractiveness(kappa, expected_income[i] / expected_income0[i], theta_H, price[i],
                                        beta_Q, access_services[i] / service_access0[i], beta_k, hukou_gain[i],
                                        beta_HQ, lv[L_HQ + i], fixed_effect[i], beta_C, crowding[i] / crowding0[i])
        dy[S_VP + i] = (V[i] - Vp[i]) / tau_V
        dy[S_VR + i] = (Vp[i] - Vr[i]) / tau_h
        V_forecast[i] = expectations.forecast_additive(Vp[i], Vr[i], tau_h, tau_V)
    ext_utility = kappa * y[S_LNW]
    Ep, Er = y[S_EP], y[S_ER]
    dy[S_EP] = (ext_utility - Ep) / tau_V
    dy[S_ER] = (Ep - Er) / tau_h
    ext_forecast = expectations.forecast_additive(Ep, Er, tau_h, tau_V)

    # --- migration -----------------------------------------------------------------------
    for i in range(N):
        for v in range(V_classes):
            bonus[i, v] = lv[L_AMENITY + i] + lv[L_TALENT + i] * class_talent[v]                # Ω (N, V)
    migration.choice_probabilities_weighted(V_forecast, bonus, home_premium, choice_weights, ext_forecast, prob)
    migration.flows(move_rate, migration_profile, pop_by_age, prob, age_class,
                    moves_in, moves, out_rate)
    migration.external_inflow(ext_scale, lv[L_EXTF], ext_age, V_forecast, bonus, ext_forecast,
                              age_class, ext_in)
    for i in range(N):
        for g in range(G):
            ext_in[i, g] += lv[L_EXTRA + i] * ext_age[g]                                       # lever X
            in_by_age[i, g] = moves_in[i, g] + ext_in[i, g]                                   # (N, G)

    # --- students and graduates: extra places and the graduate programme move people ------
    Sx = y[S_SX:S_SX + N]
    graduates, rho, leavers = rows[W_graduates], rows[W_rho], rows[W_leavers]
    retained, attracted, n_students = rows[W_retained], rows[W_attracted], rows[W_n_students]
    university_places = lv[L_UNIV:L_UNIV + N]
    students.extra_entrant_moves(university_places, student_ext_share, pop_by_age[:, EA], min_drain,
                                 entrant_moves)                                               # (N+1, N)
    for i in range(N):
        n_students[i], graduates[i] = students.graduation(base_enrolment[i], Sx[i], D)
        dy[S_SX + i] = university_places[i] - Sx[i] / D
        rho[i] = students.retention_share(rho0, lv[L_TALENT + i])
        leavers[i] = students.extra_graduate_leavers(rho[i], Sx[i], D, pop_by_age[i, GA], min_drain)
        to_ext_rate = move_rate[i] * profile_ga * prob[i, N, ga_class]                          # [1/yr]
        retained[i], attracted[i] = students.programme_retention(lv[L_GRAD + i], rho[i], graduates[i],
                                                                 to_ext_rate * pop_by_age[i, GA])
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
        dy[S_CG + i] = graduates[i]
        dy[S_CGR + i] = rho[i] * graduates[i] + retained[i] + attracted[i]

    # --- demography ----------------------------------------------------------------------
    births = demography.births(lv[L_TFR:L_TFR + N], pop_by_age, fertility_weight, rows[W_births])
    demography.death_rates(mortality_scale, base_mortality, mortality_improvement, t, death_rate)
    deaths, inflow, outflow = rows[W_deaths], rows[W_inflow], rows[W_outflow]
    for i in range(N):
        dead, arriving, leaving = 0.0, 0.0, 0.0
        for g in range(G):
            loss_rate[i, g] = death_rate[i, g] + out_rate[i, g]
            dead += death_rate[i, g] * pop_by_age[i, g]
            arriving += in_by_age[i, g]
            leaving += out_rate[i, g] * pop_by_age[i, g]
        deaths[i], inflow[i], outflow[i] = dead, arriving, leaving
    demography.population_change(P_cells, loss_rate, in_by_age, births,
                                 dy[S_POP:S_POP + N * G * k].reshape((N, G, k)))

    # --- urbanization (coflow) -----------------------------------------------------------
    conversion, reclass, settle = rows[W_conversion], rows[W_reclass], rows[W_settle]
    Hreg = y[S_H:S_H + N]
    for i in range(N):
        income_gap = (np.log(expected_income[i] / expected_income0[i]) - y[S_LNR + i]
                      + chi_k * hukou_gain[i])
        conversion[i] = urbanization.conversion(conversion_rate[i], rural[i], income_gap, eta_HT, urban_share[i],
                                                ceiling[i])
        reclass[i] = urbanization.reclassification(lv[L_REC + i], rural[i], min_drain)
        dy[S_U + i] = (
            births[i] * urbanization.urban_share_of(zeta_B, U[i], rural[i])
            - deaths[i] * urbanization.urban_share_of(zeta_D, U[i], rural[i])
            + urbanization.urban_share_of(zeta_in, U[i], rural[i]) * inflow[i]
            - urban_share[i] * outflow[i] + conversion[i] + reclass[i])

        # --- registered (hukou) residents: a coflow; in-migrants arrive without the local hukou --
        settle[i] = urbanization.settlement_rate(settlement_rate0[i], beta_S, hukou_gain[i]) * (pop[i] - Hreg[i])
        dy[S_H + i] = Hreg[i] / pop[i] * (births[i] - deaths[i] - outflow[i]) + settle[i]
        dy[S_CS + i] = settle[i]

        # --- capital, wages, indices -----------------------------------------------------
        dy[S_K + i] = lv[L_INV + i] * gdp[i] + lv[L_PROJ + i] - depreciation * K[i]
        dy[S_WBAR + i] = (wage[i] - wbar[i]) / tau_w
        dy[S_WREF + i] = (wbar[i] - wref[i]) / tau_h
        dy[S_LNA + i] = lv[L_GTFP + i]
        dy[S_LNR + i] = lv[L_GRUR + i]

        # --- accumulators ----------------------------------------------------------------
        dy[S_CB + i] = births[i]
        dy[S_CD + i] = deaths[i]
        dy[S_CU + i] = conversion[i] + reclass[i]
        dy[S_CYR + i] = gdp[i]
        dy[S_CYN + i] = gdp_nominal[i]
        dy[S_CST + i] = starts[i]
        dy[S_CCO + i] = completions[i]
        dy[S_CDE + i] = demolition_new * HN[i] + demolition_old * HO[i] + renewal[i]
    dy[S_LND] = lv[L_GDEF]
    dy[S_LNW] = lv[L_GNAT]
    cm = dy[S_CM:S_CM + (N + 1) * (N + 1)].reshape((N + 1, N + 1))
    for i in range(N):
        for d in range(N + 1):
            cm[i, d] = moves[i, d]
        from_ext = 0.0
        for g in range(G):
            from_ext += ext_in[i, g]
        cm[N, i] = from_ext + entrant_moves[N, i] + attracted[i]
    cm[N, N] = 0.0

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
    aux[A_housing_occupied:A_housing_occupied + N] = housing.occupied(demand_area, HN + HO)
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
