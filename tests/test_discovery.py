"""Scenario discovery: PRIM with pasting, categorical factors, covering, stability, the relaxed-target
ladder of ``sim targets`` and boxes exported as sweep files."""
import json

import numpy as np
import pytest
import xarray as xr
import yaml
from click.testing import CliRunner

from simulator.analysis.discovery import box_sweep_document, in_box, prim
from simulator.analysis.targets import discover, target_ladder
from simulator.cli_ensemble import sweep_cmd, targets_cmd

from .ensemble_helpers import write_sweep


def noisy_box(n, d, seed, box, flip=0.1):
    """Uniform points in [0, 1]^d; y = inside ``box`` ({column: (lo, hi)}) with a share ``flip`` of labels flipped."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    inside = np.ones(n, dtype=bool)
    for j, (lo, hi) in box.items():
        inside &= (X[:, j] >= lo) & (X[:, j] <= hi)
    return X, inside ^ (rng.random(n) < flip), inside


@pytest.mark.parametrize("d,box", [(2, {0: (0.3, 0.8), 1: (0.5, 1.0)}),
                                   (5, {0: (0.2, 0.7), 2: (0.0, 0.6)})])
def test_prim_recovers_known_box_with_label_noise(d, box):
    X, y, truth = noisy_box(4000, d, 1, box)
    res = prim(X, y, threshold=0.85)
    b = res["boxes"][0]
    assert set(b["limits"]) == {f"x{j}" for j in box}            # only the box's dimensions restricted
    for j, (lo, hi) in box.items():
        got = b["limits"][f"x{j}"]
        assert abs(got[0] - lo) < 0.08 and abs(got[1] - hi) < 0.08, (j, got)
    assert b["density"] >= 0.85 and b["meets_threshold"]
    assert b["coverage"] > 0.6
    # the statistics are those of the reported limits
    inside = in_box(X, b["limits"], [f"x{j}" for j in range(d)])
    assert b["mass"] == pytest.approx(inside.mean()) and b["density"] == pytest.approx(y[inside].mean())


def test_pasting_gains_coverage_without_losing_density():
    rng = np.random.default_rng(42)
    X = rng.random((2000, 4))
    y = (X[:, 0] > 0.6) & (X[:, 2] < 0.3)
    # the end of the peeling trajectory has cut deep into the true box: pasting has room to grow
    peeled = prim(X, y, select="last", paste=False, max_boxes=1)["boxes"][0]
    pasted = prim(X, y, select="last", max_boxes=1)["boxes"][0]
    assert pasted["pasting_steps"] > 0
    assert pasted["density"] >= peeled["density"] - 1e-12
    assert pasted["coverage"] > peeled["coverage"] + 0.3
    assert pasted["peeled"]["coverage"] == pytest.approx(peeled["coverage"])
    assert abs(pasted["limits"]["x0"][0] - 0.6) < 0.03


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pasting_never_drops_density_below_threshold(seed):
    X, y, _ = noisy_box(1500, 3, seed, {0: (0.2, 0.6), 1: (0.3, 0.9)}, flip=0.15)
    for b in prim(X, y, threshold=0.75, max_boxes=3)["boxes"]:
        assert b["density"] >= b["peeled"]["density"] - 1e-12
        if b["peeled"]["density"] >= 0.75:
            assert b["density"] >= 0.75


def test_covering_finds_a_second_box():
    rng = np.random.default_rng(3)
    X = rng.random((4000, 3))
    y = ((X[:, 0] < 0.25) & (X[:, 1] < 0.5)) | ((X[:, 0] > 0.75) & (X[:, 1] > 0.5))
    res = prim(X, y, threshold=0.9, max_boxes=3)
    assert len(res["boxes"]) >= 2
    lo_box = [b for b in res["boxes"] if b["limits"].get("x0", [0, 1])[1] < 0.4]
    hi_box = [b for b in res["boxes"] if b["limits"].get("x0", [0, 1])[0] > 0.6]
    assert lo_box and hi_box
    assert sum(b["coverage"] for b in res["boxes"]) > 0.8


def test_categorical_factor_is_peeled_by_category():
    rng = np.random.default_rng(5)
    n = 3000
    X = {"x": rng.random(n), "mode": rng.integers(0, 4, n).astype(float), "z": rng.random(n)}
    y = np.isin(X["mode"], [1.0, 2.0]) & (X["x"] > 0.5)
    res = prim(X, y, threshold=0.95, categorical=["mode"])
    b = res["boxes"][0]
    assert b["categories"] == {"mode": [1.0, 2.0]}
    assert abs(b["limits"]["x"][0] - 0.5) < 0.05 and "z" not in b["limits"]
    assert b["density"] >= 0.95
    # a category in the middle of the range removed: membership by category, not by span
    y2 = np.isin(X["mode"], [0.0, 3.0])
    b2 = prim(X, y2, threshold=0.95, categorical=["mode"])["boxes"][0]
    assert b2["categories"]["mode"] == [0.0, 3.0] and b2["density"] == 1.0
    assert in_box(np.column_stack(list(X.values())), b2["limits"], list(X), b2["categories"]).sum() == b2["n"]
    with pytest.raises(ValueError, match="categorical"):
        prim(X, y, categorical=["nope"])


def test_stability_is_deterministic_with_seed():
    X, y, _ = noisy_box(800, 3, 7, {0: (0.3, 0.8)})
    a = prim(X, y, resamples=15, seed=11)["boxes"][0]["stability"]
    b = prim(X, y, resamples=15, seed=11)["boxes"][0]["stability"]
    c = prim(X, y, resamples=15, seed=12)["boxes"][0]["stability"]
    assert a == b and a != c
    assert a["method"] == "bootstrap" and a["resamples"] == 15 and a["seed"] == 11
    assert a["restriction_frequency"]["x0"] == 1.0               # the real restriction always found
    lo = a["limits"]["x0"]["lower"]
    assert lo[0] <= lo[1] <= lo[2] and abs(lo[1] - 0.3) < 0.1
    assert a["coverage"][0] <= a["coverage"][1] <= a["coverage"][2]
    s = prim(X, y, resamples=5, seed=1, resample_method="subsample")["boxes"][0]["stability"]
    assert s["method"] == "subsample" and s["resamples_with_box"] == 5


# --- relaxed targets ------------------------------------------------------------------------------
def fake_levers(pop, gdp, seed=0):
    """An ensemble-like Dataset: metro population / GDP in 2030 given per run, two lever factors."""
    n = len(pop)
    rng = np.random.default_rng(seed)
    a, b = rng.random(n), rng.random(n)
    ds = xr.Dataset({"metro_population": (("run", "time"), np.asarray(pop, float)[:, None]),
                     "metro_gdp_nominal": (("run", "time"), np.asarray(gdp, float)[:, None]),
                     "failed": ("run", np.zeros(n, dtype="int8"))},
                    coords={"run": np.arange(n), "time": [2030], "factor": ["a", "b"], "a": ("run", a),
                            "b": ("run", b)})
    ds.attrs.update(target_year=2030, target_population=1.3e7, target_gdp_nominal=1.35e12,
                    factors=json.dumps([{"id": "a", "kind": "lever", "distribution": "uniform"},
                                        {"id": "b", "kind": "lever", "distribution": "uniform"}]))
    return ds


def test_ladder_default_and_user_rungs():
    kinds = [r["kind"] for r in target_ladder(1.3e7, 1.35e12)]
    assert kinds == ["both", "relaxed", "relaxed", "gdp_only", "population_only", "closest"]
    pops = [r["population_at_least"] for r in target_ladder(1.3e7, 1.35e12)[1:3]]
    assert pops == [1.25e7, 1.2e7]
    user = target_ladder(1.3e7, 1.35e12, population_at_least=[1.28e7], gdp_at_least=[1.3e12])
    assert [(r["population_at_least"], r["gdp_nominal_at_least"]) for r in user[1:3]] == \
        [(1.28e7, 1.35e12), (1.3e7, 1.3e12)]


def test_relaxed_mode_picks_first_nonempty_rung():
    n = 600
    rng = np.random.default_rng(0)
    ds = fake_levers(np.full(n, 1.1e7), np.full(n, 1.4e12))
    a = ds["a"].values
    pop = np.where(a > 0.7, 1.22e7, 1.1e7)          # nobody reaches 1250万; a > 0.7 reaches 1200万
    ds["metro_population"][:] = pop[:, None]
    res = discover(ds, threshold=0.9)
    assert res["relaxed"] and res["target"]["population_at_least"] == 1.2e7
    used = [r for r in res["ladder"] if r["used"]]
    assert len(used) == 1 and used[0] is res["ladder"][2]
    assert res["ladder"][1]["n_of_interest"] == 0
    assert "relaxed target" in res["message"] and "1200万" in res["message"] and "No run meets both" in res["message"]
    box = res["boxes"][0]
    assert set(box["limits"]) == {"a"} and abs(box["limits"]["a"][0] - 0.7) < 0.05
    # a user rung replaces the defaults; too few cases for it → the next rung
    res = discover(ds, population_at_least=[1.21e7], min_cases=10)
    assert res["target"]["population_at_least"] == 1.21e7
    few = np.where(rng.random(n) < 0.005, 1.3e7, 1.1e7)        # a handful meet both: fewer than min_cases
    ds["metro_population"][:] = few[:, None]
    res = discover(ds, min_cases=50)
    assert res["relaxed"] and res["target"]["kind"] == "gdp_only" and "Only" in res["message"]
    # nothing met at all, not even GDP: the closest runs, never silence
    ds["metro_gdp_nominal"][:] = 1.2e12             # GDP/target 0.89 > population/target 0.77–0.85
    ds["metro_population"][:] = (1e7 + 1e6 * ds["a"].values)[:, None]
    res = discover(ds)
    assert res["target"]["kind"] == "closest" and res["n_of_interest"] == 60
    assert res["boxes"][0]["limits"]["a"][0] > 0.85
    # both met by enough runs: no relaxation
    ds["metro_population"][:] = np.where(ds["b"].values > 0.5, 1.31e7, 1.1e7)[:, None]
    ds["metro_gdp_nominal"][:] = 1.4e12
    res = discover(ds)
    assert not res["relaxed"] and res["target"]["kind"] == "both" and "the boxes are for both targets" in res["message"]
    res = discover(fake_levers(np.full(50, 1e7), np.full(50, 1e12)), relax=False)
    assert res["boxes"] == [] and "relaxation is off" in res["message"]


# --- export ---------------------------------------------------------------------------------------
def test_box_sweep_document_restricts_each_distribution(tmp_path):
    doc = {"name": "s", "scenario": "../scen/base.yaml", "design": {"method": "lhs", "samples": 10, "seed": 1},
           "parameters": {"p_u": {"distribution": "uniform", "lower": 0.0, "upper": 1.0},
                          "p_n": {"distribution": "normal", "mean": 1.0, "sd": 0.1},
                          "p_t": {"distribution": "triangular", "lower": 0.0, "mode": 0.5, "upper": 1.0},
                          "p_c": {"distribution": "choice", "values": [1.0, 2.0, 3.0]},
                          "p_free": {"distribution": "uniform", "lower": 5.0, "upper": 6.0}}}
    box = {"limits": {"p_u": [0.2, 0.999], "p_n": [0.9, 1.05], "p_t": [0.1, 0.4], "p_c": [1.0, 3.0]},
           "categories": {"p_c": [1.0, 3.0]}}
    ranges = {"p_u": [0.001, 0.999]}
    out = box_sweep_document(doc, tmp_path / "sweeps", box, tmp_path / "out" / "box.yaml", name="s_box1",
                             ranges=ranges)
    p = out["parameters"]
    assert p["p_u"] == {"distribution": "uniform", "lower": 0.2, "upper": 1.0}   # sampled max: bound kept
    assert p["p_n"]["distribution"] == "truncnormal" and (p["p_n"]["lower"], p["p_n"]["upper"]) == (0.9, 1.05)
    assert p["p_t"] == {"distribution": "uniform", "lower": 0.1, "upper": 0.4}
    assert p["p_c"]["values"] == [1.0, 3.0] and p["p_free"] == doc["parameters"]["p_free"]
    assert out["scenario"] == "../scen/base.yaml" and out["name"] == "s_box1"
    assert doc["parameters"]["p_u"]["lower"] == 0.0                               # input untouched


@pytest.fixture(scope="module")
def small_levers(tmp_path_factory):
    """A 40-run sweep of the short scenario with a categorical (choice) lever, run once."""
    tmp = tmp_path_factory.mktemp("levers")
    path = write_sweep(tmp, design={"method": "lhs", "samples": 40, "seed": 4}, chunk_size=40,
                       levers={"tfp_growth": {"distribution": "uniform", "lower": 0.01, "upper": 0.05,
                                              "elements": "plan_area", "from": 2026},
                               "metro_integration": {"distribution": "choice", "values": [0.0, 0.5, 1.0]}})
    res = CliRunner().invoke(sweep_cmd, [str(path), "-o", str(tmp / "ens"), "--no-progress"])
    assert res.exit_code == 0, res.output
    return tmp, path


def test_targets_relaxed_export_round_trip(small_levers):
    tmp, path = small_levers
    out, box_file = tmp / "t1", tmp / "boxes" / "box1.yaml"
    (tmp / "boxes").mkdir(exist_ok=True)
    res = CliRunner().invoke(targets_cmd, [str(tmp / "ens"), "--no-goal-seek", "--resamples", "5", "--min-cases", "3",
                                           "--export-box", "1", str(box_file), "-o", str(out)])
    assert res.exit_code == 0, res.output
    answer = json.loads((out / "targets.json").read_text())
    disc = answer["discovery"]
    assert disc["boxes"] and disc["target"]["label"] in res.output and disc["message"] in res.output
    assert disc["categorical"] == ["metro_integration"]
    assert answer["goal_seek"]["status"] == "skipped" and answer["required_lever_values"] is None
    assert answer["exported_box"] == {"box": 1, "path": str(box_file)}
    assert {"coverage", "density", "mass", "peeled", "stability"} <= set(disc["boxes"][0])
    # the exported file loads and, run by `sim sweep`, samples only inside the box
    from simulator.ensemble import load_sweep
    sweep = load_sweep(box_file)
    assert sweep.name == "small_box1" and sweep.samples == 40
    box = disc["boxes"][0]
    res = CliRunner().invoke(sweep_cmd, [str(box_file), "-n", "6", "-o", str(tmp / "box_ens"), "--no-progress"])
    assert res.exit_code == 0, res.output
    ens = xr.load_dataset(tmp / "box_ens" / "ensemble.nc")
    for k, (lo, hi) in box["limits"].items():
        vals = ens[k].values
        if k in box.get("categories", {}):
            assert set(vals) <= set(box["categories"][k])
        else:
            assert vals.min() >= lo - 1e-9 and vals.max() <= hi + 1e-9


def test_targets_bad_options_write_nothing(small_levers):
    tmp, _ = small_levers
    cli = CliRunner()
    out, box_file = tmp / "bad", tmp / "bad_box.yaml"
    res = cli.invoke(targets_cmd, [str(tmp / "ens"), "--no-goal-seek", "--resamples", "0",
                                   "--export-box", "9", str(box_file), "-o", str(out)])
    assert res.exit_code == 2 and "box index out of range" in res.output and "Traceback" not in res.output
    assert not out.exists() and not box_file.exists()
    res = cli.invoke(targets_cmd, [str(tmp / "ens"), "--no-goal-seek", "--population-at-least", "2e7", "-o", str(out)])
    assert res.exit_code == 2 and "--population-at-least 2e+07" in res.output and "below the target" in res.output
    assert not out.exists()
    res = cli.invoke(targets_cmd, [str(tmp / "ens"), "--no-goal-seek", "--export-box", "0", str(box_file)])
    assert res.exit_code == 2 and "Traceback" not in res.output and not box_file.exists()
    res = cli.invoke(targets_cmd, [str(tmp / "ens"), "--no-goal-seek", "--export-box", "1", str(tmp / "b.txt"),
                                   "-o", str(out)])
    assert res.exit_code == 2 and ".yaml" in res.output and not out.exists()


# --- cross-check against ema_workbench ----------------------------------------------------------
def test_cross_check_with_ema_workbench():
    """Peeling with the 'original' objective follows ema_workbench's trajectory; pasting the same peeled box
    gives nearly the same coverage and density as ema's pasting. (ema pastes by a quantile of the slab
    beside the box and only while the density rises; we add about paste_alpha of the box's points and
    also accept an equal density, so the numbers differ a little.)"""
    pytest.importorskip("ema_workbench")
    import logging
    import warnings

    import pandas as pd
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim as eprim
    logging.getLogger("EMA").setLevel(logging.ERROR)
    names = [f"x{j}" for j in range(5)]
    for seed in (42, 1):
        rng = np.random.default_rng(seed)
        X = rng.random((2000, 5))
        y = ((X[:, 0] > 0.3) & (X[:, 0] < 0.8) & (X[:, 1] > 0.5)) ^ (rng.random(2000) < 0.1)
        p = eprim.Prim(pd.DataFrame(X, columns=names), y.astype(int), threshold=0.8,
                       obj_function=eprim.PRIMObjectiveFunctions.ORIGINAL, peel_alpha=0.05, paste_alpha=0.05,
                       mass_min=0.05)
        traj = p.find_box().peeling_trajectory
        ours = prim(X, y, names=names, threshold=0.8, select="last", max_boxes=1)
        for i in range(30):
            assert abs(traj["coverage"].iloc[i] - ours["peeling_trajectory"][i]["coverage"]) < 0.02
            assert abs(traj["density"].iloc[i] - ours["peeling_trajectory"][i]["density"]) < 0.02
        b = ours["boxes"][0]
        lims = p.box_init.copy()
        for k, (lo, hi) in b["peeled"]["limits"].items():
            lims.loc[0, k], lims.loc[1, k] = lo, hi
        p.yi_remaining = p.yi
        ebox = p._paste(eprim.PrimBox(p, lims, p.yi[in_box(X, b["peeled"]["limits"], names)]))
        assert b["pasting_steps"] > 0 and ebox.coverage > b["peeled"]["coverage"]
        assert abs(b["coverage"] - ebox.coverage) < 0.04 and abs(b["density"] - ebox.density) < 0.015


def test_discovery_plots_show_relaxed_target_categories_and_stability(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from simulator import plot
    rng = np.random.default_rng(5)
    X = {"x": rng.random(1000), "mode": rng.integers(0, 3, 1000).astype(float)}
    y = (X["mode"] == 1.0) & (X["x"] > 0.5)
    res = prim(X, y, threshold=0.9, categorical=["mode"], resamples=8, seed=0)
    res.update(target={"label": "population ≥ 1250万", "label_plain": "population ≥ 12.5 million"}, relaxed=True)
    ax = plot.prim_box(res)
    assert "relaxed target: population ≥ 12.5 million" in ax.get_title() and "{1}" in {t.get_text() for t in ax.texts}
    plt.close(ax.figure)
    ax = plot.box_stability(res)
    freq = res["boxes"][0]["stability"]["restriction_frequency"]
    assert sorted(100 * b.get_width() / 100 for b in ax.containers[0]) == sorted(100 * v for v in freq.values())
    assert "bootstrap stability, 8 resamples" in ax.get_title()
    ax.figure.savefig(tmp_path / "s.png", dpi=40)
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="no stability"):
        plot.box_stability(prim(X, y))
