"""One lever at a time under structural uncertainty: which rankings of the levers are robust?

Each lever change (model units) and each policy (planner units) is applied alone on a scenario, from
the start of the forecast, under every **structural alternative** — a set of values of the migration
parameters that the data do not pin down (κ: the 2010–24 and 2020–24 fits disagree; τ_V: not
identified; the movers' age profile). For every alternative the effect is measured against the same
alternative's own scenario without the lever:

    Δ_l,a = y(scenario + lever l | alternative a) − y(scenario | alternative a)      (y in the target year)

and the levers are ranked by Δ within each alternative. A ranking is **robust** when a lever's rank
range over the alternatives is narrow. Every alternative re-integrates the scenario's history
(``continues:``) with its own parameters; the history is not re-fitted per alternative, so an
alternative far from the fit starts from a somewhat different 2024 state (the lever effects, not the
levels, are what is compared). All members of all alternatives are one vectorized solve.
"""
from __future__ import annotations

import itertools
from pathlib import Path
from dataclasses import dataclass

import numpy as np

from ..model.nodes import NODES, PAIRS, PLAN_MASK

PLAN = [n for n, m in zip(NODES, PLAN_MASK) if m]

#: (label, lever changes in the scenario file format or a keyword resolved on the scenario, unit)
LEVER_CHANGES = [
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

#: the structural alternatives: every combination of κ and τ_V at the middle age profile, plus the two
#: age profiles at the middle κ and τ_V. κ: 0.05 (2010–24 fit, at its bound), 0.85 (2020–24 fit),
#: 1.5 (Tombe & Zhu 2019); τ_V [yr]: 0.5 (2010–24 fit), 4 (2020–24 fit), 10 (spec's upper end);
#: movers' age peak μ2 [yr]: 17, 20 (default), 25.
KAPPA = (0.05, 0.85, 1.5)
PERCEPTION = (0.5, 4.0, 10.0)
PEAK_AGE = (17.0, 25.0)


def default_alternatives() -> list[dict[str, float]]:
    alts = [{"income_weight": k, "attractiveness_perception_time": t, "migration_peak_age": 20.0}
            for k, t in itertools.product(KAPPA, PERCEPTION)]
    alts += [{"income_weight": KAPPA[1], "attractiveness_perception_time": PERCEPTION[1], "migration_peak_age": a}
             for a in PEAK_AGE]
    return alts


def resolve_change(change, scenario) -> dict:
    """Lever changes given by a keyword need the scenario's own values (fitted TFR, TFP growth, …)."""
    if isinstance(change, dict):
        return change
    t = scenario.start + 1.0
    if change == "travel":
        tt = scenario.levers["travel_time"]
        return {"travel_time": {p: 0.75 * float(tt.schedules[p].value(t)) for p in PAIRS
                                if all(x in PLAN for x in p.split("-"))}}
    lever, delta = {"tfp": ("tfp_growth", 0.01), "investment": ("investment_rate", 0.05),
                    "tfr": ("tfr", 0.1)}[change]
    sched = scenario.levers[lever]
    return {lever: {n: float(sched.schedules[n].value(t)) + delta for n in PLAN}}


def lever_members(scenario) -> tuple[list[str], list[str], list]:
    """(labels, units, member scenarios) for the base and every lever change and policy."""
    from ..scenario import scenario_from_dict
    if scenario.path is None:
        raise ValueError("the scenario must come from a file (policies are added with `extends:`)")
    labels = ["(scenario)"] + [c[0] for c in LEVER_CHANGES] + [p[0] for p in POLICIES]
    units = [""] + [c[2] for c in LEVER_CHANGES] + [p[2] for p in POLICIES]
    members = [scenario] + [scenario.with_changes(levers=resolve_change(c, scenario)) for _, c, _ in LEVER_CHANGES]
    members += [scenario_from_dict({"extends": str(Path(scenario.path).resolve()), "name": f"{scenario.name}_policy",
                                    "policies": pol}, base_dir=scenario.path.parent) for _, pol, _ in POLICIES]
    return labels, units, members


@dataclass
class Ranking:
    labels: list[str]                 # levers (without the base)
    units: list[str]
    alternatives: list[dict]
    delta_population: np.ndarray      # (alternatives, levers) persons
    delta_gdp: np.ndarray             # (alternatives, levers) yuan/yr, nominal
    base_population: np.ndarray       # (alternatives,) persons
    base_gdp: np.ndarray              # (alternatives,) yuan/yr
    year: int

    @staticmethod
    def ranks(delta: np.ndarray) -> np.ndarray:
        """Rank 1 = largest effect, within each alternative (rows)."""
        order = np.argsort(-delta, axis=1, kind="stable")
        r = np.empty_like(order)
        rows = np.arange(delta.shape[0])[:, None]
        r[rows, order] = np.arange(1, delta.shape[1] + 1)
        return r

    def table(self) -> list[dict]:
        """Per lever: median, min and max Δ over the alternatives, and the rank range (both targets)."""
        rp, rg = self.ranks(self.delta_population), self.ranks(self.delta_gdp)
        rows = []
        for j, label in enumerate(self.labels):
            dp, dg = self.delta_population[:, j], self.delta_gdp[:, j]
            rows.append({
                "lever": label, "unit": self.units[j],
                "d_population_median": float(np.median(dp)), "d_population_min": float(dp.min()),
                "d_population_max": float(dp.max()),
                "rank_population_best": int(rp[:, j].min()), "rank_population_worst": int(rp[:, j].max()),
                "d_gdp_median": float(np.median(dg)), "d_gdp_min": float(dg.min()), "d_gdp_max": float(dg.max()),
                "rank_gdp_best": int(rg[:, j].min()), "rank_gdp_worst": int(rg[:, j].max()),
            })
        return rows

    def robust_top(self, k: int = 3, target: str = "population") -> list[str]:
        """Levers in the top ``k`` under every alternative."""
        r = self.ranks(self.delta_population if target == "population" else self.delta_gdp)
        return [self.labels[j] for j in range(len(self.labels)) if r[:, j].max() <= k]


def rank_levers(scenario, alternatives: list[dict] | None = None, year: int | None = None) -> Ranking:
    """Δ of every lever under every structural alternative, one vectorized solve."""
    from ..api import simulate_many
    alternatives = default_alternatives() if alternatives is None else alternatives
    year = int(scenario.targets.year) if year is None else int(year)
    labels, units, members = lever_members(scenario)
    stacked = [m.with_changes(parameters=alt) for alt in alternatives for m in members]
    ds = simulate_many(stacked)
    pop = ds.metro_population.sel(time=year).values.reshape(len(alternatives), len(members))
    gdp = ds.metro_gdp_nominal.sel(time=year).values.reshape(len(alternatives), len(members))
    if not (np.all(np.isfinite(pop)) and np.all(np.isfinite(gdp))):
        raise ValueError("some lever runs did not finish (non-finite 2030 values)")
    return Ranking(labels=labels[1:], units=units[1:], alternatives=alternatives,
                   delta_population=pop[:, 1:] - pop[:, :1], delta_gdp=gdp[:, 1:] - gdp[:, :1],
                   base_population=pop[:, 0], base_gdp=gdp[:, 0], year=year)


def format_ranking(r: Ranking) -> str:
    """Markdown table: Δ median [min, max] over the alternatives and the rank range, both targets."""
    lines = [f"{len(r.alternatives)} structural alternatives (κ × τ_V, and the movers' age peak); "
             f"scenario {r.year} without levers: population {r.base_population.min() / 1e4:,.1f}–"
             f"{r.base_population.max() / 1e4:,.1f}万, nominal GDP {r.base_gdp.min() / 1e8:,.0f}–"
             f"{r.base_gdp.max() / 1e8:,.0f}亿", "",
             f"| lever or policy (from the forecast start) | unit | Δ population {r.year} (万) median [min, max] | "
             "rank (pop.) | Δ nominal GDP (亿元) median [min, max] | rank (GDP) |",
             "|---|---|---|---|---|---|"]
    for row in sorted(r.table(), key=lambda x: -x["d_population_median"]):
        lines.append(
            f"| {row['lever']} | {row['unit']} | {row['d_population_median'] / 1e4:+.2f} "
            f"[{row['d_population_min'] / 1e4:+.2f}, {row['d_population_max'] / 1e4:+.2f}] | "
            f"{row['rank_population_best']}–{row['rank_population_worst']} | "
            f"{row['d_gdp_median'] / 1e8:+,.0f} [{row['d_gdp_min'] / 1e8:+,.0f}, {row['d_gdp_max'] / 1e8:+,.0f}] | "
            f"{row['rank_gdp_best']}–{row['rank_gdp_worst']} |")
    lines.append("")
    lines.append("in the top 3 under every alternative — population: "
                 + (", ".join(r.robust_top(3, "population")) or "none")
                 + "; GDP: " + (", ".join(r.robust_top(3, "gdp")) or "none"))
    return "\n".join(lines)
