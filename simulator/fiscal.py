"""Fiscal check: the yearly cost of a scenario's policies against the plan area's local budget.

    cost_k(t)   = C_k·1{policy k active in year t} + c_k·births in its nodes(t)     [yuan/yr, nominal]
    revenue(t)  = τ_f · Σ_{plan-area nodes} Ynom(t)                                  [yuan/yr]
    room(t)     = DISCRETIONARY_SHARE · revenue(t)

C_k and c_k come from ``scenario.policies.policy_costs`` (unit costs documented there). A year whose
total cost exceeds ``room`` is reported ("exceeds"), not silently financed: the model does not cut the
policies, so the result shows what the scenario would need. Transfers (lever ``transfers``) are not
counted as room: the seeds name them as uncertain (「积极争取」).
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from .scenario.policies import policy_costs

#: share of local general budget revenue available for new discretionary programmes [judgement: most of
#: the budget is committed to wages, pensions and services; 001 calls Jilin City's finances weak,
#: 「吉林市政府公共财力薄弱」]
DISCRETIONARY_SHARE = 0.10


def add_policy_costs(ds: xr.Dataset, scenario) -> xr.Dataset:
    """``ds`` with ``policy_cost`` (per policy), ``policy_cost_total``, ``local_budget_revenue`` and
    ``fiscal_room`` if the scenario has policies; ``ds`` unchanged otherwise."""
    items = [c for raw in scenario.policies for c in policy_costs(raw)]
    if not items:
        return ds
    times = ds.time.values.astype(float)
    costs, names = [], []
    for i, item in enumerate(items):
        # the flow labelled t covers calendar year t; a policy from t0 (end of year t0) acts from year t0 + 1
        active = (times > item["start"] + 1e-9) & (True if item["until"] is None else times <= item["until"] + 1e-9)
        active = xr.DataArray(active.astype(float), dims="time", coords={"time": ds.time})
        births = ds.births.sel(region=list(item["nodes"])).sum("region")
        costs.append(item["yuan_per_year"] * active + item["yuan_per_birth"] * births * active)
        names.append(f"{item['policy']}[{i}]")
    cost = xr.concat(costs, dim=xr.DataArray(names, dims="policy", name="policy"))
    share = float(np.mean(np.asarray(scenario.parameters["fiscal_revenue_share"], dtype=float)))
    revenue = share * ds.metro_gdp_nominal
    out = ds.assign(policy_cost=cost, policy_cost_total=cost.sum("policy"), local_budget_revenue=revenue,
                    fiscal_room=DISCRETIONARY_SHARE * revenue)
    out.policy_cost.attrs.update(units="yuan/yr", long_name="yearly fiscal cost of each policy (nominal)")
    out.policy_cost_total.attrs.update(units="yuan/yr", long_name="yearly fiscal cost of all policies (nominal)")
    out.local_budget_revenue.attrs.update(units="yuan/yr", long_name="plan area's local general budget revenue")
    out.fiscal_room.attrs.update(units="yuan/yr",
                                 long_name=f"budget room for new programmes ({DISCRETIONARY_SHARE:.0%} of revenue)")
    return out


def fiscal_summary(ds: xr.Dataset, years) -> list[dict]:
    """Per year: total policy cost, room, share of revenue, and whether the cost exceeds the room."""
    if "policy_cost_total" not in ds:
        return []
    rows = []
    for y in years:
        cost = float(ds.policy_cost_total.sel(time=y))
        room = float(ds.fiscal_room.sel(time=y))
        rows.append({"year": int(y), "policy_cost": cost, "fiscal_room": room,
                     "share_of_revenue": cost / float(ds.local_budget_revenue.sel(time=y)), "exceeds": cost > room})
    return rows
