"""Ensemble fan chart: median and 50 % / 90 % bands of any variable across the ``run`` dim, with
target lines and the probability of meeting each target."""
from __future__ import annotations

import numpy as np

from . import style
from ._data import metro_series, target_for


def ensemble_series(ens, variable: str, region=None):
    """(run, time) DataArray of ``variable``: ``region`` selects a node (or whole city for city_*
    variables); node variables without ``region`` are aggregated over the plan area."""
    if "run" not in ens.dims:
        raise ValueError("an ensemble Dataset needs a leading 'run' dimension (e.g. from simulate_many)")
    if variable not in ens and variable not in ("floor_area_per_urban_resident",):
        raise KeyError(f"variable {variable!r} not in the dataset")
    da = ens[variable] if variable in ens else None
    if da is not None and "whole_city" in da.dims:
        if region is None:
            raise ValueError(f"{variable} is per whole city; pass region=one of {list(map(str, ens.whole_city.values))}")
        da = da.sel(whole_city=region)
    elif da is None or "region" in da.dims:
        da = metro_series(ens, variable) if region is None else ens[variable].sel(region=region)
    extra = [d for d in da.dims if d not in ("run", "time")]
    if extra:
        raise ValueError(f"{variable} has extra dims {extra}; select them first")
    return da.transpose("run", "time")


def target_probability(ens, variable: str = "metro_population"):
    """Share of members at or above the target in the target year (None without a target)."""
    tgt = target_for(ens, variable)
    if tgt is None or tgt[0] not in set(int(t) for t in ens.time.values):
        return None
    da = ensemble_series(ens, variable)
    return float((da.sel(time=tgt[0]) >= tgt[1]).mean())


def fan_chart(ens, variable: str = "metro_population", *, region=None, targets: bool = True,
              lang: str = "en", ax=None, color=None):
    """Median line and 50 % / 90 % bands over the ensemble members; for the targeted metro
    variables the target is drawn and the probability of meeting it is given in the legend.
    Returns the Axes."""
    lang = style.resolve_lang(lang)
    da = ensemble_series(ens, variable, region)
    units = ens[variable].attrs.get("units", "") if variable in ens else "m2/person"
    factor, _ = style.unit_display(units, variable, lang)
    t = np.asarray(da.time.values)
    q = np.nanquantile(da.values / factor, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    c = color or (style.color(region) if region is not None else style.SCENARIO_COLORS[0])
    with style.language(lang):
        ax = style.new_axes(ax)
        ax.fill_between(t, q[0], q[4], color=c, alpha=0.18, linewidth=0, label=style.var_name("band90", lang))
        ax.fill_between(t, q[1], q[3], color=c, alpha=0.38, linewidth=0, label=style.var_name("band50", lang))
        ax.plot(t, q[2], color=c, linewidth=2.2, label=f"{style.var_name('median', lang)} (n = {da.sizes['run']})")
        tgt = target_for(ens, variable) if targets and region is None else None
        if tgt is not None:
            year, value = tgt
            p = target_probability(ens, variable)
            ptxt = "" if p is None else (f": P(met) = {100 * p:.0f}%" if lang == "en" else f":达标概率 {100 * p:.0f}%")
            ax.axhline(value / factor, color=style.TARGET_COLOR, linestyle="--", linewidth=1.2,
                       label=f"{year} {style.var_name('target', lang)} {style.fmt_value(value, units, variable, lang)}{ptxt}")
            ax.axvline(year, color=style.TARGET_COLOR, linestyle=":", linewidth=0.8)
            ax.plot([year], [value / factor], marker="*", markersize=13, color=style.TARGET_COLOR, linestyle="none")
        name = style.var_name(variable, lang)
        if region is not None:
            name = f"{name}, {style.node_name(region, lang)}"
        ax.set_xlabel(style.var_name("year", lang))
        ax.set_ylabel(style.axis_label(name, units, variable, lang))
        ax.xaxis.get_major_locator().set_params(integer=True)
        style.finish(ax, f"{name}: ensemble" if lang == "en" else f"{name}:集合模拟", loc="best")
    return ax
