"""Time one evaluation of the compiled right-hand side (one member), in a compiled loop.

    PYTHONPATH=<checkout> python benchmarks/bench_rhs.py [--scenario scenarios/baseline.yaml] [--calls 20000]
                                                         [--repeat 7] [--year 2035]

Builds the inputs the way ``solve.integrate`` does, takes the state of a run at ``--year`` (a realistic
state, not the base year's), and times ``rhs.derivatives_with`` (travel terms and work arrays given, as
the compiled integrator calls it on a segment with constant travel times) and ``rhs.derivatives`` (travel
terms evaluated and work arrays allocated too) in a numba loop; prints ns per call, median [min–max] over
``--repeat`` repetitions. Run it in two checkouts side by side (``PYTHONPATH``) to compare versions.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numba
import numpy as np

from simulator import load_scenario
from simulator.model.initial import initialize
from simulator.model.inputs import MemberLevers, stack_parameters
from simulator.model.records import AUX_SIZE
from simulator.model.rhs import Model, derivatives, derivatives_with, travel_terms, workspace
from simulator.model.state import StateLayout
from simulator.solve import lever_table, simulate


@numba.njit
def _loop_with(n, t, y, dy, lv, P, C, k, aux):
    travel = travel_terms(lv, P, C, 0)
    work = workspace(C)
    s = 0.0
    for i in range(n):
        derivatives_with(t, y, dy, lv, P, C, 0, k, aux, travel, work)
        s += dy[0]
    return s


@numba.njit
def _loop(n, t, y, dy, lv, P, C, k, aux):
    s = 0.0
    for i in range(n):
        derivatives(t, y, dy, lv, P, C, 0, k, aux)
        s += dy[0]
    return s


def inputs(scenario_path: str, year: float):
    sc = load_scenario(scenario_path)
    p = stack_parameters([sc.parameters])
    levers = MemberLevers([sc.effective_levers()])
    layout = StateLayout(sc.age_substages)
    blocks, constants = initialize(p, 1, sc.age_substages, None, start_year=int(sc.run_start))
    model = Model(layout, p, constants, 1)
    traj = simulate(sc)
    i = int(np.argmin(np.abs(traj.times - year)))
    state = {name: np.moveaxis(traj.states[name][i], 0, -1) for name in layout.shapes}
    y = layout.pack(state, 1)
    lv = lever_table(levers, [float(traj.times[i])], ["right"], 1)[0, 0]
    return float(traj.times[i]), y, lv, model, layout.k


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default=str(Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"))
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--year", type=float, default=2035.0)
    a = ap.parse_args(argv)
    t, y, lv, model, k = inputs(a.scenario, a.year)
    dy = np.empty_like(y)
    aux = np.empty(0)
    for name, fn in (("derivatives_with", _loop_with), ("derivatives", _loop)):
        fn(10, t, y, dy, lv, model.P, model.C, k, aux)
        ns = []
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            fn(a.calls, t, y, dy, lv, model.P, model.C, k, aux)
            ns.append((time.perf_counter() - t0) / a.calls * 1e9)
        ns = np.array(ns)
        print(f"{name:18s} {np.median(ns):8.0f} ns/call  [{ns.min():.0f}–{ns.max():.0f}]  "
              f"(k={k}, size={y.size}, t={t:g})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
