"""Smooth helper functions used by the sectors (continuous and piecewise-smooth in the state).

Compiled with ``jit`` (numba) and called by the compiled sectors; plain calls from Python work too.
Element-wise ones: numbers, or any shapes that broadcast.
"""
from __future__ import annotations

import numpy as np

from .jit import jit


@jit
def _smooth_min1(lo, hi, n):
    """smooth_min of one pair (lo ≤ hi); (min/max)^n by squaring when n = 8 or 60, (1 + r)^(−1/n) as
    exp(−log1p(r)/n). lo = 0 (a lever at 0) returns 0 at once (the formula gives 0·exp(0) = 0 too)."""
    if not hi > 0 or lo == 0.0:
        return lo
    ratio = lo / hi
    if n == 8.0:
        r2 = ratio * ratio
        r4 = r2 * r2
        rn = r4 * r4
    elif n == 60.0:
        r2 = ratio * ratio
        r4 = r2 * r2
        r8 = r4 * r4
        r16 = r8 * r8
        rn = r16 * r16 * r16 * r8 * r4              # r^60
    else:
        rn = ratio ** n
    return lo * np.exp(-np.log1p(rn) / n)


@jit
def smooth_min(a, b, n=8.0):
    """smin(a, b) = min·(1 + (min/max)^n)^(−1/n) ≈ min(a, b).

    For a, b ≥ 0 this equals (a^−n + b^−n)^(−1/n) (0 if either is 0). If one argument is negative
    (a stock a hair below zero within solver tolerance, drained as stock/τ_min), the result is ≈ that
    argument, so the flow turns into a small restoring inflow instead of pushing the stock further
    down (the symmetric form (a^−n + b^−n)^(−1/n) would return a positive outflow there).

    Two numbers give a number (no array: the compiled right-hand side calls it node by node); arrays
    broadcast element-wise to a new array.
    """
    if isinstance(a, float) and isinstance(b, float):       # np.minimum/np.maximum: a NaN stays NaN
        return _smooth_min1(np.minimum(a, b), np.maximum(a, b), n)
    lo, hi = np.minimum(a, b), np.maximum(a, b)          # broadcast to the result's shape (new arrays)
    out = np.empty_like(lo)
    flat_lo, flat_hi, flat_out = lo.ravel(), hi.ravel(), out.ravel()
    for i in range(flat_out.shape[0]):
        flat_out[i] = _smooth_min1(flat_lo[i], flat_hi[i], n)
    return out


@jit
def mirrored(a, i, j):
    """True below the diagonal where a[i, j] = a[j, i]: a weight of a symmetric travel time (T is symmetric,
    ``nodes.travel_times``) is then copied from (j, i) instead of computed again (the same number)."""
    return j < i and a[i, j] == a[j, i]


@jit
def weighted_column_sums(weights, matrix, out=None):
    """out[j] = Σ_i weights[i]·matrix[i,j], shape (m,) (``weights @ matrix``, summed over i in order); into ``out``
    if given."""
    n, m = matrix.shape
    if out is None:
        out = np.empty(m)
    for j in range(m):
        out[j] = 0.0
    for i in range(n):
        for j in range(m):
            out[j] += weights[i] * matrix[i, j]
    return out


@jit
def softplus(x, sharpness=20.0):
    """softplus(s·x)/s: a smooth max(x, 0)."""
    return np.logaddexp(0.0, sharpness * x) / sharpness


@jit
def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))
