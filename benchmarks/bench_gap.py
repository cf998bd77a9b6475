"""Wall time of `sim gap` as a user runs it (fresh process each time, in a scratch directory), with and
without the requirement backcasts. Run by hand on the machine whose figures you want to quote:

    python benchmarks/bench_gap.py [--repeat 2]

Prints, per command, the minimum and maximum wall time over the repeats and the load average; docs/gap.md
and `sim gap --help` quote these as ranges.
"""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from bench_cli import ROOT, timed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    commands = [("sim gap scenarios/baseline.yaml --no-requirements",
                 ["gap", "scenarios/baseline.yaml", "--no-requirements"]),
                ("sim gap scenarios/baseline.yaml", ["gap", "scenarios/baseline.yaml"])]
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f} at start; {args.repeat} repeats")
    for label, argv in commands:
        times = []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                for d in ("scenarios", "calibration"):
                    os.symlink(ROOT / d, Path(tmp) / d)
                times.append(timed(argv, Path(tmp)))
        print(f"{label:60} {min(times):7.1f}–{max(times):.1f} s", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
