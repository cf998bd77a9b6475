"""CPU per member-run of a sweep, for several checkouts side by side, alternating. Run by hand:

    python benchmarks/sweep_member_ab.py DIR [DIR ...] [--sweep sweeps/uncertainty.yaml] [--members 1000]
                                         [--chunk 500] [--rounds 3] [--repeat 3]

Each DIR is a checkout (e.g. one made with ``git worktree add ../numpy-core 59428c5``; the current one is the
directory above this file). In every round each checkout runs, in a fresh process and in turn, ``run_sweep``
of ``--sweep`` (this checkout's file, with ``--members`` samples, chunks of ``--chunk``, nothing written)
``--repeat`` times after a small warm-up sweep (compiles or loads the compiled core), and reports the least
CPU time per member. Alternating rounds make the ratios robust to a shared machine's load; the script prints
each round and the range of every checkout's ratio to the first DIR. Ratios, not absolute times, are what
carry over to another machine.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WORKER = """
import json, sys, time
from simulator.ensemble import load_sweep, run_sweep
sweep = load_sweep(sys.argv[1]).with_overrides(samples=int(sys.argv[2]))
run_sweep(sweep.with_overrides(samples=20), write=False)
best = min(
    (lambda t: (run_sweep(sweep, write=False, chunk_size=int(sys.argv[3])), time.process_time() - t)[1])(time.process_time())
    for _ in range(int(sys.argv[4])))
print(json.dumps({"ms_per_member": best / int(sys.argv[2]) * 1e3}))
"""


def member_ms(checkout: Path, args) -> float:
    env = dict(os.environ, PYTHONPATH=str(checkout), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", WORKER, str(Path(args.sweep).resolve()), str(args.members),
                           str(args.chunk), str(args.repeat)], env=env, cwd=checkout, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{checkout}: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])["ms_per_member"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkouts", nargs="+", type=Path)
    ap.add_argument("--sweep", default=str(ROOT / "sweeps" / "uncertainty.yaml"))
    ap.add_argument("--members", type=int, default=1000)
    ap.add_argument("--chunk", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    results = {str(c): [] for c in args.checkouts}
    for r in range(args.rounds):
        row = []
        for c in args.checkouts:
            ms = member_ms(c, args)
            results[str(c)].append(ms)
            row.append(f"{c.name or c}: {ms:.2f} ms")
        print(f"round {r + 1}: " + ", ".join(row), flush=True)
    first = results[str(args.checkouts[0])]
    for c in args.checkouts[1:]:
        ratios = [a / b for a, b in zip(first, results[str(c)])]
        own = results[str(c)]
        print(f"{c}: {min(own):.2f}–{max(own):.2f} ms per member-run; {args.checkouts[0].name} / this: "
              f"{min(ratios):.2f}–{max(ratios):.2f}× (per round)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
