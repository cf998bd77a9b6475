"""Calibration: simulated against observed for every fitted series.

Format: an xarray Dataset with dims ``series`` (e.g. "population/Changchun") and ``time``,
variables ``observed`` and ``simulated`` (NaN where a series has no observation that year) and a
``units`` coordinate on ``series`` (data units, e.g. persons, yuan/yr).
"""
from __future__ import annotations

import numpy as np

from . import style


def calibration(cal, series=None, *, ncols: int = 3, lang: str = "en", fig=None):
    """One panel per series: simulated line, observed points, and the mean absolute percentage
    error over the observed years in the title. Returns the Figure."""
    for v in ("observed", "simulated"):
        if v not in cal:
            raise ValueError(f"calibration data need variable {v!r}")
    lang = style.resolve_lang(lang)
    names = [str(s) for s in cal.series.values] if series is None else list(series)
    n = len(names)
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    with style.language(lang):
        if fig is None:
            fig, axes = style.new_figure(nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows))
        else:
            axes = fig.subplots(nrows, ncols, squeeze=False)
        flat = axes.ravel()
        t = np.asarray(cal.time.values)
        for ax, name in zip(flat, names):
            s = cal.sel(series=name)
            units = str(s["units"].values) if "units" in cal.coords else ""
            variable = name.split("/")[0]
            factor, ul = style.unit_display(units, variable, lang)
            sim, obs = s["simulated"].values / factor, s["observed"].values / factor
            ax.plot(t, sim, color="#1f77b4", linewidth=1.8, label=style.var_name("simulated", lang))
            ok = np.isfinite(obs)
            ax.plot(t[ok], obs[ok], "o", color=style.OBSERVED_COLOR, markersize=5, label=style.var_name("observed", lang))
            both = ok & np.isfinite(sim) & (obs != 0)
            mape = f" — MAPE {100 * np.mean(np.abs(sim[both] / obs[both] - 1)):.1f}%" if both.any() else ""
            ax.set_ylabel(ul)
            ax.xaxis.get_major_locator().set_params(integer=True)
            style.finish(ax, f"{name}{mape}", legend=False)
            ax.title.set_fontsize(9)
        for ax in flat[n:]:
            ax.axis("off")
        flat[0].legend(fontsize=8, frameon=False)
        fig.suptitle("Calibration: simulated vs observed" if lang == "en" else "校准:模拟值与观测值", fontsize=12)
    return fig
