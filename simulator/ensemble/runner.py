"""Running an ensemble: chunks of members integrated as one stacked state, in-process, in local worker
processes (``jobs``) or on a dask.distributed cluster (``scheduler``).

Failure isolation. A chunk is integrated in one ``solve.integrate`` call. If that call raises
(``CalibrationError`` for an infeasible parameter combination, ``SolverError``, a numerical error) the
chunk is split in halves and each half retried, down to single members; a member that still fails
alone gets NaN outputs, ``failed = 1`` and the exception text as its reason. A stiff or diverging
member cannot stall a chunk: the solver method carries a budget (``guard.guarded_method``), so a
segment that needs more than ``max_rhs_evaluations`` right-hand-side calls fails (the normal baseline
needs ≈ 120), which starts the bisection. Members that finish with non-finite outputs are marked failed individually.

Determinism. The chunk boundaries depend only on the design size and chunk size, and each chunk is
always integrated the same way, so results do not depend on ``jobs``, the scheduler, the completion
order or interruptions (see ``store``).
"""
from __future__ import annotations

import logging
import math
import os
import sys
import time
from dataclasses import dataclass, field, replace

import numpy as np

from .members import SampledLevers, member_parameters

#: bytes of working memory per member and chunk: peak resident memory of a chunk divided by its members,
#: measured with benchmarks/bench_memory.py (0.82–0.83 MB per member for the 2024–2035 baseline)
BYTES_PER_MEMBER = 850_000
DEFAULT_CHUNK = 500
DEFAULT_MEMORY = 1 << 30


def chunk_size_for(n: int, requested: int | None = None, memory_bytes: int = DEFAULT_MEMORY,
                   workers: int = 1) -> int:
    """Members per chunk: the requested size (default ``DEFAULT_CHUNK``), capped by memory.

    With the compiled engine every member has its own step-size control, but the base-year closures
    sum over member-stacked arrays, so the chunking can still change results in the last digit (and the
    scipy engine shares steps within a chunk): the size therefore never depends on ``workers`` (the
    argument is accepted and ignored), the scheduler or the machine, only on the request and the fixed
    memory budget.
    """
    del workers
    cap = max(1, memory_bytes // BYTES_PER_MEMBER)
    size = requested if requested else DEFAULT_CHUNK
    return max(1, min(size, cap))


@dataclass
class ChunkContext:
    """What every chunk needs (sent once per task; small)."""

    scenario: object
    factors: list
    variables: list[str]
    max_rhs_evaluations: int
    #: optional ``inputs(scenario, X) -> (parameters, levers)`` replacing the factor translation (picklable;
    #: used by ``simulator.optimize`` for decision levers with per-member switch times)
    inputs: object = None


@dataclass
class ChunkResult:
    index: int
    start: int
    data: dict[str, np.ndarray]        # var -> (m, time, ...)
    failed: np.ndarray                 # (m,) bool
    reason: list[str]
    seconds: float
    nfev: int = 0
    attempts: int = 1
    worker: str = field(default_factory=lambda: f"pid {os.getpid()}")


def _integrate_rows(ctx: ChunkContext, X: np.ndarray) -> tuple[dict[str, np.ndarray], int]:
    from simulator.results import needs_auxiliaries, to_dataset
    from simulator.solve import integrate
    sc = ctx.scenario
    solver = sc.solver
    from simulator.guard import guarded_method     # a segment fails after the budget, or at a non-finite value
    template = replace(sc, solver=replace(solver, method=guarded_method(solver.method, ctx.max_rhs_evaluations)))
    if ctx.inputs is not None:
        p, levers = ctx.inputs(sc, X)
    else:
        p = member_parameters(sc, ctx.factors, X)
        levers = SampledLevers(sc, ctx.factors, X)
    with np.errstate(all="ignore"):
        traj = integrate([template], p, levers, auxiliaries=needs_auxiliaries(ctx.variables))
    traj.stats["method"] = solver.method
    traj.scenarios = [sc]
    ds = to_dataset(traj, squeeze=False)
    return {v: np.asarray(ds[v].values) for v in ctx.variables}, int(traj.stats["nfev"])


def solve_rows(ctx: ChunkContext, X: np.ndarray, shapes: dict[str, tuple]) -> tuple[dict, np.ndarray, list, int, int]:
    """Integrate rows X together; on failure bisect down to single members (see module doc)."""
    m = X.shape[0]
    try:
        data, nfev = _integrate_rows(ctx, X)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of the chunk triggers isolation
        if m == 1:
            data = {v: np.full((1,) + shapes[v], np.nan) for v in ctx.variables}
            reason = f"{type(exc).__name__}: {exc}".strip().replace("\n", " ")
            return data, np.array([True]), [reason[:300]], 0, 1
        h = m // 2
        d1, f1, r1, n1, a1 = solve_rows(ctx, X[:h], shapes)
        d2, f2, r2, n2, a2 = solve_rows(ctx, X[h:], shapes)
        data = {v: np.concatenate([d1[v], d2[v]]) for v in ctx.variables}
        return data, np.concatenate([f1, f2]), r1 + r2, n1 + n2, 1 + a1 + a2
    failed = np.zeros(m, dtype=bool)
    reason = [""] * m
    for v, arr in data.items():
        bad = ~np.isfinite(arr.reshape(m, -1)).all(axis=1)
        for i in np.flatnonzero(bad & ~failed):
            reason[i] = f"non-finite output in {v}"
        failed |= bad
    for v in data:
        data[v] = data[v].astype(float, copy=True)
        data[v][failed] = np.nan
    return data, failed, reason, nfev, 1


def single_threaded_blas():
    """One BLAS thread per worker: scipy's RK step does small-by-huge dot products, for which OpenBLAS
    threads only add overhead (measured ≈ 3× slower chunks with them on a 2-core machine)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        import contextlib
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def run_chunk(ctx: ChunkContext, index: int, start: int, X: np.ndarray, shapes: dict) -> ChunkResult:
    """One chunk (module-level so that process pools and dask can ship it)."""
    t0 = time.perf_counter()
    with single_threaded_blas():
        data, failed, reason, nfev, attempts = solve_rows(ctx, np.asarray(X, dtype=float), shapes)
    return ChunkResult(index, start, data, failed, reason, time.perf_counter() - t0, nfev, attempts)


# --- executors ----------------------------------------------------------------------------------
class SweepInterrupted(RuntimeError):
    """The sweep stopped early; finished chunks are saved (rerun to resume)."""


class SchedulerUnreachable(RuntimeError):
    """The dask scheduler could not be reached (names the address and the connection failure)."""


SchedulerUnavailable = SchedulerUnreachable   # the name used by the hostile-input work


def _progress(total: int, initial: int, enabled: bool, desc: str, unit: str = "run"):
    """A tqdm bar on stderr (elapsed, rate and time left), or a no-op (tqdm not even imported: in a notebook
    its import alone prints a warning)."""
    if enabled:
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover - tqdm is a dependency of the ensemble extra
            enabled = False
    if not enabled:
        class _Null:
            def update(self, n): pass
            def close(self): pass
            def set_postfix_str(self, s): pass
        return _Null()
    tqdm.monitor_interval = 0
    return tqdm(total=total, initial=initial, unit=unit, desc=desc, dynamic_ncols=True, file=sys.stderr,
                smoothing=0.1)


log = logging.getLogger(__name__)


def _logged(on_result):
    def wrapped(res):
        log.debug(f"chunk {res.index}: {len(res.failed)} members, {int(res.failed.sum())} failed, "
                  f"{res.seconds:.1f} s, {res.nfev} RHS evaluations, {res.attempts} attempt(s), {res.worker}")
        on_result(res)
    return wrapped


def execute(ctx: ChunkContext, X: np.ndarray, chunks: list[tuple[int, int, int]], shapes: dict, on_result,
            jobs: int = 1, scheduler=None, progress: bool = False, done: int = 0, total: int | None = None,
            desc: str = "sweep") -> None:
    """Run ``chunks`` [(index, start, stop)] and call ``on_result(ChunkResult)`` as each finishes (in the
    calling process, so results are written there)."""
    total = X.shape[0] if total is None else total
    on_result = _logged(on_result)
    bar = _progress(total, done, progress, desc)
    try:
        if scheduler is not None:
            _execute_dask(ctx, X, chunks, shapes, on_result, scheduler, bar)
        elif jobs <= 1 or len(chunks) <= 1:
            for index, a, b in chunks:
                res = run_chunk(ctx, index, a, X[a:b], shapes)
                on_result(res)
                bar.update(b - a)
        else:
            _execute_processes(ctx, X, chunks, shapes, on_result, jobs, bar)
    except KeyboardInterrupt:
        raise SweepInterrupted("interrupted") from None
    finally:
        bar.close()


def _execute_processes(ctx, X, chunks, shapes, on_result, jobs, bar) -> None:
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context(method),
                               initializer=_worker_init, initargs=(os.getpid(),))
    try:
        pending = {pool.submit(run_chunk, ctx, i, a, X[a:b], shapes): (i, a, b) for i, a, b in chunks}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                i, a, b = pending.pop(fut)
                on_result(fut.result())
                bar.update(b - a)
        pool.shutdown(wait=True)
    except BaseException:
        _stop_pool(pool)
        raise


def _stop_pool(pool, timeout: float = 10.0) -> None:
    """Stop ``pool`` after an interruption or an error: cancel what has not started, terminate our workers, and
    wait (at most ``timeout`` s) until its manager thread has seen them gone and closed its wake-up pipe. Without
    that wait, concurrent.futures' exit hook (CPython 3.11: ``_python_exit``, unlocked) may write to the pipe while
    it is being closed and print an 'OSError: Bad file descriptor' traceback. A second Ctrl-C during these few
    seconds is ignored (it would cut the wait short and bring that traceback back)."""
    import signal
    import threading
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main else None
    try:
        # the worker list and the manager thread first: shutdown() sets both attributes to None
        procs = list((getattr(pool, "_processes", None) or {}).values())   # our own workers only
        manager = getattr(pool, "_executor_manager_thread", None)
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        deadline = time.monotonic() + timeout
        for proc in procs:
            proc.join(timeout=max(deadline - time.monotonic(), 0.0))
            if proc.is_alive():  # pragma: no cover - a worker ignoring SIGTERM
                proc.kill()
                proc.join(timeout=1.0)
        if manager is not None and manager.is_alive():
            manager.join(timeout=max(deadline - time.monotonic(), 1.0))
            if manager.is_alive():  # pragma: no cover - e.g. a worker terminated while sending its result
                log.warning("the process pool's manager thread did not stop; exiting may hang")
    finally:
        if in_main:
            signal.signal(signal.SIGINT, previous)


def _worker_init(parent: int) -> None:
    """In each worker: Ctrl-C is the parent's business (it stops the pool and keeps finished chunks),
    and the worker dies with the parent even if the parent is killed with SIGKILL (Linux)."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM)          # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover
            pass
    if os.getppid() != parent:                    # the parent died before prctl took effect
        os._exit(1)


def _execute_dask(ctx, X, chunks, shapes, on_result, scheduler, bar) -> None:
    from distributed import Client, as_completed
    own = not isinstance(scheduler, Client)
    if own:
        try:
            client = Client(scheduler)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SchedulerUnreachable(f"cannot connect to the dask scheduler {scheduler}: "
                                       f"{type(exc).__name__}: {exc}") from None
    else:
        client = scheduler
    try:
        ctx_f = client.scatter(ctx, broadcast=True)
        futures = {client.submit(run_chunk, ctx_f, i, a, X[a:b], shapes, pure=False, retries=2): (i, a, b)
                   for i, a, b in chunks}
        try:
            for fut in as_completed(list(futures)):
                i, a, b = futures[fut]
                on_result(fut.result())
                bar.update(b - a)
        except BaseException:
            client.cancel(list(futures))
            raise
    finally:
        if own:
            client.close()
