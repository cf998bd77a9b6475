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
from simulator.analysis.lever_ranking import LEVER_CHANGES, POLICIES, resolve_change

ROOT = Path(__file__).resolve().parents[1]
CHANGES, POLICIES = LEVER_CHANGES, POLICIES   # one list of lever sizes: simulator/analysis/lever_ranking.py


def main(path: str = "scenarios/baseline.yaml") -> None:
    base = load_scenario(ROOT / path if not Path(path).is_absolute() else path)
    from simulator import scenario_from_dict
    policy_members = [scenario_from_dict({"extends": str(Path(base.path).resolve()), "name": "policy",
                                          "policies": pol}, base_dir=ROOT) for _, pol, _ in POLICIES]
    members = [base] + [base.with_changes(levers=resolve_change(c, base)) for _, c, _ in CHANGES] + policy_members
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
