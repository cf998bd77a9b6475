"""The gap to the targets, decomposed (``sim gap``'s gap.json): stacked bars of the sources of population
change and of the log change of nominal GDP, per plan-area node and for the metro area, with what the
target would need."""
from __future__ import annotations

import numpy as np

from . import style

POP_LABELS = {"births": "births", "deaths": "deaths (−)", "net_migration_within_metro": "net migration, within metro",
              "net_migration_rest_of_jilin": "net migration, rest of Jilin",
              "net_migration_rest_of_china": "net migration, rest of China"}
POP_COLORS = {"births": "#e8b04a", "deaths": "#7f7f7f", "net_migration_within_metro": "#1f77b4",
              "net_migration_rest_of_jilin": "#2ca02c", "net_migration_rest_of_china": "#d62728"}
GDP_COLORS = {"tfp": "#1f77b4", "output_shock": "#aec7e8", "agglomeration": "#17becf", "capital": "#ff7f0e", "construction": "#bcbd22",
              "human_capital": "#9467bd", "labour_population": "#8c564b", "labour_participation": "#c49c94",
              "labour_employment_rate": "#e377c2", "prices": "#d62728", "calendar_year": "#bcbd22",
              "node_mix": "#7f7f7f"}


def _stack(ax, x, values: dict, colors: dict, labels: dict, width=0.7):
    pos, neg = np.zeros(len(x)), np.zeros(len(x))
    for key, v in values.items():
        v = np.asarray(v, dtype=float)
        p, n = np.clip(v, 0, None), np.clip(v, None, 0)
        ax.bar(x, p, bottom=pos, color=colors[key], width=width, label=labels[key], edgecolor="white", linewidth=0.4)
        ax.bar(x, n, bottom=neg, color=colors[key], width=width, edgecolor="white", linewidth=0.4)
        pos += p
        neg += n


def gap(result: dict, what: str = "population", *, ax=None):
    """Stacked bars of the sources of change from the start year to the target year, one bar per plan-area
    node and one for the metro area; a diamond for the total change and, for the metro area, a red bar
    for the change the target needs. ``what``: "population" (万人) or "gdp" (log points, %). Returns the Axes."""
    if what not in ("population", "gdp"):
        raise ValueError(f"what must be 'population' or 'gdp', not {what!r}")
    ax = style.new_axes(ax, figsize=(8, 4.5))
    s, y = result["start_year"], result["year"]
    if what == "population":
        regions = result["population"]["regions"]
        keys = list(POP_LABELS)
        vals = {k: [(-1 if k == "deaths" else 1) * regions[r][k] / 1e4 for r in regions] for k in keys}
        totals = [regions[r]["change"] / 1e4 for r in regions]
        needed = (result["targets"]["population"] - regions["metro"]["start"]) / 1e4
        colors, labels, unit = POP_COLORS, POP_LABELS, "10⁴ persons"
        title = f"Population change {s}→{y}: births, deaths and net migration by origin"
    else:
        regions = result["gdp"]["regions"]
        comps = result["gdp"]["components"]
        keys = [k for k in comps if any(abs(regions[r][k]) > 1e-12 for r in regions)]
        vals = {k: [100 * regions[r][k] for r in regions] for k in keys}
        totals = [100 * regions[r]["dlog"] for r in regions]
        needed = 100 * np.log(result["targets"]["gdp_nominal"] / regions["metro"]["start"])
        colors, labels, unit = GDP_COLORS, {k: comps[k] for k in keys}, "log points × 100 (≈ %)"
        title = f"Nominal GDP change {s}→{y}: Δln by source (metro: log-mean Divisia weights)"
    names = list(regions)
    x = np.arange(len(names), dtype=float)
    _stack(ax, x, vals, colors, labels)
    ax.plot(x, totals, "D", color="black", markersize=6, label="total change", zorder=5)
    ax.bar([x[-1] + 0.8], [needed], width=0.5, color="none", edgecolor=style.TARGET_COLOR, hatch="//",
           linewidth=1.2, label=f"change the {result['targets']['year']} target needs")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(list(x) + [x[-1] + 0.8])
    ax.set_xticklabels([style.node_name(n) if n != "metro" else "metro area" for n in names] + ["target"],
                       rotation=20, ha="right", fontsize=8)
    ax.set_ylabel(unit)
    style.finish(ax, title, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def gap_panels(result: dict):
    """Both panels (population, GDP) in one figure; returns the Figure."""
    fig, axes = style.new_figure(1, 2, figsize=(15, 5))
    gap(result, "population", ax=axes[0, 0])
    gap(result, "gdp", ax=axes[0, 1])
    return fig
