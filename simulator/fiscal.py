"""Fiscal check: the yearly cost of a scenario's policies against the local budgets that pay for them.

    cost_k(t)      = C_k·1{policy k active in year t} + c_k·births in its nodes(t)     [yuan/yr, nominal]
    budget b ∈ {Changchun, Jilin, Siping, Liaoyuan (whole cities), rest of Jilin (node RJ)}:
                   cost_b(t) = Σ_k cost_k(t)·share_k,b
                   revenue_b(t) = τ_f·Ynom_b(t) + Tr_b(t);   room_b(t) = DISCRETIONARY_SHARE · revenue_b(t)
    pooled (the four cities):  cost = Σ_{cities} cost_b,  revenue = Σ_{cities} revenue_b,  room = Σ room_b

Each budget pays for the policies in its own nodes: a fixed cost is split equally between the policy's nodes
(a rail link: half to each end [judgement]), a per-birth cost by the births in each node. Spending in the
rest of the province (RJ) is set against RJ's own revenue and kept out of the four cities' pool. Transfers
count as revenue as far as the scenario sets the ``transfers`` lever (default 0: the seeds name them as
uncertain, 「积极争取」). C_k and c_k come from ``scenario.policies.policy_costs`` (unit costs in
``simulator.costs``; rail's local share of the capital cost spread over the years to the opening).

A year whose cost exceeds a room is reported ("exceeds"), not silently financed: the model does not cut
the policies or any other spending (public services stay at their share of revenue), so the result shows
what the scenario would need if the money were found. Only policies stated in planner units
(``policies:``) are costed; raw levers set directly (``graduates_retained``, ``university_places``,
``policy_housing_starts``, ``project_investment``, …) bypass the check.
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


#: budget units: the four cities (both of their nodes) and the rest of Jilin province (node RJ)
BUDGETS: tuple[str, ...] = CITIES + ("rest of Jilin",)
_BUDGET_OF = {n: (CITY[n] if CITY.get(n) in CITIES else "rest of Jilin") for n in NODES}


def add_policy_costs(ds: xr.Dataset, scenario) -> xr.Dataset:
    """``ds`` with ``policy_cost`` (per policy), ``policy_cost_total``, per budget unit ``budget_policy_cost``,
    ``budget_revenue`` and ``budget_fiscal_room``, and for the four cities pooled ``local_budget_revenue`` and
    ``fiscal_room``, if the scenario has policies; ``ds`` unchanged otherwise."""
    items = [c for raw in scenario.policies for c in policy_costs(raw, scenario)]
    if not items:
        return ds
    times = ds.time.values.astype(float)
    share = float(np.mean(np.asarray(scenario.parameters["fiscal_revenue_share"], dtype=float)))
    transfers = _node_levers(ds, scenario, "transfers")                       # (time, region)
    revenue_node = share * ds.gdp_nominal + transfers
    costs, names = [], []
    node_total = xr.zeros_like(ds.gdp_nominal)
    for i, item in enumerate(items):
        # the flow labelled t covers calendar year t; a policy from t0 (end of year t0) acts from year t0 + 1
        active = (times > item["start"] + 1e-9) & (True if item["until"] is None else times <= item["until"] + 1e-9)
        active = xr.DataArray(active.astype(float), dims="time", coords={"time": ds.time})
        nodes = list(item["nodes"])
        weight = xr.DataArray([1.0 if n in nodes else 0.0 for n in NODES], dims="region",
                              coords={"region": ds.region})
        node_cost = (item["yuan_per_year"] / len(nodes) + item["yuan_per_birth"] * ds.births) * weight * active
        node_total = node_total + node_cost
        costs.append(node_cost.sum("region"))
        names.append(f"{item['policy']}[{i}]")
    cost = xr.concat(costs, dim=xr.DataArray(names, dims="policy", name="policy"))
    budget = xr.DataArray([_BUDGET_OF[n] for n in NODES], dims="region", coords={"region": ds.region})
    by_budget = _group(node_total, budget)
    revenue = _group(revenue_node, budget)
    cities = list(CITIES)
    pooled_revenue = revenue.sel(budget=cities).sum("budget")
    out = ds.assign(policy_cost=cost, policy_cost_total=cost.sum("policy"),
                    budget_policy_cost=by_budget, budget_revenue=revenue,
                    budget_fiscal_room=DISCRETIONARY_SHARE * revenue,
                    local_budget_revenue=pooled_revenue, fiscal_room=DISCRETIONARY_SHARE * pooled_revenue)
    out.policy_cost.attrs.update(units="yuan/yr", long_name="yearly fiscal cost of each policy (nominal)")
    out.policy_cost_total.attrs.update(units="yuan/yr", long_name="yearly fiscal cost of all policies (nominal)")
    out.budget_policy_cost.attrs.update(units="yuan/yr", long_name="yearly fiscal cost of the policies each budget pays")
    out.budget_revenue.attrs.update(units="yuan/yr", long_name="local general budget revenue plus transfers")
    out.budget_fiscal_room.attrs.update(units="yuan/yr", long_name=f"budget room for new programmes "
                                                                   f"({DISCRETIONARY_SHARE:.0%} of revenue)")
    out.local_budget_revenue.attrs.update(units="yuan/yr",
                                          long_name="the four cities' local general budget revenue plus transfers")
    out.fiscal_room.attrs.update(units="yuan/yr", long_name=f"the four cities' budget room for new programmes "
                                                            f"({DISCRETIONARY_SHARE:.0%} of revenue)")
    return out


def _group(values: xr.DataArray, budget: xr.DataArray) -> xr.DataArray:
    """Sum over nodes into the budget units, in the order of ``BUDGETS``."""
    parts = [values.where(budget == b, 0.0).sum("region") for b in BUDGETS]
    return xr.concat(parts, dim=xr.DataArray(list(BUDGETS), dims="budget", name="budget"))


def _node_levers(ds: xr.Dataset, scenario, name: str) -> xr.DataArray:
    """A node lever's values at the output times [its units], dims (time, region)."""
    lever = scenario.levers[name]
    times = ds.time.values.astype(float)
    values = np.array([[float(lever.schedules[n].value(t)) for n in NODES] for t in times])
    return xr.DataArray(values, dims=("time", "region"), coords={"time": ds.time, "region": ds.region})


def fiscal_summary(ds: xr.Dataset, years) -> list[dict]:
    """Per year: the four cities' pooled policy cost, room, share of revenue and whether the cost exceeds the
    room, and the same per budget unit that pays for a policy (``budgets``)."""
    if "policy_cost_total" not in ds:
        return []
    rows = []
    for y in years:
        units = []
        for b in ds.budget.values:
            b_cost = float(ds.budget_policy_cost.sel(time=y, budget=b))
            if b_cost > 0:
                b_room = float(ds.budget_fiscal_room.sel(time=y, budget=b))
                units.append({"budget": str(b), "policy_cost": b_cost, "fiscal_room": b_room,
                              "share_of_revenue": b_cost / float(ds.budget_revenue.sel(time=y, budget=b)),
                              "exceeds": b_cost > b_room})
        cost = float(ds.budget_policy_cost.sel(time=y, budget=list(CITIES)).sum())
        room = float(ds.fiscal_room.sel(time=y))
        rows.append({"year": int(y), "policy_cost": cost, "fiscal_room": room,
                     "share_of_revenue": cost / float(ds.local_budget_revenue.sel(time=y)), "exceeds": cost > room,
                     "budgets": units})
    return rows
