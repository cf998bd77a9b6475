"""The HTML report is parsed: summary values, target check, one embedded PNG per expected figure."""
import base64
import json
from html.parser import HTMLParser

import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402

from simulator import load_scenario, plot, run  # noqa: E402
from simulator.report import build_report  # noqa: E402
from simulator.results import write_outputs  # noqa: E402
from tests import plot_data  # noqa: E402


class Parsed(HTMLParser):
    def __init__(self):
        super().__init__()
        self.figures, self.imgs, self.tables, self.text, self._stack = [], [], {}, [], []
        self.links, self.styles = [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "figure":
            self.figures.append(a.get("id"))
        if tag == "img":
            self.imgs.append(a["src"])
        if tag == "table":
            self._stack.append(a.get("id"))
            self.tables[a.get("id")] = []
        if tag in ("link", "script") and (a.get("href") or a.get("src")):
            self.links.append(a)
        if tag == "style":
            self.styles += 1

    def handle_endtag(self, tag):
        if tag == "table":
            self._stack.pop()

    def handle_data(self, data):
        self.text.append(data)
        if self._stack and data.strip():
            self.tables[self._stack[-1]].append(data.strip())


@pytest.fixture(scope="module")
def outdir(tmp_path_factory):
    sc = load_scenario("scenarios/baseline.yaml")
    ds = run(sc)
    d = tmp_path_factory.mktemp("o") / "baseline"
    write_outputs(ds, d)
    return d, ds


def parse(path):
    p = Parsed()
    html = path.read_text(encoding="utf-8")
    p.feed(html)
    return p, html


def check_images(p):
    for src in p.imgs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(p.imgs) == len(p.figures)


def test_report_basic(outdir):
    d, ds = outdir
    out = build_report(d, d / "report.html")
    p, html = parse(out)
    assert p.figures == ["fig-trajectories", "fig-cities", "fig-decomposition", "fig-flows", "fig-pyramid"]
    check_images(p)
    assert not p.links                       # self-contained: nothing fetched
    assert "@media print" in html
    summary = json.loads((d / "summary.json").read_text())
    cells = p.tables["summary-table"]
    for row in summary["years"]:
        assert f"{row['metro_population'] / 1e4:,.1f}" in cells
        assert f"{row['population_CC_P'] / 1e4:,.1f}" in cells
        assert f"{row['metro_gdp_nominal'] / 1e8:,.0f}" in cells
    t = p.tables["targets-table"]
    pop = summary["targets"][0]
    assert f"{pop['simulated'] / 1e4:,.1f} 万人" in t and f"{pop['gap_percent']:+.1f}%" in t
    assert ("MET" if pop["met"] else "NOT MET") in t
    assert "1,300 万人" in t and "13,500 亿元" in t


def test_report_with_analysis_files(outdir, tmp_path):
    import shutil
    d, ds = outdir
    full = tmp_path / "full"
    shutil.copytree(d, full)
    ens = plot_data.ensemble(load_scenario("scenarios/baseline.yaml"), n=12)
    ens.to_netcdf(full / "ensemble.nc")
    plot_data.sensitivity().to_netcdf(full / "sensitivity.nc")
    plot_data.tornado_frame().to_csv(full / "tornado.csv", index=False)
    (full / "prim.json").write_text(json.dumps(plot_data.prim_result()))
    plot_data.calibration_dataset(ds).to_netcdf(full / "calibration.nc")
    out = build_report(full, compare=[d])
    p, html = parse(out)
    expected = {"fig-trajectories", "fig-cities", "fig-comparison", "fig-decomposition", "fig-flows", "fig-pyramid",
                "fig-fan-population", "fig-fan-gdp", "fig-sobol-metro_population", "fig-sobol-metro_gdp_nominal",
                "fig-morris-metro_population", "fig-morris-metro_gdp_nominal", "fig-tornado", "fig-prim-box",
                "fig-prim-peeling", "fig-calibration"}
    assert set(p.figures) == expected and len(p.figures) == len(expected)
    check_images(p)
    prob = plot.target_probability(ens, "metro_population")
    assert f"{100 * prob:.0f}%" in p.tables["targets-table"]
    assert "P(met), ensemble" in p.tables["targets-table"]


def test_report_missing_results(tmp_path):
    with pytest.raises(FileNotFoundError):
        build_report(tmp_path)
