"""Scenario discovery (PRIM): the box of parameter ranges and the peeling trajectory.

Format: ``{"boxes": [{"limits": {param: [lo, hi]}, "coverage": c, "density": d, "mass": m}, ...],
"peeling_trajectory": [{"coverage", "density", "mass", "n_restricted"}, ...]}`` and optionally
``"ranges": {param: [lo, hi]}`` (the full sampled ranges; also accepted as an argument). Boxes may carry
``categories`` (categorical factors: the categories kept) and ``stability`` (``box_stability``); a
result of ``sim targets`` also says which (possibly relaxed) target the boxes are for (``target.label``).
"""
from __future__ import annotations

import numpy as np

from . import style


def prim_box(result, ranges=None, *, box: int = 0, lang: str = "en", ax=None):
    """Each restricted parameter as a grey bar of its full range (normalised to 0–1) with the
    PRIM box limits in colour and their values written at the ends. Returns the Axes."""
    lang = style.resolve_lang(lang)
    boxes = result.get("boxes") or []
    if not boxes:
        raise ValueError("the PRIM result has no boxes")
    b = boxes[box]
    ranges = ranges or result.get("ranges") or result.get("parameter_ranges") or {}
    limits = b["limits"]
    params = list(limits)
    with style.language(lang):
        ax = style.new_axes(ax, figsize=(8, 0.6 * len(params) + 1.8))
        for i, p in enumerate(params):
            lo, hi = map(float, limits[p])
            rlo, rhi = map(float, ranges.get(p, (lo, hi)))
            span = (rhi - rlo) or 1.0
            a, z = (lo - rlo) / span, (hi - rlo) / span
            ax.barh(i, 1.0, left=0, color="#e5e5e5", height=0.55, label="full range" if i == 0 else None)
            ax.barh(i, z - a, left=a, color="#2ca02c", height=0.55, label="PRIM box" if i == 0 else None)
            cats = (b.get("categories") or {}).get(p)
            if cats:
                ax.text((a + z) / 2, i - 0.31, "{" + ", ".join(f"{c:g}" for c in cats) + "}", ha="center",
                        va="bottom", fontsize=8, color="#1b6e1b")
            else:
                ax.text(a, i - 0.31, f"{lo:.3g}", ha="center", va="bottom", fontsize=8, color="#1b6e1b")
                ax.text(z, i - 0.31, f"{hi:.3g}", ha="center", va="bottom", fontsize=8, color="#1b6e1b")
            if p in ranges:
                ax.text(-0.01, i, f"{rlo:.3g}", ha="right", va="center", fontsize=7, color="#777777")
                ax.text(1.01, i, f"{rhi:.3g}", ha="left", va="center", fontsize=7, color="#777777")
        ax.set_yticks(range(len(params)), params)
        ax.set_ylim(-0.75, len(params) - 0.4)
        ax.set_xlim(-0.12, 1.12)
        ax.set_xticks([0, 0.5, 1], ["low", "mid", "high"])
        ax.set_xlabel("position within the sampled range (grey: sampled range, green: PRIM box)" if lang == "en"
                      else "在抽样区间内的位置(灰:抽样区间,绿:PRIM框)")
        ax.invert_yaxis()
        title = (f"PRIM box {box + 1}: coverage {100 * b['coverage']:.0f}%, density {100 * b['density']:.0f}%"
                 + (f", mass {100 * b['mass']:.0f}%" if "mass" in b else ""))
        t = result.get("target") or {}
        target = t.get("label") if lang == "zh" else (t.get("label_plain") or t.get("label"))
        if target:
            title += f"\n{'relaxed target' if result.get('relaxed') else 'target'}: {target}"
        style.finish(ax, title, legend=False)
        ax.grid(False)
    return ax


def peeling_trajectory(result, *, lang: str = "en", ax=None):
    """Coverage (x) against density (y) of each peeling step, coloured by the number of restricted
    parameters; the chosen boxes are circled. Returns the Axes."""
    lang = style.resolve_lang(lang)
    traj = result.get("peeling_trajectory") or []
    if not traj:
        raise ValueError("the PRIM result has no peeling_trajectory")
    cov = np.array([s["coverage"] for s in traj]) * 100
    den = np.array([s["density"] for s in traj]) * 100
    nres = np.array([s.get("n_restricted", 0) for s in traj])
    with style.language(lang):
        ax = style.new_axes(ax, figsize=(7, 5))
        ax.plot(cov, den, color="#bbbbbb", linewidth=1, zorder=1)
        sc = ax.scatter(cov, den, c=nres, cmap="viridis", s=30, zorder=2, label="peeling steps")
        cb = ax.figure.colorbar(sc, ax=ax)
        cb.set_label("number of restricted parameters" if lang == "en" else "受限参数个数")
        for k, b in enumerate(result.get("boxes") or []):
            ax.scatter([100 * b["coverage"]], [100 * b["density"]], s=160, facecolors="none",
                       edgecolors=style.TARGET_COLOR, linewidths=1.8, zorder=3, label="chosen box" if k == 0 else None)
            ax.annotate(f"box {k + 1}", (100 * b["coverage"], 100 * b["density"]), xytext=(8, 6),
                        textcoords="offset points", fontsize=8, color=style.TARGET_COLOR)
        ax.set_xlim(0, 105)
        ax.set_ylim(0, 105)
        ax.set_xlabel("coverage (%)" if lang == "en" else "覆盖率 (%)")
        ax.set_ylabel("density (%)" if lang == "en" else "密度 (%)")
        style.finish(ax, "PRIM peeling trajectory" if lang == "en" else "PRIM剥离轨迹", loc="lower left")
    return ax


def box_stability(result, *, box: int = 0, lang: str = "en", ax=None):
    """How stable box ``box`` is under resampling: for each factor restricted in any resample, the share of
    resamples that restrict it (bars; the box's own restrictions in colour), with the box's coverage and
    density intervals in the title. Returns the Axes."""
    lang = style.resolve_lang(lang)
    boxes = result.get("boxes") or []
    if not boxes or box >= len(boxes):
        raise ValueError(f"the PRIM result has no box {box + 1}")
    b = boxes[box]
    st = b.get("stability") or {}
    freq = st.get("restriction_frequency") or {}
    if not freq:
        raise ValueError("the PRIM box has no stability results (run PRIM with resamples > 0)")
    names = list(freq)[::-1]
    with style.language(lang):
        ax = style.new_axes(ax, figsize=(8, 0.45 * len(names) + 1.8))
        colors = ["#2ca02c" if n in b["limits"] else "#bbbbbb" for n in names]
        ax.barh(np.arange(len(names)), [100 * freq[n] for n in names], color=colors, height=0.6)
        ax.set_yticks(np.arange(len(names)), names)
        ax.set_xlim(0, 100)
        ax.set_xlabel("resamples restricting the factor (%)" if lang == "en" else "限制该参数的重抽样比例 (%)")
        title = f"PRIM box {box + 1}: {st['method']} stability, {st['resamples']} resamples"
        if st.get("coverage"):
            title += (f"\ncoverage {100 * st['coverage'][0]:.0f}–{100 * st['coverage'][2]:.0f}%, density "
                      f"{100 * st['density'][0]:.0f}–{100 * st['density'][2]:.0f}% "
                      f"({100 * st['confidence_level']:.0f}% interval)")
        style.finish(ax, title, legend=False)
    return ax
