"""Calibration: operators, data traps, synthetic-truth recovery, non-convergence, backtest."""
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

from simulator import scenario_from_dict
from simulator.cli import main
from simulator.fitting import fit, load_config, standard_observations
from simulator.fitting.config import CalibrationConfig
from simulator.fitting.observations import Observation, simulated
from simulator.fitting.report import series_table
from simulator.fitting.statistics import fit_statistics
from simulator.model.base_data import base_year, obs

ROOT = Path(__file__).resolve().parents[1]
HISTORY = {"name": "hist", "time": {"start": 2020, "end": 2024}, "solver": {"rtol": 1e-8, "atol": 1e-8}}


def test_theil_decomposition_sums_to_one_and_detects_bias():
    o = np.array([1.0, 2.0, 3.0, 4.0])
    s = o + 0.5
    st = fit_statistics(s, o)
    assert st["theil_um"] == pytest.approx(1.0) and st["theil_us"] == pytest.approx(0.0, abs=1e-12)
    s2 = np.array([1.2, 1.7, 3.4, 3.8])
    st2 = fit_statistics(s2, o)
    assert st2["theil_um"] + st2["theil_us"] + st2["theil_uc"] == pytest.approx(1.0)
    assert st2["mape"] == pytest.approx(100 * np.mean(np.abs(s2 - o) / o))
    assert st2["rmse"] == pytest.approx(np.sqrt(np.mean((s2 - o) ** 2)))


def test_operators_on_a_hand_made_dataset():
    regions = ["A_P", "A_R"]
    ds = xr.Dataset(
        {"gdp_real": (("time", "region"), [[10.0, 30.0], [12.0, 32.0]]),
         "population": (("time", "region"), [[100.0, 300.0], [110.0, 280.0]]),
         "urban_population": (("time", "region"), [[50.0, 60.0], [60.0, 70.0]]),
         "city_population": (("time", "whole_city"), [[400.0], [390.0]])},
        coords={"time": [2020, 2021], "region": regions, "city": ("region", ["Alpha", "Alpha"]),
                "whole_city": ["Alpha"]})
    o = lambda series: Observation(series, 2021, 1.0, "1", True, 0.1, "test")   # noqa: E731
    assert simulated(ds, o("city_gdp_real_growth/Alpha")) == pytest.approx(44.0 / 40.0 - 1)
    assert simulated(ds, o("province_population")) == pytest.approx(390.0)
    assert simulated(ds, o("province_urbanization_rate")) == pytest.approx(130.0 / 390.0)
    assert simulated(ds, o("city_population/Alpha")) == pytest.approx(390.0)
    assert simulated(ds, o("node_population/A_R")) == pytest.approx(280.0)
    two = xr.Dataset({"city_gdp_nominal": (("time", "whole_city"), [[5.0, 7.0, 1.0], [6.0, 8.0, 1.0]])},
                     coords={"time": [2020, 2021], "whole_city": ["Alpha", "Beta", "Gamma"]})
    assert simulated(two, o("pair_gdp_nominal/Alpha+Beta")) == pytest.approx(14.0)


def test_boundary_change_and_gdp_revision_handling():
    with pytest.raises(ValueError, match="census year"):
        standard_observations(2015, 2024)            # runs start from a census state
    long = standard_observations(2010, 2024)
    assert all(o.year > 2010 for o in long)
    # before 2020 Changchun and Siping enter only as their boundary-invariant sum
    for city in ("Changchun", "Siping"):
        assert min(o.year for o in long if o.series == f"city_gdp_nominal/{city}") == 2020
    pair = {o.year: o for o in long if o.series.startswith("pair_gdp_nominal/")}
    assert sorted(pair) == list(range(2011, 2020))
    assert pair[2019].value == pytest.approx((obs("Changchun", 2019, "gdp_current") + obs("Siping", 2019, "gdp_current")) * 1e8)
    assert pair[2016].value < (obs("Changchun", 2016, "gdp_current") + obs("Siping", 2016, "gdp_current")) * 1e8  # revised down
    # no intercensal resident estimates and no hukou series: populations only from the 2020 census on
    assert all(o.year >= 2020 for o in long if "population" in o.series)
    assert not any("hukou" in o.series or "registered" in o.series for o in long)
    assert {o.series for o in long if o.year == 2020 and o.series.startswith("node_population/")} == \
        {f"node_population/{n}" for n in ("CC_P", "CC_R", "JL_P", "JL_R", "SP_P", "SP_R", "LY_P", "LY_R", "RJ")}
    assert not any(o.series == "city_gdp_real_growth/Siping" and o.year < 2020 for o in long)
    observations = standard_observations(2020, 2024)
    assert all(o.year > 2020 for o in observations)   # t0 values are identities, not fitted
    gdp = [o for o in observations if o.series == "city_gdp_nominal/Changchun"]
    assert {o.year for o in gdp} == {2021, 2024}      # 2020 is the start (an identity)
    # Changchun's 2020 base uses the final verified figure, on 2020 boundaries (Gongzhuling included)
    b = base_year(2020)
    assert b.gdp[:2].sum() == pytest.approx(obs("Changchun", 2020, "gdp_current_final") * 1e8)
    assert b.population[:2].sum() == pytest.approx(obs("Changchun", 2020, "resident_pop_census"))
    assert b.population[4:6].sum() == pytest.approx(obs("Siping", 2020, "resident_pop_census"))


def synthetic_problem(truth: dict[str, float], noise: float, seed: int = 0):
    cfg = CalibrationConfig.model_validate({
        "name": "synthetic", "scenario": "unused", "starts": 0, "max_nfev": 30, "loss": "linear",
        "free": [
            {"name": "tfp_growth", "lever": "tfp_growth", "kind": "constant", "bounds": [0.0, 0.05], "prior": [0.02, 1.0]},
            {"name": "mortality_scale", "parameter": "mortality_scale", "bounds": [0.7, 1.4], "prior": [1.0, 10.0]},
        ]})
    sc = scenario_from_dict(HISTORY)
    template = standard_observations(2020, 2024)
    truth_sc = sc.with_changes(parameters={"mortality_scale": truth["mortality_scale"]},
                               levers={"tfp_growth": truth["tfp_growth"]})
    from simulator import run
    ds = run(truth_sc)
    rng = np.random.default_rng(seed)
    synthetic = []
    for o in template:
        value = simulated(ds, o)
        value = value * np.exp(noise * o.sigma * rng.standard_normal()) if o.log else value + noise * o.sigma * rng.standard_normal()
        synthetic.append(Observation(o.series, o.year, value, o.units, o.log, o.sigma, "synthetic"))
    return cfg, sc, synthetic


def test_calibration_recovers_known_parameters_from_synthetic_data():
    truth = {"tfp_growth": 0.031, "mortality_scale": 1.12}
    cfg, sc, data = synthetic_problem(truth, noise=0.5)
    result, _ = fit(cfg, sc, observations=data)
    assert result.converged
    for i, name in enumerate(result.names):
        assert abs(result.estimate[i] - truth[name]) <= 1.96 * result.sd[i] + 1e-9, name
        assert result.sd[i] < 0.1 * truth[name]          # the data inform the estimate
        assert result.identified[i]
    assert result.n_evaluations > 0


def test_unidentified_parameter_is_reported_not_hidden():
    cfg, sc, data = synthetic_problem({"tfp_growth": 0.02, "mortality_scale": 1.0}, noise=0.0)
    cfg = cfg.model_copy(update={"free": cfg.free + [CalibrationConfig.model_validate({
        "name": "x", "scenario": "u", "free": [{"name": "rural_income_growth", "lever": "rural_income_growth",
                                                "kind": "constant", "bounds": [0.0, 0.1], "prior": [0.05, 0.02]}]}).free[0]]})
    data = [o for o in data if not o.series.startswith(("province_urbanization", "city_gdp"))]
    result, _ = fit(cfg, sc, observations=data)
    i = result.names.index("rural_income_growth")
    assert not result.identified[i]                      # no data on rural incomes: flagged


def test_fit_that_cannot_converge_reports_and_writes_nothing(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text(f"name: nc\nscenario: {ROOT / 'calibration' / 'history_base.yaml'}\nstarts: 0\nmax_nfev: 1\n"
                 "free:\n  - {name: tfp, lever: tfp_growth, kind: constant, bounds: [-0.02, 0.06], prior: [0.0, 0.05]}\n"
                 "  - {name: k, parameter: income_weight, bounds: [0.5, 3], prior: [2.5, 1]}\n")
    fitted = tmp_path / "fitted.yaml"
    res = CliRunner().invoke(main, ["calibrate", str(f), "-o", str(tmp_path / "o"), "-f", str(fitted)])
    assert res.exit_code == 1
    assert "did not converge" in res.output
    assert not fitted.exists() and not (tmp_path / "o").exists()


def test_bad_calibration_file_is_a_clear_error(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("name: x\nscenario: ../scenarios/history.yaml\nfree:\n"
                 "  - {name: a, parameter: income_wieght, bounds: [0, 1], prior: [0.5, 0.1]}\n")
    res = CliRunner().invoke(main, ["calibrate", str(f)])
    assert res.exit_code == 2
    assert "bad.yaml" in res.output and "income_wieght" in res.output and "income_weight" in res.output


def test_backtest_reports_out_of_sample_errors():
    cfg, sc, data = synthetic_problem({"tfp_growth": 0.025, "mortality_scale": 1.05}, noise=0.3)
    result, problem = fit(cfg, sc, observations=data, until=2022)
    assert all(o.year <= 2022 for o in problem.fit_observations)
    rows, fit_ds, _ = series_table(problem, result)
    samples = {r["sample"] for r in rows}
    assert samples == {"in", "out"}
    assert "observed" in fit_ds and "simulated" in fit_ds and fit_ds.sizes["series"] > 5


def test_history_scenario_and_config_load():
    cfg, sc = load_config(ROOT / "calibration" / "baseline.yaml")
    assert sc.start == 2020 and sc.end == 2024
    assert {f.name for f in cfg.free} >= {"tfp_growth", "lockdown_2022_changchun"}
    assert not next(f for f in cfg.free if f.kind == "pulse").export
    long, sc10 = load_config(ROOT / "calibration" / "history_2010.yaml")
    assert sc10.start == 2010 and sc10.end == 2024
    # only structural parameters leave the long fit: state identities and history-only values stay
    exported = {f.name for f in long.free if f.export}
    assert exported == {"base_urbanization_trend", "income_weight", "attractiveness_perception_time",
                        "tfp_growth", "price_adjustment_time", "natural_vacancy"}
    from simulator.scenario import load_scenario
    assert load_scenario(ROOT / "scenarios" / "history.yaml").start == 2010
    assert load_scenario(ROOT / "scenarios" / "history_2020.yaml").start == 2020


def test_multistart_fit_is_deterministic_with_a_seed():
    cfg, sc, data = synthetic_problem({"tfp_growth": 0.028, "mortality_scale": 1.07}, noise=0.4)
    cfg = cfg.model_copy(update={"starts": 1, "max_nfev": 6})      # small: determinism, not convergence
    a, _ = fit(cfg, sc, observations=data, seed=7)
    b, _ = fit(cfg, sc, observations=data, seed=7)
    assert np.array_equal(a.estimate, b.estimate) and a.starts == b.starts
    assert len(a.starts) == 2                       # the stage/prior start plus one Sobol start


def test_period_and_all_node_pulse_free_parameters():
    """Periods build one step path per lever; a node-group period overrides it only in its span;
    only an open-ended period is exported; a pulse without a node hits every node."""
    from simulator.fitting.config import FreeParameter, apply
    from simulator.model.nodes import NODES
    sc = scenario_from_dict({**HISTORY, "time": {"start": 2010, "end": 2024}})
    free = [FreeParameter(name="a", lever="tfp_growth", kind="period", start=2010, end=2014, bounds=(-1, 1), prior=(0, 1)),
            FreeParameter(name="b", lever="tfp_growth", kind="period", start=2014, bounds=(-1, 1), prior=(0, 1)),
            FreeParameter(name="j", lever="tfp_growth", kind="period", nodes=["JL_P", "JL_R"], start=2012, end=2016,
                          bounds=(-1, 1), prior=(0, 1)),
            FreeParameter(name="d", lever="deflator_growth", kind="period", start=2010, end=2020, bounds=(-1, 1), prior=(0, 1)),
            FreeParameter(name="p", lever="output_shock", kind="pulse", start=2020.0, end=2020.3, bounds=(-1, 1), prior=(0, 1))]
    assert [f.export for f in free] == [False, True, False, False, False]
    params, levers = apply(sc, free, np.array([0.07, 0.03, -0.01, 0.02, -0.1]))
    changed = sc.with_changes(parameters=params or None, levers=levers)
    tfp = changed.levers["tfp_growth"]
    jl, cc = NODES.index("JL_P"), NODES.index("CC_P")
    assert tfp.value(2011)[cc] == pytest.approx(0.07) and tfp.value(2015)[cc] == pytest.approx(0.03)
    assert tfp.value(2013)[jl] == pytest.approx(-0.01) and tfp.value(2015)[jl] == pytest.approx(-0.01)
    assert tfp.value(2011)[jl] == pytest.approx(0.07) and tfp.value(2017)[jl] == pytest.approx(0.03)
    defl = changed.levers["deflator_growth"]
    assert defl.value(2015) == pytest.approx(0.02) and defl.value(2021) == pytest.approx(sc.levers["deflator_growth"].value(2021))
    shock = changed.levers["output_shock"]
    assert np.allclose(shock.value(2020.1), 0.9) and np.allclose(shock.value(2020.5), 1.0)
    _, exported = apply(sc, free, np.array([0.07, 0.03, -0.01, 0.02, -0.1]), only_exported=True)
    assert exported == {"tfp_growth": {"all": 0.03}}
    with pytest.raises(ValueError, match="nodes"):
        FreeParameter(name="x", lever="tfr", kind="scale", nodes=["JL_P"], bounds=(0, 2), prior=(1, 1))


def test_best_start_prefers_converged_starts():
    from simulator.fitting.fit import best_start
    runs = [{"start": 0, "cost": 10.0, "status": 1}, {"start": 1, "cost": 9.99, "status": 0},
            {"start": 2, "cost": 10.5, "status": 2}, {"start": 3, "cost": float("nan"), "status": 1}]
    assert best_start(runs) == 0
    assert best_start([{"start": 0, "cost": 1.0, "status": 0}]) is None


def test_every_operator_reads_each_run_of_a_multi_run_dataset():
    """``simulated_all`` evaluates each observation on all runs at once: the same values as one run at a time
    (an operator that summed over every dim would mix the runs)."""
    from simulator import simulate_many
    from simulator.fitting.observations import OPERATORS, simulated_all
    base = {"time": {"start": 2020, "end": 2022}}
    ds = simulate_many([scenario_from_dict({"name": "a", **base}),
                        scenario_from_dict({"name": "b", **base, "parameters": {"ext_gross_inflow": 3e5}})])
    where = {"city": "Changchun", "pair": "Changchun+Jilin", "node": "CC_P"}
    obs = [Observation(series=f"{kind}/{where['pair'] if kind.startswith('pair') else where['node'] if kind.startswith('node') else where['city']}",
                       year=2022, value=1.0, units="", log=False, sigma=1.0, source="") for kind in OPERATORS]
    together = simulated_all(ds, obs)
    one_by_one = np.array([[simulated(ds.isel(run=i), o) for o in obs] for i in range(2)])
    assert together.shape == (2, len(obs))
    np.testing.assert_allclose(together, one_by_one, rtol=1e-12)
    assert not np.allclose(together[0], together[1])
