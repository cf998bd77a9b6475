"""Economy: labour market, Cobb–Douglas production with agglomeration, capital, nominal GDP.

    LF[i]   = Σ_g ℓ_g · P[i,g]                                           labour force [persons]
    Acc[j]  = Σ_i LF[i] · (T[i,j]/60 min)^(−a)                            effective density [persons]
    Atot[j] = A0_j · exp(lnA_j) · S_j(t) · (Acc[j]/Acc0[j])^ε            total factor productivity
    J[j]    = ((1−α)·Atot·K^α·h^(1−α) / w̄)^(1/α)                        labour demand [persons]
    u[j]    = u_max·z/(1+z),  z = u*/(u_max−u*)·(LF/J)^φ_u               unemployment rate
    E[j]    = LF·(1−u)                                                   employment [persons]
    Y[j]    = Atot·K^α·(h·E)^(1−α)                                       real GDP [yuan/yr, 2024 prices]
    w[j]    = (1−α)·Y/E                                                  wage [yuan/worker/yr]
    dK/dt   = s(t)·Y + I_proj(t) − δ·K;   dw̄/dt = (w − w̄)/τ_w
    Ynom    = Y·D(t),  D = exp(∫ deflator growth)
"""
from __future__ import annotations

import numpy as np


def labour_force(population_by_age: np.ndarray, participation: np.ndarray) -> np.ndarray:
    """LF (N, M) from population (N, G, M) and participation ℓ_g (G, 1)."""
    return (population_by_age * participation).sum(axis=1)


def effective_density(labour: np.ndarray, travel_time: np.ndarray, access_decay: np.ndarray) -> np.ndarray:
    """Acc[j] = Σ_i LF[i]·(T[i,j]/60)^(−a), shape (N, M); travel_time is (N, N, M)."""
    weights = (travel_time / 60.0) ** (-access_decay)
    return (labour[:, None, :] * weights).sum(axis=0)


def labour_demand(alpha, productivity, capital, human_capital, perceived_wage):
    return ((1 - alpha) * productivity * capital ** alpha * human_capital ** (1 - alpha)
            / perceived_wage) ** (1.0 / alpha)


def unemployment(labour_supply, demand, natural, maximum, slope):
    z = natural / (maximum - natural) * (labour_supply / demand) ** slope
    return maximum * z / (1.0 + z)


def output(productivity, capital, human_capital, employment, alpha):
    return productivity * capital ** alpha * (human_capital * employment) ** (1 - alpha)


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
