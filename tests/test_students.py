"""Students and graduates (sectors/students.py): defaults leave the baseline unchanged, the new flows conserve
people, and the planner-unit levers move population the right way."""
from pathlib import Path

import numpy as np
import pytest

from simulator import load_scenario
from simulator.model.nodes import INDEX
from simulator.solve import simulate

ROOT = Path(__file__).resolve().parents[1]

EXTRA = """name: students_test
extends: {base}
levers:
  graduates_retained: {{JL_P: {{ramp: {{start: 2025, end: 2025.01, from: 0, to: 10000}}}}}}
  university_places: {{CC_P: {{ramp: {{start: 2025, end: 2025.01, from: 0, to: 20000}}}}}}
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = ROOT / "scenarios" / "baseline.yaml"
    path = tmp_path_factory.mktemp("students") / "extra.yaml"
    path.write_text(EXTRA.format(base=base.as_posix()), encoding="utf-8")
    return simulate(load_scenario(base)), simulate(load_scenario(path))


def _pop(traj):
    return traj.states["population"].sum(axis=(-1, -2))[:, 0]


def _identity_residual(traj):
    """ΔP − births + deaths − net migration by node and time [persons]: 0 when people are conserved."""
    S = traj.states
    pop, cm = _pop(traj), S["cum_migration"][:, 0]
    n = pop.shape[1]
    net = cm[:, :, :n].sum(axis=1) - cm[:, :n, :].sum(axis=2)
    births, deaths = S["cum_births"][:, 0], S["cum_deaths"][:, 0]
    return (pop - pop[0]) - (births - births[0]) + (deaths - deaths[0]) - (net - net[0])


def test_new_flows_conserve_people(runs):
    traj = runs[1]
    assert np.abs(_identity_residual(traj)).max() < 1e-3          # persons, out of 21 million
    assert traj.states["extra_students"].min() >= 0


def test_levers_raise_the_nodes_that_get_them(runs):
    base, extra = (_pop(t) for t in runs)
    last = -1
    for node in ("CC_P", "JL_P"):
        gain = extra[last, INDEX[node]] - base[last, INDEX[node]]
        # bounds: JL_P keeps or attracts 10k/yr for 10 years (≤ 10万, less the movers' usual leaving);
        # CC_P gets 20k extra entrants a year for 10 years (≤ 20万, less the extra graduates who leave)
        bound = {"JL_P": 1.0e5, "CC_P": 2.0e5}[node]
        assert 0 < gain < bound, (node, gain)


def test_graduates_at_base(runs):
    S = runs[0].states
    grads = np.diff(S["cum_graduates"][:, 0].sum(axis=1))
    # 75.56万 students / 3.67 yr ≈ 20.6万 graduates a year in the province (universities.csv)
    assert np.allclose(grads, 2.06e5, rtol=0.01)


def test_outputs_and_construction_share():
    from simulator import run
    ds = run(load_scenario(ROOT / "scenarios" / "baseline.yaml"))
    grads = ds.graduates.sel(time=2025).sum().item()
    kept = ds.graduates_retained.sel(time=2025).sum().item()
    assert kept / grads == pytest.approx(0.63, abs=0.01)                 # ρ0 with no programme
    share = (ds.construction_output / ds.gdp_real).sel(time=2024)
    # bound: residential construction's value added is a few per cent of GDP at most (0.3–1.1 % at base)
    assert float(share.min()) > 0 and float(share.max()) < 0.03


def test_entrants_drawn_from_other_nodes_are_bounded_by_their_stock():
    """The domestic part of extra places never takes more than P_o,15–19/τ_min from an origin; what the other
    nodes cannot give comes from the rest of China, so every place is filled."""
    from simulator.model.sectors.students import extra_entrant_moves
    entry = np.array([1000.0, 50.0, 0.0])                             # P_o,15–19 of three nodes
    places = np.array([1e6, 10.0, 0.0])
    tau = 0.25
    moves = extra_entrant_moves(places, 0.35, entry, tau)              # (origin incl. EXT, destination)
    assert np.all(moves >= 0)
    np.testing.assert_allclose(moves.sum(axis=0), places)            # every place filled (origins incl. EXT)
    assert np.all(moves[:3].sum(axis=1) <= entry / tau * (1 + 1e-12))
    small = extra_entrant_moves(np.array([100.0, 0.0, 0.0]), 0.35, np.array([1e5, 1e5, 1e5]), tau)
    assert small[3, 0] == pytest.approx(35.0, rel=1e-3)                # at ordinary sizes: f_S from EXT
    assert small[1, 0] == pytest.approx(32.5, rel=1e-3)


def test_places_at_the_hard_bound_run_and_conserve_people():
    """university_places = 10⁶/yr in one node (the lever's hard bound, ~5× the province's intake) once stopped the
    solver with NaN when the other nodes ran out of 15–19-year-olds; now it runs, stocks stay ≥ 0 and finite and
    the population identity closes."""
    from simulator import scenario_from_dict
    traj = simulate(scenario_from_dict({"name": "x", "time": {"start": 2024, "end": 2032},
                                        "levers": {"university_places": {"CC_R": 1e6}}}))
    P = traj.states["population"]
    assert np.all(np.isfinite(P)) and P.min() >= 0
    assert np.abs(_identity_residual(traj)).max() < 1e-3
