"""The 2024 initial state reproduces the data, and the base-year closures hold."""
import numpy as np
import pytest

from simulator.model.base_data import BASE_DATE, CENSUS_2020_DATE, base_year, obs
from simulator.model.nodes import CITIES, CITY, NODES
from simulator.model.parameters import PARAMETERS

from .helpers import total_population


def test_plan_area_totals(baseline_ds):
    ds = baseline_ds.sel(time=2024)
    assert abs(float(ds.metro_population) / 12.10e6 - 1) < 0.005
    assert abs(float(ds.metro_gdp_nominal) / 913.0e9 - 1) < 0.005
    assert abs(float(ds.metro_gdp_real) / 913.0e9 - 1) < 0.005


@pytest.mark.parametrize("city", CITIES)
def test_whole_city_population_and_gdp(baseline_ds, city):
    ds = baseline_ds.sel(time=2024, whole_city=city)
    assert abs(float(ds.city_population) / (obs(city, 2024, "resident_pop") * 1e4) - 1) < 0.005
    assert abs(float(ds.city_gdp_nominal) / (obs(city, 2024, "gdp_current") * 1e8) - 1) < 0.005


def test_province_population_and_vital_events(baseline_ds):
    ds = baseline_ds.sel(time=2024)
    assert abs(float(ds.population.sum()) / (obs("Jilin_province", 2024, "resident_pop") * 1e4) - 1) < 0.005
    assert abs(float(ds.births.sum()) / (obs("Jilin_province", 2024, "births") * 1e4) - 1) < 0.005
    assert abs(float(ds.deaths.sum()) / (obs("Jilin_province", 2024, "deaths") * 1e4) - 1) < 0.005


def test_census_2020_node_split_and_urban_shares():
    b = base_year()
    # the nodes partition each city's 2020 census population exactly
    for city in CITIES:
        idx = [i for i, n in enumerate(NODES) if CITY[n] == city]
        assert abs(b.population_2020[idx].sum() / obs(city, 2020, "resident_pop_census") - 1) < 1e-12
    assert abs(b.population_2020.sum() / obs("Jilin_province", 2020, "resident_pop_census") - 1) < 1e-12
    assert 0.48 <= b.partial_share <= 0.72          # data README: 1210万 fits 2020 with 48–72 %
    share = b.urban_population / b.population
    assert np.all((share > 0.3) & (share < 0.95))
    prov = b.urban_population.sum() / b.population.sum()
    assert abs(prov - obs("Jilin_province", 2024, "urbanization_rate") / 100) < 0.01
    # age shares are distributions, older than the national 2020 shape
    assert np.allclose(b.age_shares.sum(1), 1)


def test_base_year_migration_rates_are_reproduced(baseline_traj):
    tr = baseline_traj
    P = total_population(tr)[0, 0]
    rate = tr.rates["cum_migration"][0, 0]
    net = rate[:, :len(NODES)].sum(0) - rate[:len(NODES), :].sum(1)
    np.testing.assert_allclose(net / P, PARAMETERS["base_net_migration_rate"].default_array(), atol=1e-10)
    np.testing.assert_allclose(rate[:len(NODES), :].sum(1) / P, 0.03, rtol=1e-9)
    assert abs(rate[-1, :len(NODES)].sum() / 150000.0 - 1) < 1e-9


def test_net_migration_defaults_follow_the_data(baseline_traj):
    """Default base-year net migration = 2020 census→2024 growth minus the base-year natural rate."""
    b = base_year()
    tr = baseline_traj
    natural = (tr.rates["cum_births"][0, 0] - tr.rates["cum_deaths"][0, 0]) / b.population
    growth = np.log(b.population / b.population_2020) / (BASE_DATE - CENSUS_2020_DATE)
    np.testing.assert_allclose(PARAMETERS["base_net_migration_rate"].default_array(), growth - natural, atol=1e-4)


def test_no_transient_at_t0(baseline_traj):
    """Perceived quantities start at their targets: no jump in the first instant."""
    tr = baseline_traj
    for name in ("perceived_attractiveness", "perceived_wage", "smoothed_income", "service_capacity"):
        r0, y0 = tr.rates[name][0, 0], tr.states[name][0, 0]
        assert np.max(np.abs(r0) / np.maximum(np.abs(y0), 1.0)) < 0.1, name
    assert np.allclose(tr.rates["perceived_attractiveness"][0, 0], 0, atol=1e-12)
    assert np.allclose(tr.rates["perceived_wage"][0, 0], 0, atol=1e-6)


def test_initial_price_trend_follows_the_70_city_index(baseline_traj):
    """The base vacancy reproduces the Dec 2024/Dec 2023 new-home price change (Changchun, Jilin)."""
    b = base_year()
    growth = baseline_traj.rates["house_price"][0, 0] / baseline_traj.states["house_price"][0, 0]
    for node in ("CC_P", "JL_P"):
        i = NODES.index(node)
        assert abs(growth[i] - np.log1p(b.price_index_growth[i])) < 2e-3
