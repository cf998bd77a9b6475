import pytest

from simulator import run, scenario_from_dict
from simulator.solve import simulate


@pytest.fixture(scope="session")
def baseline_scenario():
    return scenario_from_dict({"name": "test_baseline"})


@pytest.fixture(scope="session")
def baseline_traj(baseline_scenario):
    return simulate(baseline_scenario)


@pytest.fixture(scope="session")
def baseline_ds(baseline_scenario):
    return run(baseline_scenario)
