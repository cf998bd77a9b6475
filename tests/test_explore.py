"""The explorer's state logic without a browser: control values → scenario file → numbers (issue #16)."""
from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from simulator.cli import main
from simulator.explorer.state import Explorer, ExploreError, LatestRunner, Superseded

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"


def test_lever_change_to_saved_scenario_reproduces_the_numbers(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    ex = Explorer("scenarios/baseline.yaml", tmp_path / "saved")
    ex.set("graduates_retained.JL_P", 10000)
    ex.set("tfp_growth.CC_P", 3.0)                 # %/yr
    ex.set("rail.CC_P-JL_P.minutes", 45)
    ex.set("hukou.CC_P", ["rental_settlement"])
    numbers = ex.compute()
    before, after = ex.reference.target("population"), numbers.target("population")
    assert after["simulated"] > before["simulated"]           # more graduates retained, more people
    assert numbers.years[0] == 2024 and numbers.years[-1] == 2035

    path = ex.save("my_plan")
    assert path == tmp_path / "saved" / "my_plan.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Written by `sim explore`") and "# 3 %/yr from 2025" in text
    doc = yaml.safe_load(text)
    assert not Path(doc["extends"]).is_absolute() and (path.parent / doc["extends"]).resolve() == BASELINE
    assert set(doc) == {"name", "description", "extends", "policies", "levers"}
    assert set(doc["levers"]) == {"tfp_growth"} and set(doc["levers"]["tfp_growth"]) == {"CC_P"}
    assert set(doc["policies"]) == {"rail", "hukou", "graduates_retained"}
    assert ex.save("my_plan") == tmp_path / "saved" / "my_plan_2.yaml"      # never replaces a file

    res = CliRunner().invoke(main, ["validate", str(path)])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(main, ["run", str(path), "-o", str(tmp_path / "run"), "-q"])
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    shown = {t["target"]: t["simulated"] for t in numbers.targets}
    assert {t["target"]: t["simulated"] for t in summary["targets"]} == shown      # exactly, not approximately
    row = next(r for r in summary["years"] if r["year"] == 2035)
    assert row["metro_population"] == float(numbers.population[-1])
    assert row["population_JL_P"] == float(numbers.part_population["JL_P"][-1])


def test_unchanged_setting_is_the_start_scenario(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    ex = Explorer("scenarios/plan.yaml", tmp_path, reference=False)
    assert set(ex.document()) == {"name", "description", "extends"}
    assert "rental_settlement" not in ex.hukou_options("CC_P")      # plan removed it already: not offered again
    assert ex.defaults["rail.CC_P-SP_P.minutes"] == 45.0 and ex.defaults["rail.CC_P-SP_P.opens"] == 2028.5
    ex.set("graduates_retained.CC_P", 5000)
    ex.set("deflator_growth.all", 1.0)
    assert set(ex.document()) == {"name", "description", "extends", "policies", "levers"}
    ex.reset("graduates_retained")
    assert "policies" not in ex.document()
    ex.reset()
    assert set(ex.document()) == {"name", "description", "extends"}
    sc = ex.scenario()
    assert sc.levers["tfp_growth"].to_dict() == ex.start.levers["tfp_growth"].to_dict()


def test_bad_values_give_messages_and_keep_the_last_picture(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    ex = Explorer("scenarios/baseline.yaml", tmp_path, reference=False)
    with pytest.raises(ExploreError, match="not a number"):
        ex.set("graduates_retained.JL_P", "many")
    with pytest.raises(ExploreError, match="already removed|cannot remove"):
        ex.set("hukou.CC_P", ["no_such_condition"])
    with pytest.raises(ExploreError, match="unknown control"):
        ex.set("nonsense.CC_P", 1)
    ex.set("tfp_growth.CC_P", 50.0)                # 0.5/yr: beyond the hard bound, the loader refuses it
    with pytest.raises(ExploreError, match="tfp_growth"):
        ex.compute()
    assert ex.last_good is None                    # nothing ran: the app keeps drawing what it had
    ex.set("tfp_growth.CC_P", 2.0)

    from simulator.explorer import state
    from simulator.solve import SolverError

    def failing(*args, **kwargs):
        raise SolverError("integration failed on segment [2025, 2026]: step size too small")
    monkeypatch.setattr(state, "run_cancellable", failing)
    with pytest.raises(ExploreError, match="cannot be integrated: integration failed"):
        ex.compute()
    with pytest.raises(ExploreError, match="scenario name"):
        ex.save("../escape")
    assert list(tmp_path.iterdir()) == []


def test_only_project_scenarios_are_read(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    outside = tmp_path / "x.yaml"
    outside.write_text("extends: baseline.yaml\n")
    with pytest.raises(ExploreError, match="inside the project"):
        Explorer(outside, tmp_path, reference=False)
    with pytest.raises(ExploreError, match="not a scenario file"):
        Explorer("README.md", tmp_path, reference=False)


def test_runner_supersedes_instead_of_queueing():
    runner = LatestRunner()
    started, release = threading.Event(), threading.Event()

    def slow(cancelled):
        started.set()
        while not cancelled():
            time.sleep(0.005)
        raise Superseded()

    first = runner.submit(slow)
    assert started.wait(5)
    second = runner.submit(lambda cancelled: release.wait(5) and "second")
    third = runner.submit(lambda cancelled: "third")         # replaces the waiting second: never queued
    release.set()
    with pytest.raises(Superseded):
        first.result(5)
    with pytest.raises(Superseded):
        second.result(5)
    assert third.result(5) == "third"
    runner.close()
    runner._thread.join(5)
    assert not runner._thread.is_alive()


def test_explore_without_panel_prints_an_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "panel", None)
    res = CliRunner().invoke(main, ["explore", "--check"])
    assert res.exit_code == 2
    assert "pip install" in res.output and "explore" in res.output and "Traceback" not in res.output


def test_app_outside_a_server_redraws_and_reports_errors(tmp_path, monkeypatch):
    """The notebook path (no server session): a change runs and redraws; a refused value keeps the picture."""
    pytest.importorskip("panel", reason="panel is in the test extra: pip install -e '.[test]'")
    monkeypatch.chdir(ROOT)
    from simulator import explore
    from simulator.explorer.app import ExplorerApp
    assert callable(explore) and explore.__module__ == "simulator.explorer"
    app = ExplorerApp("scenarios/baseline.yaml", tmp_path)
    before = app.check.object
    app.widgets["extra_net_migration.CC_P"].value = 20000
    deadline = time.monotonic() + 60
    while app.check.object == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert app.check.object != before and "now-population" in app.check.object
    drawn = app.check.object
    app._changed("tfp_growth.JL_P", 40.0)    # beyond the hard bound (0.3/yr; the widget itself refuses it too)
    deadline = time.monotonic() + 30
    while "data-state='error'" not in app.status.object and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "tfp_growth" in app.status.object and "Traceback" not in app.status.object
    assert app.check.object == drawn                           # the last good picture stays
    app._save()                                                # an invalid setting is not written
    assert "not saved" in app.saved.object and "tfp_growth" in app.saved.object and not list(tmp_path.iterdir())
    app._reset("tfp_growth")
    app._save()
    assert "saved" in app.saved.object and (tmp_path / "baseline_explore.yaml").is_file()
