"""Calibration configuration files (YAML) and how a free parameter changes a scenario.

A free parameter is one of:

* ``parameter: NAME`` (optionally ``node: CODE``): a model parameter, constant over the run;
* ``lever: NAME, kind: constant`` (optionally ``node``): a lever held constant at the value;
* ``lever: NAME, kind: scale``: the lever's schedule in the scenario multiplied by the value
  (every node, every knot);
* ``lever: NAME, kind: pulse, node: CODE, start: T0, end: T1``: the lever's value plus the free value
  between T0 and T1 (a historical shock such as Changchun's 2022 lockdown: output_shock 1 → 1 + d);
  without ``node`` the pulse hits every node (the 2020 pandemic year);
* ``lever: NAME, kind: period, start: T0`` (optionally ``end: T1``, ``nodes: [CODE, ...]``): the lever
  held at the free value from T0 (to T1, else to the end of the run). Several periods of one lever
  make a step path (TFP growth of the early 2010s, the late 2010s and the 2020s); a period for some
  ``nodes`` overrides the all-node path there during its own span only (Jilin City's TFP in the
  late 2010s). Only a period open to the end of the run is exported, as the lever's constant value
  for forward scenarios.

Each has ``bounds: [lo, hi]`` and a Gaussian ``prior: [mean, sd]`` (a penalty term in the fit).
``export: false`` keeps it out of the fitted parameter set written for forward scenarios (default:
false for pulses, which describe historical shocks, true otherwise).
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..model.levers import LEVERS
from ..model.nodes import NODES
from ..model.parameters import PARAMETERS
from ..safeio import SAFE_NAME, SAFE_NAME_TEXT
from ..scenario import ScenarioError, load_scenario
from ..scenario.errors import Problem, suggest
from ..scenario.scenario import Scenario


class FreeParameter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    parameter: Optional[str] = None
    lever: Optional[str] = None
    kind: Literal["parameter", "constant", "scale", "pulse", "period"] = "parameter"
    node: Optional[str] = None
    nodes: Optional[list[str]] = None
    start: Optional[float] = None
    end: Optional[float] = None
    bounds: tuple[float, float]
    prior: tuple[float, float] = Field(description="[mean, sd] of a Gaussian prior")
    export: Optional[bool] = None

    @model_validator(mode="after")
    def _check(self):
        if (self.parameter is None) == (self.lever is None):
            raise ValueError("give exactly one of 'parameter' or 'lever'")
        if self.parameter is not None:
            if self.parameter not in PARAMETERS:
                raise ValueError(f"unknown parameter '{self.parameter}'"
                                 + _did_you_mean(self.parameter, PARAMETERS))
            self.kind = "parameter"
        elif self.lever not in LEVERS:
            raise ValueError(f"unknown lever '{self.lever}'" + _did_you_mean(self.lever, LEVERS))
        elif self.kind == "parameter":
            raise ValueError("a lever needs kind: constant, scale, pulse or period")
        for node in ([self.node] if self.node else []) + (self.nodes or []):
            if node not in NODES:
                raise ValueError(f"unknown node '{node}'" + _did_you_mean(node, NODES))
        if self.nodes is not None and (self.kind != "period" or self.node is not None):
            raise ValueError("'nodes' is for kind: period only (use 'node' for a single node)")
        if self.kind == "pulse" and (self.start is None or self.end is None or not self.end > self.start):
            raise ValueError("a pulse needs start and end with end > start")
        if self.kind == "period" and (self.start is None or (self.end is not None and not self.end > self.start)):
            raise ValueError("a period needs start (and, if given, end > start)")
        lo, hi = self.bounds
        if not hi > lo:
            raise ValueError(f"bounds [{lo}, {hi}] must be increasing")
        if not self.prior[1] > 0:
            raise ValueError("the prior sd must be positive")
        if self.export is None:
            self.export = self.kind not in ("pulse", "period") or (self.kind == "period" and self.end is None)
        return self


class Stage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    free: list[str]
    series: list[str]


class CalibrationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=SAFE_NAME, description="label; also the report and fitted-set file name")
    description: str = ""
    scenario: str = Field(description="historical scenario file, relative to this file")
    until: Optional[int] = Field(None, description="fit only observations up to this year (backtest)")
    seed: int = 0
    starts: int = Field(4, ge=0, description="extra multi-start points (scrambled Sobol) in the joint fit")
    max_nfev: int = Field(60, ge=1)
    loss: Literal["linear", "soft_l1", "huber", "cauchy", "arctan"] = "soft_l1"
    free: list[FreeParameter]
    stages: list[Stage] = []
    weights: dict[str, float] = {}

    @model_validator(mode="after")
    def _check(self):
        names = [f.name for f in self.free]
        if len(set(names)) != len(names):
            raise ValueError("free parameter names must be unique")
        for stage in self.stages:
            for n in stage.free:
                if n not in names:
                    raise ValueError(f"stage '{stage.name}' frees unknown parameter '{n}'" + _did_you_mean(n, names))
        return self


def _did_you_mean(name, options) -> str:
    s = suggest(name, options)
    return f"; did you mean '{s}'?" if s else ""


#: run start years a calibration can start from (census years with observations)
HISTORY_STARTS = (2010, 2020)


def known_series() -> set[str]:
    """Series names that stages and weights may refer to (``city_population``, ...)."""
    from .observations import OPERATORS
    return set(OPERATORS)


def _semantic_problems(cfg: CalibrationConfig, file: str) -> list[Problem]:
    """Cross-checks pydantic cannot do: finite bounds inside the parameter's own, known series."""
    problems = []
    for i, f in enumerate(cfg.free):
        where = f"free.{i}.bounds"
        lo, hi = f.bounds
        if not (np.isfinite(lo) and np.isfinite(hi)):
            problems.append(Problem(file, where, list(f.bounds), issue="non-finite bound",
                                    expected="two finite numbers [lo, hi]"))
            continue
        if not all(np.isfinite(f.prior)):
            problems.append(Problem(file, f"free.{i}.prior", list(f.prior), issue="non-finite prior",
                                    expected="two finite numbers [mean, sd]"))
        if f.kind in ("parameter", "constant", "period"):
            spec = PARAMETERS[f.parameter] if f.kind == "parameter" else LEVERS[f.lever]
            if lo < spec.lower or hi > spec.upper:
                problems.append(Problem(file, where, list(f.bounds), issue="bounds beyond the "
                                        f"{'parameter' if f.kind == 'parameter' else 'lever'}'s own bounds",
                                        expected=f"bounds inside [{spec.lower:g}, {spec.upper:g}] {spec.units} "
                                                 f"({spec.name})"))
    series = known_series()
    for i, stage in enumerate(cfg.stages):
        for j, name in enumerate(stage.series):
            if name not in series:
                problems.append(Problem(file, f"stages.{i}.series.{j}", name, issue="unknown series",
                                        expected="one of " + ", ".join(sorted(series)),
                                        suggestion=suggest(name, sorted(series))))
    for key, w in cfg.weights.items():
        if key not in series:
            problems.append(Problem(file, f"weights.{key}", key, issue="unknown series",
                                    expected="one of " + ", ".join(sorted(series)),
                                    suggestion=suggest(key, sorted(series))))
        elif not (np.isfinite(w) and w >= 0):
            problems.append(Problem(file, f"weights.{key}", w, issue="invalid weight",
                                    expected="a finite number >= 0"))
    return problems


def _scaled_bounds_problems(cfg: CalibrationConfig, scenario: Scenario, file: str) -> list[Problem]:
    """Scale and pulse free values: the lever values they produce stay inside the lever's bounds."""
    problems = []
    for i, f in enumerate(cfg.free):
        if f.kind not in ("scale", "pulse") or not all(np.isfinite(f.bounds)):
            continue
        spec = LEVERS[f.lever]
        sched = scenario.levers[f.lever]
        pieces = list(sched.schedules.values())
        values = np.array([v for p in pieces for v in ((p.base,) if not p.times else p.left + p.right)])
        if f.kind == "pulse":
            nodes = [f.node] if f.node else list(NODES)
            values = np.array([_value_at(scenario, f.lever, n, f.start) for n in nodes])
            produced = np.concatenate([values + f.bounds[0], values + f.bounds[1]])
        else:
            produced = np.concatenate([values * f.bounds[0], values * f.bounds[1]])
        if produced.min() < spec.lower or produced.max() > spec.upper:
            problems.append(Problem(file, f"free.{i}.bounds", list(f.bounds),
                                    issue=f"bounds take lever {f.lever} outside its own bounds "
                                          f"({produced.min():.4g} to {produced.max():.4g})",
                                    expected=f"bounds keeping {f.lever} inside [{spec.lower:g}, {spec.upper:g}] "
                                             f"{spec.units}"))
    return problems


def load_config(path) -> tuple[CalibrationConfig, Scenario]:
    """The validated configuration and its historical scenario; ScenarioError on any bad input."""
    from ..scenario.loader import _parse_yaml, _read_text

    path = Path(path)
    text = _read_text(path, str(path), None, None)     # regular files only, size-limited, UTF-8
    data = _parse_yaml(text, str(path))                 # bounded safe loader: no bombs, no duplicate keys
    try:
        cfg = CalibrationConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(k) for k in err["loc"])
            expected = SAFE_NAME_TEXT if err["type"] == "string_pattern_mismatch" else "see simulator/fitting/config.py"
            problems.append(Problem(str(path), key, err.get("input"), issue=err["msg"].removeprefix("Value error, "),
                                    expected=expected))
        raise ScenarioError(problems) from None
    except (TypeError, ValueError, RecursionError) as exc:
        raise ScenarioError(Problem(str(path), "", None, issue=f"cannot be read ({type(exc).__name__})",
                                    expected="plain YAML data", show_value=False)) from None
    problems = _semantic_problems(cfg, str(path))
    scen_path = path.parent / cfg.scenario
    scenario = load_scenario(scen_path)
    if int(scenario.start) not in HISTORY_STARTS or scenario.start != int(scenario.start):
        problems.append(Problem(str(path), "scenario", cfg.scenario, issue=f"scenario starts in {scenario.start:g}:",
                                expected="a historical scenario starting in a census year "
                                         + " or ".join(map(str, HISTORY_STARTS))))
    if cfg.until is not None and not scenario.start < cfg.until <= scenario.end:
        problems.append(Problem(str(path), "until", cfg.until, issue="outside the run:",
                                expected=f"a year in ({scenario.start:g}, {scenario.end:g}]"))
    problems += _scaled_bounds_problems(cfg, scenario, str(path))
    if problems:
        raise ScenarioError(problems)
    return cfg, scenario


def apply(scenario: Scenario, free: list[FreeParameter], values: np.ndarray, only_exported: bool = False
          ) -> tuple[dict, dict]:
    """Parameter and lever overrides (scenario-file format) for free values ``values``."""
    parameters: dict = {}
    levers: dict = {}
    for f, v in zip(free, values):
        v = float(v)
        if only_exported and not f.export:
            continue
        if f.kind == "parameter":
            if f.node is None:
                parameters[f.parameter] = v
            else:
                parameters.setdefault(f.parameter, {})[f.node] = v
        elif f.kind == "constant":
            if f.node is None:
                levers[f.lever] = v
            else:
                levers.setdefault(f.lever, {})[f.node] = v
        elif f.kind == "scale":
            sched = scenario.levers[f.lever]
            levers[f.lever] = {key if key != () else "all": _scaled(p, v) for key, p in sched.schedules.items()} \
                if LEVERS[f.lever].kind != "scalar" else _scaled(sched.schedules[()], v)
        elif f.kind == "pulse":   # on top of the scenario's value at the pulse start
            for node in ([f.node] if f.node else list(NODES)):
                base = _value_at(scenario, f.lever, node, f.start)
                sched = levers.setdefault(f.lever, {}).setdefault(node, {"step": []})
                sched["step"] = sorted(sched["step"] + [[f.start, base + v], [f.end, base]])
    periods = [(f, float(v)) for f, v in zip(free, values) if f.kind == "period"]
    if periods:
        _apply_periods(scenario, periods, levers, only_exported)
    return parameters, levers


def _apply_periods(scenario: Scenario, periods: list, levers: dict, only_exported: bool) -> None:
    """Step schedules (or, for export, constants) of the ``period`` free values, per lever."""
    for lever in {f.lever for f, _ in periods}:
        mine = [(f, v) for f, v in periods if f.lever == lever]
        groups = {}
        for f, v in mine:
            key = tuple(f.nodes) if f.nodes else ((f.node,) if f.node else None)
            groups.setdefault(key, []).append((f, v))
        scalar = LEVERS[lever].kind == "scalar"
        if only_exported:
            for key, fvs in groups.items():
                for f, v in fvs:
                    if f.export:
                        _set(levers, lever, key, v, scalar)
            continue
        # where a closed period ends without a following one, the lever returns to its value at the
        # run start (the first node's: one 'all' path cannot differ by node)
        base = _value_at(scenario, lever, NODES[0], scenario.start)
        common: dict[float, float] = {}
        for f, v in sorted(groups.get(None, []), key=lambda fv: fv[0].start):
            common[f.start] = v
            if f.end is not None and f.end not in common:
                common[f.end] = base

        def common_value(t: float) -> float:
            times = [s for s in sorted(common) if s <= t]
            return common[times[-1]] if times else base

        for key, fvs in groups.items():
            steps = dict(common)
            if key is not None:
                for f, v in sorted(fvs, key=lambda fv: fv[0].start):
                    end = f.end if f.end is not None else float("inf")
                    steps = {t: x for t, x in steps.items() if not f.start < t < end}
                    if f.end is not None and f.end not in steps:
                        steps[f.end] = common_value(f.end)
                    steps[f.start] = v
            _set(levers, lever, key, {"step": [[t, x] for t, x in sorted(steps.items())]}, scalar)


def _set(levers: dict, lever: str, nodes, value, scalar: bool) -> None:
    if scalar:
        levers[lever] = value
        return
    target = levers.setdefault(lever, {})
    for n in (nodes or ("all",)):
        target[n] = value


def _value_at(scenario: Scenario, lever: str, node: str, t: float) -> float:
    value = scenario.levers[lever].value(t)
    return float(value[list(NODES).index(node)] if LEVERS[lever].kind == "node" else value)


def _scaled(piecewise, factor: float):
    if not piecewise.times:
        return piecewise.base * factor
    knots = [[t, r * factor] for t, r in zip(piecewise.times, piecewise.right)]
    return {"table": knots}
