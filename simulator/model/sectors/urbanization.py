"""Urbanization: the urban population U as a coflow of total population P in each node.

    R        = P − U
    share_x  = ζ_x·U / (ζ_x·U + R)               (x = births, deaths; ζ_M = 1 for out-migrants)
    F_RU     = λ_RU · R · 2·sig(η_HT·(ln(W/W0) − ln(w_R/w_R0) + χ_k·(k − k_base)))
                    · softplus(1 − (U/P)/ū)                      Harris–Todaro conversion [persons/yr]
    λ_RU     = g_u·P0 / (R0 · softplus(1 − u0/ū))                closed so that the base-year
                                                                 conversion equals g_u·P0
    F_rec    = smin(Rec(t), R/τ_min)                             administrative reclassification
    dU/dt    = share_B·Births − share_D·Deaths + σ_in·In − (U/P)·Out + F_RU + F_rec

The Harris–Todaro term is normalized so that it equals 1 in the base year; all outflows of R are
proportional to R, so 0 ≤ U ≤ P.
"""
from __future__ import annotations

import numpy as np

from ..functions import sigmoid, smooth_min, softplus


def conversion(rate, rural, income_gap, sensitivity, urban_share, ceiling):
    """Rural→urban conversion F_RU [persons/yr], shape (M, N)."""
    return rate * rural * 2.0 * sigmoid(sensitivity * income_gap) * softplus(1.0 - urban_share / ceiling)


def reclassification(target, rural, min_drain_time):
    """Administrative reclassification F_rec [persons/yr], first-order controlled by R."""
    return smooth_min(target, rural / min_drain_time)


def urban_share_of(weight, urban, rural):
    """Share of a flow that falls in the urban population, ζ·U/(ζ·U + R)."""
    return weight * urban / (weight * urban + rural)
