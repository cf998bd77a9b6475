"""Fiscal check: the yearly cost of a scenario's policies against the local budgets.

    cost_k(t)      = C_k·1{policy k active in year t} + c_k·births in its nodes(t)     [yuan/yr, nominal]
    revenue(t)     = τ_f · Σ_{plan-area nodes} Ynom(t)                                 [yuan/yr]
    room(t)        = DISCRETIONARY_SHARE · revenue(t)
    per city c:    cost_c(t) = Σ_k cost_k(t)·share_k,c;  revenue_c(t) = τ_f·Ynom_c(t) + Tr_c(t);
                   room_c(t) = DISCRETIONARY_SHARE · revenue_c(t)

Each city pays from its own budget (whole city, both nodes): a fixed cost is split equally between the
policy's nodes (a rail link: half to each end [judgement]), a per-birth cost by the births in each node.
C_k and c_k come from ``scenario.policies.policy_costs`` (unit costs in ``simulator.costs``; rail's local
share of the capital cost spread over the years to the opening). A year whose cost exceeds the room is
reported ("exceeds"), not silently financed: the model does not cut the policies, so the result shows
what the scenario would need. Transfers count as city revenue only as far as the scenario sets the
``transfers`` lever (default 0: the seeds name them as uncertain, 「积极争取」); the pooled plan-area check
leaves them out.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from .model.nodes import CITIES, CITY, NODES
from .scenario.policies import policy_costs

#: share of local general budget revenue available for new discretionary programmes [judgement: most of
#: the budget is committed to wages, pensions and services; 001 calls Jilin City's finances weak,
#: 「吉林市政府公共财力薄弱」]
DISCRETIONARY_SHARE = 0.10


def add_policy_costs(ds: xr.Dataset, scenario) -> xr.Dataset:
    """``ds`` with ``policy_cost`` (per policy), ``policy_cost_total``, ``local_budget_revenue``,
    ``fiscal_room`` and per city ``city_policy_cost``, ``city_budget_revenue`` and ``city_fiscal_room`` if the
    scenario has policies; ``ds`` unchanged otherwise."""
    items = [c for raw in scenario.policies for c in policy_costs(raw, scenario)]
    if not items:
        return ds
    times = ds.time.values.astype(float)
    costs, names = [], []
    by_city = {c: xr.zeros_like(ds.city_gdp_nominal.sel(whole_city=c, drop=True)) for c in CITIES}
    for i, item in enumerate(items):
        # the flow labelled t covers calendar year t; a policy from t0 (end of year t0) acts from year t0 + 1
        active = (times > item["start"] + 1e-9) & (True if item["until"] is None else times <= item["until"] + 1e-9)
        active = xr.DataArray(active.astype(float), dims="time", coords={"time": ds.time})
        nodes = list(item["nodes"])
        births = ds.births.sel(region=nodes)                                      # (time, node)
        node_cost = (item["yuan_per_year"] / len(nodes) + item["yuan_per_birth"] * births) * active
        costs.append(node_cost.sum("region"))
        names.append(f"{item['policy']}[{i}]")
        for node in nodes:
            if CITY.get(node) in by_city:          # the rest of Jilin province has no city budget here
                by_city[CITY[node]] = by_city[CITY[node]] + node_cost.sel(region=node, drop=True)
    cost = xr.concat(costs, dim=xr.DataArray(names, dims="policy", name="policy"))
    by_city = xr.concat([by_city[c] for c in CITIES], dim=ds.whole_city).transpose(*ds.city_gdp_nominal.dims)
    share = float(np.mean(np.asarray(scenario.parameters["fiscal_revenue_share"], dtype=float)))
    revenue = share * ds.metro_gdp_nominal
    transfers = _city_transfers(ds, scenario)
    city_revenue = share * ds.city_gdp_nominal + transfers
    out = ds.assign(policy_cost=cost, policy_cost_total=cost.sum("policy"), local_budget_revenue=revenue,
                    fiscal_room=DISCRETIONARY_SHARE * revenue, city_policy_cost=by_city,
                    city_budget_revenue=city_revenue, city_fiscal_room=DISCRETIONARY_SHARE * city_revenue)
    out.policy_cost.attrs.update(units="yuan/yr", long_name="yearly fiscal cost of each policy (nominal)")
    out.policy_cost_total.attrs.update(units="yuan/yr", long_name="yearly fiscal cost of all policies (nominal)")
    out.local_budget_revenue.attrs.update(units="yuan/yr", long_name="plan area's local general budget revenue")
    out.fiscal_room.attrs.update(units="yuan/yr",
                                 long_name=f"budget room for new programmes ({DISCRETIONARY_SHARE:.0%} of revenue)")
    out.city_policy_cost.attrs.update(units="yuan/yr", long_name="yearly fiscal cost of the policies paid by each city")
    out.city_budget_revenue.attrs.update(units="yuan/yr",
                                         long_name="whole city's local general budget revenue plus transfers")
    out.city_fiscal_room.attrs.update(units="yuan/yr", long_name=f"each city's budget room for new programmes "
                                                                 f"({DISCRETIONARY_SHARE:.0%} of its revenue)")
    return out


def _city_transfers(ds: xr.Dataset, scenario) -> xr.DataArray:
    """The ``transfers`` lever summed over each city's nodes at the output times [yuan/yr]."""
    lever = scenario.levers["transfers"]
    times = ds.time.values.astype(float)
    rows = []
    for city in CITIES:
        total = sum(np.array([float(lever.schedules[n].value(t)) for t in times]) for n in NODES if CITY[n] == city)
        rows.append(total)
    out = xr.DataArray(np.array(rows).T, dims=("time", "whole_city"),
                       coords={"time": ds.time, "whole_city": ds.whole_city})
    return out.broadcast_like(ds.city_gdp_nominal).transpose(*ds.city_gdp_nominal.dims)


def fiscal_summary(ds: xr.Dataset, years) -> list[dict]:
    """Per year: total policy cost, room, share of revenue, whether the cost exceeds the room, and the same
    per city (``cities``: the cities that pay for a policy)."""
    if "policy_cost_total" not in ds:
        return []
    rows = []
    for y in years:
        cost = float(ds.policy_cost_total.sel(time=y))
        room = float(ds.fiscal_room.sel(time=y))
        cities = []
        for c in ds.whole_city.values:
            c_cost = float(ds.city_policy_cost.sel(time=y, whole_city=c))
            if c_cost > 0:
                c_room = float(ds.city_fiscal_room.sel(time=y, whole_city=c))
                cities.append({"city": str(c), "policy_cost": c_cost, "fiscal_room": c_room,
                               "share_of_revenue": c_cost / float(ds.city_budget_revenue.sel(time=y, whole_city=c)),
                               "exceeds": c_cost > c_room})
        rows.append({"year": int(y), "policy_cost": cost, "fiscal_room": room,
                     "share_of_revenue": cost / float(ds.local_budget_revenue.sel(time=y)), "exceeds": cost > room,
                     "cities": cities})
    return rows
