"""Demography: births, deaths and ageing along a chain of 5-year groups with k sub-stages.

Arrays have the ensemble member axis last: node arrays (N, M), by age (N, G, M).

    Births[i]     = TFR[i](t) · Σ_g (f_g/5)·φ_g · P[i,g]                       [persons/yr]
    Deaths[i,g,j] = θ_i · m_g^2020 · exp(−λ_m (t − 2019.5)) · P[i,g,j]        [persons/yr]
                    (the 2020 life table describes mid-2020 = model time 2019.5)
    Ageing[i,g,j] = P[i,g,j] · k/5   (sub-stage j → j+1, last sub-stage of g → g+1; none out of the
                                       last sub-stage of 85+)
    dP[i,g,j]/dt  = Ageing_in − Ageing − Deaths − Out-migration + In-migration[i,g]/k + Births·1{first cell}
"""
from __future__ import annotations

import numpy as np

from ..jit import jit

# Shapes are those of one ensemble member (the compiled right-hand side integrates members one by one):
# node arrays (N,), by age (N, G), population (N, G, k).


@jit
def births(tfr, population_by_age, fertility_weight, out=None):
    """Births [persons/yr], shape (N,) (into ``out`` if given). ``fertility_weight`` = f_g/5·φ_g, shape (G,)."""
    N, G = population_by_age.shape
    if out is None:
        out = np.empty(N)
    for i in range(N):
        weighted = 0.0                                   # Σ_g (f_g/5)·φ_g·P[i,g]
        for g in range(G):
            weighted += population_by_age[i, g] * fertility_weight[g]
        out[i] = tfr[i] * weighted
    return out


@jit
def death_rates(mortality_scale, base_rates, improvement, t, out=None):
    """Age-specific death rates θ_i·m_g·exp(−λ_m (t − 2019.5)) [1/yr], shape (N, G) (into ``out`` if given)."""
    N, G = mortality_scale.shape[0], base_rates.shape[0]
    if out is None:
        out = np.empty((N, G))
    decline = np.exp(-improvement * (t - 2019.5))
    for i in range(N):
        for g in range(G):
            out[i, g] = mortality_scale[i] * base_rates[g] * decline
    return out


@jit
def population_change(population, loss_rate, inflow_by_age, births, out):
    """dP/dt of the ageing chain, written into ``out`` (shape (N, G, k)) [persons/yr].

        dP[g,j]/dt = Ageing_in − P[g,j]·(k/5 + loss_g) + In[g]/k + Births·1{g = 0, j = 1}

    ``loss_rate`` (N, G) is the per-person rate of deaths plus out-migration; ageing moves people
    at rate k/5 from each (group, sub-stage) cell to the next; the last cell (oldest sub-stage of
    85+) has no ageing outflow; in-migrants spread evenly over the sub-stages of their group.
    """
    N, G, k = population.shape
    rate = k / 5.0
    for i in range(N):
        ageing_in = 0.0
        for g in range(G):
            leaving = rate + loss_rate[i, g]            # per person [1/yr]
            arriving = inflow_by_age[i, g] / k          # in-migrants per sub-stage [persons/yr]
            for j in range(k):
                P = population[i, g, j]
                out[i, g, j] = ageing_in - P * leaving + arriving
                ageing_in = rate * P
        out[i, G - 1, k - 1] += ageing_in          # no ageing out of the open-ended last cell
        out[i, 0, 0] += births[i]
    return out


# =====================================================================================================
# Exported equations (XMILE / Vensim) — generated into files by ``simulator.export``; they mirror the
# numpy code above and tests/test_export.py runs them in PySD against ``solve_ivp``.
# Rows: (name, subscripts, equation, units, documentation). Stocks: (name, subscripts, net rate,
# initial value, units, documentation). Equations use the Vensim syntax subset shared with XMILE.
# Dimensions: node, dest (a copy of node), age, age2, sub, sub2 (age sub-stages 1..k).
# =====================================================================================================
EXPORT_EQUATIONS = [
    ("population_by_age", "node, age", "SUM(population[node, age, sub!])", "persons",
     "P[i,g] = sum over sub-stages"),
    ("total_population", "node", "SUM(population_by_age[node, age!])", "persons", "P[i]"),
    ("births", "node", "tfr[node] * SUM(population_by_age[node, age!] * fertility_weight[age!])",
     "persons/yr", "Births[i] = TFR[i](t) * sum_g (f_g/5)*phi_g * P[i,g]"),
    ("death_rate", "node, age",
     "mortality_scale[node] * mortality_rate_2020[age] * EXP(-mortality_improvement * (Time - 2019.5))",
     "1/yr", "theta_i * m_g^2020 * exp(-lambda_m (t - 2019.5))"),
    ("deaths_by_age", "node, age", "death_rate[node, age] * population_by_age[node, age]", "persons/yr",
     "Deaths[i,g]"),
    ("deaths", "node", "SUM(deaths_by_age[node, age!])", "persons/yr", "Deaths[i] (node total)"),
    ("ageing_rate", "", "age_substages / 5", "1/yr", "k/5: rate of moving to the next sub-stage"),
    ("cell_number", "age, sub", "(age_index[age] - 1) * age_substages + sub_index[sub]", "Dmnl",
     "position of (group, sub-stage) along the ageing chain, 1 .. G*k"),
    ("cell_number2", "age2, sub2", "(age_index2[age2] - 1) * age_substages + sub_index2[sub2]", "Dmnl",
     "cell_number over the copy dimensions"),
    ("chain_link", "age, sub, age2, sub2",
     "IF THEN ELSE(cell_number[age, sub] = cell_number2[age2, sub2] + 1, 1, 0)", "Dmnl",
     "1 where cell (age2, sub2) feeds cell (age, sub) by ageing"),
    ("open_cell", "age, sub", "IF THEN ELSE(cell_number[age, sub] < number_of_ages * age_substages, 1, 0)",
     "Dmnl", "0 for the open-ended last cell (last sub-stage of 85+): no ageing out of it"),
    ("first_cell", "age, sub", "IF THEN ELSE(cell_number[age, sub] = 1, 1, 0)", "Dmnl",
     "1 for the first sub-stage of 0-4, where births enter"),
    ("ageing_out", "node, age, sub", "ageing_rate * open_cell[age, sub] * population[node, age, sub]",
     "persons/yr", "Ageing[i,g,j] = P[i,g,j]*k/5 (none out of the last cell)"),
    ("ageing_in", "node, age, sub", "SUM(ageing_out[node, age2!, sub2!] * chain_link[age, sub, age2!, sub2!])",
     "persons/yr", "ageing inflow from the previous cell of the chain"),
    ("loss_rate", "node, age", "death_rate[node, age] + out_migration_rate[node, age]", "1/yr",
     "per-person rate of deaths plus out-migration"),
]

EXPORT_STOCKS = [
    ("population", "node, age, sub",
     "ageing_in[node, age, sub] - ageing_out[node, age, sub] - loss_rate[node, age] * population[node, age, sub]"
     " + in_migration_by_age[node, age] / age_substages + births[node] * first_cell[age, sub]",
     "initial_population_by_age[node, age] / age_substages", "persons",
     "P[i,g,j]: residents by node, 5-year age group and sub-stage"),
    ("cum_births", "node", "births[node]", "0", "persons", "accumulated births"),
    ("cum_deaths", "node", "deaths[node]", "0", "persons", "accumulated deaths"),
]
