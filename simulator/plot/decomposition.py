"""Population change split into natural change and net migration by origin; the migration flow
matrix between nodes."""
from __future__ import annotations

import numpy as np
from matplotlib.colors import LogNorm

from . import style
from ._data import plan_nodes


def components(ds, region: str = "metro") -> tuple[dict[str, np.ndarray], np.ndarray]:
    """({component: persons/yr per time}, times). Components: ``natural`` and one net-migration
    term per origin (flows from the origin into ``region`` minus flows back). ``region`` is a node
    code or ``"metro"`` (the plan area; origins are then the nodes outside it and EXT)."""
    if "run" in ds.dims:
        raise ValueError("decomposition takes a single run; select one with ds.isel(run=i)")
    F = ds["migration_flow"]
    labels = [str(x) for x in F.origin.values]
    if region == "metro":
        inside = plan_nodes(ds)
        natural = ds["natural_change"].sel(region=inside).sum("region").values
    else:
        if region not in ds.region.values:
            raise ValueError(f"unknown region {region!r}; choose 'metro' or one of {list(map(str, ds.region.values))}")
        inside = [region]
        natural = ds["natural_change"].sel(region=region).values
    comps = {"natural": natural}
    for o in labels:
        if o in inside:
            continue
        into = F.sel(origin=o, destination=inside).sum("destination").values
        out = F.sel(origin=inside, destination=o).sum("origin").values
        comps[o] = into - out
    return comps, np.asarray(ds.time.values)


def decomposition(ds, region: str = "metro", *, lang: str = "en", ax=None, skip_first: bool = True):
    """Stacked bars per year: natural change plus net migration from each origin (positive parts
    stacked up, negative down) and a line for the total. ``skip_first`` drops the base year, whose
    flows are instantaneous rates rather than annual totals. Returns the Axes."""
    lang = style.resolve_lang(lang)
    comps, t = components(ds, region)
    sl = slice(1, None) if skip_first and len(t) > 1 else slice(None)
    t = t[sl]
    with style.language(lang):
        ax = style.new_axes(ax, figsize=(9, 4.8))
        factor, _ = style.unit_display("persons/yr", None, lang)
        pos, neg = np.zeros(len(t)), np.zeros(len(t))
        for key, vals in comps.items():
            v = vals[sl] / factor
            p, n = np.clip(v, 0, None), np.clip(v, None, 0)
            colour = "#e8b04a" if key == "natural" else style.color(key)
            name = style.node_name(key, lang) if key == "natural" else \
                (f"net migration from {style.node_name(key, lang)}" if lang == "en" else f"来自{style.node_name(key, lang)}的净迁移")
            ax.bar(t, p, bottom=pos, color=colour, width=0.75, label=name, edgecolor="white", linewidth=0.4)
            ax.bar(t, n, bottom=neg, color=colour, width=0.75, edgecolor="white", linewidth=0.4)
            pos += p
            neg += n
        total = sum(v[sl] for v in comps.values()) / factor
        ax.plot(t, total, color="black", marker="D", markersize=4, linewidth=1.2, label=style.var_name("total", lang))
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xticks(t)
        ax.set_xlabel(style.var_name("year", lang))
        ax.set_ylabel(style.axis_label(style.var_name("change", lang), "persons/yr", None, lang))
        where = style.node_name(region, lang)
        style.finish(ax, (f"Population change, {where}: natural change and net migration by origin" if lang == "en"
                          else f"{where}人口变动:自然增长与分来源净迁移"),
                     loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def flow_matrix(ds, year: int | None = None, *, lang: str = "en", ax=None, log: bool = True, annotate: bool = True):
    """Heatmap of migrants per year from each origin (rows) to each destination (columns) in
    ``year`` (default: the target year if simulated, else the last year). Returns the Axes."""
    if "run" in ds.dims:
        raise ValueError("flow_matrix takes a single run; select one with ds.isel(run=i)")
    lang = style.resolve_lang(lang)
    times = [int(x) for x in ds.time.values]
    if year is None:
        ty = int(ds.attrs.get("target_year", times[-1]))
        year = ty if ty in times else times[-1]
    if year not in times:
        raise ValueError(f"year {year} not simulated; choose from {times[0]}–{times[-1]}")
    F = ds["migration_flow"].sel(time=year)
    labels = [str(x) for x in F.origin.values]
    factor, ul = style.unit_display("persons/yr", None, lang)
    M = F.values.astype(float) / factor
    np.fill_diagonal(M, np.nan)
    with style.language(lang):
        ax = style.new_axes(ax, figsize=(8, 6.8))
        positive = M[np.isfinite(M) & (M > 0)]
        norm = LogNorm(vmin=max(positive.min(), positive.max() * 1e-4), vmax=positive.max()) if log and positive.size else None
        im = ax.imshow(np.where(M > 0, M, np.nan) if log else M, cmap="viridis", norm=norm, aspect="equal")
        cb = ax.figure.colorbar(im, ax=ax, shrink=0.8)
        cb.set_label(f"{style.var_name('migration_flow', lang)} ({ul})")
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
        ax.set_yticks(range(len(labels)), labels)
        for tick, lab in zip(ax.get_xticklabels(), labels):
            tick.set_color(style.color(lab))
        for tick, lab in zip(ax.get_yticklabels(), labels):
            tick.set_color(style.color(lab))
        ax.set_xlabel(style.var_name("destination", lang))
        ax.set_ylabel(style.var_name("origin", lang))
        if annotate:
            vmax = np.nanmax(M) if np.isfinite(M).any() else 1
            for i in range(len(labels)):
                for j in range(len(labels)):
                    if np.isfinite(M[i, j]):
                        bright = norm(M[i, j]) > 0.6 if norm is not None else M[i, j] > 0.6 * vmax
                        ax.text(j, i, f"{M[i, j]:.2f}" if M[i, j] < 10 else f"{M[i, j]:.0f}", ha="center",
                                va="center", fontsize=7, color="black" if bright else "white")
        ax.set_title((f"Migration flows {year} (rows: origin, columns: destination)" if lang == "en"
                      else f"{year}年迁移流量(行:迁出地,列:迁入地)"), fontsize=11)
    return ax
