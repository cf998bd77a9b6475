"""Demography: births, deaths and ageing along a chain of 5-year groups with k sub-stages.

Arrays have the ensemble member axis last: node arrays (N, M), by age (N, G, M).

    Births[i]     = TFR[i](t) · Σ_g (f_g/5)·φ_g · P[i,g]                       [persons/yr]
    Deaths[i,g,j] = θ_i · m_g^2020 · exp(−λ_m (t − 2019.5)) · P[i,g,j]        [persons/yr]
                    (the 2020 life table describes mid-2020 = model time 2019.5)
    Ageing[i,g,j] = P[i,g,j] · k/5   (sub-stage j → j+1, last sub-stage of g → g+1; none out of the
                                       last sub-stage of 85+)
    dP[i,g,j]/dt  = Ageing_in − Ageing − Deaths − Out-migration + In-migration[i,g]/k + Births·1{first cell}
"""
from __future__ import annotations

import numpy as np


def births(tfr: np.ndarray, population_by_age: np.ndarray, fertility_weight: np.ndarray) -> np.ndarray:
    """Births [persons/yr], shape (N, M). ``fertility_weight`` = f_g/5·φ_g, shape (G, 1)."""
    return tfr * (population_by_age * fertility_weight).sum(axis=1)


def death_rates(mortality_scale: np.ndarray, base_rates: np.ndarray, improvement: np.ndarray,
                t: float) -> np.ndarray:
    """Age-specific death rates [1/yr], shape (N, G, M)."""
    return mortality_scale[:, None, :] * base_rates * np.exp(-improvement * (t - 2019.5))


def population_change(population: np.ndarray, loss_rate: np.ndarray, inflow_by_age: np.ndarray,
                      births: np.ndarray, out: np.ndarray) -> np.ndarray:
    """dP/dt of the ageing chain, written into ``out`` (shape (N, G, k, M)) [persons/yr].

        dP[g,j]/dt = Ageing_in − P[g,j]·(k/5 + loss_g) + In[g]/k + Births·1{g = 0, j = 1}

    ``loss_rate`` (N, G, M) is the per-person rate of deaths plus out-migration; ageing moves people
    at rate k/5 from each (group, sub-stage) cell to the next; the last cell (oldest sub-stage of
    85+) has no ageing outflow; in-migrants spread evenly over the sub-stages of their group.
    """
    N, G, k, M = population.shape
    rate = k / 5.0
    np.multiply(population, -(loss_rate + rate)[:, :, None, :], out=out)
    chain, d_chain = population.reshape(N, G * k, M), out.reshape(N, G * k, M)
    d_chain[:, 1:] += rate * chain[:, :-1]
    d_chain[:, -1] += rate * chain[:, -1]              # no ageing out of the open-ended last cell
    out += (inflow_by_age / k)[:, :, None, :]
    out[:, 0, 0] += births
    return out
