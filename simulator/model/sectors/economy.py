"""Economy: labour market, Cobb–Douglas production with agglomeration, capital, nominal GDP.

    LF[i]   = Σ_g (ℓ_g + R(t)·Δℓ_g·(U_i/P_i)/u_ref) · P[i,g]              resident labour force [persons]; R = retirement reform
    σ[i,j]  = ω[i,j] / Σ_k ω[i,k],  ω[i,i] = 1,  ω[i,j] = ϕ_C·exp(−T[i,j]/τ_C)·(ŵ[j]/ŵ[i])^η_C
                                                                         share of i's labour force working in j
    L[j]    = Σ_i σ[i,j]·LF[i]                                           labour supply at the workplace [persons]
    Acc[j]  = Σ_i L[i] · (1 + T[i,j]/60 min)^(−a)                         effective density [persons]
    Atot[j] = A0_j · exp(lnA_j) · S_j(t) · (Acc[j]/Acc0[j])^ε            total factor productivity
    J[j]    = ((1−α)·Atot·K^α·h^(1−α) / ŵ)^(1/α)                        labour demand [persons]
    ŵ       = w̄·(1 + (w̄/w_r − 1)/τ_h·τ_w)                               wage forecast (sectors/expectations.py)
    u[j]    = u_max·z/(1+z),  z = u*/(u_max−u*)·(L/J)^φ_u                unemployment rate (at the workplace)
    E[j]    = L·(1−u)                                                    employment at the workplace [persons]
    Y_core  = Atot·K^α·(h·E)^(1−α)                                       output of the rest of the economy
    Y_C     = v_C·ΣC/τ_c                                                 residential construction put in place
    Y[j]    = Y_core + Y_C                                               real GDP [yuan/yr, 2024 prices]
    w[j]    = (1−α)·Y_core/E                                             wage [yuan/worker/yr]
    dK/dt   = s(t)·Y + I_proj(t) − δ·K;   dw̄/dt = (w − w̄)/τ_w;   dw_r/dt = (w̄ − w_r)/τ_h
    Ynom    = Y·D(t),  D = exp(∫ deflator growth)
    W[i]    = Σ_j σ[i,j]·w[j]·(1 − u[j])                                 residents' expected income [yuan/worker/yr]

Commuting (the plan's "1-hour commuting circle"): residents work where their node's commuting shares
send them, so rail lets people live in one node and work in another. σ sums to 1 and each weight is at
most ϕ_C·(ŵ_j/ŵ_i)^η_C: T → 0 min gives an out-commuting share of at most ω/(1 + ω), ω = Σ_j≠i ϕ_C·(ŵ_j/ŵ_i)^η_C;
T → ∞ gives 0.
"""
from __future__ import annotations

import numpy as np

from ..functions import mirrored, weighted_column_sums
from ..jit import jit

# Shapes are those of one ensemble member: node arrays (N,), by age (N, G), node × node (N, N).


@jit
def participation_rates(base, reform, gain, urban_share, urban_reference, out=None):
    """ℓ[i,g] = ℓ_g + R(t)·Δℓ_g·(U_i/P_i)/u_ref, shape (N, G): the retirement-age reform binds urban
    employees, so its gain scales with the node's urban share (u_ref: the province's base-year urban share,
    so the province-wide gain at the base is Δℓ_g). ``base``, ``gain`` (G,); ``urban_share`` (N,).
    Into ``out`` if given."""
    N, G = urban_share.shape[0], base.shape[0]
    if out is None:
        out = np.empty((N, G))
    for i in range(N):
        relative = urban_share[i] / urban_reference
        for g in range(G):
            out[i, g] = base[g] + reform * gain[g] * relative
    return out


@jit
def labour_force(population_by_age, participation, out=None):
    """LF (N,) from population (N, G) and participation ℓ (N, G) (``participation_rates``); into ``out``
    if given."""
    N, G = population_by_age.shape
    if out is None:
        out = np.empty(N)
    for i in range(N):
        acc = 0.0
        for g in range(G):
            acc += population_by_age[i, g] * participation[i, g]
        out[i] = acc
    return out


@jit
def access_weights(travel_time, access_decay):
    """(1 + T[i,j]/60)^(−a), shape (N, N): the weight of labour in i in the effective density of j.

    At most 1 (T = 0), so effective density never exceeds the total labour force. A function of travel
    time only: the compiled integrator evaluates it once per lever segment (``rhs.travel_terms``).
    """
    n = travel_time.shape[0]
    out = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            out[i, j] = (out[j, i] if mirrored(travel_time, i, j)
                         else np.exp(-access_decay * np.log1p(travel_time[i, j] / 60.0)))
    return out


@jit
def effective_density_weighted(labour, weights, out=None):
    """Acc[j] = Σ_i L[i]·weights[i,j], shape (N,) (weights: ``access_weights``); into ``out`` if given."""
    return weighted_column_sums(labour, weights, out)


@jit
def effective_density(labour, travel_time, access_decay):
    """Acc[j] = Σ_i L[i]·(1 + T[i,j]/60)^(−a), shape (N,); travel_time is (N, N)."""
    return effective_density_weighted(labour, access_weights(travel_time, access_decay))


@jit
def commuting_time_weights(travel_time, propensity, time_scale):
    """ϕ_C·exp(−T[i,j]/τ_C), shape (N, N): the travel-time part of the commuting weight ω[i,j] (a function
    of travel time only, evaluated once per lever segment by the compiled integrator)."""
    n = travel_time.shape[0]
    out = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            out[i, j] = (out[j, i] if mirrored(travel_time, i, j)
                         else propensity * np.exp(-travel_time[i, j] / time_scale))
    return out


@jit
def commuting_shares_weighted(time_weights, wage_forecast, wage_elasticity, out=None):
    """σ[i,j] (N, N) from the travel-time weights: ω[i,j] = time_weights[i,j]·(ŵ[j]/ŵ[i])^η_C, ω[i,i] = 1,
    σ = ω / Σ_k ω[i,k].  (ŵ[j]/ŵ[i])^η_C is computed as ŵ[j]^η_C / ŵ[i]^η_C (the same power, N of them.)
    Into ``out`` if given."""
    n = wage_forecast.shape[0]
    scaled = np.exp(wage_elasticity * np.log(wage_forecast))         # ŵ^η_C
    weight = np.empty((n, n)) if out is None else out
    for i in range(n):
        total = 0.0
        for j in range(n):
            w = 1.0 if i == j else time_weights[i, j] * (scaled[j] / scaled[i])
            weight[i, j] = w
            total += w
        for j in range(n):
            weight[i, j] /= total
    return weight


@jit
def commuting_shares(travel_time, propensity, time_scale, wage_forecast, wage_elasticity):
    """σ[i,j] (N, N): share of the labour force living in i that works in j (rows sum to 1).

    The weight of working in j rises with j's forecast wage relative to home's (ŵ: from stocks, so no
    algebraic loop) and falls with travel time.
    """
    return commuting_shares_weighted(commuting_time_weights(travel_time, propensity, time_scale),
                                     wage_forecast, wage_elasticity)


@jit
def workplace_labour(labour_force, shares, out=None):
    """L[j] = Σ_i σ[i,j]·LF[i], shape (N,); into ``out`` if given."""
    return weighted_column_sums(labour_force, shares, out)


@jit
def residents_expected_income(shares, workplace_expected_income, out=None):
    """W[i] = Σ_j σ[i,j]·w[j](1 − u[j]), shape (N,); into ``out`` if given."""
    n, n_dest = shares.shape
    if out is None:
        out = np.empty(n)
    for i in range(n):
        acc = 0.0
        for j in range(n_dest):
            acc += shares[i, j] * workplace_expected_income[j]
        out[i] = acc
    return out


@jit
def labour_demand(alpha, productivity, capital, human_capital, perceived_wage):
    """J = ((1−α)·Atot·K^α·h^(1−α)/ŵ)^(1/α) [persons], written in logs (x^y = exp(y·ln x))."""
    return np.exp((np.log((1 - alpha) * productivity / perceived_wage) + alpha * np.log(capital)
                   + (1 - alpha) * np.log(human_capital)) / alpha)


@jit
def unemployment(labour_supply, demand, natural, maximum, slope):
    """u = u_max·z/(1+z), z = u*/(u_max−u*)·(L/J)^φ_u."""
    z = natural / (maximum - natural) * np.exp(slope * np.log(labour_supply / demand))
    return maximum * z / (1.0 + z)


@jit
def construction_output(value_added, pipeline, construction_time, out=None):
    """Y_C [yuan/yr], shape (N,): value added of residential construction, v_C × floor area put in place,
    ΣC/τ_c (each m² in the pipeline takes τ_c years to build); ``pipeline`` (N, 3); into ``out`` if given."""
    n, stages = pipeline.shape
    if out is None:
        out = np.empty(n)
    for i in range(n):
        in_pipeline = 0.0
        for s in range(stages):
            in_pipeline += pipeline[i, s]
        out[i] = value_added * in_pipeline / construction_time
    return out


@jit
def output(productivity, capital, human_capital, employment, alpha):
    """Y_core = Atot·K^α·(h·E)^(1−α), written in logs."""
    return productivity * np.exp(alpha * np.log(capital) + (1 - alpha) * np.log(human_capital * employment))


def equilibrium_supply_demand_ratio(natural, maximum, slope, iterations: int = 60):
    """x = LF/J at which the wage equals the perceived wage, i.e. x·(1 − u(x)) = 1 (Newton)."""
    x = np.ones(np.broadcast(natural, maximum, slope).shape) / (1 - natural)
    for _ in range(iterations):
        z = natural / (maximum - natural) * x ** slope
        u = maximum * z / (1 + z)
        du = maximum * slope * z / x / (1 + z) ** 2
        f = x * (1 - u) - 1
        x = x - f / ((1 - u) - x * du)
    return x


# =====================================================================================================
# Exported equations (XMILE / Vensim) — generated into files by ``simulator.export``; they mirror the
# numpy code above (and its assembly in rhs.py). Format: see the end of sectors/demography.py.
# =====================================================================================================
EXPORT_EQUATIONS = [
    ("wage_forecast", "node",
     "perceived_wage[node] * (1 + (perceived_wage[node] / wage_reference[node] - 1) / trend_perception_time"
     " * wage_perception_time)", "yuan/worker/yr", "what = wbar (1 + (wbar/wr - 1)/tau_h tau_w): trend-corrected"),
    ("participation", "node, age", "participation_rate[age] + retirement_reform * retirement_participation_gain[age]"
     " * urban_population[node] / total_population[node] / urban_reference",
     "Dmnl", "l[i,g](t) = l_g + R(t) Delta l_g (U_i/P_i)/u_ref (retirement-age reform binds urban employees)"),
    ("labour_force", "node", "SUM(population_by_age[node, age!] * participation[node, age!])", "persons",
     "LF[i] = sum_g l_g P[i,g] (residents)"),
    ("commuting_weight", "node, dest",
     "node_identity[node, dest] + (1 - node_identity[node, dest]) * commuting_propensity"
     " * EXP(-travel_time[node, dest] / commuting_time_scale)"
     " * (wage_forecast_at_dest[dest] / wage_forecast[node]) ^ commuting_wage_elasticity", "Dmnl",
     "omega[i,j] = 1 (i = j), phi_C exp(-T[i,j]/tau_C) (what[j]/what[i])^eta_C otherwise"),
    ("wage_forecast_at_dest", "dest", "SUM(wage_forecast[node!] * node_identity[node!, dest])", "yuan/worker/yr",
     "what over the copy dimension dest"),
    ("commuting_share", "node, dest", "commuting_weight[node, dest] / SUM(commuting_weight[node, dest!])", "Dmnl",
     "sigma[i,j]: share of the labour force living in i that works in j"),
    ("workplace_labour_at_dest", "dest", "SUM(labour_force[node!] * commuting_share[node!, dest])", "persons",
     "L[j] = sum_i sigma[i,j] LF[i], over the copy dimension dest"),
    ("workplace_labour", "node", "SUM(workplace_labour_at_dest[dest!] * node_identity[node, dest!])", "persons",
     "L: labour supply at the workplace"),
    ("access_weight", "node, dest", "(1 + travel_time[node, dest] / 60) ^ (-access_decay)", "Dmnl",
     "(1 + T[i,j]/60 min)^(-a)"),
    ("effective_density", "node", "SUM(access_weight[node, dest!] * workplace_labour_at_dest[dest!])", "persons",
     "Acc[j] = sum_i L[i] (1 + T[i,j]/60)^(-a) (T is symmetric)"),
    ("tfp", "node",
     "tfp0[node] * EXP(log_tfp[node]) * output_shock[node]"
     " * (effective_density[node] / access0[node]) ^ agglomeration_elasticity", "Dmnl",
     "Atot = A0 exp(lnA) S(t) (Acc/Acc0)^eps"),
    ("labour_demand", "node",
     "((1 - capital_elasticity) * tfp[node] * capital_stock[node] ^ capital_elasticity"
     " * human_capital[node] ^ (1 - capital_elasticity) / wage_forecast[node]) ^ (1 / capital_elasticity)",
     "persons", "J = ((1-alpha) Atot K^alpha h^(1-alpha) / what)^(1/alpha)"),
    ("unemployment_odds", "node",
     "natural_unemployment[node] / (max_unemployment - natural_unemployment[node])"
     " * (workplace_labour[node] / labour_demand[node]) ^ unemployment_slope", "Dmnl",
     "z = u*/(u_max - u*) (L/J)^phi_u"),
    ("unemployment_rate", "node", "max_unemployment * unemployment_odds[node] / (1 + unemployment_odds[node])",
     "Dmnl", "u = u_max z/(1+z)"),
    ("employment", "node", "workplace_labour[node] * (1 - unemployment_rate[node])", "persons", "E = L (1-u)"),
    ("gdp_core", "node",
     "tfp[node] * capital_stock[node] ^ capital_elasticity"
     " * (human_capital[node] * employment[node]) ^ (1 - capital_elasticity)", "yuan/yr",
     "Y_core = Atot K^alpha (h E)^(1-alpha), 2024 prices"),
    ("construction_output", "node",
     "construction_value_added * (construction_stage_1[node] + construction_stage_2[node]"
     " + construction_stage_3[node]) / construction_time", "yuan/yr", "Y_C = v_C sum(C)/tau_c"),
    ("gdp_real", "node", "gdp_core[node] + construction_output[node]", "yuan/yr", "Y = Y_core + Y_C"),
    ("wage", "node", "(1 - capital_elasticity) * gdp_core[node] / employment[node]", "yuan/worker/yr",
     "w = (1-alpha) Y_core/E"),
    ("deflator", "", "EXP(log_deflator)", "Dmnl", "D = exp(ln D), 2024 = 1"),
    ("gdp_nominal", "node", "gdp_real[node] * deflator", "yuan/yr", "Ynom = Y D"),
]

EXPORT_STOCKS = [
    ("capital_stock", "node",
     "investment_rate[node] * gdp_real[node] + project_investment[node] - depreciation * capital_stock[node]",
     "initial_capital_stock[node]", "yuan", "K: productive capital, 2024 prices"),
    ("perceived_wage", "node", "(wage[node] - perceived_wage[node]) / wage_perception_time",
     "initial_perceived_wage[node]", "yuan/worker/yr", "wbar: perceived wage, delay tau_w"),
    ("wage_reference", "node", "(perceived_wage[node] - wage_reference[node]) / trend_perception_time",
     "initial_wage_reference[node]", "yuan/worker/yr", "wr: reference of the perceived wage (trend time tau_h)"),
    ("log_tfp", "node", "tfp_growth[node]", "0", "Dmnl", "ln A: integral of TFP growth"),
    ("log_deflator", "", "deflator_growth", "0", "Dmnl", "ln D: integral of deflator growth"),
    ("cum_gdp_real", "node", "gdp_real[node]", "0", "yuan", "accumulated real GDP"),
    ("cum_gdp_nominal", "node", "gdp_nominal[node]", "0", "yuan", "accumulated nominal GDP"),
]
