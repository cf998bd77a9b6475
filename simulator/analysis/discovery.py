"""Scenario discovery with PRIM (Friedman & Fisher 1999): boxes in factor space where the cases of
interest (e.g. "both 2030 targets met") are concentrated.

Our own implementation, so that no extra dependency is needed (``tests/test_discovery.py`` checks it
against ema_workbench's ``prim`` when that package is installed).

* **Peeling**: from the box holding all points, repeatedly remove the ``alpha`` share of the points at the
  low or high end of one continuous factor, or one category of a categorical factor — the peel that
  leaves the highest density of cases of interest (ties: the smaller peel) — until fewer than
  ``min_mass`` of all points would remain. The selected box is the first on this trajectory whose
  density reaches ``threshold`` (the highest-coverage box that is dense enough) or, if none does, the
  densest.
* **Pasting**: the selected box is then expanded again, one restricted limit at a time (by about
  ``paste_alpha`` of the box's points along one continuous factor, or by one category), always the
  expansion giving the highest density, while the density does not drop and the box grows. Pasting
  therefore never lowers the density (so a box that met the threshold still does) and often gains
  coverage that greedy peeling gave away.
* **Covering**: further boxes are found on the points outside the earlier boxes, while they reach the
  threshold (at most ``max_boxes``).
* **Stability**: with ``resamples > 0`` each box is found again on ``resamples`` bootstrap samples (or
  half-size subsamples) of the points it was found on (seeded: same seed → same numbers); for each
  factor the share of resamples in which it is restricted, the spread of its limits, and intervals of
  the coverage, density and mass of the resampled boxes evaluated on all points.

Categorical factors (``categorical=[...]``; the sweep's ``choice`` factors) are peeled and pasted by
removing / adding back whole categories.

Result (consumed by simulator.plot and ``sim targets``)::

    {"boxes": [{"limits": {factor: [lo, hi]},             # restricted factors only, inclusive
                "categories": {factor: [values kept]},    # categorical factors that lost a category
                "coverage": c, "density": d, "mass": m, "n": points in box, "n_of_interest": k,
                "n_restricted": r, "meets_threshold": bool,
                "peeled": {"coverage", "density", "mass", "limits"},   # before pasting
                "pasting_steps": s,
                "stability": {"method": "bootstrap"|"subsample", "resamples": B, "seed": s,
                              "confidence_level": 0.9,
                              "restriction_frequency": {factor: share of resamples restricting it},
                              "limits": {factor: {"lower": [q_lo, median, q_hi],
                                                  "upper": [q_lo, median, q_hi]}},
                              "coverage": [q_lo, median, q_hi], "density": [...], "mass": [...]}}],
     "peeling_trajectory": [{"coverage", "density", "mass", "n_restricted"}],   # of the first box
     "n_points", "n_of_interest", "threshold", "alpha", "paste_alpha", "min_mass",
     "categorical": [factors], "ranges": {factor: [lo, hi]}}

coverage = share of all cases of interest inside the box, density = share of the box's points that are
of interest, mass = share of all points in the box. For a categorical factor ``limits`` holds the span
of the kept categories and ``categories`` the categories themselves (membership is by category).
"""
from __future__ import annotations

import numpy as np

_EPS = 1e-12


class _Space:
    """Factor matrix with per-column kind (continuous or categorical)."""

    def __init__(self, X: np.ndarray, categorical: np.ndarray):
        self.X = X
        self.cat = categorical
        self.full_lo = X.min(axis=0) if len(X) else np.zeros(X.shape[1])
        self.full_hi = X.max(axis=0) if len(X) else np.zeros(X.shape[1])
        self.levels = [np.unique(X[:, j]) if categorical[j] else None for j in range(X.shape[1])]


class _Box:
    """Limits for continuous columns, allowed category sets for categorical ones."""

    def __init__(self, lo, hi, cats):
        self.lo, self.hi, self.cats = lo, hi, cats

    @classmethod
    def full(cls, space: _Space) -> "_Box":
        return cls(space.full_lo.astype(float).copy(), space.full_hi.astype(float).copy(),
                   [set(lv.tolist()) if lv is not None else None for lv in space.levels])

    def copy(self) -> "_Box":
        return _Box(self.lo.copy(), self.hi.copy(), [set(c) if c is not None else None for c in self.cats])

    def contains(self, X: np.ndarray, skip: int | None = None) -> np.ndarray:
        mask = np.ones(X.shape[0], dtype=bool)
        for j in range(X.shape[1]):
            if j == skip:
                continue
            if self.cats[j] is not None:
                mask &= np.isin(X[:, j], list(self.cats[j]))
            else:
                mask &= (X[:, j] >= self.lo[j] - _EPS) & (X[:, j] <= self.hi[j] + _EPS)
        return mask

    def restricted(self, space: _Space) -> list[int]:
        out = []
        for j in range(len(self.lo)):
            if self.cats[j] is not None:
                if len(self.cats[j]) < len(space.levels[j]):
                    out.append(j)
            elif self.lo[j] > space.full_lo[j] + _EPS or self.hi[j] < space.full_hi[j] - _EPS:
                out.append(j)
        return out


def _peel_candidates(x: np.ndarray, alpha: float):
    """Candidate (new_lo, new_hi) for one continuous factor's in-box values x."""
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


def _peel(space: _Space, X, y, alpha, min_mass, total_y, total_n):
    """The peeling trajectory on points X, y: list of (box, inside mask, coverage, density, mass, n_restricted)."""
    n, d = X.shape
    box = _Box.full(space)
    inside = np.ones(n, dtype=bool)
    traj = []

    def record():
        k = inside.sum()
        cov = y[inside].sum() / total_y if total_y else np.nan
        traj.append((box.copy(), inside.copy(), float(cov), float(y[inside].mean()) if k else np.nan,
                     float(k / total_n), len(box.restricted(space))))
    record()
    while inside.sum() / total_n > min_mass:
        best = None
        Xi, yi = X[inside], y[inside]
        for j in range(d):
            xj = Xi[:, j]
            if space.cat[j]:
                present = box.cats[j]
                if len(present) < 2:
                    continue
                cands = [("cat", c, xj != c) for c in sorted(present)]
            else:
                cands = []
                for new_lo, new_hi in _peel_candidates(xj, alpha):
                    keep = (xj >= new_lo) & (xj <= new_hi)
                    new_lo = max(new_lo, box.lo[j]) if new_lo > xj.min() else box.lo[j]
                    new_hi = min(new_hi, box.hi[j]) if new_hi < xj.max() else box.hi[j]
                    cands.append(("num", (new_lo, new_hi), keep))
            for kind, what, keep in cands:
                k = keep.sum()
                if k == 0 or k == len(keep) or k / total_n < min_mass:
                    continue
                score = (yi[keep].mean(), k)             # highest density, then the smaller peel
                if best is None or score > best[0]:
                    best = (score, j, kind, what, keep)
        if best is None:
            break
        _, j, kind, what, keep = best
        if kind == "cat":
            box.cats[j].discard(what)
        else:
            box.lo[j], box.hi[j] = what
        idx = np.flatnonzero(inside)
        inside[idx[~keep]] = False
        record()
    return traj


def _paste(space: _Space, X, y, box: _Box, paste_alpha: float, total_n: int, max_steps: int = 1000):
    """Expand ``box`` on points X, y while the density does not drop; returns (box, steps)."""
    box = box.copy()
    inside = box.contains(X)
    steps = 0
    while steps < max_steps:
        k_in = int(inside.sum())
        if k_in == 0:
            break
        dens = y[inside].mean()
        best = None
        for j in box.restricted(space):
            others = box.contains(X, skip=j)
            xj = X[:, j]
            cands = []
            if space.cat[j]:
                for c in sorted(set(space.levels[j].tolist()) - box.cats[j]):
                    cands.append(("cat", c, inside | (others & (xj == c))))
            else:
                step = max(1, int(np.ceil(paste_alpha * k_in)))
                below = others & (xj < box.lo[j] - _EPS)
                if below.any():
                    vals = np.sort(xj[below])[::-1]
                    new = vals[min(step, len(vals)) - 1]
                    cands.append(("lo", new, inside | (below & (xj >= new))))
                above = others & (xj > box.hi[j] + _EPS)
                if above.any():
                    vals = np.sort(xj[above])
                    new = vals[min(step, len(vals)) - 1]
                    cands.append(("hi", new, inside | (above & (xj <= new))))
            for kind, what, new_inside in cands:
                k = int(new_inside.sum())
                if k <= k_in:
                    continue
                score = (y[new_inside].mean(), k)
                if best is None or score > best[0]:
                    best = (score, j, kind, what, new_inside)
        if best is None or best[0][0] < dens - _EPS:
            break
        _, j, kind, what, new_inside = best
        if kind == "cat":
            box.cats[j].add(what)
        elif kind == "lo":
            box.lo[j] = what if what > space.full_lo[j] + _EPS else space.full_lo[j]
        else:
            box.hi[j] = what if what < space.full_hi[j] - _EPS else space.full_hi[j]
        inside = new_inside
        steps += 1
    return box, steps


def _find_box(space, X, y, alpha, paste_alpha, min_mass, threshold, total_y, total_n, paste=True, select="threshold"):
    """Peel, select, paste on points X, y. Returns (box, traj, pick, paste_steps) or None if no case."""
    if y.sum() == 0:
        return None
    traj = _peel(space, X, y, alpha, min_mass, total_y, total_n)
    dense = [i for i, t in enumerate(traj) if t[3] >= threshold]
    if select == "last":
        pick = len(traj) - 1
    else:
        pick = dense[0] if dense else int(np.nanargmax([t[3] for t in traj]))
    box = traj[pick][0]
    steps = 0
    if paste:
        box, steps = _paste(space, X, y, box, paste_alpha, total_n)
    return box, traj, pick, steps


def _limits(space: _Space, box: _Box, names) -> tuple[dict, dict]:
    limits, cats = {}, {}
    for j in box.restricted(space):
        if space.cat[j]:
            kept = sorted(float(c) for c in box.cats[j])
            cats[names[j]] = kept
            limits[names[j]] = [kept[0], kept[-1]]
        else:
            limits[names[j]] = [float(box.lo[j]), float(box.hi[j])]
    return limits, cats


def _stats(space, box, X, y, total_y, total_n) -> dict:
    inside = box.contains(X)
    k = int(inside.sum())
    hits = int(y[inside].sum())
    return {"coverage": hits / total_y if total_y else float("nan"), "density": hits / k if k else float("nan"),
            "mass": k / total_n, "n": k, "n_of_interest": hits}


def _stability(space, X, y, names, alpha, paste_alpha, min_mass, threshold, paste, resamples, seed, method,
               confidence, X_all, y_all, total_y, total_n) -> dict:
    """Find the box again on resamples of (X, y); statistics of the restrictions and of the boxes."""
    rng = np.random.default_rng(seed)
    n = len(y)
    d = X.shape[1]
    restricted = np.zeros(d)
    lows, highs, cov, dens, mass = [], [], [], [], []
    done = 0
    for _ in range(resamples):
        idx = rng.integers(0, n, n) if method == "bootstrap" else rng.choice(n, n // 2, replace=False)
        Xr, yr = X[idx], y[idx]
        # the resample's own totals, so that min_mass and coverage mean the same as on all points
        scale = len(idx) / n
        found = _find_box(space, Xr, yr, alpha, paste_alpha, min_mass, threshold,
                          int(yr.sum()), int(round(total_n * scale)), paste)
        if found is None:
            continue
        box = found[0]
        done += 1
        for j in box.restricted(space):
            restricted[j] += 1
        lo, hi = box.lo.copy(), box.hi.copy()
        for j in range(d):
            if space.cat[j]:
                kept = sorted(box.cats[j])
                lo[j], hi[j] = kept[0], kept[-1]
        lows.append(lo)
        highs.append(hi)
        s = _stats(space, box, X_all, y_all, total_y, total_n)
        cov.append(s["coverage"])
        dens.append(s["density"])
        mass.append(s["mass"])
    q = [(1 - confidence) / 2, 0.5, (1 + confidence) / 2]
    out = {"method": method, "resamples": int(resamples), "resamples_with_box": done, "seed": int(seed),
           "confidence_level": confidence, "restriction_frequency": {}, "limits": {}}
    if not done:
        return out
    lows, highs = np.array(lows), np.array(highs)
    for j in np.argsort(-restricted, kind="stable"):
        if restricted[j] == 0:
            continue
        out["restriction_frequency"][names[j]] = float(restricted[j] / done)
        out["limits"][names[j]] = {"lower": [float(v) for v in np.quantile(lows[:, j], q)],
                                   "upper": [float(v) for v in np.quantile(highs[:, j], q)]}
    for key, vals in (("coverage", cov), ("density", dens), ("mass", mass)):
        out[key] = [float(v) for v in np.quantile(vals, q)]
    return out


def prim(X, y, names: list[str] | None = None, alpha: float = 0.05, threshold: float = 0.8,
         min_mass: float = 0.05, max_boxes: int = 3, paste: bool = True, paste_alpha: float | None = None,
         categorical=(), resamples: int = 0, seed: int = 0, resample_method: str = "bootstrap",
         confidence: float = 0.9, select: str = "threshold") -> dict:
    """PRIM boxes for cases of interest ``y`` (bool, n) over factors ``X`` (n, d) (or a mapping name → values).

    ``categorical``: names (or column indices) of categorical factors. ``resamples`` > 0 adds the
    ``stability`` of each box (``resample_method`` "bootstrap" or "subsample", seeded by ``seed``).
    ``select="last"`` pastes the end of the peeling trajectory instead of the first box reaching the
    threshold (what ema_workbench's ``Prim.find_box`` does; used for the cross-check)."""
    if isinstance(X, dict):
        names = list(X)
        X = np.column_stack([np.asarray(X[k], dtype=float) for k in names]) if names else np.zeros((len(y), 0))
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=bool)
    names = list(names or [f"x{j}" for j in range(X.shape[1])])
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must be in (0, 0.5), got {alpha}")
    if select not in ("threshold", "last"):
        raise ValueError(f"select must be 'threshold' or 'last', got {select!r}")
    if resample_method not in ("bootstrap", "subsample"):
        raise ValueError(f"resample_method must be 'bootstrap' or 'subsample', got {resample_method!r}")
    paste_alpha = alpha if paste_alpha is None else paste_alpha
    cat_names = [names[c] if isinstance(c, (int, np.integer)) else c for c in categorical]
    unknown = [c for c in cat_names if c not in names]
    if unknown:
        raise ValueError(f"categorical factors {unknown} are not among the factors {names}")
    cat = np.array([nm in cat_names for nm in names], dtype=bool)
    n = len(y)
    total_y = int(y.sum())
    space = _Space(X, cat)
    result = {"boxes": [], "peeling_trajectory": [], "n_points": n, "n_of_interest": total_y,
              "threshold": threshold, "alpha": alpha, "paste_alpha": paste_alpha if paste else None,
              "min_mass": min_mass, "pasting": bool(paste), "categorical": cat_names,
              "ranges": {nm: [float(space.full_lo[j]), float(space.full_hi[j])] for j, nm in enumerate(names)}}
    if total_y == 0 or n == 0 or X.shape[1] == 0:
        return result
    remaining = np.ones(n, dtype=bool)
    for b in range(max_boxes):
        idx = np.flatnonzero(remaining)
        if y[idx].sum() == 0:
            break
        found = _find_box(space, X[idx], y[idx], alpha, paste_alpha, min_mass, threshold, total_y, n, paste, select)
        box, traj, pick, steps = found
        if b == 0:
            result["peeling_trajectory"] = [{"coverage": c, "density": dn, "mass": m, "n_restricted": r}
                                            for _, _, c, dn, m, r in traj]
        stats = _stats(space, box, X[idx], y[idx], total_y, n)
        if stats["density"] < threshold and b > 0:
            break
        limits, cats = _limits(space, box, names)
        peeled_limits, _ = _limits(space, traj[pick][0], names)
        entry = {"limits": limits, **({"categories": cats} if cats else {}), **stats,
                 "n_restricted": len(limits), "meets_threshold": bool(stats["density"] >= threshold),
                 "peeled": {"coverage": traj[pick][2], "density": traj[pick][3], "mass": traj[pick][4],
                            "limits": peeled_limits},
                 "pasting_steps": int(steps)}
        if resamples > 0:
            entry["stability"] = _stability(space, X[idx], y[idx], names, alpha, paste_alpha, min_mass, threshold,
                                            paste, int(resamples), int(seed) + b, resample_method, confidence,
                                            X[idx], y[idx], total_y, n)
        result["boxes"].append(entry)
        in_b = np.zeros(n, dtype=bool)
        in_b[idx[box.contains(X[idx])]] = True
        remaining &= ~in_b
        if not limits:
            break
    return result


def in_box(X, limits: dict, names: list[str], categories: dict | None = None) -> np.ndarray:
    """Which rows of X (n, d; columns ``names``) are inside a box given by its ``limits`` (and ``categories``)."""
    X = np.asarray(X, dtype=float)
    mask = np.ones(X.shape[0], dtype=bool)
    categories = categories or {}
    for k, (lo, hi) in limits.items():
        j = names.index(k)
        if k in categories:
            mask &= np.isin(X[:, j], categories[k])
        else:
            mask &= (X[:, j] >= lo - _EPS) & (X[:, j] <= hi + _EPS)
    return mask


# --- a box as a sweep file ------------------------------------------------------------------------
class ExportError(ValueError):
    """A box that cannot be written as a sweep file (the message says why)."""


def box_sweep_document(document: dict, source_dir, box: dict, dest, *, name: str | None = None,
                       description: str | None = None, ranges: dict | None = None) -> dict:
    """The sweep document ``document`` (a sweep file's mapping, its paths relative to ``source_dir``) with
    every factor restricted to ``box``'s limits, its ``scenario`` path made relative to ``dest``'s folder.

    Per distribution: uniform and loguniform get the box's lower/upper; normal becomes truncnormal and
    truncnormal is truncated further (both exact: the original distribution conditioned on the box);
    triangular becomes uniform over the box (a truncated triangle is not a sweep distribution); choice
    keeps the values inside the box (its ``categories``). Factors the box does not restrict are unchanged.
    ``ranges`` (the PRIM result's sampled ranges): a limit at the sampled minimum or maximum is not a
    restriction on that side, so the distribution's own bound is kept there."""
    import copy
    import os
    from pathlib import Path

    from scipy import stats
    doc = copy.deepcopy(document)
    dest = Path(dest)
    limits = dict(box.get("limits", {}))
    categories = dict(box.get("categories", {}))
    ids = {}
    for section in ("parameters", "levers"):
        for key, entry in (doc.get(section) or {}).items():
            base = entry.get("id") or key
            ids[base] = (section, key, False)
            if entry.get("per_node"):
                ids[base] = (section, key, True)
    for fid, (lo, hi) in limits.items():
        hit = ids.get(fid)
        if hit is None:
            base = fid.rsplit(".", 1)[0]
            if base in ids and ids[base][2]:
                raise ExportError(f"factor {fid!r} is one node of the per-node factor {base!r}; a sweep file cannot "
                                  "give its nodes different ranges (export a box over shared factors)")
            raise ExportError(f"factor {fid!r} of the box is not in the sweep file")
        section, key, per_node = hit
        entry = doc[section][key]
        if per_node:
            raise ExportError(f"factor {fid!r} is per-node; a sweep file cannot restrict one node of it")
        dist = entry["distribution"]
        lo, hi = float(lo), float(hi)
        if ranges and fid in ranges:
            rlo, rhi = (float(v) for v in ranges[fid])
            lo = -np.inf if lo <= rlo + _EPS else lo
            hi = np.inf if hi >= rhi - _EPS else hi
        if dist == "choice":
            keep = categories.get(fid)
            vals = [v for v in entry["values"] if (float(v) in keep if keep is not None else lo <= float(v) <= hi)]
            entry["values"] = vals
            continue
        if not lo < hi:
            raise ExportError(f"factor {fid!r}: the box has an empty range [{lo:g}, {hi:g}]")
        if dist in ("uniform", "loguniform", "truncnormal"):
            entry["lower"], entry["upper"] = max(lo, float(entry["lower"])), min(hi, float(entry["upper"]))
        elif dist == "normal":
            mean, sd = float(entry["mean"]), float(entry["sd"])
            dlo, dhi = stats.norm.ppf([1e-3, 1 - 1e-3], mean, sd)
            entry.update(distribution="truncnormal", lower=float(max(lo, dlo)), upper=float(min(hi, dhi)))
        elif dist == "triangular":
            lo, hi = max(lo, float(entry["lower"])), min(hi, float(entry["upper"]))
            entry.pop("mode", None)
            entry.update(distribution="uniform", lower=lo, upper=hi)
        else:  # pragma: no cover - every sweep distribution is handled above
            raise ExportError(f"factor {fid!r}: distribution {dist!r} cannot be restricted")
    scen = Path(doc["scenario"])
    if not scen.is_absolute():
        scen = Path(source_dir) / scen
    doc["scenario"] = Path(os.path.relpath(os.path.abspath(scen), os.path.abspath(dest.parent or "."))).as_posix()
    if name:
        doc["name"] = name
    if description is not None:
        doc["description"] = description
    return doc
