"""Observed data and the base-year (end-2024) node figures derived from them.

Reads ``calibration/data/city_year.csv`` (public statistics with sources, copied from the
project's shared data), ``supplement.csv`` (a few extra rows in the same format) and
``age_schedules.csv``. Every derived number below is documented in docs/model.md §8 (base-year construction).

Derivations, in short:

* **Plan-area split.** Each city's 2020 census population is split into plan-area units and the
  rest (county tables). The partly included Yushu and Dongliao enter the plan area with one common
  share ``a``; Jilin City's 255,303 unallocated development-zone residents are put in ``JL_P``.
  Both parts of a city are scaled by that city's 2020→2024 resident change, and ``a`` is solved so
  that the plan area holds 12.10 million at end-2024 (the plan's base). Result: a ≈ 0.665.
* **GDP split.** Within a city, GDP per resident outside the plan area is a common fraction ``r``
  of that inside it, with ``r`` solved so that plan-area GDP is 913.0 bn yuan (plan text).
* **Rest of Jilin (RJ).** Province minus the four cities for population; GDP per resident of the
  five other prefectures in the same table (Meihekou and Changbaishan are not itemized).
* **2020 (start of the short historical run).** The census node units themselves; 2020 age shapes
  without the roll-forward; 2020 nominal GDP of each city split with the same r as 2024; RJ GDP =
  province (geometric mean of 2019 and 2021) minus the four cities. Real values of a run are at the
  prices of its start year (the deflator is 1 at t0).
* **2010 (start of the long historical run).** See ``_base_2010``: the 2010 census on 2020
  boundaries split into the same node units, 2010 urban and age shares, and 2010 GDP put on the
  revised (post-2019) basis by ``revised_gdp``.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .nodes import NODES, N_NODES

DATA_DIR = Path(__file__).resolve().parents[2] / "calibration" / "data"
BASE_YEAR = 2024
BASE_YEARS = (2010, 2020, 2024)   # start years with an initial state from the data
AGE_GROUPS: tuple[str, ...] = ("0-4", "5-9", "10-14", "15-19", "20-24", "25-29", "30-34", "35-39",
                               "40-44", "45-49", "50-54", "55-59", "60-64", "65-69", "70-74",
                               "75-79", "80-84", "85+")
N_AGES = len(AGE_GROUPS)
AGE_LOWER = np.arange(0, 90, 5, dtype=float)
CENSUS_2020_DATE = 2020 + 305 / 366       # 1 November 2020
BASE_DATE = 2025.0                        # 31 Dec 2024 as a calendar decimal year (model time 2024)

PLAN_BASE_POPULATION = 12_100_000.0       # 常住人口约1210万人 (plan text)
PLAN_BASE_GDP = 913.0e9                   # 9130亿元, 2024 (plan text)
JL_DEV_ZONES_2020 = 255_303.0             # Jilin City residents not allocated to any district

_PLAN_UNITS = {
    "Changchun": ["Changchun-Nanguan", "Changchun-Kuancheng", "Changchun-Chaoyang", "Changchun-Erdao",
                  "Changchun-Lvyuan", "Changchun-Shuangyang", "Changchun-Jiutai", "Changchun-Nong_an",
                  "Changchun-ETDZ", "Changchun-Jingyue", "Changchun-HighTech", "Changchun-AutoZone",
                  "Changchun-Dehui", "Changchun-Gongzhuling"],
    "Jilin": ["Jilin-Changyi", "Jilin-Longtan", "Jilin-Chuanying", "Jilin-Fengman"],
    "Siping": ["Siping-Tiedong", "Siping-Tiexi", "Siping-Yitong"],
    "Liaoyuan": ["Liaoyuan-Longshan", "Liaoyuan-Xi_an"],
}
_PARTIAL_UNIT = {"Changchun": "Changchun-Yushu(PARTIAL in scope)",
                 "Liaoyuan": "Liaoyuan-Dongliao(PARTIAL in scope)"}
_CITY_OF_NODE = {"CC": "Changchun", "JL": "Jilin", "SP": "Siping", "LY": "Liaoyuan"}
_OTHER_PREFECTURES = ("Songyuan", "Baicheng", "Yanbian", "Tonghua", "Baishan")


@lru_cache(maxsize=1)
def observations() -> tuple[dict, ...]:
    """All rows of city_year.csv and supplement.csv (value as float)."""
    rows = []
    for name in ("city_year.csv", "supplement.csv"):
        with open(DATA_DIR / name, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                row = dict(row)
                row["value"] = float(row["value"])
                rows.append(row)
    return tuple(rows)


def obs(city: str, year: int | str, variable: str) -> float:
    """One observed value; KeyError naming what is missing."""
    year = str(year)
    for row in observations():
        if row["city"] == city and row["year"] == year and row["variable"] == variable:
            return row["value"]
    raise KeyError(f"no observation {city}/{year}/{variable} in {DATA_DIR}")


@lru_cache(maxsize=1)
def age_schedules() -> dict[str, np.ndarray]:
    """Columns of age_schedules.csv as arrays over the 18 age groups."""
    with open(DATA_DIR / "age_schedules.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["age_group"] for r in rows] == list(AGE_GROUPS)
    cols = ("national_population_2020", "mortality_rate_2020", "fertility_share", "female_share",
            "participation_rate")
    return {c: np.array([float(r[c]) for r in rows]) for c in cols}


def rogers_castro(age: np.ndarray, mu2: float | np.ndarray = 20.0) -> np.ndarray:
    """Rogers–Castro model migration schedule (Rogers & Castro 1981, 'basic' parameters); ``mu2`` is
    the age of the labour-force peak [yr] (an array of peaks broadcasts against ``age``)."""
    a1, al1, a2, al2, la2, c = 0.02, 0.1, 0.06, 0.1, 0.4, 0.003
    return (a1 * np.exp(-al1 * age)
            + a2 * np.exp(-al2 * (age - mu2) - np.exp(-la2 * (age - mu2))) + c)


def migration_age_profile(peak_age: float | np.ndarray = 20.0) -> np.ndarray:
    """Relative migration propensity by age group (Rogers–Castro at group mid-points).

    Scaled to an unweighted mean of 1 over the groups; the level is absorbed by the base-year
    calibration of the home premium ψ, so only the shape matters.
    Returns shape (G,) for a scalar ``peak_age``, (G, M) for a vector of M peaks.
    """
    peak = np.asarray(peak_age, dtype=float)
    age = AGE_LOWER + 2.5 if peak.ndim == 0 else (AGE_LOWER + 2.5)[:, None]
    r = rogers_castro(age, peak)
    return r / r.mean(axis=0)


@dataclass(frozen=True)
class BaseYearData:
    """End-of-2024 figures per node (arrays in NODES order)."""
    population: np.ndarray          # persons
    urban_population: np.ndarray    # persons
    age_shares: np.ndarray          # (N, G), rows sum to 1
    gdp: np.ndarray                 # yuan/yr, 2024 current = constant 2024 prices
    floor_area_per_person: np.ndarray   # m2/person (census 2020, family households)
    population_2020: np.ndarray     # persons, census 2020 on node units
    partial_share: float            # share of Yushu and Dongliao inside the plan area
    gdp_outside_ratio: float        # GDP per resident outside / inside the plan area
    price_index_growth: np.ndarray  # observed Dec/Dec change of the new-home index in the base year


def _census_2020_nodes() -> tuple[dict[str, float], dict[str, float], dict[str, tuple[float, float]]]:
    """2020 census population and urban population of each city's fully-in-plan units and of the
    partial county, plus whole-city totals."""
    full, full_urban, partial = {}, {}, {}
    for city, units in _PLAN_UNITS.items():
        full[city] = sum(obs(u, 2020, "resident_pop_census") for u in units)
        full_urban[city] = sum(obs(u, 2020, "urban_resident_pop_census") for u in units)
        if city in _PARTIAL_UNIT:
            u = _PARTIAL_UNIT[city]
            partial[city] = (obs(u, 2020, "resident_pop_census"), obs(u, 2020, "urban_resident_pop_census"))
        else:
            partial[city] = (0.0, 0.0)
    # the unallocated Jilin City development zones are inside the districts (urban)
    full["Jilin"] += JL_DEV_ZONES_2020
    full_urban["Jilin"] += JL_DEV_ZONES_2020
    return full, full_urban, partial


def _root(f, lo: float, hi: float) -> float:
    """The root of a continuous ``f`` that changes sign on [lo, hi], by bisection to the last bit (a few
    dozen calls; scipy.optimize would add ~0.3 s of imports to every `sim run`)."""
    f_lo, f_hi = f(lo), f(hi)
    if not (np.isfinite(f_lo) and np.isfinite(f_hi)) or f_lo * f_hi > 0:
        raise ValueError(f"no sign change on [{lo}, {hi}] (f = {f_lo}, {f_hi})")
    if f_lo == 0 or f_hi == 0:
        return lo if f_lo == 0 else hi
    while True:
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            return mid
        f_mid = f(mid)
        if f_mid == 0:
            return mid
        if not np.isfinite(f_mid):
            raise ValueError(f"f is not finite at {mid}")
        if (f_mid > 0) == (f_lo > 0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid


@lru_cache(maxsize=4)
def base_year(year: int = BASE_YEAR) -> BaseYearData:
    """Node figures at the end of ``year`` (2024, the default base; 2020 or 2010, the census years
    that start historical runs) derived from the observations (see module docstring)."""
    if year not in BASE_YEARS:
        raise ValueError(f"no base-year data for {year}; available: {BASE_YEARS}")
    if year == 2010:
        return _base_2010()
    full, full_urban, partial = _census_2020_nodes()
    cities = list(_CITY_OF_NODE.values())
    whole20 = {c: obs(c, 2020, "resident_pop_census") for c in cities}
    whole24 = {c: obs(c, 2024, "resident_pop") * 1e4 for c in cities}
    growth = {c: whole24[c] / whole20[c] for c in cities}

    def plan_pop(a: float) -> float:
        return sum((full[c] + a * partial[c][0]) * growth[c] for c in cities)

    a = _root(lambda a: plan_pop(a) - PLAN_BASE_POPULATION, 0.0, 1.0)
    pop20, urb20, pop24 = {}, {}, {}
    for code, c in _CITY_OF_NODE.items():
        p_in = full[c] + a * partial[c][0]
        u_in = full_urban[c] + a * partial[c][1]
        pop20[f"{code}_P"], pop20[f"{code}_R"] = p_in, whole20[c] - p_in
        urb20[f"{code}_P"] = u_in
        urb20[f"{code}_R"] = obs(c, 2020, "urban_resident_pop_census") - u_in
        pop24[f"{code}_P"], pop24[f"{code}_R"] = p_in * growth[c], (whole20[c] - p_in) * growth[c]
    prov20 = obs("Jilin_province", 2020, "resident_pop_census")
    prov24 = obs("Jilin_province", 2024, "resident_pop") * 1e4
    pop20["RJ"] = prov20 - sum(whole20.values())
    urb20["RJ"] = obs("Jilin_province", 2020, "urban_resident_pop_census") - sum(
        obs(c, 2020, "urban_resident_pop_census") for c in cities)
    pop24["RJ"] = prov24 - sum(whole24.values())

    # urban share: 2020 census share of the node + the province's 2020→2024 change, below the ceiling
    d_urb = (obs("Jilin_province", 2024, "urbanization_rate") - obs("Jilin_province", 2020, "urbanization_rate")) / 100
    population = np.array([pop24[n] for n in NODES])
    share20 = np.array([urb20[n] / pop20[n] for n in NODES])
    from .parameters import PARAMETERS
    ceiling = PARAMETERS["urbanization_ceiling"].default_array()
    share24 = np.minimum(share20 + d_urb, ceiling - 0.02)
    urban = population * share24

    # GDP: plan part vs rest of each city with a common per-resident ratio r
    gdp_city = {c: obs(c, 2024, "gdp_current") * 1e8 for c in cities}

    def plan_gdp(r: float) -> float:
        total = 0.0
        for code, c in _CITY_OF_NODE.items():
            pin, pout = pop24[f"{code}_P"], pop24[f"{code}_R"]
            total += gdp_city[c] * pin / (pin + r * pout)
        return total

    r = _root(lambda r: plan_gdp(r) - PLAN_BASE_GDP, 0.05, 5.0)
    gdp = {}
    for code, c in _CITY_OF_NODE.items():
        pin, pout = pop24[f"{code}_P"], pop24[f"{code}_R"]
        y_in = gdp_city[c] / (pin + r * pout)
        gdp[f"{code}_P"], gdp[f"{code}_R"] = y_in * pin, r * y_in * pout
    other_gdp = sum(obs(p, 2024, "gdp_current") for p in _OTHER_PREFECTURES) * 1e8
    other_pop = sum(obs(p, 2024, "resident_pop") for p in _OTHER_PREFECTURES) * 1e4
    gdp["RJ"] = other_gdp / other_pop * pop24["RJ"]

    # age structure: national 2020 shape tilted to the city's 0–14 / 65+ census shares, rolled forward
    sched = age_schedules()
    shares = np.empty((N_NODES, N_AGES))
    for i, n in enumerate(NODES):
        s014, s65 = _age_shares_2020(n, prov20, pop20, whole20)
        shares[i] = roll_forward(tilt_age_shares(sched["national_population_2020"], s014, s65),
                                 years=4, tfr=_default_tfr()[i])

    floor_city = {c: obs(c, 2020, "per_capita_housing_floor_area_census") for c in cities}
    floor_rj = sum(floor_city[c] * whole20[c] for c in cities) / sum(whole20.values())   # four-city mean
    floor = np.array([floor_city[_CITY_OF_NODE[n[:2]]] if n != "RJ" else floor_rj for n in NODES])
    price_growth = np.full(N_NODES, np.nan)
    for code, c in (("CC", "Changchun"), ("JL", "Jilin")):
        g = obs(c, year, "house_price_index_new_chained") / obs(c, year - 1, "house_price_index_new_chained") - 1
        price_growth[NODES.index(f"{code}_P")] = g
    population_2020 = np.array([pop20[n] for n in NODES])
    if year == 2020:
        # census year: node units as counted (1 Nov 2020, taken as the end of 2020), 2020 shapes
        # without roll-forward, 2020 nominal GDP split with the same plan/rest ratio r as 2024
        shares20 = np.array([tilt_age_shares(sched["national_population_2020"], *_age_shares_2020(n, prov20, pop20, whole20))
                             for n in NODES])
        gdp20 = {c: _gdp_2020(c) for c in cities}
        gdp_nodes = {}
        for code, c in _CITY_OF_NODE.items():
            pin, pout = pop20[f"{code}_P"], pop20[f"{code}_R"]
            y_in = gdp20[c] / (pin + r * pout)
            gdp_nodes[f"{code}_P"], gdp_nodes[f"{code}_R"] = y_in * pin, r * y_in * pout
        prov_gdp20 = np.sqrt(obs("Jilin_province", 2019, "gdp_current") * obs("Jilin_province", 2021, "gdp_current")) * 1e8
        gdp_nodes["RJ"] = prov_gdp20 - sum(gdp20.values())
        return BaseYearData(population=population_2020, urban_population=np.array([urb20[n] for n in NODES]),
                            age_shares=shares20, gdp=np.array([gdp_nodes[n] for n in NODES]),
                            floor_area_per_person=floor, population_2020=population_2020, partial_share=a,
                            gdp_outside_ratio=r, price_index_growth=price_growth)
    return BaseYearData(population=population, urban_population=urban, age_shares=shares,
                        gdp=np.array([gdp[n] for n in NODES]), floor_area_per_person=floor,
                        population_2020=population_2020, partial_share=a,
                        gdp_outside_ratio=r, price_index_growth=price_growth)


def _gdp_2020(city: str) -> float:
    """2020 nominal GDP [yuan]: the final verified figure where the data have one."""
    try:
        return obs(city, 2020, "gdp_current_final") * 1e8
    except KeyError:
        return obs(city, 2020, "gdp_current") * 1e8


def _age_shares_2020(node: str, prov20: float, pop20: dict, whole20: dict) -> tuple[float, float]:
    """2020 census shares of ages 0–14 and 65+ for a node (its city's; RJ: province minus cities)."""
    cities = list(_CITY_OF_NODE.values())
    if node != "RJ":
        c = _CITY_OF_NODE[node[:2]]
        return obs(c, 2020, "share_age_0_14") / 100, obs(c, 2020, "share_age_65plus") / 100
    w = np.array([whole20[c] for c in cities])
    out = []
    for var in ("share_age_0_14", "share_age_65plus"):
        prov = obs("Jilin_province", 2020, var) / 100
        out.append((prov20 * prov - sum(w * np.array([obs(c, 2020, var) / 100 for c in cities]))) / pop20["RJ"])
    return tuple(out)


def _default_tfr() -> np.ndarray:
    from .levers import LEVERS
    return LEVERS["tfr"].default_array()


def tilt_age_shares(reference: np.ndarray, share_0_14: float, share_65plus: float) -> np.ndarray:
    """Scale a reference age distribution so its 0–14 and 65+ shares equal the given ones."""
    ref = reference / reference.sum()
    young, old = slice(0, 3), slice(13, N_AGES)
    mid = slice(3, 13)
    out = ref.copy()
    out[young] *= share_0_14 / ref[young].sum()
    out[old] *= share_65plus / ref[old].sum()
    out[mid] *= (1 - share_0_14 - share_65plus) / ref[mid].sum()
    return out


def roll_forward(shares: np.ndarray, years: int, tfr: float) -> np.ndarray:
    """Age a 5-year-group distribution by whole ``years`` using single years of age.

    Survivors move up one year per year under the base mortality schedule; each year's births are
    TFR · Σ_g (f_g/5)·φ_g·P_g. Returns shares (sum 1). Used only to move 2020 census shapes to 2024.
    """
    sched = age_schedules()
    single = np.repeat(shares[:-1] / 5.0, 5)                      # ages 0..84
    tail = 0.8 ** np.arange(15)
    single = np.concatenate([single, shares[-1] * tail / tail.sum()])   # ages 85..99
    m = np.concatenate([np.repeat(sched["mortality_rate_2020"][:-1], 5), np.full(15, sched["mortality_rate_2020"][-1])])
    fert = np.concatenate([np.repeat(sched["fertility_share"][:-1] / 5 * sched["female_share"][:-1], 5), np.zeros(15)])
    for _ in range(years):
        births = tfr * np.sum(fert * single)   # TFR·Σ_a (f_g/5)·φ_g·P_a over single ages
        survivors = single * np.exp(-m)
        new = np.empty_like(single)
        new[1:] = survivors[:-1]
        new[-1] += survivors[-1]
        new[0] = births * np.exp(-m[0] / 2)
        single = new
    grouped = np.concatenate([single[:85].reshape(17, 5).sum(axis=1), [single[85:].sum()]])
    return grouped / grouped.sum()


# ------------------------------------------------------------------------------------------------
# 2010: the start of the long historical run
# ------------------------------------------------------------------------------------------------
CCSP = "Changchun+Siping"          # the pair whose sum is the same on 2010 and 2020 boundaries
GDP_BREAKS = {"Changchun": (2019,), "Jilin": (2014, 2017, 2019), "Siping": (2014, 2017, 2019),
              "Liaoyuan": (2014, 2017, 2019)}
# nominal growth assumed in a break year (the published change mixes growth and the level revision):
# 2017 and 2019: real growth of Jilin province 5.3 % and 3.0 % plus about 1 %/yr of prices; 2014 (after
# the 2013 economic census): the city's own published real growth plus the national GDP deflator,
# 0.8 % [judgement]
BREAK_YEAR_NOMINAL_GROWTH = {2017: 0.063, 2019: 0.040}
DEFLATOR_2014 = 0.008
_OTHER_PREFECTURES_2010 = ("Tonghua", "Baishan", "Songyuan", "Baicheng", "Yanbian")


def break_year_growth(city: str, year: int) -> float:
    """Nominal growth [1/yr] assumed for ``city`` across the break ``year`` (see GDP_BREAKS)."""
    if year == 2014:
        return obs(city, 2014, "gdp_real_growth") / 100 + DEFLATOR_2014
    return BREAK_YEAR_NOMINAL_GROWTH[year]


def revised_gdp(city: str, year: int) -> float:
    """Nominal GDP [yuan] of ``city`` in ``year`` (2010–2019, boundaries of that year) on the revised
    basis of 2019 onwards.

    CCSY levels fall at statistical revisions: in 2014 (Jilin City −9 %, Siping 0 %, Liaoyuan −1 %
    nominal against 6–7 % real growth, after the 2013 economic census), in 2017 (Jilin City, Siping,
    Liaoyuan −10 to −21 %) and in 2019 (all four, after the 2018 economic census; data README §4.2).
    Going back from the revised 2019 level, each earlier year keeps the published nominal growth
    except across a break year, whose growth is ``break_year_growth`` instead: a revision is a level
    factor per segment, not a change in output.
    """
    if not 2010 <= year <= 2019:
        raise ValueError(f"revised_gdp covers 2010–2019, not {year}")
    level = obs(city, 2019, "gdp_current") * 1e8
    for y in range(2019, year, -1):          # step from y back to y − 1
        growth = (1 + break_year_growth(city, y) if y in GDP_BREAKS[city]
                  else obs(city, y, "gdp_current") / obs(city, y - 1, "gdp_current"))
        level /= growth
    return level


def revision_factor(city: str, year: int) -> float:
    """Revised / published GDP level of ``city`` in ``year`` (1 from 2019 on)."""
    return 1.0 if year >= 2019 else revised_gdp(city, year) / (obs(city, year, "gdp_current") * 1e8)


def back_shift_age_shares(shares: np.ndarray, years: int = 10) -> np.ndarray:
    """An age distribution ``years`` (a multiple of 5) earlier, by moving each 5-year cohort back
    down the age groups and undoing the base mortality; the two oldest groups, whose cohorts are
    beyond 85+ later, continue the ratio of the groups below them. Returns shares (sum 1)."""
    shift = years // 5
    m = age_schedules()["mortality_rate_2020"]
    out = np.empty(N_AGES)
    for g in range(N_AGES - shift):
        survival = np.exp(-5 * m[g:g + shift].sum())       # from group g to group g + shift
        out[g] = shares[g + shift] / survival
    for g in range(N_AGES - shift, N_AGES):
        out[g] = out[g - 1] * shares[g] / shares[g - 1]
    return out / out.sum()


def gongzhuling_share_of_siping() -> float:
    """Gongzhuling's share of (old-boundary) Siping GDP: its 2010 census share of Siping's residents,
    i.e. Siping's GDP per resident [judgement: county GDP is not in the data], held for 2010–2019."""
    gzl = obs("Siping", 2010, "resident_pop_census") - obs("Siping", 2010, "resident_pop_census_2020bounds")
    return gzl / obs("Siping", 2010, "resident_pop_census")


def city_gdp_2020_bounds(city: str, year: int) -> float:
    """Nominal GDP [yuan] of a city on 2020 boundaries and the revised basis: 2010–2019 from
    ``revised_gdp`` with Gongzhuling's share moved from Siping to Changchun; from 2020 the published
    figure (Changchun's final 2020 value)."""
    if year >= 2020:
        try:
            return obs(city, year, "gdp_current_final") * 1e8
        except KeyError:
            return obs(city, year, "gdp_current") * 1e8
    moved = gongzhuling_share_of_siping() * revised_gdp("Siping", year)
    return revised_gdp(city, year) + {"Changchun": moved, "Siping": -moved}.get(city, 0.0)


def city_gdp_2010() -> dict[str, float]:
    """2010 nominal GDP [yuan] of the four cities on 2020 boundaries and the revised basis."""
    return {c: city_gdp_2020_bounds(c, 2010) for c in _CITY_OF_NODE.values()}


def _census_2010_nodes() -> tuple[dict[str, float], dict[str, float]]:
    """2010 census population of each city's fully-in-plan units and of its partial county.

    Changchun (2020 boundaries): the city minus Yushu. Jilin City: its four district rows.
    Liaoyuan: its two districts. Siping (Tiedong, Tiexi, Yitong): the remainder of the four-city
    full-unit total (11,143,054), which leaves Lishu + Shuangliao as the rest of Siping (checked
    against their own rows in tests/test_base_year.py).
    """
    cities = list(_CITY_OF_NODE.values())
    partial = {c: (obs(u, 2010, "resident_pop_census") if (u := _PARTIAL_UNIT.get(c)) else 0.0) for c in cities}
    full = {"Changchun": census_2010_city("Changchun") - partial["Changchun"],
            "Jilin": sum(obs(u, 2010, "resident_pop_census") for u in _PLAN_UNITS["Jilin"]),
            "Liaoyuan": obs("Liaoyuan", 2010, "district_pop_census")}
    full["Siping"] = obs("Metro_area", 2010, "scope_pop_census_full_units") - sum(full.values())
    return full, partial


def census_2010_city(city: str, urban: bool = False) -> float:
    """2010 census (urban) population of a city on 2020 boundaries."""
    var = "urban_resident_pop_census" if urban else "resident_pop_census"
    try:
        return obs(city, 2010, var + "_2020bounds")
    except KeyError:
        return obs(city, 2010, var)


def _base_2010() -> BaseYearData:
    """Node figures at the 2010 census (1 Nov 2010, taken as the end of 2010)."""
    b24 = base_year(2024)
    a, r = b24.partial_share, b24.gdp_outside_ratio
    cities = list(_CITY_OF_NODE.values())
    full, partial = _census_2010_nodes()
    full20, full_urban20, partial20 = _census_2020_nodes()
    pop, urb = {}, {}
    for code, c in _CITY_OF_NODE.items():
        whole, whole_u = census_2010_city(c), census_2010_city(c, urban=True)
        p_in = full[c] + a * partial[c]
        pop[f"{code}_P"], pop[f"{code}_R"] = p_in, whole - p_in
        # urban shares: each node's 2020 census share minus its city's 2010→2020 rise, then scaled
        # so that the city's urban total is the 2010 census figure
        rise = obs(c, 2020, "urban_resident_pop_census") / obs(c, 2020, "resident_pop_census") - whole_u / whole
        u20_in = (full_urban20[c] + a * partial20[c][1]) / (full20[c] + a * partial20[c][0])
        p20_out = obs(c, 2020, "resident_pop_census") - (full20[c] + a * partial20[c][0])
        u20_out = (obs(c, 2020, "urban_resident_pop_census") - full_urban20[c] - a * partial20[c][1]) / p20_out
        u_in, u_out = pop[f"{code}_P"] * (u20_in - rise), pop[f"{code}_R"] * (u20_out - rise)
        scale = whole_u / (u_in + u_out)
        urb[f"{code}_P"], urb[f"{code}_R"] = u_in * scale, u_out * scale
    prov = obs("Jilin_province", 2010, "resident_pop_census")
    pop["RJ"] = prov - sum(census_2010_city(c) for c in cities)
    others = _OTHER_PREFECTURES_2010
    other_pop = np.array([obs(c, 2010, "resident_pop_census") for c in others])
    other_urb = sum(obs(c, 2010, "urban_resident_pop_census") for c in others)
    urb["RJ"] = pop["RJ"] * other_urb / other_pop.sum()

    # GDP: plan part vs rest of each city with the 2024 ratio r; RJ at its 2020 GDP per resident
    # relative to the four cities
    gdp_city = city_gdp_2010()
    gdp = {}
    for code, c in _CITY_OF_NODE.items():
        pin, pout = pop[f"{code}_P"], pop[f"{code}_R"]
        y_in = gdp_city[c] / (pin + r * pout)
        gdp[f"{code}_P"], gdp[f"{code}_R"] = y_in * pin, r * y_in * pout
    b20 = base_year(2020)
    rj = NODES.index("RJ")
    four20 = np.delete(b20.gdp, rj).sum() / np.delete(b20.population, rj).sum()
    four10 = sum(gdp_city.values()) / sum(census_2010_city(c) for c in cities)
    gdp["RJ"] = b20.gdp[rj] / b20.population[rj] / four20 * four10 * pop["RJ"]

    # ages: national 2020 shape moved back ten years, tilted to each city's 2010 census shares
    shape = back_shift_age_shares(age_schedules()["national_population_2020"], 10)

    def tilt(where):
        return tilt_age_shares(shape, obs(where, 2010, "share_age_0_14_2020bounds") / 100,
                               obs(where, 2010, "share_age_65plus_2020bounds") / 100)

    shares = np.empty((N_NODES, N_AGES))
    for i, n in enumerate(NODES):
        if n == "RJ":
            w = other_pop / other_pop.sum()
            shares[i] = sum(wi * tilt(c) for wi, c in zip(w, others))
        else:
            shares[i] = tilt(_CITY_OF_NODE[n[:2]])

    floor_city = {c: obs(c, 2010, "per_capita_housing_floor_area_census") for c in cities}
    whole10 = {c: census_2010_city(c) for c in cities}
    floor_rj = sum(floor_city[c] * whole10[c] for c in cities) / sum(whole10.values())
    floor = np.array([floor_city[_CITY_OF_NODE[n[:2]]] if n != "RJ" else floor_rj for n in NODES])
    price_growth = np.full(N_NODES, np.nan)
    for code, c in (("CC", "Changchun"), ("JL", "Jilin")):
        price_growth[NODES.index(f"{code}_P")] = obs(c, 2010, "house_price_index_new_dec_yoy") / 100 - 1
    return BaseYearData(population=np.array([pop[n] for n in NODES]),
                        urban_population=np.array([urb[n] for n in NODES]), age_shares=shares,
                        gdp=np.array([gdp[n] for n in NODES]), floor_area_per_person=floor,
                        population_2020=b20.population, partial_share=a, gdp_outside_ratio=r,
                        price_index_growth=price_growth)
