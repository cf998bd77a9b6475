"""The compiled model core (#15): the compiled integrator against scipy on the same compiled equations,
per-member step control (a member's result does not depend on its chunk), the guard, and sector
functions called on their own."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from simulator.model.inputs import MemberLevers, stack_parameters
from simulator.model.sectors import demography, economy
from simulator.scenario import scenario_from_dict
from simulator.solve import integrate, simulate


def rel(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.fixture(scope="module")
def short():
    return scenario_from_dict({"name": "short", "time": {"start": 2024, "end": 2028, "output_step": 1},
                               "levers": {"tfr": {"CC_P": {"ramp": {"start": 2025, "end": 2026.5,
                                                                    "from": 0.6, "to": 0.9}}}}})


def test_compiled_engine_matches_scipy_rk45(short):
    """The same Dormand–Prince method, controller and dense output as scipy's RK45: one member agrees to rounding."""
    p, lv = stack_parameters([short.parameters]), MemberLevers([short.effective_levers()])
    a = integrate([short], p, lv, engine="compiled")
    b = integrate([short], p, lv, engine="scipy")
    assert a.stats["engine"] == "compiled" and b.stats["engine"] == "scipy"
    assert a.stats["nfev"] == b.stats["nfev"]
    for name in ("population", "capital_stock", "house_price", "cum_migration", "perceived_attractiveness"):
        assert rel(a.states[name], b.states[name]) < 1e-12, name
    for name in ("wage", "attractiveness", "commuting_flow"):
        assert rel(a.auxiliaries[name], b.auxiliaries[name]) < 1e-12, name


def test_member_result_does_not_depend_on_its_chunk(short):
    """Each member has its own step-size control: alone or among others, the same steps and results (to
    rounding: the base-year closures are numpy reductions over member-stacked arrays, whose summation
    order depends on the array layout)."""
    other = replace(short, parameters={**short.parameters, "income_weight": np.array(2.5)})
    alone = simulate([short])
    together = simulate([other, short, other])
    for name in ("population", "capital_stock", "cum_gdp_nominal"):
        assert rel(together.states[name][:, 1], alone.states[name][:, 0]) < 1e-12, name
    assert together.stats["nfev"] > 2 * alone.stats["nfev"]


def test_compiled_engine_close_to_a_tight_reference(short):
    coarse = simulate(short)
    fine = simulate(replace(short, solver=replace(short.solver, method="DOP853", rtol=1e-10, atol=1e-10)))
    for name in ("population", "capital_stock", "house_price", "cum_gdp_nominal"):
        assert rel(coarse.states[name], fine.states[name]) < 1e-5, name


def test_non_finite_state_stops_the_compiled_integrator(short):
    from simulator.guard import IntegrationError, guarded_method
    bad = replace(short, parameters={**short.parameters, "price_adjustment_time": np.array(0.0)})
    guarded = replace(bad, solver=replace(bad.solver, method=guarded_method("RK45", 1000)))
    with pytest.raises(IntegrationError, match="non-finite|right-hand-side"):
        simulate(guarded)


def test_sector_functions_on_their_own():
    """Compiled sector functions are ordinary callables on one member's arrays."""
    T = np.full((3, 3), 60.0)
    np.fill_diagonal(T, 20.0)
    shares = economy.commuting_shares(T, 0.1, 30.0, np.array([1.0, 1.2, 0.9]), 1.0)
    assert np.allclose(shares.sum(axis=1), 1.0) and np.all(np.diag(shares) > 0.8)
    rng = np.random.default_rng(1)
    P = rng.uniform(1, 2, (2, 4, 3))
    out = np.empty_like(P)
    demography.population_change(P, np.zeros((2, 4)), np.zeros((2, 4)), np.array([5.0, 7.0]), out)
    assert np.allclose(out.sum(axis=(1, 2)), [5.0, 7.0])        # ageing moves people, births add them


def test_step_size_carries_across_a_breakpoint():
    """At a breakpoint the step size carries on (``dopri.carried_step``) instead of restarting the step control
    (an initial-step selection and a first step of a few hundredths of a year, 14 more evaluations here). A
    breakpoint where no lever changes (the scipy engine stops at it; the compiled one skips it) then costs the
    evaluation at the segment start and the one step cut short to end there: 7 evaluations."""
    base = {"name": "plain", "time": {"start": 2024, "end": 2028, "output_step": 1}}
    noop = {**base, "levers": {"hukou_ease": {"JL_P": {"step": [[2025.3, 0.9]]}}}}     # 0.9: the default
    runs = []
    for spec in (base, noop):
        sc = scenario_from_dict(spec)
        runs.append(integrate([sc], stack_parameters([sc.parameters]), MemberLevers([sc.effective_levers()]),
                              engine="scipy"))
    plain, stopped = runs
    assert (plain.stats["segments"], stopped.stats["segments"]) == (1, 2)
    assert stopped.stats["nfev"] - plain.stats["nfev"] == 7
    for name in ("population", "capital_stock", "house_price"):
        assert rel(stopped.states[name], plain.states[name]) < 1e-6, name


def test_members_continue_from_the_integration_they_share(short, monkeypatch):
    """A member whose inputs equal another's up to a breakpoint of both resumes from that member's state there
    (``solve.shared_starts``) instead of integrating the common years again, with the same result to the bit."""
    import simulator.solve as solve
    time = {"start": 2024, "end": 2028, "output_step": 0.5}              # an output at the resume edge 2026.5
    ramp = {"CC_P": {"ramp": {"start": 2025, "end": 2026.5, "from": 0.6, "to": 0.9}}}
    short = scenario_from_dict({"name": "short", "time": time, "levers": {"tfr": ramp}})
    later = scenario_from_dict({"name": "later", "time": time,           # the same until a step at 2027
                                "levers": {"tfr": ramp, "hukou_ease": {"JL_P": {"step": [[2027.0, 0.95]]}}}})
    other = scenario_from_dict({"name": "other", "time": time,           # no breakpoint in common with short
                                "levers": {"tfr": {"CC_P": 0.6}, "hukou_ease": {"JL_P": {"step": [[2026.0, 0.95]]}}}})
    param = replace(later, name="param", parameters={**later.parameters, "income_weight": np.array(2.5)})
    members = [short, later, other, param]
    starts = []
    original = solve.shared_starts

    def spy(*args):
        starts.append(original(*args))
        return starts[-1]
    monkeypatch.setattr(solve, "shared_starts", spy)
    shared = simulate(members)
    source, start = starts[-1]
    assert source.tolist() == [0, 0, 0, 3]
    assert start[1] > 0 and start[0] == start[2] == start[3] == 0     # only ``later`` continues (from 2026.5)
    monkeypatch.setattr(solve, "shared_starts", lambda own, *a: (np.arange(len(own)), np.zeros(len(own), int)))
    each = simulate(members)
    assert shared.stats["nfev"] < each.stats["nfev"]
    for name in each.states:
        np.testing.assert_array_equal(shared.states[name], each.states[name], err_msg=name)
    for name in each.auxiliaries:
        np.testing.assert_array_equal(shared.auxiliaries[name], each.auxiliaries[name], err_msg=name)


@pytest.mark.parametrize("per_call", [64, 2])
def test_members_one_call_at_a_time_are_the_same_to_the_bit(short, per_call, monkeypatch):
    """A chunk's members integrate ``solve.MEMBERS_PER_CALL`` per compiled call (``dopri.run_members``; 2: a
    member resumes from a source integrated in an earlier call), or one call per member when the method
    checks something between members (the explorer's cancellation, a deadline): the same numbers, with
    shared starts too, and the check runs once before each member."""
    import simulator.solve as solve
    from simulator.guard import guarded_method
    monkeypatch.setattr(solve, "MEMBERS_PER_CALL", per_call)
    time = {"start": 2024, "end": 2028, "output_step": 0.5}
    ramp = {"CC_P": {"ramp": {"start": 2025, "end": 2026.5, "from": 0.6, "to": 0.9}}}
    members = [scenario_from_dict({"name": f"m{i}", "time": time,
                                   "levers": {"tfr": ramp, "hukou_ease": {"JL_P": {"step": [[2027.0, h]]}}}})
               for i, h in enumerate([0.9, 0.95, 0.9, 1.0])]
    members.append(replace(members[1], name="param", parameters={**members[1].parameters,
                                                                 "income_weight": np.array(2.5)}))
    together = simulate(members)
    checks = []
    checked = guarded_method("RK45", before_step=lambda: checks.append(1))
    one_by_one = simulate([replace(m, solver=replace(m.solver, method=checked)) for m in members])
    assert len(checks) == len(members)
    assert together.stats["nfev"] == one_by_one.stats["nfev"]
    for name in together.states:
        np.testing.assert_array_equal(together.states[name], one_by_one.states[name], err_msg=name)
    for name in together.auxiliaries:
        np.testing.assert_array_equal(together.auxiliaries[name], one_by_one.auxiliaries[name], err_msg=name)


@pytest.mark.parametrize("distinct", [1, 2, 9])
def test_base_year_solved_once_per_distinct_parameter_set(short, distinct, monkeypatch):
    """``initialize_distinct`` gives every member what ``initialize`` on all members gives (to rounding: the
    closures are numpy reductions over member-stacked arrays), solving each distinct parameter set once."""
    from types import SimpleNamespace
    from simulator.model.initial import initialize
    from simulator.solve import initialize_distinct
    other = {**short.parameters, "income_weight": np.array(2.5), "migration_peak_age": np.array(24.0)}
    if distinct == 9:         # as many sets as nodes: a node axis must not be taken for the member axis
        sets = [{**short.parameters, "income_weight": np.array(1.0 + 0.1 * i)} for i in range(9)] * 2
    else:
        sets = [short.parameters, other, short.parameters, short.parameters, other] if distinct == 2 else \
            [short.parameters] * 4
    p, M = stack_parameters(sets), len(sets)
    calls = []
    import simulator.solve as solve

    def counting(q, members, *a, **kw):
        calls.append(members)
        return initialize(q, members, *a, **kw)
    monkeypatch.setattr(solve, "initialize", counting)
    blocks, constants = initialize_distinct(p, M, short.age_substages, None, 2024)
    assert calls == [distinct]
    ref_blocks, ref_constants = initialize(p, M, short.age_substages, None, start_year=2024)

    def compare(a, b, where):
        if isinstance(b, dict):
            assert a.keys() == b.keys(), where
            for key in b:
                compare(a[key], b[key], f"{where}.{key}")
        elif isinstance(b, SimpleNamespace):
            compare(vars(a), vars(b), where)
        else:
            a, b = np.asarray(a), np.asarray(b)
            assert a.shape == b.shape, where
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=0, err_msg=where)
    compare(blocks, ref_blocks, "blocks")
    compare(constants, ref_constants, "constants")


def test_member_ignores_the_breakpoints_of_other_members(short):
    """A member restarts its step control only at its own lever breakpoints, not at those of the other
    members of its chunk (the chunk's segments are the union of every member's breakpoints)."""
    other = scenario_from_dict({"name": "other", "time": {"start": 2024, "end": 2028, "output_step": 1},
                                "levers": {"tfr": {"CC_P": 0.6}, "hukou_ease": {"JL_P": {"step": [[2025.3, 0.95]]}}}})
    alone = simulate([short])
    together = simulate([other, short])
    assert together.stats["segments"] > alone.stats["segments"]
    for name in ("population", "capital_stock", "cum_gdp_nominal"):
        assert rel(together.states[name][:, 1], alone.states[name][:, 0]) < 1e-12, name


def test_sim_run_loads_one_compiled_library_and_no_scipy_integrate(tmp_path):
    """A fresh `sim run` loads the compiled model once (the single entry ``dopri.run_members``: every
    compiled entry carries its own copy of the model code, ~0.3 s to load) and does not import what it
    does not use: scipy.integrate and scipy.optimize (the scipy engine and the base-year roots),
    dask.distributed (xarray asks dask for a scheduler when writing NetCDF the usual way), dask.array and
    pint (xarray probes every new array for their types: ``cli_common.skip_unused_array_libraries``)."""
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    simulate(scenario_from_dict({"name": "warm", "time": {"start": 2024, "end": 2025}}))   # the cache on disk
    code = ("import sys\n"
            "from numba.core import caching\n"
            "loaded = []\n"
            "original = caching.Cache.load_overload\n"
            "def load(self, sig, ctx):\n"
            "    result = original(self, sig, ctx)\n"
            "    if result is not None:\n"
            "        loaded.append(self._name)\n"
            "    return result\n"
            "caching.Cache.load_overload = load\n"
            "from simulator.cli import main\n"
            "try:\n"
            f"    main(['run', {str(root / 'scenarios' / 'baseline.yaml')!r}, '-o', {str(tmp_path / 'o')!r}, '-q'])\n"
            "except SystemExit as exc:\n"
            "    assert not exc.code, exc.code\n"
            "print(sorted(m for m in ('scipy.integrate', 'scipy.optimize', 'distributed', 'pint', 'dask.array') "
            "if m in sys.modules))\n"
            "print(sorted(str(name) for name in loaded if 'run_member' in str(name) or 'integrate_member' in str(name)))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported, entries = proc.stdout.strip().splitlines()[-2:]
    assert imported == "[]"
    assert entries.count("run_member") == 1 and "run_members" in entries and "integrate_member" not in entries
    assert (tmp_path / "o" / "results.nc").exists()


def test_netcdf_writer_matches_xarray(tmp_path):
    """``atomic.to_netcdf`` (no dask scheduler query) writes what ``Dataset.to_netcdf`` writes, and keeps
    xarray's checks of names and attributes."""
    import xarray as xr
    from simulator.atomic import to_netcdf
    ds = xr.Dataset({"a": (("time", "region"), np.arange(6.0).reshape(3, 2), {"units": "persons"}),
                     "name": ("region", np.array(["x", "y"]))},
                    coords={"time": [2024, 2025, 2026], "region": ["CC_P", "JL_P"]}, attrs={"provenance": "{}"})
    to_netcdf(ds, tmp_path / "ours.nc")
    ds.to_netcdf(tmp_path / "xarray.nc")
    with xr.open_dataset(tmp_path / "ours.nc") as ours, xr.open_dataset(tmp_path / "xarray.nc") as theirs:
        xr.testing.assert_identical(ours, theirs)
    bad = ds.assign_attrs(flag=None)
    with pytest.raises(TypeError, match="flag"):
        to_netcdf(bad, tmp_path / "bad.nc")


def test_smooth_min_of_numbers_keeps_nan():
    from simulator.model.functions import smooth_min
    assert np.isnan(smooth_min(1.0, float("nan"))) and np.isnan(smooth_min(float("nan"), 1.0))
    assert smooth_min(1.0, 1e9) == pytest.approx(1.0) and smooth_min(0.0, 5.0) == 0.0


def test_base_year_root_by_bisection():
    from simulator.model.base_data import _root
    assert _root(lambda x: x * x - 2.0, 0.0, 2.0) == pytest.approx(2 ** 0.5, rel=1e-15)
    assert _root(lambda x: x, 0.0, 1.0) == 0.0
    with pytest.raises(ValueError, match="sign change"):
        _root(lambda x: x + 1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="not finite"):
        _root(lambda x: float("nan") if 0.4 < x < 0.6 else x - 0.5, 0.0, 1.0)


def test_member_segments_keeps_each_members_own_breakpoints():
    """A segment edge is a member's own when one of its levers jumps there or changes slope; a lever that
    continues its line across an edge (another member's breakpoint) does not restart the member's steps."""
    from simulator.solve import member_segments
    edges = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    LV0 = np.array([[[1.0], [1.0], [1.0], [1.0]],          # constant: only the first segment
                    [[1.0], [1.0], [2.0], [2.0]],          # a step at t = 2
                    [[0.0], [1.0], [2.0], [2.0]],          # a ramp to t = 2, then flat (slope changes at 2)
                    [[0.0], [1.0], [2.0], [3.0]]])         # one ramp across every edge
    LV1 = np.array([[[0.0]] * 4, [[0.0]] * 4, [[1.0], [1.0], [0.0], [0.0]], [[1.0]] * 4])
    keep = member_segments(edges, LV0, LV1)
    assert keep.tolist() == [[True, False, False, False], [True, False, True, False],
                             [True, False, True, False], [True, False, False, False]]
    # a value that drifts by less than the tolerance at each edge but more in total: the prediction runs from
    # the last kept segment, so the drift restarts the member's steps once it exceeds the tolerance
    drift = np.array([[[1.0], [1.0 + 0.6e-12], [1.0 + 1.2e-12], [1.0 + 1.8e-12]]])
    assert member_segments(edges, drift, np.zeros_like(drift)).tolist() == [[True, False, True, False]]


def test_shared_starts_picks_the_latest_breakpoint_in_common():
    """The resume point is the latest edge where member and source both have a breakpoint of their own and
    before which their levers are equal; members with other inputs form their own group."""
    from simulator.solve import shared_starts
    own = np.array([[True, False, True, True, False],       # 0: the source
                    [True, False, True, True, False],       # 1: equal throughout: from edge 3 (its 3rd own segment)
                    [True, False, True, True, False],       # 2: differs from segment 3 on, own there: from edge 3
                    [True, False, True, False, True],       # 3: differs from segment 3 on, not own there: from edge 2
                    [True, False, True, True, False]])      # 4: other inputs: from the start
    LV = np.zeros((5, 5, 2))
    LV[2, 3:] = 1.0
    LV[3, 3:] = 2.0
    inputs = [np.array([[0.0], [0.0], [0.0], [0.0], [1.0]])]
    source, start = shared_starts(own, LV, np.zeros_like(LV), inputs)
    assert source.tolist() == [0, 0, 0, 0, 4]
    assert start.tolist() == [0, 2, 2, 1, 0]          # positions among each member's own segments
    source, start = shared_starts(own, LV, np.zeros_like(LV), [np.arange(5.0)[:, None]])   # all alone
    assert source.tolist() == [0, 1, 2, 3, 4] and start.tolist() == [0] * 5


def _member_segments_one(edges, lv0, lv1):
    """The per-member loop that ``member_segments`` replaced (40ec26c), the reference for the vectorized form."""
    keep = [0]
    for s in range(1, len(edges) - 1):
        p = keep[-1]
        predicted = lv0[p] + (edges[s] - edges[p]) * lv1[p]
        scale = np.maximum(np.abs(lv0[s]), 1.0)
        if (np.any(np.abs(lv0[s] - predicted) > 1e-12 * scale)
                or np.any(np.abs(lv1[s] - lv1[p]) > 1e-9 * np.maximum(np.abs(lv1[p]), 1e-12 * scale))):
            keep.append(s)
    return keep


def test_member_segments_equals_the_per_member_loop():
    from simulator.solve import member_segments
    rng = np.random.default_rng(3)
    edges = np.sort(rng.uniform(2020, 2035, 9))
    M, n_seg, n_lv = 40, 8, 5
    # schedules that mostly continue their line, with random jumps, slope changes, NaN and inf
    LV1 = np.repeat(rng.choice([0.0, 0.5], (M, 1, n_lv)), n_seg, axis=1)
    LV1[rng.random((M, n_seg, n_lv)) < 0.05] = 2.0
    LV0 = np.empty((M, n_seg, n_lv))
    LV0[:, 0] = rng.uniform(0, 3, (M, n_lv))
    for s in range(1, n_seg):
        LV0[:, s] = LV0[:, s - 1] + (edges[s] - edges[s - 1]) * LV1[:, s - 1]
    LV0[rng.random((M, n_seg, n_lv)) < 0.05] += 1.0
    LV0[3, 4, 1], LV1[5, 2, 0], LV0[7, 6, 2] = np.nan, np.inf, -np.inf
    with np.errstate(invalid="ignore"):
        keep = member_segments(edges, LV0, LV1)
        for m in range(M):
            assert np.flatnonzero(keep[m]).tolist() == _member_segments_one(edges, LV0[m], LV1[m]), m
    assert 0 < keep[:, 1:].sum() < M * (n_seg - 1)           # both kinds of edges occur


def test_output_rates_follow_travel_time_changes():
    """The compiled entry reuses the travel terms between output times while the travel levers are unchanged
    and evaluates them again where they change (a rail step between two output years, a ramp across several):
    the auxiliaries equal the right-hand side evaluated afresh at every output time."""
    from simulator.dopri import _TRAVEL_LEVERS
    from simulator.model.rhs import Model
    from simulator.model.state import StateLayout
    from simulator.model.nodes import PAIRS
    from simulator.solve import lever_table
    sc = scenario_from_dict({"name": "rail", "time": {"start": 2024, "end": 2030, "output_step": 1},
                             "levers": {"travel_time": {PAIRS[1]: {"step": [[2025.5, 30.0]]},
                                                        PAIRS[5]: {"ramp": {"start": 2026, "end": 2027.5,
                                                                            "from": 200.0, "to": 90.0}}},
                                        "metro_integration": {"step": [[2029.5, 0.8]]}}})
    traj = simulate(sc)
    levers = MemberLevers([sc.effective_levers()])
    layout = StateLayout(sc.age_substages)
    model = Model(layout, stack_parameters([sc.parameters]), traj.constants, 1)
    times = traj.times
    sides = ["left" if t == times[-1] else "right" for t in times]
    LV = lever_table(levers, times, sides, 1)
    travel = LV[0][:, _TRAVEL_LEVERS]
    same = [np.array_equal(travel[i], travel[i - 1]) for i in range(1, len(times))]
    assert same == [True, False, False, False, True, False]     # reused, then evaluated again at each change
    for i, t in enumerate(times):
        y = layout.pack({name: np.moveaxis(traj.states[name][i], 0, -1) for name in layout.shapes}, 1)
        _, aux = model.derivatives_rows(float(t), y, LV[:, i], want_auxiliaries=True)
        for name in ("commuting_flow", "attractiveness", "expected_income", "service_access"):
            assert np.array_equal(aux[name][..., 0], traj.auxiliaries[name][i, 0]), (name, t)


def test_unowned_takes_arrays_and_refuses_other_objects():
    """``jit.unowned`` strips the owner of arrays (and tuples of arrays and numbers); anything else would be
    released once more than it was taken, so compiling it on a string is a typing error."""
    import numba
    from simulator.model.jit import ENABLED, unowned
    if not ENABLED:
        pytest.skip("SIMULATOR_NO_JIT: unowned is the identity")

    @numba.njit
    def total(a, pair):
        a, pair = unowned((a, pair))
        return a.sum() + pair[0][1] + pair[1]

    assert total(np.arange(4.0), (np.ones(3), 2.0)) == 6.0 + 1.0 + 2.0
    with pytest.raises(numba.core.errors.TypingError, match="arrays, tuples of arrays and numbers"):
        numba.njit(lambda s: unowned(s))("text")


@pytest.mark.parametrize("engine", ["compiled", "scipy"])
def test_outputs_without_auxiliaries_are_bitwise_the_same(engine):
    """``integrate(auxiliaries=False)`` (sweeps and calibration whose outputs need no auxiliaries) skips the
    right-hand side at the output times after the first: every variable outside ``AUXILIARY_VARIABLES`` is
    bitwise the same as with them (a history run: its reported years start after the first output time), the
    auxiliary ones are absent (a KeyError, not a NaN), and the integration itself is the same."""
    from pathlib import Path
    from simulator import load_scenario
    from simulator.results import AUXILIARY_VARIABLES, needs_auxiliaries, to_dataset
    sc = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml")
    assert sc.history is not None
    p, levers = stack_parameters([sc.parameters]), MemberLevers([sc.effective_levers()])
    full = integrate([sc], p, levers, engine=engine)
    lean = integrate([sc], p, levers, engine=engine, auxiliaries=False)
    assert lean.stats["nfev"] == full.stats["nfev"] and lean.stats["auxiliaries"] is False
    ds_full, ds_lean = to_dataset(full), to_dataset(lean)
    assert set(ds_full.data_vars) - set(ds_lean.data_vars) == AUXILIARY_VARIABLES
    for name in ds_lean.data_vars:
        np.testing.assert_array_equal(ds_lean[name].values, ds_full[name].values, err_msg=name)
        assert ds_lean[name].attrs == ds_full[name].attrs
    assert lean.rates["population"].shape[0] == lean.auxiliaries["wage"].shape[0] == 1
    with pytest.raises(KeyError):
        ds_lean["wage"]
    assert not needs_auxiliaries(["metro_population", "gdp_nominal", "migration_flow"])
    assert needs_auxiliaries(["metro_population", "wage"]) and needs_auxiliaries(["policy_cost_total"])


def test_output_rates_only_in_the_rows_given():
    """``run_member`` evaluates the rates at the first R output times only, R = the rows of ``DYout`` it gets
    (``integrate(auxiliaries=False)`` gives one): rows of the caller's array beyond them stay untouched."""
    from simulator.model.rhs import Model
    from simulator.model.state import StateLayout
    from simulator.solve import lever_table, member_rates
    sc = scenario_from_dict({"name": "short", "time": {"start": 2024, "end": 2027, "output_step": 1}})
    traj = simulate(sc)
    layout = StateLayout(sc.age_substages)
    model = Model(layout, stack_parameters([sc.parameters]), traj.constants, 1)
    times = np.asarray(traj.times, dtype=float)
    Y = np.stack([layout.pack({name: np.moveaxis(traj.states[name][i], 0, -1) for name in layout.shapes}, 1)
                  for i in range(len(times))])[None]                                   # (1, T, size)
    LV = lever_table(MemberLevers([sc.effective_levers()]), times, ["right"] * len(times), 1)
    rows = np.full((1, len(times), layout.size), np.nan)
    member_rates(times, Y, rows[:, :1], np.empty((1, 1, 0)), LV, model, layout.k)
    first = layout.pack({name: np.moveaxis(traj.rates[name][0], 0, -1) for name in layout.shapes}, 1)
    np.testing.assert_array_equal(rows[0, 0], first)
    assert np.isnan(rows[0, 1:]).all()
