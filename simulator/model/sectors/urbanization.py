"""Urbanization: the urban population U as a coflow of total population P in each node.

    R        = P − U
    share_x  = ζ_x·U / (ζ_x·U + R)               (x = births, deaths; ζ_M = 1 for out-migrants)
    F_RU     = λ_RU · R · 2·sig(η_HT·(ln(W/W0) − ln(w_R/w_R0) + χ_k·(k − k_base)))
                    · softplus(1 − (U/P)/ū)                      Harris–Todaro conversion [persons/yr]
    λ_RU     = g_u·P0 / (R0 · softplus(1 − u0/ū))                closed so that the base-year
                                                                 conversion equals g_u·P0
    F_rec    = smin(Rec(t), R/τ_min)                             administrative reclassification
    dU/dt    = share_B·Births − share_D·Deaths + share_in·In − (U/P)·Out + F_RU + F_rec
               (share_in = ζ_in·U/(ζ_in·U + R): in-migrants favour towns but follow the node's mix)

The Harris–Todaro term is normalized so that it equals 1 in the base year; all outflows of R are
proportional to R, so 0 ≤ U ≤ P.

Registered (hukou) residents H — residents who hold the node's hukou — are a second coflow of P:

    σ_S      = σ0 · exp(β_S·(k(t) − k_base))                      settlement rate of non-registered residents [1/yr]
    σ0       = h0·(n + m0)/(1 − h0)                               closed: the registered share h = H/P is stationary at t0
    S        = σ_S · (P − H)                                      settlements (落户) [persons/yr]
    dH/dt    = (H/P)·(Births − Deaths − Out) + S                  in-migrants arrive without the local hukou

Every outflow of H is proportional to H and in-migration only adds to P − H, so 0 ≤ H ≤ P.
"""
from __future__ import annotations

import numpy as np

from ..functions import sigmoid, smooth_min, softplus
from ..jit import jit


@jit
def conversion(rate, rural, income_gap, sensitivity, urban_share, ceiling):
    """Rural→urban conversion F_RU [persons/yr], shape (N,)."""
    return rate * rural * 2.0 * sigmoid(sensitivity * income_gap) * softplus(1.0 - urban_share / ceiling)


@jit
def reclassification(target, rural, min_drain_time):
    """Administrative reclassification F_rec [persons/yr], first-order controlled by R."""
    return smooth_min(target, rural / min_drain_time)


@jit
def settlement_rate(base_rate, elasticity, hukou_gain):
    """σ_S = σ0·exp(β_S·(k − k_base)) [1/yr]."""
    return base_rate * np.exp(elasticity * hukou_gain)


@jit
def urban_share_of(weight, urban, rural):
    """Share of a flow that falls in the urban population, ζ·U/(ζ·U + R)."""
    return weight * urban / (weight * urban + rural)


# =====================================================================================================
# Exported equations (XMILE / Vensim) — generated into files by ``simulator.export``; they mirror the
# numpy code above (and its assembly in rhs.py). Format: see the end of sectors/demography.py.
# sig(x) = (1 + tanh(x/2))/2 is written 1/(1 + exp(-x)) (the same function; TANH is not in XMILE);
# softplus(x) = ln(1 + e^(20x))/20 and smin as in sectors/housing.py.
# =====================================================================================================
def _smin(a: str, b: str) -> str:
    lo, hi = f"MIN({a}, {b})", f"MAX(MAX({a}, {b}), 1e-300)"
    return f"{lo} * (1 + ({lo} / {hi}) ^ 8) ^ (-1 / 8)"


def _share(weight: str) -> str:
    return f"{weight} * urban_population[node] / ({weight} * urban_population[node] + rural_population[node])"


EXPORT_EQUATIONS = [
    ("settlements", "node",
     "settlement_rate0[node] * EXP(settlement_hukou_elasticity * hukou_gain[node])"
     " * (total_population[node] - registered_population[node])", "persons/yr",
     "S = sigma0 exp(beta_S (k - k_base)) (P - H)"),
    ("rural_population", "node", "total_population[node] - urban_population[node]", "persons", "R = P - U"),
    ("urban_share", "node", "urban_population[node] / total_population[node]", "Dmnl", "U/P"),
    ("income_gap", "node",
     "LN(expected_income[node] / expected_income0[node]) - log_rural_income[node]"
     " + hukou_settlement_cost * hukou_gain[node]", "Dmnl",
     "ln(W/W0) - ln(w_R/w_R0) + chi_k (k - k_base)"),
    ("conversion", "node",
     "conversion_rate[node] * rural_population[node] * 2"
     " / (1 + EXP(-rural_urban_income_sensitivity * income_gap[node]))"
     " * LN(1 + EXP(20 * (1 - urban_share[node] / urbanization_ceiling[node]))) / 20", "persons/yr",
     "F_RU = lambda_RU R 2 sig(eta_HT gap) softplus(1 - (U/P)/ubar)"),
    ("reclassification_flow", "node", _smin("reclassification[node]", "rural_population[node] / min_drain_time"),
     "persons/yr", "F_rec = smin(Rec(t), R/tau_min)"),
    ("urban_share_births", "node", _share("urban_share_weight_births"), "Dmnl", "zeta_B U/(zeta_B U + R)"),
    ("urban_share_deaths", "node", _share("urban_share_weight_deaths"), "Dmnl", "zeta_D U/(zeta_D U + R)"),
    ("urban_share_in_migrants", "node", _share("urban_weight_in_migrants"), "Dmnl", "zeta_in U/(zeta_in U + R)"),
]

EXPORT_STOCKS = [
    ("urban_population", "node",
     "births[node] * urban_share_births[node] - deaths[node] * urban_share_deaths[node]"
     " + urban_share_in_migrants[node] * in_migration[node] - urban_share[node] * out_migration[node]"
     " + conversion[node] + reclassification_flow[node]",
     "initial_urban_population[node]", "persons", "U: urban residents (coflow of P)"),
    ("log_rural_income", "node", "rural_income_growth[node]", "0", "Dmnl",
     "ln(w_R/w_R0): integral of rural income growth"),
    ("cum_urbanization", "node", "conversion[node] + reclassification_flow[node]", "0", "persons",
     "accumulated rural-to-urban conversion incl. reclassification"),
    ("registered_population", "node",
     "registered_population[node] / total_population[node] * (births[node] - deaths[node] - out_migration[node])"
     " + settlements[node]", "initial_registered_population[node]", "persons",
     "H: residents holding the node's hukou (coflow of P)"),
    ("cum_settlement", "node", "settlements[node]", "0", "persons", "accumulated settlements"),
]
