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


@pytest.fixture(scope="module")
def baseline_numbers():
    """The baseline run once for this module: the start scenario's numbers where the start is the baseline,
    the baseline's where it is drawn beside another scenario."""
    from simulator.explorer.state import numbers_from, run_cancellable
    from simulator.scenario import load_scenario
    sc = load_scenario(BASELINE)
    return numbers_from(run_cancellable(sc), sc.start)


def test_lever_change_to_saved_scenario_reproduces_the_numbers(tmp_path, monkeypatch, baseline_numbers):
    monkeypatch.chdir(ROOT)
    ex = Explorer("scenarios/baseline.yaml", tmp_path / "saved", reference=baseline_numbers)
    assert ex.baseline is None and ex.baseline_scenario is None     # the start scenario is the baseline
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
    ex = Explorer("scenarios/plan.yaml", tmp_path, reference=False, baseline=False)
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


def test_app_outside_a_server_redraws_and_reports_errors(tmp_path, monkeypatch, baseline_numbers):
    """The notebook path (no server session): a change runs and redraws; a refused value keeps the picture."""
    pytest.importorskip("panel", reason="panel is in the test extra: pip install -e '.[test]'")
    monkeypatch.chdir(ROOT)
    from simulator import explore
    from simulator.explorer.app import ExplorerApp
    assert callable(explore) and explore.__module__ == "simulator.explorer"
    app = ExplorerApp("scenarios/baseline.yaml", tmp_path, reference=baseline_numbers)
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


def test_baseline_drawn_beside_a_policy_scenario_and_computed_once(tmp_path, monkeypatch, baseline_numbers):
    """Starting from the plan, the baseline is run once when the explorer starts, never per lever move;
    starting from the baseline it is not drawn twice. (Model runs replaced by a stub: this is the state logic.)"""
    from dataclasses import replace

    from simulator.explorer import state
    monkeypatch.chdir(ROOT)
    runs = []
    monkeypatch.setattr(state, "run_cancellable", lambda sc, cancelled=lambda: False: runs.append(sc.name) or sc)
    monkeypatch.setattr(state, "numbers_from", lambda sc, start: replace(baseline_numbers))
    ex = Explorer("scenarios/plan.yaml", tmp_path, reference=False)
    assert runs == ["baseline"] and ex.baseline_scenario.name == "baseline" and ex.baseline is not None
    assert ex.baseline_file.resolve() == BASELINE
    drawn = ex.baseline
    ex.set("graduates_retained.JL_P", 5000)
    ex.compute()
    ex.set("graduates_retained.JL_P", 6000)
    ex.compute()
    assert runs == ["baseline", "plan_explore", "plan_explore"] and ex.baseline is drawn     # not per move
    shared = Explorer("scenarios/plan.yaml", tmp_path, reference=False, baseline=drawn)   # a server's next session
    assert shared.baseline is drawn and runs == ["baseline", "plan_explore", "plan_explore"]
    assert Explorer("scenarios/plan.yaml", tmp_path, reference=False, baseline=False).baseline is None
    assert Explorer("scenarios/baseline.yaml", tmp_path, reference=False).baseline is None    # start = baseline
    assert len(runs) == 3


def _ensemble(path: Path, runs: int = 20, failed=(3, 7), scenario_text: str | None = None, years=range(2020, 2036)):
    """A small ensemble.nc shaped like `sim sweep`'s (dims run, time; failed members NaN), no model run."""
    import numpy as np
    import xarray as xr

    from simulator.scenario import load_scenario
    years = np.array(list(years))
    k = np.arange(runs)[:, None]
    pop = 1.15e7 + 1e4 * k * (years[None, :] - 2019)              # member k grows by k·10^4 a year
    gdp = 9e11 * (1.03 + 0.001 * k) ** (years[None, :] - 2020)
    bad = np.zeros(runs, dtype="int8")
    bad[list(failed)] = 1
    pop[bad == 1], gdp[bad == 1] = np.nan, np.nan
    ds = xr.Dataset({"metro_population": (("run", "time"), pop), "metro_gdp_nominal": (("run", "time"), gdp),
                     "failed": ("run", bad)}, coords={"run": np.arange(runs), "time": years, "factor": ["tfr"]})
    ds.attrs.update(sweep_name="uncertainty", scenario_name="baseline",
                    scenario_text=load_scenario(BASELINE).text if scenario_text is None else scenario_text)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.to_netcdf(path)
    return pop, gdp, years, bad


def test_band_from_an_ensemble_file(tmp_path, monkeypatch):
    import numpy as np
    monkeypatch.chdir(ROOT)
    out = tmp_path / "out"                                  # the explorer's output directory: may be read
    pop, gdp, years, bad = _ensemble(out / "uncertainty" / "ensemble.nc")
    ex = Explorer("scenarios/baseline.yaml", out, reference=False, band=out / "uncertainty")   # the directory
    b = ex.band
    keep = years >= 2024
    assert list(b.years) == list(range(2024, 2036)) and b.members == 18 and b.runs == 20
    assert np.array_equal(b.population[0], np.quantile(pop[bad == 0][:, keep], 0.05, axis=0))
    assert np.array_equal(b.gdp[1], np.quantile(gdp[bad == 0][:, keep], 0.95, axis=0))
    assert b.at(2030)["population"] == (float(b.population[0][6]), float(b.population[1][6]))
    assert ex.band_owner() == "start"
    label = ex.band_label()
    assert label.startswith("baseline 90 % band") and "18 members of 20" in label and "sweep uncertainty" in label
    assert "only 18 members: the 5 % and 95 % quantiles are rough" in label
    assert str(out / "uncertainty" / "ensemble.nc") in label
    plan = Explorer("scenarios/plan.yaml", out, reference=False, baseline=False, band=b)
    assert plan.band is b and plan.band_owner() == "other"                  # no baseline loaded to match
    _ensemble(out / "old.nc", scenario_text="# an older baseline\nname: baseline\n")
    old = Explorer("scenarios/baseline.yaml", out, reference=False, band=out / "old.nc")
    assert old.band_owner() == "changed" and "differs from baseline as loaded now" in old.band_label()


def test_bad_band_files_give_messages(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    _ensemble(elsewhere / "ensemble.nc")
    _ensemble(out / "few.nc", runs=6, failed=(1, 2))
    (out / "results.nc").write_bytes(b"")
    import xarray as xr
    xr.Dataset({"metro_population": ("time", [1.0, 2.0])}, coords={"time": [2024, 2025]}).to_netcdf(out / "run.nc")
    (out / "text.nc").write_text("not netcdf\n")
    (out / "empty").mkdir()
    cases = {elsewhere / "ensemble.nc": "only files inside the project or its output directory",
             out / "missing.nc": "no such file",
             out / "empty": "a directory without ensemble.nc",
             out / "text.nc": "not a NetCDF file",
             out / "results.nc": "not a NetCDF file",
             out / "run.nc": "not an ensemble (dimensions time; no metro_gdp_nominal)",
             out / "few.nc": "4 of 6 members ran; a 5–95 % band needs at least 5",
             ROOT / "sweeps" / "uncertainty.yaml": "a YAML file, not an ensemble result"}
    for path, why in cases.items():
        with pytest.raises(ExploreError) as err:
            Explorer("scenarios/baseline.yaml", out, reference=False, band=path)
        msg = str(err.value)
        assert msg.startswith(f"band file {path}") and why in msg, msg
        assert "expected an ensemble.nc" in msg or path.parent == elsewhere, msg
    res = CliRunner().invoke(main, ["explore", "--check", "-o", str(out), "--band", str(out / "text.nc")])
    assert res.exit_code == 2 and "not a NetCDF file" in res.output and "Traceback" not in res.output
    pytest.importorskip("panel", reason="panel is in the test extra: pip install -e '.[test]'")
    from simulator import explore
    alert = explore("scenarios/baseline.yaml", out, band=out / "run.nc")    # the notebook: a message, no traceback
    assert type(alert).__name__ == "Alert" and "not an ensemble" in alert.object


def test_app_draws_baseline_and_band_labelled(tmp_path, monkeypatch, baseline_numbers):
    """The plan's page: start, baseline and band each drawn and labelled (numbers from the stub runs above)."""
    pytest.importorskip("panel", reason="panel is in the test extra: pip install -e '.[test]'")
    from dataclasses import replace

    from simulator.explorer import state
    from simulator.explorer.app import ExplorerApp
    monkeypatch.chdir(ROOT)
    _ensemble(tmp_path / "ensemble.nc")
    monkeypatch.setattr(state, "run_cancellable", lambda sc, cancelled=lambda: False: sc)
    monkeypatch.setattr(state, "numbers_from", lambda sc, start: replace(baseline_numbers))
    app = ExplorerApp("scenarios/plan.yaml", tmp_path, band=tmp_path / "ensemble.nc")
    legends = {item.label["value"] for item in app.pop_fig.legend.items}
    assert legends == {"current setting", "start: plan", "baseline: baseline", "2030 target",
                       "baseline 90 % band (18 runs)"}
    assert len(app.base_src.data["pop"]) == 12 and len(app.band_src.data["pop_lo"]) == 12
    assert "<th align=left>baseline</th>" in app.check.object
    note = app._band_note().object
    assert "shaded: baseline 90 % band" in note and "in 2030: population" in note and "ensemble.nc" in note
