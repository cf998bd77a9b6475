import json

import numpy as np
import pytest
from click.testing import CliRunner

from simulator import scenario_from_dict
from simulator.analysis import (SensitivityWarning, design_dataset, goal_seek, morris_indices, prim, ranked_table,
                                sobol_indices, wilson_interval)
from simulator.cli_ensemble import sensitivity_cmd, sweep_cmd, targets_cmd
from simulator.ensemble.spec import FactorSpec
from simulator.ensemble.members import member_scenario

from .ensemble_helpers import SHORT_SCENARIO, write_sweep

PI = np.pi


def ishigami_factors():
    return [FactorSpec(f"x{i}", "parameter", f"x{i}", (), "value", None, "uniform", {"lower": -PI, "upper": PI})
            for i in (1, 2, 3)]


def ishigami(ds):
    x1, x2, x3 = (ds[f"x{i}"].values for i in (1, 2, 3))
    return np.sin(x1) + 7 * np.sin(x2) ** 2 + 0.1 * x3 ** 4 * np.sin(x1)


def test_sobol_recovers_ishigami_indices():
    ds = design_dataset(ishigami_factors(), "sobol", 2048, seed=1)
    # two "years" to exercise the time dimension: the function and twice the function (same indices)
    y = ishigami(ds)
    ds["y"] = (("run", "time"), np.stack([y, 2 * y], axis=1))
    ds = ds.assign_coords(time=[2030, 2035])
    res = sobol_indices(ds, ["y"], over_time=True)
    assert res.S1.dims == ("output", "parameter", "time")
    s1 = res.S1.sel(output="y", time=2030).values
    st = res.ST.sel(output="y", time=2030).values
    np.testing.assert_allclose(s1, [0.3139, 0.4424, 0.0], atol=0.05)
    np.testing.assert_allclose(st, [0.5576, 0.4424, 0.2437], atol=0.05)
    np.testing.assert_allclose(res.S1.sel(time=2035), res.S1.sel(time=2030), atol=1e-9)
    assert (res.S1_conf.values > 0).all()
    table = ranked_table(res, "y", 2030)
    assert list(table.index) == ["x1", "x2", "x3"]


def test_sobol_small_sample_warns():
    ds = design_dataset(ishigami_factors(), "sobol", 24, seed=1)
    ds["y"] = ("run", ishigami(ds))
    with pytest.warns(SensitivityWarning, match="not a power of 2"):
        sobol_indices(ds, ["y"])


def test_morris_ranks_ishigami():
    ds = design_dataset(ishigami_factors(), "morris", 60, seed=2, levels=4)
    ds["y"] = ("run", ishigami(ds))
    res = morris_indices(ds, ["y"])
    mu = res.mu_star.sel(output="y").values
    assert mu.min() > 0 and set(res.data_vars) >= {"mu_star", "mu_star_conf", "sigma"}
    # x2 has no interactions: sigma small relative to x3, which acts only through the interaction
    sig = res.sigma.sel(output="y").values
    assert sig[2] > 0.5 * mu[2]


def test_prim_finds_known_box():
    rng = np.random.default_rng(0)
    X = rng.random((3000, 4))
    y = (X[:, 0] > 0.6) & (X[:, 2] < 0.3)
    res = prim({f"x{j}": X[:, j] for j in range(4)}, y, threshold=0.95)
    box = res["boxes"][0]
    assert set(box["limits"]) == {"x0", "x2"}
    assert abs(box["limits"]["x0"][0] - 0.6) < 0.05 and abs(box["limits"]["x2"][1] - 0.3) < 0.05
    assert box["density"] >= 0.95 and box["coverage"] > 0.8
    assert abs(box["mass"] - 0.12) < 0.03
    traj = res["peeling_trajectory"]
    assert traj[0]["coverage"] == 1.0 and traj[0]["mass"] == 1.0
    assert {"coverage", "density", "mass", "n_restricted"} <= set(traj[-1])


def test_wilson_interval():
    lo, hi = wilson_interval(50, 100)
    assert lo < 0.5 < hi and abs((lo + hi) / 2 - 0.5) < 1e-12 and abs(hi - lo - 0.195) < 0.005
    assert wilson_interval(0, 20)[0] == 0.0


def test_goal_seek_finds_known_lever_value(tmp_path):
    sweep_path = write_sweep(tmp_path, levers={"tfp_growth": {"distribution": "uniform", "lower": 0.0,
                                                              "upper": 0.06, "elements": "plan_area",
                                                              "from": 2025}})
    from simulator.ensemble import load_sweep
    sweep = load_sweep(sweep_path)
    f = [x for x in sweep.factors if x.target == "tfp_growth"]
    from simulator import run
    gdp = float(run(member_scenario(sweep.scenario, f, [0.035])).metro_gdp_nominal.sel(time=2030))
    sc = scenario_from_dict({**SHORT_SCENARIO, "targets": {"year": 2030, "population": 1e9, "gdp_nominal": gdp}})
    rows = goal_seek(sc, f)
    by = {r["target"]: r for r in rows}
    assert by["gdp_nominal"]["status"] == "reachable" and by["gdp_nominal"]["met_when"] == ">="
    assert abs(by["gdp_nominal"]["value"] - 0.035) < 1e-4
    assert by["population"]["status"] == "not_reachable" and by["population"]["value"] is None


def test_cli_sweep_sensitivity_targets(tmp_path):
    path = write_sweep(tmp_path, design={"method": "sobol", "samples": 4, "seed": 1},
                       analysis={"sensitivity": {"outputs": ["metro_population", "metro_gdp_nominal"],
                                                 "years": [2030], "resamples": 20}})
    out = tmp_path / "out"
    cli = CliRunner()
    res = cli.invoke(sweep_cmd, [str(path), "-o", str(out), "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "24 runs, 0 failed" in res.output and (out / "sensitivity.nc").exists()
    assert "warning" in res.output and "Sobol indices of population of the metro area (plan-area parts) " \
        "(metro_population) in 2030" in res.output
    res = cli.invoke(sensitivity_cmd, [str(out / "ensemble.nc"), "--variable", "population[CC_P]", "--year", "2030",
                                       "-o", str(tmp_path / "sens")])
    assert res.exit_code == 0, res.output
    assert "income_weight" in res.output and (tmp_path / "sens" / "sensitivity.nc").is_file()
    res = cli.invoke(targets_cmd, [str(out), "--no-goal-seek", "-o", str(tmp_path / "targets")])
    assert res.exit_code == 0, res.output
    answer = json.loads((tmp_path / "targets" / "targets.json").read_text())
    both = answer["probabilities"]["targets"]["both"]
    assert 0 <= both["interval"][0] <= both["probability"] <= both["interval"][1] <= 1
    assert "boxes" in answer["discovery"]


def test_cli_help_has_examples():
    for cmd in (sweep_cmd, sensitivity_cmd, targets_cmd):
        res = CliRunner().invoke(cmd, ["--help"])
        assert res.exit_code == 0 and "Examples" in res.output
