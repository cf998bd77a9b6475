"""Portfolio search throughput: candidates × futures member rows per second, and the wall time of a
search. Run by hand:

    python benchmarks/bench_optimize.py [--rows 20x25 50x50] [--jobs 1 2] [--search 100x100x5] [--repeat 2]

Uses sweeps/portfolio.yaml (9 decision variables; the 22 uncertain factors of sweeps/uncertainty.yaml;
baseline 2020 history → 2030). ``--rows CxF`` integrates C random candidates × F futures once per job
count (``evaluate_rows``: what one generation costs) and prints runs/s; ``--search PxFxG`` runs a whole
search (P candidates, F futures, G generations) in memory and prints its wall time. The projection of the
issue's search (100 × 100 × 50 = 500,000 member runs) from the measured rate is printed as an estimate.
The machine may be shared: run twice and report the range.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator.optimize import load_portfolio, run_portfolio  # noqa: E402
from simulator.optimize.evaluate import repair  # noqa: E402
from simulator.optimize.search import _futures_design, evaluate_rows  # noqa: E402

FULL = 100 * 100 * 50


def _dims(text: str, n: int) -> list[int]:
    parts = [int(x) for x in text.lower().split("x")]
    if len(parts) != n:
        raise SystemExit(f"expected {n} numbers separated by x, got {text!r}")
    return parts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--portfolio", default=str(ROOT / "sweeps" / "portfolio.yaml"))
    ap.add_argument("--rows", nargs="*", default=["20x25"], help="CxF: candidates x futures per evaluation")
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--chunk-size", type=int, default=None)
    ap.add_argument("--search", default=None, help="PxFxG: also run a search of this size (jobs = max --jobs)")
    args = ap.parse_args()
    base = load_portfolio(args.portfolio)
    lo = np.array([d.lower for d in base.decisions])
    hi = np.array([d.upper for d in base.decisions])
    rates = []
    print(f"{'candidates':>10} {'futures':>7} {'rows':>6} {'jobs':>4} {'wall s':>8} {'runs/s':>8} {'failed':>6}")
    evaluate_rows(base.with_overrides(samples=1), repair(base, lo[None, :]), *_futures_design(
        base.with_overrides(samples=1)))                                   # warm imports and caches
    for spec in args.rows:
        C, F = _dims(spec, 2)
        pf = base.with_overrides(samples=F)
        factors, Xf = _futures_design(pf)
        D = repair(pf, lo + np.random.default_rng(0).random((C, len(lo))) * (hi - lo))
        for j in args.jobs:
            for _ in range(args.repeat):
                t = time.perf_counter()
                data, failed, _ = evaluate_rows(pf, D, factors, Xf, jobs=j, chunk_size=args.chunk_size)
                wall = time.perf_counter() - t
                rate = C * F / wall
                rates.append((j, rate))
                print(f"{C:>10} {F:>7} {C * F:>6} {j:>4} {wall:>8.1f} {rate:>8.1f} {int(failed.sum()):>6}")
    for j in sorted({j for j, _ in rates}):
        rs = [r for jj, r in rates if jj == j]
        lo_r, hi_r = min(rs), max(rs)
        print(f"estimate, -j {j}: {lo_r:.0f}–{hi_r:.0f} runs/s → a {FULL:,}-run search (100 × 100 × 50) would take "
              f"{FULL / hi_r / 60:.0f}–{FULL / lo_r / 60:.0f} min (evaluation only; not measured)")
    if args.search:
        P, F, G = _dims(args.search, 3)
        pf = base.with_overrides(population=P, samples=F, generations=G)
        j = max(args.jobs)
        t = time.perf_counter()
        res = run_portfolio(pf, jobs=j, chunk_size=args.chunk_size, progress=True)
        wall = time.perf_counter() - t
        print(f"search {P} × {F} × {G} with -j {j}: {res.runs:,} member runs in {wall:.0f} s "
              f"({res.runs / wall:.0f} runs/s), {len(res.archive['D'])} candidates, front {len(res.front)}, "
              f"{res.failures} failed runs")
        for key, v in res.named.items():
            print(f"  {key}: {v['description']}")


if __name__ == "__main__":
    main()
