"""Loading, ``extends`` merging and validation of scenario files.

Pipeline: read the chain of files (child → parents, rejecting cycles), check each document's
structure with the pydantic models of ``schema.py``, merge the time/solver/model/targets sections
per key, then apply each document's parameter and lever overrides from the root parent to the
child. Every problem found is collected and reported together in one ``ScenarioError``.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Literal, Union, get_args, get_origin

import numpy as np
import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from simulator.model.levers import LEVERS, LeverSpec
from simulator.model.nodes import NODES, PAIRS, PLAN_MASK, pair_key
from simulator.model.parameters import PARAMETERS, resolve

from simulator.safeio import SAFE_NAME_TEXT, BoundedLoader, InputFileError, YAMLLimitError, load_yaml, read_input_text

from .errors import Problem, ScenarioError, suggest
from .schedules import LeverSchedule, Piecewise
from .schema import (ALL_KEY, MAX_KNOTS, PLAN_AREA_KEY, SCHEDULE_KINDS, SCHEDULE_MODELS, SECTIONS,
                     SUPPORTED_START_YEARS, Number, ScenarioDocument)
from .scenario import Scenario, SolverSettings, Targets

DEFAULTS: dict[str, dict[str, Any]] = {
    "time": {"start": 2024.0, "end": 2035.0, "output_step": 1.0},
    "solver": {"method": "RK45", "rtol": 1e-6, "atol": 1e-6},
    "model": {"age_substages": 5},
    "targets": {"year": 2030.0, "population": 1.3e7, "gdp_nominal": 1.35e12},
}
STEP_TOLERANCE = 1e-9
MAX_OUTPUT_TIMES = 2_000          # each output time costs a full RHS evaluation, a slice of every stored array and CSV rows
PLAN_NODES = tuple(n for n, m in zip(NODES, PLAN_MASK) if m)
NODE_KEYS = NODES + (ALL_KEY, PLAN_AREA_KEY)
_NUMBER = TypeAdapter(Number)


@dataclass
class _Doc:
    """One scenario document: display name, path (None for dicts), text and parsed data."""

    file: str
    path: Path | None
    text: str
    data: dict


@dataclass
class _Run:
    """Merged run window; ``ok`` is False if it is invalid (then lever times are not checked)."""

    start: float
    end: float
    ok: bool


@dataclass
class _State:
    """Parameter overrides and lever schedules accumulated from the root parent to the child."""

    overrides: dict[str, float | dict[str, float]] = field(default_factory=dict)
    levers: dict[str, dict[Any, Piecewise]] = field(default_factory=dict)
    policies: list[dict] = field(default_factory=list)


class _Loader(BoundedLoader):
    """``yaml.SafeLoader`` (via ``safeio.BoundedLoader``: alias bombs, recursive aliases and duplicate
    keys refused) that also reads ``1.3e7`` / ``1e-6`` as floats (YAML 1.2 style)."""


# --- reading files ------------------------------------------------------------------------------

def _read_text(path: Path, file: str, referrer: str | None, extends: str | None) -> str:
    """File text; a missing/unreadable file is reported against the referring ``extends``."""
    try:
        return read_input_text(path)    # regular files only, size-limited (no FIFOs, no /dev/zero)
    except InputFileError as exc:
        reason = exc.reason
        if referrer is None:
            raise ScenarioError(Problem(file, "", file, issue=f"cannot read file ({reason}):",
                                        expected="an existing, readable UTF-8 scenario file")) from None
        raise ScenarioError(Problem(referrer, "extends", extends, issue=f"parent file cannot be read ({reason}):",
                                    expected=f"an existing scenario file (looked for {path})")) from None


def _parse_yaml(text: str, file: str) -> dict:
    """The top-level mapping of a YAML document."""
    try:
        data = load_yaml(text, _Loader)
    except YAMLLimitError as exc:
        where = f" at line {exc.line}" if exc.line else ""
        raise ScenarioError(Problem(file, "", None, issue=f"rejected YAML{where}: {exc}",
                                    expected="plain YAML data (unique keys, no alias expansion bombs)",
                                    show_value=False)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        reason = exc.problem or exc.context or "syntax error"
        raise ScenarioError(Problem(file, "", None, issue=f"malformed YAML at {where}: {reason}",
                                    expected="valid YAML", show_value=False)) from None
    except Exception as exc:  # the YAML parser may raise ValueError, RecursionError, ...
        raise ScenarioError(Problem(file, "", None, issue=f"malformed YAML: {exc}",
                                    expected="valid YAML", show_value=False)) from None
    if data is None:
        raise ScenarioError(Problem(file, "", None, issue="empty file",
                                    expected="a mapping of scenario keys (time, parameters, levers, ...)",
                                    show_value=False))
    if not isinstance(data, dict):
        raise ScenarioError(Problem(file, "", data, issue="top level is not a mapping:",
                                    expected="a mapping of scenario keys (time, parameters, levers, ...)"))
    return data


def _parents(first: _Doc, base_dir: Path) -> list[_Doc]:
    """The documents from the root parent to ``first``, following ``extends``."""
    docs = [first]
    seen = [first.path.resolve()] if first.path is not None else []
    seen_names = [first.file]
    current, directory = first, base_dir
    while isinstance(current.data.get("extends"), str):
        extends = current.data["extends"]
        path = Path(os.path.normpath(directory / extends))
        try:
            resolved = path.resolve()
        except (OSError, ValueError, RuntimeError):
            resolved = path
        if resolved in seen:
            chain = " -> ".join(seen_names[seen.index(resolved):] + [str(path)])
            raise ScenarioError(Problem(current.file, "extends", extends, issue="circular extends",
                                        expected=f"a chain without cycles, got {chain}"))
        text = _read_text(path, str(path), current.file, extends)
        current = _Doc(str(path), path, text, _parse_yaml(text, str(path)))
        docs.append(current)
        seen.append(resolved)
        seen_names.append(str(path))
        directory = path.parent
    return docs[::-1]


# --- pydantic error translation -----------------------------------------------------------------

_EXPECTED = {
    "float_type": "a number", "int_type": "an integer", "string_type": "a string",
    "dict_type": "a mapping", "model_type": "a mapping", "model_attributes_type": "a mapping",
    "list_type": "a list", "tuple_type": "a list [time, value]", "finite_number": "a finite number",
    "int_from_float": "an integer", "string_pattern_mismatch": SAFE_NAME_TEXT,
    "too_long": f"at most {MAX_KNOTS} knots",
}


def _unwrap_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is Union:
        for arg in get_args(annotation):
            model = _unwrap_model(arg)
            if model is not None:
                return model
    return None


def _field_at(model: type[BaseModel], loc: tuple) -> tuple[type[BaseModel] | None, Any]:
    """The model holding the last key of ``loc`` and that field's annotation (if a model field)."""
    annotation = None
    for i, key in enumerate(loc):
        fields = {f.alias or n: f for n, f in model.model_fields.items()}
        if key not in fields:
            return (model if i == len(loc) - 1 else None), None
        annotation = fields[key].annotation
        if i < len(loc) - 1:
            model = _unwrap_model(annotation)
            if model is None:
                return None, None
    return model, annotation


def _literal_choices(annotation: Any) -> tuple:
    if get_origin(annotation) is Literal:
        return get_args(annotation)
    for arg in get_args(annotation):
        found = _literal_choices(arg)
        if found:
            return found
    return ()


def _translate(exc: ValidationError, model: type[BaseModel], file: str, prefix: str) -> list[Problem]:
    """Pydantic errors as Problems with key paths below ``prefix``."""
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        path = ".".join(p for p in [prefix] + [str(k) for k in loc] if p)
        kind, value = err["type"], err.get("input")
        if kind == "extra_forbidden":
            owner, _ = _field_at(model, loc)
            names = [f.alias or n for n, f in owner.model_fields.items()] if owner else []
            problems.append(Problem(file, path, loc[-1] if loc else value, issue="unknown key",
                                    expected="one of " + ", ".join(names) if names else "no such key",
                                    suggestion=suggest(loc[-1] if loc else None, names)))
        elif kind == "missing":
            problems.append(Problem(file, path, None, issue="missing key", expected="a value for this key",
                                    show_value=False))
        elif kind == "literal_error":
            choices = [str(c) for c in _literal_choices(_field_at(model, loc)[1])]
            problems.append(Problem(file, path, value, issue="invalid value",
                                    expected="one of " + ", ".join(choices), suggestion=suggest(value, choices)))
        else:
            msg = err["msg"].removeprefix("Value error, ").removeprefix("Input should be ")
            problems.append(Problem(file, path, value, issue="invalid value", expected=_EXPECTED.get(kind, msg)))
    return problems


def _validate(model: type[BaseModel], data: Any, file: str, prefix: str, problems: list) -> Any:
    """``model.model_validate(data)`` or None, adding translated errors to ``problems``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems.extend(_translate(exc, model, file, prefix))
        return None
    except (TypeError, ValueError, RecursionError) as exc:  # e.g. unhashable or cyclic input
        problems.append(Problem(file, prefix, data, issue=f"cannot be read ({exc}):", expected="plain YAML data"))
        return None


def _number(value: Any, file: str, path: str, problems: list) -> float | None:
    try:
        return float(_NUMBER.validate_python(value))
    except ValidationError as exc:
        problems.extend(_translate(exc, ScenarioDocument, file, path))
        return None


# --- document structure and section merging -----------------------------------------------------

def _sections(doc: _Doc, problems: list) -> dict[str, Any]:
    """Each valid top-level value of ``doc`` (validated key by key, so one bad key hides nothing)."""
    parts = {}
    for key, value in doc.data.items():
        if not isinstance(key, str):
            names = [f.alias or n for n, f in ScenarioDocument.model_fields.items()]
            problems.append(Problem(doc.file, str(key), key, issue="unknown key",
                                    expected="one of " + ", ".join(names)))
            continue
        checked = _validate(ScenarioDocument, {key: value}, doc.file, "", problems)
        if checked is not None:
            parts[key] = getattr(checked, key)
    return parts


def _merge_sections(docs: list[_Doc], parts: list[dict], problems: list) -> tuple[dict, _Run]:
    """time/solver/model/targets merged per key (child wins), with cross-field checks."""
    merged = {s: {k: (v, None) for k, v in d.items()} for s, d in DEFAULTS.items()}
    for doc, part in zip(docs, parts):
        for section in SECTIONS:
            if part.get(section) is not None:
                for key, value in part[section].model_dump().items():
                    if value is not None:
                        merged[section][key] = (value, doc.file)
    leaf = docs[-1].file

    def check(section: str, key: str, ok: bool, issue: str, expected: str) -> bool:
        value, file = merged[section][key]
        if not ok:
            problems.append(Problem(file or leaf, f"{section}.{key}", value, issue=issue, expected=expected))
        return ok

    (start, _), (end, _), (step, _) = (merged["time"][k] for k in ("start", "end", "output_step"))
    ok = check("time", "start", start in SUPPORTED_START_YEARS, "unsupported start year",
               "one of " + ", ".join(str(y) for y in SUPPORTED_START_YEARS))
    ok &= check("time", "end", end > start, "end not after start", f"a year after start ({start:g})")
    if ok:
        ratio = (end - start) / step
        n = round(ratio) if np.isfinite(ratio) else 0
        divides = 1 <= n <= MAX_OUTPUT_TIMES and abs(n * step - (end - start)) <= STEP_TOLERANCE
        check("time", "output_step", divides, "output step does not divide the run",
              f"a step dividing end - start = {end - start:g} (at most {MAX_OUTPUT_TIMES} outputs)")
        year, given_in = merged["targets"]["year"]
        if given_in is not None:  # the default target year is not enforced on short runs
            check("targets", "year", start <= year <= end, "target year outside the run",
                  f"a year in [{start:g}, {end:g}]")
    values = {s: {k: v for k, (v, _) in d.items()} for s, d in merged.items()}
    return values, _Run(float(start), float(end), ok)


# --- parameters ---------------------------------------------------------------------------------

def _node_keys(raw: dict, file: str, path: str, problems: list) -> tuple[dict, dict[str, str]]:
    """Valid keys of a node mapping, and for each node the key that sets it (node > plan_area > all)."""
    valid = {}
    for key, value in raw.items():
        if key in NODE_KEYS:
            valid[key] = value
        else:
            problems.append(Problem(file, f"{path}.{key}", key, issue="unknown node",
                                    expected="a node code (" + ", ".join(NODES) + "), 'all' or 'plan_area'",
                                    suggestion=suggest(key, NODE_KEYS)))
    owner: dict[str, str] = {}
    if ALL_KEY in valid:
        owner.update({n: ALL_KEY for n in NODES})
    if PLAN_AREA_KEY in valid:
        owner.update({n: PLAN_AREA_KEY for n in PLAN_NODES})
    owner.update({n: n for n in NODES if n in valid})
    return valid, owner


def _in_bounds(value: float, lower: float, upper: float, units: str, file: str, path: str,
               problems: list) -> bool:
    if lower <= value <= upper:
        return True
    issue = "value below the lower bound" if value < lower else "value above the upper bound"
    problems.append(Problem(file, path, value, issue=issue, expected=f"a value in [{lower:g}, {upper:g}] {units}"))
    return False


def _apply_parameters(raw: dict, file: str, state: _State, problems: list) -> None:
    for name, value in raw.items():
        path = f"parameters.{name}"
        spec = PARAMETERS.get(name) if isinstance(name, str) else None
        if spec is None:
            problems.append(Problem(file, path, name, issue="unknown parameter",
                                    expected="a parameter name from simulator.model.parameters",
                                    suggestion=suggest(name, PARAMETERS)))
            continue
        if isinstance(value, dict) and not spec.per_node:
            problems.append(Problem(file, path, value, issue="per-node mapping given for a shared parameter:",
                                    expected=f"a single number ({name} is the same for all nodes)"))
            continue
        if isinstance(value, dict):
            valid, owner = _node_keys(value, file, path, problems)
        else:
            valid, owner = {None: value}, None
        numbers = {}
        for key, raw_value in valid.items():
            sub = path if key is None else f"{path}.{key}"
            number = _number(raw_value, file, sub, problems)
            if number is not None and _in_bounds(number, spec.lower, spec.upper, spec.units, file, sub, problems):
                numbers[key] = number
        if len(numbers) < len(valid):
            continue
        if not spec.per_node:
            state.overrides[name] = numbers[None]
            continue
        updated = dict(state.overrides.get(name) or zip(NODES, spec.default_array().tolist()))
        for node in NODES:
            key = None if owner is None else owner.get(node, "")
            if key in numbers:
                updated[node] = numbers[key]
        state.overrides[name] = updated


# --- levers -------------------------------------------------------------------------------------

_Builder = Callable[[Piecewise], Piecewise]


def _schedule(raw: Any, spec: LeverSpec, run: _Run, file: str, path: str, problems: list) -> _Builder | None:
    """Validate one schedule; returns a function of the inherited schedule giving the new one."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        value = _number(raw, file, path, problems)
        if value is None or not _in_bounds(value, spec.lower, spec.upper, spec.units, file, path, problems):
            return None
        return lambda before: Piecewise.constant(value)
    if not isinstance(raw, dict):
        expected = "a number or a schedule mapping (constant, step, ramp or table)"
        if spec.kind != "scalar":
            expected += f" or a mapping {spec.kind} -> schedule"
        problems.append(Problem(file, path, raw, issue="wrong type", expected=expected))
        return None
    for key in raw:
        if key not in SCHEDULE_KINDS:
            problems.append(Problem(file, f"{path}.{key}", key, issue="unknown schedule form",
                                    expected="one of " + ", ".join(SCHEDULE_KINDS),
                                    suggestion=suggest(key, SCHEDULE_KINDS)))
    kinds = [k for k in raw if k in SCHEDULE_KINDS]
    if len(kinds) != 1:
        problems.append(Problem(file, path, raw, issue="not a single schedule:",
                                expected="exactly one of " + ", ".join(SCHEDULE_KINDS)))
        return None
    kind = kinds[0]
    model = _validate(SCHEDULE_MODELS[kind], {kind: raw[kind]}, file, path, problems)
    if model is None or len(raw) != 1:
        return None

    if kind == "constant":
        times, values = [], [(f"{path}.constant", model.constant)]
    elif kind == "ramp":
        r = model.ramp
        times = [(f"{path}.ramp.start", r.start), (f"{path}.ramp.end", r.end)]
        values = [(f"{path}.ramp.from", r.from_), (f"{path}.ramp.to", r.to)]
    else:
        knots = getattr(model, kind)
        times = [(f"{path}.{kind}.{i}.0", t) for i, (t, _) in enumerate(knots)]
        values = [(f"{path}.{kind}.{i}.1", v) for i, (_, v) in enumerate(knots)]
    ok = True
    for sub, t in times if run.ok else []:
        if not run.start <= t <= run.end:
            problems.append(Problem(file, sub, t, issue="year outside the run",
                                    expected=f"a year in [{run.start:g}, {run.end:g}]"))
            ok = False
    for sub, v in values:
        ok &= _in_bounds(v, spec.lower, spec.upper, spec.units, file, sub, problems)
    if not ok:
        return None
    if kind == "constant":
        return lambda before: Piecewise.constant(model.constant)
    if kind == "ramp":
        return lambda before: Piecewise.ramp(r.start, r.end, r.from_, r.to)
    if kind == "table":
        return lambda before: Piecewise.table(model.table)
    return lambda before: Piecewise.step(model.step, before)


def _is_bare_schedule(raw: Any) -> bool:
    return not isinstance(raw, dict) or any(k in SCHEDULE_KINDS for k in raw)


def _pair_keys(raw: dict, file: str, path: str, problems: list) -> tuple[dict, dict[str, str]]:
    """Valid keys of a pair mapping (either order, or 'all'), and for each pair the key that sets it."""
    valid, owner, given = {}, {}, {}
    if ALL_KEY in raw:
        valid[ALL_KEY] = raw[ALL_KEY]
        owner.update({p: ALL_KEY for p in PAIRS})
    for key, value in raw.items():
        if key == ALL_KEY:
            continue
        parts = key.split("-") if isinstance(key, str) else []
        if len(parts) != 2 or not all(p in NODES for p in parts) or parts[0] == parts[1]:
            choices = list(PAIRS) + ["-".join(p.split("-")[::-1]) for p in PAIRS] + [ALL_KEY]
            problems.append(Problem(file, f"{path}.{key}", key, issue="unknown pair",
                                    expected="a pair of distinct node codes 'A-B' (either order) or 'all'",
                                    suggestion=suggest(key, choices)))
            continue
        canonical = pair_key(*parts)
        if canonical in given:
            problems.append(Problem(file, f"{path}.{key}", key, issue="pair given twice:",
                                    expected=f"one entry per pair (also given as '{given[canonical]}')"))
            continue
        given[canonical] = key
        valid[key] = value
        owner[canonical] = key
    return valid, owner


def _apply_levers(raw: dict, file: str, run: _Run, state: _State, problems: list) -> None:
    for name, value in raw.items():
        path = f"levers.{name}"
        spec = LEVERS.get(name) if isinstance(name, str) else None
        if spec is None:
            problems.append(Problem(file, path, name, issue="unknown lever",
                                    expected="a lever name from simulator.model.levers",
                                    suggestion=suggest(name, LEVERS)))
            continue
        if spec.kind == "scalar" or _is_bare_schedule(value):
            builder = _schedule(value, spec, run, file, path, problems)
            entries = {k: builder for k in (spec.keys or [()])} if builder else {}
        else:
            keys = _node_keys if spec.kind == "node" else _pair_keys
            valid, owner = keys(value, file, path, problems)
            builders = {key: _schedule(v, spec, run, file, f"{path}.{key}", problems) for key, v in valid.items()}
            entries = {element: builders[key] for element, key in owner.items() if builders[key]}
        current = state.levers[name]
        state.levers[name] = {**current, **{el: b(current[el]) for el, b in entries.items()}}


def _apply_overrides(doc_file: str, part: dict, run: _Run, state: _State, problems: list) -> None:
    if part.get("parameters"):
        _apply_parameters(part["parameters"], doc_file, state, problems)
    if part.get("levers"):
        _apply_levers(part["levers"], doc_file, run, state, problems)
    if part.get("policies"):
        from .policies import apply_policies
        before = len(problems)
        apply_policies(part["policies"], doc_file, state.levers, resolve(state.overrides), problems)
        if len(problems) == before:
            state.policies.append(part["policies"])


def _default_state() -> _State:
    return _State(levers={name: dict(LeverSchedule.default(spec).schedules) for name, spec in LEVERS.items()})


# --- building the Scenario ----------------------------------------------------------------------

def _plain(obj: Any) -> Any:
    """Data as plain YAML-dumpable types."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    return float(obj)


def _text(docs: list[_Doc]) -> str:
    return "".join(f"# --- {d.file} ---\n{d.text}" + ("" if d.text.endswith("\n") else "\n") for d in docs)


def _output_times(start: float, end: float, step: float) -> np.ndarray:
    n = round((end - start) / step)
    times = start + step * np.arange(n + 1)
    times[-1] = end
    return times


def _build(docs: list[_Doc], source: str) -> Scenario:
    problems: list[Problem] = []
    parts = [_sections(doc, problems) for doc in docs]
    values, run = _merge_sections(docs, parts, problems)
    state = _default_state()
    for doc, part in zip(docs, parts):
        # a parent may be written for a longer run (the baseline's 15-year retirement ramp under a child that
        # ends in 2030): its schedule times may lie after this run's end; the leaf file's may not
        window = run if doc is docs[-1] else replace(run, end=float("inf"))
        _apply_overrides(doc.file, part, window, state, problems)
    history = _history(docs, parts, run, values, problems)
    if history is not None:     # one parameter set for the whole run: the history's, then this chain's
        merged = {k: (dict(v) if isinstance(v, dict) else v) for k, v in history.parameter_overrides.items()}
        for k, v in state.overrides.items():
            merged[k] = {**merged[k], **v} if isinstance(v, dict) and isinstance(merged.get(k), dict) else v
        state.overrides = merged
    if not problems:
        times = {t for lever in state.levers.values() for pw in lever.values() for t in pw.times}
        if len(times) > MAX_KNOTS:
            problems.append(Problem(docs[-1].file, "levers", None, show_value=False,
                                    issue=f"{len(times)} distinct lever knot times in all",
                                    expected=f"at most {MAX_KNOTS} (each is a solver segment boundary)"))
    if problems:
        raise ScenarioError(problems)
    leaf, t = docs[-1], values["time"]
    text = _text(docs)
    if history is not None:
        text += f"# --- continues: {history.source} ---\n{history.text}"
    return Scenario(
        name=parts[-1].get("name") or (leaf.path.stem if leaf.path is not None else source),
        description=parts[-1].get("description") or "",
        path=leaf.path,
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        start=float(t["start"]), end=float(t["end"]), output_step=float(t["output_step"]),
        output_times=_output_times(float(t["start"]), float(t["end"]), float(t["output_step"])),
        solver=SolverSettings(**values["solver"]),
        age_substages=int(values["model"]["age_substages"]),
        targets=Targets(**values["targets"]),
        parameter_overrides=state.overrides,
        parameters=resolve(state.overrides),
        levers={name: LeverSchedule(LEVERS[name], schedules) for name, schedules in state.levers.items()},
        chain=tuple(d.path for d in docs if d.path is not None),
        source=source,
        history=history,
        policies=tuple(state.policies),
    )


def _history(docs: list[_Doc], parts: list[dict], run: _Run, values: dict, problems: list) -> Scenario | None:
    """The scenario named by the last ``continues:`` in the chain (its path relative to that file)."""
    owner = next((i for i in range(len(docs) - 1, -1, -1) if parts[i].get("continues")), None)
    if owner is None:
        return None
    doc, ref = docs[owner], parts[owner]["continues"]
    path = Path(os.path.normpath((doc.path.parent if doc.path is not None else Path.cwd()) / ref))
    if any(d.path is not None and d.path.resolve() == path.resolve() for d in docs):
        problems.append(Problem(doc.file, "continues", ref, issue="a scenario cannot continue itself or a parent:",
                                expected="a separate history scenario file"))
        return None
    try:
        history = load_scenario(path)
    except ScenarioError as exc:
        problems.append(Problem(doc.file, "continues", ref, issue="the history scenario is invalid:",
                                expected="a valid scenario file; its problems: " + str(exc)[:2000]))
        return None
    if history.history is not None:
        problems.append(Problem(doc.file, "continues", ref, issue="the history itself continues another run:",
                                expected="a history scenario without 'continues'"))
    if run.ok and abs(history.end - run.start) > STEP_TOLERANCE:
        problems.append(Problem(doc.file, "continues", ref,
                                issue=f"the history ends in {history.end:g}, this scenario starts in {run.start:g}:",
                                expected="a history whose time.end equals this scenario's time.start"))
    if history.age_substages != int(values["model"]["age_substages"]):
        problems.append(Problem(doc.file, "continues", ref, issue="the history uses other age sub-stages:",
                                expected=f"model.age_substages = {values['model']['age_substages']} in both"))
    return history


# --- public entry points ------------------------------------------------------------------------

def load_scenario(path: str | os.PathLike) -> Scenario:
    """Load, merge (``extends``) and validate a scenario YAML file; raises ``ScenarioError``."""
    try:
        path = Path(path)
    except TypeError:
        raise ScenarioError(Problem(str(path), "", path, issue="not a path:", expected="a file path")) from None
    text = _read_text(path, str(path), None, None)
    first = _Doc(str(path), path, text, _parse_yaml(text, str(path)))
    return _build(_parents(first, path.parent), str(path))


def scenario_from_dict(data: dict, *, base_dir: str | os.PathLike | None = None,
                       source: str = "<dict>") -> Scenario:
    """Validate a scenario given as a dict (same rules as files; ``extends`` relative to base_dir)."""
    if not isinstance(data, dict):
        raise ScenarioError(Problem(source, "", data, issue="top level is not a mapping:",
                                    expected="a mapping of scenario keys (time, parameters, levers, ...)"))
    try:
        text = yaml.safe_dump(_plain(data), sort_keys=False, allow_unicode=True)
    except Exception:  # not plain data; validation below reports what is wrong
        text = repr(data) + "\n"
    first = _Doc(source, None, text, data)
    return _build(_parents(first, Path(base_dir) if base_dir is not None else Path.cwd()), source)


def apply_changes(scenario: Scenario, parameters: dict, levers: dict) -> Scenario:
    """``scenario`` with further parameter and lever overrides (see ``Scenario.with_changes``)."""
    file = "<with_changes>"
    data = {"parameters": parameters, "levers": levers}
    problems: list[Problem] = []
    part = _sections(_Doc(file, None, "", data), problems)
    state = _State(overrides={k: (dict(v) if isinstance(v, dict) else v)
                              for k, v in scenario.parameter_overrides.items()},
                   levers={name: dict(lever.schedules) for name, lever in scenario.levers.items()})
    _apply_overrides(file, part, _Run(scenario.start, scenario.end, True), state, problems)
    if problems:
        raise ScenarioError(problems)
    try:
        dumped = yaml.safe_dump(_plain(data), sort_keys=False, allow_unicode=True)
    except Exception:
        dumped = repr(data) + "\n"
    text = scenario.text + f"# --- {file} ---\n" + dumped
    return replace(scenario, text=text, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
                   parameter_overrides=state.overrides, parameters=resolve(state.overrides),
                   levers={name: LeverSchedule(LEVERS[name], s) for name, s in state.levers.items()})
