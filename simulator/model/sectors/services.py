"""Public services and local fiscal capacity.

    Rev      = τ_f·Ynom + Tr(t)                                     revenue [yuan/yr, nominal]
    dQS/dt   = ϑ·F_Q(t)·Rev/D − QS/τ_Q                              service capacity [yuan, 2024 prices]
    Qacc[d]  = Σ_j QS[j]·e^(−ν_Q·T[d,j]) / Σ_j P[j]·e^(−ν_Q·T[d,j])    access-weighted services per person
"""
from __future__ import annotations

import numpy as np


def service_access(capacity, population, travel_time, decay):
    """Qacc (N, M) from capacity and population (N, M) and travel time (N, N, M)."""
    w = np.exp(-decay * travel_time)
    return (w * capacity[None]).sum(axis=1) / (w * population[None]).sum(axis=1)
