"""Portfolio files: the scenario, the decision levers in planner units, the uncertain futures, the search
settings and the objectives of ``sim optimize`` (validated like scenario and sweep files).

A portfolio file is YAML (paths relative to the file)::

    name: portfolio
    scenario: ../scenarios/baseline.yaml
    levers:                     # decision variables: a [lower, upper] range is searched, a number is fixed
      graduates_JL: {policy: graduates_retained, node: JL_P, per_year: [0, 20000], from: 2025}
      hukou:        {policy: hukou, nodes: plan_area, removed: [0, 2], year: 2025}
      rail_CC_JL:   {policy: rail, link: CC_P-JL_P, minutes: [35, 60], opens: [2026, 2030]}
      housing_CC:   {policy: affordable_housing, node: CC_P, units_per_year: [0, 15000], unit_size_m2: 50,
                     from: 2025, until: 2030}
      childcare:    {policy: childcare_subsidy, nodes: plan_area, yuan_per_child: [0, 10000], from: 2025}
      projects_CC:  {policy: project_investment, node: CC_P, yuan_per_year: [0, 1.2e11], from: 2025,
                     until: 2030, local_share: 0.3}
    futures: {sweep: uncertainty.yaml, samples: 100, seed: 1}     # or parameters:/levers: as in a sweep
    algorithm: {method: nsga2, population: 100, generations: 50, seed: 7}
    objectives: {targets: probability, cost: {measure: mean, years: [2025, 2030]}, regret: {statistic: max}}
    costs: {}                   # overrides of simulator.costs.UNIT_COSTS (all optional)

Policies and their planner units are those of ``policies:`` in scenario files (docs/model.md §7.1):
the translation into levers is the same (``simulator.scenario.policies``). Each searched quantity is one
decision variable, named ``<entry>`` (or ``<entry>.<key>`` when an entry searches two quantities, e.g.
``rail_CC_JL.minutes`` and ``rail_CC_JL.opens``). ``removed`` counts settlement conditions removed
(in the order of ``HUKOU_CONDITIONS``) and is an integer; ``opens`` is searched in half-year steps.

Every mistake raises ``simulator.scenario.ScenarioError`` naming the file, the key path, the value, what
was expected and the nearest valid key.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

import numpy as np
from pydantic import AllowInfNan, BaseModel, ConfigDict, Field, Strict

from simulator.costs import UNIT_COSTS, CostError, CostModel
from simulator.model.nodes import NODES, PAIRS, pair_key
from simulator.safeio import SAFE_NAME
from simulator.scenario import Problem, ScenarioError, load_scenario
from simulator.scenario.errors import suggest
from simulator.scenario.loader import _parse_yaml, _read_text, _validate
from simulator.scenario.policies import HUKOU_CONDITIONS, PLAN_NODES, parse_nodes

Number = Annotated[float, Strict(), AllowInfNan(False)]
Year = Annotated[float, Strict(), Field(ge=2024, le=2100), AllowInfNan(False)]
Range = Union[Number, Annotated[list[Number], Field(min_length=2, max_length=2)]]
YearRange = Union[Year, Annotated[list[Year], Field(min_length=2, max_length=2)]]
ALGORITHMS = ("nsga2", "nsga3")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class _Lever(_Model):
    policy: str


class RailLever(_Lever):
    policy: Literal["rail"]
    link: str
    minutes: Range
    opens: YearRange


class HukouLever(_Lever):
    policy: Literal["hukou"]
    nodes: Union[str, list[str]]
    removed: Range
    year: Year


class GraduatesLever(_Lever):
    policy: Literal["graduates_retained"]
    node: str
    per_year: Range
    start: Year = Field(alias="from")


class HousingLever(_Lever):
    policy: Literal["affordable_housing"]
    node: str
    units_per_year: Range
    unit_size_m2: Annotated[Number, Field(gt=10, le=300)] = 50.0
    start: Year = Field(alias="from")
    until: Optional[Year] = None


class ChildcareLever(_Lever):
    policy: Literal["childcare_subsidy"]
    nodes: Union[str, list[str]]
    yuan_per_child: Range
    start: Year = Field(alias="from")


class ProjectLever(_Lever):
    policy: Literal["project_investment"]
    node: str
    yuan_per_year: Range
    start: Year = Field(alias="from")
    until: Optional[Year] = None
    local_share: Annotated[Number, Field(ge=0, le=1)] = 0.0


LEVER_MODELS = {"rail": RailLever, "hukou": HukouLever, "graduates_retained": GraduatesLever,
                "affordable_housing": HousingLever, "childcare_subsidy": ChildcareLever,
                "project_investment": ProjectLever}
#: the searched keys of each policy: (key, units, upper bound of the planner unit, resolution)
SEARCHED = {"rail": [("minutes", "min", 2000.0, 0.0), ("opens", "year", 2100.0, 0.5)],
            "hukou": [("removed", "conditions removed", float(len(HUKOU_CONDITIONS)), 1.0)],
            "graduates_retained": [("per_year", "persons/yr", 1e6, 0.0)],
            "affordable_housing": [("units_per_year", "units/yr", 1e6, 0.0)],
            "childcare_subsidy": [("yuan_per_child", "yuan/child/yr", 200_000.0, 0.0)],
            "project_investment": [("yuan_per_year", "yuan/yr", 1e13, 0.0)]}


class FuturesSection(_Model):
    sweep: Optional[str] = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    levers: dict[str, Any] = Field(default_factory=dict)
    samples: Annotated[int, Strict()] = Field(100, ge=1, le=100_000)
    seed: Annotated[int, Strict()] = Field(0, ge=0)


class AlgorithmSection(_Model):
    method: Literal[ALGORITHMS] = "nsga2"  # type: ignore[valid-type]
    population: Annotated[int, Strict()] = Field(100, ge=2, le=100_000)
    generations: Annotated[int, Strict()] = Field(50, ge=1, le=100_000)
    seed: Annotated[int, Strict()] = Field(0, ge=0)


class CostObjective(_Model):
    measure: Literal["mean", "npv"] = "mean"
    years: Annotated[list[Annotated[int, Strict()]], Field(min_length=2, max_length=2)] = [2025, 2030]
    discount_rate: Annotated[Number, Field(ge=0, le=0.5)] = 0.03


class RegretObjective(_Model):
    statistic: Literal["max", "mean", "p90"] = "max"


class ObjectivesSection(_Model):
    targets: Literal["probability", "shortfall"] = "probability"
    cost: CostObjective = CostObjective()
    regret: RegretObjective = RegretObjective()


class PortfolioDocument(_Model):
    name: str = Field(pattern=SAFE_NAME)
    description: str = ""
    scenario: str
    levers: dict[str, dict[str, Any]]
    futures: FuturesSection = FuturesSection()
    algorithm: AlgorithmSection = AlgorithmSection()
    objectives: ObjectivesSection = ObjectivesSection()
    costs: dict[str, Any] = Field(default_factory=dict)
    chunk_size: Optional[Annotated[int, Strict()]] = Field(None, ge=1, le=100_000)
    max_rhs_evaluations: Annotated[int, Strict()] = Field(20_000, ge=100)


@dataclass(frozen=True)
class Decision:
    """One decision variable: a searched planner quantity of one lever entry."""

    name: str           # decision-variable name
    entry: str          # the lever entry in the file
    key: str            # the planner key searched (per_year, minutes, opens, ...)
    units: str
    lower: float
    upper: float
    resolution: float   # 0 = continuous; else values are rounded to multiples of it


@dataclass
class Portfolio:
    """A validated portfolio file."""

    name: str
    description: str
    path: Path | None
    text: str
    sha256: str
    scenario: Any
    entries: dict[str, Any]             # entry name -> validated lever model
    decisions: list[Decision]
    futures: Any                        # simulator.ensemble.Sweep holding the uncertain factors
    samples: int
    futures_seed: int
    method: str
    population: int
    generations: int
    seed: int
    objectives: ObjectivesSection
    costs: CostModel
    chunk_size: int | None
    max_rhs_evaluations: int
    document: dict = field(default_factory=dict)

    @property
    def decision_names(self) -> list[str]:
        return [d.name for d in self.decisions]

    def with_overrides(self, population=None, generations=None, samples=None, seed=None) -> "Portfolio":
        from dataclasses import replace
        return replace(self, population=self.population if population is None else int(population),
                       generations=self.generations if generations is None else int(generations),
                       samples=self.samples if samples is None else int(samples),
                       seed=self.seed if seed is None else int(seed))

    def settings(self) -> dict:
        """Everything that determines the result (hashed into the analysis key)."""
        return {"portfolio_sha256": self.sha256, "scenario_sha256": self.scenario.sha256,
                "futures_sha256": self.futures.sha256, "samples": self.samples, "futures_seed": self.futures_seed,
                "method": self.method, "population": self.population, "generations": self.generations,
                "seed": self.seed, "costs": self.costs.to_dict(), "chunk_size": self.chunk_size,
                "max_rhs_evaluations": self.max_rhs_evaluations}


def _as_range(value) -> tuple[float, float] | None:
    """(lower, upper) for a searched [lower, upper], None for a fixed number."""
    if isinstance(value, list):
        return float(value[0]), float(value[1])
    return None


def _check_entry(name: str, lever, scenario, file: str, problems: list) -> list[Decision]:
    path = f"levers.{name}"
    end = float(scenario.targets.year)
    start = float(scenario.start)
    out: list[Decision] = []
    searched = SEARCHED[lever.policy]
    ranges = [(key, units, cap, res, _as_range(getattr(lever, key))) for key, units, cap, res in searched]
    n_searched = sum(r is not None for *_, r in ranges)
    for key, units, cap, res, rng in ranges:
        value = getattr(lever, key)
        if rng is None:
            lo = hi = float(value)
        else:
            lo, hi = rng
            if not lo < hi:
                problems.append(Problem(file, f"{path}.{key}", value, issue="empty range:",
                                        expected="[lower, upper] with lower < upper (or one number to fix it)"))
                continue
        floor = 1.0 if key == "minutes" else start if key == "opens" else 0.0
        if lo < floor or hi > cap:
            problems.append(Problem(file, f"{path}.{key}", value, issue="out of bounds:",
                                    expected=f"values in [{floor:g}, {cap:g}] {units}"))
            continue
        if key == "opens" and hi > end:
            problems.append(Problem(file, f"{path}.{key}", value, issue="after the target year:",
                                    expected=f"opening years up to {end:g} (the targets are for {end:g})"))
            continue
        if rng is not None:
            dname = name if n_searched == 1 else f"{name}.{key}"
            out.append(Decision(dname, name, key, units, lo, hi, res))
    if lever.policy == "rail":
        a, _, b = lever.link.partition("-")
        if a not in NODES or b not in NODES or a == b:
            problems.append(Problem(file, f"{path}.link", lever.link, issue="unknown link",
                                    expected="two node codes, e.g. CC_P-JL_P", suggestion=suggest(lever.link, PAIRS)))
        else:
            base = float(scenario.levers["travel_time"].schedules[pair_key(a, b)].value(start, side="right"))
            top = _as_range(lever.minutes)[1] if isinstance(lever.minutes, list) else float(lever.minutes)
            if top > base:
                problems.append(Problem(file, f"{path}.minutes", lever.minutes, issue="slower than today:",
                                        expected=f"minutes up to the scenario's {base:g} min on {pair_key(a, b)} "
                                                 "(a rail policy saves time)"))
    elif lever.policy == "hukou":
        parse_nodes(lever.nodes, file, f"{path}.nodes", problems)
        if isinstance(lever.removed, float) and lever.removed != round(lever.removed):
            problems.append(Problem(file, f"{path}.removed", lever.removed, expected="a whole number of conditions"))
    elif lever.policy == "childcare_subsidy":
        parse_nodes(lever.nodes, file, f"{path}.nodes", problems)
    else:
        parse_nodes(lever.node, file, f"{path}.node", problems)
    for key in ("start", "year"):
        when = getattr(lever, key, None)
        if when is not None and not start <= when < end:
            problems.append(Problem(file, f"{path}.{'from' if key == 'start' else key}", when,
                                    issue="outside the forecast:", expected=f"a year in [{start:g}, {end:g})"))
    until = getattr(lever, "until", None)
    if until is not None and until <= lever.start:
        problems.append(Problem(file, f"{path}.until", until, issue="not after 'from':",
                                expected=f"a year after {lever.start:g}"))
    return out


def _futures(doc: PortfolioDocument, scen_path: Path, base: Path, file: str, problems: list):
    from simulator.ensemble.spec import sweep_from_dict
    fut = doc.futures
    source, data = file, {"parameters": dict(fut.parameters), "levers": dict(fut.levers)}
    if fut.sweep is not None:
        if fut.parameters or fut.levers:
            problems.append(Problem(file, "futures.sweep", fut.sweep, issue="both a sweep file and factors:",
                                    expected="either futures.sweep or futures.parameters/levers"))
            return None
        sweep_path = base / fut.sweep
        if not sweep_path.is_file():
            problems.append(Problem(file, "futures.sweep", fut.sweep, issue="sweep file not found:",
                                    expected=f"a sweep file relative to the portfolio file (looked for {sweep_path})"))
            return None
        text = _read_text(sweep_path, str(sweep_path), None, None)
        raw = _parse_yaml(text, str(sweep_path))
        source = str(sweep_path)
        data = {"parameters": raw.get("parameters") or {}, "levers": raw.get("levers") or {}}
    sweep_doc = {"name": f"{doc.name}_futures", "scenario": str(scen_path.resolve()),
                 "design": {"method": "lhs", "samples": fut.samples, "seed": fut.seed}, **data,
                 "outputs": {"variables": ["metro_population"]}}
    try:
        return sweep_from_dict(sweep_doc, base_dir=base, source=source)
    except ScenarioError as exc:
        problems.extend(exc.problems)
        return None


def portfolio_from_dict(data: dict, *, base_dir=None, source: str = "<dict>", text: str | None = None,
                        path: Path | None = None) -> Portfolio:
    """Validate a portfolio given as a dict (paths relative to ``base_dir``); raises ScenarioError."""
    import json
    problems: list[Problem] = []
    if not isinstance(data, dict):
        raise ScenarioError(Problem(source, "", data, issue="top level is not a mapping:",
                                    expected="a mapping of portfolio keys (name, scenario, levers, futures, ...)"))
    doc = _validate(PortfolioDocument, data, source, "", problems)
    if doc is None:
        raise ScenarioError(problems)
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    scen_path = base / doc.scenario
    if not os.path.lexists(scen_path):
        raise ScenarioError(Problem(source, "scenario", doc.scenario, issue="scenario file not found:",
                                    expected=f"a scenario file relative to the portfolio file (looked for {scen_path})"))
    scenario = load_scenario(scen_path)
    entries, decisions = {}, []
    if not doc.levers:
        problems.append(Problem(source, "levers", {}, issue="nothing to decide:",
                                expected="at least one lever entry with a [lower, upper] range"))
    for name, raw in doc.levers.items():
        policy = raw.get("policy") if isinstance(raw, dict) else None
        if policy not in LEVER_MODELS:
            problems.append(Problem(source, f"levers.{name}.policy", policy, issue="unknown policy" if policy else
                                    "missing or invalid policy:", expected="one of " + ", ".join(LEVER_MODELS),
                                    suggestion=suggest(policy, tuple(LEVER_MODELS))))
            continue
        lever = _validate(LEVER_MODELS[policy], raw, source, f"levers.{name}", problems)
        if lever is None:
            continue
        entries[name] = lever
        decisions += _check_entry(name, lever, scenario, source, problems)
    if doc.levers and not decisions and not problems:
        problems.append(Problem(source, "levers", list(doc.levers), issue="nothing to search:",
                                expected="at least one [lower, upper] range among the lever entries"))
    years = doc.objectives.cost.years
    times = set(np.asarray(scenario.output_times).astype(int).tolist())
    if not years[0] <= years[1] or years[0] not in times or years[1] not in times:
        problems.append(Problem(source, "objectives.cost.years", years, issue="invalid cost years:",
                                expected=f"[first, last] output years with first ≤ last, in {min(times)}–{max(times)}"))
    try:
        costs = CostModel.from_mapping({**{k: u.value for k, u in UNIT_COSTS.items()}, **doc.costs},
                                       where=f"{source}: costs")
    except CostError as exc:
        for line in str(exc).splitlines():
            problems.append(Problem(source, "costs", None, issue=line.split(": costs: ", 1)[-1],
                                    expected="see simulator/costs.py (UNIT_COSTS)", show_value=False))
        costs = None
    futures = _futures(doc, scen_path, base, source, problems)
    if problems:
        raise ScenarioError(problems)
    if text is None:
        text = json.dumps(data, sort_keys=True, default=str)
    return Portfolio(name=doc.name, description=doc.description, path=path, text=text,
                     sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), scenario=scenario, entries=entries,
                     decisions=decisions, futures=futures, samples=doc.futures.samples, futures_seed=doc.futures.seed,
                     method=doc.algorithm.method, population=doc.algorithm.population,
                     generations=doc.algorithm.generations, seed=doc.algorithm.seed, objectives=doc.objectives,
                     costs=costs, chunk_size=doc.chunk_size, max_rhs_evaluations=doc.max_rhs_evaluations,
                     document=data)


def load_portfolio(path: str | os.PathLike) -> Portfolio:
    """Load and validate a portfolio YAML file; raises ``ScenarioError`` (one message per problem)."""
    path = Path(path)
    text = _read_text(path, str(path), None, None)
    data = _parse_yaml(text, str(path))
    return portfolio_from_dict(data, base_dir=path.parent, source=str(path), text=text, path=path)


__all__ = ["Decision", "Portfolio", "load_portfolio", "portfolio_from_dict"]
