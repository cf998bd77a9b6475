"""Time PySD running the exported model against our ``run()``. Run by hand:

    python benchmarks/bench_export.py [--dt 0.03125] [--pysd-runs 3] [--members 1000]

One run: PySD (load = translate + import, and run) vs ``simulator.run`` on the baseline.
Ensemble of ``--members``: ours vectorized in one integration (``simulate`` with M members) vs
PySD looped; PySD's loop time is measured over ``--pysd-runs`` runs of the loaded model (one load,
``reload`` between runs) and extrapolated linearly to ``--members`` (it has no vectorization).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator import load_scenario, run  # noqa: E402
from simulator.export import export_text  # noqa: E402
from simulator.solve import simulate  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dt", type=float, default=1 / 32)
    ap.add_argument("--pysd-runs", type=int, default=3)
    ap.add_argument("--members", type=int, default=1000)
    ap.add_argument("--format", choices=["mdl", "xmile"], default="mdl")
    args = ap.parse_args()
    import pysd

    sc = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    run(sc)                                     # warm caches
    ours = []
    for _ in range(5):
        t = time.perf_counter()
        run(sc)
        ours.append(time.perf_counter() - t)
    ours_one = statistics.median(ours)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"baseline.{args.format}"
        path.write_text(export_text(sc, args.format, dt=args.dt), encoding="utf-8")
        t = time.perf_counter()
        model = pysd.read_vensim(str(path)) if args.format == "mdl" else pysd.read_xmile(str(path))
        load = time.perf_counter() - t
        runs = []
        for _ in range(args.pysd_runs):
            model.reload()
            t = time.perf_counter()
            model.run(return_columns=["metro_population", "metro_cum_gdp_nominal"],
                      return_timestamps=list(sc.output_times))
            runs.append(time.perf_counter() - t)
    pysd_one = statistics.median(runs)

    t = time.perf_counter()
    simulate([sc] * args.members)
    ours_ens = time.perf_counter() - t
    pysd_ens = pysd_one * args.members

    print(f"format {args.format}, PySD fixed step dt = {args.dt:g} yr (Euler); ours RK45 adaptive")
    print(f"one run:   ours run() {ours_one * 1e3:8.1f} ms | PySD run {pysd_one:7.2f} s (+ load {load:.2f} s)"
          f" | ratio PySD/ours {pysd_one / ours_one:8.0f}x (with load {(pysd_one + load) / ours_one:.0f}x)")
    print(f"{args.members} members: ours vectorized {ours_ens:7.2f} s | PySD looped ≈ {pysd_ens:9.0f} s "
          f"(extrapolated from {args.pysd_runs} runs) | ratio {pysd_ens / ours_ens:8.0f}x")


if __name__ == "__main__":
    main()
