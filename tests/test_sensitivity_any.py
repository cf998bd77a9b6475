"""Sensitivity on any ensemble: moment-independent indices (delta, PAWN) and RBD-FAST for LHS/random
designs, the method chosen from the design (and stated), --method, reproducible intervals with --seed."""
import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

from simulator.analysis.sensitivity import (check_method, design_dataset, method_for_design, ranked_table,
                                            sensitivity, sobol_indices)
from simulator.cli_ensemble import sensitivity_cmd
from simulator.ensemble.spec import FactorSpec

PI = np.pi


def uniform_factors(k, lo=0.0, hi=1.0):
    return [FactorSpec(f"x{i}", "parameter", f"x{i}", (), "value", None, "uniform", {"lower": lo, "upper": hi})
            for i in range(1, k + 1)]


def linear(ds):
    """Known ordering: x1 (weight 4) > x2 (2) > x3 (1) > x4 (no effect)."""
    return 4 * ds.x1.values + 2 * ds.x2.values + 1 * ds.x3.values + 0 * ds.x4.values


def ishigami(ds):
    x1, x2, x3 = (ds[f"x{i}"].values for i in (1, 2, 3))
    return np.sin(x1) + 7 * np.sin(x2) ** 2 + 0.1 * x3 ** 4 * np.sin(x1)


@pytest.fixture(scope="module")
def lhs_linear():
    ds = design_dataset(uniform_factors(4), "lhs", 1000, seed=1)
    ds["y"] = ("run", linear(ds))
    return ds


@pytest.mark.parametrize("method,key", [("delta", "delta"), ("pawn", "PAWN"), ("rbd_fast", "S1")])
def test_given_data_methods_rank_a_linear_function(lhs_linear, method, key):
    res = sensitivity(lhs_linear, ["y"], method=method, resamples=20, seed=3)
    assert res.attrs["method"] == method and {key, f"{key}_conf"} <= set(res.data_vars)
    table = ranked_table(res, "y")
    v = res[key].sel(output="y").to_series()
    assert list(table.index[:2]) == ["x1", "x2"]
    assert v["x1"] > v["x2"] > v["x4"] and v["x2"] > v["x3"]
    if method != "delta":            # delta's estimator is biased upwards for an inert input at this size
        assert v["x3"] > v["x4"]
    assert (res[f"{key}_conf"].values > 0).all()


def test_rbd_fast_and_delta_on_ishigami_random_design():
    ds = design_dataset(uniform_factors(3, -PI, PI), "random", 1500, seed=2)
    ds["y"] = ("run", ishigami(ds))
    s1 = sensitivity(ds, ["y"], method="rbd_fast", resamples=20).S1.sel(output="y").values
    np.testing.assert_allclose(s1, [0.3139, 0.4424, 0.0], atol=0.08)     # analytic first-order indices
    d = sensitivity(ds, ["y"], resamples=10).delta.sel(output="y").values  # default for 'random': delta
    assert d[1] > d[0] and d[1] > d[2]


def test_given_data_intervals_reproducible_with_seed(lhs_linear):
    for method, key in (("delta", "delta_conf"), ("pawn", "PAWN_conf")):
        a = sensitivity(lhs_linear, ["y"], method=method, resamples=15, seed=5)[key].values
        b = sensitivity(lhs_linear, ["y"], method=method, resamples=15, seed=5)[key].values
        c = sensitivity(lhs_linear, ["y"], method=method, resamples=15, seed=6)[key].values
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)
    state = np.random.get_state()[1].copy()
    sensitivity(lhs_linear, ["y"], method="delta", resamples=5, seed=1)
    np.testing.assert_array_equal(np.random.get_state()[1], state)      # global generator left alone


def test_method_choice_and_checks():
    assert [method_for_design(d) for d in ("sobol", "morris", "lhs", "random", "grid")] == \
        ["sobol", "morris", "delta", "delta", "delta"]
    check_method("pawn", "sobol")                         # given data works on a Saltelli sample too
    with pytest.raises(ValueError, match="unknown sensitivity method 'foo'"):
        check_method("foo", "lhs")
    with pytest.raises(ValueError, match="sobol indices need an ensemble with design.method sobol"):
        check_method("sobol", "lhs")
    with pytest.raises(ValueError, match="few levels"):
        check_method("delta", "morris")


def test_sobol_intervals_reproducible_with_seed():
    ds = design_dataset(uniform_factors(3, -PI, PI), "sobol", 256, seed=1)
    ds["y"] = ("run", ishigami(ds))
    a, b, c = (sobol_indices(ds, ["y"], resamples=50, seed=s) for s in (7, 7, 8))
    for k in ("S1_conf", "ST_conf"):
        np.testing.assert_array_equal(a[k].values, b[k].values)
        assert not np.array_equal(a[k].values, c[k].values)


def fake_ensemble(path, method, samples, seed=1, fn=ishigami, lo=-PI, hi=PI, k=3):
    """An ensemble.nc as `sim sweep` writes it (design, factor coordinates, failed, one output over time)."""
    ds = design_dataset(uniform_factors(k, lo, hi), method, samples, seed=seed)
    y = fn(ds)
    ds["y"] = (("run", "time"), np.stack([y, 2 * y], axis=1), {"units": "1", "long_name": "test output"})
    ds = ds.assign_coords(time=[2030, 2035])
    ds["failed"] = ("run", np.zeros(ds.sizes["run"], dtype="int8"))
    ds.attrs.update(design_key=f"{method}-{samples}-{seed}", sweep_name="fake", target_year=2030)
    ds.to_netcdf(path)
    return path


def test_cli_sensitivity_on_lhs_ensemble(tmp_path):
    ens = fake_ensemble(tmp_path / "ensemble.nc", "lhs", 400)
    cli = CliRunner()
    res = cli.invoke(sensitivity_cmd, [str(ens), "--variable", "y", "-y", "2030", "--resamples", "10",
                                       "-o", str(tmp_path / "d")])
    assert res.exit_code == 0, res.output
    assert "Borgonovo delta" in res.output and "chosen for the ensemble's 'lhs' design" in res.output
    assert "Delta indices of y (y) in 2030" in res.output
    out = xr.load_dataset(tmp_path / "d" / "sensitivity.nc")
    assert out.attrs["method"] == "delta" and out["delta"].attrs["units"] == "1" and out["delta"].attrs["long_name"]
    res = cli.invoke(sensitivity_cmd, [str(ens), "--variable", "y", "--method", "pawn", "--resamples", "10",
                                       "-o", str(tmp_path / "p")])
    assert res.exit_code == 0, res.output
    assert "requested (--method) on the ensemble's 'lhs' design" in res.output and "PAWN indices" in res.output
    # bad options: one clear line, exit 2, nothing written
    for argv, msg in ((["--method", "foo"], "unknown sensitivity method 'foo'"),
                      (["--method", "sobol"], "sobol indices need an ensemble with design.method sobol"),
                      (["--variable", "nope"], "output 'nope' is not in the ensemble")):
        res = cli.invoke(sensitivity_cmd, [str(ens), *argv, "--resamples", "10", "-o", str(tmp_path / "bad")])
        assert res.exit_code == 2 and msg in res.output and "Traceback" not in res.output, res.output
        assert not (tmp_path / "bad" / "sensitivity.nc").exists()


def test_cli_sobol_seed_gives_identical_intervals(tmp_path):
    ens = fake_ensemble(tmp_path / "ensemble.nc", "sobol", 64)
    cli = CliRunner()
    outs = {}
    for name, seed in (("a", "5"), ("b", "5"), ("c", "6")):
        res = cli.invoke(sensitivity_cmd, [str(ens), "--variable", "y", "--seed", seed, "--resamples", "20",
                                           "-o", str(tmp_path / name)])
        assert res.exit_code == 0, res.output
        assert "Sobol first-order and total indices" in res.output and f"seed {seed}" in res.output
        outs[name] = xr.load_dataset(tmp_path / name / "sensitivity.nc")
    np.testing.assert_array_equal(outs["a"].S1_conf.values, outs["b"].S1_conf.values)
    np.testing.assert_array_equal(outs["a"].ST_conf.values, outs["b"].ST_conf.values)
    assert not np.array_equal(outs["a"].ST_conf.values, outs["c"].ST_conf.values)


def test_index_bars_plot(lhs_linear, tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from simulator import plot
    res = sensitivity(lhs_linear, ["y"], method="pawn", resamples=10)
    ax = plot.index_bars(res, "y")
    from matplotlib.container import BarContainer
    bars = [c for c in ax.containers if isinstance(c, BarContainer)][0]
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "x1"          # largest on top
    np.testing.assert_allclose(sorted(b.get_width() for b in bars), sorted(res.PAWN.sel(output="y").values))
    assert bars.errorbar is not None and "PAWN" in ax.get_title()
    ax.figure.savefig(tmp_path / "f.png", dpi=40)
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="no sensitivity index"):
        plot.index_bars(res, "y", index="ST")
