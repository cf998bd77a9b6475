"""Trajectory and scenario-comparison plots: structure, units, data ranges, targets."""
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from simulator import load_scenario, run  # noqa: E402
from simulator import plot  # noqa: E402
from simulator.plot import style  # noqa: E402


@pytest.fixture(scope="module")
def ds():
    return run(load_scenario("scenarios/baseline.yaml"))


@pytest.fixture(scope="module")
def runs(ds):
    return {"baseline": ds, "plan": run(load_scenario("scenarios/plan.yaml"))}


def render(obj, tmp_path, name="fig.png"):
    fig = obj if hasattr(obj, "savefig") else obj.figure
    fig.savefig(tmp_path / name, dpi=50)
    assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plt.close(fig)


def line(ax, label):
    found = [ln for ln in ax.get_lines() if ln.get_label() == label or ln.get_label().startswith(f"{label}: ")]
    assert found, f"no line labelled {label!r}: {[ln.get_label() for ln in ax.get_lines()]}"
    return found[0]


def test_trajectories_population_nodes_metro_target(ds, tmp_path):
    ax = plot.trajectories(ds, "population")
    assert ax.get_ylabel() == "Resident population (10⁴ persons)"
    # nine nodes + metro + target marker
    labels = [ln.get_label() for ln in ax.get_lines() if not ln.get_label().startswith("_")]
    assert len(labels) == 9 + 1 + 1
    ccp = line(ax, "Changchun (plan area)")
    np.testing.assert_allclose(ccp.get_ydata(), ds.population.sel(region="CC_P").values / 1e4)
    np.testing.assert_array_equal(ccp.get_xdata(), ds.time.values)
    assert ccp.get_color() == style.color("CC_P")
    metro = line(ax, "Metro area total")
    np.testing.assert_allclose(metro.get_ydata(), ds.metro_population.values / 1e4)
    target = [ln for ln in ax.get_lines() if ln.get_label().startswith("2030 target")][0]
    assert target.get_xdata()[0] == 2030 and target.get_ydata()[0] == pytest.approx(1300)
    assert any(np.allclose(ln.get_ydata(), 1300) for ln in ax.get_lines() if ln.get_linestyle() == "--")
    render(ax, tmp_path)


@pytest.mark.parametrize("variable, factor, unit", [
    ("urbanization_rate", 0.01, "%"), ("floor_area_per_urban_resident", 1.0, "m²/person"),
    ("gdp_real", 1e8, "10⁸ yuan/yr"), ("gdp_nominal", 1e8, "10⁸ yuan/yr")])
def test_trajectories_other_variables(ds, variable, factor, unit, tmp_path):
    ax = plot.trajectories(ds, variable, regions="plan")
    assert ax.get_ylabel().endswith(f"({unit})")
    ccp = line(ax, "Changchun (plan area)")
    np.testing.assert_allclose(ccp.get_ydata(), ds[variable].sel(region="CC_P").values / factor)
    has_target = any(ln.get_label().startswith("2030 target") for ln in ax.get_lines())
    assert has_target == (variable == "gdp_nominal")
    if variable == "floor_area_per_urban_resident":
        p = [r for r in ds.region.values if ds.in_plan_area.sel(region=r)]
        expected = ds.housing_floor_area.sel(region=p).sum("region") / ds.urban_population.sel(region=p).sum("region")
        np.testing.assert_allclose(line(ax, "Metro area total").get_ydata(), expected.values)
    render(ax, tmp_path)


def test_trajectories_city_level_has_observed_history(ds, tmp_path):
    ax = plot.trajectories(ds, "population", level="city")
    cc = line(ax, "Changchun")
    np.testing.assert_allclose(cc.get_ydata(), ds.city_population.sel(whole_city="Changchun").values / 1e4)
    points = [ln for ln in ax.get_lines() if ln.get_linestyle() == "None" and len(ln.get_xdata())]
    years = sorted({int(x) for ln in points for x in ln.get_xdata()})
    assert {2010, 2020, 2024} <= set(years)
    obs = plot.observed_history("population")
    v = obs[(obs.city == "Changchun") & (obs.year == 2024)].value.item()
    assert v == pytest.approx(908.51e4)
    assert any(np.isclose(ln.get_ydata(), 908.51).any() for ln in points)
    render(ax, tmp_path)
    gdp = plot.observed_history("gdp_nominal")
    assert gdp[(gdp.city == "Changchun") & (gdp.year == 2024)].value.item() == pytest.approx(7632.19e8)


def test_trajectory_panels(ds, tmp_path):
    fig = plot.trajectory_panels(ds)
    visible = [a for a in fig.axes if a.axison]
    assert len(visible) == 5
    assert [a.get_title() for a in visible] == ["Resident population", "Urbanization rate",
                                                "Housing floor area per urban resident", "Real GDP (2024 prices)",
                                                "Nominal GDP"]
    assert fig.axes[5].get_legend() is not None
    render(fig, tmp_path)


def test_comparison_gap_annotations(runs, tmp_path):
    ax = plot.comparison(runs, "metro_population")
    assert ax.get_ylabel() == "Metro-area population (10⁴ persons)"
    for name, d in runs.items():
        np.testing.assert_allclose(line(ax, name).get_ydata(), d.metro_population.values / 1e4)
    texts = [t.get_text() for t in ax.get_legend().get_texts()]      # each gap is in its legend entry
    assert ax.get_legend().get_title().get_text() == "gap to the 2030 target"
    for name, d in runs.items():
        gap = float(d.metro_population.sel(time=2030)) - 1.3e7
        text = (f"{abs(gap) / 1e6:.2f} million persons" if abs(gap) >= 1e6
                else f"{abs(gap) / 1e3:,.0f} thousand persons")
        assert any(t.startswith(f"{name}: {'−' if gap < 0 else '+'}{text}") for t in texts), texts
    assert not any("10⁴ persons" in t for t in texts)          # no "−137 10⁴ persons"
    assert any(ln.get_label().startswith("2030 target") for ln in ax.get_lines())
    render(ax, tmp_path)


def test_comparison_accepts_run_dim_and_panels(runs, tmp_path):
    from simulator import simulate_many
    ens = simulate_many([load_scenario("scenarios/baseline.yaml"), load_scenario("scenarios/plan.yaml")])
    ax = plot.comparison(ens, "metro_gdp_nominal", labels=["a", "b"])
    assert {ln.get_label().split(": ")[0] for ln in ax.get_lines()} >= {"a", "b"}   # "a: +55 billion …"
    assert ax.get_ylabel().endswith("(10⁸ yuan/yr)")
    fig = plot.comparison_panels(runs)
    assert len(fig.axes) == 2
    render(fig, tmp_path)


def test_existing_axes_is_used_and_no_show(ds, monkeypatch):
    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("plt.show called"))
    fig, ax = plt.subplots()
    assert plot.trajectories(ds, "population", ax=ax) is ax
    plt.close(fig)


def test_chinese_labels_fall_back_without_cjk_font(ds, monkeypatch):
    monkeypatch.setattr(style, "cjk_font", lambda: None)
    with pytest.warns(style.CJKFontWarning):
        ax = plot.trajectories(ds, "population", lang="zh")
    assert ax.get_ylabel() == "Resident population (10⁴ persons)"
    plt.close(ax.figure)


def test_chinese_labels_with_cjk_font(ds, monkeypatch):
    monkeypatch.setattr(style, "cjk_font", lambda: "DejaVu Sans")   # pretend; glyphs may be missing
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ax = plot.trajectories(ds, "population", lang="zh")
        assert ax.get_ylabel() == "常住人口 (万人)"
        assert any(ln.get_label() == "长春(都市圈内)" for ln in ax.get_lines())
        plt.close(ax.figure)


def test_single_run_plots_reject_ensembles(ds):
    with pytest.raises(ValueError, match="single run"):
        plot.trajectories(ds.expand_dims(run=2), "population")
