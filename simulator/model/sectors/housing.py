"""Housing: urban residential floor area with two vintages, a 3-stage construction pipeline and a
price that clears the market with a lag (DiPasquale–Wheaton stock–flow).

    y_h      = W·(LF + b·P_60+)/P                         household income per resident [yuan/person/yr]
                                                         (earnings of residents + pensions; ỹ smooths it, τ_y)
    h        = h̄·h0·x / (h̄ − h0 + h0·x) · p^(−η_p),   x = (ỹ/ỹ0)^(η_y/(1 − h0/h̄))
                                                         desired floor area per urban resident [m²]:
                                                         h0 at the base with income elasticity η_y there,
                                                         → h̄ as income grows, → 0 (never below) as it falls
    Dm       = U · h                                     demand [m²]
    Occ      = smin(Dm, H; n = 60) ≤ H                   occupied floor area [m²]
    vacancy  = 1 − Occ/H ≥ 0 by construction (≈ v* where the price is at rest: Dm = (1 − v*)·H)
    χ        = smin(1, (1 − v*)·H/Dm; n = 60) ≤ 1        crowding: 1 while demand leaves the natural vacancy
                                                         free, < 1 only when demand presses into it
    dp/dt    = p/(τ_p·η_p) · ln(Dm / ((1−v*)·H))          price index (2024 = 1) [1/yr]
    Starts   = smin(s0·H·p^ε_q, Quota(t)) + SPol(t)      (replacement cost index = 1, so q = p)
    dC1/dt   = Starts − 3·C1/τ_c;  dC2/dt = 3(C1 − C2)/τ_c;  dC3/dt = 3(C2 − C3)/τ_c
    Compl    = 3·C3/τ_c
    dHN/dt   = Compl − HN/τ_age − δ_N·HN
    dHO/dt   = HN/τ_age − δ_O·HO − Renew,   Renew = smin(RenewPol(t), HO/τ_min)
"""
from __future__ import annotations

import numpy as np

from ..functions import smooth_min
from ..jit import jit


OCCUPANCY_SHARPNESS = 60.0   # n of the smooth min: at 5.5 % vacancy occupancy is 0.06 % below demand


@jit
def household_income(expected_income, labour_force, population_by_age, retired, pension_replacement, out=None):
    """y_h [yuan/person/yr], shape (N,): household income per resident = (earnings of the resident labour
    force + pensions at replacement rate b of the expected wage for residents aged 60+) / residents.
    ``population_by_age`` (N, G), ``retired`` (G,) 1 for ages 60+. Into ``out`` if given."""
    N, G = population_by_age.shape
    if out is None:
        out = np.empty(N)
    for i in range(N):
        pensioners = 0.0
        residents = 0.0
        for g in range(G):
            pensioners += population_by_age[i, g] * retired[g]
            residents += population_by_age[i, g]
        out[i] = expected_income[i] * (labour_force[i] + pension_replacement * pensioners) / residents
    return out


@jit
def desired_floor_area(base, income_ratio, income_elasticity, saturation, price, price_elasticity):
    """h [m²/person]: ``base`` at income ratio 1 and price 1, elasticity η_y there, in (0, h̄) for any income."""
    x = np.exp(income_elasticity / (1.0 - base / saturation) * np.log(income_ratio))      # x = ratio^(η_y/(1 − h0/h̄))
    return saturation * base * x / (saturation - base + base * x) * np.exp(-price_elasticity * np.log(price))


@jit
def occupied(demand, stock):
    """Occupied floor area [m²]: demand where there is room, the stock where there is not (never above it)."""
    return smooth_min(demand, stock, OCCUPANCY_SHARPNESS)


@jit
def crowding(demand, stock, natural_vacancy):
    """χ (dimensionless, ≤ 1): 1 while demand leaves the natural vacancy free, falling as demand exceeds (1 − v*)·H."""
    return smooth_min(1.0, (1.0 - natural_vacancy) * stock / demand, OCCUPANCY_SHARPNESS)


@jit
def price_change(price, demand, stock, natural_vacancy, adjustment_time, price_elasticity):
    return price / (adjustment_time * price_elasticity) * np.log(demand / ((1 - natural_vacancy) * stock))


@jit
def starts(normal_rate, stock, q, elasticity, quota, policy_starts):
    return smooth_min(normal_rate * stock * np.exp(elasticity * np.log(q)), quota) + policy_starts   # s0·H·q^ε_q


@jit
def pipeline(pipeline_stocks, starts_rate, construction_time, d_pipeline, completions=None):
    """Writes d pipeline/dt (N, 3) into ``d_pipeline``; returns completions (N,) (one member; into
    ``completions`` if given)."""
    N, stages = pipeline_stocks.shape
    if completions is None:
        completions = np.empty(N)
    rate = 3.0 / construction_time
    for i in range(N):
        inflow = starts_rate[i]
        for s in range(stages):
            outflow = pipeline_stocks[i, s] * rate
            d_pipeline[i, s] = -outflow + inflow
            inflow = outflow
        completions[i] = inflow
    return completions


# =====================================================================================================
# Exported equations (XMILE / Vensim) — generated into files by ``simulator.export``; they mirror the
# numpy code above (and its assembly in rhs.py). Format: see the end of sectors/demography.py.
# smin(a, b) = (a^-8 + b^-8)^(-1/8) is written as min(a,b)*(1 + (min/max)^8)^(-1/8), the same
# function without 0^-8 (division by zero) when a lever is 0.
# =====================================================================================================
def _smin(a: str, b: str, n: float = 8) -> str:
    lo, hi = f"MIN({a}, {b})", f"MAX(MAX({a}, {b}), 1e-300)"
    return f"{lo} * (1 + ({lo} / {hi}) ^ {n:g}) ^ (-1 / {n:g})"


EXPORT_EQUATIONS = [
    ("pensioners", "node", "SUM(population_by_age[node, age!] * retired_age[age!])", "persons", "P_60+"),
    ("income_per_person", "node",
     "expected_income[node] * (labour_force[node] + pension_replacement * pensioners[node]) / total_population[node]",
     "yuan/person/yr", "y_h = W (LF + b P_60+)/P: household income per resident"),
    ("housing_stock", "node", "housing_new[node] + housing_old[node]", "m2", "H = HN + HO"),
    ("floor_income_term", "node",
     "(smoothed_income[node] / income0[node]) ^ (housing_income_elasticity"
     " / (1 - floor_area0[node] / floor_area_saturation))", "Dmnl", "x = (ytil/ytil0)^(eta_y/(1 - h0/hbar))"),
    ("desired_floor_area", "node",
     "floor_area_saturation * floor_area0[node] * floor_income_term[node]"
     " / (floor_area_saturation - floor_area0[node] + floor_area0[node] * floor_income_term[node])"
     " * house_price[node] ^ (-housing_price_elasticity)",
     "m2/person", "h = hbar h0 x / (hbar - h0 + h0 x) p^(-eta_p)"),
    ("housing_demand", "node", "urban_population[node] * desired_floor_area[node]", "m2", "Dm = U h"),
    ("housing_occupied", "node", _smin("housing_demand[node]", "housing_stock[node]", OCCUPANCY_SHARPNESS), "m2",
     "Occ = smin(Dm, H; n = 60) <= H"),
    ("crowding", "node",
     _smin("1", "(1 - natural_vacancy) * housing_stock[node] / housing_demand[node]", OCCUPANCY_SHARPNESS), "Dmnl",
     "chi = smin(1, (1 - v*) H / Dm): below 1 only when demand presses into the natural vacancy"),
    ("market_starts", "node",
     "normal_starts_rate[node] * housing_stock[node] * house_price[node] ^ starts_price_elasticity", "m2/yr",
     "s0 H q^eps_q (q = p)"),
    ("housing_starts", "node", _smin("market_starts[node]", "land_quota[node]") + " + policy_housing_starts[node]",
     "m2/yr", "Starts = smin(s0 H p^eps_q, Quota(t)) + SPol(t)"),
    ("housing_completions", "node", "3 * construction_stage_3[node] / construction_time", "m2/yr",
     "Compl = 3 C3/tau_c"),
    ("renewal_flow", "node", _smin("renewal_demolition[node]", "housing_old[node] / min_drain_time"), "m2/yr",
     "Renew = smin(RenewPol(t), HO/tau_min)"),
]

EXPORT_STOCKS = [
    ("smoothed_income", "node", "(income_per_person[node] - smoothed_income[node]) / income_smoothing_time",
     "income0[node]", "yuan/person/yr", "ytil: smoothed real GDP per resident"),
    ("house_price", "node",
     "house_price[node] / (price_adjustment_time * housing_price_elasticity)"
     " * LN(housing_demand[node] / ((1 - natural_vacancy) * housing_stock[node]))",
     "1", "Dmnl", "p: real house-price index (2024 = 1)"),
    ("construction_stage_1", "node", "housing_starts[node] - 3 * construction_stage_1[node] / construction_time",
     "initial_construction_stage[node]", "m2", "C1: floor area under construction, stage 1"),
    ("construction_stage_2", "node",
     "3 * (construction_stage_1[node] - construction_stage_2[node]) / construction_time",
     "initial_construction_stage[node]", "m2", "C2: floor area under construction, stage 2"),
    ("construction_stage_3", "node",
     "3 * (construction_stage_2[node] - construction_stage_3[node]) / construction_time",
     "initial_construction_stage[node]", "m2", "C3: floor area under construction, stage 3"),
    ("housing_new", "node",
     "housing_completions[node] - housing_new[node] / vintage_aging_time - demolition_rate_new * housing_new[node]",
     "initial_housing_new[node]", "m2", "HN: urban residential floor area, newer vintage"),
    ("housing_old", "node",
     "housing_new[node] / vintage_aging_time - demolition_rate_old * housing_old[node] - renewal_flow[node]",
     "initial_housing_old[node]", "m2", "HO: urban residential floor area, older vintage"),
    ("cum_starts", "node", "housing_starts[node]", "0", "m2", "accumulated starts"),
    ("cum_completions", "node", "housing_completions[node]", "0", "m2", "accumulated completions"),
    ("cum_demolition", "node",
     "demolition_rate_new * housing_new[node] + demolition_rate_old * housing_old[node] + renewal_flow[node]",
     "0", "m2", "accumulated demolition incl. renewal"),
]
