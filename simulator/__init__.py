"""System-dynamics simulator of the Changchun modern metropolitan area (长春现代化都市圈).

    from simulator import load_scenario, run
    ds = run(load_scenario("scenarios/baseline.yaml"))      # an xarray.Dataset
"""
from __future__ import annotations

__version__ = "0.1.0"

from .api import run, simulate_many  # noqa: E402
from .scenario import Scenario, ScenarioError, load_scenario, scenario_from_dict  # noqa: E402

__all__ = ["run", "simulate_many", "load_scenario", "scenario_from_dict", "Scenario", "ScenarioError",
           "__version__"]
