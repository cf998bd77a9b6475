"""`sim calibrate` writes to outputs/calibration/<name>/ and touches calibration/fitted/ only with --install.

The fit itself is replaced by a stub at the prior mean (the real fit takes minutes; tests/test_fitting.py
checks the estimator); everything else — configuration, destination rules, report, fitted set — is real.
"""
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from simulator.cli import main

ROOT = Path(__file__).resolve().parents[1]


def stub_fit(cfg, scenario, until=None, seed=None, starts=None, observations=None, progress=lambda m: None):
    from simulator.fitting.fit import FitResult, Problem
    problem = Problem(cfg, scenario, observations, until)
    n = len(problem.free)
    for stage in cfg.stages:
        progress(f"stage {stage.name} (stub)")
    progress("joint fit (stub)")
    theta = problem.prior_mean.clip(problem.lo, problem.hi)
    return FitResult(names=[f.name for f in problem.free], estimate=theta, sd=problem.prior_sd.copy(),
                     sd_data=np.full(n, np.inf), correlation=np.eye(n), identified=np.zeros(n, bool), cost=0.0,
                     nfev=0, n_evaluations=0, converged=True, message="stub", wall_seconds=0.0), problem


@pytest.fixture
def calib_dir(tmp_path, monkeypatch):
    """A copy of calibration/ (so that --install cannot touch the repository) and the stub fit."""
    import simulator.fitting as fitting
    monkeypatch.setattr(fitting, "fit", stub_fit)
    shutil.copytree(ROOT / "calibration", tmp_path / "calibration",
                    ignore=shutil.ignore_patterns("data"))
    (tmp_path / "calibration" / "data").symlink_to(ROOT / "calibration" / "data")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_calibrate_writes_only_outputs_without_install(calib_dir):
    fitted = calib_dir / "calibration" / "fitted"
    before = {p.name: p.read_bytes() for p in fitted.iterdir()}
    res = CliRunner().invoke(main, ["calibrate", "calibration/baseline.yaml"])
    assert res.exit_code == 0, res.output
    assert {p.name: p.read_bytes() for p in fitted.iterdir()} == before
    out = calib_dir / "outputs" / "calibration" / "baseline"
    for name in ("report.json", "fit.nc", "parameters.csv", "baseline.yaml", "baseline_history.yaml"):
        assert (out / name).is_file(), name
        assert str(Path("outputs/calibration/baseline") / name) in res.output
    assert "calibration/fitted/ is unchanged (add --install" in res.output
    # the written history scenario loads (its extends path is relative to its own directory)
    from simulator import load_scenario
    load_scenario(out / "baseline_history.yaml")


def test_calibrate_install_needs_overwrite_and_names_both_files(calib_dir):
    fitted = calib_dir / "calibration" / "fitted"
    before = (fitted / "baseline.yaml").read_bytes()
    res = CliRunner().invoke(main, ["calibrate", "calibration/baseline.yaml", "--install"])
    assert res.exit_code == 2 and "--overwrite" in res.output and "baseline_history.yaml" in res.output
    assert (fitted / "baseline.yaml").read_bytes() == before
    res = CliRunner().invoke(main, ["calibrate", "calibration/baseline.yaml", "--install", "--overwrite"])
    assert res.exit_code == 0, res.output
    assert "installed the fitted set" in res.output
    assert "fitted/baseline.yaml" in res.output and "fitted/baseline_history.yaml" in res.output
    assert (fitted / "baseline.yaml").read_bytes() != before


def test_calibrate_backtest_is_never_installed(calib_dir):
    res = CliRunner().invoke(main, ["calibrate", "calibration/baseline.yaml", "--until", "2022", "--install"])
    assert res.exit_code == 2 and "backtest" in res.output


def test_calibrate_refuses_to_replace_a_different_report(calib_dir):
    assert CliRunner().invoke(main, ["calibrate", "calibration/baseline.yaml"]).exit_code == 0
    again = CliRunner().invoke(main, ["calibrate", "calibration/baseline.yaml"])     # same analysis: fine
    assert again.exit_code == 0, again.output
    other = CliRunner().invoke(main, ["calibrate", "calibration/baseline.yaml", "--seed", "9"])
    assert other.exit_code == 2 and "--overwrite" in other.output and "-o DIR" in other.output
    assert CliRunner().invoke(main, ["calibrate", "calibration/baseline.yaml", "--seed", "9",
                                     "--overwrite"]).exit_code == 0
