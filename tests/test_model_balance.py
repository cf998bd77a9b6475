"""Mass balance (people, housing, capital) and non-negativity."""
import numpy as np
import pytest

from simulator import scenario_from_dict
from simulator.model.nodes import N_NODES
from simulator.solve import simulate

from .helpers import total_population


def test_people_conserved_total(baseline_traj):
    """Province population change = births − deaths + in from the rest of China − out to it."""
    tr = baseline_traj
    P = total_population(tr)[:, 0].sum(-1)
    cm = tr.states["cum_migration"][:, 0]
    births = tr.states["cum_births"][:, 0].sum(-1)
    deaths = tr.states["cum_deaths"][:, 0].sum(-1)
    ext_net = cm[:, N_NODES, :N_NODES].sum(-1) - cm[:, :N_NODES, N_NODES].sum(-1)
    residual = (P - P[0]) - (births - deaths + ext_net)
    assert np.max(np.abs(residual)) / P[0] < 1e-9
    assert np.abs(P[-1] - P[0]) > 1e5   # the test is not vacuous: the population does change


def test_people_conserved_per_node(baseline_traj):
    """Each node: ΔP = births − deaths + all inflows − all outflows; internal flows sum to zero."""
    tr = baseline_traj
    P = total_population(tr)[:, 0]
    cm = tr.states["cum_migration"][:, 0]
    inflow = cm[:, :, :N_NODES].sum(axis=1)
    outflow = cm[:, :N_NODES, :].sum(axis=2)
    expected = tr.states["cum_births"][:, 0] - tr.states["cum_deaths"][:, 0] + inflow - outflow
    assert np.max(np.abs((P - P[0]) - expected)) / P[0].sum() < 1e-9
    internal = cm[:, :N_NODES, :N_NODES]
    internal_net = internal.sum(axis=1) - internal.sum(axis=2)
    assert abs(internal_net.sum(-1)).max() / P[0].sum() < 1e-12
    assert internal.sum() > 1e6     # people do move between nodes


def test_dataset_migration_identities(baseline_ds):
    ds = baseline_ds
    flow = ds.migration_flow
    nodes = list(ds.region.values)
    inflow = flow.sel(destination=nodes).sum("origin").rename(destination="region")
    outflow = flow.sel(origin=nodes).sum("destination").rename(origin="region")
    np.testing.assert_allclose(ds.net_migration, inflow - outflow, rtol=1e-12, atol=1e-6)
    # internal moves cancel: total net migration equals the net exchange with the rest of China
    np.testing.assert_allclose(ds.net_migration.sum("region"), ds.net_migration_external.sum("region"),
                               rtol=1e-9, atol=1e-3)
    assert float(flow.sel(origin="EXT", destination="EXT").max()) == 0.0


def test_housing_and_capital_balance(baseline_traj):
    tr = baseline_traj
    H = tr.states["housing_new"][:, 0] + tr.states["housing_old"][:, 0]
    d_stock = (H - H[0]) - (tr.states["cum_completions"][:, 0] - tr.states["cum_demolition"][:, 0])
    assert np.max(np.abs(d_stock)) / H[0].sum() < 1e-9
    C = tr.states["construction_pipeline"][:, 0].sum(-1)
    d_pipe = (C - C[0]) - (tr.states["cum_starts"][:, 0] - tr.states["cum_completions"][:, 0])
    assert np.max(np.abs(d_pipe)) / C[0].sum() < 1e-9


EXTREMES = [
    {"parameters": {"mortality_scale": 3.0, "move_consideration_rate": 1.0, "base_out_migration_rate": 0.5}},
    {"parameters": {"base_net_migration_rate": -0.2, "base_out_migration_rate": 0.3,
                    "move_consideration_rate": 0.6, "income_weight": 5.0, "housing_cost_weight": 1.0}},
    {"parameters": {"demolition_rate_old": 0.3, "demolition_rate_new": 0.2, "normal_starts_rate": 0.0,
                    "vintage_aging_time": 1.0}},
    {"levers": {"tfr": 0.0, "renewal_demolition": 1.0e9, "reclassification": 1.0e6, "land_quota": 0.0,
                "investment_rate": 0.0, "output_shock": 0.05}},
    {"levers": {"tfr": 5.0, "talent_bonus": 2.0, "metro_integration": 1.0, "external_inflow_factor": 10.0,
                "housing_quality": 5.0, "policy_housing_starts": 1.0e9}},
    {"parameters": {"attractiveness_perception_time": 0.1, "price_adjustment_time": 0.1,
                    "construction_time": 0.3, "wage_perception_time": 0.1, "base_urbanization_trend": 0.1}},
]


@pytest.mark.parametrize("changes", EXTREMES)
def test_no_negative_stocks_under_extremes(changes):
    sc = scenario_from_dict({"name": "extreme", **changes})
    tr = simulate(sc)   # simulate raises if any stock goes negative beyond tolerance
    for name in ("population", "urban_population", "housing_new", "housing_old", "construction_pipeline",
                 "capital_stock", "house_price"):
        assert tr.states[name].min() >= -1e-6 * np.abs(tr.states[name]).max(), name
    P = total_population(tr)
    assert np.all(tr.states["urban_population"] <= P * (1 + 1e-6))   # same tolerance as every stock


def test_zero_fertility_gives_zero_births():
    tr = simulate(scenario_from_dict({"name": "tfr0", "levers": {"tfr": 0.0}}))
    assert np.all(tr.states["cum_births"] == 0.0)
    assert tr.states["cum_deaths"][-1].sum() > 0


def test_renewal_cannot_demolish_more_than_old_stock():
    tr = simulate(scenario_from_dict({"name": "renewal", "levers": {"renewal_demolition": 1.0e9}}))
    old = tr.states["housing_old"][:, 0]
    new = tr.states["housing_new"][:, 0]
    # old stock is drained down to about (inflow from ageing) × τ_min, never below zero
    assert np.all(old[-1] < 0.05 * old[0])
    assert np.all(old[-1] <= 1.5 * new[-1] / 25.0 * 0.25)
    assert old.min() >= 0
