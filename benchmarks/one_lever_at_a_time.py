"""One lever at a time on the baseline: Δ 2030 metro population and Δ 2030 nominal GDP per lever change.

Each lever is moved from the start of the forecast (end of 2024) by a policy-sized amount in its model
unit (the sizes below are those of the shipped policy scenarios where they set the lever), all members
integrated as one vectorized solve. Run by hand:

    python benchmarks/one_lever_at_a_time.py [scenarios/baseline.yaml]

Prints a Markdown table (the figures quoted in issue notes and docs come from this script).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from simulator import load_scenario, simulate_many
from simulator.model.nodes import NODES, PLAN_MASK

ROOT = Path(__file__).resolve().parents[1]
PLAN = [n for n, m in zip(NODES, PLAN_MASK) if m]

#: (label, lever changes in the scenario file format, unit of the change)
CHANGES = [
    ("hukou ease 0.9 → 1.0 (plan area)", {"hukou_ease": {"plan_area": 1.0}}, "index"),
    ("talent bonus +0.2 (plan area, ages 20–34)", {"talent_bonus": {"plan_area": 0.2}}, "utility"),
    ("amenity bonus +0.1 (plan area)", {"amenity_bonus": {"plan_area": 0.1}}, "utility"),
    ("metro integration ρ_M = 0.5 (half the migration cost inside the plan area)", {"metro_integration": 0.5},
     "share"),
    ("Changchun–Jilin City 60 → 30 min", {"travel_time": {"CC_P-JL_P": 30.0}}, "min"),
    ("all plan-area links −25 %", "travel", "min"),
    ("TFP growth +1 pp (plan area)", "tfp", "1/yr"),
    ("investment rate +5 pp (plan area)", "investment", "share of GDP"),
    ("project investment 100 bn yuan/yr (CC_P)", {"project_investment": {"CC_P": 1.0e11}}, "yuan/yr"),
    ("human capital +5 % (plan area)", {"human_capital": {"plan_area": 1.05}}, "index"),
    ("TFR +0.1 (plan area)", "tfr", "births/woman"),
    ("affordable housing starts 3 Mm²/yr (CC_P)", {"policy_housing_starts": {"CC_P": 3.0e6}}, "m²/yr"),
    ("public-service spending ×1.3 (plan area)", {"service_spending_factor": {"plan_area": 1.3}}, "factor"),
    ("housing quality +0.3 (plan area)", {"housing_quality": {"plan_area": 0.3}}, "index"),
    ("inflow pool from the rest of China ×1.2", {"external_inflow_factor": 1.2}, "factor"),
    ("reclassification 20k persons/yr (each plan node)", {"reclassification": {"plan_area": 2.0e4}}, "persons/yr"),
]


#: (label, a ``policies:`` section in planner units, unit)
POLICIES = [
    ("rail: Changchun–Siping 45 min door to door from mid-2028", {"rail": [{"link": "CC_P-SP_P", "minutes": 45,
                                                                            "opens": 2028.5}]}, "min"),
    ("hukou: rental settlement in the plan area from 2025", {"hukou": [{"nodes": "plan_area",
                                                                         "removed": ["rental_settlement"],
                                                                         "year": 2025}]}, "condition"),
    ("graduates retained: 10,000/yr in Jilin City from 2025", {"graduates_retained": [
        {"node": "JL_P", "per_year": 10000, "from": 2025}]}, "persons/yr"),
    ("affordable housing: 6,767 units × 50 m²/yr in Changchun 2025–30", {"affordable_housing": [
        {"node": "CC_P", "units_per_year": 6767, "unit_size_m2": 50, "from": 2025, "until": 2030}]}, "units/yr"),
    ("childcare subsidy: 3,600 yuan per child/yr in the plan area", {"childcare_subsidy": [
        {"nodes": "plan_area", "yuan_per_child": 3600, "from": 2025}]}, "yuan/child/yr"),
    ("project investment: 10 bn yuan/yr in Changchun 2025–30", {"project_investment": [
        {"node": "CC_P", "yuan_per_year": 1.0e10, "from": 2025, "until": 2030}]}, "yuan/yr"),
]


def _resolve(change, scenario):
    """Changes given by a keyword need the scenario's own values (fitted TFR, TFP growth, ...)."""
    if isinstance(change, dict):
        return change
    t = scenario.start + 1.0
    if change == "travel":
        from simulator.model.nodes import PAIRS
        tt = scenario.levers["travel_time"]
        return {"travel_time": {p: 0.75 * float(tt.schedules[p].value(t)) for p in PAIRS
                                if all(x in PLAN for x in p.split("-"))}}
    lever, delta = {"tfp": ("tfp_growth", 0.01), "investment": ("investment_rate", 0.05),
                    "tfr": ("tfr", 0.1)}[change]
    sched = scenario.levers[lever]
    return {lever: {n: float(sched.schedules[n].value(t)) + delta for n in PLAN}}


def main(path: str = "scenarios/baseline.yaml") -> None:
    base = load_scenario(ROOT / path if not Path(path).is_absolute() else path)
    from simulator import scenario_from_dict
    policy_members = [scenario_from_dict({"extends": str(base.path), "name": "policy", "policies": pol},
                                         base_dir=ROOT) for _, pol, _ in POLICIES]
    members = [base] + [base.with_changes(levers=_resolve(c, base)) for _, c, _ in CHANGES] + policy_members
    t0 = time.perf_counter()
    ds = simulate_many(members)
    wall = time.perf_counter() - t0
    pop = ds.metro_population.sel(time=2030).values
    gdp = ds.metro_gdp_nominal.sel(time=2030).values
    print(f"baseline 2030: population {pop[0] / 1e4:,.1f}万, nominal GDP {gdp[0] / 1e8:,.0f}亿 "
          f"({len(members)} members in one solve, {wall:.1f} s)\n")
    print("| lever change or policy (from 2025) | unit | Δ population 2030 (万) | Δ nominal GDP 2030 (亿元) | Δ GDP % |")
    print("|---|---|---|---|---|")
    for (label, _, unit), p, g in zip(CHANGES + POLICIES, pop[1:], gdp[1:]):
        print(f"| {label} | {unit} | {(p - pop[0]) / 1e4:+.1f} | {(g - gdp[0]) / 1e8:+,.0f} | "
              f"{100 * (g / gdp[0] - 1):+.2f} |")
    assert np.all(np.isfinite(pop)) and np.all(np.isfinite(gdp))


if __name__ == "__main__":
    main(*sys.argv[1:])
