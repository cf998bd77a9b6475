"""Tests of the scenario layer: file format, validation messages, merging, schedules."""
from __future__ import annotations

import copy
import hashlib
import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.model.levers import LEVERS
from simulator.model.nodes import NODES, PAIRS
from simulator.model.parameters import PARAMETERS
from simulator.scenario import (LeverSchedule, Piecewise, Scenario, ScenarioError, json_schema,
                                load_scenario, scenario_from_dict)

VALID = {
    "name": "plan",
    "description": "a valid scenario",
    "time": {"start": 2024, "end": 2035, "output_step": 1},
    "solver": {"method": "RK45", "rtol": 1e-6, "atol": 1e-6},
    "model": {"age_substages": 5},
    "targets": {"year": 2030, "population": 1.3e7, "gdp_nominal": 1.35e12},
    "parameters": {"income_weight": 1.8, "mortality_scale": {"CC_P": 0.95, "all": 1.0}},
    "levers": {
        "deflator_growth": 0.01,
        "hukou_ease": {"all": {"ramp": {"start": 2026, "end": 2030, "from": 0.9, "to": 1.0}}, "CC_P": 1.0},
        "tfp_growth": {"plan_area": {"step": [[2026, 0.025]]}},
        "travel_time": {"LY_P-CC_P": {"step": [[2028.5, 100]]}},
        "tfr": {"table": [[2025, 1.0], [2030, 1.2]]},
        "talent_bonus": {"constant": 0.1},
    },
}


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def error_of(data=None, *, path=None, **kwargs) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        if path is not None:
            load_scenario(path)
        else:
            scenario_from_dict(data, **kwargs)
    return info.value


def assert_mentions(err: ScenarioError, *parts: str):
    text = str(err)
    for part in parts:
        assert part in text, f"{part!r} not in:\n{text}"


# --- a valid scenario ---------------------------------------------------------------------------

def test_valid_scenario_resolves():
    sc = scenario_from_dict(VALID)
    assert isinstance(sc, Scenario)
    assert (sc.name, sc.description, sc.path) == ("plan", "a valid scenario", None)
    np.testing.assert_array_equal(sc.output_times, np.arange(2024, 2036, dtype=float))
    assert (sc.solver.method, sc.solver.rtol, sc.age_substages) == ("RK45", 1e-6, 5)
    assert sc.targets.population == 1.3e7
    assert set(sc.levers) == set(LEVERS)
    assert sc.parameter_overrides["income_weight"] == 1.8
    assert sc.parameter_overrides["mortality_scale"] == {n: (0.95 if n == "CC_P" else 1.0) for n in NODES}
    assert sc.parameters["mortality_scale"].shape == (len(NODES),)
    assert sc.parameters["mortality_scale"][0] == 0.95
    assert float(sc.parameters["income_weight"]) == 1.8
    assert set(sc.parameters) == set(PARAMETERS)
    json.dumps(sc.to_dict())
    assert sc.to_dict()["levers"]["deflator_growth"]["elements"]["value"] == 0.01


def test_defaults_and_untouched_levers():
    sc = scenario_from_dict({})
    assert (sc.start, sc.end, sc.output_step) == (2024, 2035, 1)
    assert (sc.targets.year, sc.targets.gdp_nominal) == (2030, 1.35e12)
    for name, spec in LEVERS.items():
        np.testing.assert_array_equal(sc.levers[name].value(2030.0), spec.default_array())
    assert sc.breakpoints().size == 0
    assert sc.parameter_overrides == {}


def test_load_file_text_and_hash(tmp_path):
    path = write(tmp_path, "plan.yaml", yaml.safe_dump(VALID | {"name": None}))
    sc = load_scenario(path)
    assert sc.name == "plan"  # file stem when name is empty
    assert sc.path == path and sc.chain == (path,)
    assert sc.text.startswith(f"# --- {path} ---\n")
    assert sc.sha256 == hashlib.sha256(sc.text.encode()).hexdigest()


def test_yaml_exponent_floats(tmp_path):
    path = write(tmp_path, "exp.yaml", "targets: {population: 1.2e7, gdp_nominal: 2e12}\nsolver: {rtol: 1.0e-4}\n")
    sc = load_scenario(path)
    assert (sc.targets.population, sc.targets.gdp_nominal, sc.solver.rtol) == (1.2e7, 2e12, 1e-4)


SCENARIO_FILES = sorted((Path(__file__).parents[1] / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.name for p in SCENARIO_FILES])
def test_shipped_scenarios_load_and_match_schema(path):
    sc = load_scenario(path)
    assert sc.chain[-1] == path
    jsonschema = pytest.importorskip("jsonschema")
    from simulator.scenario.loader import _Loader
    data = yaml.load(path.read_text(), Loader=_Loader)
    assert not list(jsonschema.Draft202012Validator(json_schema()).iter_errors(data))


def test_output_step_fraction():
    sc = scenario_from_dict({"time": {"end": 2026, "output_step": 0.25}})
    assert len(sc.output_times) == 9 and sc.output_times[-1] == 2026


# --- schedules ----------------------------------------------------------------------------------

def test_step_left_and_right_limits():
    p = Piecewise.step([(2026, 5.0), (2030, 7.0)], Piecewise.constant(1.0))
    assert p.value(2025.9) == 1.0
    assert p.value(2026, side="left") == 1.0 and p.value(2026, side="right") == 5.0
    assert p.value(2030, side="left") == 5.0 and p.value(2030) == 7.0
    assert p.value(2040) == 7.0


def test_ramp_and_clamping():
    p = Piecewise.ramp(2026, 2030, 0.0, 1.0)
    np.testing.assert_allclose(p.value([2020, 2026, 2027, 2029, 2030, 2035]), [0, 0, 0.25, 0.75, 1, 1])
    assert p.value(2028, side="left") == p.value(2028, side="right") == 0.5


def test_table_interpolation_and_clamping():
    p = Piecewise.table([(2025, 1.0), (2027, 3.0), (2030, 0.0)])
    np.testing.assert_allclose(p.value([2024, 2025, 2026, 2027, 2028.5, 2030, 2031]), [1, 1, 2, 3, 1.5, 0, 0])
    single = Piecewise.table([(2026, 4.0)])
    assert single.value(2024) == single.value(2035) == 4.0


def test_step_on_top_of_a_ramp_is_piecewise_linear():
    p = Piecewise.step([(2028, 10.0)], Piecewise.ramp(2026, 2030, 0.0, 4.0))
    assert p.times == (2026.0, 2028.0)
    assert p.value(2027) == 1.0 and p.value(2028, side="left") == 2.0 and p.value(2028) == 10.0
    assert p.value(2029) == 10.0


def test_step_replacing_a_parent_step_at_the_same_time():
    parent = Piecewise.step([(2028, 5.0)], Piecewise.constant(1.0))
    p = Piecewise.step([(2028, 9.0)], parent)
    assert p.times == (2028.0,)
    assert p.value(2028, side="left") == 1.0 and p.value(2028) == 9.0


def test_lever_schedule_values_in_scenario():
    sc = scenario_from_dict(VALID)
    hukou = sc.levers["hukou_ease"].value(2028)
    assert hukou.shape == (len(NODES),)
    assert hukou[NODES.index("CC_P")] == 1.0 and hukou[NODES.index("RJ")] == pytest.approx(0.95)
    tfp_left = sc.levers["tfp_growth"].value(2026, side="left")
    tfp_right = sc.levers["tfp_growth"].value(2026, side="right")
    np.testing.assert_array_equal(tfp_left, np.full(len(NODES), 0.02))
    assert [tfp_right[NODES.index(n)] for n in ("CC_P", "CC_R", "LY_P", "RJ")] == [0.025, 0.02, 0.025, 0.02]
    assert sc.levers["deflator_growth"].value(2030).shape == ()
    assert sc.levers["tfr"].value(2027.5)[0] == pytest.approx(1.1)


def test_lever_schedule_default():
    lever = LeverSchedule.default(LEVERS["tfr"])
    np.testing.assert_array_equal(lever.value(2030), LEVERS["tfr"].default_array())
    assert lever.breakpoints() == () and lever.is_default
    scalar = LeverSchedule.default(LEVERS["metro_integration"])
    assert scalar.value(2030).shape == () and scalar.to_dict()["elements"] == {"value": 0.0}


def test_breakpoints():
    sc = scenario_from_dict(VALID)
    np.testing.assert_array_equal(sc.breakpoints(), [2025, 2026, 2028.5, 2030])
    assert sc.levers["hukou_ease"].breakpoints() == (2026.0, 2030.0)
    # knots at the run ends are not breakpoints
    edge = scenario_from_dict({"levers": {"tfr": {"table": [[2024, 1.0], [2035, 2.0]]}}})
    assert edge.breakpoints().size == 0


def test_linear_between_breakpoints():
    sc = scenario_from_dict(VALID)
    bps = np.concatenate([[sc.start], sc.breakpoints(), [sc.end]])
    for lever in sc.levers.values():
        for a, b in zip(bps[:-1], bps[1:]):
            va, vb = lever.value(a, side="right"), lever.value(b, side="left")
            mid = lever.value((a + b) / 2)
            np.testing.assert_allclose(mid, (va + vb) / 2, rtol=1e-12)


def test_pair_key_normalization():
    sc = scenario_from_dict({"levers": {"travel_time": {"LY_P-CC_P": 50, "all": 300}}})
    tt = sc.levers["travel_time"]
    assert "CC_P-LY_P" in tt.schedules and len(tt.schedules) == len(PAIRS)
    values = tt.value(2030)
    assert values[PAIRS.index("CC_P-LY_P")] == 50
    assert values[PAIRS.index("CC_P-JL_P")] == 300


def test_precedence_node_over_plan_area_over_all():
    sc = scenario_from_dict({"levers": {"amenity_bonus": {"all": 0.1, "plan_area": 0.2, "CC_P": 0.3}},
                             "parameters": {"natural_unemployment": {"plan_area": 0.06, "all": 0.04}}})
    v = dict(zip(NODES, sc.levers["amenity_bonus"].value(2025)))
    assert (v["CC_P"], v["JL_P"], v["JL_R"]) == (0.3, 0.2, 0.1)
    p = sc.parameter_overrides["natural_unemployment"]
    assert (p["SP_P"], p["RJ"]) == (0.06, 0.04)


# --- extends ------------------------------------------------------------------------------------

def test_extends_chain_merging_and_step_inheritance(tmp_path):
    write(tmp_path, "grand.yaml", """\
        description: grandparent
        time: {end: 2040, output_step: 2}
        solver: {method: BDF}
        parameters: {income_weight: 2.0, mortality_scale: {all: 1.2}}
        levers:
          hukou_ease: {ramp: {start: 2026, end: 2030, from: 0.9, to: 1.0}}
          travel_time: {CC_P-JL_P: 50}
        """)
    (tmp_path / "sub").mkdir()
    write(tmp_path, "sub/parent.yaml", """\
        extends: ../grand.yaml
        solver: {rtol: 1.0e-4}
        parameters: {mortality_scale: {CC_P: 0.9}}
        levers:
          hukou_ease: {CC_P: {step: [[2028, 0.5]]}}
        """)
    child = write(tmp_path, "sub/child.yaml", """\
        name: kid
        extends: parent.yaml
        time: {end: 2036}
        parameters: {income_weight: 1.0}
        levers:
          hukou_ease: {JL_P: {step: [[2027, 0.2]]}}
          travel_time: {JL_P-CC_P: {step: [[2030, 40]]}}
        """)
    sc = load_scenario(child)
    assert sc.name == "kid"
    assert [p.name for p in sc.chain] == ["grand.yaml", "parent.yaml", "child.yaml"]
    assert (sc.end, sc.output_step) == (2036, 2)
    assert (sc.solver.method, sc.solver.rtol, sc.solver.atol) == ("BDF", 1e-4, 1e-6)
    assert sc.parameter_overrides["income_weight"] == 1.0
    assert sc.parameter_overrides["mortality_scale"]["CC_P"] == 0.9
    assert sc.parameter_overrides["mortality_scale"]["RJ"] == 1.2
    hukou = sc.levers["hukou_ease"]
    cc, jl, rj = NODES.index("CC_P"), NODES.index("JL_P"), NODES.index("RJ")
    # CC_P: grandparent's ramp before the parent's step, 0.5 after
    assert hukou.value(2027)[cc] == pytest.approx(0.925)
    assert hukou.value(2028, side="left")[cc] == pytest.approx(0.95)
    assert hukou.value(2028)[cc] == 0.5 and hukou.value(2033)[cc] == 0.5
    # JL_P: ramp until 2027, then the child's step
    assert hukou.value(2027, side="left")[jl] == pytest.approx(0.925)
    assert hukou.value(2029)[jl] == 0.2
    assert hukou.value(2029)[rj] == pytest.approx(0.975)
    tt = sc.levers["travel_time"]
    k = PAIRS.index("CC_P-JL_P")
    assert tt.value(2029)[k] == 50 and tt.value(2030)[k] == 40
    assert sc.text.count("# --- ") == 3 and "grand.yaml ---" in sc.text.splitlines()[0]
    np.testing.assert_array_equal(sc.breakpoints(), [2026, 2027, 2028, 2030])


def test_child_all_overrides_parent_node(tmp_path):
    write(tmp_path, "base.yaml", "levers: {amenity_bonus: {CC_P: 0.5}}\n")
    child = write(tmp_path, "child.yaml", "extends: base.yaml\nlevers: {amenity_bonus: {all: 0.1}}\n")
    np.testing.assert_array_equal(load_scenario(child).levers["amenity_bonus"].value(2030), 0.1)


def test_dict_extends_relative_to_base_dir(tmp_path):
    write(tmp_path, "base.yaml", "parameters: {income_weight: 2.5}\n")
    sc = scenario_from_dict({"extends": "base.yaml"}, base_dir=tmp_path)
    assert sc.parameter_overrides == {"income_weight": 2.5}


# --- with_changes -------------------------------------------------------------------------------

def test_with_changes():
    sc = scenario_from_dict(VALID)
    changed = sc.with_changes(parameters={"income_weight": 0.5, "mortality_scale": {"RJ": 1.1}},
                              levers={"tfp_growth": {"CC_P": {"step": [[2032, 0.0]]}}})
    assert changed.parameter_overrides["income_weight"] == 0.5
    assert changed.parameter_overrides["mortality_scale"]["CC_P"] == 0.95
    assert changed.parameters["mortality_scale"][NODES.index("RJ")] == 1.1
    tfp = changed.levers["tfp_growth"]
    cc = NODES.index("CC_P")
    assert tfp.value(2030)[cc] == 0.025 and tfp.value(2032)[cc] == 0.0
    assert 2032 in changed.breakpoints()
    assert changed.sha256 != sc.sha256 and "<with_changes>" in changed.text
    assert sc.parameter_overrides["income_weight"] == 1.8  # original untouched
    with pytest.raises(ScenarioError, match=r"levers\.tfp_growth\.CC_Q.*did you mean"):
        sc.with_changes(levers={"tfp_growth": {"CC_Q": 0.0}})
    with pytest.raises(ScenarioError, match="year outside the run"):
        sc.with_changes(levers={"tfp_growth": {"step": [[2050, 0.0]]}})


# --- JSON schema --------------------------------------------------------------------------------

def test_json_schema():
    schema = json.loads(json.dumps(json_schema()))
    assert set(schema["properties"]["levers"]["properties"]) == set(LEVERS)
    assert set(schema["properties"]["parameters"]["properties"]) == set(PARAMETERS)
    income = schema["properties"]["parameters"]["properties"]["income_weight"]
    assert income["maximum"] == PARAMETERS["income_weight"].upper and "description" in income
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert not list(validator.iter_errors(VALID))
    assert list(validator.iter_errors({"levers": {"no_such_lever": 1}}))


# --- bad input: each path -----------------------------------------------------------------------

def test_unknown_top_level_key(tmp_path):
    path = write(tmp_path, "bad.yaml", "tiem: {end: 2030}\n")
    err = error_of(path=path)
    assert_mentions(err, "bad.yaml", "tiem", "unknown key", "did you mean 'time'?")
    p = err.problems[0]
    assert (p.path, p.value, p.suggestion) == ("tiem", "tiem", "time")


def test_unknown_section_key():
    assert_mentions(error_of({"time": {"ned": 2030}}), "time.ned", "did you mean 'end'?")


def test_unknown_parameter():
    err = error_of({"parameters": {"income_wieght": 1.0}}, source="plan.yaml")
    assert_mentions(err, "plan.yaml", "parameters.income_wieght", "unknown parameter",
                    "did you mean 'income_weight'?")


def test_unknown_lever():
    assert_mentions(error_of({"levers": {"hukou": 1.0}}), "levers.hukou", "'hukou'",
                    "did you mean 'hukou_ease'?")


def test_unknown_node_key(tmp_path):
    path = write(tmp_path, "plan.yaml", "levers: {hukou_ease: {CC_PP: 1.0}}\n")
    assert_mentions(error_of(path=path), "plan.yaml", "levers.hukou_ease.CC_PP", "unknown node", "'CC_PP'",
                    "did you mean 'CC_P'?")
    assert_mentions(error_of({"parameters": {"mortality_scale": {"rj": 1.0}}}),
                    "parameters.mortality_scale.rj", "did you mean 'RJ'?")


def test_unknown_pair_key():
    err = error_of({"levers": {"travel_time": {"CC_P-JL_Q": 50}}})
    assert_mentions(err, "levers.travel_time.CC_P-JL_Q", "unknown pair", "did you mean 'CC_P-JL_P'?")
    assert_mentions(error_of({"levers": {"travel_time": {"CC_P-CC_P": 50}}}), "unknown pair")


def test_pair_given_twice():
    err = error_of({"levers": {"travel_time": {"CC_P-JL_P": 50, "JL_P-CC_P": 60}}})
    assert_mentions(err, "pair given twice")


def test_per_node_mapping_on_shared_parameter():
    err = error_of({"parameters": {"income_weight": {"CC_P": 1.0}}})
    assert_mentions(err, "parameters.income_weight", "shared parameter", "{'CC_P': 1.0}", "a single number")


def test_string_where_number_expected(tmp_path):
    path = write(tmp_path, "s.yaml", "parameters: {income_weight: high}\n")
    assert_mentions(error_of(path=path), "s.yaml", "parameters.income_weight", "'high'", "a number")
    assert_mentions(error_of({"solver": {"rtol": "1e-6"}}), "solver.rtol", "'1e-6'", "a number")
    assert_mentions(error_of({"levers": {"tfr": {"CC_P": {"step": [[2026, "x"]]}}}}),
                    "levers.tfr.CC_P.step.0.1", "'x'")
    assert_mentions(error_of({"levers": {"deflator_growth": True}}), "levers.deflator_growth", "True")


def test_list_where_mapping_expected():
    assert_mentions(error_of({"time": [2024, 2030]}), "time", "[2024, 2030]", "a mapping")
    assert_mentions(error_of({"parameters": ["income_weight"]}), "parameters", "a mapping")
    assert_mentions(error_of({"levers": {"tfr": [1.0]}}), "levers.tfr", "[1.0]", "schedule")


def test_value_below_lower_bound():
    err = error_of({"parameters": {"mortality_improvement": -0.01}})
    assert_mentions(err, "parameters.mortality_improvement", "-0.01", "below the lower bound", "[0, 0.05]")
    err = error_of({"levers": {"reclassification": {"CC_P": {"ramp": {"start": 2025, "end": 2026,
                                                                        "from": 0, "to": -5}}}}})
    assert_mentions(err, "levers.reclassification.CC_P.ramp.to", "-5")


def test_value_above_upper_bound():
    err = error_of({"levers": {"hukou_ease": {"all": 1.2}}})
    assert_mentions(err, "levers.hukou_ease.all", "1.2", "above the upper bound", "[0, 1]")
    assert_mentions(error_of({"parameters": {"natural_vacancy": 1.5}}), "parameters.natural_vacancy", "1.5")


def test_lever_time_outside_run():
    err = error_of({"time": {"end": 2030}, "levers": {"tfp_growth": {"step": [[2031, 0.01]]}}})
    assert_mentions(err, "levers.tfp_growth.step.0.0", "2031", "year outside the run", "[2024, 2030]")
    assert_mentions(error_of({"levers": {"tfr": {"table": [[2020, 1.0]]}}}), "levers.tfr.table.0.0")


def test_non_increasing_step_times():
    err = error_of({"levers": {"tfp_growth": {"step": [[2028, 0.01], [2028, 0.02]]}}})
    assert_mentions(err, "levers.tfp_growth.step", "strictly increasing")
    assert_mentions(error_of({"levers": {"tfr": {"table": [[2030, 1.0], [2026, 1.0]]}}}), "strictly increasing")
    assert_mentions(error_of({"levers": {"tfr": {"ramp": {"start": 2030, "end": 2026, "from": 1, "to": 2}}}}),
                    "levers.tfr.ramp")


def test_end_not_after_start():
    err = error_of({"time": {"end": 2024}}, source="t.yaml")
    assert_mentions(err, "t.yaml", "time.end", "2024", "after start")


def test_unsupported_start_year():
    assert_mentions(error_of({"time": {"start": 2019}}), "time.start", "2019", "unsupported start year", "2024")


def test_output_step_must_divide_run():
    assert_mentions(error_of({"time": {"output_step": 0.7}}), "time.output_step", "0.7")
    assert_mentions(error_of({"time": {"output_step": 0}}), "time.output_step")
    assert_mentions(error_of({"targets": {"year": 2040}}), "targets.year", "2040")


def test_bad_solver_method():
    err = error_of({"solver": {"method": "RK54"}})
    assert_mentions(err, "solver.method", "'RK54'", "RK45", "did you mean 'RK45'?")


def test_malformed_yaml(tmp_path):
    path = write(tmp_path, "broken.yaml", "time:\n  start: 2024\n  end: [2030\nlevers: {}\n")
    err = error_of(path=path)
    assert_mentions(err, "broken.yaml", "malformed YAML", "line ")
    path = write(tmp_path, "tab.yaml", "time:\n  end: 2030\n\tstart: 2024\n")
    assert_mentions(error_of(path=path), "tab.yaml", "line 3")


def test_empty_file(tmp_path):
    assert_mentions(error_of(path=write(tmp_path, "empty.yaml", "")), "empty.yaml", "empty file")


def test_top_level_not_a_mapping(tmp_path):
    err = error_of(path=write(tmp_path, "list.yaml", "- a\n- b\n"))
    assert_mentions(err, "list.yaml", "not a mapping", "['a', 'b']")
    assert_mentions(error_of([1, 2]), "not a mapping")


def test_missing_parent_file(tmp_path):
    path = write(tmp_path, "child.yaml", "extends: nowhere.yaml\n")
    assert_mentions(error_of(path=path), "child.yaml", "extends", "'nowhere.yaml'", "parent file")


def test_circular_extends(tmp_path):
    write(tmp_path, "a.yaml", "extends: b.yaml\n")
    write(tmp_path, "b.yaml", "extends: c.yaml\n")
    write(tmp_path, "c.yaml", "extends: a.yaml\n")
    err = error_of(path=tmp_path / "a.yaml")
    assert_mentions(err, "circular extends", "a.yaml -> ", "b.yaml -> ", "c.yaml -> ")
    assert_mentions(error_of(path=write(tmp_path, "self.yaml", "extends: self.yaml\n")), "circular")


def test_file_not_found(tmp_path):
    err = error_of(path=tmp_path / "missing.yaml")
    assert_mentions(err, "missing.yaml", "cannot read file")
    assert_mentions(error_of(path=tmp_path), "cannot read file")  # a directory


def test_all_problems_reported_one_per_line(tmp_path):
    path = write(tmp_path, "many.yaml", """\
        tiem: 1
        solver: {method: rk45}
        parameters: {income_weight: -1, mortality_scale: {CC_Q: 1}}
        levers: {hukou_ease: {CC_P: 2}, no_lever: 1}
        """)
    err = error_of(path=path)
    assert len(err.problems) == 6
    lines = str(err).splitlines()
    assert len(lines) == 6 and all(line.startswith(f"{path}: ") for line in lines)
    paths = {p.path for p in err.problems}
    assert paths == {"tiem", "solver.method", "parameters.income_weight", "parameters.mortality_scale.CC_Q",
                     "levers.hukou_ease.CC_P", "levers.no_lever"}
    assert all(p.file == str(path) and p.expected for p in err.problems)
    assert isinstance(err, ValueError)


def test_parent_problems_name_the_parent_file(tmp_path):
    write(tmp_path, "base.yaml", "parameters: {income_weight: 99}\n")
    child = write(tmp_path, "child.yaml", "extends: base.yaml\n")
    err = error_of(path=child)
    assert err.problems[0].file.endswith("base.yaml") and err.problems[0].path == "parameters.income_weight"


# --- fuzzing: only ScenarioError escapes --------------------------------------------------------

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8), st.sampled_from(list(VALID) + list(LEVERS)[:5] + list(NODES) + ["all", "step", "ramp"]),
)
_keys = st.one_of(st.text(max_size=6), st.integers())
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(_keys, inner, max_size=3)), max_leaves=6)


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


@st.composite
def mutated_scenarios(draw):
    data = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        path = draw(st.sampled_from(paths))
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and draw(st.booleans()):
            parent[draw(st.one_of(st.text(max_size=8), st.integers()))] = draw(_values)
        else:
            parent[path[-1]] = draw(_values)
    return data


def _only_scenario_error(fn, *args, **kwargs):
    try:
        result = fn(*args, **kwargs)
    except ScenarioError as err:
        assert err.problems and str(err)
    else:
        assert isinstance(result, Scenario)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_scenarios())
def test_fuzz_dict_only_scenario_error(data):
    _only_scenario_error(scenario_from_dict, data)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.text(max_size=200),
    st.text(alphabet=":-[]{}&*!|>'\"%@`#,? \n\tab01.", max_size=80),
    mutated_scenarios().map(lambda d: yaml.safe_dump(d, sort_keys=False)),
))
def test_fuzz_yaml_text_only_scenario_error(tmp_path, text):
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _only_scenario_error(load_scenario, path)
