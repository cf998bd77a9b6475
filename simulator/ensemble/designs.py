"""Experimental designs on the unit hypercube, mapped to factor values through each factor's inverse CDF.

``unit_design`` returns U (n, d) in [0, 1]; ``FactorSpec.ppf`` turns column j into values of factor j.
Designs (``samples`` means):

* ``grid`` — full factorial; ``levels`` per continuous factor (bounded distributions: quantiles
  0 … 1 evenly, i.e. both ends of the range; normal: the mid-quantiles (i + ½)/levels), every value of a
  ``choice`` factor; ``samples`` is ignored.
* ``random`` — independent uniform draws (``samples`` runs).
* ``lhs`` — Latin hypercube (scipy.stats.qmc.LatinHypercube; ``samples`` runs, one per stratum per factor).
* ``sobol_sequence`` — scrambled Sobol points (scipy.stats.qmc.Sobol; ``samples`` runs, best a power of 2).
* ``sobol`` — the Saltelli cross-sample of SALib (scrambled Sobol base) for Sobol indices: ``samples``
  is the base size N (a power of 2), N·(d + 2) runs (N·(2d + 2) with ``second_order``).
* ``morris`` — SALib Morris trajectories: ``samples`` trajectories on a ``levels``-level grid,
  samples·(d + 1) runs.

The same (method, d, samples, seed, levels) always gives the same design.
"""
from __future__ import annotations

import itertools
import warnings

import numpy as np

MAX_GRID = 10_000_000


class DesignWarning(UserWarning):
    """The design is valid but weak (e.g. a Sobol sample that is not a power of 2)."""


def is_power_of_two(n: int) -> bool:
    return n > 0 and (n & (n - 1)) == 0


def salib_problem(names: list[str]) -> dict:
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def design_size(method: str, d: int, samples: int, levels: int = 4, second_order: bool = False,
                choices: list[int | None] | None = None) -> int:
    if method == "grid":
        sizes = [c if c else levels for c in (choices or [None] * d)]
        return int(np.prod(sizes))
    if method == "sobol":
        return samples * (2 * d + 2 if second_order else d + 2)
    if method == "morris":
        return samples * (d + 1)
    return samples


def unit_design(method: str, factors, samples: int, seed: int, levels: int = 4,
                second_order: bool = False) -> np.ndarray:
    """The design matrix U (n, d) on the unit cube for ``factors`` (FactorSpec list, for grid/choice)."""
    d = len(factors)
    names = [f.id for f in factors]
    if method == "grid":
        axes = []
        for f in factors:
            if f.distribution == "choice":
                k = len(f.args["values"])
                axes.append((np.arange(k) + 0.5) / k)
            elif f.bounded:
                axes.append(np.linspace(0.0, 1.0, levels))
            else:
                axes.append((np.arange(levels) + 0.5) / levels)
        n = int(np.prod([len(a) for a in axes]))
        if n > MAX_GRID:
            raise ValueError(f"a full grid of {n} runs is too large (limit {MAX_GRID}); lower design.levels")
        return np.array(list(itertools.product(*axes)), dtype=float).reshape(n, d)
    if method == "random":
        return np.random.default_rng(seed).random((samples, d))
    if method == "lhs":
        from scipy.stats import qmc
        return qmc.LatinHypercube(d=d, seed=np.random.default_rng(seed)).random(samples)
    if method == "sobol_sequence":
        from scipy.stats import qmc
        if not is_power_of_two(samples):
            warnings.warn(f"Sobol sequence with {samples} points: not a power of 2, the balance properties "
                          f"are lost (use {1 << (samples - 1).bit_length()})", DesignWarning, stacklevel=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return qmc.Sobol(d=d, scramble=True, seed=np.random.default_rng(seed)).random(samples)
    if method == "sobol":
        from SALib.sample import sobol as sobol_sample
        if not is_power_of_two(samples):
            warnings.warn(f"Sobol (Saltelli) design with base size N = {samples}: not a power of 2; the "
                          f"convergence of the indices is degraded (use N = {1 << (samples - 1).bit_length()})",
                          DesignWarning, stacklevel=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return sobol_sample.sample(salib_problem(names), samples, calc_second_order=second_order,
                                       scramble=True, seed=seed)
    if method == "morris":
        from SALib.sample import morris as morris_sample
        return morris_sample.sample(salib_problem(names), samples, num_levels=levels, seed=seed)
    raise ValueError(f"unknown design method {method!r}")


def factor_values(factors, U: np.ndarray) -> np.ndarray:
    """X (n, d): column j = factors[j].ppf(U[:, j])."""
    X = np.empty_like(U, dtype=float)
    for j, f in enumerate(factors):
        X[:, j] = f.ppf(U[:, j])
    return X
