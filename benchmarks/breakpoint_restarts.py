"""What carrying RK45's step size across lever breakpoints saves, against restarting the step control at each.

    python benchmarks/breakpoint_restarts.py [SCENARIO ...]      (default: every scenario in scenarios/)

The package carries the step size across a breakpoint (``dopri.carried_step``: the first step of a segment is
the last step not cut short to end on a breakpoint). The alternative, what ``solve_ivp`` called segment by
segment does and what the package did before, restarts the step control at every breakpoint: a fresh
initial-step selection (one extra evaluation) and a first step of a few hundredths of a year that takes two or
three steps to grow back. This script integrates each scenario both ways at the scenario's tolerances:
"restart" with ``solve_ivp`` per segment (a stand-in for ``solve._integrate_scipy`` without ``first_step``),
"carry" with the package's compiled engine; the last two columns are the package's scipy engine, which carries
the same way but also stops at the breakpoints where none of the member's levers changes (the compiled engine
skips those: ``solve.member_segments``), so it can take a few more evaluations. It prints the right-hand-side evaluations and the scaled max error against a DOP853 reference
at rtol = atol = 1e-10 (as ``bench_core.py``: per state block, max |y − y_ref| / max |y_ref|, the worst block).

The stand-in replaces the private ``solve._integrate_scipy`` for the restart runs: a diagnostic, not part of
the package.
"""
from __future__ import annotations

import argparse
import inspect
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def scaled_error(states: dict, ref: dict) -> float:
    """Worst block's max |y − y_ref| / max |y_ref| (``bench_core.scaled_error``)."""
    worst = 0.0
    for name, r in ref.items():
        scale = float(np.max(np.abs(r))) or 1.0
        worst = max(worst, float(np.max(np.abs(states[name] - r))) / scale)
    return worst


def restarting():
    """A stand-in for ``solve._integrate_scipy`` (same signature and result) that restarts scipy's step control
    at every breakpoint (``solve_ivp`` without ``first_step`` on each segment)."""
    from scipy.integrate import solve_ivp
    from simulator.model.inputs import LeverSegment

    def integrate_segments(first, model, levers, edges, out_times, y, atol):
        saved, nfev = {}, 0
        for a, b in zip(edges[:-1], edges[1:]):
            seg = LeverSegment(levers, a, b)
            wanted = out_times[(out_times >= a) & (out_times <= b)]
            sol = solve_ivp(lambda t, yy: model.derivatives(t, yy, seg.at(t)), (a, b), y, method="RK45",
                            rtol=first.solver.rtol, atol=atol, t_eval=np.union1d(wanted, [b]))
            if sol.status < 0:
                raise RuntimeError(f"segment [{a:g}, {b:g}]: {sol.message}")
            nfev += sol.nfev
            for tt, yy in zip(sol.t, sol.y.T):
                if np.any(wanted == tt):
                    saved.setdefault(float(tt), yy.copy())
            y = sol.y[:, -1].copy()
        return np.stack([saved[float(t)] for t in out_times]), nfev
    return integrate_segments


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenarios", nargs="*")
    a = ap.parse_args(argv)
    paths = a.scenarios or sorted(str(p) for p in (ROOT / "scenarios").glob("*.yaml"))

    import simulator.solve as solve
    from simulator import load_scenario

    original = solve._integrate_scipy
    assert list(inspect.signature(original).parameters) == ["first", "model", "levers", "edges", "out_times", "y",
                                                            "atol"], "solve._integrate_scipy changed: update this"
    print(f"{'scenario':24s} {'segments':>8s} {'nfev restart':>12s} {'nfev carry':>10s} {'saved':>6s} "
          f"{'error restart':>13s} {'error carry':>11s} {'nfev scipy':>11s} {'error scipy':>11s}")
    try:
        for path in paths:
            sc = load_scenario(path)
            solve._integrate_scipy = original
            ref = solve.simulate(replace(sc, solver=replace(sc.solver, method="DOP853", rtol=1e-10, atol=1e-10)),
                                 auxiliaries=False)
            rk45 = replace(sc, solver=replace(sc.solver, method="RK45"))
            args = ([rk45], solve.stack_parameters([rk45.parameters]), solve.MemberLevers([rk45.effective_levers()]))
            row = {}
            for carry in (False, True):
                solve._integrate_scipy = original if carry else restarting()
                tr = solve.integrate(*args, engine="compiled" if carry else "scipy", auxiliaries=False)
                row[carry] = (tr.stats["nfev"], scaled_error(tr.states, ref.states), tr.stats["segments"])
            scipy_carry = solve.integrate(*args, engine="scipy", auxiliaries=False)
            (n0, e0, segs), (n1, e1, _) = row[False], row[True]
            print(f"{sc.name:24s} {segs:8d} {n0:12d} {n1:10d} {1 - n1 / n0:6.0%} {e0:13.2e} {e1:11.2e} "
                  f"{scipy_carry.stats['nfev']:11d} {scaled_error(scipy_carry.states, ref.states):11.2e}")
    finally:
        solve._integrate_scipy = original
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
