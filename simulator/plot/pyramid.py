"""Population pyramids (age structure) of a node or the metro area, two years side by side."""
from __future__ import annotations

import numpy as np

from . import style
from ._data import plan_nodes


def pyramid(ds, region: str = "CC_P", years=None, *, lang: str = "en", fig=None):
    """Age structure of ``region`` (node code or ``"metro"``) in two ``years`` (default first and
    last), one panel each with the same scales; the other year is drawn as an outline for
    comparison. The model has no sex split, so the bars show both sexes together (one-sided).
    Returns the Figure."""
    if "run" in ds.dims:
        raise ValueError("pyramid takes a single run; select one with ds.isel(run=i)")
    lang = style.resolve_lang(lang)
    times = [int(x) for x in ds.time.values]
    years = [times[0], times[-1]] if years is None else [int(y) for y in years]
    missing = [y for y in years if y not in times]
    if missing:
        raise ValueError(f"year(s) {missing} not simulated; choose from {times[0]}–{times[-1]}")
    P = ds["population_by_age"]
    if region == "metro":
        P = P.sel(region=plan_nodes(ds)).sum("region")
        colour = style.METRO_COLOR
    elif region in ds.region.values:
        P = P.sel(region=region)
        colour = style.color(region)
    else:
        raise ValueError(f"unknown region {region!r}; choose 'metro' or one of {list(map(str, ds.region.values))}")
    factor, ul = style.unit_display("persons", None, lang)
    ages = [str(a) for a in P.age.values]
    y = np.arange(len(ages))
    with style.language(lang):
        if fig is None:
            fig, axes = style.new_figure(1, len(years), figsize=(4.6 * len(years), 5.2), sharex=True, sharey=True)
            axes = axes.ravel()
        else:
            axes = fig.subplots(1, len(years), sharex=True, sharey=True, squeeze=False).ravel()
        vals = {yr: P.sel(time=yr).values / factor for yr in years}
        for k, (ax, yr) in enumerate(zip(axes, years)):
            ax.barh(y, vals[yr], color=colour, alpha=0.85, height=0.85, label=str(yr))
            other = years[1 - k] if len(years) == 2 else None
            if other is not None:
                ax.barh(y, vals[other], height=0.85, fill=False, edgecolor="black", linewidth=0.9, linestyle="--",
                        label=f"{other}")
            ax.set_yticks(y, ages)
            ax.set_xlabel(f"{style.var_name('population', lang)} ({ul})")
            total = vals[yr].sum()
            style.finish(ax, f"{yr}  ({total:,.1f} {ul.split(',')[0]})", loc="lower right")
        axes[0].set_ylabel(style.var_name("age", lang))
        fig.suptitle((f"Age structure, {style.node_name(region, lang)} (both sexes)" if lang == "en"
                      else f"{style.node_name(region, lang)}年龄结构"), fontsize=12)
    return fig
