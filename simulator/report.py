"""A self-contained HTML report of one output directory: summary table, target check and every
relevant figure embedded as base64 PNG, readable offline and printable (print stylesheet).

Inputs looked for in the directory (all but results.nc optional):

* ``results.nc`` (required) and ``summary.json`` (recomputed from results.nc when missing);
* ``ensemble.nc`` — an ensemble with a leading ``run`` dim → fan charts and target probabilities;
* ``sensitivity.nc`` — Sobol (S1, S1_conf, ST, ST_conf) and/or Morris (mu_star, mu_star_conf, sigma)
  over dims (output, parameter[, time]);
* ``tornado.csv`` — columns parameter, low, high, base (optionally low_value, high_value, units);
* ``prim.json`` — {"boxes": [...], "peeling_trajectory": [...], "ranges": {...}};
* ``calibration.nc`` — dims (series, time), variables observed, simulated, coord units;
* ``gap.json`` — ``sim gap``: the decomposition of the gap to each target (tables + figure) and a
  plain-language paragraph of what it would take;
* ``targets.json`` — ``sim targets``: probabilities, the lever values needed (goal seek) and PRIM boxes;
* ``portfolio.json`` — ``sim optimize``: the named portfolios (description, lever values, objectives).

A directory holding only ``gap.json``, ``targets.json`` or ``portfolio.json`` (no ``results.nc``) gives a
report of those sections alone. Every section is skipped when its file is absent.
"""
from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import json
from pathlib import Path

from .atomic import write_bytes


CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,"Noto Sans CJK SC",sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}.met{color:#1a7f37;font-weight:bold}.notmet{color:#c62828;font-weight:bold}
figure{margin:1.2em 0;text-align:center}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85em;color:#555;margin-top:.3em}.meta{color:#666;font-size:.85em}
@media print{body{max-width:none;margin:0;font-size:10pt}figure,table{page-break-inside:avoid;break-inside:avoid}
h2{page-break-after:avoid;break-after:avoid}figure img{max-width:100%;border:none}a{color:inherit;text-decoration:none}}
"""


def _png(fig, dpi=110) -> str:
    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(obj, fig_id: str, caption: str) -> str:
    fig = obj if hasattr(obj, "savefig") else obj.figure
    return (f'<figure id="{fig_id}"><img alt="{html.escape(caption)}" src="data:image/png;base64,{_png(fig)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def _e(x) -> str:
    return html.escape(str(x))


def summary_table(s: dict) -> str:
    years = [r["year"] for r in s["years"]]
    nodes = [k[len("population_"):] for k in s["years"][0] if k.startswith("population_")]
    from .plot.style import node_name
    head = "".join(f"<th>population {y}<br>(万人)</th><th>nominal GDP {y}<br>(亿元)</th>" for y in years)
    rows = []
    for n in nodes:
        cells = "".join(f"<td>{r['population_' + n] / 1e4:,.1f}</td><td>{r['gdp_nominal_' + n] / 1e8:,.0f}</td>"
                        for r in s["years"])
        rows.append(f'<tr><td class="l">{_e(node_name(n))}</td>{cells}</tr>')
    cells = "".join(f"<td><b>{r['metro_population'] / 1e4:,.1f}</b></td><td><b>{r['metro_gdp_nominal'] / 1e8:,.0f}</b></td>"
                    for r in s["years"])
    rows.append(f'<tr><td class="l"><b>Metro area total</b></td>{cells}</tr>')
    return (f'<table id="summary-table"><tr><th class="l"></th>{head}</tr>{"".join(rows)}</table>'
            '<p class="meta">万人 = 10<sup>4</sup> persons; 亿元 = 10<sup>8</sup> yuan (current prices).</p>')


def targets_table(targets: list[dict], probabilities: dict | None = None) -> str:
    head = ("<tr><th class='l'>target</th><th>year</th><th>target value</th><th>simulated</th><th>gap</th>"
            "<th>gap %</th><th>met</th>" + ("<th>P(met), ensemble</th>" if probabilities else "") + "</tr>")
    rows = []
    for t in targets:
        scale, unit = (1e4, "万人") if t["target"] == "population" else (1e8, "亿元")
        p = ""
        if probabilities:
            pv = probabilities.get(t["target"])
            p = f"<td>{'' if pv is None else f'{100 * pv:.0f}%'}</td>"
        if t.get("simulated") is None:
            rows.append(f"<tr><td class='l'>{_e(t['target'])}</td><td>{t['year']}</td><td>{t['value'] / scale:,.0f} {unit}</td>"
                        f"<td colspan='4'>not simulated</td>{p}</tr>")
            continue
        cls, word = ("met", "MET") if t["met"] else ("notmet", "NOT MET")
        rows.append(f"<tr><td class='l'>{_e(t['target'])}</td><td>{t['year']}</td><td>{t['value'] / scale:,.0f} {unit}</td>"
                    f"<td>{t['simulated'] / scale:,.1f} {unit}</td><td>{t['gap'] / scale:+,.1f} {unit}</td>"
                    f"<td>{t['gap_percent']:+.1f}%</td><td class='{cls}'>{word}</td>{p}</tr>")
    return f'<table id="targets-table">{head}{"".join(rows)}</table>'


def _pop_cell(v) -> str:
    return f"{v / 1e4:+,.1f}"


def gap_section(r: dict) -> str:
    """Tables, figure and plain-language paragraph of ``sim gap``'s gap.json."""
    from .analysis.gap import GDP_COMPONENTS, requirement_sentence_migration, requirement_sentence_tfr
    from .plot.gap import gap_panels
    s0, y = r["start_year"], r["year"]
    t = r["targets"]
    parts = [f"<h2>The gap to the {y} targets and what it would take</h2>"]
    req = r.get("requirements")
    if req:
        sentences = [requirement_sentence_migration(r)]
        for row in req.get("tfp_growth", []):
            if row["status"] == "reachable":
                sentences.append(f"With the deflator at {row['inflation']} ({100 * row['deflator_growth']:.1f} %/yr), "
                                 f"{t['gdp_nominal'] / 1e8:,.0f} 亿元 would need TFP growth of "
                                 f"{100 * row['value']:.2f} %/yr in the plan area from {row['from_year']}.")
            else:
                sentences.append(f"With the deflator at {row['inflation']}, {t['gdp_nominal'] / 1e8:,.0f} 亿元 is not "
                                 "reachable with any TFP growth in the lever's range.")
        sentences.append(requirement_sentence_tfr(r))
        parts.append('<p id="gap-paragraph">' + " ".join(_e(x) for x in sentences) + "</p>")
    regions = r["population"]["regions"]
    from .plot.style import node_name
    rows = []
    for k, e in regions.items():
        name = "Metro area total" if k == "metro" else node_name(k)
        rows.append(f"<tr><td class='l'>{_e(name)}</td><td>{e['start'] / 1e4:,.1f}</td><td>{e['end'] / 1e4:,.1f}</td>"
                    f"<td>{_pop_cell(e['change'])}</td><td>{_pop_cell(e['births'])}</td><td>{_pop_cell(-e['deaths'])}</td>"
                    f"<td>{_pop_cell(e['net_migration_within_metro'])}</td><td>{_pop_cell(e['net_migration_rest_of_jilin'])}</td>"
                    f"<td>{_pop_cell(e['net_migration_rest_of_china'])}</td></tr>")
    parts.append(f"<table id='gap-population'><tr><th class='l'>万人</th><th>{s0}</th><th>{y}</th><th>change</th>"
                 "<th>births</th><th>deaths</th><th>net migration<br>within metro</th><th>net migration<br>rest of Jilin</th>"
                 "<th>net migration<br>rest of China</th></tr>" + "".join(rows) + "</table>")
    parts.append(f"<p class='meta'>Target {t['population'] / 1e4:,.0f} 万; simulated {r['simulated']['population'] / 1e4:,.1f} 万; "
                 f"gap {r['gap']['population'] / 1e4:+,.1f} 万. The parts sum to the change exactly (identity residual "
                 f"{regions['metro']['residual']:.1e} persons).</p>")
    g = r["gdp"]["regions"]
    comps = [c for c in GDP_COMPONENTS if c in r["gdp"]["components"]]
    head = "".join(f"<th>{_e(r['gdp']['components'][c])}</th>" for c in comps)
    rows = []
    for k, e in g.items():
        name = "Metro area total" if k == "metro" else node_name(k)
        rows.append(f"<tr><td class='l'>{_e(name)}</td><td>{e['start'] / 1e8:,.0f}</td><td>{e['end'] / 1e8:,.0f}</td>"
                    f"<td><b>{100 * e['dlog']:.2f}</b></td>" + "".join(f"<td>{100 * e.get(c, 0.0):.2f}</td>" for c in comps)
                    + "</tr>")
    parts.append(f"<table id='gap-gdp'><tr><th class='l'>nominal GDP</th><th>{s0}<br>(亿元)</th><th>{y}<br>(亿元)</th>"
                 f"<th>Δln Y (%)</th>{head}</tr>" + "".join(rows) + "</table>")
    parts.append(f"<p class='meta'>Log points × 100. Target {t['gdp_nominal'] / 1e8:,.0f} 亿元: "
                 f"{100 * r['gap']['gdp_nominal_log']:.2f} log points above the simulated {r['simulated']['gdp_nominal'] / 1e8:,.0f} 亿元. "
                 f"Metro: {_e(r['gdp']['metro_weights'])}.</p>")
    if req:
        rows = []
        a = req["extra_net_migration"]
        val = f"{a['value']:,.0f} persons/yr" if a["status"] == "reachable" else "not reachable"
        rows.append(f"<tr><td class='l'>extra net in-migration from the rest of China, from {a['from_year']}</td>"
                    f"<td>population {t['population'] / 1e4:,.0f} 万</td><td>{val}</td><td>0</td></tr>")
        for row in req.get("tfp_growth", []):
            val = f"{100 * row['value']:.2f} %/yr" if row["status"] == "reachable" else "not reachable"
            base = sum(row["baseline"].values()) / len(row["baseline"])
            rows.append(f"<tr><td class='l'>TFP growth, plan area (deflator {_e(row['inflation'])}, "
                        f"{100 * row['deflator_growth']:.1f} %/yr)</td><td>GDP {t['gdp_nominal'] / 1e8:,.0f} 亿元</td>"
                        f"<td>{val}</td><td>{100 * base:.2f} %/yr</td></tr>")
        c = req["tfr"]
        val = (f"{c['value']:.2f}" if c["status"] == "reachable"
               else f"not reachable in [{c['bounds'][0]:g}, {c['bounds'][1]:g}] ({c['achieved_at_bound'] / 1e4:,.1f} 万 at {c['value_at_bound']:g})")
        base = sum(c["baseline"].values()) / len(c["baseline"])
        rows.append(f"<tr><td class='l'>TFR, plan area, migration as in the scenario</td>"
                    f"<td>population {t['population'] / 1e4:,.0f} 万</td><td>{_e(val)}</td><td>{base:.2f}</td></tr>")
        parts.append("<table id='gap-requirements'><tr><th class='l'>requirement (goal seek with the model)</th>"
                     "<th>target</th><th>needed</th><th>scenario</th></tr>" + "".join(rows) + "</table>")
    parts.append(_figure(gap_panels(r), "fig-gap", "Sources of the population and nominal GDP change to the target "
                                                   "year, per plan-area part and metro total, and the change the target needs."))
    return "".join(parts)


def targets_section(answer: dict) -> str:
    """``sim targets``' targets.json: probabilities, goal-seek results and PRIM boxes as tables."""
    from .analysis.targets import TARGET_NAMES, _lever_label, readable_value
    info_all = answer.get("factor_info", {})
    parts = ["<h2>Targets: probabilities, lever values needed, scenario discovery</h2>"]
    pr = answer.get("probabilities")
    if pr:
        rows = []
        for name, e in pr["targets"].items():
            rows.append(f"<tr><td class='l'>{_e(TARGET_NAMES.get(name, name))}</td><td>{100 * e['probability']:.1f}%</td>"
                        f"<td>{100 * e['interval'][0]:.1f}–{100 * e['interval'][1]:.1f}%</td></tr>")
        parts.append(f"<p>Probability of meeting the {pr['year']} targets over {pr['runs_used']} runs of "
                     f"'{_e(answer.get('uncertainty_sweep', ''))}' ({pr['failed']} failed), "
                     f"{int(100 * pr['confidence_level'])} % Wilson interval:</p>"
                     "<table id='targets-probabilities'><tr><th class='l'>target</th><th>P(met)</th><th>interval</th></tr>"
                     + "".join(rows) + "</table>")
    gs = answer.get("required_lever_values")
    if gs:
        rows = []
        for r in gs:
            info = info_all.get(r["lever"], {})
            units, apply = info.get("units", ""), r.get("apply", "value")
            if r.get("status") == "reachable":
                sign = {">=": "at least", "<=": "at most"}.get(r.get("met_when", ">="), "")
                what = f"{sign} {readable_value(r['value'], units, apply)}"
            else:
                what = r.get("message", r.get("status", ""))
            rng = f"{readable_value(r['range'][0], units, apply)} … {readable_value(r['range'][1], units, apply)}"
            rows.append(f"<tr><td class='l'>{_e(_lever_label(r['lever'], info))}</td>"
                        f"<td class='l'>{_e(TARGET_NAMES.get(r['target'], r['target']))}</td><td>{_e(what)}</td>"
                        f"<td>{_e(readable_value(r.get('baseline'), units, apply))}</td><td>{_e(rng)}</td></tr>")
        parts.append("<p>Lever value needed to meet each target, every other input at the base scenario (goal seek):</p>"
                     "<table id='targets-goal-seek'><tr><th class='l'>lever</th><th class='l'>target</th><th>needed</th>"
                     "<th>base scenario</th><th>range searched</th></tr>" + "".join(rows) + "</table>")
    disc = answer.get("discovery")
    if disc is not None:
        rows = []
        for b, box in enumerate(disc.get("boxes", []), 1):
            lims = "; ".join(f"{readable_value(lo, info_all.get(k, {}).get('units', ''), info_all.get(k, {}).get('apply', 'value'))}"
                             f" ≤ {_lever_label(k, info_all.get(k, {}))} ≤ "
                             f"{readable_value(hi, info_all.get(k, {}).get('units', ''), info_all.get(k, {}).get('apply', 'value'))}"
                             for k, (lo, hi) in box["limits"].items())
            rows.append(f"<tr><td>{b}</td><td>{100 * box['coverage']:.0f}%</td><td>{100 * box['density']:.0f}%</td>"
                        f"<td>{100 * box['mass']:.0f}%</td><td class='l'>{_e(lims)}</td></tr>")
        text = (f"<p>Scenario discovery (PRIM) on '{_e(answer.get('levers_sweep', ''))}': {disc.get('n_of_interest', '?')} of "
                f"{disc.get('n_points', '?')} runs meet both targets.</p>")
        if rows:
            text += ("<table id='targets-prim'><tr><th>box</th><th>coverage</th><th>density</th><th>mass</th>"
                     "<th class='l'>limits</th></tr>" + "".join(rows) + "</table>")
        else:
            text += "<p>No box found (no run meets both targets).</p>"
        parts.append(text)
    return "".join(parts)


def portfolio_section(pf: dict) -> str:
    """``sim optimize``' portfolio.json: the named portfolios with their lever values and objectives."""
    objectives = list(pf.get("objectives", []))
    levers = pf.get("levers", {})
    named = pf.get("named", {})
    lever_names = list(levers) or sorted({k for v in named.values() for k in v.get("levers", {})})
    head = ("<tr><th class='l'>portfolio</th><th class='l'>description</th>"
            + "".join(f"<th>{_e(k)}<br>({_e(levers.get(k, {}).get('units', ''))})</th>" for k in lever_names)
            + "".join(f"<th>{_e(o)}</th>" for o in objectives) + "</tr>")
    rows = []
    for key, v in named.items():
        lv, ob = v.get("levers", {}), v.get("objectives", {})
        rows.append(f"<tr><td class='l'>{_e(key)}</td><td class='l'>{_e(v.get('description', ''))}</td>"
                    + "".join(f"<td>{_num(lv.get(k))}</td>" for k in lever_names)
                    + "".join(f"<td>{_num(ob.get(o))}</td>" for o in objectives) + "</tr>")
    size = pf.get("front_size")
    return ("<h2>Policy portfolios (sim optimize)</h2>"
            + (f"<p>{len(named)} named portfolios from a Pareto front of {_e(size)}.</p>" if size is not None else "")
            + f"<table id='portfolio-table'>{head}{''.join(rows)}</table>")


def _num(v) -> str:
    if v is None:
        return "—"
    try:
        return f"{float(v):.4g}"
    except (TypeError, ValueError):
        return _e(v)


def _read_json(path: Path, what: str) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read as JSON ({exc}); expected the {what}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object (the {what}), got {type(data).__name__}")
    return data


def build_report(directory, output=None, *, lang: str = "en", compare=None, title: str | None = None,
                 ensemble=None, sensitivity=None, targets=None, calibration=None, gap=None, portfolio=None) -> Path:
    """Write the HTML report of output ``directory`` to ``output`` (default
    ``directory/report.html``) atomically and return its path. ``compare``: other output
    directories (or results.nc files) to draw on the scenario-comparison chart. ``ensemble``,
    ``sensitivity``, ``targets`` (``sim targets``' targets.json, whose PRIM result is drawn) and
    ``calibration`` (``sim calibrate``'s fit.nc) name files elsewhere than ``directory``."""
    import matplotlib
    matplotlib.use("Agg")
    import pandas as pd

    from . import plot
    from .results import summary as make_summary

    directory = Path(directory)
    res = directory / "results.nc"
    gap_file = Path(gap) if gap else directory / "gap.json"
    targets_file = Path(targets) if targets else directory / "targets.json"
    portfolio_file = Path(portfolio) if portfolio else directory / "portfolio.json"
    extras = [f for f in (gap_file, targets_file, portfolio_file) if f.is_file()]
    if not res.is_file() and not extras:
        raise FileNotFoundError(f"{res} not found (run `sim run SCENARIO -o {directory}` first), and no gap.json, "
                                "targets.json or portfolio.json there")
    sections: list[str] = []
    front: list[str] = []            # sections that answer the question: before the run's figures
    gap_data = _read_json(gap_file, "gap.json of `sim gap`") if gap_file.is_file() else None
    if gap_data is not None:
        front.append(gap_section(gap_data))
    if portfolio_file.is_file():
        front.append(portfolio_section(_read_json(portfolio_file, "portfolio.json of `sim optimize`")))
    if not res.is_file():
        return _write_partial(directory, output, front, targets_file, title, gap_data, lang)
    ds = plot.load_results(res)
    sfile = directory / "summary.json"
    s = json.loads(sfile.read_text(encoding="utf-8")) if sfile.is_file() else make_summary(ds)
    name = ds.attrs.get("scenario_name", directory.name)
    figs: list[str] = []

    figs.append(_figure(plot.trajectory_panels(ds, lang=lang), "fig-trajectories",
                        "Trajectories by node and metro-area total; red star: 2030 target of the metro total."))
    figs.append(_figure(plot.trajectory_panels(ds, level="city", lang=lang), "fig-cities",
                        "Whole-city trajectories with observed history (census 2010/2020, bulletins 2024, GDP 2008–2024)."))
    if compare:
        runs = {name: ds}
        for c in compare:
            p = Path(c)
            p = p / "results.nc" if p.is_dir() else p
            other = plot.load_results(p)
            runs[other.attrs.get("scenario_name", p.parent.name)] = other
        figs.append(_figure(plot.comparison_panels(runs, lang=lang), "fig-comparison",
                            "Scenario comparison with the gap to each 2030 target."))
    figs.append(_figure(plot.decomposition(ds, "metro", lang=lang), "fig-decomposition",
                        "Population change of the metro area: natural change and net migration by origin."))
    figs.append(_figure(plot.flow_matrix(ds, lang=lang), "fig-flows", "Migration flows between nodes (log colour scale)."))
    figs.append(_figure(plot.pyramid(ds, "metro", lang=lang), "fig-pyramid",
                        "Age structure of the metro area, first and last simulated year."))
    sections.append("<h2>Figures: the run</h2>" + "".join(figs))

    probabilities = None
    ens_file = Path(ensemble) if ensemble else directory / "ensemble.nc"
    if ens_file.is_file():
        ens = plot.load_results(ens_file)
        probabilities = {"population": plot.target_probability(ens, "metro_population"),
                         "gdp_nominal": plot.target_probability(ens, "metro_gdp_nominal")}
        sections.append("<h2>Ensemble</h2>" + "".join([
            _figure(plot.fan_chart(ens, "metro_population", lang=lang), "fig-fan-population",
                    f"Metro-area population across {ens.sizes['run']} ensemble members (median, 50% and 90% bands)."),
            _figure(plot.fan_chart(ens, "metro_gdp_nominal", lang=lang), "fig-fan-gdp",
                    f"Metro-area nominal GDP across {ens.sizes['run']} ensemble members.")]))
    sens_file = Path(sensitivity) if sensitivity else directory / "sensitivity.nc"
    if sens_file.is_file():
        sens = plot.load_results(sens_file)
        parts = []
        outputs = [str(o) for o in sens.output.values] if "output" in sens.dims else [None]
        for o in outputs:
            if "S1" in sens and "ST" in sens:
                parts.append(_figure(plot.sobol_bars(sens, o, lang=lang), f"fig-sobol-{o}", f"Sobol indices for {o}."))
            if "mu_star" in sens and "sigma" in sens:
                parts.append(_figure(plot.morris_scatter(sens, o, lang=lang), f"fig-morris-{o}", f"Morris screening for {o}."))
        sections.append("<h2>Sensitivity</h2>" + "".join(parts))
    tor_file = directory / "tornado.csv"
    if tor_file.is_file():
        df = pd.read_csv(tor_file)
        units = str(df["units"].iloc[0]) if "units" in df else "persons"
        sections.append("<h2>One-at-a-time swings</h2>" + _figure(plot.tornado(df, units=units, lang=lang),
                                                                  "fig-tornado", "Tornado chart of one-at-a-time swings."))
    prim_file = directory / "prim.json"
    prim = json.loads(prim_file.read_text(encoding="utf-8")) if prim_file.is_file() else None
    if targets_file.is_file():
        answer = _read_json(targets_file, "targets.json of `sim targets`")
        sections.append(targets_section(answer))
        if prim is None:
            prim = answer.get("discovery")
    if prim and prim.get("boxes"):
        sections.append("<h2>Scenario discovery (PRIM)</h2>"
                        + _figure(plot.prim_box(prim, lang=lang), "fig-prim-box", "PRIM box: parameter ranges where the targets are met.")
                        + _figure(plot.peeling_trajectory(prim, lang=lang), "fig-prim-peeling", "PRIM peeling trajectory."))
    cal_file = Path(calibration) if calibration else directory / "calibration.nc"
    if cal_file.is_file():
        cal = plot.load_results(cal_file)
        sections.append("<h2>Calibration</h2>" + _figure(plot.calibration(cal, lang=lang), "fig-calibration",
                                                         "Simulated vs observed for every fitted series."))

    title = title or f"Changchun metropolitan area — scenario {name}"
    desc = ds.attrs.get("scenario_description", "")
    doc = f"""<!DOCTYPE html>
<html lang="{'zh' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title><style>{CSS}</style></head><body>
<h1>{_e(title)}</h1>
<p>{_e(desc)}</p>
<p class="meta">scenario sha256 {_e(s.get('scenario_sha256', ''))[:16]}… · simulator {_e(s.get('package_version', ''))} ·
generated {_dt.datetime.now().strftime('%Y-%m-%d %H:%M')} from {_e(directory)}</p>
<h2>Summary: plan-area parts and metro total</h2>
{summary_table(s)}
<h2>Target check</h2>
{targets_table(s['targets'], probabilities)}
{''.join(front)}
{''.join(sections)}
</body></html>
"""
    out = Path(output) if output is not None else directory / "report.html"
    write_bytes(out, doc.encode("utf-8"))
    return out




def _write_partial(directory: Path, output, front: list[str], targets_file: Path, title, gap_data, lang) -> Path:
    """The report of a directory without results.nc: the gap, targets and portfolio sections alone."""
    from . import plot
    sections = list(front)
    if targets_file.is_file():
        answer = _read_json(targets_file, "targets.json of `sim targets`")
        sections.append(targets_section(answer))
        prim = answer.get("discovery")
        if prim and prim.get("boxes"):
            sections.append(_figure(plot.prim_box(prim, lang=lang), "fig-prim-box",
                                    "PRIM box: parameter ranges where the targets are met."))
    name = gap_data["scenario"] if gap_data else directory.name
    title = title or f"Changchun metropolitan area — {name}"
    meta = (f"scenario sha256 {_e(gap_data.get('scenario_sha256', ''))[:16]}… · simulator "
            f"{_e(gap_data.get('package_version', ''))} · " if gap_data else "")
    doc = f"""<!DOCTYPE html>
<html lang="{'zh' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title><style>{CSS}</style></head><body>
<h1>{_e(title)}</h1>
<p class="meta">{meta}generated {_dt.datetime.now().strftime('%Y-%m-%d %H:%M')} from {_e(directory)}</p>
{''.join(sections)}
</body></html>
"""
    out = Path(output) if output is not None else directory / "report.html"
    write_bytes(out, doc.encode("utf-8"))
    return out
