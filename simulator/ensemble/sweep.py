"""``run_sweep``: design → chunks → (resumable) chunk files → ``ensemble.nc``."""
from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from .designs import factor_values, unit_design
from .runner import ChunkContext, SweepInterrupted, chunk_size_for, execute
from .spec import Sweep
from .store import ChunkStore, chunk_bounds, design_key, write_netcdf_atomic


@dataclass
class SweepResult:
    dataset: xr.Dataset
    path: Path | None
    runs: int
    failures: int
    wall_seconds: float
    chunks_run: int
    chunks_resumed: int
    chunk_size: int
    reasons: dict = field(default_factory=dict)

    @property
    def runs_per_second(self) -> float:
        return self.runs / self.wall_seconds if self.wall_seconds > 0 else float("inf")

    def summary(self) -> str:
        lines = [f"{self.runs} runs, {self.failures} failed, wall time {self.wall_seconds:.1f} s "
                 f"({self.runs_per_second:.0f} runs/s; {self.chunks_run} chunks run, "
                 f"{self.chunks_resumed} resumed, {self.chunk_size} members per chunk)"]
        for reason, n in sorted(self.reasons.items(), key=lambda kv: -kv[1])[:5]:
            lines.append(f"  {n} × {reason}")
        if self.path is not None:
            lines.append(f"wrote {self.path}")
        return "\n".join(lines)


#: measured order of magnitude: members integrated per second and worker (README: 10,000 runs ≈ 15 s, -j 2)
RUNS_PER_SECOND_PER_WORKER = 300.0
#: the sweep command asks for confirmation (or --yes) above this estimated wall time
CONFIRM_SECONDS = 3600.0


class SweepTooLarge(ValueError):
    """The design cannot fit in memory or on disk (message gives the estimate and the limit)."""


@dataclass
class SweepEstimate:
    runs: int
    bytes_per_run: int | None     # stored outputs per member (None before the template run)
    seconds: float                # estimated wall time

    @property
    def output_bytes(self) -> int:
        return self.runs * (self.bytes_per_run or 0)

    def describe(self) -> str:
        size = f", ≈ {_human(self.output_bytes)} of results" if self.bytes_per_run else ""
        return f"{self.runs:,} runs{size}, ≈ {_duration(self.seconds)}"


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} PiB"  # pragma: no cover


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def design_runs(sweep: Sweep) -> int:
    """Number of runs of the design, computed without building it (exact Python integers)."""
    import math
    d = len(sweep.factors)
    if sweep.method == "grid":
        return math.prod(len(f.args["values"]) if f.distribution == "choice" else sweep.levels
                         for f in sweep.factors)
    if sweep.method == "sobol":
        return sweep.samples * (2 * d + 2 if sweep.second_order else d + 2)
    if sweep.method == "morris":
        return sweep.samples * (d + 1)
    return sweep.samples


def available_memory() -> int:
    """Bytes of memory available now (MemAvailable), or total physical memory as a fallback."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return 1 << 34


def estimate(sweep: Sweep, workers: int = 1, bytes_per_run: int | None = None) -> SweepEstimate:
    runs = design_runs(sweep)
    return SweepEstimate(runs, bytes_per_run, runs / (RUNS_PER_SECOND_PER_WORKER * max(1, workers)))


def check_fits(sweep: Sweep, est: SweepEstimate, out: Path | None) -> None:
    """Raise ``SweepTooLarge`` if the design, the results or the ensemble file cannot fit."""
    d = max(1, len(sweep.factors))
    memory = available_memory()
    # the design (U and X) and, at the end, the results held twice (chunks + concatenated)
    need = est.runs * (16 * d + 2 * (est.bytes_per_run or 8))
    if need > memory:
        raise SweepTooLarge(f"the design is too large: {est.describe()}, needing ≈ {_human(need)} of memory "
                            f"({_human(memory)} available); reduce the sample size (-n) or the factors")
    if out is not None and est.bytes_per_run:
        import shutil
        probe = Path(out)
        while not probe.exists() and probe.parent != probe:
            probe = probe.parent
        try:
            free = shutil.disk_usage(probe).free
        except OSError:
            return
        if 2 * est.output_bytes > free:     # chunk files + ensemble.nc
            raise SweepTooLarge(f"not enough disk space in {probe}: {est.describe()} needs ≈ "
                                f"{_human(2 * est.output_bytes)} ({_human(free)} free); reduce the sample size")


def design(sweep: Sweep) -> tuple[np.ndarray, np.ndarray]:
    """(U, X): the unit-cube design and the factor values, both (runs, factors)."""
    U = unit_design(sweep.method, sweep.factors, sweep.samples, sweep.seed, sweep.levels, sweep.second_order)
    return U, factor_values(sweep.factors, U)


@dataclass
class Plan:
    """What ``run_sweep`` will do for a sweep: members, chunk size, storage key, what already exists."""

    runs: int
    chunk_size: int
    key: str
    directory: Path
    reuse: bool              # ensemble.nc with this key exists: nothing is integrated
    chunks: int
    chunks_done: int
    existing_key: str | None  # design_key of an ensemble.nc already at the destination (None: none)

    @property
    def runs_to_do(self) -> int:
        if self.reuse:
            return 0
        return max(0, self.runs - self.chunks_done * self.chunk_size)

    def describe(self, name: str) -> str:
        if self.reuse:
            return f"sweep '{name}': {self.runs:,} runs already in {self.directory / 'ensemble.nc'} (reused)"
        resumed = f", {self.chunks_done} of {self.chunks} chunks already saved (resumed)" if self.chunks_done else ""
        return f"sweep '{name}': {self.runs:,} runs in {self.chunks} chunks of {self.chunk_size}{resumed}"


def plan(sweep: Sweep, output_dir: str | Path | None = None, chunk_size: int | None = None,
         memory_bytes: int | None = None) -> Plan:
    """The run count, chunking and storage key of ``run_sweep`` (cheap: no integration)."""
    n = len(design(sweep)[0])
    kw = {} if memory_bytes is None else {"memory_bytes": memory_bytes}
    size = chunk_size_for(n, chunk_size or sweep.chunk_size, **kw)   # never depends on jobs/scheduler
    key = design_key(sweep.settings(), size)
    out = Path(output_dir) if output_dir is not None else Path("outputs") / sweep.name
    final = out / "ensemble.nc"
    existing = None
    if final.exists():
        try:
            with xr.open_dataset(final) as old:
                existing = str(old.attrs.get("design_key", ""))
        except (OSError, ValueError):
            existing = ""
    root = out / "chunks" / key
    done = len(list(root.glob("chunk_*.npz"))) if root.is_dir() else 0
    return Plan(n, size, key, out, existing == key, len(chunk_bounds(n, size)), done, existing)


def versions() -> dict:
    import importlib.metadata as md
    out = {}
    for name in ("simulator", "numpy", "scipy", "xarray", "SALib", "dask", "distributed"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = None
    from simulator import __version__
    out["simulator"] = __version__
    return out


def template_dataset(scenario, variables: list[str]) -> xr.Dataset:
    """The base scenario run once: coordinates and per-member shapes of the stored variables."""
    from simulator.results import to_dataset
    from simulator.solve import simulate
    return to_dataset(simulate(scenario), squeeze=False)[variables]


def build_dataset(sweep: Sweep, U: np.ndarray, X: np.ndarray, data: dict[str, np.ndarray], failed: np.ndarray,
                  reasons: list[str], template: xr.Dataset, key: str, chunk_size: int) -> xr.Dataset:
    n = X.shape[0]
    variables = {}
    for v in sweep.variables:
        da = template[v]
        variables[v] = xr.Variable(da.dims, data[v], attrs=dict(da.attrs))
    ds = xr.Dataset(variables)
    from simulator.model.levers import LEVERS
    from simulator.model.parameters import PARAMETERS
    coords = {}                                            # assigned in one call (each call realigns the Dataset)
    for name, c in template.coords.items():
        if set(c.dims) <= set(ds.dims) and name != "run":
            values = c.values.astype("int8") if c.dtype == bool else c.values
            coords[name] = (c.dims, values, dict(c.attrs))
    coords["run"] = ("run", np.arange(n), {"long_name": "ensemble member (row of the design)"})
    coords["factor"] = ("factor", sweep.factor_ids, {"long_name": "sampled factor"})
    for j, f in enumerate(sweep.factors):
        spec = PARAMETERS[f.target] if f.kind == "parameter" else LEVERS[f.target]
        units = spec.units if f.apply != "scale" else "1"
        coords[f.id] = ("run", X[:, j], {
            "long_name": f"sampled {f.kind} {f.target} ({f.apply})", "units": units, "kind": f.kind,
            "target": f.target, "apply": f.apply, "distribution": f.distribution,
            "distribution_args": json.dumps(f.args), "elements": json.dumps(list(f.elements)),
            "from": "" if f.start is None else f.start})
    ds = ds.assign_coords(coords)
    ds["design_unit"] = xr.Variable(("run", "factor"), U, {"long_name": "design on the unit hypercube (quantiles)"})
    ds["failed"] = xr.Variable("run", failed.astype("int8"), {"long_name": "member failed (1) — outputs NaN"})
    ds["failure_reason"] = xr.Variable("run", np.array(reasons, dtype=str), {"long_name": "why the member failed"})
    sc = sweep.scenario
    ds.attrs.update({
        "title": f"Changchun metropolitan-area ensemble: {sweep.name}",
        "sweep_name": sweep.name, "sweep_description": sweep.description,
        "sweep_file": str(sweep.path) if sweep.path else "", "sweep_text": sweep.text, "sweep_sha256": sweep.sha256,
        "design_method": sweep.method, "design_samples": int(sweep.samples), "design_runs": int(n),
        "design_seed": int(sweep.seed), "design_levels": int(sweep.levels),
        "design_second_order": int(sweep.second_order), "design_key": key, "chunk_size": int(chunk_size),
        "factors": json.dumps([f.__dict__ for f in sweep.factors], default=str),
        "scenario_name": sc.name, "scenario_sha256": sc.sha256, "scenario_text": sc.text,
        "solver": json.dumps({"method": sc.solver.method, "rtol": sc.solver.rtol, "atol": sc.solver.atol,
                              "max_rhs_evaluations": sweep.max_rhs_evaluations}),
        "target_year": int(sc.targets.year), "target_population": float(sc.targets.population),
        "target_gdp_nominal": float(sc.targets.gdp_nominal),
        "failures": int(failed.sum()), "versions": json.dumps(versions()), "package": "simulator",
        "conventions": "dims (run, time, ...); factor values are coordinates on run",
    })
    from simulator.cf import cf_dataset
    return cf_dataset(ds)


def run_sweep(sweep: Sweep, output_dir: str | Path | None = None, *, jobs: int = 1, scheduler=None,
              chunk_size: int | None = None, progress: bool = False, write: bool = True,
              keep_chunks: bool = False, memory_bytes: int | None = None) -> SweepResult:
    """Run every member of ``sweep`` and return the ensemble Dataset (dims run, time, …).

    ``output_dir`` (default ``outputs/<sweep name>``) receives ``chunks/`` while running and
    ``ensemble.nc`` at the end; rerunning after an interruption resumes from the finished chunks.
    ``jobs`` > 1 uses local worker processes; ``scheduler`` (an address or a ``distributed.Client``)
    runs the chunks on a dask cluster. With ``write=False`` nothing is written (no resume).
    """
    t0 = time.perf_counter()
    workers = jobs
    if scheduler is not None:
        workers = max(2, jobs)
    out = Path(output_dir) if output_dir is not None else Path("outputs") / sweep.name
    check_fits(sweep, estimate(sweep, workers), out if write else None)   # before allocating anything
    n = design_runs(sweep)
    kw = {} if memory_bytes is None else {"memory_bytes": memory_bytes}
    size = chunk_size_for(n, chunk_size or sweep.chunk_size, **kw)   # never depends on jobs/scheduler
    key = design_key(sweep.settings(), size)
    final = out / "ensemble.nc"
    if write and final.exists():
        try:
            with xr.open_dataset(final) as old:
                if old.attrs.get("design_key") == key:
                    ds = old.load()
                    return SweepResult(ds, final, n, int(ds["failed"].sum()), time.perf_counter() - t0, 0,
                                       len(chunk_bounds(n, size)), size,
                                       dict(Counter(r for r in ds["failure_reason"].values.tolist() if r)))
        except (OSError, ValueError):
            pass
    template = template_dataset(sweep.scenario, sweep.variables)
    shapes = {v: template[v].shape[1:] for v in sweep.variables}
    per_run = int(sum(template[v].dtype.itemsize * int(np.prod(shapes[v])) for v in sweep.variables))
    check_fits(sweep, estimate(sweep, workers, per_run), out if write else None)
    U, X = design(sweep)
    if X.shape[0] != n:  # pragma: no cover - design_runs mirrors the designs
        raise RuntimeError(f"design has {X.shape[0]} runs, expected {n}")
    ctx = ChunkContext(sweep.scenario, sweep.factors, sweep.variables, sweep.max_rhs_evaluations)
    bounds = chunk_bounds(n, size)
    results: dict[int, object] = {}
    created = []                                        # directories this call creates (removed if unused)
    probe = out
    while not probe.exists() and probe.parent != probe:
        created.append(probe)
        probe = probe.parent
    store = ChunkStore(out, key, {**sweep.settings(), "chunk_size": size}) if write else None
    done = store.done(verify=True) if store else set()
    todo = [c for c in bounds if c[0] not in done]

    def on_result(res):
        if store is not None:
            store.write(res)
        else:
            results[res.index] = res

    try:
        execute(ctx, X, todo, shapes, on_result, jobs=jobs, scheduler=scheduler, progress=progress,
                done=sum(b - a for i, a, b in bounds if i in done), total=n, desc=sweep.name)
    except BaseException as exc:
        if store is not None and not store.done():      # nothing to resume from: leave nothing behind
            store.remove()
            for d in created:
                if d.is_dir() and not any(d.iterdir()):
                    d.rmdir()
        if not isinstance(exc, SweepInterrupted):
            raise
        saved = len(store.done()) if store else 0
        raise SweepInterrupted(f"sweep '{sweep.name}' interrupted: {saved} of {len(bounds)} chunks are saved "
                               f"in {store.root if store else '(memory)'}; rerun the same command to resume")
    parts = [store.read(i) if store else results[i] for i, _, _ in bounds]
    data = {v: np.concatenate([p.data[v] for p in parts]) for v in sweep.variables}
    failed = np.concatenate([p.failed for p in parts])
    reasons = [r for p in parts for r in (p.reason if len(p.reason) else [""] * len(p.failed))]
    ds = build_dataset(sweep, U, X, data, failed, reasons, template, key, size)
    path = None
    if write:
        path = write_netcdf_atomic(ds, final)
        if not keep_chunks:
            store.remove()
    return SweepResult(ds, path, n, int(failed.sum()), time.perf_counter() - t0, len(todo), len(bounds) - len(todo),
                       size, dict(Counter(r for r in reasons if r)))
