"""Coverage of the backtest forecast bands against the size of the migration discrepancy.

Fits calibration/backtest.yaml at every origin once (or reuses a backtest.json written by
`sim calibrate calibration/backtest.yaml --backtest …`), then re-evaluates each origin's forecast
ensemble for a grid of discrepancy sds (an unexplained pull per node, N(0, sd²) in utility units,
held over the run) and prints the coverage of the 90 % bands per quantity. The sd whose population
coverage is closest to 90 % is the one the uncertainty ensemble uses (sweeps/uncertainty.yaml,
`migration_discrepancy`). Run by hand (about 10 min of fits, then ~1 min per sd on a 2-core machine):

    python benchmarks/backtest_coverage.py [path/to/backtest.json] [--members 100]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from simulator.fitting import load_config
from simulator.fitting.backtest import evaluate_origin, fits_from_report, run_backtests, summary
from simulator.fitting.fit import Problem

ROOT = Path(__file__).resolve().parents[1]
ORIGINS = [2012, 2015, 2018, 2020, 2022]
GRID = [0.0, 0.05, 0.1, 0.15, 0.2, 0.3]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report", nargs="?", help="backtest.json to reuse (default: fit now)")
    ap.add_argument("--members", type=int, default=100)
    ap.add_argument("--grid", type=float, nargs="*", default=GRID)
    args = ap.parse_args(argv)
    cfg, scenario = load_config(ROOT / "calibration" / "backtest.yaml")
    t0 = time.perf_counter()
    if args.report:
        fits = fits_from_report(json.loads(Path(args.report).read_text(encoding="utf-8")))
    else:
        results = run_backtests(cfg, scenario, ORIGINS, members=args.members)
        fits = [(o.origin, o.fit) for o in results]
        out = ROOT / "outputs" / "calibration" / "backtest_coverage_fits.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"summary": summary(results)}, default=float), encoding="utf-8")
        print(f"fitted {len(fits)} origins in {time.perf_counter() - t0:.0f} s; fits saved to {out}")
    quantities = ["population_2024", "population_2020", "net_migration_2020_2024", "gdp_nominal_2024"]
    print("\n| discrepancy sd | " + " | ".join(quantities) + " | members/s |")
    print("|---|" + "---|" * (len(quantities) + 1))
    for sd in args.grid:
        t = time.perf_counter()
        evaluated = [evaluate_origin(Problem(cfg, scenario, until=origin), fit, args.members, cfg.seed + origin,
                                     discrepancy_sd=sd) for origin, fit in fits]
        rate = len(fits) * args.members / (time.perf_counter() - t)
        cov = summary(evaluated)["coverage"]
        cells = [f"{cov[q]['k']}/{cov[q]['n']} = {100 * cov[q]['share']:.0f} % "
                 f"[{100 * cov[q]['low']:.0f}, {100 * cov[q]['high']:.0f}]" if q in cov else "–" for q in quantities]
        print(f"| {sd:g} | " + " | ".join(cells) + f" | {rate:.0f} |")
        sys.stdout.flush()
    assert np.isfinite(rate)


if __name__ == "__main__":
    main()
