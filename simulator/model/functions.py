"""Smooth helper functions used by the sectors (continuous and piecewise-smooth in the state)."""
from __future__ import annotations

import numpy as np


def smooth_min(a: np.ndarray, b: np.ndarray, n: float = 8.0) -> np.ndarray:
    """smin(a, b) = min·(1 + (min/max)^n)^(−1/n) ≈ min(a, b).

    For a, b ≥ 0 this equals (a^−n + b^−n)^(−1/n) (0 if either is 0). If one argument is negative
    (a stock a hair below zero within solver tolerance, drained as stock/τ_min), the result is ≈ that
    argument, so the flow turns into a small restoring inflow instead of pushing the stock further
    down (the symmetric form (a^−n + b^−n)^(−1/n) would return a positive outflow there).
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.where(hi > 0, lo / np.where(hi > 0, hi, 1.0), 0.0)
        return np.where(hi > 0, lo * (1.0 + ratio ** n) ** (-1.0 / n), lo)


def softplus(x: np.ndarray, sharpness: float = 20.0) -> np.ndarray:
    """softplus(s·x)/s: a smooth max(x, 0)."""
    return np.logaddexp(0.0, sharpness * x) / sharpness


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))
