"""Which state blocks set RK45's step size: each accepted or rejected step's share of the error norm by block.

    python benchmarks/error_drivers.py [--scenario scenarios/baseline.yaml] [--by-age]

Integrates the scenario with the scipy engine (the same method, norm and step control as the compiled
integrator, ``dopri.py``) and records, at every step scipy's RK45 tries, the scaled error estimate
e = h·Σ_q E_q·K_q / (atol + max(|y|, |y_new|)·rtol) that its controller compares with 1 (by wrapping
``RungeKutta._estimate_error_norm``, a private scipy method: a diagnostic, not part of the package). Prints
t, h, the RMS norm and the block with the largest share of Σe², then each block's share averaged over the
steps. ``--by-age`` also splits the population block's share by node and 5-year age group.

Why it matters (#15): the number of right-hand-side evaluations per run is set by these blocks' accuracy, not by
stability, so they bound how few evaluations an explicit method at the same tolerance can make.
"""
from __future__ import annotations

import argparse
import collections
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.yaml"))
    ap.add_argument("--by-age", action="store_true")
    a = ap.parse_args(argv)

    from scipy.integrate._ivp import rk

    from simulator import load_scenario
    from simulator.model.base_data import AGE_GROUPS
    from simulator.model.inputs import MemberLevers, stack_parameters
    from simulator.model.nodes import NODES
    from simulator.model.state import StateLayout
    from simulator.solve import integrate

    sc = load_scenario(a.scenario)
    layout = StateLayout(sc.age_substages)
    steps = []
    original = rk.RungeKutta._estimate_error_norm

    def recording(self, K, h, scale):
        e = np.dot(K.T, self.E) * h / scale
        total = float(np.sum(e * e)) or 1.0
        shares = {name: float(np.sum(e[sl] ** 2)) / total for name, sl in layout.slices.items()}
        pop = (e[layout.slices["population"]] ** 2).reshape(len(NODES), len(AGE_GROUPS), -1).sum(-1) / total
        steps.append((self.t, h, float(np.sqrt(np.mean(e * e))), shares, pop))
        return original(self, K, h, scale)

    rk.RungeKutta._estimate_error_norm = recording
    try:
        traj = integrate([sc], stack_parameters([sc.parameters]), MemberLevers([sc.effective_levers()]),
                         engine="scipy")
    finally:
        rk.RungeKutta._estimate_error_norm = original
    print(f"{sc.name}: {traj.stats['nfev']} RHS evaluations, {len(steps)} steps tried, "
          f"{traj.stats['segments']} segments (breakpoints {traj.stats['breakpoints']})")
    print(f"{'t':>9} {'h':>6} {'norm':>5}  largest share of the error")
    for t, h, norm, shares, _ in steps:
        top = max(shares, key=shares.get)
        print(f"{t:9.3f} {h:6.3f} {norm:5.2f}  {top} {shares[top]:.2f}")
    mean = collections.Counter()
    for *_, shares, _ in steps:
        mean.update({k: v / len(steps) for k, v in shares.items()})
    print("share of the error norm averaged over the steps:")
    for name, share in mean.most_common(6):
        print(f"  {name:28s} {share:.3f}")
    if a.by_age:
        pop = np.mean([p for *_, p in steps], axis=0)
        print("population block, mean share by node:", {n: round(float(v), 3) for n, v in zip(NODES, pop.sum(1))})
        print("population block, mean share by age group:",
              {g: round(float(v), 3) for g, v in zip(AGE_GROUPS, pop.sum(0)) if v > 0.02})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
