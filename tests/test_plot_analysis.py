"""Ensemble fan chart, sensitivity (Sobol, Morris, tornado), PRIM and calibration plots."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from simulator import load_scenario, run  # noqa: E402
from simulator import plot  # noqa: E402
from tests import plot_data  # noqa: E402


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("scenarios/baseline.yaml")


@pytest.fixture(scope="module")
def ens(scenario):
    return plot_data.ensemble(scenario, n=20)


def render(obj, tmp_path):
    fig = obj if hasattr(obj, "savefig") else obj.figure
    fig.savefig(tmp_path / "f.png", dpi=50)
    plt.close(fig)
    assert (tmp_path / "f.png").stat().st_size > 1000


def test_fan_chart_bands_median_target_probability(ens, tmp_path):
    ax = plot.fan_chart(ens, "metro_population")
    assert len(ax.collections) == 2                       # 90 % and 50 % bands
    med = [ln for ln in ax.get_lines() if ln.get_label().startswith("median")][0]
    np.testing.assert_allclose(med.get_ydata(), ens.metro_population.median("run").values / 1e4)
    band90 = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band90.min() == pytest.approx(float(ens.metro_population.quantile(0.05, "run").min()) / 1e4, rel=1e-6)
    p = float((ens.metro_population.sel(time=2030) >= 1.3e7).mean())
    assert plot.target_probability(ens, "metro_population") == pytest.approx(p)
    target = [ln for ln in ax.get_lines() if "target" in ln.get_label()][0]
    assert f"P(met) = {100 * p:.0f}%" in target.get_label()
    assert np.allclose(target.get_ydata(), 1300)
    assert ax.get_ylabel() == "Metro-area population (10⁴ persons)"
    render(ax, tmp_path)


def test_fan_chart_gdp_and_node_variable(ens, tmp_path):
    ax = plot.fan_chart(ens, "metro_gdp_nominal")
    target = [ln for ln in ax.get_lines() if "target" in ln.get_label()][0]
    assert np.allclose(target.get_ydata(), 13500) and "P(met)" in target.get_label()
    render(ax, tmp_path)
    ax = plot.fan_chart(ens, "urbanization_rate", region="JL_P")
    med = [ln for ln in ax.get_lines() if ln.get_label().startswith("median")][0]
    np.testing.assert_allclose(med.get_ydata(), 100 * ens.urbanization_rate.sel(region="JL_P").median("run").values)
    assert not any("target" in ln.get_label() for ln in ax.get_lines())
    assert ax.get_ylabel().endswith("(%)")
    render(ax, tmp_path)
    with pytest.raises(ValueError, match="run"):
        plot.fan_chart(ens.isel(run=0), "metro_population")


def test_sobol_bars(tmp_path):
    s = plot_data.sensitivity()
    ax = plot.sobol_bars(s, "metro_gdp_nominal")
    from matplotlib.container import BarContainer
    st, s1 = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert st.get_label().startswith("ST") and s1.get_label().startswith("S1")
    order = np.argsort(s.ST.sel(output="metro_gdp_nominal").values)
    np.testing.assert_allclose([b.get_width() for b in st], s.ST.sel(output="metro_gdp_nominal").values[order])
    assert [t.get_text() for t in ax.get_yticklabels()] == [plot_data.PARAMS[i] for i in order]
    assert st.errorbar is not None and s1.errorbar is not None    # confidence intervals
    assert "nominal GDP of the metro area" in ax.get_title()          # a plain name, not the code
    render(ax, tmp_path)


def test_morris_scatter(tmp_path):
    s = plot_data.sensitivity()
    ax = plot.morris_scatter(s)
    pts = ax.get_lines()[0]
    np.testing.assert_allclose(pts.get_xdata(), s.mu_star.isel(output=0).values)
    np.testing.assert_allclose(pts.get_ydata(), s.sigma.isel(output=0).values)
    assert {t.get_text() for t in ax.texts} == set(plot_data.PARAMS)
    assert ax.get_xlabel().startswith("μ*") and ax.get_ylabel().startswith("σ")
    render(ax, tmp_path)
    with pytest.raises(ValueError, match="Morris"):
        plot.morris_scatter(s[["S1", "ST"]])


def test_tornado(tmp_path):
    df = plot_data.tornado_frame()
    ax = plot.tornado(df, variable="metro_population", target=1.3e7)
    low, high = ax.containers
    assert len(low) == len(df)
    # widest swing on top (last bar)
    assert [t.get_text().split(" [")[0] for t in ax.get_yticklabels()][-1] == "income_weight"
    base = df.base.iloc[0] / 1e4
    assert low[-1].get_x() == pytest.approx(base) and low[-1].get_width() == pytest.approx(-40)
    assert ax.get_xlabel() == "Metro-area population (10⁴ persons)"
    assert any(np.allclose(ln.get_xdata(), 1300) for ln in ax.get_lines())
    render(ax, tmp_path)
    ax = plot.tornado({"a": (1.0, 3.0), "b": (1.5, 2.2)}, base=2.0, units="1", label="score")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "a"]
    plt.close(ax.figure)


def test_prim_box_and_peeling(tmp_path):
    res = plot_data.prim_result()
    ax = plot.prim_box(res)
    boxes = ax.containers[1::2]
    assert len(boxes) == 3
    iw = boxes[0][0]
    assert iw.get_x() == pytest.approx((1.6 - 1.0) / 1.5) and iw.get_width() == pytest.approx(0.6)
    assert "coverage 80%" in ax.get_title() and "density 70%" in ax.get_title()
    assert {"1.6", "2.5", "0.022", "0.55"} <= {t.get_text() for t in ax.texts}
    render(ax, tmp_path)
    ax = plot.peeling_trajectory(res)
    sc = ax.collections[0]
    np.testing.assert_allclose(sc.get_offsets()[:, 0], [100 * s["coverage"] for s in res["peeling_trajectory"]])
    np.testing.assert_allclose(sc.get_offsets()[:, 1], [100 * s["density"] for s in res["peeling_trajectory"]])
    assert ax.get_xlabel() == "coverage (%)" and ax.get_ylabel() == "density (%)"
    assert len(ax.figure.axes) == 2                        # colour bar of n_restricted
    render(ax, tmp_path)


def test_calibration_panels(scenario, tmp_path):
    ds = run(scenario)
    cal = plot_data.calibration_dataset(ds)
    fig = plot.calibration(cal)
    panels = [a for a in fig.axes if a.axison]
    assert len(panels) == cal.sizes["series"]
    for ax, name in zip(panels, cal.series.values):
        assert ax.get_title().startswith(str(name))
        sim, obs = ax.get_lines()[:2]
        f = 1e4 if name.startswith("population") else 1e8
        np.testing.assert_allclose(sim.get_ydata(), cal.simulated.sel(series=name).values / f)
        assert len(obs.get_xdata()) == int(np.isfinite(cal.observed.sel(series=name)).sum())
        assert ax.get_ylabel() == ("10⁴ persons" if f == 1e4 else "10⁸ yuan/yr")
    render(fig, tmp_path)
