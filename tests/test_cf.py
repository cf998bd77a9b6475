"""NetCDF outputs follow CF-1.10 where they can: Conventions, a recognisable time axis, unit strings that
pint parses with the two documented definitions (simulator.cf.PINT_DEFINITIONS)."""
from pathlib import Path

import pytest
import xarray as xr
from click.testing import CliRunner

from simulator.cf import PINT_DEFINITIONS, cf_units, unit_registry
from simulator.cli import main

from .ensemble_helpers import write_sweep

ROOT = Path(__file__).resolve().parents[1]


def _parse_all(ds, ureg):
    bad = []
    for name in ds.variables:
        units = ds[name].attrs.get("units")
        if units is None:
            continue
        try:
            ureg.parse_expression(units) if units == "1" else ureg.parse_units(units)
        except Exception as exc:  # noqa: BLE001 - collect every failure
            bad.append(f"{name}: {units!r} ({exc})")
    return bad


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cf")
    assert CliRunner().invoke(main, ["run", str(ROOT / "scenarios" / "baseline.yaml"), "-o", str(tmp / "run"),
                                     "-q"]).exit_code == 0
    sweep = write_sweep(tmp, design={"method": "sobol", "samples": 2, "seed": 0},
                        outputs={"variables": ["metro_population", "metro_gdp_nominal", "population",
                                               "housing_floor_area"]})
    assert CliRunner().invoke(main, ["sweep", str(sweep), "-o", str(tmp / "ens"), "-q"]).exit_code == 0
    res = CliRunner().invoke(main, ["sensitivity", str(tmp / "ens"), "-o", str(tmp / "sens"), "-q"])
    assert res.exit_code == 0, res.output
    return {"results": tmp / "run" / "results.nc", "ensemble": tmp / "ens" / "ensemble.nc",
            "sensitivity": tmp / "sens" / "sensitivity.nc"}


@pytest.mark.parametrize("kind", ["results", "ensemble", "sensitivity"])
def test_conventions_and_units_parse(written, kind):
    ureg = unit_registry()
    with xr.open_dataset(written[kind]) as ds:
        assert ds.attrs["Conventions"] == "CF-1.10" and "conventions" not in ds.attrs
        assert _parse_all(ds, ureg) == []
        if kind != "sensitivity":
            assert ds["time"].attrs["axis"] == "T" and ds["time"].attrs["standard_name"] == "time"
            assert int(ds.time.values[0]) in (2024, 2030)        # still plain years: sel(time=2030) works


def test_every_variable_unit_string_of_a_full_run_parses(baseline_ds):
    from simulator.cf import cf_dataset
    ds = cf_dataset(baseline_ds)
    assert _parse_all(ds, unit_registry()) == []
    assert ds["housing_floor_area"].attrs["units"] == "m^2"


def test_units_have_the_documented_meaning():
    ureg = unit_registry()
    assert ureg.parse_units("persons") == ureg.parse_units("person")
    assert (1 * ureg.parse_units(cf_units("m2/person"))).to("m^2/person").magnitude == 1
    assert (1e8 * ureg.yuan).to("yuan").magnitude == 1e8
    assert len(PINT_DEFINITIONS) >= 2
