"""Trajectories per node (or whole city) and the metro total, with observed history and the 2030
targets."""
from __future__ import annotations

import numpy as np

from . import style
from ._data import metro_series, observed_history, series_by_level, target_for

TRAJECTORY_VARIABLES = ("population", "urbanization_rate", "floor_area_per_urban_resident", "gdp_real",
                        "gdp_nominal")


def _check_single(ds):
    if "run" in ds.dims:
        raise ValueError("this plot takes a single run; select one with ds.isel(run=i) or use fan_chart()")


def mark_target(ax, year: int, value: float, factor: float, label: str):
    """Red star at the target and a dashed line from the first year to it."""
    ax.axhline(value / factor, color=style.TARGET_COLOR, linestyle="--", linewidth=1.0, alpha=0.6)
    ax.plot([year], [value / factor], marker="*", markersize=13, color=style.TARGET_COLOR, linestyle="none",
            label=label, zorder=5)


def trajectories(ds, variable: str = "population", *, level: str = "node", regions=None, metro: bool = True,
                 observed: bool = True, targets: bool = True, lang: str = "en", ax=None):
    """Line per node (``level="node"``) or whole city (``level="city"``) of ``variable`` over time.

    ``variable``: any node variable, e.g. population, urbanization_rate,
    floor_area_per_urban_resident, gdp_real, gdp_nominal. ``regions``: node codes / city names to
    draw (default all; ``"plan"`` for the plan-area nodes). ``metro`` adds the plan-area total
    (node level only; a second y axis is not used, so the total shares the scale). Observed
    whole-city history (census, bulletins) is drawn as points at city level; the 2030 target of the
    metro total as a red star. Returns the Axes.
    """
    _check_single(ds)
    lang = style.resolve_lang(lang)
    with style.language(lang):
        ax = style.new_axes(ax)
        da = series_by_level(ds, variable, level)
        units = da.attrs["units"]
        factor, unit_label = style.unit_display(units, variable, lang)
        keys = [str(k) for k in da.key.values]
        if regions == "plan":
            keys = [k for k in keys if k.endswith("_P")]
        elif regions is not None:
            regions = [regions] if isinstance(regions, str) else list(regions)
            unknown = [r for r in regions if r not in keys]
            if unknown:
                raise ValueError(f"unknown region(s) {unknown}; choose from {keys}")
            keys = regions
        t = np.asarray(da.time.values)
        for k in keys:
            rest = k.endswith("_R") or k == "RJ"
            ax.plot(t, da.sel(key=k).values / factor, color=style.color(k), linewidth=1.6,
                    linestyle="--" if rest else "-", label=style.node_name(k, lang))
        show_metro = metro and level == "node"
        if show_metro:
            m = metro_series(ds, variable)
            ax.plot(t, m.values / factor, color=style.METRO_COLOR, linewidth=2.6, label=style.node_name("metro", lang))
        if observed and level == "city":
            obs = observed_history(variable)
            obs = obs[obs.city.isin(keys)]
            for c, g in obs.groupby("city"):
                ax.plot(g.year, g.value / factor, marker="o", markersize=5.5, linestyle="none",
                        markerfacecolor=style.color(c), markeredgecolor="white", zorder=4)
            if len(obs):
                # legend proxy in neutral grey: the point colours follow the cities
                ax.plot([], [], marker="o", linestyle="none", color="#777777", label=style.var_name("observed", lang))
                ax.axvline(t[0], color="#999999", linewidth=0.8, linestyle=":")
                ax.annotate("simulation →" if lang == "en" else "模拟 →", (t[0], 0.0), xycoords=("data", "axes fraction"),
                            xytext=(3, 4), textcoords="offset points", fontsize=8, color="#666666")
        tgt = target_for(ds, variable) if (targets and show_metro) else None
        if tgt is not None:
            year, value = tgt
            mark_target(ax, year, value, factor, f"{year} {style.var_name('target', lang)}: "
                        f"{style.fmt_value(value, units, variable, lang)}")
        ax.set_xlabel(style.var_name("year", lang))
        ax.set_ylabel(style.axis_label(style.var_name(variable, lang), units, variable, lang))
        ax._sim_units = units
        ax.xaxis.get_major_locator().set_params(integer=True)
        scope = {"node": "by node" if lang == "en" else "分节点", "city": "by whole city" if lang == "en" else "分城市"}[level]
        # outside the axes, to the right: a legend inside would cover lines or the target line
        style.finish(ax, f"{style.var_name(variable, lang)} {scope}", legend=True, loc="upper left",
                     bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    return ax


# rates read as shares of something, not bare "%"
_RATE_LABELS = {"urbanization_rate": "urban share of residents (%)",
                "city_urbanization_rate": "urban share of residents (%)",
                "metro_urbanization_rate": "urban share of residents (%)",
                "unemployment_rate": "share of the labour force (%)", "vacancy_rate": "share of housing (%)"}


def trajectory_panels(ds, variables=TRAJECTORY_VARIABLES, *, level: str = "node", regions=None,
                      lang: str = "en", observed: bool = True, targets: bool = True):
    """One panel per variable (default: population, urbanization rate, floor area per person, real
    and nominal GDP) with a shared legend. Returns the Figure."""
    lang = style.resolve_lang(lang)
    n = len(variables)
    ncols = 2 if n > 1 else 1
    nrows = int(np.ceil((n + 1) / ncols)) if n > 1 else 1
    with style.language(lang):
        fig, axes = style.new_figure(nrows, ncols, figsize=(11, 3.3 * nrows))
        flat = axes.ravel()
        for ax, v in zip(flat, variables):
            trajectories(ds, v, level=level, regions=regions, lang=lang, observed=observed, targets=targets, ax=ax)
            ax.get_legend().remove() if ax.get_legend() else None
            ax.set_title(style.var_name(v, lang), fontsize=10)
            ax.set_ylabel(_RATE_LABELS.get(v) if lang == "en" and v in _RATE_LABELS
                          else style.unit_display(ax._sim_units, v, lang)[1])   # the title names the variable
        if level == "city" and observed:
            lo = min(a.get_xlim()[0] for a in flat[:n])
            hi = max(a.get_xlim()[1] for a in flat[:n])
            for a in flat[:n]:
                a.set_xlim(lo, hi)
        handles, labels = {}, {}
        for ax in flat[:n]:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                if lab not in labels and not lab.startswith(str(ds.attrs.get("target_year", ""))):
                    handles[lab], labels[lab] = h, lab
                elif lab.startswith(str(ds.attrs.get("target_year", ""))):
                    key = f"{ds.attrs.get('target_year')} {style.var_name('target', lang)} (metro total)"
                    handles.setdefault(key, h)
        for ax in flat[n:]:
            ax.axis("off")
        host = flat[n] if len(flat) > n else flat[-1]
        host.legend(list(handles.values()), list(handles.keys()), loc="center", frameon=False, fontsize=9, ncols=2)
        fig.suptitle(f"{ds.attrs.get('scenario_name', '')}: "
                     + ("trajectories by node and metro total" if level == "node" and lang == "en" else
                        "trajectories by whole city with observed history" if lang == "en" else "模拟轨迹"),
                     fontsize=12)
    return fig
