"""`sim gap` (issue 12, "What it would take"): the decomposition identities, the requirement backcasts fed back
into the model, the extra_net_migration lever (conservation, 0-neutral, negative values rejected), bad input.

Kept small: one baseline run shared by the module, one goal seek with the model (extra in-migration), one
TFP seek on a single inflation path and one deliberately unreachable TFR seek."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from simulator.analysis import gap as G
from simulator.api import run
from simulator.cli import main
from simulator.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(BASELINE)


@pytest.fixture(scope="module")
def base(scenario):
    return G.run_with_trajectory(scenario)


@pytest.fixture(scope="module")
def result(scenario):
    return G.gap_analysis(scenario, 2030, requirements=False, record=False)


# --- identities ---------------------------------------------------------------------------------
def test_population_decomposition_is_an_identity(result, base):
    ds, _ = base
    regions = result["population"]["regions"]
    assert set(regions) == {"CC_P", "JL_P", "SP_P", "LY_P", "metro"}
    for name, e in regions.items():
        parts = e["births"] - e["deaths"] + e["net_migration_within_metro"] + e["net_migration_rest_of_jilin"] \
            + e["net_migration_rest_of_china"]
        assert abs(parts - e["change"]) <= 1e-9 * abs(e["end"]), name
        assert abs(e["change"] - (e["end"] - e["start"])) <= 1e-6
        for row in e["by_year"]:
            assert abs(row["residual"]) <= 1e-9 * abs(e["end"]), (name, row["year"])
    m = regions["metro"]
    assert abs(m["net_migration_within_metro"]) < 1e-6 * m["end"]          # cancels inside the plan area
    assert m["end"] == pytest.approx(float(ds.metro_population.sel(time=2030)), rel=1e-15)
    assert m["births"] == pytest.approx(float(ds.metro_births.sel(time=slice(2025, 2030)).sum()), rel=1e-12)
    # the metro's net migration from outside equals the results' metro_net_migration
    outside = m["net_migration_rest_of_jilin"] + m["net_migration_rest_of_china"]
    assert outside == pytest.approx(float(ds.metro_net_migration.sel(time=slice(2025, 2030)).sum()), rel=1e-9)
    assert result["gap"]["population"] == pytest.approx(m["end"] - 1.3e7)


def test_gdp_decomposition_is_an_identity(result, base):
    ds, _ = base
    regions = result["gdp"]["regions"]
    for name, e in regions.items():
        parts = sum(e[c] for c in G.GDP_COMPONENTS)
        assert abs(parts - e["dlog"]) < 1e-12, name
        assert e["dlog"] == pytest.approx(np.log(e["end"] / e["start"]), abs=1e-14)
    m = regions["metro"]
    assert m["end"] == pytest.approx(float(ds.metro_gdp_nominal.sel(time=2030)), rel=1e-12)
    assert sum(m["yuan"].values()) == pytest.approx(m["end"] - m["start"], rel=1e-12)
    # the baseline's sources: 6 years of TFP growth and of the deflator, exactly
    g = float(np.ravel(load_scenario(BASELINE).levers["tfp_growth"].value(2025))[0])
    assert m["tfp"] == pytest.approx(6 * g, rel=1e-9)
    assert m["prices"] == pytest.approx(6 * 0.005, rel=1e-9)
    assert m["capital"] > 0 and m["labour_population"] < 0


# --- the lever ----------------------------------------------------------------------------------
def test_extra_net_migration_at_zero_is_bit_identical(scenario, base):
    ds0, _ = base
    ds1 = run(scenario.with_changes(levers={"extra_net_migration": 0.0}))
    for name in ds0.data_vars:
        assert np.array_equal(ds0[name].values, ds1[name].values, equal_nan=True), name


def test_extra_net_migration_conserves_people(scenario, base):
    ds0, _ = base
    ds = run(scenario.with_changes(levers={"extra_net_migration": {"CC_P": 100_000.0}}))
    years = slice(2025, 2030)
    change = float(ds.population.sel(time=2030).sum() - ds.population.sel(time=2024).sum())
    natural = float(ds.births.sel(time=years).sum() - ds.deaths.sel(time=years).sum())
    external = float(ds.net_migration_external.sel(time=years).sum())
    # residents of the nine nodes + the rest of China (whose change is −external) change only by births − deaths
    assert change - external == pytest.approx(natural, abs=1e-9 * float(ds.population.sel(time=2030).sum()))
    gained = float(ds.migration_flow.sel(time=2025, origin="EXT", destination="CC_P")
                   - ds0.migration_flow.sel(time=2025, origin="EXT", destination="CC_P"))
    assert 0.9e5 < gained < 1.1e5           # the lever enters as in-migration from EXT (plus a small response)
    assert float(ds.population.min()) > 0


def test_negative_extra_net_migration_is_rejected(scenario):
    with pytest.raises(ScenarioError) as exc:
        scenario.with_changes(levers={"extra_net_migration": {"CC_P": -5000}})
    msg = str(exc.value)
    assert "extra_net_migration" in msg and "-5000" in msg and "0" in msg


# --- requirements fed back into the model ---------------------------------------------------------
def test_migration_requirement_reaches_the_population_target(scenario, base):
    ds, traj = base
    req = G.requirement_migration(scenario, ds, traj, 2024, 2030)
    assert req["status"] == "reachable" and req["value"] > 0
    shares = req["shares"]
    assert sum(shares.values()) == pytest.approx(1.0)
    check = run(G.with_extra_migration(scenario, req["value"], shares))
    assert float(check.metro_population.sel(time=2030)) == pytest.approx(1.3e7, rel=1e-3)
    assert sum(req["age_profile"]["by_age"].values()) == pytest.approx(req["value"], rel=1e-9)


def test_tfp_requirement_reaches_the_gdp_target(scenario, base, monkeypatch):
    ds, _ = base
    monkeypatch.setattr(G, "INFLATION_PATHS", (("+1 %/yr", 0.01),))
    (row,) = G.requirement_tfp(scenario, ds, 2024, 2030)
    assert row["status"] == "reachable"
    check = run(G.with_plan_tfp(scenario, row["value"], 0.01))
    assert float(check.metro_gdp_nominal.sel(time=2030)) == pytest.approx(1.35e12, rel=1e-3)


def test_unreachable_tfr_is_reported_with_the_value_at_the_bound(scenario, base, monkeypatch):
    ds, _ = base
    monkeypatch.setattr(G, "TFR_BOUNDS", (0.0, 1.0))          # far too low to add 138万 by 2030
    res = G.requirement_tfr(scenario, ds, 2024, 2030)
    assert res["status"] == "not_reachable" and res["value"] is None
    assert res["value_at_bound"] == 1.0 and res["achieved_at_bound"] < 1.3e7
    assert "not reachable" in G.requirement_sentence_tfr({"requirements": {"tfr": res},
                                                          "targets": {"population": 1.3e7}})


# --- the command ----------------------------------------------------------------------------------

@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_cli_writes_gap_json_and_figure(in_tmp):
    out = in_tmp / "g"
    r = CliRunner().invoke(main, ["gap", str(BASELINE), "--no-requirements", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "Population change 2024→2030" in r.output and "Nominal GDP change" in r.output
    data = json.loads((out / "gap.json").read_text(encoding="utf-8"))
    for key in ("scenario_sha256", "parameters", "solver", "package_version", "analysis_key"):
        assert data[key], key
    assert data["solver"]["rtol"] == 1e-6
    assert (out / "gap.png").read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in out.iterdir()) == ["gap.json", "gap.png"]       # no temporary files left
    # a different analysis (another year) is not written over without --overwrite
    before = (out / "gap.json").read_bytes()
    r2 = CliRunner().invoke(main, ["gap", str(BASELINE), "--no-requirements", "-y", "2029", "-o", str(out)])
    assert r2.exit_code == 2 and "--overwrite" in r2.output
    assert (out / "gap.json").read_bytes() == before


@pytest.mark.parametrize("args, fragment", [
    (["missing.yaml"], "missing.yaml"),
    ([str(BASELINE), "--year", "2040"], "outside the run"),
    ([str(BASELINE), "--year", "2024"], "outside the run"),
    (["half.yaml"], "output step is 0.5"),
    ([str(ROOT / "scenarios" / "history.yaml")], "outside the run"),
])
def test_cli_bad_input(in_tmp, args, fragment):
    (in_tmp / "half.yaml").write_text(f"name: half\nextends: {BASELINE.as_posix()}\n"
                                      "time: {start: 2024, end: 2035, output_step: 0.5}\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["gap", *args, "-o", "out"])
    assert r.exit_code == 2
    assert fragment in r.output and "Traceback" not in r.output
    assert r.output.strip().startswith("error:") and len(r.output.strip().splitlines()) == 1
    assert not (in_tmp / "out").exists()
