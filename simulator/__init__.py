"""System-dynamics simulator of the Changchun modern metropolitan area (长春现代化都市圈).

    from simulator import load_scenario, run
    ds = run(load_scenario("scenarios/baseline.yaml"))      # an xarray.Dataset

The public names are imported lazily, so ``sim --help`` does not pay for numpy/scipy/xarray.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

_PUBLIC = {
    "run": ".api", "simulate_many": ".api",
    "load_scenario": ".scenario", "scenario_from_dict": ".scenario", "Scenario": ".scenario",
    "ScenarioError": ".scenario", "explore": ".explorer",
}
__all__ = [*_PUBLIC, "__version__"]


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name], __name__), name)
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")
