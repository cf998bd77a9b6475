"""Time one baseline run in-process and the whole `sim run` command. Run by hand:

    python benchmarks/bench_run.py [--repeat 20]

Prints median and best wall times; the in-process target for 2024–2035 is under 100 ms.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator import load_scenario, run  # noqa: E402
from simulator.solve import simulate  # noqa: E402


def timed(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    sc = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    plan = load_scenario(ROOT / "scenarios" / "plan.yaml")
    simulate(sc)   # warm caches (data files, imports)
    tr = simulate(sc)
    print(f"state size {tr.stats['state_size']}, RHS evaluations {tr.stats['nfev']}, segments {tr.stats['segments']}")
    med, best = timed(lambda: simulate(sc), args.repeat)
    print(f"simulate(baseline)           median {med * 1e3:7.1f} ms   best {best * 1e3:7.1f} ms")
    med, best = timed(lambda: run(sc), args.repeat)
    print(f"run(baseline) -> Dataset     median {med * 1e3:7.1f} ms   best {best * 1e3:7.1f} ms")
    trp = simulate(plan)
    med, best = timed(lambda: simulate(plan), args.repeat)
    print(f"simulate(plan) [{trp.stats['segments']} segments, {trp.stats['nfev']} RHS] "
          f"median {med * 1e3:7.1f} ms   best {best * 1e3:7.1f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "simulator.cli", "run", str(ROOT / "scenarios" / "baseline.yaml"), "-o", tmp, "--quiet"]
        med, best = timed(lambda: subprocess.run(cmd, check=True, cwd=ROOT), max(3, args.repeat // 4))
    print(f"`sim run baseline` (process) median {med:7.2f} s    best {best:7.2f} s")


if __name__ == "__main__":
    main()
