import pytest
from click.testing import CliRunner

from simulator.cli_ensemble import sweep_cmd
from simulator.ensemble import load_sweep
from simulator.scenario import ScenarioError

from .ensemble_helpers import ROOT, write_sweep


def test_shipped_sweeps_load():
    for name in ("uncertainty", "levers"):
        sw = load_sweep(ROOT / "sweeps" / f"{name}.yaml")
        assert sw.name == name and sw.factors


@pytest.mark.parametrize("override, fragments", [
    ({"parameters": {"income_wieght": {"distribution": "uniform", "lower": 1, "upper": 2}}},
     ["parameters.income_wieght", "unknown parameter", "did you mean 'income_weight'"]),
    ({"parameters": {"income_weight": {"distribution": "uniform", "lower": 1, "upper": 99}}},
     ["parameters.income_weight.upper", "out of bounds", "[0, 5]"]),
    ({"parameters": {"income_weight": {"distribution": "gaussian", "mean": 1, "sd": 1}}},
     ["parameters.income_weight", "gaussian"]),
    ({"design": {"method": "sobel", "samples": 10}}, ["design.method", "did you mean 'sobol'"]),
    ({"design": {"method": "lhs", "samples": 10}, "scenario": "nope.yaml"}, ["scenario", "not found"]),
    ({"levers": {"tfp_growth": {"distribution": "uniform", "lower": 0.0, "upper": 0.1, "elements": ["CC_X"]}}},
     ["levers.tfp_growth.elements.0", "did you mean 'CC_P'"]),
    ({"outputs": {"variables": ["metro_popultion"]}}, ["outputs.variables.0", "did you mean 'metro_population'"]),
    ({"sampels": 3}, ["sampels", "unknown key"]),
])
def test_bad_sweep_files_get_clear_errors(tmp_path, override, fragments):
    path = write_sweep(tmp_path, **override)
    with pytest.raises(ScenarioError) as exc:
        load_sweep(path)
    text = str(exc.value)
    assert str(path) in text
    for f in fragments:
        assert f in text, text


def test_cli_bad_sweep_exit_code_2(tmp_path):
    path = write_sweep(tmp_path, design={"method": "lhs", "samples": -1})
    res = CliRunner().invoke(sweep_cmd, [str(path), "-o", str(tmp_path / "out")])
    assert res.exit_code == 2
    assert "design.samples" in res.output
