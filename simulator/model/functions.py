"""Smooth helper functions used by the sectors (continuous and piecewise-smooth in the state).

Compiled with ``jit`` (numba) and called by the compiled sectors; plain calls from Python work too.
Element-wise: any shapes that broadcast.
"""
from __future__ import annotations

import numpy as np

from .jit import jit


@jit
def smooth_min(a, b, n=8.0):
    """smin(a, b) = min·(1 + (min/max)^n)^(−1/n) ≈ min(a, b).

    For a, b ≥ 0 this equals (a^−n + b^−n)^(−1/n) (0 if either is 0). If one argument is negative
    (a stock a hair below zero within solver tolerance, drained as stock/τ_min), the result is ≈ that
    argument, so the flow turns into a small restoring inflow instead of pushing the stock further
    down (the symmetric form (a^−n + b^−n)^(−1/n) would return a positive outflow there).
    """
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    positive = hi > 0
    ratio = np.where(positive, lo / np.where(positive, hi, 1.0), 0.0)
    return np.where(positive, lo * (1.0 + ratio ** n) ** (-1.0 / n), lo)


@jit
def softplus(x, sharpness=20.0):
    """softplus(s·x)/s: a smooth max(x, 0)."""
    return np.logaddexp(0.0, sharpness * x) / sharpness


@jit
def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))
