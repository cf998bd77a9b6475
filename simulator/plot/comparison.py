"""Several runs on one chart with the gap to each 2030 target annotated."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from . import style
from ._data import metro_series, target_for
from .trajectories import mark_target


def as_runs(runs, labels=None) -> list[tuple[str, xr.Dataset]]:
    """Normalise the accepted inputs to ``[(label, single-run Dataset), ...]``: a Dataset with a
    ``run`` dim (labels from ``labels``, else a ``scenario`` coordinate on run, else the run
    index), a mapping label → Dataset, or a list of Datasets (labels from ``scenario_name``)."""
    if isinstance(runs, xr.Dataset):
        if "run" not in runs.dims:
            return [(labels[0] if labels else runs.attrs.get("scenario_name", "run"), runs)]
        n = runs.sizes["run"]
        if labels is None:
            if "scenario" in runs.coords:
                labels = [str(s) for s in runs["scenario"].values]
            else:
                labels = [f"run {r}" for r in (runs["run"].values if "run" in runs.coords else range(n))]
        return [(str(labels[i]), runs.isel(run=i)) for i in range(n)]
    if isinstance(runs, Mapping):
        return [(str(k), v) for k, v in runs.items()]
    runs = list(runs)
    labels = labels or [d.attrs.get("scenario_name", f"run {i}") for i, d in enumerate(runs)]
    return list(zip(map(str, labels), runs))


def comparison(runs, variable: str = "metro_population", *, labels=None, region=None, targets: bool = True,
               lang: str = "en", ax=None):
    """One line per run of ``variable`` (a metro_* variable, or a node variable with ``region``;
    node variables without ``region`` are summed over the plan area). At the target year the gap of
    each run to the target is written next to its line. Returns the Axes."""
    lang = style.resolve_lang(lang)
    members = as_runs(runs, labels)
    with style.language(lang):
        ax = style.new_axes(ax)
        first = members[0][1]
        units = first[variable].attrs.get("units", "") if variable in first else first[
            {"population": "metro_population"}.get(variable, variable)].attrs.get("units", "")
        factor, _ = style.unit_display(units, variable, lang)
        tgt = target_for(first, variable) if targets and region is None else None
        at_target = []
        legend_title = None
        for i, (label, ds) in enumerate(members):
            if region is not None:
                da = ds[variable].sel(region=region)
            else:
                da = metro_series(ds, variable) if variable not in ds or "region" in ds[variable].dims else ds[variable]
            c = style.SCENARIO_COLORS[i % len(style.SCENARIO_COLORS)]
            t = np.asarray(da.time.values)
            (handle,) = ax.plot(t, da.values / factor, color=c, linewidth=2, label=label)
            if tgt is not None and tgt[0] in t:
                at_target.append((float(da.sel(time=tgt[0])), c, handle))
        if tgt is not None:
            year, value = tgt
            mark_target(ax, year, value, factor, f"{year} {style.var_name('target', lang)}: "
                        f"{style.fmt_value(value, units, variable, lang)}")
            legend_title = None
            if at_target:
                # each scenario's gap goes into its own legend entry; the legend sits in a band kept free
                # above every line and the target line, so nothing covers a line or another label
                _, ul = style.unit_display(units, variable, lang)
                ul = ul.split(",")[0]
                legend_title = (f"gap to the {year} target" if lang == "en" else f"与{year}年目标的差距")
                for (v, c, handle), (label, _) in zip(at_target, members):
                    ax.plot([year], [v / factor], marker="o", color=c, markersize=6, zorder=4)
                    gap = v - value
                    handle.set_label(f"{label}: {_gap_text(gap, units, factor, ul, lang)} ({100 * gap / value:+.1f}%)")
                ys = [ln.get_ydata() for ln in ax.get_lines() if len(ln.get_ydata())]
                lo = min(float(np.nanmin(y)) for y in ys)
                hi = max(float(np.nanmax(y)) for y in ys)
                span = max(hi - lo, abs(hi) * 0.02, 1e-9)
                band = min(0.6, 0.07 * (len(members) + 2) + 0.04)
                ax.set_ylim(lo - 0.05 * span, hi + span * band / (1 - band))
        ax.set_xlabel(style.var_name("year", lang))
        name = style.var_name(variable, lang)
        if region is not None:
            name = f"{name}, {style.node_name(region, lang)}"
        ax.set_ylabel(style.axis_label(name, units, variable, lang))
        ax.xaxis.get_major_locator().set_params(integer=True)
        style.finish(ax, f"{name}: scenario comparison" if lang == "en" else f"{name}:情景比较",
                     loc="upper left")
        if legend_title and ax.get_legend() is not None:
            ax.get_legend().set_title(legend_title, prop={"size": 8, "weight": "bold"})
            ax.get_legend()._legend_box.align = "left"
    return ax


def _gap_text(gap: float, units: str, factor: float, unit_label: str, lang: str) -> str:
    """A gap as a reader says it: '−1.37 million persons', '−42 billion yuan' (not '−137 10⁴ persons')."""
    sign = "−" if gap < 0 else "+"
    if lang == "en" and str(units).split("/")[0] in ("persons", "yuan") and abs(gap) >= 1e4:
        return sign + style.fmt_value(abs(gap), units, lang=lang)
    return f"{sign}{abs(gap) / factor:,.0f} {unit_label}"


def comparison_panels(runs, variables=("metro_population", "metro_gdp_nominal"), *, labels=None, lang="en"):
    """Side-by-side comparisons (default: the two targeted metro variables). Returns the Figure."""
    lang = style.resolve_lang(lang)
    with style.language(lang):
        fig, axes = style.new_figure(1, len(variables), figsize=(6.5 * len(variables), 4.8))
        for ax, v in zip(axes.ravel(), variables):
            comparison(runs, v, labels=labels, lang=lang, ax=ax)
    return fig
