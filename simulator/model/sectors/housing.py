"""Housing: urban residential floor area with two vintages, a 3-stage construction pipeline and a
price that clears the market with a lag (DiPasquale–Wheaton stock–flow).

    h        = h0 · (ỹ/ỹ0)^η_y · p^(−η_p)                desired floor area per urban resident [m²]
    Dm       = U · h                                     demand [m²]
    dp/dt    = p/(τ_p·η_p) · ln(Dm / ((1−v*)·H))          price index (2024 = 1) [1/yr]
    Starts   = smin(s0·H·p^ε_q, Quota(t)) + SPol(t)      (replacement cost index = 1, so q = p)
    dC1/dt   = Starts − 3·C1/τ_c;  dC2/dt = 3(C1 − C2)/τ_c;  dC3/dt = 3(C2 − C3)/τ_c
    Compl    = 3·C3/τ_c
    dHN/dt   = Compl − HN/τ_age − δ_N·HN
    dHO/dt   = HN/τ_age − δ_O·HO − Renew,   Renew = smin(RenewPol(t), HO/τ_min)
"""
from __future__ import annotations

import numpy as np

from ..functions import smooth_min


def desired_floor_area(base, income_ratio, income_elasticity, price, price_elasticity):
    return base * income_ratio ** income_elasticity * price ** (-price_elasticity)


def price_change(price, demand, stock, natural_vacancy, adjustment_time, price_elasticity):
    return price / (adjustment_time * price_elasticity) * np.log(demand / ((1 - natural_vacancy) * stock))


def starts(normal_rate, stock, q, elasticity, quota, policy_starts):
    return smooth_min(normal_rate * stock * q ** elasticity, quota) + policy_starts


def pipeline(pipeline_stocks, starts_rate, construction_time):
    """(d pipeline/dt with shape (N, 3, M), completions (N, M))."""
    out = pipeline_stocks * (3.0 / construction_time)
    d = -out
    d[:, 0] += starts_rate
    d[:, 1:] += out[:, :-1]
    return d, out[:, -1]
