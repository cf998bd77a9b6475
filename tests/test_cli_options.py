"""Issue 13: one option vocabulary, destinations that are never replaced silently, plausible ranges,
effective parameter values, reproducible ensembles and sensitivity indices."""
import json
import logging
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

from simulator.cli import main
from simulator.ensemble import load_sweep, run_sweep
from simulator.ensemble import runner as runner_mod

from .ensemble_helpers import write_sweep

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


# --- reproducibility ---------------------------------------------------------------------------
def test_default_chunk_size_does_not_depend_on_workers():
    for n in (1, 12, 499, 500, 501, 10_000):
        sizes = {runner_mod.chunk_size_for(n, workers=w) for w in (1, 2, 8, 64)}
        assert len(sizes) == 1, n


def test_results_identical_for_jobs_and_dask_with_default_chunking(tmp_path, monkeypatch):
    """No chunk_size in the sweep file: -j 1, -j 2 and a dask cluster give bit-identical ensembles.
    (A small default chunk makes the 12 members span several chunks, as 10,000 members span 500s.)"""
    monkeypatch.setattr(runner_mod, "DEFAULT_CHUNK", 5)
    path = write_sweep(tmp_path)
    doc = path.read_text().replace("chunk_size: 4\n", "")
    path.write_text(doc)
    sweep = load_sweep(path)
    assert sweep.chunk_size is None
    one = run_sweep(sweep, write=False, jobs=1)
    two = run_sweep(sweep, write=False, jobs=2)
    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        viadask = run_sweep(sweep, write=False, scheduler=client)
    assert one.chunk_size == two.chunk_size == viadask.chunk_size == 5
    for v in ("metro_population", "metro_gdp_nominal", "population", "failed"):
        np.testing.assert_array_equal(one.dataset[v].values, two.dataset[v].values)
        np.testing.assert_array_equal(one.dataset[v].values, viadask.dataset[v].values)


@pytest.fixture(scope="module")
def sobol_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sobol")
    path = write_sweep(tmp, name="sob", design={"method": "sobol", "samples": 4, "seed": 0},
                       outputs={"variables": ["metro_population", "metro_gdp_nominal"]})
    res = invoke("sweep", path, "-o", tmp / "ens", "--no-progress", "-q")
    assert res.exit_code == 0, res.output
    return tmp


def test_seed_zero_gives_identical_sobol_intervals(sobol_dir):
    from simulator.analysis.sensitivity import sobol_indices
    ds = xr.load_dataset(sobol_dir / "ens" / "ensemble.nc")
    assert ds.attrs["design_seed"] == 0
    with pytest.warns(Warning):
        a = sobol_indices(ds, ["metro_population"], [2030], seed=0)
    with pytest.warns(Warning):
        b = sobol_indices(ds, ["metro_population"], [2030], seed=0)
    np.testing.assert_array_equal(a["S1_conf"].values, b["S1_conf"].values)
    np.testing.assert_array_equal(a["ST_conf"].values, b["ST_conf"].values)
    with pytest.warns(Warning):
        c = sobol_indices(ds, ["metro_population"], [2030], seed=1)
    assert not np.array_equal(a["S1_conf"].values, c["S1_conf"].values)


def test_sensitivity_destination_rules(sobol_dir, monkeypatch):
    monkeypatch.chdir(sobol_dir)
    first = invoke("sensitivity", "ens", "-y", "2030")           # a directory stands for its ensemble.nc
    assert first.exit_code == 0, first.output
    out = sobol_dir / "outputs" / "sensitivity" / "sob" / "sensitivity.nc"
    assert out.is_file() and str(Path("outputs/sensitivity/sob/sensitivity.nc")) in first.output
    before = out.read_bytes()
    first_ds = xr.load_dataset(out)
    same = invoke("sensitivity", "ens/ensemble.nc", "-y", "2030")   # the same analysis: allowed, identical
    assert same.exit_code == 0, same.output
    xr.testing.assert_identical(xr.load_dataset(out), first_ds)
    other = invoke("sensitivity", "ens", "-y", "2029")            # a different analysis: refused
    assert other.exit_code == 2 and "--overwrite" in other.output and "-o DIR" in other.output
    assert out.read_bytes() == before
    elsewhere = invoke("sensitivity", "ens", "-y", "2029", "-o", "outputs/s2029")
    assert elsewhere.exit_code == 0 and (sobol_dir / "outputs" / "s2029" / "sensitivity.nc").is_file()
    forced = invoke("sensitivity", "ens", "-y", "2029", "--overwrite")
    assert forced.exit_code == 0 and "replaced" in forced.output
    assert out.read_bytes() != before


def test_sensitivity_of_a_non_sobol_ensemble_uses_given_data_methods(tmp_path):
    path = write_sweep(tmp_path)
    assert invoke("sweep", path, "-o", tmp_path / "lhs", "-q").exit_code == 0
    res = invoke("sensitivity", tmp_path / "lhs", "-o", tmp_path / "sens")       # LHS: delta, said so
    assert res.exit_code == 0 and "Borgonovo delta" in res.output and "'lhs' design" in res.output, res.output
    res = invoke("sensitivity", tmp_path / "lhs", "--method", "sobol", "-o", tmp_path / "sens2")
    assert res.exit_code == 2 and "sobol indices need an ensemble with design.method sobol" in res.output
    assert "Traceback" not in res.output and not (tmp_path / "sens2").exists()


def test_sweep_refuses_to_replace_a_different_ensemble(tmp_path):
    path = write_sweep(tmp_path)
    assert invoke("sweep", path, "-o", tmp_path / "e", "-q").exit_code == 0
    before = (tmp_path / "e" / "ensemble.nc").read_bytes()
    again = invoke("sweep", path, "-o", tmp_path / "e", "-q")      # same ensemble: reused
    assert again.exit_code == 0
    other = invoke("sweep", path, "-o", tmp_path / "e", "--seed", "99", "-q")
    assert other.exit_code == 2 and "--overwrite" in other.output
    assert (tmp_path / "e" / "ensemble.nc").read_bytes() == before


def test_targets_writes_to_its_own_directory_and_says_what_it_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write_sweep(tmp_path)
    res = invoke("targets", path, "--no-goal-seek", "--no-progress")
    assert res.exit_code == 0, res.output
    assert "sim targets will use (12 runs to integrate" in res.output
    assert res.stderr.index("will use") < res.stderr.index("on 1 local process")    # before the sweep starts
    out = tmp_path / "outputs" / "targets" / "small" / "targets.json"
    assert json.loads(out.read_text())["probabilities"]["runs"] == 12
    res = invoke("targets", "outputs/small", "--threshold", "0.5", "-o", "elsewhere")
    assert res.exit_code == 0 and (tmp_path / "elsewhere" / "targets.json").is_file()
    res = invoke("targets", "outputs/small", "--threshold", "0.5")
    assert res.exit_code == 2 and "--overwrite" in res.output


def test_unreachable_scheduler_is_named(tmp_path):
    import dask
    path = write_sweep(tmp_path)
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        res = invoke("sweep", path, "-o", tmp_path / "o", "--scheduler", "tcp://127.0.0.1:9", "-q")
    assert res.exit_code == 1
    assert "cannot connect to the dask scheduler tcp://127.0.0.1:9" in res.output
    assert "cannot write outputs" not in res.output


# --- plausible ranges ---------------------------------------------------------------------------
def slip(tmp_path, text="levers:\n  deflator_growth: 0.5\n"):
    f = tmp_path / "slip.yaml"
    f.write_text(f"name: slip\nextends: {BASELINE}\n" + text)
    return f


def test_validate_warns_about_a_unit_slip_naming_key_value_range_and_mistake(tmp_path):
    res = invoke("validate", slip(tmp_path))
    assert res.exit_code == 0
    assert "levers.deflator_growth = 0.5" in res.output
    assert "plausible range -0.08–0.2" in res.output
    assert "0.5 % is 0.005" in res.output
    res = invoke("validate", slip(tmp_path, "parameters:\n  ext_gross_inflow: 15\n"))
    assert "万" in res.output and "150000" in res.output


def test_run_flags_a_run_with_implausible_values(tmp_path):
    res = invoke("run", slip(tmp_path), "-o", tmp_path / "o")
    assert res.exit_code == 0, res.output
    assert "warning: slip: levers.deflator_growth = 0.5" in res.output
    assert "CAUTION: this run used values outside their plausible range (levers.deflator_growth)" in res.output
    with xr.open_dataset(tmp_path / "o" / "results.nc") as ds:
        flagged = json.loads(ds.attrs["implausible_values"])
    assert flagged[0]["key"] == "levers.deflator_growth" and flagged[0]["value"] == 0.5
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["implausible_values"][0]["key"] == "levers.deflator_growth"


def test_shipped_scenarios_are_plausible():
    from simulator import load_scenario
    from simulator.scenario.plausible import check_scenario
    files = sorted((ROOT / "scenarios").glob("*.yaml")) + sorted((ROOT / "calibration" / "fitted").glob("*.yaml"))
    for f in files:
        assert check_scenario(load_scenario(f)) == [], f


def test_plausible_ranges_lie_inside_the_hard_bounds():
    from simulator.model.levers import LEVERS
    from simulator.model.parameters import PARAMETERS
    from simulator.scenario import plausible
    for table, specs in ((plausible.PARAMETERS, PARAMETERS), (plausible.LEVERS, LEVERS)):
        for name, (lo, hi) in table.items():
            assert name in specs, name
            assert specs[name].lower <= lo < hi <= specs[name].upper, name


# --- run destination, params, logging -------------------------------------------------------------
def test_run_refuses_to_replace_results_of_another_scenario_text(tmp_path):
    out = tmp_path / "o"
    assert invoke("run", BASELINE, "-o", out, "-q").exit_code == 0
    assert invoke("run", BASELINE, "-o", out, "-q").exit_code == 0        # same scenario: fine
    res = invoke("run", slip(tmp_path), "-o", out, "-q")
    assert res.exit_code == 2 and "--overwrite" in res.output
    res = invoke("run", slip(tmp_path), "-o", out, "--overwrite")
    assert res.exit_code == 0 and "replaced the results of a different scenario text" in res.output


def test_params_scenario_shows_effective_values(monkeypatch):
    from simulator import load_scenario
    monkeypatch.chdir(ROOT)
    res = invoke("params", "--scenario", "scenarios/baseline.yaml")
    assert res.exit_code == 0, res.output
    sc = load_scenario(BASELINE)
    fitted = float(np.asarray(sc.parameters["income_weight"]).ravel()[0])
    line = next(l for l in res.output.splitlines() if l.strip().startswith("income_weight"))
    assert f"{fitted:g}" in line and "set by the scenario" in line
    assert "calibration/fitted/baseline.yaml → scenarios/baseline.yaml" in res.output
    assert "plan_area = CC_P, JL_P, SP_P, LY_P" in res.output
    assert "Travel time between nodes" in res.output
    assert str(ROOT) not in res.output                                    # paths inside the repository only
    tfr = next(l for l in res.output.splitlines() if l.strip().startswith("tfr "))
    assert "CC_P" in tfr                                                  # fitted TFR per node


def test_quiet_and_verbose_and_library_logging(tmp_path, caplog):
    res = invoke("run", BASELINE, "-o", tmp_path / "a", "-q")
    assert res.exit_code == 0 and res.output == ""
    res = invoke("validate", slip(tmp_path), "-q")
    assert "warning:" in res.output                                       # -q keeps warnings
    # library users capture the same messages with the standard logging machinery
    logger = logging.getLogger("simulator")
    logger.propagate = True
    for h in list(logger.handlers):
        logger.removeHandler(h)
    with caplog.at_level(logging.INFO, logger="simulator"):
        from simulator.cli import _plausibility_warnings
        from simulator import load_scenario
        _plausibility_warnings(load_scenario(slip(tmp_path)))
    assert any("deflator_growth" in r.getMessage() and r.name.startswith("simulator.") for r in caplog.records)


def test_plot_old_option_spelling_is_a_deprecated_alias(sobol_dir, tmp_path):
    sens = invoke("sensitivity", sobol_dir / "ens", "-y", "2030", "-o", tmp_path / "s", "-q")
    assert sens.exit_code == 0, sens.output
    res = invoke("plot", tmp_path / "s", "--kind", "sobol", "--output-name", "metro_population",
                 "-o", tmp_path / "s.png")
    assert res.exit_code == 0 and "deprecated" in res.output and (tmp_path / "s.png").is_file()


def test_analysis_outputs_have_the_usual_file_mode(tmp_path):
    """ensemble.nc, sensitivity.nc and targets.json go through simulator.atomic: 0644 under umask 022.
    (results.* of `sim run` get the same mode from the write_outputs change on the hostile-input branch.)"""
    import os
    import stat
    old = os.umask(0o022)
    try:
        path = write_sweep(tmp_path, design={"method": "sobol", "samples": 2, "seed": 0})
        assert invoke("sweep", path, "-o", tmp_path / "e", "-q").exit_code == 0
        assert invoke("sensitivity", tmp_path / "e", "-o", tmp_path / "s", "-q").exit_code == 0
        assert invoke("targets", tmp_path / "e", "-o", tmp_path / "t", "-q").exit_code == 0
    finally:
        os.umask(old)
    for f in (tmp_path / "e" / "ensemble.nc", tmp_path / "s" / "sensitivity.nc", tmp_path / "t" / "targets.json"):
        assert stat.S_IMODE(f.stat().st_mode) == 0o644, f


def test_tornado_from_a_sweep_file(tmp_path):
    from simulator.analysis.sensitivity import one_at_a_time
    path = write_sweep(tmp_path)
    df = one_at_a_time(load_sweep(path), "metro_gdp_nominal")
    assert len(df) == 4 and (df["base"] == df["base"].iloc[0]).all() and df.attrs["year"] == 2030
    tfp = df.set_index("parameter").loc["tfp_growth"]
    assert tfp["high"] > tfp["base"] > tfp["low"]                  # faster TFP growth, larger GDP
    res = invoke("plot", path, "--kind", "tornado", "--variable", "metro_gdp_nominal", "-o", tmp_path / "t.png")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "t.png").stat().st_size > 10_000


def test_destination_is_checked_before_any_sweep_runs(tmp_path, monkeypatch):
    """A refused analysis costs nothing: the sweep of a different sample size is not integrated first."""
    from simulator.ensemble import sweep as sweep_mod
    monkeypatch.chdir(tmp_path)
    path = write_sweep(tmp_path, design={"method": "sobol", "samples": 2, "seed": 0})
    assert invoke("sensitivity", path, "-q").exit_code == 0
    assert invoke("targets", path, "--no-goal-seek", "-q").exit_code == 0
    calls = []
    monkeypatch.setattr(sweep_mod, "run_sweep", lambda *a, **k: calls.append(a))
    import simulator.ensemble as ens
    monkeypatch.setattr(ens, "run_sweep", lambda *a, **k: calls.append(a))
    res = invoke("sensitivity", path, "-n", "4")
    assert res.exit_code == 2 and "--overwrite" in res.output and calls == []
    res = invoke("targets", path, "-n", "4", "--no-goal-seek")
    assert res.exit_code == 2 and "--overwrite" in res.output and calls == []
    (tmp_path / "l").mkdir()
    lhs = write_sweep(tmp_path / "l")
    res = invoke("sensitivity", lhs, "--method", "morris")      # an LHS sweep: refused before running it
    assert res.exit_code == 2 and "morris indices need" in res.output and calls == []


def test_sweep_analysis_block_writes_where_sensitivity_does(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write_sweep(tmp_path, name="sob2", design={"method": "sobol", "samples": 2, "seed": 0},
                       analysis={"sensitivity": {"outputs": ["metro_population"], "years": [2030]}})
    res = invoke("sweep", path, "-q")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "outputs" / "sob2" / "ensemble.nc").is_file()
    assert (tmp_path / "outputs" / "sensitivity" / "sob2" / "sensitivity.nc").is_file()
    again = invoke("sensitivity", path, "-q")                     # the same analysis: allowed
    assert again.exit_code == 0, again.output
