"""Public services and local fiscal capacity.

    Rev      = τ_f·Ynom + Tr(t)                                     revenue [yuan/yr, nominal]
    dQS/dt   = ϑ·F_Q(t)·Rev/D − QS/τ_Q                              service capacity [yuan, 2024 prices]
    Qacc[d]  = Σ_j QS[j]·e^(−ν_Q·T[d,j]) / Σ_j P[j]·e^(−ν_Q·T[d,j])    access-weighted services per person
"""
from __future__ import annotations

import numpy as np

from ..functions import mirrored
from ..jit import jit


@jit
def service_weights(travel_time, decay):
    """e^(−ν_Q·T[d,j]), shape (N, N) (a function of travel time only: once per lever segment)."""
    n = travel_time.shape[0]
    out = np.empty((n, n))
    for d in range(n):
        for j in range(n):
            out[d, j] = out[j, d] if mirrored(travel_time, d, j) else np.exp(-decay * travel_time[d, j])
    return out


@jit
def service_access_weighted(capacity, population, weights, out=None):
    """Qacc[d] = Σ_j QS[j]·w[d,j] / Σ_j P[j]·w[d,j], shape (N,) (weights: ``service_weights``); into ``out``
    if given."""
    n = capacity.shape[0]
    if out is None:
        out = np.empty(n)
    for d in range(n):
        num = 0.0
        den = 0.0
        for j in range(n):
            num += weights[d, j] * capacity[j]
            den += weights[d, j] * population[j]
        out[d] = num / den
    return out


@jit
def service_access(capacity, population, travel_time, decay):
    """Qacc (N,) from capacity and population (N,) and travel time (N, N) (one member)."""
    return service_access_weighted(capacity, population, service_weights(travel_time, decay))


# =====================================================================================================
# Exported equations (XMILE / Vensim) — generated into files by ``simulator.export``; they mirror the
# numpy code above (and its assembly in rhs.py). Format: see the end of sectors/demography.py.
# =====================================================================================================
EXPORT_EQUATIONS = [
    ("revenue", "node", "fiscal_revenue_share * gdp_nominal[node] + transfers[node]", "yuan/yr",
     "Rev = tau_f Ynom + Tr(t), nominal"),
    ("service_weight_matrix", "node, dest", "EXP(-service_access_decay * travel_time[node, dest])", "Dmnl",
     "exp(-nu_Q T[d,j])"),
    ("service_capacity_at_dest", "dest", "SUM(service_capacity[node!] * node_identity[node!, dest])", "yuan",
     "QS over the copy dimension dest"),
    ("population_at_dest", "dest", "SUM(total_population[node!] * node_identity[node!, dest])", "persons",
     "P over the copy dimension dest"),
    ("service_access", "node",
     "SUM(service_weight_matrix[node, dest!] * service_capacity_at_dest[dest!])"
     " / SUM(service_weight_matrix[node, dest!] * population_at_dest[dest!])", "yuan/person",
     "Qacc[d] = sum_j QS[j] e^(-nu_Q T[d,j]) / sum_j P[j] e^(-nu_Q T[d,j])"),
]

EXPORT_STOCKS = [
    ("service_capacity", "node",
     "service_spending_share * service_spending_factor[node] * revenue[node] / deflator"
     " - service_capacity[node] / service_capacity_life",
     "initial_service_capacity[node]", "yuan", "QS: public-service capacity, 2024 prices"),
]
