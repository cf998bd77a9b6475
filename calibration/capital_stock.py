"""Perpetual-inventory capital stock of Jilin province from its published investment history.

    K_1952 = 10 · I_1952 (Zhang, Wu & Zhang 2004);  K_t = (1 − δ)·K_{t−1} + I_t / P_t   [亿元, 1952 prices]
    I_t: gross fixed capital formation (固定资本形成总额), current prices; 2018–2019 continued with the growth
         of fixed-asset investment (the NBS stopped publishing provincial GFCF after 2017);
    P_t: investment price index, 1952 = 1 — implied by the GFCF volume index up to 1990, then the
         fixed-asset-investment price index (上年 = 100).

Data: calibration/data/capital_formation.csv (rows with their sources: the compilation in the public
repository common2016/CapitalStock, from NBS provincial accounts). Prints K/Y for 2019 against the
revised 2019 GDP (city_year.csv) for δ = 0.08 (the model's) and 0.096 (Zhang et al. 2004).

Run:  python calibration/capital_stock.py
"""
from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _series(rows, variable) -> dict[int, float]:
    return {int(float(r["year"])): float(r["value"]) for r in rows if r["variable"] == variable}


def load() -> dict[str, dict[int, float]]:
    with open(HERE / "data" / "capital_formation.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {name: _series(rows, name) for name in ("gross_fixed_capital_formation_nominal",
                                                   "gfcf_volume_index_1952eq100",
                                                   "fixed_asset_investment_price_index",
                                                   "fixed_asset_investment_growth_yoy")}


def investment_and_prices(data, last_year: int = 2019) -> tuple[dict[int, float], dict[int, float]]:
    """(I_t current prices, P_t with 1952 = 1) for 1952 … last_year."""
    gfcf, volume = data["gross_fixed_capital_formation_nominal"], data["gfcf_volume_index_1952eq100"]
    price_growth, fai_growth = data["fixed_asset_investment_price_index"], data["fixed_asset_investment_growth_yoy"]
    prices = {y: gfcf[y] / (gfcf[1952] * volume[y] / 100.0) for y in range(1952, 1991)}
    for y in range(1991, last_year + 1):
        prices[y] = prices[y - 1] * price_growth[y] / 100.0
    invest = {y: gfcf[y] for y in range(1952, 2018)}
    for y in range(2018, last_year + 1):
        invest[y] = invest[y - 1] * (1.0 + fai_growth[y] / 100.0)
    return invest, prices


def capital_stock(data, delta: float, last_year: int = 2019) -> dict[int, float]:
    """K_t in current prices [亿元]."""
    invest, prices = investment_and_prices(data, last_year)
    k = 10.0 * invest[1952]
    out = {1952: k}
    for y in range(1953, last_year + 1):
        k = (1.0 - delta) * k + invest[y] / prices[y]
        out[y] = k * prices[y]
    return out


def main() -> None:
    data = load()
    gdp_2019 = 11726.82      # 亿元, revised basis (calibration/data/city_year.csv, Jilin_province 2019 gdp_current)
    invest, _ = investment_and_prices(data)
    print("GFCF / GDP is not available on one basis before 2019; GFCF 2017 = "
          f"{invest[2017]:,.0f} 亿元 (pre-revision statistics)")
    for delta in (0.08, 0.096):
        k = capital_stock(data, delta)
        print(f"δ = {delta:.3f}: K_2019 = {k[2019]:,.0f} 亿元 (current prices), K/Y_2019 = {k[2019] / gdp_2019:.2f}")


if __name__ == "__main__":
    main()
