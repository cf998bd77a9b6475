"""Public services and local fiscal capacity.

    Rev      = τ_f·Ynom + Tr(t)                                     revenue [yuan/yr, nominal]
    dQS/dt   = ϑ·F_Q(t)·Rev/D − QS/τ_Q                              service capacity [yuan, 2024 prices]
    Qacc[d]  = Σ_j QS[j]·e^(−ν_Q·T[d,j]) / Σ_j P[j]·e^(−ν_Q·T[d,j])    access-weighted services per person
"""
from __future__ import annotations

import numpy as np


def service_access(capacity, population, travel_time, decay):
    w = np.exp(-decay[..., None] * travel_time)
    return np.einsum("mdj,mj->md", w, capacity) / np.einsum("mdj,mj->md", w, population)
