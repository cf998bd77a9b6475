"""Pictures of a portfolio search (``sim optimize``): parallel coordinates of the Pareto front and the
trade-off between the probability of a target and the fiscal cost.

Both take the portfolio.nc Dataset (or its path), an optional ``ax``, and return the Axes.
"""
from __future__ import annotations

import json

import numpy as np

from .style import TARGET_COLOR


def _load(ds):
    if isinstance(ds, (str, bytes)) or hasattr(ds, "__fspath__"):
        import xarray as xr
        return xr.load_dataset(ds)
    return ds


def _fmt(v: float) -> str:
    """Axis-range numbers: whole years and counts in full, others with 3 significant digits."""
    return f"{v:.6g}" if 1000 <= abs(v) < 1e5 else f"{v:.3g}"


def _columns(ds) -> tuple[list[str], list[str]]:
    decisions = [v for v in ds.data_vars if ds[v].dims == ("candidate",)
                 and str(ds[v].attrs.get("long_name", "")).startswith("decision:")]
    objectives = [v for v in ds.data_vars if ds[v].dims == ("candidate",) and v.split("_")[0] in
                  ("p", "shortfall", "cost", "regret")]
    return decisions, objectives


def parallel_coordinates(ds, ax=None, color_by: str | None = None):
    """One line per portfolio across its decision values and objectives, each axis scaled to its range
    over the front (labels show the range); coloured by ``color_by`` (default: the cost objective).
    Named portfolios are drawn thicker."""
    import matplotlib.pyplot as plt
    ds = _load(ds)
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 5))
    decisions, objectives = _columns(ds)
    cols = decisions + objectives
    n = ds.sizes.get("candidate", 0)
    if not cols or n == 0:
        ax.text(0.5, 0.5, "no portfolios", ha="center", va="center", transform=ax.transAxes)
        return ax
    M = np.column_stack([np.asarray(ds[c].values, dtype=float) for c in cols])
    lo, hi = np.nanmin(M, axis=0), np.nanmax(M, axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    S = (M - lo) / span
    key = color_by or next((c for c in objectives if c.startswith("cost")), cols[-1])
    cval = np.asarray(ds[key].values, dtype=float)
    cmin, cmax = np.nanmin(cval), np.nanmax(cval)
    cmap = plt.get_cmap("viridis")
    named = json.loads(ds.attrs.get("named", "{}"))
    named_rows = set()
    if "archive_index" in ds:
        idx = list(np.asarray(ds["archive_index"].values))
        named_rows = {idx.index(i) for i in named.values() if i is not None and i in idx}
    x = np.arange(len(cols))
    for r in range(n):
        c = cmap(0.5 if cmax == cmin else (cval[r] - cmin) / (cmax - cmin))
        ax.plot(x, S[r], color=c, lw=2.5 if r in named_rows else 0.8, alpha=1.0 if r in named_rows else 0.6)
    ax.set_xticks(x)
    labels = []
    for j, c in enumerate(cols):
        units = ds[c].attrs.get("units", "")
        labels.append(f"{c}\n[{_fmt(lo[j])}, {_fmt(hi[j])}]" + (f"\n{units}" if units and units != "1" else ""))
    ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=7)
    ax.set_yticks([0, 1])
    ax.set_yticklabels(["min", "max"])
    for xi in x:
        ax.axvline(xi, color="0.8", lw=0.5, zorder=0)
    ax.set_title(f"Pareto front: {n} portfolios (colour: {key}; thick: named)")
    return ax


def tradeoff(ds, ax=None, x: str | None = None, y: str | None = None):
    """Scatter of the fiscal cost (x, 10^8 yuan) against a target objective (y, default the GDP target's
    probability or shortfall), coloured by the mean target-year population; named portfolios labelled."""
    import matplotlib.pyplot as plt
    ds = _load(ds)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 5))
    _, objectives = _columns(ds)
    x = x or next((c for c in objectives if c.startswith("cost")), None)
    y = y or next((c for c in objectives if "gdp" in c), None)
    if x is None or y is None or ds.sizes.get("candidate", 0) == 0:
        ax.text(0.5, 0.5, "no portfolios", ha="center", va="center", transform=ax.transAxes)
        return ax
    scale = 1e8 if ds[x].attrs.get("units", "").startswith("yuan") else 1.0
    xv = np.asarray(ds[x].values, dtype=float) / scale
    yv = np.asarray(ds[y].values, dtype=float)
    if "population_target_year" in ds:       # colour: mean target-year population over the futures
        cval, clabel = ds["population_target_year"].mean("future").values / 1e4, "mean population, 10^4 persons"
    else:
        cby = next((c for c in objectives if "population" in c), None)
        cval, clabel = (None, None) if cby is None else (ds[cby].values, cby)
    sc = ax.scatter(xv, yv, c=cval, cmap="viridis", s=22, edgecolor="k", lw=0.3)
    if cval is not None:
        plt.colorbar(sc, ax=ax, label=clabel)
    if "fiscal_room" in ds:
        room = float(np.nanmean(ds["fiscal_room"].values)) / scale
        ax.axvline(room, color=TARGET_COLOR, ls="--", lw=1)
        ax.text(room, ax.get_ylim()[1], " fiscal room", color=TARGET_COLOR, va="top", fontsize=8)
    named = json.loads(ds.attrs.get("named", "{}"))
    if "archive_index" in ds:
        idx = list(np.asarray(ds["archive_index"].values))
        for key, i in named.items():
            if i is not None and i in idx:
                r = idx.index(i)
                right = xv[r] > np.nanmin(xv) + 0.6 * (np.nanmax(xv) - np.nanmin(xv))
                ax.annotate(key, (xv[r], yv[r]), fontsize=7, xytext=(-4 if right else 4, 4),
                            textcoords="offset points", ha="right" if right else "left")
    ax.set_xlabel(f"{x} ({'10^8 yuan' if scale == 1e8 else ds[x].attrs.get('units', '')}"
                  f"{'/yr' if ds[x].attrs.get('units', '').endswith('/yr') else ''})")
    ax.set_ylabel(y)
    ax.set_title("Trade-off: target against fiscal cost")
    return ax
