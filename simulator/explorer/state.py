"""The explorer's state, without any user interface: control values → scenario document → numbers.

``Explorer(path, output_dir)`` loads the start scenario and runs it once (the reference drawn beside the
current setting). ``values`` holds each control's display value; ``document()`` is the scenario file
that extends the start scenario with only the changed controls; ``scenario()`` validates it with the
scenario loader (the same rules as a YAML file); ``compute()`` runs it and returns ``Numbers``;
``save()`` writes the commented YAML atomically into the output directory. The numbers shown are
those of ``document()`` exactly, so ``sim run`` on the saved file reproduces them.
"""
from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from simulator.scenario import ScenarioError, load_scenario, scenario_from_dict
from simulator.scenario.policies import HUKOU_CONDITIONS

from .controls import PART_NAMES, PARTS, RAIL_LINKS, Control, groups

TARGET_YEAR = 2030

#: policies set per city part by one amount: kind → (node key, amount key, keys shared by all parts), in file order
AMOUNT_POLICIES = {
    "graduates_retained": ("node", "per_year", ("from",)),
    "affordable_housing": ("node", "units_per_year", ("unit_size_m2", "from", "until")),
    "childcare_subsidy": ("nodes", "yuan_per_child", ("from",)),
    "project_investment": ("node", "yuan_per_year", ("from", "until", "local_share")),
}


class Superseded(Exception):
    """A newer setting arrived while this one was being computed; its result is not wanted."""


class ExploreError(Exception):
    """A setting that cannot be shown (invalid value, failed integration); ``str`` is the message."""


def project_root() -> Path:
    """The checkout holding this package (scenarios/, calibration/)."""
    return Path(__file__).resolve().parents[2]


def inside_project(path: Path) -> bool:
    """``path`` (resolved) lies under the working directory or the package checkout."""
    try:
        p = Path(path).resolve()
    except (OSError, RuntimeError):
        return False
    return any(p == r or r in p.parents for r in (Path.cwd().resolve(), project_root()))


def _num(x: float) -> str:
    """A float as YAML text that every YAML reader reads back to the identical float."""
    if float(x).is_integer() and abs(x) < 1e15:
        return repr(float(x))
    text = repr(float(x))
    mantissa, e, exp = text.partition("e")
    if e and "." not in mantissa:
        text = f"{mantissa}.0e{exp}"
    return text


@dataclass
class Numbers:
    """What the right side shows: metro and per-part series (persons, yuan/yr) and the 2030 check."""

    years: np.ndarray
    population: np.ndarray               # metro, persons
    gdp: np.ndarray                      # metro nominal, yuan/yr
    part_population: dict[str, np.ndarray]
    part_gdp: dict[str, np.ndarray]
    targets: list[dict]                  # simulator.results.target_check rows
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def target(self, name: str) -> dict:
        return next(t for t in self.targets if t["target"] == name)


def numbers_from(ds, start: float) -> Numbers:
    from simulator.results import target_check
    keep = ds.time.values >= start
    years = ds.time.values[keep]
    return Numbers(years=years, population=ds.metro_population.values[keep], gdp=ds.metro_gdp_nominal.values[keep],
                   part_population={p: ds.population.sel(region=p).values[keep] for p in PARTS},
                   part_gdp={p: ds.gdp_nominal.sel(region=p).values[keep] for p in PARTS},
                   targets=target_check(ds))


def run_cancellable(scenario, cancelled=lambda: False):
    """``simulator.api.run`` with a check before every solver step: raises ``Superseded`` once
    ``cancelled()`` is true. Same solver class and settings as ``sim run``, so identical numbers."""
    from simulator.guard import RUN_MAX_RHS_EVALUATIONS, RUN_TIME_LIMIT, guarded_method
    from simulator.results import to_dataset
    from simulator.solve import simulate
    base = guarded_method(scenario.solver.method, RUN_MAX_RHS_EVALUATIONS, time.monotonic() + RUN_TIME_LIMIT)

    def _step_impl(self):
        if cancelled():
            raise Superseded()
        return base._step_impl(self)
    method = type(f"Cancellable{base.__name__}", (base,), {"_step_impl": _step_impl})
    traj = simulate(replace(scenario, solver=replace(scenario.solver, method=method)))
    traj.stats["method"] = scenario.solver.method
    traj.scenarios = [scenario]
    return to_dataset(traj)


class Explorer:
    """State of one explorer session (one per browser tab or notebook cell)."""

    def __init__(self, path, output_dir="outputs/explore", reference: bool | Numbers = True):
        """``reference``: run the start scenario (True), skip it (False), or its ``Numbers`` from an earlier
        run (a server reuses the first session's for every later one)."""
        path = Path(path)
        if path.suffix not in (".yaml", ".yml"):
            raise ExploreError(f"{path}: not a scenario file (.yaml)")
        if not inside_project(path):
            raise ExploreError(f"{path}: the explorer reads only scenario files inside the project "
                               f"({Path.cwd()} or {project_root()})")
        try:
            self.start = load_scenario(path)
        except ScenarioError as exc:
            raise ExploreError(str(exc)) from None
        self.path = path
        self.output_dir = Path(output_dir)
        self.groups = groups()
        self.controls: dict[str, Control] = {c.id: c for g in self.groups for c in g.controls}
        self.defaults = self._defaults()
        self.hukou_done = self._hukou_removed()
        self.hukou_defaults = {p: [] for p in PARTS}
        self.values: dict[str, float] = dict(self.defaults)
        self.hukou: dict[str, list[str]] = {p: [] for p in PARTS}
        if isinstance(reference, Numbers):
            self.reference = reference
        else:
            self.reference = numbers_from(run_cancellable(self.start), self.start.start) if reference else None
        self.last_good: Numbers | None = self.reference
        self.lock = threading.Lock()

    # --- defaults: what the start scenario says ------------------------------------------------
    def _defaults(self) -> dict[str, float]:
        sc, out = self.start, {}
        for c in (c for g in self.groups for c in g.controls):
            if c.key in ("from", "year"):
                out[c.id] = 2025.0
            elif c.key == "until":
                out[c.id] = 2030.0
            elif c.key == "unit_size_m2":
                out[c.id] = 50.0
            elif c.key == "local_share":
                out[c.id] = 0.3
            elif c.group == "rail":
                link, what = c.key.rsplit(".", 1)
                opens = [r["opens"] for sec in sc.policies for r in sec.get("rail", []) if r["link"] == link]
                if what == "opens":
                    out[c.id] = float(opens[-1]) if opens else 2028.0
                else:
                    out[c.id] = float(sc.levers["travel_time"].schedules[link].value(sc.end, side="left"))
            elif c.group in ("graduates_retained", "affordable_housing", "childcare_subsidy",
                             "project_investment"):
                out[c.id] = 0.0
            else:                          # a lever: its value at the start of the first policy year
                sched = sc.levers[c.group].schedules[() if c.key == "all" else c.key]
                out[c.id] = round(float(sched.value(2025.0, side="right")) * c.factor, 10)
        return out

    def _hukou_removed(self) -> dict[str, set[str]]:
        from simulator.scenario.policies import parse_nodes
        done = {p: set() for p in PARTS}
        for sec in self.start.policies:
            for h in sec.get("hukou", []):
                for n in parse_nodes(h["nodes"], "", "", []):
                    if n in done:
                        done[n] |= set(h["removed"])
        return done

    def hukou_options(self, part: str) -> list[str]:
        return [c for c in HUKOU_CONDITIONS if c not in self.hukou_done[part]]

    def describe_default(self, control: Control) -> str:
        """How the start scenario sets what this control changes (shown beside the control)."""
        if control.group in ("tfp_growth", "amenity_bonus", "talent_bonus", "extra_net_migration",
                             "deflator_growth", "metro_integration") and control.key not in ("from",):
            sched = self.start.levers[control.group].schedules[() if control.key == "all" else control.key]
            inside = [t for t in sched.times if self.start.start <= t <= self.start.end]
            if not inside:
                return f"{float(sched.value(self.start.start, side='right')) * control.factor:.4g} {control.units}"
            t0, t1 = inside[0], inside[-1]
            a = float(sched.value(t0, side="left")) * control.factor
            b = float(sched.value(t1, side="right")) * control.factor
            return f"{a:.4g} → {b:.4g} {control.units} ({t0:g}–{t1:g})"
        return ""

    # --- setting values ------------------------------------------------------------------------
    def set(self, control_id: str, value) -> None:
        if control_id.startswith("hukou.") and control_id != "hukou.year":
            part = control_id.split(".", 1)[1]
            if part not in PARTS:
                raise ExploreError(f"unknown control {control_id}")
            bad = [v for v in value if v not in self.hukou_options(part)]
            if bad:
                raise ExploreError(f"{PART_NAMES[part]}: cannot remove {', '.join(map(str, bad))} "
                                   f"(unknown or already removed by {self.path.name})")
            self.hukou[part] = list(value)
            return
        if control_id not in self.controls:
            raise ExploreError(f"unknown control {control_id}")
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ExploreError(f"{control_id}: {value!r} is not a number") from None
        if not np.isfinite(value):
            raise ExploreError(f"{control_id}: {value!r} is not a finite number")
        self.values[control_id] = value

    def reset(self, group: str | None = None) -> None:
        for cid, v in self.defaults.items():
            if group is None or self.controls[cid].group == group:
                self.values[cid] = v
        if group in (None, "hukou"):
            self.hukou = {p: [] for p in PARTS}

    def changed(self, control_id: str) -> bool:
        return self.values[control_id] != self.defaults[control_id]

    # --- the scenario document -----------------------------------------------------------------
    def _v(self, group: str, key: str) -> float:
        c = self.controls[f"{group}.{key}"]
        return self.values[c.id] / c.factor

    def _entries(self) -> tuple[dict, dict, dict]:
        """(policies, levers, comments): only changed controls; comments keyed like the entries."""
        policies: dict[str, list] = {}
        levers: dict[str, dict] = {}
        notes: dict[tuple, str] = {}
        for link in RAIL_LINKS:
            if self.changed(f"rail.{link}.minutes") or self.changed(f"rail.{link}.opens"):
                policies.setdefault("rail", []).append(
                    {"link": link, "minutes": self._v("rail", f"{link}.minutes"), "opens": self._v("rail", f"{link}.opens")})
        for part in PARTS:
            if self.hukou[part]:
                policies.setdefault("hukou", []).append(
                    {"nodes": part, "removed": list(self.hukou[part]), "year": self._v("hukou", "year")})
        for kind, (node_key, amount, shared) in AMOUNT_POLICIES.items():
            for part in PARTS:
                if self.values[f"{kind}.{part}"] > 0:
                    policies.setdefault(kind, []).append(
                        {node_key: part, amount: self._v(kind, part), **{k: self._v(kind, k) for k in shared}})
        for g in self.groups:
            if g.kind != "lever":
                continue
            year = self._v(g.name, "from")
            for c in g.controls:
                if c.key == "from" or not self.changed(c.id):
                    continue
                sched = {"step": [[year, self.values[c.id] / c.factor]]}
                if c.key == "all":
                    levers[g.name] = sched
                else:
                    levers.setdefault(g.name, {})[c.key] = sched
                notes[("levers", g.name, c.key)] = (f"{self.values[c.id]:g} {c.units} from {year:g} "
                                                    f"(start scenario: {self.describe_default(c)})")
        return policies, levers, notes

    def extends(self) -> str:
        """The start scenario's path relative to the output directory (how ``extends:`` resolves)."""
        return Path(os.path.relpath(os.path.abspath(self.path), os.path.abspath(self.output_dir))).as_posix()

    def document(self, name: str | None = None) -> dict:
        policies, levers, _ = self._entries()
        doc = {"name": name or f"{self.start.name}_explore",
               "description": f"{self.start.name} with the levers changed in sim explore",
               "extends": self.extends()}
        if policies:
            doc["policies"] = policies
        if levers:
            doc["levers"] = levers
        return doc

    def yaml_text(self, name: str | None = None) -> str:
        """The document as commented YAML (every number written so that it reads back identically)."""
        doc = self.document(name)
        _, _, notes = self._entries()
        lines = [f"# Written by `sim explore` from {self.path.as_posix()}: only the levers changed in the explorer.",
                 "# Policies below are added to the ones the extended scenario already has (docs/model.md §7.1);",
                 "# a lever's step replaces its schedule from that year on. Check: sim validate FILE; run: sim run FILE.",
                 f"name: {doc['name']}",
                 f"description: {doc['description']}",
                 f"extends: {doc['extends']}"]
        if not doc.get("policies") and not doc.get("levers"):
            lines.append("# nothing changed: the same scenario as the one extended")

        def flow(d: dict) -> str:
            parts = []
            for k, v in d.items():
                if isinstance(v, list):
                    v = "[" + ", ".join(str(x) for x in v) + "]"
                elif isinstance(v, float):
                    v = _num(v)
                parts.append(f"{k}: {v}")
            return "{" + ", ".join(parts) + "}"
        if doc.get("policies"):
            lines.append("policies:")
            for kind, items in doc["policies"].items():
                lines.append(f"  {kind}:")
                for item in items:
                    lines.append(f"    - {flow(item)}{self._policy_note(kind, item)}")
        if doc.get("levers"):
            lines.append("levers:")
            for name, value in doc["levers"].items():
                if "step" in value:
                    (t, v), = value["step"]
                    lines.append(f"  {name}: {{step: [[{_num(t)}, {_num(v)}]]}}   # {notes[('levers', name, 'all')]}")
                    continue
                lines.append(f"  {name}:")
                for part, sched in value.items():
                    (t, v), = sched["step"]
                    lines.append(f"    {part}: {{step: [[{_num(t)}, {_num(v)}]]}}   # {notes[('levers', name, part)]}")
        return "\n".join(lines) + "\n"

    @staticmethod
    def _policy_note(kind: str, item: dict) -> str:
        if kind == "project_investment":
            return f"   # {item['yuan_per_year'] / 1e8:g} 亿元/yr"
        if kind == "affordable_housing":
            return f"   # {item['units_per_year'] * item['unit_size_m2'] / 1e4:g} 万 m²/yr"
        return ""

    def scenario(self, name: str | None = None, text: str | None = None):
        """The current setting (or ``text``) as a validated Scenario, read from the YAML text that ``save``
        writes."""
        import yaml
        doc = yaml.safe_load(text if text is not None else self.yaml_text(name))
        try:
            return scenario_from_dict(doc, base_dir=self.output_dir, source="<sim explore>")
        except ScenarioError as exc:
            raise ExploreError(str(exc).replace("<sim explore>", "this setting")) from None

    def compute(self, cancelled=lambda: False, text: str | None = None) -> Numbers:
        """Validate and run the current setting (or the document ``text``, a snapshot of it);
        ``ExploreError`` with a message if it cannot be shown."""
        from simulator.model.initial import CalibrationError
        from simulator.scenario.plausible import check_scenario
        from simulator.solve import SolverError
        t0 = time.perf_counter()
        sc = self.scenario(text=text)
        try:
            ds = run_cancellable(sc, cancelled)
        except Superseded:
            raise
        except (SolverError, CalibrationError) as exc:
            raise ExploreError(f"this setting cannot be integrated: {exc}") from None
        except (ValueError, FloatingPointError, ArithmeticError) as exc:
            raise ExploreError(f"this setting cannot be integrated: {exc}") from None
        numbers = numbers_from(ds, sc.start)
        numbers.warnings = [f["message"].split(": ", 1)[-1] for f in check_scenario(sc)]
        numbers.seconds = time.perf_counter() - t0
        self.last_good = numbers
        return numbers

    # --- saving --------------------------------------------------------------------------------
    def save(self, name: str | None = None) -> Path:
        """Write the current setting to ``<output_dir>/<name>.yaml`` (atomic; never replaces a file:
        an existing name gets ``_2``, ``_3``, … ). Returns the path."""
        from simulator.atomic import write_text
        from simulator.safeio import SAFE_NAME, SAFE_NAME_TEXT
        name = (name or f"{self.start.name}_explore").strip()
        if name.endswith((".yaml", ".yml")):
            name = name.rsplit(".", 1)[0]
        if not re.fullmatch(SAFE_NAME, name):
            raise ExploreError(f"scenario name {name[:80]!r}: use {SAFE_NAME_TEXT}")
        self.scenario(name)                          # validated before anything is written
        with self.lock:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            stem, k = name, 1
            while (self.output_dir / f"{stem}.yaml").exists():
                k += 1
                stem = f"{name}_{k}"
            path = self.output_dir / f"{stem}.yaml"
            try:
                write_text(path, self.yaml_text(stem))
            except OSError as exc:
                raise ExploreError(f"cannot write {path}: {exc.strerror or exc}") from None
        return path


class LatestRunner:
    """Runs settings one at a time in a worker thread; a newer setting supersedes the one running
    (it is stopped at its next solver step) and any waiting one (never queued).

    ``submit(job)`` returns a ``concurrent.futures.Future`` resolved with ``job(cancelled)`` or with
    ``Superseded``."""

    def __init__(self):
        from concurrent.futures import Future
        self._Future = Future
        self._cond = threading.Condition()
        self._generation = 0
        self._pending = None
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="sim-explore-runner", daemon=True)
        self._thread.start()

    def submit(self, job):
        future = self._Future()
        with self._cond:
            self._generation += 1
            if self._pending is not None:
                self._pending[1].set_exception(Superseded())
            self._pending = (job, future, self._generation)
            self._cond.notify()
        return future

    def close(self) -> None:
        """Stop the worker thread (the running job is superseded, none waits)."""
        with self._cond:
            self._generation += 1
            self._closed = True
            if self._pending is not None:
                self._pending[1].set_exception(Superseded())
                self._pending = None
            self._cond.notify()

    def _loop(self):
        while True:
            with self._cond:
                while self._pending is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                job, future, generation = self._pending
                self._pending = None
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = job(lambda: self._generation != generation)
            except BaseException as exc:       # noqa: BLE001 - handed to the waiting caller
                future.set_exception(exc)
            else:
                if self._generation != generation:
                    future.set_exception(Superseded())
                else:
                    future.set_result(result)
