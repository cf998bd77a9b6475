"""Scenario discovery with PRIM (Friedman & Fisher 1999): boxes in factor space where the cases of
interest (e.g. "both 2030 targets met") are concentrated.

Our own implementation (peeling only, no pasting), so that no extra dependency is needed. Peeling:
from the box holding all points, repeatedly remove the ``alpha`` share of the points at the low or high
end of one factor — the peel that leaves the highest density of cases of interest — until fewer than
``min_mass`` of all points remain. The selected box is the first on this trajectory whose density
reaches ``threshold`` (the highest-coverage box that is dense enough) or, if none does, the densest.
Further boxes are found on the points outside the earlier boxes (covering), while they reach the
threshold.

Result (consumed by simulator.plot)::

    {"boxes": [{"limits": {factor: [lo, hi]}, "coverage": c, "density": d, "mass": m}],
     "peeling_trajectory": [{"coverage", "density", "mass", "n_restricted"}]}

``limits`` lists the restricted factors only (inclusive bounds); coverage = share of all cases of
interest inside the box, density = share of the box's points that are of interest, mass = share of
all points in the box. ``peeling_trajectory`` is that of the first box.
"""
from __future__ import annotations

import numpy as np


def _peel_candidates(x: np.ndarray, alpha: float):
    """Candidate (new_lo, new_hi) for one factor's in-box values x."""
    lo, hi = x.min(), x.max()
    out = []
    q_lo = np.quantile(x, alpha)
    new_lo = q_lo if q_lo > lo else (np.min(x[x > lo]) if np.any(x > lo) else None)
    if new_lo is not None:
        out.append((new_lo, hi))
    q_hi = np.quantile(x, 1 - alpha)
    new_hi = q_hi if q_hi < hi else (np.max(x[x < hi]) if np.any(x < hi) else None)
    if new_hi is not None:
        out.append((lo, new_hi))
    return out


def peel(X: np.ndarray, y: np.ndarray, alpha: float = 0.05, min_mass: float = 0.05, total_y: int | None = None,
         total_n: int | None = None):
    """The peeling trajectory: list of (limits (d, 2), inside mask, coverage, density, mass)."""
    n, d = X.shape
    total_y = int(y.sum()) if total_y is None else total_y
    total_n = n if total_n is None else total_n
    limits = np.stack([X.min(axis=0), X.max(axis=0)], axis=1).astype(float)
    initial = limits.copy()
    inside = np.ones(n, dtype=bool)
    traj = []

    def record():
        k = inside.sum()
        cov = y[inside].sum() / total_y if total_y else np.nan
        traj.append((limits.copy(), inside.copy(), float(cov), float(y[inside].mean()) if k else np.nan,
                     float(k / total_n), int(np.sum((limits[:, 0] > initial[:, 0]) | (limits[:, 1] < initial[:, 1])))))
    record()
    while inside.sum() / total_n > min_mass:
        best = None
        Xi, yi = X[inside], y[inside]
        for j in range(d):
            for new_lo, new_hi in _peel_candidates(Xi[:, j], alpha):
                keep = (Xi[:, j] >= new_lo) & (Xi[:, j] <= new_hi)
                new_lo = max(new_lo, limits[j, 0]) if new_lo > Xi[:, j].min() else limits[j, 0]
                new_hi = min(new_hi, limits[j, 1]) if new_hi < Xi[:, j].max() else limits[j, 1]
                k = keep.sum()
                if k == 0 or k == len(keep) or k / total_n < min_mass:
                    continue
                dens = yi[keep].mean()
                score = (dens, k)             # highest density, then the smaller peel
                if best is None or score > best[0]:
                    best = (score, j, new_lo, new_hi, keep)
        if best is None:
            break
        _, j, new_lo, new_hi, keep = best
        limits[j] = (new_lo, new_hi)
        idx = np.flatnonzero(inside)
        inside[idx[~keep]] = False
        record()
    return traj, initial


def prim(X, y, names: list[str] | None = None, alpha: float = 0.05, threshold: float = 0.8,
         min_mass: float = 0.05, max_boxes: int = 3) -> dict:
    """PRIM boxes for cases of interest ``y`` (bool, n) over factors ``X`` (n, d) (or a mapping name → values)."""
    if isinstance(X, dict):
        names = list(X)
        X = np.column_stack([np.asarray(X[k], dtype=float) for k in names])
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=bool)
    names = names or [f"x{j}" for j in range(X.shape[1])]
    n = len(y)
    total_y = int(y.sum())
    result = {"boxes": [], "peeling_trajectory": [], "n_points": n, "n_of_interest": total_y,
              "threshold": threshold, "alpha": alpha, "min_mass": min_mass}
    if total_y == 0 or n == 0:
        return result
    remaining = np.ones(n, dtype=bool)
    for b in range(max_boxes):
        idx = np.flatnonzero(remaining)
        if y[idx].sum() == 0:
            break
        traj, initial = peel(X[idx], y[idx], alpha, min_mass, total_y, n)
        if b == 0:
            result["peeling_trajectory"] = [{"coverage": c, "density": dn, "mass": m, "n_restricted": r}
                                            for _, _, c, dn, m, r in traj]
        dense = [i for i, t in enumerate(traj) if t[3] >= threshold]
        if not dense and b > 0:
            break
        pick = dense[0] if dense else int(np.nanargmax([t[3] for t in traj]))
        limits, inside, cov, dens, mass, nres = traj[pick]
        full_lo, full_hi = X.min(axis=0), X.max(axis=0)
        restricted = {names[j]: [float(limits[j, 0]), float(limits[j, 1])] for j in range(X.shape[1])
                      if limits[j, 0] > full_lo[j] or limits[j, 1] < full_hi[j]}
        result["boxes"].append({"limits": restricted, "coverage": cov, "density": dens, "mass": mass,
                                "n_restricted": len(restricted)})
        in_box = np.zeros(n, dtype=bool)
        in_box[idx[inside]] = True
        remaining &= ~in_box
        if not restricted:
            break
    return result


def in_box(X, limits: dict, names: list[str]) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    mask = np.ones(X.shape[0], dtype=bool)
    for k, (lo, hi) in limits.items():
        j = names.index(k)
        mask &= (X[:, j] >= lo) & (X[:, j] <= hi)
    return mask
