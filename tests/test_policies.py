"""Policies in planner units (``policies:``): their translation into levers, bad input, fiscal costs."""
import math

import numpy as np
import pytest

from simulator import scenario_from_dict
from simulator.api import run
from simulator.scenario import ScenarioError
from simulator.scenario.policies import (CHILD_COST, COST_PER_GRADUATE, FERTILITY_SUBSIDY_ELASTICITY,
                                         HUKOU_CONDITIONS, SUBSIDY_YEARS, plus_step)
from simulator.scenario.schedules import Piecewise
from simulator.model.nodes import NODES
from simulator.model.parameters import resolve


def _scenario(policies, **extra):
    return scenario_from_dict({"name": "p", "time": {"start": 2024, "end": 2031}, "policies": policies, **extra})


def test_rail_sets_the_link_from_its_opening_year():
    sc = _scenario({"rail": [{"link": "JL_P-CC_P", "minutes": 40, "opens": 2027}]})
    tt = sc.levers["travel_time"].schedules["CC_P-JL_P"]          # either order of the pair
    assert float(tt.value(2026.5)) == 60.0 and float(tt.value(2027.5)) == 40.0


def test_hukou_conditions_add_their_increments_capped_at_one():
    sc = _scenario({"hukou": [{"nodes": ["JL_P"], "removed": ["rental_settlement"], "year": 2026}]})
    k = sc.levers["hukou_ease"].schedules["JL_P"]
    assert float(k.value(2027)) == pytest.approx(0.9 + HUKOU_CONDITIONS["rental_settlement"][0])
    both = _scenario({"hukou": [{"nodes": "plan_area", "removed": list(HUKOU_CONDITIONS), "year": 2026},
                                {"nodes": "plan_area", "removed": list(HUKOU_CONDITIONS), "year": 2028}]})
    assert float(both.levers["hukou_ease"].schedules["CC_P"].value(2029)) == 1.0
    assert float(both.levers["hukou_ease"].schedules["CC_R"].value(2029)) == 0.9     # not in the plan area


def test_graduates_retained_set_the_graduates_retained_lever():
    sc = _scenario({"graduates_retained": [{"node": "JL_P", "per_year": 10000, "from": 2025}]})
    sched = sc.levers["graduates_retained"].schedules["JL_P"]
    assert float(sched.value(2024.5)) == 0.0 and float(sched.value(2026)) == pytest.approx(10000)


def test_graduates_raise_young_in_migration_by_about_the_target():
    """The programme keeps or attracts exactly X a year at first; other movers respond (wages, crowding), so
    the node's net gain in the first full year is bounded by 0.5× to 1.2× of 10,000/yr."""
    base = run(scenario_from_dict({"name": "b", "time": {"start": 2024, "end": 2026}}))
    sc = run(_scenario({"graduates_retained": [{"node": "JL_P", "per_year": 10000, "from": 2024}]},
                       time={"start": 2024, "end": 2026}))
    gain = float(sc.net_migration.sel(region="JL_P", time=2025) - base.net_migration.sel(region="JL_P", time=2025))
    assert 5_000 < gain < 12_000


def test_childcare_subsidy_raises_tfr_by_the_elasticity_rule():
    sc = _scenario({"childcare_subsidy": [{"nodes": "CC_P", "yuan_per_child": 3600, "from": 2025}]})
    tfr = sc.levers["tfr"].schedules["CC_P"]
    before = float(tfr.value(2024.5))
    assert float(tfr.value(2026)) == pytest.approx(
        before * (1 + FERTILITY_SUBSIDY_ELASTICITY * SUBSIDY_YEARS * 3600 / CHILD_COST))
    assert 0.01 < float(tfr.value(2026)) / before - 1 < 0.05     # 3 × 3,600 of 485,000 yuan: ≈ 2 % more births


def test_hukou_policy_adds_to_a_ramp_instead_of_replacing_it():
    sc = _scenario({"hukou": [{"nodes": ["JL_P"], "removed": ["rental_settlement"], "year": 2026}]},
                   levers={"hukou_ease": {"JL_P": {"ramp": {"start": 2025, "end": 2030, "from": 0.9, "to": 0.95}}}})
    k = sc.levers["hukou_ease"].schedules["JL_P"]
    assert float(k.value(2028)) == pytest.approx(0.93 + 0.05)      # the ramp keeps rising after the policy


def test_affordable_housing_and_projects_are_windows_added_to_the_levers():
    sc = _scenario({"affordable_housing": [{"node": "CC_P", "units_per_year": 1000, "unit_size_m2": 50,
                                            "from": 2025, "until": 2028}],
                    "project_investment": [{"node": "SP_P", "yuan_per_year": 1e10, "from": 2025, "until": 2027}]},
                   levers={"policy_housing_starts": {"CC_P": 1e5}})
    starts = sc.levers["policy_housing_starts"].schedules["CC_P"]
    assert [float(starts.value(t)) for t in (2024.5, 2026, 2029)] == [1e5, 1.5e5, 1e5]
    proj = sc.levers["project_investment"].schedules["SP_P"]
    assert [float(proj.value(t)) for t in (2024.5, 2026, 2028)] == [0.0, 1e10, 0.0]


def test_plus_step_is_exact_on_a_ramp():
    ramp = Piecewise.ramp(2025, 2030, 1.0, 2.0)
    out = plus_step(ramp, 2027, 0.5)
    for t in (2024, 2026, 2027.5, 2029, 2031):
        expected = float(ramp.value(t)) + (0.5 if t > 2027 else 0.0)
        assert float(out.value(t)) == pytest.approx(expected)


@pytest.mark.parametrize("policies, key, hint", [
    ({"rial": []}, "policies.rial", "rail"),
    ({"rail": [{"link": "CC_P-XX_P", "minutes": 40, "opens": 2027}]}, "policies.rail[0].link", None),
    ({"rail": [{"link": "CC_P-JL_P", "minutes": -4, "opens": 2027}]}, "policies.rail.0.minutes", None),
    ({"hukou": [{"nodes": "plan_area", "removed": ["hukou_lottery"], "year": 2026}]}, "policies.hukou.0.removed", None),
    ({"graduates_retained": [{"node": "JL_Q", "per_year": 1000, "from": 2025}]},
     "policies.graduates_retained[0].node", "JL_P"),
    ({"affordable_housing": [{"node": "CC_P", "units_per_year": 10, "unit_size_m2": 50, "from": 2028,
                              "until": 2026}]}, "policies.affordable_housing[0].until", None),
    ({"childcare_subsidy": [{"nodes": "CC_P", "yuan_per_child": 3600, "form": 2025}]},
     "policies.childcare_subsidy.0", None),
])
def test_bad_policies_are_clear_errors(policies, key, hint):
    with pytest.raises(ScenarioError) as info:
        _scenario(policies)
    text = str(info.value)
    assert key in text, text
    if hint:
        assert hint in text


def test_fiscal_costs_and_the_budget_flag():
    ds = run(_scenario({"graduates_retained": [{"node": "JL_P", "per_year": 10000, "from": 2025}],
                        "project_investment": [{"node": "CC_P", "yuan_per_year": 1e11, "from": 2025, "until": 2028,
                                                "local_share": 0.5}],
                        "childcare_subsidy": [{"nodes": "plan_area", "yuan_per_child": 3600, "from": 2025}]}))
    cost = ds.policy_cost
    assert cost.sizes["policy"] == 3
    grads = cost.sel(policy="graduates_retained[0]")
    assert float(grads.sel(time=2025)) == 0.0                     # the year 2025 is before the policy acts
    assert float(grads.sel(time=2026)) == pytest.approx(10000 * COST_PER_GRADUATE)
    proj = cost.sel(policy="project_investment[2]")
    assert float(proj.sel(time=2027)) == pytest.approx(5e10) and float(proj.sel(time=2029)) == 0.0
    births = ds.births.sel(region=["CC_P", "JL_P", "SP_P", "LY_P"]).sum("region")
    np.testing.assert_allclose(cost.sel(policy="childcare_subsidy[1]").sel(time=2030), 3 * 3600 * births.sel(time=2030))
    from simulator.fiscal import fiscal_summary
    rows = {r["year"]: r for r in fiscal_summary(ds, [2027, 2030])}
    assert rows[2027]["exceeds"] and not rows[2030]["exceeds"]     # 50 bn of local money is far above the room


def test_rail_capital_and_each_city_pays_from_its_own_budget():
    """Rail's local share of the capital cost is spread over the years up to the opening and split between the
    link's two ends; each budget (four whole cities, the rest of Jilin) sets its cost against its own revenue
    (τ_f·GDP + transfers); the pool is the four cities, on the same basis, without the rest of Jilin."""
    from simulator.costs import RAIL_LOCAL_SHARE, RAIL_YUAN_PER_MINUTE
    from simulator.fiscal import DISCRETIONARY_SHARE, fiscal_summary
    ds = run(_scenario({"rail": [{"link": "CC_P-JL_P", "minutes": 40, "opens": 2027}],
                        "graduates_retained": [{"node": "LY_P", "per_year": 2000, "from": 2025},
                                               {"node": "RJ", "per_year": 1000, "from": 2025}]},
                       levers={"transfers": {"LY_P": 5e9}}))
    rail = ds.policy_cost.sel(policy="rail[2]")                  # policies of one kind in a file come in kind order
    capital = (60 - 40) * RAIL_YUAN_PER_MINUTE * RAIL_LOCAL_SHARE            # 60 min before the opening
    np.testing.assert_allclose(rail.sel(time=[2025, 2026, 2027]), capital / 3)   # calendar years 2025–27
    assert float(rail.sel(time=2028)) == 0.0 and float(rail.sel(time=2024)) == 0.0
    cost = ds.budget_policy_cost.sel(time=2026)
    assert float(cost.sel(budget="Changchun")) == pytest.approx(capital / 6)          # half of a third
    assert float(cost.sel(budget="Jilin")) == pytest.approx(capital / 6)
    assert float(cost.sel(budget="Liaoyuan")) == pytest.approx(2000 * COST_PER_GRADUATE)
    assert float(cost.sel(budget="rest of Jilin")) == pytest.approx(1000 * COST_PER_GRADUATE)
    assert float(cost.sel(budget="Siping")) == 0.0
    np.testing.assert_allclose(cost.sum(), ds.policy_cost_total.sel(time=2026))        # nothing lost or doubled
    share = float(np.mean(resolve({})["fiscal_revenue_share"]))
    revenue = ds.budget_revenue.sel(time=2026)
    assert float(revenue.sel(budget="Liaoyuan")) == pytest.approx(
        share * float(ds.city_gdp_nominal.sel(time=2026, whole_city="Liaoyuan")) + 5e9)
    assert float(revenue.sel(budget="rest of Jilin")) == pytest.approx(
        share * float(ds.gdp_nominal.sel(time=2026, region="RJ")))
    row = fiscal_summary(ds, [2026])[0]
    assert [r["budget"] for r in row["budgets"]] == ["Changchun", "Jilin", "Liaoyuan", "rest of Jilin"]
    assert all(r["fiscal_room"] == pytest.approx(DISCRETIONARY_SHARE * float(revenue.sel(budget=r["budget"])))
               for r in row["budgets"])
    # the pool: the four cities' costs and rooms, the rest of Jilin kept out
    assert row["policy_cost"] == pytest.approx(float(cost.sum()) - 1000 * COST_PER_GRADUATE)
    assert row["fiscal_room"] == pytest.approx(DISCRETIONARY_SHARE * float(revenue.sel(
        budget=["Changchun", "Jilin", "Siping", "Liaoyuan"]).sum()))


def test_run_summary_and_terminal_report_the_fiscal_check(tmp_path):
    """`sim run` prints the policy spending line and summary.json carries it (flagged when above the room)."""
    import json
    from click.testing import CliRunner
    from simulator.cli import main
    f = tmp_path / "p.yaml"
    f.write_text("name: p\ntime: {start: 2024, end: 2030}\npolicies:\n  project_investment:\n"
                 "    - {node: CC_P, yuan_per_year: 1.0e11, from: 2024, until: 2030, local_share: 0.5}\n",
                 encoding="utf-8")
    res = CliRunner().invoke(main, ["run", str(f), "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "policy spending" in res.output and "EXCEEDS the budget room" in res.output
    fiscal = json.loads((tmp_path / "out" / "summary.json").read_text())["fiscal"]
    assert fiscal and all(row["exceeds"] for row in fiscal if row["year"] > 2024)
