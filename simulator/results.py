"""Trajectories → one self-describing ``xarray.Dataset`` (units, long names, provenance), and
atomic writing of run outputs (NetCDF, tidy CSV, summary JSON).

Conventions: stocks are year-end values at the output times; flows are annual totals over the
output step ending at that time (from accumulator differences), except at the first output time,
where the instantaneous rate at t0 is reported (equal to the observed base-year flow for GDP).
People in persons, money in yuan, floor area in m².
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

from .model.base_data import AGE_GROUPS
from .model.nodes import CITIES, CITY, IN_PLAN_AREA, LONG_NAME, MIGRATION_LABELS, NODES, N_NODES, PLAN_MASK
from .solve import Trajectory

# name -> (units, long name)
VARIABLES: dict[str, tuple[str, str]] = {
    "population": ("persons", "resident population (year end)"),
    "population_by_age": ("persons", "resident population by 5-year age group (year end)"),
    "urban_population": ("persons", "urban resident population (year end)"),
    "rural_population": ("persons", "rural resident population (year end)"),
    "urbanization_rate": ("1", "urban share of resident population"),
    "births": ("persons/yr", "live births"),
    "deaths": ("persons/yr", "deaths"),
    "natural_change": ("persons/yr", "births minus deaths"),
    "migration_flow": ("persons/yr", "migrants moving from origin to destination (EXT = rest of China)"),
    "in_migration": ("persons/yr", "in-migrants from other nodes and the rest of China"),
    "out_migration": ("persons/yr", "out-migrants to other nodes and the rest of China"),
    "net_migration": ("persons/yr", "in-migration minus out-migration"),
    "net_migration_external": ("persons/yr", "net migration with the rest of China"),
    "rural_urban_conversion": ("persons/yr", "rural→urban conversion incl. reclassification"),
    "registered_population": ("persons", "residents holding the node's hukou (year end)"),
    "registered_share": ("1", "share of residents holding the node's hukou"),
    "settlements": ("persons/yr", "non-registered residents who settle (落户, obtain the local hukou)"),
    "metro_registered_population": ("persons", "residents of the plan area holding their node's hukou"),
    "labour_force": ("persons", "labour force by place of residence"),
    "workplace_labour": ("persons", "labour supply by place of work (residents' labour force after commuting)"),
    "commuters": ("persons", "residents in the labour force who work in another node"),
    "commuting_flow": ("persons", "labour force by place of residence (home) and of work (workplace)"),
    "employment": ("persons", "employment by place of work"),
    "unemployment_rate": ("1", "unemployment rate"),
    "wage": ("yuan/worker/yr", "average wage (labour share of output per worker), 2024 prices"),
    "capital_stock": ("yuan", "productive capital stock, 2024 prices"),
    "total_factor_productivity": ("1", "total factor productivity incl. agglomeration"),
    "gdp_real": ("yuan/yr", "real GDP, 2024 prices"),
    "gdp_nominal": ("yuan/yr", "nominal GDP"),
    "gdp_deflator": ("1", "GDP deflator (2024 = 1)"),
    "gdp_per_capita": ("yuan/person/yr", "nominal GDP per resident"),
    "housing_floor_area": ("m2", "urban residential floor area (year end)"),
    "housing_construction_pipeline": ("m2", "urban residential floor area under construction"),
    "housing_starts": ("m2/yr", "housing starts"),
    "housing_completions": ("m2/yr", "housing completions"),
    "housing_demolition": ("m2/yr", "demolition incl. renewal"),
    "housing_price_index": ("1", "house price index (2024 = 1), real"),
    "floor_area_per_urban_resident": ("m2/person", "urban residential floor area per urban resident"),
    "vacancy_rate": ("1", "share of urban floor area not occupied (≥ 0 by construction)"),
    "housing_crowding": ("1", "share of desired floor area that the stock allows (1 = no shortage)"),
    "construction_output": ("yuan/yr", "value added of residential construction put in place (rate), 2024 prices"),
    "university_students": ("persons", "students enrolled in the node's universities and colleges"),
    "graduates": ("persons/yr", "university graduates"),
    "graduates_retained": ("persons/yr", "graduates who stay plus those a graduate programme keeps or attracts"),
    "public_service_capacity": ("yuan", "public-service capacity, 2024 prices"),
    "service_access": ("yuan/person", "access-weighted public-service capacity per person"),
    "attractiveness": ("1", "utility of living in the node (logit scale)"),
    "perceived_attractiveness": ("1", "attractiveness as perceived by potential migrants"),
    "metro_population": ("persons", "population of the metropolitan plan area (sum of *_P nodes)"),
    "metro_urbanization_rate": ("1", "urbanization rate of the plan area"),
    "metro_gdp_real": ("yuan/yr", "real GDP of the plan area, 2024 prices"),
    "metro_gdp_nominal": ("yuan/yr", "nominal GDP of the plan area"),
    "metro_births": ("persons/yr", "births in the plan area"),
    "metro_deaths": ("persons/yr", "deaths in the plan area"),
    "metro_net_migration": ("persons/yr", "net migration into the plan area from outside it"),
    "city_population": ("persons", "whole-city resident population (sum of the city's two nodes)"),
    "city_gdp_nominal": ("yuan/yr", "whole-city nominal GDP"),
}


#: the variables computed from the right-hand side's auxiliaries at the output times (``to_dataset``); the others
#: come from the states alone (flows from accumulators, the first year's from the rates at t0)
AUXILIARY_VARIABLES = frozenset({
    "labour_force", "workplace_labour", "commuters", "commuting_flow", "employment", "unemployment_rate", "wage",
    "total_factor_productivity", "vacancy_rate", "housing_crowding", "construction_output", "university_students",
    "service_access", "attractiveness"})


def needs_auxiliaries(variables) -> bool:
    """Whether outputs ``variables`` need the auxiliaries (``solve.integrate(auxiliaries=...)``): true if any is
    one of ``AUXILIARY_VARIABLES`` or not a variable of ``VARIABLES`` (e.g. a policy cost: kept safe)."""
    return any(v in AUXILIARY_VARIABLES or v not in VARIABLES for v in variables)


def annual_flows(traj: Trajectory, name: str) -> np.ndarray:
    """Flow per year over each output step from accumulator ``name`` (first time: rate at t0)."""
    cum = traj.states[name]
    out = np.empty_like(cum)
    out[0] = traj.rates[name][0]
    dt = np.diff(traj.times).reshape((-1,) + (1,) * (cum.ndim - 1))
    out[1:] = np.diff(cum, axis=0) / dt
    return out


def to_dataset(traj: Trajectory, squeeze: bool | None = None) -> xr.Dataset:
    """The trajectory as a Dataset with dims (run, time, ...); the ``run`` dim is dropped when there
    is one member (``squeeze=None``) or when ``squeeze`` is true. A trajectory integrated without the
    auxiliaries (``solve.integrate(auxiliaries=False)``) gives no ``AUXILIARY_VARIABLES``: asking for one is
    then a KeyError, not a NaN."""
    st, aux = traj.states, traj.auxiliaries
    N = N_NODES
    by_age = st["population"].sum(-1)                             # (T, M, N, G)
    pop = by_age.sum(-1)
    urban = st["urban_population"]
    flow = annual_flows(traj, "cum_migration")                    # (T, M, N+1, N+1)
    in_mig = flow[:, :, :, :N].sum(axis=2)
    out_mig = flow[:, :, :N, :].sum(axis=3)
    births, deaths = annual_flows(traj, "cum_births"), annual_flows(traj, "cum_deaths")
    gdp_real, gdp_nom = annual_flows(traj, "cum_gdp_real"), annual_flows(traj, "cum_gdp_nominal")
    floor = st["housing_new"] + st["housing_old"]
    plan = PLAN_MASK
    inside = np.append(PLAN_MASK, False)              # plan-area labels among nodes + EXT
    plan_flow = (flow[:, :, ~inside][:, :, :, inside].sum(axis=(2, 3))
                 - flow[:, :, inside][:, :, :, ~inside].sum(axis=(2, 3)))
    city_idx = [[i for i, n in enumerate(NODES) if CITY[n] == c] for c in CITIES]

    node = ("time", "run", "region")
    data = {
        "population": (node, pop),
        "population_by_age": (node + ("age",), by_age),
        "urban_population": (node, urban),
        "rural_population": (node, pop - urban),
        "urbanization_rate": (node, urban / pop),
        "births": (node, births),
        "deaths": (node, deaths),
        "natural_change": (node, births - deaths),
        "migration_flow": (("time", "run", "origin", "destination"), flow),
        "in_migration": (node, in_mig),
        "out_migration": (node, out_mig),
        "net_migration": (node, in_mig - out_mig),
        "net_migration_external": (node, flow[:, :, N, :N] - flow[:, :, :N, N]),
        "rural_urban_conversion": (node, annual_flows(traj, "cum_urbanization")),
        "registered_population": (node, st["registered_population"]),
        "registered_share": (node, st["registered_population"] / pop),
        "settlements": (node, annual_flows(traj, "cum_settlement")),
        "metro_registered_population": (("time", "run"), st["registered_population"][..., plan].sum(-1)),
        "labour_force": (node, aux["labour_force"]),
        "workplace_labour": (node, aux["workplace_labour"]),
        "commuters": (node, aux["commuters"]),
        "commuting_flow": (("time", "run", "home", "workplace"), aux["commuting_flow"]),
        "employment": (node, aux["employment"]),
        "unemployment_rate": (node, aux["unemployment_rate"]),
        "wage": (node, aux["wage"]),
        "capital_stock": (node, st["capital_stock"]),
        "total_factor_productivity": (node, aux["tfp"]),
        "gdp_real": (node, gdp_real),
        "gdp_nominal": (node, gdp_nom),
        "gdp_deflator": (("time", "run"), np.exp(st["log_deflator"][..., 0])),
        "gdp_per_capita": (node, gdp_nom / pop),
        "housing_floor_area": (node, floor),
        "housing_construction_pipeline": (node, st["construction_pipeline"].sum(-1)),
        "housing_starts": (node, annual_flows(traj, "cum_starts")),
        "housing_completions": (node, annual_flows(traj, "cum_completions")),
        "housing_demolition": (node, annual_flows(traj, "cum_demolition")),
        "housing_price_index": (node, st["house_price"]),
        "floor_area_per_urban_resident": (node, floor / urban),
        "vacancy_rate": (node, 1 - aux["housing_occupied"] / floor),
        "housing_crowding": (node, aux["crowding"]),
        "construction_output": (node, aux["construction_output"]),
        "university_students": (node, aux["students"]),
        "graduates": (node, annual_flows(traj, "cum_graduates")),
        "graduates_retained": (node, annual_flows(traj, "cum_graduates_retained")),
        "public_service_capacity": (node, st["service_capacity"]),
        "service_access": (node, aux["service_access"]),
        "attractiveness": (node, aux["attractiveness"]),
        "perceived_attractiveness": (node, st["perceived_attractiveness"]),
        "metro_population": (("time", "run"), pop[..., plan].sum(-1)),
        "metro_urbanization_rate": (("time", "run"), urban[..., plan].sum(-1) / pop[..., plan].sum(-1)),
        "metro_gdp_real": (("time", "run"), gdp_real[..., plan].sum(-1)),
        "metro_gdp_nominal": (("time", "run"), gdp_nom[..., plan].sum(-1)),
        "metro_births": (("time", "run"), births[..., plan].sum(-1)),
        "metro_deaths": (("time", "run"), deaths[..., plan].sum(-1)),
        "metro_net_migration": (("time", "run"), plan_flow),
        "city_population": (("time", "run", "whole_city"), np.stack([pop[..., i].sum(-1) for i in city_idx], -1)),
        "city_gdp_nominal": (("time", "run", "whole_city"), np.stack([gdp_nom[..., i].sum(-1) for i in city_idx], -1)),
    }
    with_auxiliaries = traj.stats.get("auxiliaries", True)
    if not with_auxiliaries:
        for name in AUXILIARY_VARIABLES:
            del data[name]
    # the history years a scenario integrates to continue from them are not reported: its output times are
    # sorted, so they are the leading ones (a view, no copy)
    first = traj.scenarios[0]
    reported = slice(0 if first.history is None else int(np.searchsorted(traj.times, first.start - 1e-9)), None)
    times = traj.times[reported]
    ds = xr.Dataset(
        {name: xr.Variable(dims, values[reported]) for name, (dims, values) in data.items()},
        coords={
            "time": ("time", times.astype(int) if np.allclose(times, np.round(times)) else times,
                     {"long_name": "year (values are at 31 December)", "units": "year"}),
            "region": ("region", list(NODES), {"long_name": "model node"}),
            "region_name": ("region", [LONG_NAME[n] for n in NODES]),
            "city": ("region", [CITY[n] for n in NODES], {"long_name": "city the node belongs to"}),
            "in_plan_area": ("region", [IN_PLAN_AREA[n] for n in NODES],
                             {"long_name": "node lies in the metropolitan plan area"}),
            "age": ("age", list(AGE_GROUPS), {"long_name": "5-year age group", "units": "years"}),
            "origin": ("origin", list(MIGRATION_LABELS), {"long_name": "migration origin"}),
            "destination": ("destination", list(MIGRATION_LABELS), {"long_name": "migration destination"}),
            "whole_city": ("whole_city", list(CITIES), {"long_name": "whole city (both of its nodes)"}),
            "home": ("home", list(NODES), {"long_name": "node of residence (commuting origin)"}),
            "workplace": ("workplace", list(NODES), {"long_name": "node of work (commuting destination)"}),
        },
    )
    for name, (units, long_name) in VARIABLES.items():         # every variable of VARIABLES has its data
        if with_auxiliaries or name not in AUXILIARY_VARIABLES:
            ds[name].attrs.update(units=units, long_name=long_name)
    ds = ds.transpose("run", "time", ...)
    if squeeze or (squeeze is None and ds.sizes["run"] == 1):
        ds = ds.isel(run=0, drop=True)
    ds.attrs.update(provenance(traj))
    from .fiscal import add_policy_costs
    return add_policy_costs(ds, first)


def provenance(traj: Trajectory) -> dict:
    """Global attributes: scenario text and hash, resolved parameters, solver settings, version."""
    from . import __version__
    s = traj.scenarios[0]
    c = traj.constants
    attrs = {
        "title": f"Changchun metropolitan-area simulation: {s.name}",
        "scenario_name": s.name,
        "scenario_description": s.description or "",
        "scenario_text": s.text,
        "scenario_sha256": s.sha256,
        "scenario_resolved": json.dumps(s.to_dict(), ensure_ascii=False, sort_keys=True),
        "parameters": json.dumps({k: np.asarray(v).tolist() for k, v in s.parameters.items()}, sort_keys=True),
        "calibrated_constants": json.dumps({
            "node_fixed_effect_xi": c.fixed_effect[:, 0].tolist(), "home_premium_psi": c.home_premium[:, 0].tolist(),
            "external_scale": float(c.ext_scale[0]), "tfp_level_A0": c.tfp0[:, 0].tolist(),
            "rural_urban_rate": c.conversion_rate[:, 0].tolist()}),
        "solver": json.dumps({k: v for k, v in traj.stats.items() if k != "integration_seconds"}),
        "seed": "none (deterministic model run)",
        "package": "simulator",
        "package_version": __version__,
        "nodes": ",".join(NODES),
        "conventions": "CF-1.8 style attrs; stocks at year end, flows per year over the step ending at time",
        "target_year": int(s.targets.year),
        "target_population": float(s.targets.population),
        "target_gdp_nominal": float(s.targets.gdp_nominal),
    }
    if len(traj.scenarios) > 1:
        attrs["member_scenarios_sha256"] = ",".join(m.sha256 for m in traj.scenarios)
    return attrs


# ------------------------------------------------------------------------------------------------
def calendar_year_flow(flow: xr.DataArray, year: int) -> float:
    """The flow over calendar year ``year`` (model time (year − 1, year]) whatever the output step: the mean of
    the flows of the output steps inside that year (each is a per-year rate over its step), or the flow of
    the step that ends at ``year`` when steps are a year or longer."""
    times = np.asarray(flow.time.values, dtype=float)
    inside = (times > year - 1 + 1e-9) & (times <= year + 1e-9)
    if inside.sum() > 1:
        steps = np.diff(np.concatenate([[max(times[0], year - 1)], times[inside]]))
        if times[0] > year - 1 + 1e-9:      # the run starts inside the year: its first output is a rate, not a step
            return float(flow.sel(time=year))
        return float((flow.values[inside] * steps).sum() / steps.sum())
    return float(flow.sel(time=year))


def target_check(ds: xr.Dataset) -> list[dict]:
    """Each target: target value, simulated value, gap (simulated − target), gap %, met."""
    year = int(ds.attrs["target_year"])
    rows = []
    for name, var, target, unit in (
            ("population", "metro_population", ds.attrs["target_population"], "persons"),
            ("gdp_nominal", "metro_gdp_nominal", ds.attrs["target_gdp_nominal"], "yuan/yr")):
        if year not in set(np.asarray(ds.time.values).tolist()):
            rows.append(dict(target=name, year=year, units=unit, value=float(target), simulated=None,
                             gap=None, gap_percent=None, met=None))
            continue
        sim = float(ds[var].sel(time=year)) if name == "population" else calendar_year_flow(ds[var], year)
        rows.append(dict(target=name, year=year, units=unit, value=float(target), simulated=sim,
                         gap=sim - float(target), gap_percent=100 * (sim / float(target) - 1),
                         met=bool(sim >= float(target))))
    return rows


REPORT_YEARS = (2024, 2030, 2035)   # base year, target year, horizon


def summary(ds: xr.Dataset, years=None) -> dict:
    """Plan-area figures by year, target check and provenance (what ``summary.json`` holds).

    ``years`` default: the first and last output years of the run plus those of ``REPORT_YEARS``
    inside it, so a historical run (2010 → 2024) or a short run is summarized too.
    """
    times = [int(t) for t in ds.time.values.tolist()]
    if years is None:
        years = {times[0], times[-1]} | set(REPORT_YEARS)
    years = sorted(int(y) for y in years if int(y) in set(times))
    table = []
    for y in years:
        row = {"year": y}
        for n in [r for r in ds.region.values if ds.in_plan_area.sel(region=r)]:
            row[f"population_{n}"] = float(ds.population.sel(time=y, region=n))
            row[f"gdp_nominal_{n}"] = float(ds.gdp_nominal.sel(time=y, region=n))
        row["metro_population"] = float(ds.metro_population.sel(time=y))
        row["metro_gdp_nominal"] = float(ds.metro_gdp_nominal.sel(time=y))
        row["metro_gdp_real"] = float(ds.metro_gdp_real.sel(time=y))
        table.append(row)
    from .fiscal import fiscal_summary
    out = {"scenario": ds.attrs["scenario_name"], "scenario_sha256": ds.attrs["scenario_sha256"],
           "package_version": ds.attrs["package_version"], "targets": target_check(ds), "years": table,
           "fiscal": fiscal_summary(ds, years)}
    if ds.attrs.get("implausible_values"):         # set by `sim run` (simulator.scenario.plausible)
        out["implausible_values"] = json.loads(ds.attrs["implausible_values"])
    return out


#: the columns of the long table (``tidy_frame``): every dimension a variable can have, then its value
TIDY_COLUMNS = ["variable", "units", "time", "region", "whole_city", "origin", "destination", "home", "workplace",
                "age", "value"]


def tidy_frame(ds: xr.Dataset):
    """Long table: variable, units, time, region (or city/origin/destination), age, value; one row per element
    of each variable in ``VARIABLES``, its dimensions in their order (the last varying fastest), empty where a
    variable has no such dimension."""
    import pandas as pd
    columns = {c: [] for c in TIDY_COLUMNS}
    for name in VARIABLES:
        da = ds[name]
        n = da.size
        index = np.indices(da.shape).reshape(da.ndim, n)            # each element's position along each dim
        for c in TIDY_COLUMNS[2:-1]:
            if c in da.dims:
                columns[c].append(np.asarray(ds[c].values, dtype=object)[index[da.dims.index(c)]])
            else:
                columns[c].append(np.full(n, None, dtype=object))
        columns["variable"].append(np.full(n, name, dtype=object))
        columns["units"].append(np.full(n, da.attrs["units"], dtype=object))
        columns["value"].append(np.asarray(da.values).reshape(n))
    return pd.DataFrame({c: np.concatenate(parts) for c, parts in columns.items()})


def write_outputs(ds: xr.Dataset, directory: Path) -> dict[str, Path]:
    """Write results.nc, results.csv and summary.json into ``directory`` atomically.

    All three are written to temporary files in the same directory first and renamed only when all
    succeeded, so an interrupted run leaves earlier outputs intact and never a half-written file; the
    renames are all or nothing (``atomic.replace_together``: a failed rename restores the others).
    """
    from .atomic import replace_together, to_netcdf, usual_mode
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    targets = {"results.nc": None, "results.csv": None, "summary.json": None}
    tmp_paths = []
    try:
        for name in targets:
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
            os.close(fd)
            tmp_paths.append(Path(tmp))
            targets[name] = Path(tmp)
        nc = ds.copy()
        nc["in_plan_area"] = nc["in_plan_area"].astype("int8")
        nc["in_plan_area"].attrs.update(long_name="node lies in the metropolitan plan area (1 = yes)")
        to_netcdf(nc, targets["results.nc"])
        tidy_frame(ds).to_csv(targets["results.csv"], index=False)
        targets["summary.json"].write_text(json.dumps(summary(ds), indent=2, ensure_ascii=False), encoding="utf-8")
        for tmp in targets.values():
            usual_mode(tmp)
        replace_together([(tmp, directory / name) for name, tmp in targets.items()])
        return {name: directory / name for name in targets}
    finally:
        for tmp in tmp_paths:
            if tmp.exists():
                tmp.unlink()
