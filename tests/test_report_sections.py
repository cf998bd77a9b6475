"""`sim report` sections for gap.json (`sim gap`), targets.json (`sim targets`) and portfolio.json
(`sim optimize`): each is shown when its file is there, the report works without any of them, and a directory
holding only one of them gives a report of it. Small hand-made files; one decomposition run for gap.json."""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator.cli import main

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"

TARGETS = {
    "uncertainty_sweep": "uncertainty", "levers_sweep": "levers",
    "factor_info": {"tfp_growth[plan_area]": {"target": "tfp_growth", "apply": "value", "units": "1/yr"}},
    "probabilities": {"year": 2030, "runs": 10, "runs_used": 10, "failed": 0, "confidence_level": 0.95,
                      "targets": {"population": {"probability": 0.0, "interval": [0.0, 0.28], "met": 0},
                                  "gdp_nominal": {"probability": 0.3, "interval": [0.1, 0.6], "met": 3},
                                  "both": {"probability": 0.0, "interval": [0.0, 0.28], "met": 0}}},
    "required_lever_values": [{"lever": "tfp_growth[plan_area]", "target": "gdp_nominal", "status": "reachable",
                               "value": 0.0386, "met_when": ">=", "apply": "value", "range": [0.0, 0.06],
                               "baseline": 0.0256, "message": "met for values ≥ 0.0386"}],
    "discovery": {"n_points": 10, "n_of_interest": 4,
                  "peeling_trajectory": [{"coverage": 1.0, "density": 0.4, "mass": 1.0, "n_restricted": 0},
                                         {"coverage": 0.75, "density": 0.8, "mass": 0.4, "n_restricted": 1}],
                  "boxes": [{"limits": {"tfp_growth[plan_area]": [0.035, 0.06]}, "coverage": 0.75,
                             "density": 0.8, "mass": 0.4}]},
}
PORTFOLIO = {
    "objectives": ["population_2030", "fiscal_cost"],
    "levers": {"talent_bonus": {"units": "1"}, "tfp_growth": {"units": "1/yr"}},
    "named": {"cheapest_population": {"description": "Lowest cost that reaches 1300万",
                                      "levers": {"talent_bonus": 0.7, "tfp_growth": 0.03},
                                      "objectives": {"population_2030": 13012345.0, "fiscal_cost": 4.2e9}}},
    "front_size": 17,
}
REQUIREMENTS = {
    "extra_net_migration": {"status": "reachable", "value": 274891.0, "from_year": 2025, "range": [0, 1e6],
                            "age_profile": {"units": "persons/yr", "by_age": {"20-24": 100000.0, "25-29": 50000.0,
                                                                             "40-44": 124891.0}},
                            "realized": {"offset_by_response": 20000.0}},
    "tfp_growth": [{"status": "reachable", "value": 0.0386, "inflation": "the scenario's path",
                    "deflator_growth": 0.005, "baseline": {"CC_P": 0.0256}, "from_year": 2025, "range": [-0.2, 0.3]}],
    "tfr": {"status": "not_reachable", "value": None, "value_at_bound": 5.0, "achieved_at_bound": 1.25e7,
            "bounds": [0, 5], "baseline": {"CC_P": 0.57}, "from_year": 2025},
}


@pytest.fixture(scope="module")
def baseline_outputs(tmp_path_factory, baseline_ds):
    from simulator.results import write_outputs
    d = tmp_path_factory.mktemp("baseline")
    write_outputs(baseline_ds, d)
    return d


@pytest.fixture(scope="module")
def gap_json(tmp_path_factory):
    from simulator.analysis.gap import gap_analysis
    from simulator.scenario import load_scenario
    r = gap_analysis(load_scenario(BASELINE), requirements=False, record=False)
    r["requirements"] = REQUIREMENTS
    r["record"] = {"province_net_interprovincial": {"2022": -180700.0, "2023": 43400.0, "2024": -108000.0},
                   "best_observed": {"year": 2023, "value": 43400.0}}
    return json.loads(json.dumps(r))


def _text(path: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8")))


def test_report_of_a_gap_directory_alone(tmp_path, gap_json):
    d = tmp_path / "gap"
    d.mkdir()
    (d / "gap.json").write_text(json.dumps(gap_json), encoding="utf-8")
    r = CliRunner().invoke(main, ["report", str(d), "-o", str(tmp_path / "r.html")])
    assert r.exit_code == 0, r.output
    doc = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'id="gap-paragraph"' in doc and "id='gap-population'" in doc and "id='gap-gdp'" in doc
    assert 'id="fig-gap"' in doc
    text = _text(tmp_path / "r.html")
    assert "would need about 27.5 万" in text and "6 times the best year on record" in text
    assert "TFP growth of 3.86 %/yr" in text
    assert "not reachable with any TFR" in text and "at TFR 5 the metro reaches 1250.0 万" in text
    simulated = gap_json["simulated"]["population"]
    assert f"{simulated / 1e4:,.1f}" in text       # the simulated 2030 population in the table (from the installed fit)


def test_report_shows_targets_and_portfolio_tables_next_to_a_run(tmp_path, baseline_outputs):
    d = tmp_path / "run"
    d.mkdir()
    for name in ("results.nc", "summary.json"):
        (d / name).write_bytes((baseline_outputs / name).read_bytes())
    (d / "targets.json").write_text(json.dumps(TARGETS), encoding="utf-8")
    (d / "portfolio.json").write_text(json.dumps(PORTFOLIO), encoding="utf-8")
    r = CliRunner().invoke(main, ["report", str(d), "-o", str(tmp_path / "r.html")])
    assert r.exit_code == 0, r.output
    doc = (tmp_path / "r.html").read_text(encoding="utf-8")
    for table in ("targets-probabilities", "targets-goal-seek", "targets-prim", "portfolio-table", "summary-table"):
        assert f"id='{table}'" in doc or f'id="{table}"' in doc, table
    text = _text(tmp_path / "r.html")
    assert "at least 3.86 %/yr" in text                         # goal seek, not only P(met)
    assert "3.50 %/yr ≤ TFP growth" in text and "75%" in text   # the PRIM box and its coverage
    assert "cheapest_population" in text and "Lowest cost that reaches 1300万" in text and "1.301e+07" in text
    assert "gap-paragraph" not in doc                           # no gap.json: no gap section


def test_report_without_any_answer_file_is_unchanged(tmp_path, baseline_outputs):
    r = CliRunner().invoke(main, ["report", str(baseline_outputs), "-o", str(tmp_path / "r.html")])
    assert r.exit_code == 0, r.output
    doc = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "summary-table" in doc and "gap-paragraph" not in doc and "portfolio-table" not in doc


@pytest.mark.parametrize("content, fragment", [("{not json", "cannot read as JSON"), ("[1, 2]", "expected a JSON object")])
def test_broken_answer_file_is_a_clear_error(tmp_path, content, fragment):
    d = tmp_path / "d"
    d.mkdir()
    (d / "portfolio.json").write_text(content, encoding="utf-8")
    r = CliRunner().invoke(main, ["report", str(d), "-o", str(tmp_path / "r.html")])
    assert r.exit_code == 2 and fragment in r.output and "Traceback" not in r.output
    assert not (tmp_path / "r.html").exists()


def test_empty_directory_names_what_is_missing(tmp_path):
    r = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert r.exit_code == 2 and "results.nc" in r.output and "gap.json" in r.output
