"""Pydantic models of the scenario file format and its JSON Schema.

The models check structure and per-value types and ranges; names of parameters and levers, their
bounds and the cross-field rules (e.g. ``end > start``) are checked in ``loader.py`` against the
registries in ``simulator.model``.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from pydantic import AllowInfNan, BaseModel, ConfigDict, Field, Strict, field_validator, model_validator

from simulator.model.levers import LEVERS
from simulator.model.nodes import NODES
from simulator.model.parameters import PARAMETERS
from simulator.safeio import SAFE_NAME, SAFE_NAME_TEXT

from simulator.model.base_data import BASE_YEARS as SUPPORTED_START_YEARS  # noqa: E402  (2010, 2020, 2024)
MAX_END_YEAR = 2100
SOLVER_METHODS = ("RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA")
#: keys selecting groups of elements in node/pair mappings
ALL_KEY = "all"
PLAN_AREA_KEY = "plan_area"
SCHEDULE_KINDS = ("constant", "step", "ramp", "table")
#: most knots in one step or table schedule (each knot is a solver segment boundary)
MAX_KNOTS = 1000

#: a finite real number (int or float; not bool, not a string)
Number = Annotated[float, Strict(), AllowInfNan(False)]
Knot = tuple[Number, Number]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeSection(_Model):
    """Run interval [year] and output spacing [yr]."""

    start: Optional[Number] = Field(None, description=f"first year; one of {SUPPORTED_START_YEARS}")
    end: Optional[Number] = Field(None, le=MAX_END_YEAR, description="last year (> start)")
    output_step: Optional[Number] = Field(None, gt=0, description="output spacing [yr]; divides end - start")


class SolverSection(_Model):
    """ODE solver settings (scipy.integrate.solve_ivp)."""

    method: Optional[Literal[SOLVER_METHODS]] = None  # type: ignore[valid-type]
    rtol: Optional[Number] = Field(None, gt=0, le=0.1, description="relative tolerance")
    atol: Optional[Number] = Field(None, gt=0, le=1,
                                   description="absolute tolerance, relative to each state's typical size")


class ModelSection(_Model):
    """Structural model options."""

    age_substages: Optional[Annotated[int, Strict()]] = Field(None, ge=1, le=10,
                                                              description="sub-stages per age group")


class TargetsSection(_Model):
    """Plan targets the results are compared with."""

    year: Optional[Number] = Field(None, description="target year (a whole year), within [start, end]")

    @field_validator("year")
    @classmethod
    def _whole_year(cls, v):
        if v is not None and v != int(v):
            raise ValueError("a whole year (e.g. 2030)")
        return v
    population: Optional[Number] = Field(None, gt=0, description="resident population [persons]")
    gdp_nominal: Optional[Number] = Field(None, gt=0, description="nominal GDP [yuan]")


class ScenarioDocument(_Model):
    """One scenario file (before ``extends`` merging)."""

    name: Optional[Annotated[str, Strict()]] = Field(None, pattern=SAFE_NAME,
                                                     description="scenario name (default: file stem); a label "
                                                                 "that names the output directory: " + SAFE_NAME_TEXT)
    description: Optional[Annotated[str, Strict()]] = None
    extends: Optional[Annotated[str, Strict()]] = Field(None, description="parent file, relative to this file")
    continues: Optional[Annotated[str, Strict()]] = Field(
        None, description="history scenario file (relative to this file) whose run this one continues: it is "
                          "integrated from its own start with its own levers up to this scenario's start, and "
                          "this scenario's levers apply from then on")
    time: Optional[TimeSection] = None
    solver: Optional[SolverSection] = None
    model: Optional[ModelSection] = None
    targets: Optional[TargetsSection] = None
    parameters: Optional[dict[str, Any]] = Field(None, description="overrides of parameter defaults")
    levers: Optional[dict[str, Any]] = Field(None, description="lever schedules")
    policies: Optional[dict[str, Any]] = Field(
        None, description="policies in planner units (rail minutes, settlement conditions, graduates retained, "
                          "affordable units, yuan per child, project yuan), translated into levers; "
                          "see simulator/scenario/policies.py")


SECTIONS: dict[str, type[_Model]] = {
    "time": TimeSection, "solver": SolverSection, "model": ModelSection, "targets": TargetsSection,
}


# --- schedules ----------------------------------------------------------------------------------

def _increasing(knots: list) -> list:
    times = [t for t, _ in knots]
    if any(b <= a for a, b in zip(times, times[1:])):
        raise ValueError("strictly increasing times")
    return knots


class ConstantSchedule(_Model):
    constant: Number


class StepSchedule(_Model):
    """``[[t, v], ...]``: v_k from t_k on; the inherited value before t_1."""

    step: list[Knot] = Field(min_length=1, max_length=MAX_KNOTS)
    @field_validator("step")
    @classmethod
    def _times_increase(cls, v):
        return _increasing(v)


class Ramp(_Model):
    start: Number
    end: Number
    from_: Number = Field(alias="from")
    to: Number

    @model_validator(mode="after")
    def _end_after_start(self):
        if self.end <= self.start:
            raise ValueError("an end year after the start year")
        return self


class RampSchedule(_Model):
    """Linear from ``from`` to ``to`` between ``start`` and ``end``, constant outside."""

    ramp: Ramp


class TableSchedule(_Model):
    """Piecewise linear through ``[[t, v], ...]``, constant outside."""

    table: list[Knot] = Field(min_length=1, max_length=MAX_KNOTS)
    @field_validator("table")
    @classmethod
    def _times_increase(cls, v):
        return _increasing(v)


SCHEDULE_MODELS: dict[str, type[_Model]] = {
    "constant": ConstantSchedule, "step": StepSchedule, "ramp": RampSchedule, "table": TableSchedule,
}


# --- JSON Schema --------------------------------------------------------------------------------

def _bounds_text(units: str, lower: float, upper: float) -> str:
    return f"[{units}], bounds [{lower:g}, {upper:g}]"


def json_schema() -> dict:
    """JSON Schema of the scenario file with every parameter and lever name enumerated."""
    schema = ScenarioDocument.model_json_schema(by_alias=True)
    defs = schema.setdefault("$defs", {})
    for model in SCHEDULE_MODELS.values():
        sub = model.model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
        defs.update(sub.pop("$defs", {}))
        defs[model.__name__] = sub
    defs["Schedule"] = {
        "description": "a number (constant) or one of {constant, step, ramp, table}",
        "anyOf": [{"type": "number"}] + [{"$ref": f"#/$defs/{m.__name__}"} for m in SCHEDULE_MODELS.values()],
    }
    schedule = {"$ref": "#/$defs/Schedule"}
    node_keys = list(NODES) + [ALL_KEY, PLAN_AREA_KEY]

    params = {}
    for name, spec in PARAMETERS.items():
        number = {"type": "number", "minimum": spec.lower, "maximum": spec.upper}
        entry: dict[str, Any] = {
            "description": f"{spec.description} {_bounds_text(spec.units, spec.lower, spec.upper)}",
            "x-units": spec.units,
        }
        if spec.per_node:
            per_node = {"type": "object", "additionalProperties": False,
                        "properties": {k: number for k in node_keys}}
            entry["anyOf"] = [number, per_node]
        else:
            entry.update(number)
        params[name] = entry
    schema["properties"]["parameters"] = {
        "description": "overrides of parameter defaults", "type": "object",
        "additionalProperties": False, "properties": params,
    }

    levers = {}
    for name, spec in LEVERS.items():
        entry = {"description": f"{spec.description} {_bounds_text(spec.units, spec.lower, spec.upper)} "
                                f"({spec.kind} lever)",
                 "x-units": spec.units, "x-kind": spec.kind}
        if spec.kind == "scalar":
            entry.update(schedule)
        elif spec.kind == "node":
            entry["anyOf"] = [schedule, {"type": "object", "additionalProperties": False,
                                         "properties": {k: schedule for k in node_keys}}]
        else:
            entry["anyOf"] = [schedule, {"type": "object", "additionalProperties": schedule,
                                         "propertyNames": {"pattern": r"^(all|[A-Z_]+-[A-Z_]+)$"}}]
        levers[name] = entry
    schema["properties"]["levers"] = {
        "description": "lever schedules", "type": "object",
        "additionalProperties": False, "properties": levers,
    }
    return schema
