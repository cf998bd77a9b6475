"""A compiled Dormand–Prince 5(4) integrator with per-member step-size control.

The same method, error norm, step-size controller, initial-step selection and dense output as scipy's
``solve_ivp(method="RK45")`` (scipy/integrate/_ivp/rk.py, common.py), applied to one ensemble member at a
time: every member has its own steps, so a member's result does not depend on which other members share
its chunk, on the chunk size, ``-j`` or the scheduler.

``integrate_member`` integrates one member over the segments between lever breakpoints (levers linear
inside a segment: values ``LV0[s] + (t − edges[s])·LV1[s]``) and returns the states at the output times
(dense output inside a step, exactly the step's end state at a segment end). At a breakpoint the stages start
afresh (the right-hand side is evaluated with the new segment's levers; no first-same-as-last), but the step
size carries on: the first step of a segment is the last step taken that was not cut short to end on a
breakpoint (``carried_step``), capped at the segment's length; only the first segment selects an initial step
as scipy does. The scipy engine carries it the same way (``solve._integrate_scipy``). Against restarting
the step control at every breakpoint (scipy's ``solve_ivp`` called segment by segment), the shipped scenarios
take 12–26 % fewer evaluations with an equal or smaller error against a tight reference in each
(``benchmarks/breakpoint_restarts.py``). A step whose stages give non-finite values (a stage state outside the
equations' domain) is rejected like a step with too large an error (scipy's RK45 with a NaN error norm).
Status: 0 ok, 1 non-finite values (at a segment's start, or at every step size down to the floor), 2 more
than ``max_nfev`` right-hand-side evaluations in one segment, 3 step size underflow.

``run_members`` is the one compiled entry called from Python (``solve.integrate``): for each member of a range
``run_member`` integrates and then evaluates the rates and auxiliaries at the output times, or only the latter.
One entry means one compiled library to load from the cache in a fresh process (each entry carries its own copy
of the model code: ~0.3 s to load apiece); a range of members per call means a chunk pays the ~40 µs of a
Python call with the records' ~90 arrays once, not once per member.
"""
from __future__ import annotations

import numpy as np

from .model.jit import jit, unowned
from .model.records import LEVER_OFFSETS
from .model.rhs import derivatives_with, travel_terms, workspace
from .model.nodes import PAIRS

# Dormand–Prince 5(4) tableau (as scipy's RK45)
_C = np.array([0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0])
_A = np.array([
    [0.0, 0.0, 0.0, 0.0, 0.0],
    [1 / 5, 0.0, 0.0, 0.0, 0.0],
    [3 / 40, 9 / 40, 0.0, 0.0, 0.0],
    [44 / 45, -56 / 15, 32 / 9, 0.0, 0.0],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729, 0.0],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656]])
_B = np.array([35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84])
_E = np.array([-71 / 57600, 0.0, 71 / 16695, -71 / 1920, 17253 / 339200, -22 / 525, 1 / 40])
_P = np.array([
    [1.0, -8048581381 / 2820520608, 8663915743 / 2820520608, -12715105075 / 11282082432],
    [0.0, 0.0, 0.0, 0.0],
    [0.0, 131558114200 / 32700410799, -68118460800 / 10900136933, 87487479700 / 32700410799],
    [0.0, -1754552775 / 470086768, 14199869525 / 1410260304, -10690763975 / 1880347072],
    [0.0, 127303824393 / 49829197408, -318862633887 / 49829197408, 701980252875 / 199316789632],
    [0.0, -282668133 / 205662961, 2019193451 / 616988883, -1453857185 / 822651844],
    [0.0, 40617522 / 29380423, -110615467 / 29380423, 69997945 / 29380423]])
SAFETY, MIN_FACTOR, MAX_FACTOR = 0.9, 0.2, 10.0
ERROR_EXPONENT = -1.0 / 5.0          # -1/(error estimator order + 1)


@jit
def _rms(x):
    return np.sqrt(np.mean(x * x))


@jit
def _finite(x):
    for v in x:
        if not np.isfinite(v):
            return False
    return True


@jit
def _stage_state(st, y, h, K, out):
    """out = y + h·Σ_{q < st} A[st, q]·K[q], the state at which stage ``st`` (1–5) is evaluated; ``st`` = 6 (any
    other value) the step's 5th-order solution (weights B). One pass over the state, each sum in the order
    q = 0, 1, … without the zero weights: the same operations as the row-wise sums before (bitwise the same
    results); scipy's RK45 (a BLAS dot product) agrees to rounding (~1e-12, tests/test_compiled_core.py)."""
    n = out.shape[0]
    if st == 1:
        a0 = _A[1, 0]
        for i in range(n):
            out[i] = y[i] + h * (K[0, i] * a0)
    elif st == 2:
        a0, a1 = _A[2, 0], _A[2, 1]
        for i in range(n):
            out[i] = y[i] + h * (K[0, i] * a0 + K[1, i] * a1)
    elif st == 3:
        a0, a1, a2 = _A[3, 0], _A[3, 1], _A[3, 2]
        for i in range(n):
            out[i] = y[i] + h * (K[0, i] * a0 + K[1, i] * a1 + K[2, i] * a2)
    elif st == 4:
        a0, a1, a2, a3 = _A[4, 0], _A[4, 1], _A[4, 2], _A[4, 3]
        for i in range(n):
            out[i] = y[i] + h * (K[0, i] * a0 + K[1, i] * a1 + K[2, i] * a2 + K[3, i] * a3)
    elif st == 5:
        a0, a1, a2, a3, a4 = _A[5, 0], _A[5, 1], _A[5, 2], _A[5, 3], _A[5, 4]
        for i in range(n):
            out[i] = y[i] + h * (K[0, i] * a0 + K[1, i] * a1 + K[2, i] * a2 + K[3, i] * a3 + K[4, i] * a4)
    else:                                                   # B[1] = 0
        b0, b2, b3, b4, b5 = _B[0], _B[2], _B[3], _B[4], _B[5]
        for i in range(n):
            out[i] = y[i] + h * (K[0, i] * b0 + K[2, i] * b2 + K[3, i] * b3 + K[4, i] * b4 + K[5, i] * b5)


@jit
def _error_norm(y, y_new, h, K, rtol, atol):
    """RMS of the scaled error estimate h·Σ_q E[q]·K[q] / (atol + max(|y|, |y_new|)·rtol) (scipy's RK45 norm,
    summed in order: scipy's norm(x)/√n agrees to rounding; E[1] = 0)."""
    e0, e2, e3, e4, e5, e6 = _E[0], _E[2], _E[3], _E[4], _E[5], _E[6]
    n = y.shape[0]
    total = 0.0
    for i in range(n):
        c = K[0, i] * e0 + K[2, i] * e2 + K[3, i] * e3 + K[4, i] * e4 + K[5, i] * e5 + K[6, i] * e6
        e = c * h / (atol[i] + max(abs(y[i]), abs(y_new[i])) * rtol)
        total += e * e
    return np.sqrt(total / n)


#: the levers that the travel terms (``rhs.travel_terms``) depend on: travel time (pair lever) and integration
_TRAVEL_LEVERS = np.array(list(range(LEVER_OFFSETS["travel_time"], LEVER_OFFSETS["travel_time"] + len(PAIRS)))
                          + [LEVER_OFFSETS["metro_integration"]], dtype=np.int64)


@jit
def _travel_fixed(lv1):
    """True if the travel-time and integration levers are constant on the segment (slopes ``lv1`` zero)."""
    for i in _TRAVEL_LEVERS:
        if lv1[i] != 0.0:
            return False
    return True


@jit
def _same_travel(lv_a, lv_b):
    """True if two lever rows have the same travel-time and integration values (the same travel terms)."""
    for i in _TRAVEL_LEVERS:
        if lv_a[i] != lv_b[i]:
            return False
    return True


@jit
def carried_step(last_full_step, proposed_step):
    """The first step after a breakpoint (before the cap at the segment's length) [yr]: the last step taken that
    was not cut short to end on a breakpoint, or the controller's proposal when every step so far was (0 = none).
    The proposal after a step cut short is scaled from that short step; the last full step is the size the
    error control settled on (measured with a smaller error than the proposal in every shipped scenario:
    ``benchmarks/breakpoint_restarts.py``)."""
    return last_full_step if last_full_step > 0.0 else proposed_step


@jit(inline="always")
def _rhs(t, y, dy, a, lv0, lv1, lv, P, C, m, k, aux, travel, fixed, work):
    """The member's lever values at t, then ``derivatives_with``. Inlined (numba IR) into ``integrate_member``:
    numba passes every array of the records as separate scalar arguments (~850 per call in the LLVM IR), so
    one call level less per evaluation; measured 1.00–1.14× faster ``run_member`` (5 undisturbed alternating
    pairs, 200 sweep members). Flattening the parameter record into one array, to cut those arguments
    further, measured no faster and was not kept."""
    for i in range(lv.shape[0]):
        lv[i] = lv0[i] + (t - a) * lv1[i]
    if fixed:                                  # travel terms of the segment, evaluated once at its start
        derivatives_with(t, y, dy, lv, P, C, m, k, aux, travel, work)
    else:
        derivatives_with(t, y, dy, lv, P, C, m, k, aux, travel_terms(lv, P, C, m), work)


#: the integrator's state at a segment edge besides the solution, as ``integrate_member`` records it:
#: (h_abs, h_full, j)
N_EDGE_STATE = 3


@jit
def integrate_member(y0, edges, LV0, LV1, out_times, P, C, m, k, rtol, atol, max_nfev, Yout, work,
                     s_start, edge_y, edge_h):
    """Integrate member ``m`` from ``y0`` over ``edges``; states at ``out_times`` into ``Yout`` (T, size).

    ``out_times`` sorted, within [edges[0], edges[-1]]; one at a breakpoint takes the state there. ``work``:
    the right-hand side's work arrays (``rhs.workspace``), reused by every evaluation.

    The integrator's state at the start of each segment s (before the outputs at edges[s]): the solution
    ``edge_y[s]`` and ``edge_h[s]`` = (the controller's proposed step, the last step not cut short, the next
    output index). With ``s_start`` = 0 it is recorded there (when ``edge_y`` has rows);
    with ``s_start`` > 0 the integration resumes from it at edges[s_start] instead of starting at edges[0]
    (``y0`` unused; ``Yout`` rows before that output index filled by the caller): what a member whose inputs
    equal another's up to that edge does with the other's record (``solve._integrate_compiled``), to the bit
    the same as integrating from the start.
    Returns (status, nfev, t at failure); nfev counts the evaluations made in this call.
    """
    # the records and the workspace, owned by the caller for the whole call, passed on without their owner: the
    # ~100 arrays handed to every evaluation then carry no atomic reference counts (``jit.unowned``)
    P, C, work = unowned((P, C, work))
    n = y0.shape[0]
    y = y0.copy()
    K = np.empty((7, n))
    y_new = np.empty(n)
    ys = np.empty(n)
    lv = np.empty(LV0.shape[1])
    aux = np.empty(0)
    nfev_total = 0
    h_abs = 0.0                                              # the controller's proposal for the next step
    h_full = 0.0                                             # the last step not cut short by a breakpoint
    j = 0                                                    # next output time
    if s_start > 0:
        y[:] = edge_y[s_start]
        h_abs, h_full, j = edge_h[s_start, 0], edge_h[s_start, 1], int(edge_h[s_start, 2])
    record = s_start == 0 and edge_y.shape[0] > 0
    for s in range(s_start, edges.shape[0] - 1):
        if record:
            edge_y[s] = y
            edge_h[s, 0], edge_h[s, 1], edge_h[s, 2] = h_abs, h_full, j
        a, b = edges[s], edges[s + 1]
        lv0, lv1 = LV0[s], LV1[s]
        fixed = _travel_fixed(lv1)
        travel = travel_terms(lv0, P, C, m)
        while j < out_times.shape[0] and out_times[j] <= a:
            Yout[j] = y
            j += 1
        t = a
        _rhs(t, y, K[0], a, lv0, lv1, lv, P, C, m, k, aux, travel, fixed, work)
        nfev = 1
        if not _finite(K[0]):
            return 1, nfev_total + nfev, t
        if s > 0:                                # the step size carries across the breakpoint
            h_abs = min(carried_step(h_full, h_abs), b - a)
        else:                                    # initial step (scipy common.select_initial_step, order 4)
            scale = atol + np.abs(y) * rtol
            d0, d1 = _rms(y / scale), _rms(K[0] / scale)
            h0 = 1e-6 if (d0 < 1e-5 or d1 < 1e-5) else 0.01 * d0 / d1
            h0 = min(h0, b - a)
            ys[:] = y + h0 * K[0]
            _rhs(t + h0, ys, K[1], a, lv0, lv1, lv, P, C, m, k, aux, travel, fixed, work)
            nfev += 1
            d2 = _rms((K[1] - K[0]) / scale) / h0
            if d1 <= 1e-15 and d2 <= 1e-15:
                h1 = max(1e-6, h0 * 1e-3)
            else:
                h1 = (0.01 / max(d1, d2)) ** (1.0 / 5.0)
            h_abs = min(100 * h0, h1, b - a)
        while t < b:
            min_step = 10 * abs(np.nextafter(t, np.inf) - t)
            if h_abs < min_step:
                return 3, nfev_total + nfev, t
            rejected = False
            left_domain = False                  # the last step tried gave non-finite values
            while True:
                if h_abs < min_step:
                    return (1 if left_domain else 3), nfev_total + nfev, t
                if nfev > max_nfev:
                    return 2, nfev_total + nfev, t
                h = h_abs
                t_new = t + h
                if t_new - b > 0:
                    t_new = b
                h = t_new - t
                h_abs = abs(h)
                for st in range(1, 6):               # stages without temporaries, one pass over the state each
                    _stage_state(st, y, h, K, ys)
                    _rhs(t + _C[st] * h, ys, K[st], a, lv0, lv1, lv, P, C, m, k, aux, travel, fixed, work)
                _stage_state(6, y, h, K, y_new)
                _rhs(t + h, y_new, K[6], a, lv0, lv1, lv, P, C, m, k, aux, travel, fixed, work)
                nfev += 6
                # a stage state outside the equations' domain (say a stock extrapolated below 0 into a log): the
                # step is too large; rejected as scipy's RK45 does with a NaN error norm (× MIN_FACTOR). Only
                # when no step size helps is it a failure (status 1 at the step size floor, or 2 at the budget).
                left_domain = not (_finite(K[6]) and _finite(y_new))
                error_norm = np.inf if left_domain else _error_norm(y, y_new, h, K, rtol, atol)
                if error_norm < 1:
                    if error_norm == 0:
                        factor = MAX_FACTOR
                    else:
                        factor = min(MAX_FACTOR, SAFETY * error_norm ** ERROR_EXPONENT)
                    if rejected:
                        factor = min(1.0, factor)
                    if t_new < b:                    # a step of the controller's size, not cut short
                        h_full = h
                    h_abs *= factor
                    break
                h_abs *= max(MIN_FACTOR, SAFETY * error_norm ** ERROR_EXPONENT)
                rejected = True
            # dense output at the output times inside (t, t_new]; the segment end exactly
            while j < out_times.shape[0] and out_times[j] <= t_new:
                if out_times[j] == t_new:
                    Yout[j] = y_new
                elif out_times[j] > t:
                    x = (out_times[j] - t) / h
                    for i in range(n):
                        acc = 0.0
                        xp = x
                        for r in range(4):
                            Q = 0.0
                            for q in range(7):
                                Q += K[q, i] * _P[q, r]
                            acc += Q * xp
                            xp *= x
                        Yout[j, i] = y[i] + h * acc
                j += 1
            t = t_new
            for i in range(n):
                y[i] = y_new[i]
                K[0, i] = K[6, i]
        nfev_total += nfev
    return 0, nfev_total, edges[-1]


#: ``run_member`` tasks
RATES, INTEGRATE = 0, 1


@jit
def run_member(task, y0, edges, LV0, LV1, out_times, LVout, P, C, m, k, rtol, atol, max_nfev, Yout, DYout, AUXout,
               s_start, edge_y, edge_h):
    """Member ``m``: with ``task`` = INTEGRATE, ``integrate_member`` into ``Yout`` (T, size) (recording the state at
    each edge into ``edge_y``, ``edge_h``, or resuming from it at edge ``s_start`` > 0), then d(state)/dt
    and the auxiliaries at the output times into ``DYout`` (R, size) and ``AUXout`` (R, n_aux, or (R, 0) for
    none) with the lever values ``LVout`` (T, n_lever_values); with ``task`` = RATES only the latter, for the
    states already in ``Yout``. R ≤ T: the rates at the first R output times only (R = 1 when the outputs need
    no auxiliaries: ``solve.integrate(auxiliaries=False)``). The travel terms are evaluated again only where the
    travel-time or integration levers change between output times. Returns ``integrate_member``'s (status,
    nfev, t at failure)."""
    P, C = unowned((P, C))                        # owned by the Python caller for the whole call
    work = workspace(C)                            # the right-hand side's work arrays, for every evaluation
    status, nfev, t_fail = 0, 0, edges[0]
    if task == INTEGRATE:
        status, nfev, t_fail = integrate_member(y0, edges, LV0, LV1, out_times, P, C, m, k, rtol, atol, max_nfev,
                                                Yout, work, s_start, edge_y, edge_h)
    if status == 0 and out_times.shape[0] and DYout.shape[0]:
        travel = travel_terms(LVout[0], P, C, m)
        for i in range(min(out_times.shape[0], DYout.shape[0])):
            if i and not _same_travel(LVout[i], LVout[i - 1]):
                travel = travel_terms(LVout[i], P, C, m)
            derivatives_with(out_times[i], Yout[i], DYout[i], LVout[i], P, C, m, k, AUXout[i], travel, work)
    return status, nfev, t_fail


@jit
def run_members(task, lo, hi, Y0, edges, own, LV0, LV1, out_times, LVout, P, C, k, rtol, ATOL, max_nfev, Yout,
                DYout, AUXout, source, start, slot, EDGE_Y, EDGE_H):
    """``run_member`` for the members lo, …, hi − 1 of a chunk, in one compiled call; arrays member-first:
    ``Y0``, ``ATOL`` (M, size), ``LV0``, ``LV1`` (M, segments, n_lever_values), ``LVout`` (M, T, ·), ``Yout``
    (M, T, size), ``DYout`` (M, R, size), ``AUXout`` (M, R, n_aux).

    Member m integrates over the chunk's ``edges`` where ``own[m]`` (M, segments) is true (its own
    breakpoints, ``solve.member_segments``). ``start[m]`` > 0: m resumes at that edge from the record of
    ``source[m]`` (``solve.shared_starts``; the source comes first in the chunk); ``slot[m]`` ≥ 0: m records
    its state at its edges into ``EDGE_Y[slot[m]]``, ``EDGE_H[slot[m]]`` (n_slots ≥ 1, rows ≥ each source's
    own segments, ·) for the members that resume from it. Stops at the first member that fails. Returns
    (status, nfev of the members run, t at failure), as ``run_member``."""
    n_seg = own.shape[1]
    nfev = 0
    for m in range(lo, hi):
        keep = np.flatnonzero(own[m])
        member_edges = np.empty(keep.shape[0] + 1)
        member_edges[:keep.shape[0]] = edges[keep]
        member_edges[keep.shape[0]] = edges[n_seg]
        record, rows = 0, 0                   # no rows: nothing recorded
        if start[m] > 0:                      # continue from the source member's state at that edge
            record, rows = slot[source[m]], EDGE_Y.shape[1]
            j = int(EDGE_H[record, start[m], 2])
            Yout[m, :j] = Yout[source[m], :j]
        elif slot[m] >= 0:                    # record the state at each edge for the members that resume from it
            record, rows = slot[m], EDGE_Y.shape[1]
        status, n, t_fail = run_member(task, Y0[m], member_edges, LV0[m][keep], LV1[m][keep], out_times, LVout[m],
                                       P, C, m, k, rtol, ATOL[m], max_nfev, Yout[m], DYout[m], AUXout[m],
                                       start[m], EDGE_Y[record, :rows], EDGE_H[record, :rows])
        nfev += n
        if status:
            return status, nfev, t_fail
    return 0, nfev, edges[n_seg]
