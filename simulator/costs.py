"""The cost model: unit costs of each policy lever, the one source used by the fiscal check
(``simulator.fiscal`` via ``scenario.policies.policy_costs``) and by ``sim optimize``.

Every unit cost carries its units and a source; a value that is a judgement of this project and not
taken from a publication or the seeds is marked ``assumption``. Costs are yuan as spent (not indexed
to the deflator), charged to the plan area's local budgets.

=================================  ==================  ====================================================
unit cost                          value               source
=================================  ==================  ====================================================
graduate_retained                  30,000 yuan/person  assumption: settlement, rent and living subsidies
                                   per year            per retained graduate per year
affordable_housing_m2              3,000 yuan/m²       assumption: construction cost of affordable rental
                                                       housing (land supplied free)
childcare_per_child_years          3 children/birth    definition: subsidy paid to age 3, so 3 birth
                                                       cohorts receive it in a year
rail_minute_saved                  5.0e8 yuan/min      assumption: a 100-km intercity line at 1.2–1.5e8
                                                       yuan/km (World Bank 2019, China's high-speed rail
                                                       development, 17–21 M USD/km) saves ≈ 25 min door
                                                       to door → ≈ 5e8 yuan per minute saved on a link
rail_local_share                   0.3                 assumption: most rail capital comes from China State
                                                       Railway Group and central funds
rail_build_years                   (from forecast      definition: the capital cost is spread evenly over the
                                   start to opening)   calendar years from the forecast start to the opening
project_local_share                per policy          the ``local_share`` of each project_investment item
                                                       (plan.yaml: 0.3, judgement)
=================================  ==================  ====================================================

Yearly cost (calendar year t, the flow labelled t; a policy ``from: Y`` acts from calendar year Y + 1):

    graduates   X·c_grad·1{t > from}
    housing     units·m²·c_m2·1{from < t ≤ until}
    childcare   yuan·3·births_nodes(t)·1{t > from}
    project     yuan·local_share·1{from < t ≤ until}
    rail        (T_base − T)·c_min·rail_local_share / n · 1{start < t < opens + 1},  n = number of such years

A missing, negative or non-finite unit cost raises ``CostError`` naming the item.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping


class CostError(ValueError):
    """A unit cost is missing, negative or not a finite number."""


@dataclass(frozen=True)
class UnitCost:
    value: float
    units: str
    source: str
    assumption: bool

    def describe(self) -> str:
        return f"{self.value:,.6g} {self.units} ({'assumption' if self.assumption else 'source'}: {self.source})"


UNIT_COSTS: dict[str, UnitCost] = {
    "graduate_retained": UnitCost(30_000.0, "yuan/person/yr",
                                  "settlement, rent and living subsidies per retained graduate per year", True),
    "affordable_housing_m2": UnitCost(3_000.0, "yuan/m2", "construction cost of affordable rental housing per m²",
                                      True),
    "childcare_per_child_years": UnitCost(3.0, "children/birth",
                                          "definition: subsidy paid to age 3, three birth cohorts at a time",
                                          False),
    "rail_minute_saved": UnitCost(5.0e8, "yuan/min",
                                  "World Bank 2019 (China's high-speed rail development): 17–21 M USD/km ≈ "
                                  "1.2–1.5e8 yuan/km; a 100-km line saving ≈ 25 min door to door [assumption]",
                                  True),
    "rail_local_share": UnitCost(0.3, "1", "share of rail capital paid from local budgets", True),
}


@dataclass(frozen=True)
class CostModel:
    """Validated unit costs (every key of ``UNIT_COSTS``)."""

    graduate_retained: float
    affordable_housing_m2: float
    childcare_per_child_years: float
    rail_minute_saved: float
    rail_local_share: float

    @classmethod
    def from_mapping(cls, values: Mapping[str, float], where: str = "cost model") -> "CostModel":
        """Exactly the keys of ``UNIT_COSTS``; raises CostError for a missing, unknown, negative or
        non-finite value (naming it and what is expected)."""
        problems = []
        for key in UNIT_COSTS:
            if key not in values or values[key] is None:
                problems.append(f"{where}: unit cost '{key}' is missing (expected a number ≥ 0 in "
                                f"{UNIT_COSTS[key].units})")
                continue
            v = values[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                problems.append(f"{where}: unit cost '{key}' = {v!r} is not a finite number (expected ≥ 0 in "
                                f"{UNIT_COSTS[key].units})")
            elif v < 0:
                problems.append(f"{where}: unit cost '{key}' = {v:g} is negative (expected ≥ 0 in "
                                f"{UNIT_COSTS[key].units})")
        for key in values:
            if key not in UNIT_COSTS:
                from simulator.scenario.errors import suggest
                hint = suggest(str(key), tuple(UNIT_COSTS))
                problems.append(f"{where}: unknown unit cost '{key}' (expected one of {', '.join(UNIT_COSTS)})"
                                + (f"; {hint}" if hint else ""))
        if "rail_local_share" in values and not problems and values["rail_local_share"] > 1:
            problems.append(f"{where}: unit cost 'rail_local_share' = {values['rail_local_share']:g} is above 1 "
                            "(expected a share in [0, 1])")
        if problems:
            raise CostError("\n".join(problems))
        return cls(**{k: float(values[k]) for k in UNIT_COSTS})

    @classmethod
    def default(cls) -> "CostModel":
        return cls.from_mapping({k: u.value for k, u in UNIT_COSTS.items()})

    def to_dict(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in UNIT_COSTS}


def _value(key: str) -> float:
    return UNIT_COSTS[key].value


#: the constants the fiscal check uses (``scenario.policies``), from the table above
COST_PER_GRADUATE = _value("graduate_retained")
COST_PER_M2_AFFORDABLE = _value("affordable_housing_m2")
CHILDREN_PER_BIRTH_COHORT = _value("childcare_per_child_years")
RAIL_YUAN_PER_MINUTE = _value("rail_minute_saved")
RAIL_LOCAL_SHARE = _value("rail_local_share")
