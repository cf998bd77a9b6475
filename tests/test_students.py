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


def test_new_flows_conserve_people(runs):
    traj = runs[1]
    S = traj.states
    pop, cm = _pop(traj), S["cum_migration"][:, 0]
    n = pop.shape[1]
    net = cm[:, :, :n].sum(axis=1) - cm[:, :n, :].sum(axis=2)
    births, deaths = S["cum_births"][:, 0], S["cum_deaths"][:, 0]
    residual = (pop - pop[0]) - (births - births[0]) + (deaths - deaths[0]) - (net - net[0])
    assert np.abs(residual).max() < 1e-3            # persons, out of 21 million
    assert S["extra_students"].min() >= 0


def test_levers_raise_the_nodes_that_get_them(runs):
    base, extra = (_pop(t) for t in runs)
    last = -1
    for node in ("CC_P", "JL_P"):
        gain = extra[last, INDEX[node]] - base[last, INDEX[node]]
        # bound: 10k/yr retained over ~10 years at most 10万; extra places add at most 20k/yr entrants
        assert 0 < gain < 3e5, (node, gain)


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
    # bound: residential construction's value added is a few per cent of GDP at most (judgement 0.4–1.1 % at base)
    assert float(share.min()) > 0 and float(share.max()) < 0.03
