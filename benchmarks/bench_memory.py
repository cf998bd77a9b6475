"""Peak memory per ensemble member: the number behind ``runner.BYTES_PER_MEMBER``. Run by hand:

    python benchmarks/bench_memory.py [--members 50 200 400]

Each chunk size is integrated in a fresh child process (one chunk of sweeps/uncertainty.yaml, the
2024–2035 baseline); the child reports its peak resident memory (ru_maxrss) after the chunk and its
resident memory just before it. The slope of the peak over the member count is the per-member figure.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
from simulator.ensemble import load_sweep
from simulator.ensemble.runner import ChunkContext, run_chunk
from simulator.ensemble.sweep import design, template_dataset
m = int(sys.argv[2])
sweep = load_sweep(sys.argv[3]).with_overrides(samples=m)
_, X = design(sweep)
template = template_dataset(sweep.scenario, sweep.variables)
shapes = {v: template[v].shape[1:] for v in sweep.variables}
ctx = ChunkContext(sweep.scenario, sweep.factors, sweep.variables, sweep.max_rhs_evaluations)
run_chunk(ctx, 0, 0, X[:1], shapes)                      # warm: imports, caches
before = int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize()
res = run_chunk(ctx, 0, 0, X[:m], shapes)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"members": m, "before": before, "peak": peak, "seconds": res.seconds}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--members", type=int, nargs="+", default=[50, 200, 400])
    ap.add_argument("--sweep", default=str(ROOT / "sweeps" / "uncertainty.yaml"))
    args = ap.parse_args()
    rows = []
    print(f"{'members':>8} {'before MB':>10} {'peak MB':>9} {'chunk s':>8}")
    for m in args.members:
        out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(m), args.sweep], capture_output=True,
                             text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(r)
        print(f"{m:>8} {r['before'] / 1e6:10.0f} {r['peak'] / 1e6:9.0f} {r['seconds']:8.1f}", flush=True)
    if len(rows) >= 2:
        a, b = rows[0], rows[-1]
        slope = (b["peak"] - a["peak"]) / (b["members"] - a["members"])
        print(f"\npeak memory per member (slope {a['members']}→{b['members']} members): {slope / 1e3:.0f} kB")
        for r in rows:
            print(f"  {r['members']} members: (peak − before) / members = "
                  f"{(r['peak'] - r['before']) / r['members'] / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
