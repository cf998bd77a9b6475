"""Scenario layer: YAML scenario files → validated, resolved ``Scenario`` objects.

A scenario file sets the run window, solver, model options and plan targets, overrides model
parameters (``simulator.model.parameters``) and gives time schedules for policy levers
(``simulator.model.levers``). Files may ``extends`` a parent file; child keys override parent keys.
Every invalid input raises ``ScenarioError`` listing all problems found.

Merging rules: in a node (pair) mapping a node key beats ``plan_area``, which beats ``all``; every
element a child document sets (by any key) replaces the parent's value for that element, and a
``step`` schedule keeps the parent's schedule for that element before its first step time.
"""
from .errors import Problem, ScenarioError
from .loader import load_scenario, scenario_from_dict
from .scenario import Scenario, SolverSettings, Targets
from .schedules import LeverSchedule, Piecewise
from .schema import SUPPORTED_START_YEARS, json_schema

__all__ = [
    "LeverSchedule", "Piecewise", "Problem", "SUPPORTED_START_YEARS", "Scenario", "ScenarioError",
    "SolverSettings", "Targets", "json_schema", "load_scenario", "scenario_from_dict",
]
