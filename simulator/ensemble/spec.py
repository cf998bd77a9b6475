"""Sweep files: which scenario to vary, which parameters and levers, how to sample them.

A sweep file is YAML (read with the scenario loader's safe loader, so ``1e-3`` is a number)::

    name: uncertainty
    scenario: ../scenarios/baseline.yaml     # relative to the sweep file
    design: {method: lhs, samples: 10000, seed: 20250101}
    parameters:
      income_weight: {distribution: uniform, lower: 1.0, upper: 2.0}
      mortality_scale: {distribution: normal, mean: 1.0, sd: 0.03, apply: scale}
    levers:
      tfp_growth: {distribution: triangular, lower: 0.01, mode: 0.02, upper: 0.03,
                   elements: plan_area, from: 2025}
    outputs: {variables: [metro_population, metro_gdp_nominal]}
    analysis: {sensitivity: {outputs: [metro_population, metro_gdp_nominal], years: [2030, 2035]}}

Each entry of ``parameters`` / ``levers`` is one *factor* (or one per element with ``per_node: true``).

* ``distribution``: ``uniform`` (lower, upper), ``normal`` (mean, sd), ``truncnormal`` (mean, sd,
  lower, upper), ``triangular`` (lower, mode, upper), ``loguniform`` (lower, upper), ``choice``
  (values: [...], equally likely).
* ``apply``: ``value`` (default: the sampled number *is* the parameter / lever value), ``scale``
  (multiplies the scenario's value or schedule) or ``add`` (is added to it).
* ``elements`` (per-node parameters, node and pair levers): ``all`` (default), ``plan_area`` or a list of
  node (pair) codes — the elements that receive the sampled value.
* ``per_node`` (default false): one independent factor per element (named ``<name>.<element>``)
  instead of one shared value.
* ``from`` (levers, ``apply: value`` only): the sampled value replaces the schedule from this year on
  (a step at ``from``); default the scenario start, i.e. the whole run.

Every mistake raises ``simulator.scenario.ScenarioError`` with the file, key path, value, what was
expected and the nearest valid key, like scenario files.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

import numpy as np
from pydantic import AllowInfNan, BaseModel, ConfigDict, Field, Strict

from simulator.model.levers import LEVERS
from simulator.model.nodes import NODES, PAIRS, PLAN_MASK
from simulator.model.parameters import PARAMETERS
from simulator.results import VARIABLES
from simulator.scenario import Problem, ScenarioError, load_scenario
from simulator.scenario.errors import suggest
from simulator.safeio import SAFE_NAME
from simulator.scenario.loader import _parse_yaml, _read_text, _validate  # shared YAML / error handling

Number = Annotated[float, Strict(), AllowInfNan(False)]
DESIGNS = ("grid", "random", "lhs", "sobol_sequence", "sobol", "morris")
DEFAULT_VARIABLES = ("metro_population", "metro_gdp_nominal", "metro_gdp_real", "metro_urbanization_rate",
                     "metro_net_migration", "metro_births", "metro_deaths", "population", "gdp_nominal",
                     "gdp_real", "urbanization_rate", "net_migration")
PLAN_NODES = tuple(n for n, m in zip(NODES, PLAN_MASK) if m)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class _Common(_Model):
    apply: Literal["value", "scale", "add"] = "value"
    elements: Union[Literal["all", "plan_area"], list[str]] = "all"
    per_node: Annotated[bool, Strict()] = False
    start: Optional[Number] = Field(None, alias="from")
    id: Optional[str] = None


class Uniform(_Common):
    distribution: Literal["uniform"]
    lower: Number
    upper: Number


class LogUniform(_Common):
    distribution: Literal["loguniform"]
    lower: Number = Field(gt=0)
    upper: Number = Field(gt=0)


class Normal(_Common):
    distribution: Literal["normal"]
    mean: Number
    sd: Number = Field(gt=0)


class TruncNormal(_Common):
    distribution: Literal["truncnormal"]
    mean: Number
    sd: Number = Field(gt=0)
    lower: Number
    upper: Number


class Triangular(_Common):
    distribution: Literal["triangular"]
    lower: Number
    mode: Number
    upper: Number


class Choice(_Common):
    distribution: Literal["choice"]
    values: list[Number] = Field(min_length=1)


Factor = Annotated[Union[Uniform, LogUniform, Normal, TruncNormal, Triangular, Choice],
                   Field(discriminator="distribution")]


class DesignSection(_Model):
    method: Literal[DESIGNS] = "lhs"  # type: ignore[valid-type]
    samples: Annotated[int, Strict()] = Field(1000, ge=1, le=10_000_000)
    seed: Annotated[int, Strict()] = Field(0, ge=0)
    levels: Annotated[int, Strict()] = Field(4, ge=2, le=1000)
    second_order: Annotated[bool, Strict()] = False


class OutputsSection(_Model):
    variables: list[str] = Field(default_factory=lambda: list(DEFAULT_VARIABLES))


class SensitivitySection(_Model):
    outputs: list[str] = Field(default_factory=lambda: ["metro_population", "metro_gdp_nominal"])
    years: list[Annotated[int, Strict()]] = Field(default_factory=lambda: [2030, 2035])
    over_time: Annotated[bool, Strict()] = True
    resamples: Annotated[int, Strict()] = Field(100, ge=10, le=10000)
    confidence: Number = Field(0.95, gt=0, lt=1)


class AnalysisSection(_Model):
    sensitivity: Optional[SensitivitySection] = None


class SweepDocument(_Model):
    name: str = Field(pattern=SAFE_NAME)
    description: str = ""
    scenario: str
    design: DesignSection = DesignSection()
    parameters: dict[str, Factor] = Field(default_factory=dict)
    levers: dict[str, Factor] = Field(default_factory=dict)
    outputs: OutputsSection = OutputsSection()
    analysis: AnalysisSection = AnalysisSection()
    chunk_size: Optional[Annotated[int, Strict()]] = Field(None, ge=1, le=100_000)
    max_rhs_evaluations: Annotated[int, Strict()] = Field(20_000, ge=100)


# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FactorSpec:
    """One sampled input: a parameter or lever, the element indices it sets, and its distribution."""

    id: str
    kind: str                      # "parameter" | "lever"
    target: str                    # parameter or lever name
    elements: tuple[int, ...]      # indices into nodes / pairs; () = scalar
    apply: str                     # value | scale | add
    start: float | None            # lever step time (apply=value)
    distribution: str
    args: dict

    @property
    def bounded(self) -> bool:
        return self.distribution != "normal"

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Map unit-cube values to this factor's values (inverse CDF)."""
        from scipy import stats
        u = np.asarray(u, dtype=float)
        a = self.args
        if self.distribution == "uniform":
            return a["lower"] + u * (a["upper"] - a["lower"])
        if self.distribution == "loguniform":
            lo, hi = np.log(a["lower"]), np.log(a["upper"])
            return np.exp(lo + u * (hi - lo))
        if self.distribution == "normal":
            return stats.norm.ppf(np.clip(u, 1e-3, 1 - 1e-3), a["mean"], a["sd"])
        if self.distribution == "truncnormal":
            lo, hi = (a["lower"] - a["mean"]) / a["sd"], (a["upper"] - a["mean"]) / a["sd"]
            return stats.truncnorm.ppf(u, lo, hi, loc=a["mean"], scale=a["sd"])
        if self.distribution == "triangular":
            width = a["upper"] - a["lower"]
            c = (a["mode"] - a["lower"]) / width if width > 0 else 0.5
            return stats.triang.ppf(u, c, loc=a["lower"], scale=width)
        if self.distribution == "choice":
            vals = np.asarray(a["values"], dtype=float)
            return vals[np.minimum((u * len(vals)).astype(int), len(vals) - 1)]
        raise ValueError(self.distribution)  # pragma: no cover

    def range(self) -> tuple[float, float]:
        """The factor's support (for normal: the 0.1 % and 99.9 % quantiles used by the designs)."""
        lo, hi = self.ppf(np.array([0.0, 1.0]))
        return float(lo), float(hi)


@dataclass
class Sweep:
    """A validated sweep: the base scenario, the factors and the design settings."""

    name: str
    description: str
    path: Path | None
    text: str
    sha256: str
    scenario: Any                  # simulator.scenario.Scenario
    factors: list[FactorSpec]
    method: str
    samples: int
    seed: int
    levels: int
    second_order: bool
    variables: list[str]
    sensitivity: SensitivitySection | None
    chunk_size: int | None
    max_rhs_evaluations: int
    document: dict = field(default_factory=dict)

    def with_overrides(self, samples: int | None = None, seed: int | None = None,
                       method: str | None = None) -> "Sweep":
        from dataclasses import replace
        return replace(self, samples=self.samples if samples is None else int(samples),
                       seed=self.seed if seed is None else int(seed),
                       method=self.method if method is None else method)

    @property
    def factor_ids(self) -> list[str]:
        return [f.id for f in self.factors]

    def settings(self) -> dict:
        """Everything that determines the ensemble's content (hashed for resumable storage)."""
        return {"scenario_sha256": self.scenario.sha256, "method": self.method, "samples": self.samples,
                "seed": self.seed, "levels": self.levels, "second_order": self.second_order,
                "factors": [f.__dict__ for f in self.factors], "variables": self.variables,
                "max_rhs_evaluations": self.max_rhs_evaluations}


def _elements(raw, kind_keys: tuple[str, ...], plan: tuple[str, ...], file: str, path: str,
              problems: list) -> tuple[int, ...]:
    if raw == "all":
        return tuple(range(len(kind_keys)))
    if raw == "plan_area":
        return tuple(kind_keys.index(k) for k in plan)
    out = []
    for i, k in enumerate(raw):
        if k not in kind_keys:
            problems.append(Problem(file, f"{path}.{i}", k, issue="unknown element",
                                    expected="one of " + ", ".join(kind_keys), suggestion=suggest(k, kind_keys)))
        else:
            out.append(kind_keys.index(k))
    if not raw:
        problems.append(Problem(file, path, raw, expected="a non-empty list, 'all' or 'plan_area'"))
    return tuple(out)


def _check_distribution(f, lower: float, upper: float, units: str, file: str, path: str, problems: list) -> None:
    d = f.distribution
    if d in ("uniform", "loguniform", "truncnormal", "triangular") and not f.lower < f.upper:
        problems.append(Problem(file, f"{path}.upper", f.upper, expected=f"a number above lower ({f.lower:g})"))
        return
    if d == "triangular" and not f.lower <= f.mode <= f.upper:
        problems.append(Problem(file, f"{path}.mode", f.mode, expected=f"a number in [{f.lower:g}, {f.upper:g}]"))
    if f.apply != "value":
        return
    if d in ("uniform", "loguniform", "truncnormal", "triangular"):
        checks = [("lower", f.lower), ("upper", f.upper)]
    elif d == "normal":   # the designs use the 0.1 % to 99.9 % quantiles: all of them must be valid
        from scipy import stats
        lo, hi = stats.norm.ppf([1e-3, 1 - 1e-3], f.mean, f.sd)
        if not lower <= f.mean <= upper:
            checks = [("mean", f.mean)]
        elif not (lower <= lo and hi <= upper):
            problems.append(Problem(file, f"{path}.sd", f.sd, issue="draws outside the bounds:",
                                    expected=f"draws in [{lower:g}, {upper:g}] {units} (this normal gives "
                                             f"{lo:.4g} to {hi:.4g}); a smaller sd, or distribution: truncnormal "
                                             "with lower/upper inside the bounds"))
            return
        else:
            return
    else:
        checks = [(f"values.{i}", v) for i, v in enumerate(f.values)]
    for key, v in checks:
        if not lower <= v <= upper:
            problems.append(Problem(file, f"{path}.{key}", v, issue="out of bounds:",
                                    expected=f"a value in [{lower:g}, {upper:g}] {units}"))


def _base_values(factor: FactorSpec, scenario) -> np.ndarray:
    """The scenario's values of the factor's elements (every knot of a lever schedule)."""
    if factor.kind == "parameter":
        arr = np.atleast_1d(np.asarray(scenario.parameters[factor.target], dtype=float))
        return arr[list(factor.elements)] if factor.elements else arr
    lever = scenario.levers[factor.target]
    keys = lever.spec.keys or ((),)
    idx = factor.elements if factor.elements else range(len(keys))
    values = []
    for i in idx:
        pw = lever.schedules[keys[i]]
        values += [pw.base] if not pw.times else list(pw.left) + list(pw.right)
    return np.asarray(values, dtype=float)


def _check_applied(factor: FactorSpec, spec, scenario, file: str, path: str, problems: list) -> None:
    """``apply: scale``/``add``: every value produced from the scenario's values stays inside the bounds."""
    lo, hi = factor.range()
    base = _base_values(factor, scenario)
    if factor.apply == "scale":
        produced = np.concatenate([base * lo, base * hi])
    else:
        produced = np.concatenate([base + lo, base + hi])
    if not np.all(np.isfinite(produced)):
        bad = True
    else:
        bad = produced.min() < spec.lower or produced.max() > spec.upper
    if bad:
        problems.append(Problem(file, path, [round(lo, 6), round(hi, 6)], issue=f"apply: {factor.apply} with draws",
                                expected=f"draws that keep {factor.target} inside [{spec.lower:g}, {spec.upper:g}] "
                                         f"{spec.units} (they give {produced.min():.4g} to {produced.max():.4g} "
                                         "from the scenario's values)"))


def _factors(doc: SweepDocument, scenario, file: str, problems: list) -> list[FactorSpec]:
    out: list[FactorSpec] = []
    for section, registry in (("parameters", PARAMETERS), ("levers", LEVERS)):
        for name, f in getattr(doc, section).items():
            path = f"{section}.{name}"
            if name not in registry:
                problems.append(Problem(file, path, name, issue=f"unknown {section[:-1]}",
                                        expected=f"a {section[:-1]} name (see `sim params`)",
                                        suggestion=suggest(name, list(registry))))
                continue
            spec = registry[name]
            if section == "parameters":
                keys = NODES if spec.per_node else ()
                plan = PLAN_NODES
                if f.start is not None:
                    problems.append(Problem(file, f"{path}.from", f.start, issue="not allowed for parameters:",
                                            expected="no 'from' (parameters are constant over a run)"))
            else:
                keys = spec.keys
                plan = PLAN_NODES if spec.kind == "node" else tuple(
                    k for k in PAIRS if all(n in PLAN_NODES for n in k.split("-")))
                if f.start is not None:
                    if f.apply != "value":
                        problems.append(Problem(file, f"{path}.from", f.start, issue="only allowed with apply: value:",
                                                expected="no 'from' with apply: scale/add"))
                    elif not scenario.start <= f.start < scenario.end:
                        problems.append(Problem(file, f"{path}.from", f.start, issue="outside the run:",
                                                expected=f"a year in [{scenario.start:g}, {scenario.end:g})"))
            if not keys and (f.elements != "all" or f.per_node):
                problems.append(Problem(file, f"{path}.elements" if f.elements != "all" else f"{path}.per_node",
                                        f.elements if f.elements != "all" else f.per_node,
                                        issue=f"'{name}' has no elements:", expected="no elements/per_node (a shared value)"))
                continue
            elements = _elements(f.elements, keys, plan, file, f"{path}.elements", problems) if keys else ()
            _check_distribution(f, spec.lower, spec.upper, spec.units, file, path, problems)
            args = {k: v for k, v in f.model_dump().items() if k in ("lower", "upper", "mean", "sd", "mode", "values")}
            base_id = f.id or name
            groups = [(f"{base_id}.{keys[i]}", (i,)) for i in elements] if f.per_node else [(base_id, elements)]
            start = None if f.start is None or f.start <= scenario.start else float(f.start)
            for fid, idx in groups:
                factor = FactorSpec(fid, section[:-1], name, idx, f.apply, start, f.distribution, args)
                if f.apply != "value" and not problems:
                    _check_applied(factor, spec, scenario, file, path, problems)
                out.append(factor)
    ids = [f.id for f in out]
    for fid in {i for i in ids if ids.count(i) > 1}:
        problems.append(Problem(file, "", fid, issue="duplicate factor id", expected="unique factor ids (use 'id:')"))
    return out


def sweep_from_dict(data: dict, *, base_dir: str | os.PathLike | None = None, source: str = "<dict>",
                    text: str | None = None, path: Path | None = None) -> Sweep:
    """Validate a sweep given as a dict (``scenario`` relative to ``base_dir``); raises ScenarioError."""
    problems: list[Problem] = []
    if not isinstance(data, dict):
        raise ScenarioError(Problem(source, "", data, issue="top level is not a mapping:",
                                    expected="a mapping of sweep keys (name, scenario, design, parameters, levers)"))
    doc = _validate(SweepDocument, data, source, "", problems)
    if doc is None:
        raise ScenarioError(problems)
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    scen_path = (base / doc.scenario) if not Path(doc.scenario).is_absolute() else Path(doc.scenario)
    if not os.path.lexists(scen_path):
        raise ScenarioError(Problem(source, "scenario", doc.scenario, issue="scenario file not found:",
                                    expected=f"a scenario file path relative to the sweep file (looked for {scen_path})"))
    scenario = load_scenario(scen_path)
    factors = _factors(doc, scenario, source, problems)
    if not factors and not problems:
        problems.append(Problem(source, "parameters", None, issue="nothing to vary:", show_value=False,
                                expected="at least one entry under 'parameters' or 'levers'"))
    for i, v in enumerate(doc.outputs.variables):
        if v not in VARIABLES:
            problems.append(Problem(source, f"outputs.variables.{i}", v, issue="unknown variable",
                                    expected="a result variable (see simulator.results.VARIABLES)",
                                    suggestion=suggest(v, list(VARIABLES))))
    sens = doc.analysis.sensitivity
    if sens is not None:
        for i, v in enumerate(sens.outputs):
            base_var = v.split("[")[0]
            if base_var not in doc.outputs.variables:
                problems.append(Problem(source, f"analysis.sensitivity.outputs.{i}", v, issue="not stored:",
                                        expected="a variable listed in outputs.variables",
                                        suggestion=suggest(base_var, doc.outputs.variables)))
        times = set(np.asarray(scenario.output_times).astype(int).tolist())
        for i, y in enumerate(sens.years):
            if y not in times:
                problems.append(Problem(source, f"analysis.sensitivity.years.{i}", y, issue="not an output year:",
                                        expected=f"a year in {min(times)}–{max(times)}"))
    if problems:
        raise ScenarioError(problems)
    if text is None:
        text = json.dumps(data, sort_keys=True, default=str)
    return Sweep(name=doc.name, description=doc.description, path=path, text=text,
                 sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), scenario=scenario, factors=factors,
                 method=doc.design.method, samples=doc.design.samples, seed=doc.design.seed,
                 levels=doc.design.levels, second_order=doc.design.second_order,
                 variables=list(doc.outputs.variables), sensitivity=sens, chunk_size=doc.chunk_size,
                 max_rhs_evaluations=doc.max_rhs_evaluations, document=data)


def load_sweep(path: str | os.PathLike) -> Sweep:
    """Load and validate a sweep YAML file; raises ``ScenarioError`` (one message per problem)."""
    path = Path(path)
    text = _read_text(path, str(path), None, None)
    data = _parse_yaml(text, str(path))
    return sweep_from_dict(data, base_dir=path.parent, source=str(path), text=text, path=path)
