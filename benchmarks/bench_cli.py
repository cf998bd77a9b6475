"""Wall time of `sim` commands as a user runs them (fresh process each time, in a scratch directory).
Run by hand on the machine whose figures you want to quote:

    python benchmarks/bench_cli.py [--repeat 3] [--sweep-runs 1000] [--jobs 1 2]

Prints, per command, the minimum and maximum wall time over the repeats; the README's Timings table
quotes these as ranges. Each repeat runs in a new scratch directory, so nothing is resumed or reused.
The sweep is sweeps/uncertainty.yaml with -n overridden (LHS, 17 factors, 2024–2035).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(argv: list[str], cwd: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "simulator.cli", *argv, "-q"], cwd=cwd, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sweep-runs", type=int, default=1000)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--sobol-n", type=int, default=64, help="Sobol base sample (runs = n × 19)")
    args = ap.parse_args()
    commands = [("sim run scenarios/baseline.yaml", ["run", "scenarios/baseline.yaml"])]
    for j in args.jobs:
        commands.append((f"sim sweep sweeps/uncertainty.yaml -n {args.sweep_runs} -j {j}",
                         ["sweep", "sweeps/uncertainty.yaml", "-n", str(args.sweep_runs), "-j", str(j)]))
    commands.append((f"sim sensitivity sweeps/sobol.yaml -n {args.sobol_n} -j 2 ({args.sobol_n * 19} runs)",
                     ["sensitivity", "sweeps/sobol.yaml", "-n", str(args.sobol_n), "-j", "2"]))
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f} at start; {args.repeat} repeats")
    for label, argv in commands:
        times = []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                for d in ("scenarios", "sweeps", "calibration"):
                    os.symlink(ROOT / d, Path(tmp) / d)
                times.append(timed(argv, Path(tmp)))
        print(f"{label:60} {min(times):7.1f}–{max(times):.1f} s", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
