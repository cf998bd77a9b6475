"""Integration: piecewise between lever breakpoints, with the compiled model core.

Every step, ramp end and table knot of any lever is a segment boundary, so the adaptive solver
cannot step over a policy pulse; inside a segment every lever is linear in time. The final state of
one segment is the initial state of the next. Annual flows come from accumulator states.

Engines (``engine=`` or ``SIMULATOR_ENGINE``):

* ``"compiled"`` (default for RK45): the compiled Dormand–Prince integrator (``dopri.py``) with the
  compiled right-hand side, member by member, each with its own step-size control;
* ``"scipy"`` (and any other solver method, e.g. DOP853): ``scipy.integrate.solve_ivp`` on the members
  stacked in one state vector (one shared step-size control), calling the same compiled right-hand side
  through ``rhs.Model``.
"""
from __future__ import annotations

import os
import time as _time
from types import SimpleNamespace
from dataclasses import dataclass, field

import numpy as np

from .model.jit import announce_cold_cache
from .model.initial import initialize
from .model.inputs import LeverSegment, MemberLevers, stack_parameters
from .model.nodes import N_NODES
from .model.records import AUX_OFFSETS, AUX_SIZE, N_LEVER_VALUES, lever_matrix
from .model.rhs import Model
from .model.state import StateLayout


ENGINES = ("compiled", "scipy")
#: the engine used when ``integrate`` is not given one
DEFAULT_ENGINE = os.environ.get("SIMULATOR_ENGINE", "compiled")


class SolverError(RuntimeError):
    """The integration failed (message names the segment and scipy's reason)."""


@dataclass
class Trajectory:
    """Raw solution at the output times: arrays with leading dims (time, member), then the block's
    own shape (the integration itself keeps the member axis last; it is moved first here)."""
    scenarios: list
    times: np.ndarray
    states: dict[str, np.ndarray]
    # d(state)/dt (for first-year flows) and the auxiliaries at the output times; only at the first output time
    # when integrated with ``auxiliaries=False`` (``integrate``)
    rates: dict[str, np.ndarray]
    auxiliaries: dict[str, np.ndarray]
    constants: object
    layout: StateLayout
    stats: dict = field(default_factory=dict)


def absolute_tolerance(layout: StateLayout, y0: np.ndarray, dy0: np.ndarray, members: int,
                       atol: float) -> np.ndarray:
    """Per-state atol: ``atol`` × the typical size of the state's block (level or one year of flow)."""
    scale = np.empty(layout.size * members)
    s0, r0 = layout.unpack(y0, members), layout.unpack(dy0, members)
    sc = layout.unpack(scale, members)
    for name in layout.shapes:
        level = np.abs(s0[name]).reshape(-1, members).mean(axis=0)
        flow = np.abs(r0[name]).reshape(-1, members).mean(axis=0)
        sc[name][...] = np.maximum(np.maximum(level, flow), 1e-6)          # (M,) broadcast over the block
    return atol * scale


def check_members(scenarios) -> None:
    first = scenarios[0]
    for s in scenarios[1:]:
        if (s.run_start, s.start, s.end, s.output_step, s.age_substages, s.solver) != (
                first.run_start, first.start, first.end, first.output_step, first.age_substages, first.solver):
            raise ValueError("all members of one integration must share time span, output step, "
                             "age sub-stages and solver settings")


def simulate(scenarios, population_by_age: np.ndarray | None = None, auxiliaries: bool = True) -> Trajectory:
    """Integrate one scenario or a list of scenarios (members) stacked in one state vector.

    ``population_by_age`` (persons, (N, G)) replaces the base-year population from the data;
    ``auxiliaries``: see ``integrate``.
    """
    if not isinstance(scenarios, (list, tuple)):
        scenarios = [scenarios]
    scenarios = list(scenarios)
    check_members(scenarios)
    p = stack_parameters([s.parameters for s in scenarios])
    levers = MemberLevers([s.effective_levers() for s in scenarios])
    return integrate(scenarios, p, levers, population_by_age, auxiliaries=auxiliaries)


def integrate(scenarios: list, p, levers, population_by_age: np.ndarray | None = None,
              engine: str | None = None, auxiliaries: bool = True) -> Trajectory:
    """Integrate member-stacked inputs.

    ``scenarios``: the member scenarios (or one template scenario whose time span, output step,
    sub-stages and solver are used for all members); ``p``: member-stacked parameters (see
    ``model.inputs.stack_parameters``), which fix the member count M; ``levers``: an object with
    ``values(t, side) -> {lever: (M, ...) array}`` and ``breakpoints() -> list`` (e.g.
    ``model.inputs.MemberLevers``).

    ``auxiliaries=False`` skips the right-hand side at the output times after the first (15 of a baseline run's 172
    evaluations): the Trajectory's rates and auxiliaries are then those of the first output time only, enough
    for every variable but ``results.AUXILIARY_VARIABLES`` (``to_dataset`` leaves those out), bitwise the same.
    """
    first = scenarios[0]
    M = p.capital_elasticity.shape[-1]
    announce_cold_cache()
    layout = StateLayout(first.age_substages)
    start = first.run_start          # a scenario that continues a history run integrates it first
    blocks, constants = initialize_distinct(p, M, first.age_substages, population_by_age, int(start))
    y = layout.pack(blocks, M)
    model = Model(layout, p, constants, M)

    out_times = np.asarray(first.run_output_times, dtype=float)
    bps = levers.breakpoints()
    edges = [start] + [b for b in bps if start < b < first.end] + [first.end]

    # lever values as rows (M, n_lever_values): each segment's start and slope, and at the output times
    n_seg = len(edges) - 1
    sides = ["right"] * n_seg + ["left"] * n_seg + ["left" if np.isclose(t, first.end) else "right" for t in out_times]
    table = lever_table(levers, [*edges[:-1], *edges[1:], *out_times], sides, M)
    LV0 = np.ascontiguousarray(table[:, :n_seg])                                     # (M, segments, n_lever_values)
    LV1 = (table[:, n_seg:2 * n_seg] - LV0) / np.diff(np.asarray(edges, dtype=float))[None, :, None]
    LVout = np.ascontiguousarray(table[:, 2 * n_seg:])                               # (M, T, n_lever_values)
    # d(state)/dt at the start (for atol), through the same compiled entry as the integration and the output
    # rates (one compiled library to load in a fresh process)
    Y0 = np.array(y.reshape(layout.size, M).T, order="C")                # (M, size)
    DY0 = np.empty((M, 1, layout.size))
    member_rates(np.array([float(edges[0])]), Y0[:, None, :], DY0, np.empty((M, 1, 0)), LV0[:, :1], model, layout.k)
    dy0 = DY0[:, 0].T.reshape(-1)
    atol = absolute_tolerance(layout, y, dy0, M, first.solver.atol)

    method = first.solver.method
    method_name = method if isinstance(method, str) else getattr(method, "base_method", None) or method.__name__
    engine = engine or DEFAULT_ENGINE
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine == "compiled" and method_name != "RK45":
        engine = "scipy"                      # the compiled integrator is RK45 (Dormand–Prince 5(4)) only
    t_wall = _time.perf_counter()
    # rates and auxiliaries at every output time, or (auxiliaries=False) only at the first, where the annual flows
    # take the instantaneous rate (``results.annual_flows``)
    rated = len(out_times) if auxiliaries else min(1, len(out_times))
    DYout = np.empty((M, rated, layout.size))
    AUXout = np.empty((M, rated, AUX_SIZE))
    if engine == "compiled":       # rates and auxiliaries at the output times come with each member's integration
        Yout, nfev = _integrate_compiled(first, layout, model, LV0, LV1, edges, out_times, LVout, Y0, atol, M,
                                         DYout, AUXout)
    else:
        Y, nfev = _integrate_scipy(first, model, levers, edges, out_times, y, atol)
        Yout = np.ascontiguousarray(Y.reshape(len(out_times), layout.size, M).transpose(2, 0, 1))
        member_rates(np.array(out_times[:rated], dtype=float), Yout[:, :rated], DYout, AUXout, LVout[:, :rated],
                     model, layout.k)
    wall = _time.perf_counter() - t_wall
    stats = dict(method=first.solver.method, engine=engine, rtol=first.solver.rtol, atol=first.solver.atol,
                 nfev=int(nfev), segments=len(edges) - 1, breakpoints=[float(b) for b in edges[1:-1]],
                 members=M, state_size=layout.size, integration_seconds=wall, auxiliaries=bool(auxiliaries))
    traj = Trajectory(scenarios=scenarios, times=out_times,
                      states=_member_blocks(layout, Yout), rates=_member_blocks(layout, DYout),
                      auxiliaries=_member_auxiliaries(AUXout), constants=constants, layout=layout, stats=stats)
    check_nonnegative(traj)
    return traj


def initialize_distinct(p, members: int, k: int, population_by_age, start_year: int):
    """``initial.initialize`` for the distinct members only, its results then spread to every member: in a sweep
    of levers on one parameter set the base-year closures (the commuting wage balance, the migration logit) are
    solved once, not once per member. Members are distinct when any parameter differs (to the bit)."""
    names = list(vars(p))
    first = first_equal(np.column_stack([np.reshape(np.asarray(getattr(p, n), dtype=float), (-1, members)).T
                                         for n in names]))
    distinct = np.flatnonzero(first == np.arange(members))      # in the order they first appear
    if len(distinct) == members:
        return initialize(p, members, k, population_by_age, start_year=start_year)
    index = np.searchsorted(distinct, first)                    # each member's distinct set
    blocks, constants = initialize(SimpleNamespace(**{n: np.asarray(getattr(p, n))[..., distinct] for n in names}),
                                   len(distinct), k, population_by_age, start_year=start_year)
    return _take_members(blocks, index, len(distinct)), _take_members(constants, index, len(distinct))


def first_equal(rows: np.ndarray) -> np.ndarray:
    """For each row of ``rows`` (M, K), the index of the first row equal to it to the bit, (M,)."""
    rows = np.ascontiguousarray(rows, dtype=float)
    _, first, inverse = np.unique(rows.view(np.dtype((np.void, rows.shape[1] * rows.itemsize))).ravel(),
                                  return_index=True, return_inverse=True)
    return first[inverse.ravel()]


#: the one array of ``initialize``'s results without a member axis (the bonus class of each age group, (G,))
_MEMBERLESS = frozenset({"age_class"})


def _take_members(value, index: np.ndarray, members: int, name: str = ""):
    """The arrays of ``initialize``'s results (in dicts and namespaces) indexed by ``index`` along their last axis
    where that is the member axis (length ``members``); ``_MEMBERLESS`` arrays, numbers, and the age schedules
    when they are shared ((G, 1): ``ages`` of one distinct member) as they are."""
    if name == "ages" and members == 1:
        return value
    if isinstance(value, dict):
        return {key: _take_members(v, index, members, key) for key, v in value.items()}
    if isinstance(value, SimpleNamespace):
        return SimpleNamespace(**{key: _take_members(v, index, members, key) for key, v in vars(value).items()})
    if isinstance(value, np.ndarray) and value.ndim and value.shape[-1] == members and name not in _MEMBERLESS:
        return value[..., index]
    return value


def _integrate_scipy(first, model, levers, edges, out_times, y, atol):
    """``solve_ivp`` on the stacked members, segment by segment: (Y (T, size·M), RHS evaluations). The step size
    carries across breakpoints as in the compiled integrator (``dopri.carried_step``): each segment after the
    first starts with ``first_step`` = the last step not cut short to end on a breakpoint."""
    from scipy.integrate import solve_ivp          # here: scipy.integrate is not needed by the compiled engine
    from scipy.integrate._ivp.ivp import METHODS
    from .dopri import carried_step
    from .guard import IntegrationError, solver_class
    method = solver_class(first.solver.method)
    base = METHODS.get(method) if isinstance(method, str) else method
    if base is None:
        raise ValueError(f"unknown solver method {method!r}; expected one of {', '.join(sorted(METHODS))}")
    steps = {"full": 0.0, "proposed": 0.0, "left_domain": False, "t_fail": float(edges[0])}

    class Carrying(base):
        """The solver class recording its steps: the last one not cut short at ``t_bound``, the controller's
        next proposal (``h_abs``, where the method has one), and on failure whether the last step tried gave
        non-finite stages (RK methods' ``K``)."""
        def step(self):
            t_before = self.t
            message = super().step()
            if self.status != "failed":
                if self.t != self.t_bound:
                    steps["full"] = abs(self.t - t_before)
                steps["proposed"] = getattr(self, "h_abs", None) or 0.0
            else:
                steps["left_domain"] = not np.all(np.isfinite(getattr(self, "K", 0.0)))
                steps["t_fail"] = self.t
            return message

    saved: dict[float, np.ndarray] = {}
    nfev = 0
    for a, b in zip(edges[:-1], edges[1:]):
        seg = LeverSegment(levers, a, b)
        wanted = out_times[(out_times >= a) & (out_times <= b)]
        t_eval = np.union1d(wanted, [b])            # always end at b: the next segment starts there
        # the plain Python function (``py_func``; itself under SIMULATOR_NO_JIT): nothing compiled to load here
        carried = getattr(carried_step, "py_func", carried_step)(steps["full"], steps["proposed"])
        sol = solve_ivp(lambda t, yy: model.derivatives(t, yy, seg.at(t)), (a, b), y,
                        method=Carrying, rtol=first.solver.rtol, atol=atol, t_eval=t_eval,
                        **({"first_step": min(carried, b - a)} if carried > 0 else {}))
        nfev += sol.nfev
        if sol.status < 0 and steps["left_domain"]:     # no step size avoided non-finite values (as dopri's status 1)
            raise IntegrationError(f"the model produced non-finite values near t = {steps['t_fail']:.6g} (a parameter "
                                   "or lever value the equations cannot handle)")
        if sol.status < 0:
            raise SolverError(f"integration failed on segment [{a:g}, {b:g}]: {sol.message}")
        for tt, yy in zip(sol.t, sol.y.T):
            if np.any(wanted == tt):
                saved.setdefault(float(tt), yy.copy())
        y = sol.y[:, -1].copy()
    missing = [t for t in out_times if float(t) not in saved]
    if missing:
        raise SolverError(f"no solution at output times {missing}")
    return np.stack([saved[float(t)] for t in out_times]), nfev


def lever_table(levers, times, sides, members: int) -> np.ndarray:
    """Lever values at ``times`` (limits from ``sides``) as rows (M, T, n_lever_values) (``records.LEVER_OFFSETS``):
    ``levers.matrices`` when the lever object has it (``MemberLevers``, ``ensemble.members.SampledLevers``), else its
    ``values`` one time at a time."""
    out = np.empty((members, len(times), N_LEVER_VALUES))
    matrices = getattr(levers, "matrices", None)
    if matrices is None:
        for i, (t, side) in enumerate(zip(times, sides)):
            out[:, i] = lever_matrix(levers.values(float(t), side=side), members)
        return out
    times = np.asarray(times, dtype=float)
    for side in ("left", "right"):
        idx = [i for i, s in enumerate(sides) if s == side]
        if idx:
            out[:, idx] = matrices(times[idx], side)
    return out


def _member_blocks(layout: StateLayout, Yout: np.ndarray) -> dict[str, np.ndarray]:
    """Split solutions (M, T, size) into blocks shaped (T, M, *block_shape)."""
    M, T = Yout.shape[:2]
    return {name: Yout[:, :, sl].reshape((M, T) + layout.shapes[name]).swapaxes(0, 1)
            for name, sl in layout.slices.items()}


def _member_auxiliaries(AUXout: np.ndarray) -> dict[str, np.ndarray]:
    """Auxiliaries (M, T, n_aux) → {name: (T, M, N) or (T, M, N, N)}."""
    M, T = AUXout.shape[:2]
    out = {}
    for name, off in AUX_OFFSETS.items():
        n = N_NODES * N_NODES if name == "commuting_flow" else N_NODES
        block = AUXout[:, :, off:off + n].swapaxes(0, 1)
        out[name] = block.reshape((T, M, N_NODES, N_NODES)) if name == "commuting_flow" else block
    return out


def member_segments(edges: np.ndarray, LV0: np.ndarray, LV1: np.ndarray) -> np.ndarray:
    """Which segments each member's levers change at, (M, segments) bool (the first always): the chunk's edges
    are the union of every member's breakpoints, and a member's steps end (and its stages start afresh) only at its
    own, so its result does not depend on the breakpoints of the other members of its chunk. An edge is the
    member's own when a lever jumps there (value ≠ the previous kept segment's line at the edge) or changes
    slope; else that line continues (the same schedule piece: values equal to rounding). ``LV0``/``LV1``:
    each segment's lever values at its start and slopes, (M, segments, n_lever_values)."""
    M, n_seg = LV0.shape[:2]
    keep = np.zeros((M, n_seg), dtype=bool)
    keep[:, 0] = True
    last = np.zeros(M, dtype=np.int64)                      # each member's last kept segment
    rows = np.arange(M)
    for s in range(1, n_seg):
        lv0_p, lv1_p = LV0[rows, last], LV1[rows, last]
        predicted = lv0_p + (edges[s] - edges[last])[:, None] * lv1_p
        scale = np.maximum(np.abs(LV0[:, s]), 1.0)
        own = (np.any(np.abs(LV0[:, s] - predicted) > 1e-12 * scale, axis=1)
               | np.any(np.abs(LV1[:, s] - lv1_p) > 1e-9 * np.maximum(np.abs(lv1_p), 1e-12 * scale), axis=1))
        keep[:, s] = own
        last = np.where(own, s, last)
    return keep


def shared_starts(own: np.ndarray, LV0: np.ndarray, LV1: np.ndarray, inputs: list) -> tuple[np.ndarray, np.ndarray]:
    """Where each member can take over another member's integration instead of repeating it: (source, start),
    (M,) each.

    Members whose ``inputs`` (arrays (M, ·): parameter and constant records, initial state, atol; the most
    distinguishing first) are equal to the bit form a group; its first member is the source of the others. A
    member whose levers equal its source's up to an edge where both have a breakpoint of their own (``own``,
    ``member_segments``) would
    integrate up to there exactly as the source did, step for step: it resumes from the source's state at the
    latest such edge (``dopri.integrate_member``). ``start`` is that edge's position among the member's own
    segments (the same among the source's), 0 to integrate from the beginning. In a sweep of policy levers on
    the fitted parameters every member shares the history years before its levers differ (``sweeps/levers.yaml``:
    2020–2024, about half of each member's evaluations).
    """
    M, n_seg = own.shape
    source = np.zeros(M, dtype=np.int64)                     # the first member with equal inputs so far
    for block in inputs:                                     # refined block by block; done once every member is alone
        source = first_equal(np.column_stack([source, np.reshape(block, (M, -1))]))
        if np.all(source == np.arange(M)):
            return source, np.zeros(M, dtype=np.int64)
    same = np.all((LV0 == LV0[source]) & (LV1 == LV1[source]), axis=2)          # (M, segments)
    differs = np.where(same.all(axis=1), n_seg, np.argmin(same, axis=1))         # the first segment that differs
    both = own & own[source]
    both[:, 0] = False
    candidates = both & (np.arange(n_seg)[None, :] <= differs[:, None])
    last = np.where(candidates.any(axis=1), n_seg - 1 - np.argmax(candidates[:, ::-1], axis=1), 0)
    start = np.where(last > 0, np.cumsum(own, axis=1)[np.arange(M), last] - 1, 0)
    start[source == np.arange(M)] = 0
    return source, start


def member_rates(times, Y, DY, AUX, LV, model, k) -> None:
    """d(state)/dt and the auxiliaries of every member at ``times``, through the compiled entry
    ``dopri.run_members``: Y, DY (M, T, size), AUX (M, T, n_aux or 0 for none), LV (M, T, n_lever_values)."""
    from .dopri import N_EDGE_STATE, RATES, run_members
    M, size = Y.shape[0], Y.shape[2]
    times = np.asarray(times, dtype=float)
    LV = np.ascontiguousarray(LV)
    # written in place: a strided view gets a contiguous copy written back (one compiled array layout)
    dy = DY if DY.flags.c_contiguous else np.array(DY)
    aux = AUX if AUX.flags.c_contiguous else np.array(AUX)
    none = np.zeros(M, dtype=np.int64)
    lv0 = np.ascontiguousarray(LV[:, :1])                   # (unused by RATES but for the compiled signature)
    run_members(RATES, 0, M, np.ascontiguousarray(Y[:, 0]), np.array([times[0], times[-1]]),
                np.ones((M, 1), dtype=bool), lv0, lv0, times, LV, model.P, model.C, k, 0.0, np.empty((M, 0)), 0,
                np.ascontiguousarray(Y), dy, aux, none, none, none - 1, np.empty((1, 0, size)),
                np.empty((1, 0, N_EDGE_STATE)))
    if dy is not DY:
        DY[...] = dy
    if aux is not AUX:
        AUX[...] = aux


#: members integrated per compiled call (``dopri.run_members``): the ~40 µs of a call paid once per 64 members
#: (~1 % of their time), while Ctrl-C and a dask worker's event loop wait at most ~0.2–0.3 s (the call holds the GIL)
MEMBERS_PER_CALL = 64


def _integrate_compiled(first, layout, model, LV0, LV1, edges, out_times, LVout, Y0, atol, M, DYout, AUXout):
    """The compiled integrator, member by member: (Y (M, T, size), RHS evaluations); the rates and
    auxiliaries at the first R output times into ``DYout`` and ``AUXout`` (M, R, ·), R ≤ T (``integrate``).

    Budgets of a guarded method (``guard.GuardedMethod``) apply per member: RHS evaluations per segment,
    the deadline and ``before_step`` (checked before each member) and a stop on non-finite values that no smaller
    step avoids (``dopri`` rejects a step whose stages leave the equations' domain).
    """
    from .dopri import INTEGRATE, N_EDGE_STATE, run_members
    from .guard import IntegrationError
    method = first.solver.method
    budget = getattr(method, "max_rhs_evaluations", None)
    deadline = getattr(method, "deadline", None)
    size = layout.size
    ATOL = np.array(np.broadcast_to(atol, (size * M,)).reshape(size, M).T, order="C")
    edges_arr = np.asarray(edges, dtype=float)
    times = np.array(out_times, dtype=float)
    Yout = np.empty((M, len(times), size))
    max_nfev = np.iinfo(np.int64).max // 2 if budget is None else int(budget)
    before_member = getattr(method, "before_step", None)      # e.g. the explorer's cancellation check
    own = member_segments(edges_arr, LV0, LV1)                   # (M, segments)
    if M > 1:                                                    # members that can continue from another's
        records_by_member = [np.column_stack([np.reshape(a, (M, -1)) for a in rec]) for rec in (model.P, model.C)]
        source, start = shared_starts(own, LV0, LV1, [*records_by_member, Y0, ATOL])
    else:
        source, start = np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64)
    sources = np.unique(source[start > 0])                       # members whose state at their edges others take
    slot = np.full(M, -1, dtype=np.int64)
    slot[sources] = np.arange(len(sources))
    rows = int(own[sources].sum(axis=1).max()) if len(sources) else 0      # the most edges a source records
    EDGE_Y, EDGE_H = np.empty((max(len(sources), 1), rows, size)), np.empty((max(len(sources), 1), rows, N_EDGE_STATE))
    # MEMBERS_PER_CALL members per compiled call, or one at a time when a check must run between members
    step = 1 if before_member is not None or deadline is not None else MEMBERS_PER_CALL
    nfev = 0
    for lo in range(0, M, step):
        if before_member is not None:
            before_member()
        if deadline is not None and _time.monotonic() > deadline:
            raise IntegrationError(f"time limit exceeded (stopped at member {lo} of {M})")
        status, n, t_fail = run_members(INTEGRATE, lo, min(lo + step, M), Y0, edges_arr, own, LV0, LV1, times,
                                        LVout, model.P, model.C, layout.k, float(first.solver.rtol), ATOL,
                                        max_nfev, Yout, DYout, AUXout, source, start, slot, EDGE_Y, EDGE_H)
        nfev += n
        if status == 1:
            raise IntegrationError(f"the model produced non-finite values near t = {t_fail:.6g} (a parameter "
                                   "or lever value the equations cannot handle)")
        if status == 2:
            raise IntegrationError(f"more than {budget} right-hand-side evaluations in one segment "
                                   f"(stiff or diverging run, stopped at t = {t_fail:.6g})")
        if status:
            raise SolverError(f"integration failed near t = {t_fail:.6g}: required step size is less than "
                              "spacing between numbers")
    return Yout, nfev


def _blocks_by_time(layout: StateLayout, Y: np.ndarray, members: int) -> dict[str, np.ndarray]:
    """Split solutions (T, size·M) into blocks shaped (T, M, *block_shape)."""
    Y3 = Y.reshape(len(Y), layout.size, members)
    return {name: np.moveaxis(Y3[:, sl, :].reshape((len(Y),) + layout.shapes[name] + (members,)), -1, 1)
            for name, sl in layout.slices.items()}


STOCKS_NONNEGATIVE = ("population", "urban_population", "registered_population", "capital_stock", "housing_new", "housing_old",
                      "construction_pipeline", "house_price", "service_capacity")


def check_nonnegative(traj: Trajectory, rel_tol: float = 1e-6) -> None:
    """Raise if a stock went negative beyond solver tolerance (a diagnostic: stocks are never clipped).

    Integrated stocks: below −``rel_tol`` × the block's largest value (1e-6, tight: every outflow of a stock
    is proportional to it, and each has its own error control).

    Coflows (U ≤ P, H ≤ P): the rural population R = P − U and the non-registered P − H are not integrated
    themselves but are differences of two stocks of size P, so their integration error is of the order of
    rtol × P, not rtol × R. A coflow drained to ≈ 0 can therefore end a few rtol × P on the wrong side
    without any model bug: `sim rank`'s "reclassification 20k persons/yr" member drains LY_P's rural
    population (reference at rtol 1e-10: R = 2.5e-5 persons in 2035) and ends at R = −1.7 persons =
    −3.4e-6 × P at rtol 1e-6, while every integrated stock stays far above 0 (measured on the merged model;
    with the members stacked in one scipy solve the member borrowed smaller steps of the others and ended
    closer to 0). Their tolerance is 10 × the run's rtol × P (at least ``rel_tol``). Making R itself a state
    (U = P − R) would give it its own error control and allow the tight check there too.
    """
    for name in STOCKS_NONNEGATIVE:
        v = traj.states[name]
        low, high = v.min(), v.max()
        scale = max(-low, high) or 1.0                   # the largest |value| (no temporary array)
        if low < -rel_tol * scale:
            raise SolverError(f"stock '{name}' went negative ({low:.4g}); this is a model bug")
    coflow_tol = max(rel_tol, 10.0 * float(traj.stats.get("rtol", 1e-6) or 1e-6))
    urban, pop = traj.states["urban_population"], traj.states["population"].sum(axis=(-1, -2))
    if np.any(urban > pop * (1 + coflow_tol)):        # rural population R = P − U, a coflow
        raise SolverError("urban population exceeded total population; this is a model bug")
    if np.any(traj.states["registered_population"] > pop * (1 + coflow_tol)):
        raise SolverError("registered population exceeded total population; this is a model bug")
