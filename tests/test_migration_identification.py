"""Migration identified by data (issue #11): flow observation operators, synthetic recovery of the gross
rates from flow data, the coverage computation, posterior draws, the movers' age profile, and the
rolling-origin backtest command on a short span."""
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from simulator import run, scenario_from_dict
from simulator.cli import main
from simulator.fitting import fit, standard_observations
from simulator.fitting.backtest import coverage, posterior_draws, reflect
from simulator.fitting.config import CalibrationConfig
from simulator.fitting.fit import FitResult, Problem
from simulator.fitting.observations import OPERATORS, Observation
from simulator.model.base_data import migration_age_profile
from simulator.model.nodes import CITIES

ROOT = Path(__file__).resolve().parents[1]
HISTORY = {"name": "hist", "time": {"start": 2020, "end": 2024}, "solver": {"rtol": 1e-8, "atol": 1e-8}}


@pytest.fixture(scope="module")
def history_run():
    return run(scenario_from_dict(HISTORY))


def test_flow_operators_balance(history_run):
    ds = history_run
    for year in (2021, 2024):
        gross_in = OPERATORS["province_in_migration_external"](ds, year, "")
        gross_out = OPERATORS["province_out_migration_external"](ds, year, "")
        net = OPERATORS["province_net_migration_external"](ds, year, "")
        assert gross_in > 0 and gross_out > 0
        assert gross_in - gross_out == pytest.approx(net, rel=1e-9, abs=1e-6)
        # moves between nodes cancel in the sum of the four cities and the rest of the province
        cities = sum(OPERATORS["city_net_migration"](ds, year, c) for c in CITIES)
        rj = float(ds.net_migration.sel(time=year, region="RJ"))
        assert cities + rj == pytest.approx(net, rel=1e-9, abs=1e-6)


def test_changchun_bulletin_net_migration_is_an_observation():
    obs = [o for o in standard_observations(2020, 2024) if o.series == "city_net_migration/Changchun"]
    assert len(obs) == 1 and obs[0].year == 2024 and obs[0].value == pytest.approx(6700.0)
    assert "长春" in obs[0].source or "hfbida" in obs[0].source


def _synthetic_flow_data(truth: dict, noise: float, seed: int = 0) -> list[Observation]:
    ds = run(scenario_from_dict(HISTORY).with_changes(parameters=truth))
    rng = np.random.default_rng(seed)
    data = []
    for year in range(2021, 2025):
        for kind in ("province_in_migration_external", "province_out_migration_external"):
            v = OPERATORS[kind](ds, year, "") * np.exp(noise * 0.03 * rng.standard_normal())
            data.append(Observation(kind, year, v, "persons/yr", True, 0.03, "synthetic"))
        for c in CITIES:
            v = OPERATORS["city_net_migration"](ds, year, c) + noise * 2000.0 * rng.standard_normal()
            data.append(Observation(f"city_net_migration/{c}", year, v, "persons/yr", False, 2000.0, "synthetic"))
    return data


def test_gross_flow_parameters_recovered_from_synthetic_flow_data():
    truth = {"ext_gross_inflow": 220000.0, "base_out_migration_rate": 0.035}
    data = _synthetic_flow_data(truth, noise=0.5)
    cfg = CalibrationConfig.model_validate({
        "name": "flows", "scenario": "unused", "starts": 0, "max_nfev": 30, "loss": "linear",
        "free": [{"name": "ext_gross_inflow", "parameter": "ext_gross_inflow", "bounds": [50000, 500000],
                  "prior": [150000, 1e6]},
                 {"name": "base_out_migration_rate", "parameter": "base_out_migration_rate",
                  "bounds": [0.01, 0.08], "prior": [0.03, 1.0]},
                 {"name": "move_consideration_rate", "parameter": "move_consideration_rate",
                  "bounds": [0.08, 0.3], "prior": [0.1, 0.05]}]})
    result, _ = fit(cfg, scenario_from_dict(HISTORY), observations=data)
    est = dict(zip(result.names, result.estimate))
    sd = dict(zip(result.names, result.sd))
    for name, value in truth.items():
        assert abs(est[name] - value) <= 2.5 * sd[name], name
        assert sd[name] < 0.1 * value, name                         # gross flows pin the gross rates
        assert result.identified[result.names.index(name)], name
    # μ only shapes the response to utility changes, which four calm years do not reveal: flagged
    assert not result.identified[result.names.index("move_consideration_rate")]


def test_identifiability_does_not_depend_on_parameter_units():
    """The covariance is computed in the scaled space: a parameter in persons/yr next to one in 1/yr
    is not reported as unidentified just because of its magnitude (regression: it was, before #11)."""
    data = _synthetic_flow_data({"ext_gross_inflow": 180000.0, "base_out_migration_rate": 0.03}, noise=0.0)
    free = [{"name": "ext_gross_inflow", "parameter": "ext_gross_inflow", "bounds": [50000, 500000],
             "prior": [150000, 1e6]},
            {"name": "base_out_migration_rate", "parameter": "base_out_migration_rate", "bounds": [0.01, 0.08],
             "prior": [0.03, 1.0]}]
    cfg = CalibrationConfig.model_validate({"name": "u", "scenario": "unused", "starts": 0, "max_nfev": 20,
                                            "loss": "linear", "free": free})
    result, _ = fit(cfg, scenario_from_dict(HISTORY), observations=data)
    assert np.all(np.isfinite(result.sd_data)) and result.identified.all()


def test_coverage_of_calibrated_and_overconfident_bands():
    rng = np.random.default_rng(1)
    n = 4000
    observed = rng.standard_normal(n)
    z90 = 1.6448536269514722
    calibrated = coverage(np.abs(observed) <= z90)           # true 5–95 % band of N(0, 1)
    assert calibrated["n"] == n
    assert calibrated["low"] <= 0.90 <= calibrated["high"]
    assert abs(calibrated["share"] - 0.90) < 0.02
    narrow = coverage(np.abs(observed) <= 0.5 * z90)        # half-width band: covers P(|Z| ≤ 0.822) = 0.589
    assert narrow["low"] <= 0.5889 <= narrow["high"]
    assert narrow["high"] < 0.85                            # detected as over-confident
    empty = coverage([])
    assert empty["n"] == 0 and np.isnan(empty["share"])


def test_posterior_draws_stay_in_bounds_and_match_an_interior_posterior():
    cfg = CalibrationConfig.model_validate({
        "name": "p", "scenario": "unused",
        "free": [{"name": "a", "parameter": "income_weight", "bounds": [0.0, 10.0], "prior": [5.0, 1.0]},
                 {"name": "b", "parameter": "mortality_scale", "bounds": [0.5, 1.5], "prior": [1.0, 0.1]}]})
    problem = Problem(cfg, scenario_from_dict(HISTORY), observations=standard_observations(2020, 2024))
    corr = np.array([[1.0, 0.6], [0.6, 1.0]])
    result = FitResult(names=["a", "b"], estimate=np.array([5.0, 1.0]), sd=np.array([0.5, 0.05]),
                       sd_data=np.array([0.5, 0.05]), correlation=corr, identified=np.ones(2, bool), cost=0.0,
                       nfev=0, n_evaluations=0, converged=True, message="", wall_seconds=0.0)
    draws = posterior_draws(problem, result, 20000, np.random.default_rng(0))
    assert draws.mean(axis=0) == pytest.approx([5.0, 1.0], rel=0.01)
    assert draws.std(axis=0) == pytest.approx([0.5, 0.05], rel=0.03)
    assert np.corrcoef(draws.T)[0, 1] == pytest.approx(0.6, abs=0.03)
    # an estimate at its bound: every draw inside, folded (half-normal), none piled on the bound
    result.estimate = np.array([0.0, 1.5])
    draws = posterior_draws(problem, result, 5000, np.random.default_rng(0))
    assert (draws >= problem.lo).all() and (draws <= problem.hi).all()
    assert draws[:, 0].mean() == pytest.approx(0.5 * np.sqrt(2 / np.pi), rel=0.05)
    assert reflect(np.array([-1.0, 11.0, 25.0]), np.zeros(3), np.full(3, 10.0)) == pytest.approx([1.0, 9.0, 5.0])


def test_movers_age_profile_peak_is_a_parameter():
    default = migration_age_profile()
    assert default == pytest.approx(migration_age_profile(20.0))
    ages = np.arange(len(default)) * 5 + 2.5
    older = migration_age_profile(np.array([20.0, 27.0]))
    assert older.shape == (len(default), 2)
    assert older[:, 0] == pytest.approx(default)
    mean_age = lambda r: float((ages * r).sum() / r.sum())   # noqa: E731
    assert mean_age(older[:, 1]) > mean_age(older[:, 0])
    # the default value leaves a run bit-identical; another value moves people but conserves them
    base = run(scenario_from_dict(HISTORY))
    same = run(scenario_from_dict(HISTORY).with_changes(parameters={"migration_peak_age": 20.0}))
    assert float(abs(same.population - base.population).max()) == 0.0
    shifted = run(scenario_from_dict(HISTORY).with_changes(parameters={"migration_peak_age": 26.0}))
    moved = shifted.migration_flow.sel(origin=[str(r) for r in shifted.region.values],
                                       destination=[str(r) for r in shifted.region.values])
    assert float(moved.sum("destination").sum() - moved.sum("origin").sum()) == pytest.approx(0.0, abs=1e-3)
    assert not np.allclose(shifted.population.values, base.population.values)


def _tiny_config(tmp_path) -> Path:
    f = tmp_path / "tiny.yaml"
    f.write_text(f"name: tiny\nscenario: {ROOT / 'calibration' / 'history_base.yaml'}\nstarts: 0\nmax_nfev: 15\n"
                 "loss: soft_l1\nfree:\n"
                 "  - {name: tfp_growth, lever: tfp_growth, kind: constant, bounds: [-0.02, 0.06], prior: [0.02, 0.01]}\n"
                 "  - {name: deflator_growth, lever: deflator_growth, kind: constant, bounds: [-0.03, 0.06], prior: [0.0, 0.02]}\n",
                 encoding="utf-8")
    return f


def test_backtest_command_on_a_short_span(tmp_path):
    import json
    out = tmp_path / "bt"
    res = CliRunner().invoke(main, ["calibrate", str(_tiny_config(tmp_path)), "--backtest", "2022,2021",
                                    "--members", "12", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "coverage of the 90 % bands" in res.output
    doc = json.loads((out / "backtest.json").read_text(encoding="utf-8"))
    assert doc["origins"] == [2021, 2022]
    pop = [r for r in doc["rows"] if r["quantity"] == "population_2024"]
    assert len(pop) == 2 * len(CITIES)
    for r in pop:
        assert r["band_low"] <= r["forecast"] <= r["band_high"] or not r["inside"]
        assert r["inside"] == (r["band_low"] <= r["observed"] <= r["band_high"])
    cov = doc["summary"]["coverage"]["population_2024"]
    assert cov["n"] == 8 and cov["k"] == sum(r["inside"] for r in pop)
    assert (out / "backtest.csv").read_text(encoding="utf-8").startswith("origin,quantity")


@pytest.mark.parametrize("value, expected", [("2012,abc", "not a year"), ("2030", "outside the calibration run"),
                                             ("2024", "outside the calibration run")])
def test_backtest_bad_origins_are_clear_errors(tmp_path, value, expected):
    out = tmp_path / "o"
    res = CliRunner().invoke(main, ["calibrate", str(_tiny_config(tmp_path)), "--backtest", value, "-o", str(out)])
    assert res.exit_code == 2
    assert expected in res.output and "Traceback" not in res.output
    assert not out.exists()


def test_backtest_refuses_install(tmp_path):
    res = CliRunner().invoke(main, ["calibrate", str(_tiny_config(tmp_path)), "--backtest", "2022", "--install"])
    assert res.exit_code == 2 and "installs nothing" in res.output
