"""Policies in the units a planner writes, translated into lever schedules (the ``policies:`` section).

Each policy names what a plan states — minutes by rail link and year of opening, settlement conditions
removed, graduates retained per year, affordable units and their size, yuan per child, yuan of project
investment — and is translated into the model's levers by a documented rule (docs/model.md §7.1):

================== ============================================ =====================================
policy             translation                                   lever
================== ============================================ =====================================
rail               door-to-door minutes from the opening year    travel_time (step on the pair)
hukou              each settlement condition removed adds its    hukou_ease (step, capped at 1)
                   increment (HUKOU_CONDITIONS)
graduates_retained X people aged 20–24 a year kept or attracted   graduates_retained (added step)
                   (sectors/students.py)
affordable_housing units/yr × m² per unit                        policy_housing_starts (added step)
childcare_subsidy  ΔTFR = ε·(3 years × yuan per child / cost of a tfr (added step)
                   child to 17)·TFR at the start
project_investment yuan/yr between ``from`` and ``until``         project_investment (added steps)
================== ============================================ =====================================

Additions keep whatever the scenario's levers already say (fitted TFR, other policies). Every policy
also carries a yearly fiscal cost (``policy_costs``), which ``simulator.fiscal`` compares with the
local budgets that pay for it (each city's, the rest of the province's) after the run.
"""
from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Optional, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError

from simulator.model.nodes import NODES, PAIRS, PLAN_MASK, pair_key

from .errors import Problem, suggest
from .schedules import Piecewise

Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Year = Annotated[float, Strict(), Field(ge=1990, le=2100, allow_inf_nan=False)]
PLAN_NODES = tuple(n for n, m in zip(NODES, PLAN_MASK) if m)

#: settlement conditions a hukou reform can remove, with the rise in hukou ease k each brings [judgement:
#: with k = 0.9 "largely open" in 2024, removing both remaining conditions gives k = 1, no conditions]
HUKOU_CONDITIONS = {
    "rental_settlement": (0.05, "settlement on a rented home (001: 「全面取消在吉林市租房落户限制条件」)"),
    "residence_registration": (0.05, "hukou registered where one usually lives "
                                      "(001: 「到 2035 年，建立以经常居住地登记户口制度」)"),
}
#: cost of raising a child in China to age 17 [yuan]: YuWa Population Research, 中国生育成本报告 2022 [secondary]
CHILD_COST = 485_000.0
#: years a childcare subsidy is paid per child (children under three)
SUBSIDY_YEARS = 3.0
#: elasticity of fertility to a child benefit measured as its total value over the cost of a child [judgement:
#: Milligan 2005 (Quebec, up to C$8,000 ≈ 5 % of the cost of a child, +12 % births at the full benefit)
#: implies ≈ 2; effects in low-fertility East Asia are smaller, hence 1]
FERTILITY_SUBSIDY_ELASTICITY = 1.0
#: unit costs for the fiscal check [yuan]: one source, ``simulator.costs`` (values, units and sources there)
from simulator.costs import CHILDREN_PER_BIRTH_COHORT, COST_PER_GRADUATE, COST_PER_M2_AFFORDABLE  # noqa: E402,F401


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rail(_Model):
    """A link's door-to-door travel time from the year it opens."""
    link: str = Field(description="node pair, e.g. CC_P-JL_P")
    minutes: Annotated[Number, Field(gt=0, le=2000)]
    opens: Year


class Hukou(_Model):
    """Settlement conditions removed in ``nodes`` from ``year``."""
    nodes: Union[str, list[str]] = Field(description="a node, plan_area, all, or a list of nodes")
    removed: list[Literal[tuple(HUKOU_CONDITIONS)]]  # type: ignore[valid-type]
    year: Year


class Graduates(_Model):
    """Extra graduates and young talents retained (or attracted) per year, from ``from``."""
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    node: str
    per_year: Annotated[Number, Field(gt=0, le=1e6)]
    start: Year = Field(alias="from")


class AffordableHousing(_Model):
    """Affordable / rental units started per year of ``unit_size_m2`` between ``from`` and ``until``."""
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    node: str
    units_per_year: Annotated[Number, Field(gt=0, le=1e6)]
    unit_size_m2: Annotated[Number, Field(gt=10, le=300)]
    start: Year = Field(alias="from")
    until: Optional[Year] = None


class Childcare(_Model):
    """A childcare subsidy in yuan per child (aged 0–2) per year from ``from``."""
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    nodes: Union[str, list[str]]
    yuan_per_child: Annotated[Number, Field(gt=0, le=200_000)]
    start: Year = Field(alias="from")


class Project(_Model):
    """Major-project investment in yuan per year between ``from`` and ``until``; ``local_share`` of it is
    paid from the local budget (the rest: central funds, special bonds, enterprises)."""
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    node: str
    yuan_per_year: Annotated[Number, Field(gt=0, le=1e13)]
    start: Year = Field(alias="from")
    until: Optional[Year] = None
    local_share: Annotated[Number, Field(ge=0, le=1)] = 0.0


class PoliciesSection(_Model):
    """Policies in planner units (see ``simulator.scenario.policies``)."""
    rail: list[Rail] = []
    hukou: list[Hukou] = []
    graduates_retained: list[Graduates] = []
    affordable_housing: list[AffordableHousing] = []
    childcare_subsidy: list[Childcare] = []
    project_investment: list[Project] = []


# --- schedule arithmetic --------------------------------------------------------------------------

def plus_step(schedule: Piecewise, t: float, delta: float) -> Piecewise:
    """``schedule`` plus ``delta`` from ``t`` on (exact: a jump at ``t``, later knots shifted)."""
    if delta == 0:
        return schedule
    return Piecewise.spliced(schedule, schedule.shifted(delta), t)


def _window(schedule: Piecewise, start: float, until: float | None, delta: float) -> Piecewise:
    out = plus_step(schedule, start, delta)
    return plus_step(out, until, -delta) if until is not None else out


# --- translation ----------------------------------------------------------------------------------

def parse_nodes(value, file: str, path: str, problems: list) -> tuple[str, ...]:
    """Node codes of a ``node``/``nodes`` entry (a code, ``plan_area``, ``all`` or a list of them), in order,
    without repeats; unknown names and an empty list are appended to ``problems``."""
    names = [value] if isinstance(value, str) else list(value)
    out = []
    for name in names:
        if name == "plan_area":
            out.extend(PLAN_NODES)
        elif name == "all":
            out.extend(NODES)
        elif name in NODES:
            out.append(name)
        else:
            problems.append(Problem(file, path, name, issue="unknown node",
                                    expected="a node code, plan_area or all",
                                    suggestion=suggest(name, NODES + ("plan_area", "all"))))
    if not names:
        problems.append(Problem(file, path, value, expected="a node code, plan_area, all or a non-empty list"))
    return tuple(dict.fromkeys(out))


def apply_policies(raw: Any, file: str, levers: dict[str, dict], parameters: dict[str, np.ndarray],
                   problems: list) -> None:
    """Validate ``raw`` (the ``policies:`` mapping) and add its translations to ``levers`` in place."""
    try:
        section = PoliciesSection.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(x) for x in err["loc"])
            value = err.get("input")
            extra = ""
            if err["type"] == "extra_forbidden":
                extra = suggest(str(err["loc"][-1]), tuple(PoliciesSection.model_fields)
                                + tuple(f for m in (Rail, Hukou, Graduates, AffordableHousing, Childcare, Project)
                                        for f in m.model_fields))
            problems.append(Problem(file, f"policies.{loc}", value, issue=err["msg"] + ":",
                                    expected="see docs/model.md §7.1 (policies in planner units)",
                                    suggestion=extra or None))
        return
    for i, r in enumerate(section.rail):
        path = f"policies.rail[{i}].link"
        a, _, b = r.link.partition("-")
        if a not in NODES or b not in NODES or a == b:
            problems.append(Problem(file, path, r.link, issue="unknown link", expected="two node codes, e.g. CC_P-JL_P",
                                    suggestion=suggest(r.link, PAIRS)))
            continue
        key = pair_key(a, b)
        levers["travel_time"][key] = Piecewise.step([(r.opens, r.minutes)], levers["travel_time"][key])
    for i, h in enumerate(section.hukou):
        gain = sum(HUKOU_CONDITIONS[c][0] for c in dict.fromkeys(h.removed))
        for node in parse_nodes(h.nodes, file, f"policies.hukou[{i}].nodes", problems):
            before = levers["hukou_ease"][node]       # added to the schedule (a later ramp keeps rising), at most to 1
            room = max(0.0, 1.0 - float(before.value(h.year, side="right")))
            levers["hukou_ease"][node] = plus_step(before, h.year, min(gain, room))
    for i, g in enumerate(section.graduates_retained):
        for node in parse_nodes(g.node, file, f"policies.graduates_retained[{i}].node", problems):
            # planner unit = model unit: the graduates_retained lever keeps or attracts X people aged 20–24 a year
            levers["graduates_retained"][node] = plus_step(levers["graduates_retained"][node], g.start, g.per_year)
    for i, h in enumerate(section.affordable_housing):
        for node in parse_nodes(h.node, file, f"policies.affordable_housing[{i}].node", problems):
            area = h.units_per_year * h.unit_size_m2
            levers["policy_housing_starts"][node] = _window(levers["policy_housing_starts"][node], h.start, h.until, area)
    for i, c in enumerate(section.childcare_subsidy):
        for node in parse_nodes(c.nodes, file, f"policies.childcare_subsidy[{i}].nodes", problems):
            tfr = float(levers["tfr"][node].value(c.start, side="right"))
            delta = FERTILITY_SUBSIDY_ELASTICITY * SUBSIDY_YEARS * c.yuan_per_child / CHILD_COST * tfr
            levers["tfr"][node] = plus_step(levers["tfr"][node], c.start, delta)
    for kind in ("affordable_housing", "project_investment"):
        for i, item in enumerate(getattr(section, kind)):
            if item.until is not None and item.until <= item.start:
                problems.append(Problem(file, f"policies.{kind}[{i}].until", item.until, issue="not after 'from':",
                                        expected=f"a year after {item.start:g}"))
                return
    for i, p in enumerate(section.project_investment):
        for node in parse_nodes(p.node, file, f"policies.project_investment[{i}].node", problems):
            levers["project_investment"][node] = _window(levers["project_investment"][node], p.start, p.until,
                                                          p.yuan_per_year)


def policy_costs(raw: dict | None, scenario=None) -> list[dict]:
    """Yearly fiscal cost of each policy as (name, nodes, start, until, fixed yuan/yr or per-birth yuan).

    Rail needs the scenario (its forecast start and the link's minutes before the opening): its local share
    of the capital cost, (T_start − T)·c_min·rail_local_share, is spread evenly over the calendar years from
    the forecast start to the opening (``simulator.costs``); without a scenario rail is left out."""
    if not raw:
        return []
    section = PoliciesSection.model_validate(raw)
    out = []
    for g in section.graduates_retained:
        out.append(dict(policy="graduates_retained", nodes=parse_nodes(g.node, "", "", []), start=g.start, until=None,
                        yuan_per_year=g.per_year * COST_PER_GRADUATE, yuan_per_birth=0.0))
    for h in section.affordable_housing:
        out.append(dict(policy="affordable_housing", nodes=parse_nodes(h.node, "", "", []), start=h.start, until=h.until,
                        yuan_per_year=h.units_per_year * h.unit_size_m2 * COST_PER_M2_AFFORDABLE, yuan_per_birth=0.0))
    for c in section.childcare_subsidy:
        out.append(dict(policy="childcare_subsidy", nodes=parse_nodes(c.nodes, "", "", []), start=c.start, until=None,
                        yuan_per_year=0.0, yuan_per_birth=c.yuan_per_child * CHILDREN_PER_BIRTH_COHORT))
    for p in section.project_investment:
        out.append(dict(policy="project_investment", nodes=parse_nodes(p.node, "", "", []), start=p.start, until=p.until,
                        yuan_per_year=p.yuan_per_year * p.local_share, yuan_per_birth=0.0))
    if scenario is not None:
        from simulator.costs import RAIL_LOCAL_SHARE, RAIL_YUAN_PER_MINUTE
        start = float(scenario.start)
        for r in section.rail:
            a, _, b = r.link.partition("-")
            before = float(scenario.levers["travel_time"].schedules[pair_key(a, b)].value(start, "right"))
            capital = max(0.0, before - r.minutes) * RAIL_YUAN_PER_MINUTE * RAIL_LOCAL_SHARE
            years = max(1, math.ceil(r.opens + 1) - int(start) - 1)     # calendar years t, start < t < opens + 1
            out.append(dict(policy="rail", nodes=(a, b), start=start, until=start + years,
                            yuan_per_year=capital / years, yuan_per_birth=0.0))
    return out
