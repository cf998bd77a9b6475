"""`sim` end to end: run, outputs, reproducibility, clear errors, atomic writing."""
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

from simulator import results
from simulator.cli import main

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"


@pytest.fixture(scope="module")
def baseline_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("baseline")
    res = CliRunner().invoke(main, ["run", str(BASELINE), "-o", str(out)])
    assert res.exit_code == 0, res.output
    return out, res.output


def test_run_prints_target_table(baseline_run):
    _, output = baseline_run
    for text in ("Changchun (plan part)", "Liaoyuan (plan part)", "Metro area total", "2030 target population",
                 "2030 target nominal GDP", "pop 2024", "GDP 2035", "gap"):
        assert text in output
    # the baseline continues the fitted 2020→2024 history: 2024 is the fit's (plan-area statistics 1210万 and
    # 9130亿 within the calibration tolerances of 0.5 % and 1 %)
    import re
    row = next(line for line in output.splitlines() if line.startswith("Metro area total"))
    pop2024, gdp2024 = (float(x) for x in re.findall(r"[-\d.]+", row)[:2])
    assert abs(pop2024 / 1210.0 - 1) < 0.005 and abs(gdp2024 / 9130 - 1) < 0.01, row


def test_run_summarizes_a_historical_run_by_its_own_years(tmp_path):
    """A run that contains none of 2024/2030/2035 (2010 census → 2012) still gets a table."""
    f = tmp_path / "short.yaml"
    f.write_text("name: short\ntime: {start: 2010, end: 2012}\n")
    res = CliRunner().invoke(main, ["run", str(f), "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "pop 2010" in res.output and "pop 2012" in res.output and "not simulated" in res.output
    years = [r["year"] for r in json.loads((tmp_path / "out" / "summary.json").read_text())["years"]]
    assert years == [2010, 2012]


def test_run_writes_outputs_with_units_and_provenance(baseline_run):
    out, _ = baseline_run
    assert {p.name for p in out.iterdir()} == {"results.nc", "results.csv", "summary.json"}
    with xr.open_dataset(out / "results.nc") as ds:
        for name, var in ds.data_vars.items():
            assert var.attrs.get("units") and var.attrs.get("long_name"), name
        text = ds.attrs["scenario_text"]
        assert ds.attrs["scenario_sha256"] == hashlib.sha256(text.encode()).hexdigest()
        assert "name: baseline" in text
        for key in ("parameters", "solver", "package_version", "scenario_resolved", "seed"):
            assert key in ds.attrs
        from simulator import load_scenario
        expected = float(load_scenario(BASELINE).parameters["income_weight"])
        assert json.loads(ds.attrs["parameters"])["income_weight"] == pytest.approx(expected)
        assert set(ds.dims) >= {"time", "region", "age", "origin", "destination"}
        assert list(ds.time.values[:2]) == [2024, 2025]
    summary = json.loads((out / "summary.json").read_text())
    targets = {t["target"]: t for t in summary["targets"]}
    assert targets["population"]["value"] == 1.3e7
    assert targets["gdp_nominal"]["gap"] == pytest.approx(
        targets["gdp_nominal"]["simulated"] - targets["gdp_nominal"]["value"])
    header = (out / "results.csv").read_text().splitlines()[0]
    assert header == "variable,units,time,region,whole_city,origin,destination,home,workplace,age,value"


def test_long_table_rows_are_each_variables_elements(baseline_run):
    """results.csv has one row per element of each variable, in xarray's own order (``to_dataframe``), with
    its coordinates in the columns of its dimensions and the others empty."""
    import pandas as pd
    out, _ = baseline_run
    table = pd.read_csv(out / "results.csv", keep_default_na=False)
    with xr.open_dataset(out / "results.nc") as ds:
        for name in ("population_by_age", "migration_flow", "city_population", "metro_population"):
            rows = table[table.variable == name]
            expected = ds[name].to_dataframe(name="value").reset_index()
            assert len(rows) == ds[name].size and set(rows.units) == {ds[name].attrs["units"]}
            np.testing.assert_array_equal(rows.value.to_numpy(), expected.value.to_numpy())
            for column in ("region", "whole_city", "origin", "destination", "age"):
                got = rows[column].astype(str).to_numpy()
                want = expected[column].astype(str).to_numpy() if column in ds[name].dims else np.full(len(rows), "")
                np.testing.assert_array_equal(got, want, err_msg=f"{name}: {column}")
            np.testing.assert_array_equal(rows.time.to_numpy(), expected.time.to_numpy())


def test_rerun_is_identical(baseline_run, tmp_path):
    out, _ = baseline_run
    res = CliRunner().invoke(main, ["run", str(BASELINE), "-o", str(tmp_path), "--quiet"])
    assert res.exit_code == 0 and res.output == ""
    assert (tmp_path / "summary.json").read_bytes() == (out / "summary.json").read_bytes()
    assert (tmp_path / "results.csv").read_bytes() == (out / "results.csv").read_bytes()


def bad_file(tmp_path, text):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    return f


@pytest.mark.parametrize("text, fragment", [
    ("name: x\nlevers:\n  hukou_eese: 1.0\n", "did you mean 'hukou_ease'"),
    ("name: x\nparameters:\n  depreciation: -0.1\n", "depreciation"),
    ("name: x\nlevers:\n  tfr: {CC_Q: 1.0}\n", "CC_Q"),
    ("name: x\ntime: {start: 2024, end: 2035}\nlevers:\n  tfp_growth: {step: [[2040, 0.03]]}\n", "2040"),
    ("name: x\nextends: missing.yaml\n", "missing.yaml"),
    ("name: [unclosed\n", "bad.yaml"),
])
def test_bad_input_exit_2_no_traceback_no_output(tmp_path, text, fragment):
    f = bad_file(tmp_path, text)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "simulator.cli", "run", str(f), "-o", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "bad.yaml" in proc.stderr and fragment in proc.stderr
    assert not out.exists()


def test_infeasible_base_year_is_a_clear_error(tmp_path):
    f = bad_file(tmp_path, "name: x\nparameters:\n  base_out_migration_rate: 0.5\n  move_consideration_rate: 0.1\n")
    res = CliRunner().invoke(main, ["run", str(f), "-o", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "base_out_migration_rate" in res.output
    assert not (tmp_path / "o").exists()


def test_missing_file(tmp_path):
    res = CliRunner().invoke(main, ["run", str(tmp_path / "nope.yaml")])
    assert res.exit_code == 2 and "nope.yaml" in res.output


def test_validate_schema_params(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(main, ["validate", *map(str, sorted((ROOT / "scenarios").glob("*.yaml")))])
    assert ok.exit_code == 0 and ok.output.count("ok:") == len(list((ROOT / "scenarios").glob("*.yaml")))
    bad = runner.invoke(main, ["validate", str(bad_file(tmp_path, "name: x\nfoo: 1\n"))])
    assert bad.exit_code == 2 and "foo" in bad.output
    res = runner.invoke(main, ["schema", "-o", str(tmp_path / "s.json")])
    assert res.exit_code == 0
    schema = json.loads((tmp_path / "s.json").read_text())
    assert "levers" in json.dumps(schema) and "hukou_ease" in json.dumps(schema)
    res = runner.invoke(main, ["params"])
    assert res.exit_code == 0 and "income_weight" in res.output and "travel_time" in res.output
    assert "sim run scenarios/baseline.yaml" in runner.invoke(main, ["--help"]).output


def test_interrupted_write_keeps_earlier_outputs(baseline_run, tmp_path, monkeypatch):
    out, _ = baseline_run
    target = tmp_path / "o"
    target.mkdir()
    for f in out.iterdir():
        (target / f.name).write_bytes(f.read_bytes())
    before = {f.name: f.read_bytes() for f in target.iterdir()}

    def boom(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(results, "tidy_frame", boom)
    with xr.open_dataset(out / "results.nc") as ds:
        ds = ds.load()
    with pytest.raises(KeyboardInterrupt):
        results.write_outputs(ds, target)
    after = {f.name: f.read_bytes() for f in target.iterdir()}
    assert after == before          # nothing replaced, no temporary files left behind
