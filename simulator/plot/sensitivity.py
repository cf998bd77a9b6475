"""Sensitivity pictures: Sobol S1/ST bars with confidence intervals, Morris mu*–sigma scatter,
tornado chart of one-at-a-time swings.

Formats: ``sens`` is an xarray Dataset with dims (output, parameter) (optionally time) and
variables S1, S1_conf, ST, ST_conf (Sobol), mu_star, mu_star_conf, sigma (Morris), or one index with
its interval from a given-data method (delta/delta_conf, PAWN/PAWN_conf, S1/S1_conf for RBD-FAST;
``index_bars``). A
tornado takes a pandas DataFrame with columns parameter, low, high, base (output values with the
parameter at its low / high value and at its base), or a mapping {parameter: (low, high)} with
``base=``.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from . import style


def _title_name(output: str) -> str:
    """'metro_population (2030)' → 'population of the metro area (plan-area parts), 2030'."""
    from ..analysis.sensitivity import plain_name
    if output.endswith(")") and " (" in output:
        name, year = output[:-1].rsplit(" (", 1)
        return f"{plain_name(name)}, {year}"
    return plain_name(output)


def _label_positions(x, y, labels, xspan, yspan, char_w=0.0105, line_h=0.035):
    """Offsets (in axes fractions) that keep point labels from overlapping: each label goes right of its
    point, moved down (then up) in steps of one line until its box is clear of the labels placed so far."""
    placed, out = [], []
    order = np.argsort(-np.asarray(y, dtype=float))
    pos = [None] * len(labels)
    for i in order:
        fx, fy = x[i] / xspan + 0.008, y[i] / yspan + 0.006
        w = char_w * len(labels[i])
        for k in [0, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6] + list(range(7, 28)):
            cy = fy + k * line_h
            if not 0.02 <= cy <= 0.97:
                continue
            if all(abs(cy - py) >= line_h or fx + w <= px or px + pw <= fx for (px, py, pw) in placed):
                break
        placed.append((fx, cy, w))
        pos[i] = (fx, cy)
    return pos


def _select(sens, output, time):
    if "output" in sens.dims:
        outputs = [str(o) for o in sens.output.values]
        if output is None:
            output = outputs[0]
        if output not in outputs:
            raise ValueError(f"unknown output {output!r}; choose from {outputs}")
        sens = sens.sel(output=output)
    if "time" in sens.dims:
        times = [int(t) for t in sens.time.values]
        if time is None:
            ty = sens.attrs.get("target_year")
            time = int(ty) if ty is not None and int(ty) in times else times[-1]
        sens = sens.sel(time=time)
        output = f"{output} ({time})" if output is not None else str(time)
    return sens, output


def sobol_bars(sens, output=None, *, time=None, lang: str = "en", ax=None, sort: bool = True):
    """Horizontal bars of first-order (S1) and total (ST) Sobol indices per parameter, with the
    confidence intervals as error bars, for one ``output`` (default the first). Returns the Axes."""
    for v in ("S1", "ST"):
        if v not in sens:
            raise ValueError(f"Sobol results need variable {v!r} (found {list(sens.data_vars)})")
    lang = style.resolve_lang(lang)
    s, output = _select(sens, output, time)
    params = [str(p) for p in s.parameter.values]
    st, s1 = s["ST"].values, s["S1"].values
    order = np.argsort(st) if sort else np.arange(len(params))[::-1]
    y = np.arange(len(params))
    with style.language(lang):
        ax = style.new_axes(ax, figsize=(8, 0.45 * len(params) + 1.8))
        h = 0.38
        c1 = s["S1_conf"].values[order] if "S1_conf" in s else None
        cT = s["ST_conf"].values[order] if "ST_conf" in s else None
        ax.barh(y + h / 2, st[order], height=h, color="#1f77b4", xerr=cT, capsize=2, label="ST (total)")
        ax.barh(y - h / 2, s1[order], height=h, color="#9ecae1", xerr=c1, capsize=2, label="S1 (first order)")
        ax.set_yticks(y, [params[i] for i in order])
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel("Sobol index (share of output variance, 1)" if lang == "en" else "Sobol指数(方差贡献)")
        style.finish(ax, f"Sobol indices: {_title_name(output)}" if lang == "en" else f"Sobol敏感性指数:{output}", loc="lower right")
    return ax


_INDEX_LABEL = {"delta": ("Borgonovo δ (moment-independent, 0–1)", "Delta indices"),
                "PAWN": ("PAWN index (median KS distance, 0–1)", "PAWN indices"),
                "S1": ("first-order index S1 (share of output variance)", "First-order indices"),
                "ST": ("total-order Sobol index ST", "Sobol total indices"),
                "mu_star": ("μ* (mean |elementary effect|)", "Morris μ*")}


def index_bars(sens, output=None, *, index: str | None = None, time=None, lang: str = "en", ax=None):
    """One sensitivity index per parameter as horizontal bars with its confidence interval, largest on
    top: for the given-data methods (delta, PAWN, RBD-FAST's S1), or any one index of a Sobol/Morris
    result (``index=``; default the method's main index). Returns the Axes."""
    lang = style.resolve_lang(lang)
    if index is None:
        index = next((k for k in ("delta", "PAWN", "ST", "mu_star", "S1") if k in sens), None)
    if index is None or index not in sens:
        raise ValueError(f"no sensitivity index {index!r} in the results (found {list(sens.data_vars)})")
    s, output = _select(sens, output, time)
    params = [str(p) for p in s.parameter.values]
    v = s[index].values.astype(float)
    conf = s[f"{index}_conf"].values.astype(float) if f"{index}_conf" in s else None
    order = np.argsort(np.where(np.isfinite(v), v, -np.inf))
    y = np.arange(len(params))
    xlabel, title = _INDEX_LABEL.get(index, (index, index))
    if index == "S1" and sens.attrs.get("method") == "rbd_fast":
        title = "RBD-FAST first-order indices"
    with style.language(lang):
        ax = style.new_axes(ax, figsize=(8, 0.45 * len(params) + 1.8))
        ax.barh(y, v[order], height=0.6, color="#1f77b4", xerr=None if conf is None else conf[order], capsize=2,
                label=f"{index} with {int(100 * float(sens.attrs.get('confidence_level', 0.95)))} % interval")
        ax.set_yticks(y, [params[i] for i in order])
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel(xlabel)
        style.finish(ax, f"{title}: {_title_name(output)}", loc="lower right")
    return ax


def morris_scatter(sens, output=None, *, time=None, lang: str = "en", ax=None):
    """Morris screening: mu* (mean absolute elementary effect, x, with its confidence interval)
    against sigma (y); points above the σ = μ* line act non-linearly or through interactions.
    Returns the Axes."""
    for v in ("mu_star", "sigma"):
        if v not in sens:
            raise ValueError(f"Morris results need variable {v!r} (found {list(sens.data_vars)})")
    lang = style.resolve_lang(lang)
    s, output = _select(sens, output, time)
    params = [str(p) for p in s.parameter.values]
    units = str(s.coords["output_units"].values) if "output_units" in s.coords else sens.attrs.get("units", "")
    factor, ulabel = style.unit_display(units, None, lang) if units else (1.0, "")
    mu, sg = s["mu_star"].values / factor, s["sigma"].values / factor
    with style.language(lang):
        ax = style.new_axes(ax, figsize=(8.5, 6.0))
        xerr = s["mu_star_conf"].values / factor if "mu_star_conf" in s else None
        ax.errorbar(mu, sg, xerr=xerr, fmt="o", color="#1f77b4", ecolor="#9ecae1", capsize=2, label="parameters")
        top = max(np.nanmax(mu), np.nanmax(sg)) * 1.1 if len(mu) else 1
        ax.plot([0, top], [0, top], color="#999999", linestyle="--", linewidth=0.8, label="σ = μ*")
        for (fx, fy), x, yv, p in zip(_label_positions(mu, sg, params, top, top), mu, sg, params):
            moved = abs(fy - (yv / top + 0.006)) > 1e-9
            ax.annotate(p, (x, yv), xytext=(fx, fy), textcoords="axes fraction", fontsize=7, va="center",
                        arrowprops=dict(arrowstyle="-", color="#bbbbbb", linewidth=0.5) if moved else None)
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        u = f" ({ulabel})" if ulabel else ""
        ax.set_xlabel(f"μ* (mean |elementary effect| over the factor's range){u}" if lang == "en" else f"μ*{u}")
        ax.set_ylabel(f"σ (std of elementary effects){u}" if lang == "en" else f"σ{u}")
        style.finish(ax, f"Morris screening: {_title_name(output)}" if lang == "en" else f"Morris筛选:{output}",
                     loc="upper left")
    return ax


def _tornado_frame(data, base=None) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        df = data.copy()
    elif isinstance(data, Mapping):
        df = pd.DataFrame([{"parameter": k, "low": v[0], "high": v[1]} for k, v in data.items()])
    else:
        raise TypeError("tornado takes a DataFrame (parameter, low, high, base) or a mapping {parameter: (low, high)}")
    if "base" not in df:
        if base is None:
            raise ValueError("give the base output value: a 'base' column or base=")
        df["base"] = base
    missing = {"parameter", "low", "high"} - set(df.columns)
    if missing:
        raise ValueError(f"tornado data lacks columns {sorted(missing)}")
    return df


def tornado(data, *, base=None, units: str = "persons", variable: str | None = None, label: str | None = None,
            target: float | None = None, lang: str = "en", ax=None):
    """One-at-a-time swings: for each parameter a bar from the base output to the output with the
    parameter at its low value and one to its high value, widest swing on top. ``units`` are the
    data units of the output (scaled for display, e.g. persons → 万人). Returns the Axes."""
    lang = style.resolve_lang(lang)
    df = _tornado_frame(data, base)
    df = df.assign(swing=(df.high - df.low).abs()).sort_values("swing")
    factor, ul = style.unit_display(units, variable, lang)
    b = float(df.base.iloc[0]) / factor
    y = np.arange(len(df))
    with style.language(lang):
        ax = style.new_axes(ax, figsize=(8, 0.45 * len(df) + 1.8))
        ax.barh(y, df.low.values / factor - b, left=b, color="#4c78a8", height=0.6, label="parameter at low value")
        ax.barh(y, df.high.values / factor - b, left=b, color="#f58518", height=0.6, label="parameter at high value")
        ax.axvline(b, color="black", linewidth=1.0, label=f"base {b:,.1f}")
        if target is not None:
            ax.axvline(target / factor, color=style.TARGET_COLOR, linestyle="--", linewidth=1.2,
                       label=f"{style.var_name('target', lang)} {target / factor:,.0f}")
        names = list(df.parameter.astype(str))
        if {"low_value", "high_value"} <= set(df.columns):
            names = [f"{p} [{lo:.3g} – {hi:.3g}]" for p, lo, hi in zip(names, df.low_value, df.high_value)]
        ax.set_yticks(y, names)
        name = label or (style.var_name(variable, lang) if variable else "output")
        ax.set_xlabel(f"{name} ({ul})")
        style.finish(ax, f"One-at-a-time swings: {name}" if lang == "en" else f"单因素敏感性:{name}",
                     loc="lower right")
    return ax
