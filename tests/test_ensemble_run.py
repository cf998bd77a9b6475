import numpy as np
import pytest
import xarray as xr

from simulator import run
from simulator.ensemble import SweepInterrupted, load_sweep, run_sweep
from simulator.ensemble import runner as runner_mod
from simulator.ensemble import store as store_mod
from simulator.ensemble.members import member_scenario

from .ensemble_helpers import write_sweep

VARS = ["metro_population", "metro_gdp_nominal", "population"]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("small")
    sweep = load_sweep(write_sweep(tmp))
    return sweep, run_sweep(sweep, tmp / "out")


def _equal(a: xr.Dataset, b: xr.Dataset):
    for v in VARS + ["failed", "design_unit"]:
        np.testing.assert_array_equal(a[v].values, b[v].values)


def test_ensemble_file_layout(small):
    sweep, res = small
    ds = xr.load_dataset(res.path)
    assert res.path.name == "ensemble.nc" and not (res.path.parent / "chunks").exists()
    assert ds.sizes["run"] == 12 and list(ds.time.values) == list(range(2024, 2031))
    assert ds["population"].dims == ("run", "time", "region")
    for f in sweep.factor_ids:
        assert ds[f].dims == ("run",)
    assert ds.attrs["design_method"] == "lhs" and ds.attrs["design_seed"] == 3
    assert "numpy" in ds.attrs["versions"] and ds.attrs["sweep_text"]
    assert int(ds.failed.sum()) == 0


def test_vectorized_equals_loop(small):
    sweep, res = small
    X = np.stack([res.dataset[f].values for f in sweep.factor_ids], axis=1)
    for i in (0, 7, 11):
        one = run(member_scenario(sweep.scenario, sweep.factors, X[i]))
        for v in VARS:
            np.testing.assert_allclose(res.dataset[v].isel(run=i).values, one[v].values, rtol=1e-6)


def test_sampled_lever_table_equals_values_at_each_time(tmp_path):
    """``SampledLevers.matrices`` (every time at once, what ``solve.lever_table`` reads) gives exactly the
    values of ``values`` time by time: factors that set (from a start: both one-sided limits at the step),
    scale and add, on scalar, node and pair levers."""
    from simulator.ensemble.members import SampledLevers
    from simulator.ensemble.sweep import design
    from simulator.model.nodes import PAIRS
    from simulator.model.records import lever_matrix
    levers = {"tfp_growth": {"distribution": "uniform", "lower": 0.01, "upper": 0.04, "elements": "plan_area",
                             "from": 2026},
              "metro_integration": {"distribution": "uniform", "lower": 0.0, "upper": 1.0},
              "tfr": {"distribution": "uniform", "lower": 0.8, "upper": 1.2, "apply": "scale"},
              "travel_time": {"distribution": "uniform", "lower": -20.0, "upper": 0.0, "apply": "add",
                              "elements": [PAIRS[0]]},
              "extra_net_migration": {"distribution": "uniform", "lower": 0.0, "upper": 5e3, "from": 2027.5}}
    sweep = load_sweep(write_sweep(tmp_path, levers=levers))
    _, X = design(sweep)
    sampled = SampledLevers(sweep.scenario, sweep.factors, X)
    times = [2024.0, 2025.3, 2026.0, 2027.5, 2029.0, 2030.0]
    for side in ("left", "right"):
        table = sampled.matrices(times, side)
        loop = np.stack([lever_matrix(sampled.values(t, side), sampled.members) for t in times], axis=1)
        np.testing.assert_array_equal(table, loop)
    at_step = [sampled.matrices([2026.0], side)[:, 0] for side in ("left", "right")]
    assert not np.array_equal(at_step[0], at_step[1])          # the set value starts at its step


def test_sweep_of_auxiliary_outputs(tmp_path, monkeypatch):
    """A sweep whose outputs need the right-hand side's auxiliaries at every output time (unemployment, wage)
    integrates with them (``results.needs_auxiliaries``); one without them skips those evaluations, and the
    outputs they share are bitwise the same."""
    import simulator.solve
    from simulator.results import needs_auxiliaries
    asked = []
    integrate = simulator.solve.integrate

    def recording(*args, **kwargs):
        asked.append(kwargs.get("auxiliaries", True))
        return integrate(*args, **kwargs)

    monkeypatch.setattr(simulator.solve, "integrate", recording)
    with_aux = ["metro_population", "unemployment_rate", "wage"]
    assert needs_auxiliaries(with_aux) and not needs_auxiliaries(VARS)
    design = {"method": "lhs", "samples": 4, "seed": 3}
    sweep = load_sweep(write_sweep(tmp_path, design=design, outputs={"variables": with_aux}))
    res = run_sweep(sweep, write=False)
    assert asked and all(asked)                    # the chunk of 4 (and the sweep's template run) with the auxiliaries
    asked.clear()
    X = np.stack([res.dataset[f].values for f in sweep.factor_ids], axis=1)
    one = run(member_scenario(sweep.scenario, sweep.factors, X[2]))
    for v in with_aux:
        assert np.isfinite(res.dataset[v].values).all()
        np.testing.assert_allclose(res.dataset[v].isel(run=2).values, one[v].values, rtol=1e-6)
    lean = run_sweep(load_sweep(write_sweep(tmp_path, design=design)), write=False)
    assert asked.count(False) == 1                 # the chunk: the default outputs need none
    np.testing.assert_array_equal(lean.dataset.metro_population.values, res.dataset.metro_population.values)


def test_same_seed_identical_other_seed_differs(small, tmp_path):
    sweep, res = small
    again = run_sweep(sweep, write=False)
    _equal(res.dataset, again.dataset)
    other = run_sweep(sweep.with_overrides(seed=4, samples=4), write=False)
    assert not np.allclose(other.dataset.income_weight.values, res.dataset.income_weight.values[:4])


def test_resume_after_interruption_is_identical(small, tmp_path, monkeypatch):
    sweep, res = small
    real_write = store_mod.ChunkStore.write
    calls = {"n": 0}

    def flaky(self, result):
        if calls["n"] == 2:
            raise KeyboardInterrupt
        calls["n"] += 1
        real_write(self, result)

    monkeypatch.setattr(store_mod.ChunkStore, "write", flaky)
    with pytest.raises(SweepInterrupted, match="2 of 3 chunks are saved"):
        run_sweep(sweep, tmp_path / "out")
    assert len(list((tmp_path / "out" / "chunks").glob("*/chunk_*.npz"))) == 2
    monkeypatch.setattr(store_mod.ChunkStore, "write", real_write)
    resumed = run_sweep(sweep, tmp_path / "out")
    assert resumed.chunks_resumed == 2 and resumed.chunks_run == 1
    _equal(resumed.dataset, res.dataset)
    _equal(xr.load_dataset(resumed.path), res.dataset)


@pytest.mark.parametrize("again", [False, True], ids=["ctrl-c", "ctrl-c-twice"])
def test_interrupted_pool_closes_its_wakeup_pipe_before_returning(small, tmp_path, monkeypatch, again):
    """After Ctrl-C in a ``-j 2`` sweep, the pool's manager thread has closed its wake-up pipe when
    ``run_sweep`` returns: otherwise concurrent.futures' exit hook may write to it while it is being
    closed and print an 'OSError: Bad file descriptor' traceback (seen in CI). The manager's close is
    slowed down here so that a missing join fails every time, not by chance; ``again``: a second Ctrl-C
    while the runner waits for it does not cut the wait short."""
    import _thread
    import time
    from concurrent.futures import process as cf_process
    sweep, _ = small
    real_join = cf_process._ExecutorManagerThread.join_executor_internals

    closing = []                                     # the wake-up pipes the manager threads close

    def slow_join(self):
        closing.append(self.thread_wakeup)
        if again:
            _thread.interrupt_main()             # (nothing while SIGINT is ignored)
        time.sleep(0.5)
        real_join(self)

    def interrupted(self, result):
        raise KeyboardInterrupt

    monkeypatch.setattr(cf_process._ExecutorManagerThread, "join_executor_internals", slow_join)
    monkeypatch.setattr(store_mod.ChunkStore, "write", interrupted)
    with pytest.raises(SweepInterrupted):
        run_sweep(sweep, tmp_path / "out", jobs=2, chunk_size=4)
    assert closing and all(wakeup._closed for wakeup in closing)


def test_failing_member_is_isolated(small, monkeypatch):
    sweep, res = small
    bad = float(res.dataset.income_weight.values[5])
    real = runner_mod._integrate_rows

    def fragile(ctx, X):
        if np.any(X[:, 0] == bad):
            raise runner_mod.__dict__.get("SolverError", RuntimeError)("synthetic failure")
        return real(ctx, X)

    monkeypatch.setattr(runner_mod, "_integrate_rows", fragile)
    out = run_sweep(sweep, write=False)
    ds = out.dataset
    assert out.failures == 1 and int(ds.failed[5]) == 1 and "synthetic failure" in str(ds.failure_reason[5].values)
    assert np.isnan(ds.metro_population[5]).all()
    ok = np.arange(12) != 5
    np.testing.assert_allclose(ds.metro_population.values[ok], res.dataset.metro_population.values[ok], rtol=1e-6)


def test_stalling_member_hits_the_guard(small):
    sweep, _ = small
    from dataclasses import replace
    out = run_sweep(replace(sweep, max_rhs_evaluations=20, samples=2), write=False)
    assert out.failures == 2
    assert "right-hand-side evaluations" in str(out.dataset.failure_reason[0].values)


def test_processes_and_dask_equal_local(small):
    sweep, res = small
    two = run_sweep(sweep, write=False, jobs=2)
    _equal(two.dataset, res.dataset)
    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        viadask = run_sweep(sweep, write=False, scheduler=client)
    _equal(viadask.dataset, res.dataset)


def test_killed_sweep_process_resumes_to_identical_results(tmp_path):
    """A real SIGKILL in the middle of `sim sweep` keeps finished chunks; the rerun is identical."""
    import os
    import signal
    import subprocess
    import sys
    import time
    sweep = write_sweep(tmp_path, design={"method": "lhs", "samples": 200, "seed": 5}, chunk_size=20)
    cmd = [sys.executable, "-m", "simulator.cli", "sweep", str(sweep), "--no-progress"]
    killed = tmp_path / "killed"
    proc = subprocess.Popen(cmd + ["-o", str(killed)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if len(list(killed.glob("chunks/*/chunk_*.npz"))) >= 2:
            break
        time.sleep(0.05)
    finished_before = len(list(killed.glob("chunks/*/chunk_*.npz")))
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert finished_before >= 2 and not (killed / "ensemble.nc").exists()
    assert not list(killed.glob("chunks/*/.*.tmp"))            # no half-written chunk survives
    subprocess.run(cmd + ["-o", str(killed)], check=True, capture_output=True, timeout=300)
    clean = tmp_path / "clean"
    subprocess.run(cmd + ["-o", str(clean)], check=True, capture_output=True, timeout=300)
    _equal(xr.load_dataset(killed / "ensemble.nc"), xr.load_dataset(clean / "ensemble.nc"))
