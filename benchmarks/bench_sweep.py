"""Ensemble throughput: vectorized chunked sweeps vs calling run() in a loop. Run by hand:

    python benchmarks/bench_sweep.py [--jobs 1 2] [--sizes 1 100 1000 10000] [--large] [--loop 20]

Uses sweeps/uncertainty.yaml (Latin hypercube over 17 factors, baseline 2024–2035) with the sample size
overridden. Prints wall time and runs/s per member count and job count (including writing the chunk
files and ensemble.nc), the run() loop time per member on a subsample, the speed-up, and the largest
relative difference between the vectorized results and the loop (should be within solver tolerance).
``--large`` adds 100,000 members. Target on a 2-core machine: 10,000 members in < 20 s with -j 2.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator import run  # noqa: E402
from simulator.ensemble import load_sweep, run_sweep  # noqa: E402
from simulator.ensemble.members import member_scenario  # noqa: E402

VARS = ("metro_population", "metro_gdp_nominal", "population", "gdp_nominal", "urbanization_rate")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sweep", default=str(ROOT / "sweeps" / "uncertainty.yaml"))
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 100, 1000, 10000])
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--chunk-size", type=int, default=None)
    ap.add_argument("--large", action="store_true", help="also 100,000 members")
    ap.add_argument("--loop", type=int, default=20, help="members run one by one with run() for comparison")
    args = ap.parse_args()
    sizes = args.sizes + ([100_000] if args.large else [])
    base = load_sweep(args.sweep)
    run(base.scenario)                                            # warm imports and data caches
    last = None
    print(f"{'members':>8} {'jobs':>4} {'chunk':>6} {'wall s':>8} {'runs/s':>9} {'ms/member':>10} {'failed':>6}")
    for n in sizes:
        for j in args.jobs:
            sweep = base.with_overrides(samples=n)
            with tempfile.TemporaryDirectory() as tmp:
                t = time.perf_counter()
                res = run_sweep(sweep, Path(tmp), jobs=j, chunk_size=args.chunk_size)
                wall = time.perf_counter() - t
            print(f"{n:>8} {j:>4} {res.chunk_size:>6} {wall:8.2f} {n / wall:9.1f} {wall / n * 1e3:10.2f} "
                  f"{res.failures:>6}", flush=True)
            last = res
    ds = last.dataset
    X = np.stack([ds[f].values for f in base.factor_ids], axis=1)
    idx = np.linspace(0, X.shape[0] - 1, min(args.loop, X.shape[0])).astype(int)
    t = time.perf_counter()
    singles = [run(member_scenario(base.scenario, base.factors, X[i])) for i in idx]
    per = (time.perf_counter() - t) / len(idx)
    worst = 0.0
    for i, one in zip(idx, singles):
        for v in VARS:
            a, b = ds[v].isel(run=i).values, one[v].values
            worst = max(worst, float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-30))))
    best = min(wall / n for n in [sizes[-1]] for wall in [X.shape[0] / last.runs_per_second])
    print(f"\nrun() loop: {per * 1e3:.1f} ms/member over {len(idx)} members; "
          f"vectorized (last row): {best * 1e3:.2f} ms/member → speed-up {per / best:.0f}×")
    print(f"max relative difference vectorized vs loop over {', '.join(VARS)}: {worst:.2e}")


if __name__ == "__main__":
    main()
