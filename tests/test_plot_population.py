"""Decomposition, flow heatmap and pyramid plots."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from simulator import load_scenario, run  # noqa: E402
from simulator import plot  # noqa: E402
from simulator.plot.decomposition import components  # noqa: E402


@pytest.fixture(scope="module")
def ds():
    return run(load_scenario("scenarios/baseline.yaml"))


def render(obj, tmp_path):
    fig = obj if hasattr(obj, "savefig") else obj.figure
    fig.savefig(tmp_path / "f.png", dpi=50)
    plt.close(fig)
    assert (tmp_path / "f.png").stat().st_size > 1000


def test_components_add_up_to_population_change(ds):
    for region in ("metro", "CC_P", "LY_R"):
        comps, t = components(ds, region)
        total = sum(comps.values())[1:]
        if region == "metro":
            pop = ds.metro_population.values
        else:
            pop = ds.population.sel(region=region).values
        # annual flows over each step equal the stock change
        np.testing.assert_allclose(total, np.diff(pop), rtol=1e-4, atol=5)
    comps, _ = components(ds, "metro")
    assert set(comps) == {"natural", "CC_R", "JL_R", "SP_R", "LY_R", "RJ", "EXT"}


def test_decomposition_stacked_bars(ds, tmp_path):
    ax = plot.decomposition(ds, "metro")
    comps, t = components(ds, "metro")
    n_years = len(t) - 1
    # two bar containers (positive, negative part) per component
    assert len(ax.containers) == 2 * len(comps)
    assert all(len(c) == n_years for c in ax.containers)
    labels = [c.get_label() for c in ax.containers if not c.get_label().startswith("_")]
    assert labels[0] == "Natural change" and "net migration from Rest of China" in labels
    nat_neg = ax.containers[1]
    np.testing.assert_allclose([b.get_height() for b in nat_neg], np.minimum(comps["natural"][1:], 0) / 1e4)
    total = [ln for ln in ax.get_lines() if ln.get_label() == "total change"][0]
    np.testing.assert_allclose(total.get_ydata(), np.diff(ds.metro_population.values) / 1e4, rtol=1e-3, atol=1e-3)
    assert ax.get_ylabel() == "Population change (10⁴ persons/yr)"
    render(ax, tmp_path)


def test_flow_matrix(ds, tmp_path):
    ax = plot.flow_matrix(ds, 2030)
    img = ax.get_images()[0].get_array()
    assert img.shape == (10, 10)
    F = ds.migration_flow.sel(time=2030).values / 1e4
    assert np.ma.is_masked(img[0, 0]) or np.isnan(img[0, 0])
    assert float(img[0, 9]) == pytest.approx(F[0, 9])
    assert [t.get_text() for t in ax.get_xticklabels()] == list(ds.origin.values)
    assert ax.get_xlabel() == "Destination" and ax.get_ylabel() == "Origin"
    assert "10⁴ persons/yr" in ax.figure.axes[1].get_ylabel()
    assert len(ax.texts) == 90
    render(ax, tmp_path)
    with pytest.raises(ValueError, match="not simulated"):
        plot.flow_matrix(ds, 1999)


def test_pyramid_two_years(ds, tmp_path):
    fig = plot.pyramid(ds, "CC_P", (2024, 2035))
    assert len(fig.axes) == 2
    for ax, year in zip(fig.axes, (2024, 2035)):
        assert ax.get_title().startswith(str(year))
        bars = ax.containers[0]
        assert len(bars) == 18
        np.testing.assert_allclose([b.get_width() for b in bars],
                                   ds.population_by_age.sel(region="CC_P", time=year).values / 1e4)
        assert ax.get_xlabel() == "Resident population (10⁴ persons)"
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == list(ds.age.values)
    render(fig, tmp_path)
    fig = plot.pyramid(ds, "metro")
    assert len(fig.axes) == 2
    plt.close(fig)
