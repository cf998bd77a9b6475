"""The explorer's state, without any user interface: control values → scenario document → numbers.

``Explorer(path, output_dir)`` loads the start scenario and runs it once (the reference drawn beside the
current setting), and the baseline (``scenarios/baseline.yaml``) once when the start scenario is another one;
``band=FILE`` reads the 5–95 % band of metro population and nominal GDP from an ensemble.nc of ``sim sweep``
(``Band``). ``values`` holds each control's display value; ``document()`` is the scenario file
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
BASELINE = "scenarios/baseline.yaml"
BAND_QUANTILES = (0.05, 0.95)
BAND_MIN_MEMBERS = 5          # fewer: refused; under BAND_ROUGH_MEMBERS the label says the band is rough
BAND_ROUGH_MEMBERS = 20

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


def inside_project(path: Path, *more: Path) -> bool:
    """``path`` (resolved) lies under the working directory, the package checkout or one of ``more``."""
    try:
        p = Path(path).resolve()
        roots = [Path.cwd().resolve(), project_root(), *(Path(m).resolve() for m in more)]
    except (OSError, RuntimeError):
        return False
    return any(p == r or r in p.parents for r in roots)


def baseline_path() -> Path:
    """``scenarios/baseline.yaml`` of the working directory if it has one, else of this checkout."""
    p = Path(BASELINE)
    return p if p.is_file() else project_root() / BASELINE


def _scenario_body(text: str) -> str:
    """A resolved scenario's text without the ``# --- <file> ---`` headers the loader puts before each
    file (they spell paths as they were reached: ``sweeps/../scenarios/baseline.yaml``)."""
    return "\n".join(line for line in text.splitlines() if not re.fullmatch(r"# --- .* ---", line.strip()))


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
    """``simulator.api.run`` with cancellation checks: raises ``Superseded`` once ``cancelled()`` is true,
    checked before the run and by the engine (scipy's: before every step; the compiled one: before every
    member, so a run already started finishes, ~0.1 s). Same solver settings as ``sim run``, so identical
    numbers."""
    from simulator.guard import RUN_MAX_RHS_EVALUATIONS, RUN_TIME_LIMIT, guarded_method
    from simulator.results import to_dataset
    from simulator.solve import simulate

    def check():
        if cancelled():
            raise Superseded()
    method = guarded_method(scenario.solver.method, RUN_MAX_RHS_EVALUATIONS, time.monotonic() + RUN_TIME_LIMIT,
                            before_step=check)
    check()
    traj = simulate(replace(scenario, solver=replace(scenario.solver, method=method)))
    traj.stats["method"] = scenario.solver.method
    traj.scenarios = [scenario]
    return to_dataset(traj)


@dataclass
class Band:
    """The 5–95 % band of metro population (persons) and nominal GDP (yuan/yr) over the members of an
    ensemble written by ``sim sweep``; it belongs to the ensemble's scenario (``scenario``)."""

    path: Path
    years: np.ndarray
    population: tuple[np.ndarray, np.ndarray]     # (5 %, 95 %) per year
    gdp: tuple[np.ndarray, np.ndarray]
    members: int                                  # members that ran (failed ones left out)
    runs: int                                     # members in the file
    scenario: str                                 # name of the scenario the ensemble varied
    scenario_text: str
    sweep: str
    quantiles: tuple[float, float] = BAND_QUANTILES

    @property
    def percent(self) -> str:
        lo, hi = self.quantiles
        return f"{(hi - lo) * 100:.0f} %"

    def at(self, year: float) -> dict | None:
        """{'population': (lo, hi), 'gdp': (lo, hi)} in ``year``, or None if the band does not cover it."""
        i = np.flatnonzero(np.isclose(self.years, year))
        if not len(i):
            return None
        i = int(i[0])
        return {"population": (float(self.population[0][i]), float(self.population[1][i])),
                "gdp": (float(self.gdp[0][i]), float(self.gdp[1][i]))}


def _band_error(path, what: str) -> ExploreError:
    return ExploreError(f"band file {path}: {what}; expected an ensemble.nc written by `sim sweep` (dimensions "
                        f"run and time, variables metro_population and metro_gdp_nominal), e.g. "
                        f"`sim sweep sweeps/uncertainty.yaml -n 200` → outputs/uncertainty/ensemble.nc")


def load_band(path, output_dir=None, years: tuple[float, float] = (-np.inf, np.inf)) -> Band:
    """Read the band from an ensemble.nc (or a directory holding one) inside the project or ``output_dir``;
    ``ExploreError`` with the file and what was expected otherwise. ``years``: the span kept."""
    import xarray as xr
    path = Path(path)
    more = (output_dir,) if output_dir is not None else ()
    if not inside_project(path, *more):
        roots = list(dict.fromkeys(str(r) for r in (Path.cwd().resolve(), project_root(), *more)))
        raise ExploreError(f"band file {path}: the explorer reads only files inside the project or its "
                           f"output directory ({', '.join(roots)})")
    if path.is_dir():
        if not (path / "ensemble.nc").is_file():
            raise _band_error(path, "a directory without ensemble.nc")
        path = path / "ensemble.nc"
    if not path.exists():
        raise _band_error(path, "no such file")
    if not path.is_file():
        raise _band_error(path, "not a regular file")         # a FIFO would block, a device never ends
    if path.suffix in (".yaml", ".yml"):
        raise _band_error(path, "a YAML file, not an ensemble result (run a sweep file first with `sim sweep`)")
    try:
        with open(path, "rb") as fh:
            magic = fh.read(8)
    except OSError as exc:
        raise _band_error(path, f"cannot be read ({exc.strerror or exc})") from None
    if not (magic.startswith(b"CDF") or magic.startswith(b"\x89HDF")):
        raise _band_error(path, "not a NetCDF file")
    try:
        with xr.open_dataset(path) as ds:
            missing = [v for v in ("metro_population", "metro_gdp_nominal") if v not in ds.variables]
            if "run" not in ds.dims or "time" not in ds.dims or missing:
                found = f"dimensions {', '.join(map(str, ds.dims)) or 'none'}"
                if missing:
                    found += f"; no {' or '.join(missing)}"
                raise _band_error(path, f"not an ensemble ({found})")
            for v in ("metro_population", "metro_gdp_nominal"):
                if set(ds[v].dims) != {"run", "time"}:
                    raise _band_error(path, f"{v} has dimensions {ds[v].dims}, not (run, time)")
            t = np.asarray(ds["time"].values, dtype=float)
            pop = np.asarray(ds["metro_population"].transpose("run", "time").values, dtype=float)
            gdp = np.asarray(ds["metro_gdp_nominal"].transpose("run", "time").values, dtype=float)
            failed = (np.asarray(ds["failed"].values, dtype=bool) if "failed" in ds.variables
                      else np.zeros(len(pop), dtype=bool))
            attrs = dict(ds.attrs)
    except ExploreError:
        raise
    except Exception as exc:   # noqa: BLE001 - any reader error (not NetCDF, truncated, bad types) is a message
        raise _band_error(path, f"cannot be read as an ensemble ({type(exc).__name__}: {str(exc)[:200]})") from None
    keep_t = (t >= years[0] - 1e-9) & (t <= years[1] + 1e-9)
    if not keep_t.any():
        raise _band_error(path, f"its years {t.min():g}–{t.max():g} do not overlap {years[0]:g}–{years[1]:g}")
    ok = ~failed & np.isfinite(pop[:, keep_t]).all(axis=1) & np.isfinite(gdp[:, keep_t]).all(axis=1)
    if ok.sum() < BAND_MIN_MEMBERS:
        raise _band_error(path, f"{int(ok.sum())} of {len(pop)} members ran; a 5–95 % band needs at least "
                                f"{BAND_MIN_MEMBERS}")
    q = BAND_QUANTILES
    pq = np.quantile(pop[ok][:, keep_t], q, axis=0)
    gq = np.quantile(gdp[ok][:, keep_t], q, axis=0)
    return Band(path=path, years=t[keep_t], population=(pq[0], pq[1]), gdp=(gq[0], gq[1]), members=int(ok.sum()),
                runs=len(pop), scenario=str(attrs.get("scenario_name", "unknown scenario")),
                scenario_text=str(attrs.get("scenario_text", "")), sweep=str(attrs.get("sweep_name", "")))


class Explorer:
    """State of one explorer session (one per browser tab or notebook cell)."""

    def __init__(self, path, output_dir="outputs/explore", reference: bool | Numbers = True,
                 baseline: bool | Numbers = True, band=None):
        """``reference``: run the start scenario (True), skip it (False), or its ``Numbers`` from an earlier
        run (a server reuses the first session's for every later one). ``baseline``: the same for the
        baseline (``scenarios/baseline.yaml``), drawn too when the start scenario is another one.
        ``band``: an ensemble.nc (path) or a ``Band`` already read, or None."""
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
        self.band: Band | None = (band if isinstance(band, Band) or band is None else     # before any run:
                                  load_band(band, self.output_dir, (self.start.start, self.start.end)))  # fails fast
        if isinstance(reference, Numbers):
            self.reference = reference
        else:
            self.reference = numbers_from(run_cancellable(self.start), self.start.start) if reference else None
        self.baseline_file = baseline_path()
        self.baseline_scenario = None        # None: the start scenario is the baseline, or no baseline wanted
        self.baseline: Numbers | None = None
        if baseline is not False and not path.resolve() == self.baseline_file.resolve():
            try:
                base = load_scenario(self.baseline_file)
            except ScenarioError as exc:
                raise ExploreError(f"the baseline drawn for comparison: {exc}") from None
            if _scenario_body(base.text) != _scenario_body(self.start.text):
                self.baseline_scenario = base
                if isinstance(baseline, Numbers):
                    self.baseline = baseline
                else:
                    self.baseline = numbers_from(run_cancellable(base), base.start)
        self.last_good: Numbers | None = self.reference
        self.lock = threading.Lock()

    def band_owner(self) -> str:
        """Whose band it is: "start" (the start scenario), "baseline", "other name" or "changed name"
        (the ensemble's scenario has the name of one of them but another text, e.g. an older file)."""
        b = self.band
        body = _scenario_body(b.scenario_text)
        if body == _scenario_body(self.start.text):
            return "start"
        if self.baseline_scenario is not None and body == _scenario_body(self.baseline_scenario.text):
            return "baseline"
        names = {self.start.name} | ({self.baseline_scenario.name} if self.baseline_scenario else set())
        return "changed" if b.scenario in names else "other"

    def band_label(self, short: bool = False) -> str:
        """How the band is labelled: whose, which quantiles, how many members, which file."""
        b = self.band
        owner = self.band_owner()
        head = f"{b.scenario} {b.percent} band"
        if short:
            return f"{head} ({b.members} runs)"
        text = (f"{head} (5–95 % over {b.members} members"
                + (f" of {b.runs}" if b.runs != b.members else "")
                + (f", sweep {b.sweep}" if b.sweep else "") + f", file {b.path.as_posix()})")
        if b.members < BAND_ROUGH_MEMBERS:
            text += f"; only {b.members} members: the 5 % and 95 % quantiles are rough"
        if owner == "changed":
            text += (f"; the ensemble's scenario text differs from {b.scenario} as loaded now (an older file or "
                     f"other parameters): rerun the sweep")
        elif owner == "other":
            text += "; an ensemble of neither the start scenario nor the baseline"
        return text

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
