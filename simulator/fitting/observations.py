"""Observed series and the observation operators that map a model run onto what was measured.

Every observation is one number for one series and year, with its units, whether its error is
relative (fitted in logs) or absolute (levels), its measurement standard deviation σ and its source
row in ``calibration/data``. An *operator* turns a run's Dataset into the model's value of a series
in a year:

* whole-city values are sums of the city's two nodes (``city_population``, ``city_gdp_nominal``);
* plan-area values are sums of the four ``*_P`` nodes (``metro_*``);
* province values are sums of all nine nodes;
* GDP is compared nominal to nominal (model nominal = real × the run's deflator path) and real
  growth to real growth;
* house prices are the 70-city chained index relative to the start year of the run.

Data traps handled here (see calibration/data/README.md §4 and docs/model.md §13.1):

* **Boundaries.** Gongzhuling moved from Siping to Changchun in June 2020. City series from 2020 on
  are on the new boundaries, like the model's nodes. Before 2020 Changchun and Siping are compared
  only as their *sum* (``pair_gdp_nominal/Changchun+Siping``), which the move does not change;
  Changchun's pre-2020 real growth (Gongzhuling was about 8 % of the new Changchun) stands for the
  new city, Siping's (a third of the old city) is not used.
* **GDP revision.** Every level is on the revised (post-2019) basis: 2010–2018 published levels
  are re-levelled by ``base_data.revised_gdp`` (σ doubled for them); Changchun's final 2020 figure.
* **Overstated resident estimates.** No resident-population series between the censuses is used:
  only the 2020 census (node units, province) and the 2021–2024 bulletins.
* **Hukou.** No registered-population series and no hukou-based vital rate is used.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import xarray as xr

from ..model.base_data import CCSP, base_year, obs, observations, revised_gdp
from ..model.nodes import CITIES, NODES

CITY_NODE = {"Changchun": "CC_P", "Jilin": "JL_P"}     # nodes that carry each city's price index


@dataclass(frozen=True)
class Observation:
    series: str          # e.g. "city_population/Changchun"
    year: int
    value: float         # in ``units``
    units: str
    log: bool            # fit the relative (log) error, else the absolute one
    sigma: float         # measurement sd: of ln(value) if log, else in ``units``
    source: str


def _row(city: str, year: int, variable: str) -> dict:
    for row in observations():
        if row["city"] == city and row["year"] == str(year) and row["variable"] == variable:
            return row
    raise KeyError(f"{city}/{year}/{variable}")


def _gdp_nominal(city: str, year: int) -> tuple[float, str]:
    """Nominal GDP [yuan] on the revised basis: the final verified figure where there is one."""
    for variable in ("gdp_current_final", "gdp_current"):
        try:
            row = _row(city, year, variable)
            return row["value"] * 1e8, row["source"]
        except KeyError:
            continue
    raise KeyError(f"{city}/{year}/gdp")


def standard_observations(start: int, end: int) -> list[Observation]:
    """The observations used to calibrate a historical run from ``start`` (2010 or 2020) to ``end``.

    Observations at the start year are part of the initial state (identities), so they are left out.
    """
    if start not in (2010, 2020):
        raise ValueError(f"historical runs start in a census year (2010 or 2020), not {start}")
    out: list[Observation] = []

    def add(series, year, value, units, log, sigma, source):
        if start < year <= end:
            out.append(Observation(series, int(year), float(value), units, log, sigma, source))

    census20 = base_year(2020).population
    for i, n in enumerate(NODES):
        add(f"node_population/{n}", 2020, census20[i], "persons", True, 0.005,
            "7th census 2020 on the node's county units (base_data.base_year(2020); RJ = province − cities)")
    row = _row("Jilin_province", 2020, "resident_pop_census")
    add("province_population", 2020, row["value"], "persons", True, 0.003, row["source"])
    for c in ("Jilin", "Liaoyuan"):
        for year in range(2011, 2019):
            add(f"city_gdp_nominal/{c}", year, revised_gdp(c, year), "yuan/yr", True, 0.04,
                "CCSY level re-levelled to the revised basis (base_data.revised_gdp)")
    for year in range(2011, 2020):
        add(f"pair_gdp_nominal/{CCSP}", year, revised_gdp("Changchun", year) + revised_gdp("Siping", year),
            "yuan/yr", True, 0.04 if year < 2019 else 0.02,
            "sum of the two cities, CCSY levels on the revised basis (base_data.revised_gdp)")
    for c in ("Changchun", "Jilin", "Liaoyuan"):
        for year in range(2011, 2017):
            row = _row(c, year, "gdp_real_growth")
            add(f"city_gdp_real_growth/{c}", year, row["value"] / 100, "1/yr", False, 0.015, row["source"])
    for c in ("Jilin", "Liaoyuan"):
        row = _row(c, 2019, "gdp_current")
        add(f"city_gdp_nominal/{c}", 2019, row["value"] * 1e8, "yuan/yr", True, 0.02, row["source"])
    for year, var in ((2018, "births"), (2019, "births"), (2019, "deaths")):
        row = _row("Jilin_province", year, var)
        add(f"province_{var}", year, row["value"] * 1e4, "persons/yr", True, 0.03, row["source"])
    for year, var in ((2019, "urbanization_rate_revised"), (2020, "urbanization_rate")):
        row = _row("Jilin_province", year, var)
        add("province_urbanization_rate", year, row["value"] / 100, "1", False, 0.003, row["source"])
    for c in CITIES:
        row = _row(c, 2024, "resident_pop")
        add(f"city_population/{c}", 2024, row["value"] * 1e4, "persons", True, 0.005, row["source"])
        for year in (2020, 2021, 2024):
            value, source = _gdp_nominal(c, year)
            add(f"city_gdp_nominal/{c}", year, value, "yuan/yr", True, 0.02, source)
            if year > start + 1:   # the run's first annual total would be compared with the t0 rate
                row = _row(c, year, "gdp_real_growth")
                add(f"city_gdp_real_growth/{c}", year, row["value"] / 100, "1/yr", False, 0.01, row["source"])
        if c in CITY_NODE:
            base = 100.0 if start == 2010 else obs(c, start, "house_price_index_new_chained")   # Dec 2010 = 100
            for year in range(start + 1, min(end, 2025) + 1):
                row = _row(c, year, "house_price_index_new_chained")
                add(f"house_price_index/{c}", year, row["value"] / base, "1", True, 0.02, row["source"])
    for year in (2021, 2022, 2023, 2024):
        row = _row("Jilin_province", year, "resident_pop")
        add("province_population", year, row["value"] * 1e4, "persons", True, 0.003, row["source"])
    for year in (2021, 2024):
        for var in ("births", "deaths"):
            row = _row("Jilin_province", year, var)
            add(f"province_{var}", year, row["value"] * 1e4, "persons/yr", True, 0.03, row["source"])
    for year in (2021, 2023, 2024):
        row = _row("Jilin_province", year, "urbanization_rate")
        add("province_urbanization_rate", year, row["value"] / 100, "1", False, 0.003, row["source"])
    for year in (2022, 2023, 2024):
        row = _row("Jilin_province", year, "net_interprovincial_migration")
        add("province_net_migration_external", year, row["value"] * 1e4, "persons/yr", False, 40000.0, row["source"])
    for row in _extra_rows("city_net_migration.csv", "net_cross_city_inmigration"):
        # 跨市净流入: net migration across the whole city's boundary (from other prefectures and provinces);
        # moves between the city's own two nodes cancel in the operator, as in the bulletin
        add(f"city_net_migration/{row['region']}", int(row["year"]), float(row["value"]) * 1e4, "persons/yr",
            False, 5000.0, row["source"])
    add("metro_population", 2024, 12.10e6, "persons", True, 0.005,
        "plan text 吉政发〔2025〕8号: 常住人口约1210万人 (taken as end-2024)")
    add("metro_gdp_nominal", 2024, 913.0e9, "yuan/yr", True, 0.01, "plan text: 2024年都市圈经济总量9130亿元")
    return out


def _extra_rows(name: str, quantity: str) -> list[dict]:
    """Rows of a tidy data file in calibration/data (``region,year,quantity,value,unit,source,note``)."""
    import csv

    from ..model.base_data import DATA_DIR
    with open(DATA_DIR / name, newline="", encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh) if r["quantity"] == quantity]


def _value(x) -> np.ndarray:
    """The values of a selection: 0-d for one run, (runs,) when the Dataset has a ``run`` dim."""
    return np.asarray(getattr(x, "values", x), dtype=float)


def _city(var: str) -> Callable[[xr.Dataset, int, str], float]:
    return lambda ds, year, city: _value(ds[var].sel(time=year, whole_city=city))


def _real_growth(ds: xr.Dataset, year: int, city: str) -> float:
    nodes = [str(r) for r in ds.region.values if str(ds.city.sel(region=r).values) == city]
    g = ds.gdp_real.sel(region=nodes).sum("region")
    return _value(g.sel(time=year) / g.sel(time=year - 1) - 1)


def _price(ds: xr.Dataset, year: int, city: str) -> float:
    return _value(ds.housing_price_index.sel(time=year, region=CITY_NODE[city]))


def _pair_gdp(ds: xr.Dataset, year: int, pair: str) -> float:
    cities = pair.split("+")
    return _value(ds.city_gdp_nominal.sel(time=year, whole_city=cities).sum("whole_city"))


def _external_flow(direction: str) -> Callable[[xr.Dataset, int, str], float]:
    """Gross migration between the province (all nine nodes) and the rest of China in a calendar year:
    ``in`` = Σ_d M[EXT, d], ``out`` = Σ_o M[o, EXT] [persons/yr]."""
    def op(ds: xr.Dataset, year: int, _: str) -> float:
        flow = ds.migration_flow.sel(time=year)
        if direction == "in":
            return _value(flow.sel(origin="EXT").drop_sel(destination="EXT").sum("destination"))
        return _value(flow.sel(destination="EXT").drop_sel(origin="EXT").sum("origin"))
    return op


def _city_net_migration(ds: xr.Dataset, year: int, city: str) -> float:
    """Net migration of a whole city (both nodes; moves between its own two nodes cancel) [persons/yr]."""
    nodes = [str(r) for r in ds.region.values if str(ds.city.sel(region=r).values) == city]
    return _value(ds.net_migration.sel(time=year, region=nodes).sum("region"))


OPERATORS: dict[str, Callable] = {
    "province_in_migration_external": _external_flow("in"),
    "province_out_migration_external": _external_flow("out"),
    "city_net_migration": _city_net_migration,
    "node_population": lambda ds, year, node: _value(ds.population.sel(time=year, region=node)),
    "city_population": _city("city_population"),
    "pair_gdp_nominal": _pair_gdp,
    "city_gdp_nominal": _city("city_gdp_nominal"),
    "city_gdp_real_growth": _real_growth,
    "house_price_index": _price,
    "province_population": lambda ds, year, _: _value(ds.population.sel(time=year).sum("region")),
    "province_births": lambda ds, year, _: _value(ds.births.sel(time=year).sum("region")),
    "province_deaths": lambda ds, year, _: _value(ds.deaths.sel(time=year).sum("region")),
    "province_urbanization_rate": lambda ds, year, _: _value(
        ds.urban_population.sel(time=year).sum("region") / ds.population.sel(time=year).sum("region")),
    "province_net_migration_external": lambda ds, year, _: _value(
        ds.net_migration_external.sel(time=year).sum("region")),
    "metro_population": lambda ds, year, _: _value(ds.metro_population.sel(time=year)),
    "metro_gdp_nominal": lambda ds, year, _: _value(ds.metro_gdp_nominal.sel(time=year)),
}


def simulated(ds: xr.Dataset, observation: Observation):
    """The model's value of an observed quantity: a float for one run (a Dataset without a ``run`` dim),
    else an array over ``run`` (every operator works on all runs at once)."""
    kind, _, where = observation.series.partition("/")
    v = OPERATORS[kind](ds, observation.year, where)
    return float(v) if v.ndim == 0 else v


def simulated_all(ds: xr.Dataset, observations_: list[Observation]) -> np.ndarray:
    """Model values for every observation; ``ds`` may have a ``run`` dim → shape (runs, n_obs)."""
    if "run" not in ds.dims:
        return np.array([simulated(ds, o) for o in observations_])
    runs = ds.sizes["run"]
    # each observation on all runs at once (``ds.isel(run=i)`` per run and observation was 90 % of a
    # calibration's time); the ``run`` dim is kept first by every operator's selections and sums
    ds = ds.transpose("run", ...)
    return np.stack([np.broadcast_to(np.asarray(simulated(ds, o), dtype=float), (runs,)) for o in observations_],
                    axis=1)
