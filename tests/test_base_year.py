"""The 2024 initial state reproduces the data, and the base-year closures hold."""
from pathlib import Path

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
    # expectations start on the steady path of growth g0: forecasts equal the current values, the
    # perceived stocks move at the built-in trend (κ·g0 for utilities, g0 for the wage)
    aux, g0 = tr.auxiliaries, PARAMETERS["base_income_growth"].default
    np.testing.assert_allclose(aux["attractiveness_forecast"][0, 0], aux["attractiveness"][0, 0], atol=1e-12)
    np.testing.assert_allclose(aux["wage_forecast"][0, 0], aux["wage"][0, 0], rtol=1e-12)
    kappa = PARAMETERS["income_weight"].default
    np.testing.assert_allclose(tr.rates["perceived_attractiveness"][0, 0], kappa * g0, rtol=1e-9)
    np.testing.assert_allclose(tr.rates["perceived_ext_utility"][0, 0], kappa * g0, rtol=1e-9)
    np.testing.assert_allclose(tr.rates["perceived_wage"][0, 0] / tr.states["perceived_wage"][0, 0], g0, rtol=1e-9)


def test_initial_price_trend_follows_the_70_city_index(baseline_traj):
    """The base vacancy reproduces the Dec 2024/Dec 2023 new-home price change (Changchun, Jilin)."""
    b = base_year()
    growth = baseline_traj.rates["house_price"][0, 0] / baseline_traj.states["house_price"][0, 0]
    for node in ("CC_P", "JL_P"):
        i = NODES.index(node)
        assert abs(growth[i] - np.log1p(b.price_index_growth[i])) < 2e-3


# --- 2010: the start of the long historical run -------------------------------------------------
def test_census_2010_node_split_reproduces_the_census():
    """The 2010 nodes partition each city's 2010 census (2020 boundaries) and the province exactly;
    the plan area's full units add up to the four-city full-unit total; the derived Siping split
    leaves Lishu + Shuangliao as its rest (their own rows agree within 0.5 %)."""
    from simulator.model.base_data import census_2010_city
    b = base_year(2010)
    for city in CITIES:
        idx = [i for i, n in enumerate(NODES) if CITY[n] == city]
        assert abs(b.population[idx].sum() / census_2010_city(city) - 1) < 1e-12
    assert abs(b.population.sum() / obs("Jilin_province", 2010, "resident_pop_census") - 1) < 1e-12
    sp_rest = b.population[NODES.index("SP_R")]
    lishu_shuangliao = obs("Siping-Lishu", 2010, "resident_pop_census") + obs("Siping-Shuangliao", 2010, "resident_pop_census")
    assert abs(sp_rest / lishu_shuangliao - 1) < 0.005
    full = b.population[[NODES.index(n) for n in ("CC_P", "JL_P", "SP_P", "LY_P")]].sum()
    partial = b.partial_share * (obs("Changchun-Yushu(PARTIAL in scope)", 2010, "resident_pop_census")
                                 + obs("Liaoyuan-Dongliao(PARTIAL in scope)", 2010, "resident_pop_census"))
    assert abs(full - partial - obs("Metro_area", 2010, "scope_pop_census_full_units")) < 1.0


def test_census_2010_urban_and_age_shares():
    from simulator.model.base_data import census_2010_city
    b = base_year(2010)
    for city in CITIES:
        idx = [i for i, n in enumerate(NODES) if CITY[n] == city]
        assert abs(b.urban_population[idx].sum() / census_2010_city(city, urban=True) - 1) < 1e-12
        for i in idx:   # the 2010 census shares of the city, exactly
            assert abs(b.age_shares[i, :3].sum() * 100 - obs(city, 2010, "share_age_0_14_2020bounds")) < 1e-9
            assert abs(b.age_shares[i, 13:].sum() * 100 - obs(city, 2010, "share_age_65plus_2020bounds")) < 1e-9
    share10, share20 = b.urban_population / b.population, base_year(2020).urban_population / base_year(2020).population
    assert np.all((share10 > 0.1) & (share10 < share20))          # every node urbanized over the decade
    assert np.allclose(b.age_shares.sum(1), 1)


def test_back_shift_inverts_ageing():
    """Moving the 2020 shape back ten years and forward again with roll_forward's survivors (no
    births in the groups that started alive) returns the 2020 shares of ages 10–84."""
    from simulator.model.base_data import age_schedules, back_shift_age_shares
    s20 = age_schedules()["national_population_2020"]
    s20 = s20 / s20.sum()
    s10 = back_shift_age_shares(s20, 10)
    m = age_schedules()["mortality_rate_2020"]
    forward = np.array([s10[g - 2] * np.exp(-5 * m[g - 2:g].sum()) for g in range(2, 17)])
    np.testing.assert_allclose(forward / forward.sum(), s20[2:17] / s20[2:17].sum(), rtol=1e-12)


def test_gdp_revision_keeps_growth_and_changes_levels_at_breaks():
    from simulator.model.base_data import BREAK_YEAR_NOMINAL_GROWTH, DEFLATOR_2014, revised_gdp, revision_factor
    assert revised_gdp("Jilin", 2019) == obs("Jilin", 2019, "gdp_current") * 1e8
    # outside break years the published growth is kept
    assert abs(revised_gdp("Jilin", 2015) / revised_gdp("Jilin", 2014)
               - obs("Jilin", 2015, "gdp_current") / obs("Jilin", 2014, "gdp_current")) < 1e-12
    # across a break the assumed growth replaces the published jump
    assert abs(revised_gdp("Jilin", 2017) / revised_gdp("Jilin", 2016) - 1 - BREAK_YEAR_NOMINAL_GROWTH[2017]) < 1e-12
    assert abs(revised_gdp("Jilin", 2014) / revised_gdp("Jilin", 2013)
               - 1 - obs("Jilin", 2014, "gdp_real_growth") / 100 - DEFLATOR_2014) < 1e-12
    assert abs(revised_gdp("Changchun", 2017) / revised_gdp("Changchun", 2016)
               - obs("Changchun", 2017, "gdp_current") / obs("Changchun", 2016, "gdp_current")) < 1e-12
    for city in CITIES:       # the revision lowered every level
        assert 0.4 < revision_factor(city, 2010) < 1.0
    with pytest.raises(ValueError, match="2010–2019"):
        revised_gdp("Jilin", 2020)


def test_2010_gdp_is_boundary_invariant_for_changchun_plus_siping():
    from simulator.model.base_data import city_gdp_2010, revised_gdp
    g = city_gdp_2010()
    assert abs(g["Changchun"] + g["Siping"] - revised_gdp("Changchun", 2010) - revised_gdp("Siping", 2010)) < 1.0
    b = base_year(2010)
    for city in CITIES:
        idx = [i for i, n in enumerate(NODES) if CITY[n] == city]
        assert abs(b.gdp[idx].sum() / g[city] - 1) < 1e-12


def test_2010_net_migration_rates_in_the_history_scenario_follow_the_census():
    """calibration/history_base_2010.yaml: ln(P2020/P2010)/10 minus the city's 2010 census
    natural rate (RJ: the four cities' population-weighted mean), to the 4 decimals written."""
    from simulator.scenario import load_scenario
    sc = load_scenario(Path(__file__).resolve().parents[1] / "calibration" / "history_base_2010.yaml")
    written = sc.parameters["base_net_migration_rate"]
    b10, b20 = base_year(2010), base_year(2020)
    natural = {c: (obs(c, 2010, "birth_rate_census") - obs(c, 2010, "death_rate_census")) / 1000 for c in CITIES}
    weights = {c: sum(b10.population[i] for i, n in enumerate(NODES) if CITY[n] == c) for c in CITIES}
    natural_rj = sum(natural[c] * weights[c] for c in CITIES) / sum(weights.values())
    for i, n in enumerate(NODES):
        nat = natural_rj if n == "RJ" else natural[CITY[n]]
        expected = np.log(b20.population[i] / b10.population[i]) / 10 - nat
        assert abs(np.asarray(written)[i] - expected) < 6e-5, n
