"""Demography: births, deaths and ageing along a chain of 5-year groups with k sub-stages.

    Births[i]     = TFR[i](t) · Σ_g (f_g/5)·φ_g · P[i,g]                       [persons/yr]
    Deaths[i,g,j] = θ_i · m_g^2020 · exp(−λ_m (t − 2020)) · P[i,g,j]          [persons/yr]
    Ageing[i,g,j] = P[i,g,j] · k/5   (sub-stage j → j+1, last sub-stage of g → g+1; none from 85+)
"""
from __future__ import annotations

import numpy as np


def births(tfr: np.ndarray, population_by_age: np.ndarray, fertility_weight: np.ndarray) -> np.ndarray:
    """Births [persons/yr], shape (M, N). ``fertility_weight`` = f_g/5·φ_g, shape (G,)."""
    return tfr * (population_by_age * fertility_weight).sum(axis=-1)


def death_rates(mortality_scale: np.ndarray, base_rates: np.ndarray, improvement: np.ndarray,
                t: float) -> np.ndarray:
    """Age-specific death rates [1/yr], shape (M, N, G)."""
    return mortality_scale[..., None] * base_rates * np.exp(-improvement[..., None] * (t - 2020.0))


def ageing(population: np.ndarray) -> np.ndarray:
    """Net ageing flow into each (group, sub-stage) [persons/yr], same shape as population (M, N, G, k).

    The chain over (G·k) cells moves people at rate k/5 per year from each cell to the next; the
    last cell (oldest sub-stage of 85+) has no ageing outflow.
    """
    M, N, G, k = population.shape
    chain = population.reshape(M, N, G * k)
    out = chain * (k / 5.0)
    out[..., -1] = 0.0
    net = -out
    net[..., 1:] += out[..., :-1]
    return net.reshape(M, N, G, k)
