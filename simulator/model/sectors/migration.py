"""Migration: logit destination choice among the nodes and the rest of China (EXT).

    c[o,d]     = γ_T · ln(1 + T[o,d]/60 min) · (1 − ρ_M(t)·1{o,d both in the plan area})  (o ≠ d, nodes)
    c[o,EXT]   = c_EXT
    u[o,d,g]   = V̂[d] + Ω[d,g](t) − c[o,d]            (alternative d ≠ o; V̂ of EXT = V̂_EXT)
    u[o,o,g]   = V̂[o] + Ω[o,g](t) + ψ_o                (stay)
    π[o,d,g]   = exp(u[o,d,g]) / Σ_k exp(u[o,k,g])
    M[o,d,g]   = μ_o · r_g · P[o,g] · π[o,d,g]          (d ≠ o)                       [persons/yr]

Ω[d,g] = amenity bonus + talent bonus × 1{20 ≤ age < 35} takes two values per node, so π is
computed for those two age classes only and expanded to age groups by ``age_class``.
    M[EXT,d,g] = G_ext · F_ext(t) · a_g · exp(V̂[d] + Ω[d,g](t) − V̂_EXT)                 [persons/yr]

V̂ and V̂_EXT are the trend-corrected forecasts of the attractiveness of the nodes and of the rest of
China (sectors/expectations.py): both are perceived with the same delay τ_V and trend time τ_h.

The rest of China is large, so its choice probabilities are in the small-share limit of the logit
(a constant denominator folded into the calibrated scale G_ext). Every flow between nodes is
subtracted from its origin and added to its destination with the same age vector: people are
conserved by construction. Arrays have the ensemble member axis last.

The travel-time cost is 0 at T = 0, monotone and concave in T, and integration (ρ_M ∈ [0, 1]) removes a share
of it between plan-area nodes, so no travel time or policy can make a move cheaper than free: cutting T from T_base to 1 minute lowers the cost by at most γ_T·ln(1 + T_base/60)
(ln 2 ≈ 0.69 for a 60-minute link), i.e. at most multiplies that link's flows by (1 + T_base/60)^γ_T.
"""
from __future__ import annotations

import numpy as np

from ..functions import mirrored
from ..jit import jit
from ..nodes import N_NODES, PLAN_MASK

_PLAN_PAIR = (PLAN_MASK[:, None] & PLAN_MASK[None, :]).astype(np.float64)     # (N, N)

# Shapes are those of one ensemble member: node arrays (N,), by age (N, G), by bonus class (N, V).


@jit
def migration_cost(travel_time, travel_cost_weight, metro_integration, ext_move_cost):
    """Cost c[o,k] of moving from node o to alternative k ∈ nodes ∪ {EXT}, shape (N, N+1).

    The diagonal (o → o) is 0: staying has no moving cost.
    """
    N = travel_time.shape[0]
    cost = np.empty((N, N + 1))
    for o in range(N):
        for k in range(N):
            if k == o:
                cost[o, k] = 0.0
            elif mirrored(travel_time, o, k) and _PLAN_PAIR[o, k] == _PLAN_PAIR[k, o]:
                cost[o, k] = cost[k, o]
            else:
                cost[o, k] = (travel_cost_weight * np.log1p(travel_time[o, k] / 60.0)
                              * (1.0 - metro_integration * _PLAN_PAIR[o, k]))
        cost[o, N] = ext_move_cost
    return cost


@jit
def choice_weights(cost):
    """exp(−c[o,k]), shape (N, N+1): the part of exp(u[o,k,g]) that depends on the origin, apart from the
    home premium of staying (a function of travel time only: evaluated once per lever segment,
    ``rhs.travel_terms``). Within (e^−20, e^10) for costs within the parameter and lever bounds."""
    N, K = cost.shape
    weights = np.empty((N, K))
    for o in range(N):
        for k in range(K):
            weights[o, k] = weights[k, o] if k < N and mirrored(cost, o, k) else np.exp(-cost[o, k])
    return weights


@jit
def choice_probabilities_weighted(perceived, bonus, home_premium, weights, ext_utility, out=None):
    """π[o,k,v] (N, N+1, V) from the origin weights w = ``choice_weights``: exp(u[o,k,v]) =
    exp(V̂[k] + Ω[k,v])·w[o,k] for a move (V̂_EXT and no bonus for k = EXT), exp(V̂[o] + Ω[o,v] + ψ_o) for
    staying; π = exp(u)/Σ_k exp(u).

    Against overflow every term is scaled by exp(−top), top = the largest of V̂[k] + Ω[k,v] and V̂_EXT
    (or the stay utility when it is larger, ψ_o may be huge). The destination part exp(V̂[k] + Ω[k,v] − top)
    is computed once per class and held in the last origin's row until that row's turn. Into ``out`` if given.
    """
    N, V = bonus.shape
    prob = np.empty((N, N + 1, V)) if out is None else out
    last = N - 1
    for v in range(V):
        top = ext_utility
        for k in range(N):
            top = max(top, perceived[k] + bonus[k, v])
        for k in range(N):
            prob[last, k, v] = np.exp(perceived[k] + bonus[k, v] - top)
        prob[last, N, v] = np.exp(ext_utility - top)
        for o in range(N):
            stay_utility = perceived[o] + bonus[o, v] + home_premium[o]
            if stay_utility > top:             # staying dominates: scale the moves down instead
                moves_scale, stay = np.exp(top - stay_utility), 1.0
            else:
                moves_scale, stay = 1.0, np.exp(stay_utility - top)
            total = 0.0
            for k in range(N + 1):
                total += stay if k == o else prob[last, k, v] * weights[o, k] * moves_scale
            for k in range(N + 1):
                prob[o, k, v] = (stay if k == o else prob[last, k, v] * weights[o, k] * moves_scale) / total
    return prob


@jit
def choice_probabilities(perceived, bonus, home_premium, cost, ext_utility, out=None):
    """π[o,k,v], shape (N, N+1, V): probability that a mover-candidate of bonus class v in o picks k.

    perceived: V̂ (N,); bonus: Ω by bonus class (N, V) — the age groups fall into V classes
    (here: all ages, and ages 20–34 who also get the talent bonus); home_premium: ψ (N,);
    cost (N, N+1); ext_utility: V̂_EXT (scalar). k = o is staying. Into ``out`` if given.
    """
    return choice_probabilities_weighted(perceived, bonus, home_premium, choice_weights(cost), ext_utility, out)


@jit
def flows(move_rate, age_profile, population_by_age, probabilities, age_class,
          inflow=None, matrix=None, out_rate=None):
    """Moves out of every node, M[o,k,g] = μ_o·r_g·P[o,g]·π[o,k,class(g)], aggregated two ways.

    Returns (inflow by destination and age Σ_o M[o,d,g], shape (N+1, G) [persons/yr];
    origin–destination matrix Σ_g M[o,k,g], shape (N, N+1) with a zero diagonal [persons/yr];
    out-migration rate per person by (o, g), shape (N, G) [1/yr]), into ``inflow``, ``matrix``,
    ``out_rate`` if given.
    ``age_profile`` r_g has shape (G,); ``age_class`` (G,) maps age groups to bonus classes.
    """
    N, G = population_by_age.shape
    K = probabilities.shape[1]
    if inflow is None:
        inflow = np.empty((K, G))
    if matrix is None:
        matrix = np.empty((N, K))
    if out_rate is None:
        out_rate = np.empty((N, G))
    inflow[:, :] = 0.0
    for o in range(N):
        for g in range(G):                     # candidates considering a move μ_o·r_g·P[o,g], held in out_rate
            out_rate[o, g] = move_rate[o] * age_profile[g] * population_by_age[o, g]
        for k in range(K):
            total = 0.0
            if k != o:
                for g in range(G):
                    m = out_rate[o, g] * probabilities[o, k, age_class[g]]
                    inflow[k, g] += m
                    total += m
            matrix[o, k] = total
        for g in range(G):
            out_rate[o, g] = move_rate[o] * age_profile[g] * (1.0 - probabilities[o, o, age_class[g]])
    return inflow, matrix, out_rate


@jit
def external_inflow(scale, inflow_factor, age_distribution, perceived, bonus, ext_utility, age_class, out=None):
    """In-migration from the rest of China M[EXT,d,g], shape (N, G) [persons/yr]; into ``out`` if given."""
    N, G = perceived.shape[0], age_distribution.shape[0]
    V = bonus.shape[1]
    if out is None:
        out = np.empty((N, G))
    for d in range(N):
        for v in range(V):
            pull = np.exp(perceived[d] + bonus[d, v] - ext_utility)            # exp(V̂[d] + Ω[d,v] − V̂_EXT)
            for g in range(G):
                if age_class[g] == v:
                    out[d, g] = scale * inflow_factor * age_distribution[g] * pull
    return out


@jit
def attractiveness(income_weight, expected_income_ratio, housing_cost_weight, price_ratio,
                   service_weight, service_ratio, hukou_weight, hukou_gain, quality_weight,
                   housing_quality, fixed_effect, crowding_weight, crowding_ratio):
    """Utility V[d] of living in node d (dimensionless), shape (N,).

    V = κ·(ln(W/W0) − θ_H·ln(p/p0)) + β_Q·ln(Qacc/Qacc0) + β_k·(k − k_base) + β_HQ·hq + β_C·ln(χ/χ0) + ξ
    """
    return (income_weight * (np.log(expected_income_ratio) - housing_cost_weight * np.log(price_ratio))
            + service_weight * np.log(service_ratio) + hukou_weight * hukou_gain
            + quality_weight * housing_quality + crowding_weight * np.log(crowding_ratio) + fixed_effect)


# =====================================================================================================
# Exported equations (XMILE / Vensim) — generated into files by ``simulator.export``; they mirror the
# numpy code above (and its assembly in rhs.py). Format: see the end of sectors/demography.py.
# The logit is written per age group (Omega depends on age only through the talent class, so this
# is the same arithmetic as the two-class numpy code). node_identity[o, d] = 1{o = d}.
# =====================================================================================================
EXPORT_EQUATIONS = [
    ("workplace_expected_income_at_dest", "dest",
     "SUM(wage[node!] * (1 - unemployment_rate[node!]) * node_identity[node!, dest])", "yuan/worker/yr",
     "w (1 - u) at the workplace, over the copy dimension dest"),
    ("expected_income", "node", "SUM(commuting_share[node, dest!] * workplace_expected_income_at_dest[dest!])",
     "yuan/worker/yr", "W[i] = sum_j sigma[i,j] w[j] (1 - u[j])"),
    ("hukou_gain", "node", "hukou_ease[node] - hukou_ease_base[node]", "Dmnl", "k - k_base"),
    ("attractiveness", "node",
     "income_weight * (LN(expected_income[node] / expected_income0[node]) - housing_cost_weight * LN(house_price[node]))"
     " + service_weight * LN(service_access[node] / service_access0[node]) + hukou_weight * hukou_gain[node]"
     " + housing_quality_weight * housing_quality[node] + crowding_weight * LN(crowding[node] / crowding0[node])"
     " + fixed_effect[node]", "Dmnl",
     "V = kappa*(ln(W/W0) - theta_H*ln p) + beta_Q*ln(Qacc/Qacc0) + beta_k*(k - k_base) + beta_HQ*hq"
     " + beta_C*ln(chi/chi0) + xi"),
    ("ext_utility", "", "income_weight * log_national_income", "Dmnl", "V_EXT = kappa * ln(W_ext/W_ext0)"),
    ("attractiveness_forecast", "node",
     "perceived_attractiveness[node] + (perceived_attractiveness[node] - attractiveness_reference[node])"
     " / trend_perception_time * attractiveness_perception_time", "Dmnl",
     "Vhat = Vp + (Vp - Vr)/tau_h * tau_V (trend-corrected forecast)"),
    ("ext_utility_forecast", "",
     "perceived_ext_utility + (perceived_ext_utility - ext_utility_reference)"
     " / trend_perception_time * attractiveness_perception_time", "Dmnl",
     "Vhat_EXT = Ep + (Ep - Er)/tau_h * tau_V"),
    ("bonus", "node, age", "amenity_bonus[node] + talent_bonus[node] * talent_age[age]", "Dmnl",
     "Omega[d,g] = amenity bonus + talent bonus * 1{20 <= age < 35}"),
    ("migration_cost", "node, dest",
     "(1 - node_identity[node, dest]) * travel_cost_weight * LN(1 + travel_time[node, dest] / 60)"
     " * (1 - metro_integration * plan_pair[node, dest])", "Dmnl",
     "c[o,d] = gamma_T ln(1 + T/60) (1 - rho_M 1{both in plan area}); 0 on the diagonal"),
    ("choice_weight", "node, dest, age",
     "EXP(attractiveness_forecast[dest] + bonus[dest, age] - migration_cost[node, dest]"
     " + node_identity[node, dest] * home_premium[node])", "Dmnl",
     "exp(u[o,d,g]); the stay alternative (d = o) carries psi_o"),
    ("ext_choice_weight", "", "EXP(ext_utility_forecast - ext_move_cost)", "Dmnl", "exp(u[o,EXT]) = exp(Vhat_EXT - c_EXT)"),
    ("choice_denominator", "node, age", "SUM(choice_weight[node, dest!, age]) + ext_choice_weight", "Dmnl",
     "sum over alternatives of exp(u)"),
    ("choice_probability", "node, dest, age", "choice_weight[node, dest, age] / choice_denominator[node, age]",
     "Dmnl", "pi[o,d,g]"),
    ("stay_probability", "node, age", "SUM(choice_probability[node, dest!, age] * node_identity[node, dest!])",
     "Dmnl", "pi[o,o,g]"),
    ("move_candidates", "node, age",
     "move_consideration_rate[node] * migration_age_profile[age] * population_by_age[node, age]", "persons/yr",
     "mu_o * r_g * P[o,g]"),
    ("out_migration_rate", "node, age",
     "move_consideration_rate[node] * migration_age_profile[age] * (1 - stay_probability[node, age])"
     " + student_flows_out_by_age[node, age] / population_by_age[node, age]", "1/yr",
     "mu_o * r_g * (1 - pi[o,o,g]) + student moves out per resident (sectors/students.py)"),
    ("moves", "node, dest, age",
     "(1 - node_identity[node, dest]) * move_candidates[node, age] * choice_probability[node, dest, age]",
     "persons/yr", "M[o,d,g] (d != o)"),
    ("moves_to_ext", "node", "SUM(move_candidates[node, age!] / choice_denominator[node, age!]) * ext_choice_weight",
     "persons/yr", "moves from node o to the rest of China"),
    ("moves_in", "dest, age", "SUM(moves[node!, dest, age])", "persons/yr", "sum over origins of M[o,d,g]"),
    ("ext_inflow", "node, age",
     "ext_scale * external_inflow_factor * ext_age_distribution[age]"
     " * EXP(attractiveness_forecast[node] + bonus[node, age] - ext_utility_forecast)"
     " + extra_net_migration[node] * ext_age_distribution[age]", "persons/yr",
     "M[EXT,d,g] = G_ext * F_ext(t) * a_g * exp(Vhat[d] + Omega[d,g] - Vhat_EXT) + X[d](t) * a_g"),
    ("in_migration_by_age", "node, age",
     "SUM(moves_in[dest!, age] * node_identity[node, dest!]) + ext_inflow[node, age]"
     " + student_flows_in_by_age[node, age]", "persons/yr",
     "In[i,g] = sum_{o != i} M[o,i,g] + M[EXT,i,g] + student moves (sectors/students.py)"),
    ("in_migration", "node", "SUM(in_migration_by_age[node, age!])", "persons/yr", "in-migrants (node total)"),
    ("out_migration", "node", "SUM(out_migration_rate[node, age!] * population_by_age[node, age!])",
     "persons/yr", "out-migrants (node total)"),
]

EXPORT_STOCKS = [
    ("perceived_attractiveness", "node",
     "(attractiveness[node] - perceived_attractiveness[node]) / attractiveness_perception_time",
     "fixed_effect[node] - income_weight * base_income_growth * attractiveness_perception_time", "Dmnl",
     "Vp: attractiveness as perceived by movers, delay tau_V (starts on the steady path of growth g0)"),
    ("attractiveness_reference", "node",
     "(perceived_attractiveness[node] - attractiveness_reference[node]) / trend_perception_time",
     "fixed_effect[node] - income_weight * base_income_growth"
     " * (attractiveness_perception_time + trend_perception_time)", "Dmnl",
     "Vr: reference of the perceived attractiveness (its trend is (Vp - Vr)/tau_h)"),
    ("perceived_ext_utility", "", "(ext_utility - perceived_ext_utility) / attractiveness_perception_time",
     "-income_weight * base_income_growth * attractiveness_perception_time", "Dmnl",
     "Ep: utility of the rest of China as perceived by movers, delay tau_V"),
    ("ext_utility_reference", "", "(perceived_ext_utility - ext_utility_reference) / trend_perception_time",
     "-income_weight * base_income_growth * (attractiveness_perception_time + trend_perception_time)", "Dmnl",
     "Er: reference of the perceived utility of the rest of China"),
    ("log_national_income", "", "national_income_growth", "0", "Dmnl",
     "ln(W_ext/W_ext0): integral of real income growth in the rest of China"),
    ("cum_migration", "node, dest", "SUM(moves[node, dest, age!]) + extra_entrant_moves[node, dest]", "0", "persons",
     "accumulated moves between nodes (origin, destination)"),
    ("cum_migration_to_ext", "node", "moves_to_ext[node] + extra_graduate_leavers[node] - programme_retained[node]",
     "0", "persons",
     "accumulated moves from each node to the rest of China"),
    ("cum_migration_from_ext", "node",
     "SUM(ext_inflow[node, age!]) + university_places[node] - domestic_entrants_at_node[node]"
     " + programme_attracted[node]",
     "0", "persons",
     "accumulated moves from the rest of China to each node"),
]
