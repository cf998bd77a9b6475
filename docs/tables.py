"""Generate the tables of docs/model.md from the code, so the document cannot drift from it.

    python docs/tables.py          # rewrite the generated blocks in docs/model.md
    python docs/tables.py --check  # exit 1 if they are out of date (run by the test suite)

Each block sits between ``<!-- BEGIN GENERATED: name -->`` and ``<!-- END GENERATED: name -->``.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DOC = ROOT / "docs" / "model.md"


def _num(v: float) -> str:
    return f"{v:g}"


def _default(default) -> str:
    if isinstance(default, dict):
        return "; ".join(f"{k} {_num(v)}" for k, v in default.items())
    return _num(default)


def parameters_table() -> str:
    from simulator.model.parameters import PARAMETERS, SYMBOL
    rows = ["| # | name | symbol | default | units | bounds | per node | sector | description | source |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for i, (name, s) in enumerate(PARAMETERS.items(), 1):
        rows.append(f"| {i} | `{name}` | {SYMBOL[name]} | {_default(s.default)} | {s.units} | "
                    f"[{_num(s.lower)}, {_num(s.upper)}] | {'yes' if s.per_node else 'no'} | {s.sector} | "
                    f"{s.description} | {s.source} |")
    return "\n".join(rows)


def levers_table() -> str:
    from simulator.model.levers import LEVERS, SYMBOL
    rows = ["| # | name | symbol | kind | default | units | bounds | seed levers | description |",
            "|---|---|---|---|---|---|---|---|---|"]
    for i, (name, s) in enumerate(LEVERS.items(), 1):
        default = "base travel-time matrix (§2)" if s.kind == "pair" else _default(s.default)
        rows.append(f"| {i} | `{name}` | {SYMBOL[name]} | {s.kind} | {default} | {s.units} | "
                    f"[{_num(s.lower)}, {_num(s.upper)}] | {s.seeds} | {s.description} |")
    return "\n".join(rows)


def base_year_table() -> str:
    from simulator.model.base_data import base_year
    from simulator.model.nodes import NODES, PLAN_MASK
    b = base_year()
    share = b.urban_population / b.population
    young, old = b.age_shares[:, :3].sum(1), b.age_shares[:, 13:].sum(1)
    rows = ["| node | pop. census 2020 | pop. 2024 | urban share 2024 | GDP 2024 [bn yuan] | GDP/resident [yuan] "
            "| 0–14 [%] | 65+ [%] | h0 [m²/person] |", "|---|---|---|---|---|---|---|---|---|"]
    for i, n in enumerate(NODES):
        rows.append(f"| {n} | {b.population_2020[i]:,.0f} | {b.population[i]:,.0f} | {share[i]:.4f} | "
                    f"{b.gdp[i] / 1e9:.2f} | {b.gdp[i] / b.population[i]:,.0f} | {100 * young[i]:.2f} | "
                    f"{100 * old[i]:.2f} | {b.floor_area_per_person[i]:.2f} |")
    plan = PLAN_MASK
    rows.append(f"| **plan area** | {b.population_2020[plan].sum():,.0f} | **{b.population[plan].sum():,.0f}** | "
                f"{b.urban_population[plan].sum() / b.population[plan].sum():.4f} | **{b.gdp[plan].sum() / 1e9:.2f}** "
                "| – | – | – | – |")
    rows.append(f"| province | {b.population_2020.sum():,.0f} | {b.population.sum():,.0f} | "
                f"{b.urban_population.sum() / b.population.sum():.4f} | {b.gdp.sum() / 1e9:.2f} | – | – | – | – |")
    rows.append("")
    rows.append(f"Partial share of Yushu and Dongliao in the plan area a = {b.partial_share:.4f}; GDP per "
                f"resident outside / inside the plan area r = {b.gdp_outside_ratio:.4f}.")
    return "\n".join(rows)


def state_2010_table() -> str:
    from simulator.model.base_data import base_year
    from simulator.model.nodes import NODES, PLAN_MASK
    b, b20 = base_year(2010), base_year(2020)
    share, share20 = b.urban_population / b.population, b20.urban_population / b20.population
    young, old = b.age_shares[:, :3].sum(1), b.age_shares[:, 13:].sum(1)
    rows = ["| node | pop. census 2010 | pop. census 2020 | change | urban share 2010 | urban share 2020 "
            "| GDP 2010 [bn yuan, revised basis] | 0–14 [%] | 65+ [%] | h0 [m²/person] |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for i, n in enumerate(NODES):
        rows.append(f"| {n} | {b.population[i]:,.0f} | {b20.population[i]:,.0f} | "
                    f"{100 * (b20.population[i] / b.population[i] - 1):+.1f} % | {share[i]:.4f} | {share20[i]:.4f} | "
                    f"{b.gdp[i] / 1e9:.2f} | {100 * young[i]:.2f} | {100 * old[i]:.2f} | {b.floor_area_per_person[i]:.2f} |")
    plan = np.array(PLAN_MASK, dtype=bool)
    rows.append(f"| **plan area** | {b.population[plan].sum():,.0f} | {b20.population[plan].sum():,.0f} | "
                f"{100 * (b20.population[plan].sum() / b.population[plan].sum() - 1):+.1f} % | – | – | "
                f"{b.gdp[plan].sum() / 1e9:.2f} | – | – | – |")
    rows.append(f"| province | {b.population.sum():,.0f} | {b20.population.sum():,.0f} | "
                f"{100 * (b20.population.sum() / b.population.sum() - 1):+.1f} % | "
                f"{b.urban_population.sum() / b.population.sum():.4f} | "
                f"{b20.urban_population.sum() / b20.population.sum():.4f} | {b.gdp.sum() / 1e9:.2f} | – | – | – |")
    return "\n".join(rows)


def calibrated_table() -> str:
    from simulator import scenario_from_dict
    from simulator.model.initial import initialize
    from simulator.model.inputs import stack_parameters
    from simulator.model.nodes import NODES
    sc = scenario_from_dict({"name": "defaults"})
    _, c = initialize(stack_parameters([sc.parameters]), 1, sc.age_substages)
    rows = ["| node | ξ | ψ | A0 | λ_RU [1/yr] | u0 |", "|---|---|---|---|---|---|"]
    for i, n in enumerate(NODES):
        rows.append(f"| {n} | {c.fixed_effect[i, 0]:.3f} | {c.home_premium[i, 0]:.3f} | {c.tfp0[i, 0]:.4g} | "
                    f"{c.conversion_rate[i, 0]:.4f} | {c.base_unemployment[i, 0]:.4f} |")
    rows.append("")
    rows.append(f"G_ext = {float(c.ext_scale[0]):,.0f} persons/yr (with default parameters and levers).")
    return "\n".join(rows)


BLOCKS = {"parameters": parameters_table, "levers": levers_table, "base-year": base_year_table,
          "state-2010": state_2010_table,
          "calibrated-constants": calibrated_table}


def render(text: str) -> str:
    from simulator.model.levers import LEVERS
    from simulator.model.parameters import PARAMETERS
    for name, table in (("parameters.PARAMETERS", PARAMETERS), ("levers.LEVERS", LEVERS)):
        text = re.sub(rf"There are \d+ entries in `{re.escape(name)}`", f"There are {len(table)} entries in `{name}`", text)
    for name, make in BLOCKS.items():
        pattern = re.compile(rf"(<!-- BEGIN GENERATED: {name} -->\n).*?(\n<!-- END GENERATED: {name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"docs/model.md has no generated block '{name}'")
        text = pattern.sub(lambda m: m.group(1) + make() + m.group(2), text)
    return text


def main() -> None:
    text = DOC.read_text(encoding="utf-8")
    new = render(text)
    if "--check" in sys.argv:
        if new != text:
            print("docs/model.md tables are out of date: run python docs/tables.py")
            sys.exit(1)
        return
    DOC.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()
