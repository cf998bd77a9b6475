"""Perpetual-inventory capital stock (calibration/capital_stock.py): an analytic case and the shipped data."""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("capital_stock", ROOT / "calibration" / "capital_stock.py")
capital_stock = importlib.util.module_from_spec(spec)
spec.loader.exec_module(capital_stock)


def test_constant_real_investment_converges_to_i_over_delta():
    """Constant prices and investment I: K_t → I/δ (from K_1952 = 10·I, the gap shrinks by (1 − δ) a year)."""
    years = range(1952, 2020)
    data = {"gross_fixed_capital_formation_nominal": {y: 100.0 for y in range(1952, 2018)},
            "gfcf_volume_index_1952eq100": {y: 100.0 for y in range(1952, 1991)},
            "fixed_asset_investment_price_index": {y: 100.0 for y in range(1991, 2020)},
            "fixed_asset_investment_growth_yoy": {y: 0.0 for y in (2018, 2019)}}
    k = capital_stock.capital_stock(data, delta=0.1)
    expected = 100 / 0.1 + (10 * 100 - 100 / 0.1) * 0.9 ** (2019 - 1952)
    assert k[2019] == pytest.approx(expected, rel=1e-12)
    assert len(k) == len(years)


def test_shipped_jilin_series_give_a_high_capital_output_ratio():
    """Published (pre-revision) GFCF against the revised 2019 GDP: K/Y between 6 and 8 (documented, not adopted)."""
    k = capital_stock.capital_stock(capital_stock.load(), delta=0.096)
    assert 6.0 < k[2019] / 11726.82 < 8.0
