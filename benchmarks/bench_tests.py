"""Wall time of the whole test suite (what CI runs). Run by hand:

    python benchmarks/bench_tests.py [pytest arguments, default: -q -x]

Prints the pytest summary and the wall time; the README's Timings table quotes it.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    args = sys.argv[1:] or ["-q", "-x"]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f} at start", flush=True)
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", *args], cwd=ROOT, env=env)
    wall = time.perf_counter() - t
    print(f"test suite: {wall / 60:.1f} min wall ({wall:.0f} s), exit code {proc.returncode}; "
          f"load average {os.getloadavg()[0]:.2f} at the end")
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
