"""A self-contained HTML report of one output directory: summary table, target check and every
relevant figure embedded as base64 PNG, readable offline and printable (print stylesheet).

Inputs looked for in the directory (all but results.nc optional):

* ``results.nc`` (required) and ``summary.json`` (recomputed from results.nc when missing);
* ``ensemble.nc`` — an ensemble with a leading ``run`` dim → fan charts and target probabilities;
* ``sensitivity.nc`` — Sobol (S1, S1_conf, ST, ST_conf) and/or Morris (mu_star, mu_star_conf, sigma)
  over dims (output, parameter[, time]);
* ``tornado.csv`` — columns parameter, low, high, base (optionally low_value, high_value, units);
* ``prim.json`` — {"boxes": [...], "peeling_trajectory": [...], "ranges": {...}};
* ``calibration.nc`` — dims (series, time), variables observed, simulated, coord units.
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


def build_report(directory, output=None, *, lang: str = "en", compare=None, title: str | None = None,
                 ensemble=None, sensitivity=None, targets=None, calibration=None) -> Path:
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
    if not res.is_file():
        raise FileNotFoundError(f"{res} not found (run `sim run SCENARIO -o {directory}` first)")
    ds = plot.load_results(res)
    sfile = directory / "summary.json"
    s = json.loads(sfile.read_text(encoding="utf-8")) if sfile.is_file() else make_summary(ds)
    name = ds.attrs.get("scenario_name", directory.name)
    figs: list[str] = []
    sections: list[str] = []

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
    targets_file = Path(targets) if targets else directory / "targets.json"
    prim = json.loads(prim_file.read_text(encoding="utf-8")) if prim_file.is_file() else None
    if prim is None and targets_file.is_file():
        prim = json.loads(targets_file.read_text(encoding="utf-8")).get("discovery")
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
{''.join(sections)}
</body></html>
"""
    out = Path(output) if output is not None else directory / "report.html"
    write_bytes(out, doc.encode("utf-8"))
    return out


