"""The public entry points: run one scenario, or several stacked in one integration."""
from __future__ import annotations

import xarray as xr

from .results import to_dataset
from .solve import simulate


def run(scenario) -> xr.Dataset:
    """Simulate one scenario and return its results as an ``xarray.Dataset`` (dims time, region, …)."""
    return to_dataset(simulate(scenario))


def simulate_many(scenarios) -> xr.Dataset:
    """Simulate several scenarios (same time span and solver) as one vectorized integration.

    Returns a Dataset with a leading ``run`` dimension, one entry per scenario in order.
    """
    return to_dataset(simulate(list(scenarios)))
