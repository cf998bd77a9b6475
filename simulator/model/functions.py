"""Smooth helper functions used by the sectors (continuous and piecewise-smooth in the state)."""
from __future__ import annotations

import numpy as np


def smooth_min(a: np.ndarray, b: np.ndarray, n: float = 8.0) -> np.ndarray:
    """smin(a, b) = (a^-n + b^-n)^(-1/n) for a, b >= 0: ≈ min(a, b), 0 if either is 0."""
    with np.errstate(divide="ignore", over="ignore"):
        return (np.asarray(a, float) ** -n + np.asarray(b, float) ** -n) ** (-1.0 / n)


def softplus(x: np.ndarray, sharpness: float = 20.0) -> np.ndarray:
    """softplus(s·x)/s: a smooth max(x, 0)."""
    return np.logaddexp(0.0, sharpness * x) / sharpness


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))
