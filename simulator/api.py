"""The public entry points: run one scenario, or several stacked in one integration."""
from __future__ import annotations

import xarray as xr

from .results import to_dataset
from .solve import simulate


def run(scenario, *, max_rhs_evaluations: int | None = None, time_limit: float | None = None) -> xr.Dataset:
    """Simulate one scenario and return its results as an ``xarray.Dataset`` (dims time, region, …).

    The integration has a budget (``guard``: right-hand-side evaluations per segment, wall-clock
    seconds, and a stop on non-finite values that no smaller step avoids); exceeding it raises ``SolverError``.
    """
    from .guard import RUN_MAX_RHS_EVALUATIONS, RUN_TIME_LIMIT, guarded_scenario
    guarded = guarded_scenario(scenario, max_rhs_evaluations or RUN_MAX_RHS_EVALUATIONS,
                               time_limit or RUN_TIME_LIMIT)
    traj = simulate(guarded)
    traj.stats["method"] = scenario.solver.method        # provenance: the method's name, not the guard class
    traj.scenarios = [scenario]
    return to_dataset(traj)


def simulate_many(scenarios) -> xr.Dataset:
    """Simulate several scenarios (same time span and solver) as one vectorized integration.

    Returns a Dataset with a leading ``run`` dimension, one entry per scenario in order.
    """
    from dataclasses import replace

    from .guard import RUN_MAX_RHS_EVALUATIONS, RUN_TIME_LIMIT, guarded_method
    scenarios = list(scenarios)
    if not scenarios:
        raise ValueError("simulate_many needs at least one scenario")
    import time
    method = guarded_method(scenarios[0].solver.method, RUN_MAX_RHS_EVALUATIONS, time.monotonic() + RUN_TIME_LIMIT)
    traj = simulate([replace(s, solver=replace(s.solver, method=method)) for s in scenarios])
    traj.stats["method"] = scenarios[0].solver.method
    traj.scenarios = scenarios
    return to_dataset(traj)
