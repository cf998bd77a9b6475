"""Data access shared by the plots: variables at node / whole-city / metro level, observed
history from ``calibration/data/city_year.csv``, and loading of results files."""
from __future__ import annotations

import csv
import functools
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

DATA_DIR = Path(__file__).resolve().parents[2] / "calibration" / "data"

# trajectory variable -> metro-total variable in the Dataset (None: derived here)
METRO_VARIABLE = {"population": "metro_population", "urbanization_rate": "metro_urbanization_rate",
                  "gdp_real": "metro_gdp_real", "gdp_nominal": "metro_gdp_nominal",
                  "floor_area_per_urban_resident": None, "births": "metro_births", "deaths": "metro_deaths",
                  "net_migration": "metro_net_migration"}
# ratio variables: numerator / denominator (aggregated by summing both)
RATIOS = {"urbanization_rate": ("urban_population", "population"),
          "floor_area_per_urban_resident": ("housing_floor_area", "urban_population"),
          "unemployment_rate": (None, None), "gdp_per_capita": ("gdp_nominal", "population")}
# metro variable -> (target attribute, label key)
TARGETS = {"metro_population": "target_population", "metro_gdp_nominal": "target_gdp_nominal"}
TARGET_OF_NODE_VARIABLE = {"population": "metro_population", "gdp_nominal": "metro_gdp_nominal"}


def load_results(path) -> xr.Dataset:
    """Open a results file written by ``sim run`` (or an ensemble file) fully into memory, with
    ``in_plan_area`` back as booleans."""
    path = Path(path)
    with xr.open_dataset(path) as f:
        ds = f.load()
    if "in_plan_area" in ds.coords and ds["in_plan_area"].dtype != bool:
        ds = ds.assign_coords(in_plan_area=ds["in_plan_area"].astype(bool))
    return ds


def plan_nodes(ds) -> list[str]:
    return [str(r) for r, p in zip(ds.region.values, np.asarray(ds.in_plan_area.values).astype(bool)) if p]


def units_of(ds, variable: str) -> str:
    if variable in ds:
        return ds[variable].attrs.get("units", "")
    if variable in RATIOS and RATIOS[variable][0]:
        num, den = RATIOS[variable]
        return {"urbanization_rate": "1", "floor_area_per_urban_resident": "m2/person",
                "gdp_per_capita": "yuan/person/yr"}[variable]
    raise KeyError(variable)


def _sum_over(da, dim, groups: dict[str, list[str]], new_dim: str):
    parts = [da.sel({dim: members}).sum(dim) for members in groups.values()]
    return xr.concat(parts, dim=pd.Index(list(groups), name=new_dim))


def city_groups(ds) -> dict[str, list[str]]:
    cities = list(ds.whole_city.values) if "whole_city" in ds.dims else ["Changchun", "Jilin", "Siping", "Liaoyuan"]
    return {str(c): [str(r) for r, cc in zip(ds.region.values, ds.city.values) if cc == c] for c in cities}


def series_by_level(ds, variable: str, level: str = "node") -> xr.DataArray:
    """``variable`` with dim ``key`` (node codes or whole-city names) and ``time``; ratios are
    re-aggregated from their numerator and denominator. Keeps a leading ``run`` dim if present."""
    if level == "node":
        da = ds[variable].rename(region="key")
    elif level == "city":
        direct = {"population": "city_population", "gdp_nominal": "city_gdp_nominal"}
        if variable in direct and direct[variable] in ds:
            da = ds[direct[variable]].rename(whole_city="key")
        elif variable in RATIOS and RATIOS[variable][0]:
            num, den = RATIOS[variable]
            g = city_groups(ds)
            da = _sum_over(ds[num], "region", g, "key") / _sum_over(ds[den], "region", g, "key")
        else:
            da = _sum_over(ds[variable], "region", city_groups(ds), "key")
    else:
        raise ValueError(f"level must be 'node' or 'city', not {level!r}")
    da = da.drop_vars([c for c in da.coords if c not in ("time", "key", "run")])
    da.attrs["units"] = units_of(ds, variable)
    return da


def metro_series(ds, variable: str) -> xr.DataArray:
    """Metro-area (plan-area) total of a node variable, or a metro_* variable itself."""
    if variable.startswith("metro_"):
        da = ds[variable]
    elif METRO_VARIABLE.get(variable):
        da = ds[METRO_VARIABLE[variable]]
    elif variable in RATIOS and RATIOS[variable][0]:
        num, den = RATIOS[variable]
        p = plan_nodes(ds)
        da = ds[num].sel(region=p).sum("region") / ds[den].sel(region=p).sum("region")
    else:
        da = ds[variable].sel(region=plan_nodes(ds)).sum("region")
    da = da.copy()
    da.attrs["units"] = units_of(ds, variable)
    return da


def target_for(ds, variable: str):
    """(year, value) of the 2030 target for a metro variable (or the node variable whose metro
    total has a target), else None."""
    metro = variable if variable in TARGETS else TARGET_OF_NODE_VARIABLE.get(variable)
    if metro is None or TARGETS[metro] not in ds.attrs:
        return None
    return int(ds.attrs["target_year"]), float(ds.attrs[TARGETS[metro]])


# ---------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _rows() -> pd.DataFrame:
    rows = []
    for name in ("city_year.csv", "supplement.csv"):
        p = DATA_DIR / name
        if not p.exists():
            continue
        with open(p, newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                try:
                    rows.append((r["city"], int(r["year"]), r["variable"], float(r["value"]), r["unit"]))
                except (ValueError, TypeError):
                    continue
    return pd.DataFrame(rows, columns=["city", "year", "variable", "value", "unit"])


CITY_NAMES = ("Changchun", "Jilin", "Siping", "Liaoyuan")


def observed_history(variable: str) -> pd.DataFrame:
    """Observed whole-city history for ``variable`` in the data units of the model
    (columns city, year, value, source_variable). Empty when there is no comparable series.

    * population ← ``resident_pop_census`` (persons; the 2010 census at 2020 boundaries where the
      file has it) and ``resident_pop`` (10k persons × 10⁴);
    * gdp_nominal ← 2010–2019 on the revised basis and 2020 boundaries
      (``base_data.city_gdp_2020_bounds``: published levels fall at the 2017/2019 statistical
      revisions, which are not output changes), then ``gdp_current`` (100M CNY = 亿元 × 10⁸);
    * urbanization_rate ← ``urbanization_rate_census`` (% ÷ 100), or urban/total census counts at
      2020 boundaries for 2010 where available.
    The census per-capita floor area covers urban + rural households, so it is not compared with
    the model's floor area per *urban* resident.
    """
    df = _rows()
    df = df[df.city.isin(CITY_NAMES)]
    out = []
    if variable == "population":
        c = df[df.variable == "resident_pop_census"].assign(value=lambda d: d.value)
        b = df[df.variable == "resident_pop_census_2020bounds"]
        c = pd.concat([b, c]).drop_duplicates(["city", "year"], keep="first")
        r = df[df.variable == "resident_pop"].assign(value=lambda d: d.value * 1e4)
        out = [c, r]
    elif variable == "gdp_nominal":
        from ..model.base_data import city_gdp_2020_bounds
        revised = pd.DataFrame([{"city": c, "year": y, "value": city_gdp_2020_bounds(c, y),
                                 "variable": "gdp_revised_2020bounds"} for c in CITY_NAMES for y in range(2010, 2020)])
        recent = df[(df.variable == "gdp_current") & (df.year.astype(int) >= 2020)].assign(value=lambda d: d.value * 1e8)
        out = [revised, recent.assign(year=recent.year.astype(int))]
    elif variable == "urbanization_rate":
        u = df[df.variable == "urban_resident_pop_census_2020bounds"].set_index(["city", "year"]).value
        t = df[df.variable == "resident_pop_census_2020bounds"].set_index(["city", "year"]).value
        derived = (u / t).dropna().rename("value").reset_index().assign(variable="urbanization_rate_census_2020bounds")
        c = df[df.variable == "urbanization_rate_census"].assign(value=lambda d: d.value / 100)
        out = [derived, c]
    if not out:
        return pd.DataFrame(columns=["city", "year", "value", "source_variable"])
    res = pd.concat(out).drop_duplicates(["city", "year"], keep="first")
    res = res.groupby(["city", "year"], as_index=False).agg(value=("value", "mean"), source_variable=("variable", "first"))
    return res.sort_values(["city", "year"]).reset_index(drop=True)
