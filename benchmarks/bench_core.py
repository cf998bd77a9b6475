"""The compiled model core (#15) against the code before it, side by side. Run by hand:

    python benchmarks/bench_core.py [--old REV] [--rounds 3] [--repeat 5] [--members 200] [--pysd]

The old code is ``git archive REV`` (default 59428c5, the last commit with the numpy right-hand side and
scipy's ``solve_ivp``, before #15) unpacked in a temporary directory; each measurement runs in a fresh worker process per
code base, old and new alternating (A B A B …), so a drift of the shared machine's speed hits both.
Figures are CPU seconds of the worker (``time.process_time``), medians over ``--repeat`` inside a worker,
ratios old/new per round, printed as median [min–max] over ``--rounds``:

* single: ``run(baseline)`` → Dataset (after one warm-up run in the same process);
* sweep: a member-run inside one chunk of ``--members`` members of ``sweeps/uncertainty.yaml``
  (``run_sweep`` with -j 1, one chunk, files written), per member;
* sweep_large: the same for a 1,000-member sweep in the default chunks (500 members), where the costs paid once
  per sweep (a template run, the ensemble file) weigh less, as in a real 10,000-member sweep;
* sweep_levers: the same for 1,000 members of ``sweeps/levers.yaml`` (policy levers on the fitted parameters,
  from 2024/2025): its members share the 2020–2024 history, which the new code integrates once per chunk
  (``solve.shared_starts``), the old code once per member;
* calibration: one Jacobian batch of ``sim calibrate calibration/baseline.yaml`` (the fitted free vector
  and one forward step per free parameter, ``Problem.residuals``: scenarios built, integrated together,
  observations read), per model-run;
* accuracy: the scaled max error of the baseline at its own tolerance (rtol 1e-6) against a reference
  integration with rtol = atol = 1e-10 (DOP853 through ``solve_ivp``, computed by the new code): per state
  block max|x − ref| / max|ref|, the largest over blocks;
* fresh: a whole ``python -m simulator.cli run scenarios/baseline.yaml`` process (wall and CPU seconds of
  the child), old and new alternating, after one unmeasured run of each (the compile cache is then warm:
  the first run after an install or a model edit compiles for 2–3 min, reported separately);
* floor: RHS evaluations per member-run × 5–12 µs per member-evaluation (the estimate of #15: 30–45k
  flop-equivalents and ~700 exp/log/pow per evaluation), and a measured lower bound (new code only,
  ``--worker floor``): per evaluation, the transcendental calls of one right-hand side
  (``TRANSCENDENTALS_PER_EVALUATION``) × their cost measured in a compiled loop, plus the integrator's own
  passes over the state (the stage states, error norm and finiteness checks of one step, ÷ 6), times the RHS
  evaluations per member of a 40-member ``sweeps/uncertainty.yaml`` chunk. It leaves out the right-hand side's
  other arithmetic, so it is a bound the compiled code cannot reach, not a target; the same worker times the
  compiled evaluation in the integrator and ``derivatives_with`` alone, to show where the rest goes;
* ``--pysd``: one PySD run of the exported model (translate excluded), for scale.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOOR_US = (5.0, 12.0)
#: libm calls per right-hand-side evaluation (``derivatives_with``, baseline state of 2030), counted with
#: uprobes on this commit's model: ``perf probe -x /lib/x86_64-linux-gnu/libm.so.6 --add __ieee754_exp_fma``
#: (likewise ``__ieee754_log_fma``, ``__log1p_fma``, ``__tanh``, ``__pow``) and ``perf stat -e 'probe_libm:*'``
#: around 100,000 evaluations in a compiled loop (``pow``: 0 calls; powers are written as exp/log). Recount after
#: a change of the equations.
TRANSCENDENTALS_PER_EVALUATION = {"exp": 190, "log": 144, "log1p": 32, "tanh": 9}


def _median(xs):
    return statistics.median(xs)


# --- worker -------------------------------------------------------------------------------------
def worker(task: str, repeat: int, members: int, out: str | None) -> dict:
    import numpy as np
    from simulator import load_scenario, run
    from simulator.solve import simulate
    sc = load_scenario(ROOT_W / "scenarios" / "baseline.yaml")
    if task == "single":
        run(sc)
        times = []
        for _ in range(repeat):
            t = time.process_time()
            run(sc)
            times.append(time.process_time() - t)
        tr = simulate(sc)
        return {"seconds": _median(times), "nfev": tr.stats["nfev"]}
    if task == "sweep":
        from simulator.ensemble import load_sweep, run_sweep
        base = load_sweep(ROOT_W / "sweeps" / "uncertainty.yaml")
        with tempfile.TemporaryDirectory() as tmp:
            run_sweep(base.with_overrides(samples=4), Path(tmp) / "warm", jobs=1, chunk_size=4)
            times = []
            for r in range(max(1, repeat // 2)):
                t = time.process_time()
                res = run_sweep(base.with_overrides(samples=members), Path(tmp) / f"s{r}", jobs=1,
                                chunk_size=members)
                times.append((time.process_time() - t) / members)
        return {"seconds": _median(times), "failed": int(res.failures)}
    if task in ("sweep_large", "sweep_levers"):
        from simulator.ensemble import load_sweep, run_sweep
        base = load_sweep(ROOT_W / "sweeps" / ("uncertainty.yaml" if task == "sweep_large" else "levers.yaml"))
        with tempfile.TemporaryDirectory() as tmp:
            run_sweep(base.with_overrides(samples=4), Path(tmp) / "warm", jobs=1, chunk_size=4)
            t = time.process_time()
            res = run_sweep(base.with_overrides(samples=1000), Path(tmp) / "s", jobs=1)   # default chunks (500)
            return {"seconds": (time.process_time() - t) / 1000, "failed": int(res.failures)}
    if task == "calibration":
        from simulator.fitting import load_config
        from simulator.fitting.fit import Problem
        cfg, scenario = load_config(ROOT_W / "calibration" / "baseline.yaml")
        problem = Problem(cfg, scenario)
        theta0 = np.array([f.prior[0] for f in problem.free], dtype=float)
        theta0 = np.clip(theta0, problem.lo, problem.hi)
        n = len(theta0)
        steps = np.vstack([theta0] + [theta0 + 1e-4 * np.eye(n)[j] * (problem.hi - problem.lo) for j in range(n)])
        active = np.ones(n, dtype=bool)
        problem.residuals(steps[:2], problem.fit_observations, active, problem.prior_mean)      # warm-up
        times = []
        for _ in range(max(1, repeat // 2)):
            t = time.process_time()
            problem.residuals(steps, problem.fit_observations, active, problem.prior_mean)
            times.append((time.process_time() - t) / len(steps))
        return {"seconds": _median(times), "runs": len(steps)}
    if task == "floor":
        return floor(repeat)
    if task == "accuracy":
        tr = simulate(sc)
        np.savez(out, **{k: v for k, v in tr.states.items()})
        return {"nfev": tr.stats["nfev"]}
    if task == "reference":
        from dataclasses import replace
        ref = replace(sc, solver=replace(sc.solver, method="DOP853", rtol=1e-10, atol=1e-10))
        tr = simulate(ref)
        np.savez(out, **{k: v for k, v in tr.states.items()})
        return {"nfev": tr.stats["nfev"]}
    if task == "pysd":
        import pysd
        from simulator.export import export_text
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.xmile"
            path.write_text(export_text(sc, "xmile"))
            model = pysd.read_xmile(str(path))
            t = time.process_time()
            model.run(return_columns=["metro_population", "metro_cum_gdp_nominal"])
            return {"seconds": time.process_time() - t}
    raise ValueError(task)


def floor(repeat: int) -> dict:
    """The measured lower bound of a member-run (module docstring, ``floor``); seconds."""
    import numba
    import numpy as np
    import simulator.dopri as dopri
    from simulator.ensemble import load_sweep, run_sweep
    from simulator.model.rhs import derivatives_with, travel_terms, workspace

    @numba.njit
    def libm_loop(which, x, rounds):
        s = 0.0
        for _ in range(rounds):
            for v in x:
                s += np.exp(v) if which == 0 else np.log(v) if which == 1 else np.log1p(v) if which == 2 else np.tanh(v)
        return s

    @numba.njit
    def add_loop(x, rounds):                      # the loop and the sum alone, subtracted from libm_loop
        s = 0.0
        for _ in range(rounds):
            for v in x:
                s += v
        return s

    @numba.njit
    def step_passes(y, K, atol, rounds):          # one RK45 step's own passes over the state
        ys, y_new = np.empty_like(y), np.empty_like(y)
        e = 0.0
        for _ in range(rounds):
            for st in range(1, 6):
                dopri._stage_state(st, y, 0.01, K, ys)
            dopri._stage_state(6, y, 0.01, K, y_new)
            e += dopri._error_norm(y, y_new, 0.01, K, 1e-6, atol)
            e += dopri._finite(K[6]) + dopri._finite(y_new)
        return e

    @numba.njit
    def rhs_loop(t, y, lv, P, C, m, k, rounds):
        dy, aux, work = np.empty_like(y), np.empty(0), workspace(C)
        travel = travel_terms(lv, P, C, m)
        for _ in range(rounds):
            derivatives_with(t, y, dy, lv, P, C, m, k, aux, travel, work)
        return dy[0]

    def best(fn, *a):
        fn(*a[:-1], 1)
        times = []
        for _ in range(max(3, repeat)):
            t = time.perf_counter()
            fn(*a)
            times.append(time.perf_counter() - t)
        return min(times)                          # a floor: the least disturbed repetition

    rng = np.random.default_rng(0)
    args = {"exp": rng.uniform(-5, 5, 4096), "log": rng.uniform(0.05, 20, 4096), "log1p": rng.uniform(0, 5, 4096),
            "tanh": rng.uniform(-3, 3, 4096)}
    rounds = 200
    empty = best(add_loop, args["exp"], rounds) / (rounds * 4096)
    per_call = {f: max(best(libm_loop, i, args[f], rounds) / (rounds * 4096) - empty, 0.0)
                for i, f in enumerate(("exp", "log", "log1p", "tanh"))}
    transcendental = sum(TRANSCENDENTALS_PER_EVALUATION[f] * per_call[f] for f in per_call)

    # a 40-member chunk: RHS evaluations per member, and the compiled time per evaluation in the integrator
    captured, real = [], dopri.run_members

    def spy(*a):
        out = real(*a)
        if a[0] == dopri.INTEGRATE:
            captured.append(a)
        return out
    base = load_sweep(ROOT_W / "sweeps" / "uncertainty.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        dopri.run_members = spy
        try:
            run_sweep(base.with_overrides(samples=4), Path(tmp) / "warm", jobs=1, chunk_size=4)
            captured.clear()
            run_sweep(base.with_overrides(samples=40), Path(tmp) / "s", jobs=1, chunk_size=40)
        finally:
            dopri.run_members = real
    assert captured, "run_sweep no longer calls dopri.run_members in this process: update the floor worker"
    a = captured[-1]                               # the chunk's call; now again member by member, timed
    per_member = []
    for member in range(a[1], a[2]):
        t = time.perf_counter()
        out = real(a[0], member, member + 1, *a[3:])
        per_member.append((out[1], time.perf_counter() - t))
    nfev = float(np.mean([n for n, _ in per_member]))
    in_situ = float(np.median([sec / n for n, sec in per_member]))   # incl. the output evaluations, per evaluation
    m = (a[1] + a[2]) // 2
    Y0, times, LVout, P, C, k, ATOL, Yout = a[3], a[8], a[9], a[10], a[11], a[12], a[14], a[16]
    y, atol, Yout, LVout = Y0[m], ATOL[m], Yout[m], LVout[m]
    K = np.tile(y * 1e-3, (7, 1))
    passes = best(step_passes, y, K, atol, 2000) / 2000 / 6
    j = len(times) // 2
    rhs = best(rhs_loop, float(times[j]), np.ascontiguousarray(Yout[j]), np.ascontiguousarray(LVout[j]), P, C, m, k,
               5000) / 5000
    return {"seconds": nfev * (transcendental + passes), "nfev": nfev, "per_call": per_call,
            "transcendental": transcendental, "passes": passes, "in_situ": in_situ, "rhs": rhs,
            "state_size": int(y.size)}


# --- driver -------------------------------------------------------------------------------------
def call(root: Path, task: str, args, out: str | None = None) -> dict:
    env = dict(os.environ, PYTHONPATH=str(root), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", task, "--root", str(root),
           "--repeat", str(args.repeat), "--members", str(args.members)] + (["--out", out] if out else [])
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=root)
    if proc.returncode:
        raise RuntimeError(f"{task} in {root} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fresh_run(root: Path, tmp: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one ``sim run scenarios/baseline.yaml`` process of the code at ``root``."""
    import resource
    env = dict(os.environ, PYTHONPATH=str(root))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "simulator.cli", "run", str(root / "scenarios" / "baseline.yaml"),
                    "-o", str(tmp / "fresh"), "-q", "--overwrite"], env=env, cwd=tmp, check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def scaled_error(path: str, ref: dict) -> float:
    import numpy as np
    got = np.load(path)
    worst = 0.0
    for name, r in ref.items():
        if name not in got.files:
            continue
        scale = float(np.max(np.abs(r))) or 1.0
        worst = max(worst, float(np.max(np.abs(got[name] - r))) / scale)
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", default="59428c5")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--members", type=int, default=200)
    ap.add_argument("--pysd", action="store_true")
    ap.add_argument("--worker", default=None)
    ap.add_argument("--root", default=str(ROOT))
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    if args.worker:
        global ROOT_W
        ROOT_W = Path(args.root)
        sys.path.insert(0, args.root)
        print(json.dumps(worker(args.worker, args.repeat, args.members, args.out)))
        return
    import numpy as np
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        old.mkdir()
        subprocess.run(f"git archive {args.old} | tar -x -C {old}", shell=True, check=True, cwd=ROOT)
        rows: dict[str, list] = {"single": [], "sweep": [], "sweep_large": [], "sweep_levers": [], "calibration": []}
        nfev = {}
        for r in range(args.rounds):
            for task in rows:
                a = call(old, task, args)
                b = call(ROOT, task, args)
                rows[task].append((a["seconds"], b["seconds"]))
                print(f"round {r + 1} {task:11s} old {a['seconds'] * 1e3:8.2f} ms  new {b['seconds'] * 1e3:8.3f} ms  "
                      f"ratio {a['seconds'] / b['seconds']:6.1f}", flush=True)
                if task == "single":
                    nfev = {"old": a["nfev"], "new": b["nfev"]}
        fresh = []
        for root in (old, ROOT):                               # unmeasured: warms the compile cache
            fresh_run(root, Path(tmp))
        for r in range(args.rounds * args.repeat):
            a, b = fresh_run(old, Path(tmp)), fresh_run(ROOT, Path(tmp))
            fresh.append((a, b))
        refp, oldp, newp = (str(Path(tmp) / f"{n}.npz") for n in ("ref", "old", "new"))
        call(ROOT, "reference", args, refp)
        call(old, "accuracy", args, oldp)
        call(ROOT, "accuracy", args, newp)
        ref = dict(np.load(refp))
        err_old, err_new = scaled_error(oldp, ref), scaled_error(newp, ref)
        pysd = call(ROOT, "pysd", args)["seconds"] if args.pysd else None
        bound = call(ROOT, "floor", args)

    print(f"\n{'measure':34s} {'old (median)':>14s} {'new (median)':>14s} {'old/new median [min–max]':>26s}")
    for task, label in (("single", "run(baseline) CPU"), ("sweep", f"member-run in a {args.members}-chunk"),
                        ("sweep_large", "member-run, 1,000 in 500-chunks"),
                        ("sweep_levers", "member-run, levers.yaml 1,000"),
                        ("calibration", "model-run in a calibration batch")):
        o = [a for a, _ in rows[task]]
        n = [b for _, b in rows[task]]
        ratios = [a / b for a, b in rows[task]]
        print(f"{label:34s} {_median(o) * 1e3:11.2f} ms {_median(n) * 1e3:11.3f} ms "
              f"{_median(ratios):10.1f} [{min(ratios):.1f}–{max(ratios):.1f}]")
    for i, label in ((0, "fresh `sim run` process, wall"), (1, "fresh `sim run` process, CPU")):
        o = [a[i] for a, _ in fresh]
        n = [b[i] for _, b in fresh]
        ratios = [a[i] / b[i] for a, b in fresh]
        print(f"{label:34s} {_median(o):12.2f} s {_median(n):12.2f} s "
              f"{_median(ratios):10.2f} [{min(ratios):.2f}–{max(ratios):.2f}]")
    new_member = _median([b for _, b in rows["sweep"]])
    lo, hi = (nfev["new"] * us * 1e-6 for us in FLOOR_US)
    print(f"{'floor estimate per member-run':34s} {'':>14s} {lo * 1e3:6.2f}–{hi * 1e3:.2f} ms "
          f"{'new/floor':>10s} {new_member / hi:.1f}–{new_member / lo:.1f}")
    b, large = bound, _median([b for _, b in rows["sweep_large"]])
    print(f"{'measured lower bound per member-run':34s} {'':>14s} {b['seconds'] * 1e3:9.2f} ms "
          f"{'new/bound':>10s} {new_member / b['seconds']:.1f} ({args.members}-chunk), "
          f"{large / b['seconds']:.1f} (500-chunks)")
    print(f"  per evaluation: libm {b['transcendental'] * 1e6:.2f} µs ("
          + ", ".join(f"{n} × {f} {b['per_call'][f] * 1e9:.1f} ns" for f, n in TRANSCENDENTALS_PER_EVALUATION.items())
          + f") + the integrator's passes over {b['state_size']} states {b['passes'] * 1e6:.2f} µs; "
          f"{b['nfev']:.0f} evaluations per member (mean over a 40-member sample of the same sweep)")
    print(f"  compiled now: {b['in_situ'] * 1e6:.1f} µs per evaluation in the integrator (outputs included), "
          f"derivatives_with alone {b['rhs'] * 1e6:.1f} µs")
    print(f"RHS evaluations of the baseline: old {nfev['old']} (members stacked), new {nfev['new']}")
    print(f"scaled max error vs rtol=1e-10 reference: old {err_old:.2e}, new {err_new:.2e}")
    if pysd is not None:
        print(f"PySD one run of the exported model (CPU): {pysd:.2f} s")


ROOT_W = ROOT

if __name__ == "__main__":
    main()
