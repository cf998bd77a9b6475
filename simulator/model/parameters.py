"""Every model parameter: default, units, bounds, whether it can differ by node, and its source.

Parameters are constant over a run (time-varying policy inputs are *levers*, see ``levers.py``).
A scenario may override any of them with a scalar or, where ``per_node`` is true, a mapping
node → value. ``resolve`` turns defaults plus overrides into arrays: shape ``()`` for shared
parameters and ``(N_NODES,)`` for per-node ones. Sources are abbreviated here; docs/model.md has
the full references.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .nodes import NODES


@dataclass(frozen=True)
class ParameterSpec:
    name: str
    default: float | dict[str, float]
    units: str
    lower: float
    upper: float
    per_node: bool
    description: str
    source: str
    sector: str

    def default_array(self) -> np.ndarray:
        if isinstance(self.default, dict):
            return np.array([self.default[n] for n in NODES], dtype=float)
        if self.per_node:
            return np.full(len(NODES), float(self.default))
        return np.array(float(self.default))


def _p(name, default, units, lower, upper, per_node, sector, description, source):
    return ParameterSpec(name, default, units, lower, upper, per_node, description, source, sector)


_NODE_UBAR = {"CC_P": 0.85, "CC_R": 0.75, "JL_P": 0.95, "JL_R": 0.75, "SP_P": 0.90, "SP_R": 0.75,
              "LY_P": 0.95, "LY_R": 0.75, "RJ": 0.80}

_SPECS = [
    # --- demography ---------------------------------------------------------------------------
    _p("mortality_scale", 1.037, "1", 0.0, 3.0, True, "demography",
       "node multiplier θ on the national age-specific mortality schedule",
       "fitted so base-year province deaths = 210.0k (2024 Jilin bulletin); calibration/base_year_fit.py"),
    _p("mortality_improvement", 0.015, "1/yr", 0.0, 0.05, False, "demography",
       "annual rate λ_m at which age-specific mortality falls",
       "judgement: typical Lee–Carter drift (spec §5)"),
    # --- migration ------------------------------------------------------------------------------
    _p("move_consideration_rate", 0.10, "1/yr", 0.0, 1.0, True, "migration",
       "μ: annual probability that a resident considers moving (before choosing to stay or go)",
       "judgement; spec §5 range 0.02–0.15"),
    _p("migration_peak_age", 20.0, "yr", 10.0, 35.0, False, "migration",
       "μ2: age at the labour-force peak of the movers' age profile r_g (Rogers–Castro); shifts the "
       "whole age profile of movers and of in-migrants from the rest of China",
       "Rogers & Castro 1981 'basic' schedule (μ2 = 20); China's internal migrants peak at 20–25 "
       "(2020 census mobility tables, judgement) — varied over 17–27 in the uncertainty ensemble"),
    _p("base_out_migration_rate", 0.03, "1/yr", 0.0, 0.5, True, "migration",
       "gross out-migration rate of each node in the base year; sets the home premium ψ",
       "judgement: annual inter-county moves in China ≈ 2–4 % of residents (2020 census mobility)"),
    _p("base_net_migration_rate", {"CC_P": 0.0050, "CC_R": 0.0043, "JL_P": -0.0025, "JL_R": -0.0033,
                                   "SP_P": -0.0189, "SP_R": -0.0194, "LY_P": -0.0143, "LY_R": -0.0149,
                                   "RJ": -0.0107},
       "1/yr", -0.2, 0.2, True, "migration",
       "net migration rate of each node in the base year; sets the node fixed effect ξ",
       "derived: ln(P2024/P2020census)/4.17 yr minus the base-year natural rate of the node "
       "(tests/test_base_year.py re-derives it)"),
    _p("ext_gross_inflow", 150000.0, "persons/yr", 0.0, 5e6, False, "migration",
       "base-year gross in-migration from the rest of China into all nine nodes",
       "judgement: consistent with province net inter-provincial migration −108k (2024), +43k (2023)"),
    _p("income_weight", 1.5, "1", 0.0, 5.0, False, "migration",
       "κ: utility weight on ln expected income (and on −θ_H·ln house price)",
       "Tombe & Zhu 2019 (migration elasticity ≈ 1.5) [verify]"),
    _p("travel_cost_weight", 1.0, "1", 0.0, 5.0, False, "migration",
       "γ_T: migration cost per unit of ln(1 + travel time / 60 min)",
       "gravity literature (Fan 2005; Poncet 2006) [judgement on value]"),
    _p("ext_move_cost", 2.5, "1", -10.0, 20.0, False, "migration",
       "c_EXT: migration cost between any node and the rest of China",
       "judgement (≈ γ_T·ln(720 min / 60 min)); calibrated in the calibration issue"),
    _p("housing_cost_weight", 0.25, "1", 0.0, 1.0, False, "migration",
       "θ_H: weight of ln house price relative to ln income in utility (housing budget share)",
       "judgement, spec §5 (0.2–0.35)"),
    _p("service_weight", 0.5, "1", 0.0, 3.0, False, "migration",
       "β_Q: utility weight on ln access-weighted public services per capita",
       "Gao et al. 2022 (qualitative: migration most sensitive to education resources)"),
    _p("hukou_weight", 0.2, "1", 0.0, 2.0, False, "migration",
       "β_k: utility gain per unit of hukou settlement ease above its baseline",
       "settlement-probability literature (weak effect); spec §5"),
    _p("housing_quality_weight", 0.1, "1", 0.0, 1.0, False, "migration",
       "β_HQ: utility gain per unit of the housing-quality (renovation) index",
       "judgement, spec §5"),
    _p("crowding_weight", 1.0, "1", 0.0, 5.0, False, "migration",
       "β_C: utility weight on ln χ, the share of desired floor area that the housing stock allows "
       "(χ < 1 only when demand exceeds the stock: housing then limits population)",
       "judgement: a 10 % shortfall of floor area weighs like a 10 % income loss at κ = 1"),
    _p("attractiveness_perception_time", 3.0, "yr", 0.1, 20.0, False, "migration",
       "τ_V: time to perceive a change in a node's attractiveness",
       "Forrester 1969 (AMMPT up to 20 yr); spec §5 range 1–10"),
    _p("trend_perception_time", 3.0, "yr", 0.1, 20.0, False, "migration",
       "τ_h: time over which migrants and employers average perceived values to see their trend "
       "(TREND structure; also used for the wage forecast)",
       "judgement: Sterman 2000 §16.3 (trend horizons of a few years for income-like signals)"),
    _p("base_income_growth", 0.045, "1/yr", -0.1, 0.2, False, "migration",
       "g0: income growth that expectations have already built in at the start of a run; the "
       "perceived stocks start on the steady path of this rate, so the forecasts equal the base values",
       "judgement: the default real income growth of the rest of China (lever national_income_growth)"),
    _p("service_access_decay", 0.05, "1/min", 0.0, 1.0, False, "migration",
       "ν_Q: decay of public-service access with travel time",
       "judgement, spec §4.3"),
    # --- students and graduates -------------------------------------------------------------------
    _p("base_enrolment", {"CC_P": 144100.0, "CC_R": 0.0, "JL_P": 26800.0, "JL_R": 0.0, "SP_P": 12400.0,
                          "SP_R": 0.0, "LY_P": 2100.0, "LY_R": 0.0, "RJ": 20600.0},
       "persons/yr", 0.0, 1e6, True, "students",
       "E0: new students enrolled per year in the node's universities and colleges (base intake; students = E0·D)",
       "province total 75.56万 students (2023: 普通本科 50.97万 + 高职 24.59万, calibration/data/universities.csv) / D; "
       "split by node [judgement from where the institutions are: Changchun 70 %, Jilin City 13 % (北华大学 2.6万 "
       "and five others), Siping 6 % (吉林师范大学 and two colleges), Liaoyuan 1 %, the rest of the province 10 % "
       "(延边大学, 通化师范, 白城师范 …)]"),
    _p("study_duration", 3.67, "yr", 1.0, 8.0, False, "students",
       "D: mean time from enrolment to graduation",
       "derived: 4 yr 本科 and 3 yr 高职 weighted by their 2023 students (50.97万, 24.59万; universities.csv)"),
    _p("base_graduate_retention", 0.63, "1", 0.01, 0.99, False, "students",
       "ρ0: share of graduates who stay (start work) in the province, base year",
       "derived: > 13万 retained (2023) / 20.6万 graduates (75.56万/D); the province reports > 60 % "
       "(universities.csv)"),
    _p("student_ext_share", 0.35, "1", 0.0, 1.0, False, "students",
       "f_S: share of students on extra university places who come from outside the province",
       "judgement: national universities (吉林大学) recruit about two thirds outside Jilin, provincial ones "
       "mostly inside"),
    # --- urbanization ---------------------------------------------------------------------------
    _p("base_urbanization_trend", 0.009, "1/yr", 0.0, 0.1, True, "urbanization",
       "g_u: rural→urban conversion in the base year as a share of the node's population; "
       "sets the conversion rate λ_RU",
       "derived: Jilin urbanization +0.8 pp/yr 2020–2024 (62.64→65.76 %), slightly more with "
       "natural-change and migration composition effects removed [judgement]"),
    _p("rural_urban_income_sensitivity", 2.0, "1", 0.0, 20.0, False, "urbanization",
       "η_HT: slope of conversion on the urban–rural ln expected-income gap",
       "Harris & Todaro 1970 [judgement on value]"),
    _p("hukou_settlement_cost", 1.0, "1", 0.0, 10.0, False, "urbanization",
       "fall in the institutional cost χ per unit rise in hukou ease",
       "judgement"),
    _p("urbanization_ceiling", _NODE_UBAR, "1", 0.3, 1.0, True, "urbanization",
       "ū: saturation level of the urbanization rate",
       "Gu et al. 2017 (0.75–0.85); higher for almost fully urban district nodes [judgement]"),
    _p("base_registered_share", {"CC_P": 0.75, "CC_R": 0.9, "JL_P": 0.8, "JL_R": 0.9, "SP_P": 0.8, "SP_R": 0.9,
                                 "LY_P": 0.8, "LY_R": 0.9, "RJ": 0.85},
       "1", 0.0, 0.99, True, "urbanization",
       "share of residents holding the node's hukou at the start of a run (registered residents H0/P0)",
       "judgement: Siping's 2020 census counts 443,396 floating residents (living away from their hukou "
       "township) among 1.81 million, 24 % (calibration/data/search_2026_11.csv); the capital attracts more "
       "migrants, rural counties fewer; no node-level census table of non-local residents in the data"),
    _p("settlement_hukou_elasticity", 10.0, "1", 0.0, 50.0, False, "urbanization",
       "β_S: rise of ln σ_S per unit of hukou ease; k 0.9 → 1.0 multiplies settlements by e",
       "judgement"),
    _p("urban_share_weight_births", 0.9, "1", 0.0, 2.0, False, "urbanization",
       "ζ_B: relative propensity of births to fall in the urban population", "spec §5"),
    _p("urban_share_weight_deaths", 0.85, "1", 0.0, 2.0, False, "urbanization",
       "ζ_D: relative propensity of deaths to fall in the urban population", "spec §5"),
    _p("urban_weight_in_migrants", 2.0, "1", 0.0, 20.0, False, "urbanization",
       "ζ_in: relative propensity of in-migrants to settle in the urban population; their urban "
       "share is ζ_in·U/(ζ_in·U + R)",
       "judgement: replaces the spec's fixed share σ_in = 0.9, which urbanized rural county nodes by "
       "≈ 1.7 pp/yr through migration composition alone; migrants favour towns (2020 census: most "
       "inter-county migrants live in urban areas)"),
    # --- labour and economy ---------------------------------------------------------------------
    _p("capital_elasticity", 0.5, "1", 0.2, 0.8, False, "economy",
       "α: capital elasticity in Cobb–Douglas production",
       "Chow & Li 2002; Bosworth & Collins 2008; Bai & Qian 2010 (0.4–0.6)"),
    _p("depreciation", 0.08, "1/yr", 0.0, 0.3, False, "economy",
       "δ: depreciation rate of productive capital (continuous time)", "Zhang 2008 (0.096); Wu 2015"),
    _p("capital_output_ratio", 3.0, "yr", 0.5, 10.0, True, "economy",
       "K/Y in the base year: initial capital stock K0 = (K/Y)·Y0",
       "judgement within Zhang 2008 provincial estimates (K/Y 2.5–4.0). A perpetual inventory of Jilin's "
       "published GFCF 1952–2019 (calibration/capital_stock.py) gives 6.7–7.3 against the revised 2019 GDP: "
       "not adopted, the pre-revision investment series is inconsistent with s = 0.42 (docs §11.2)"),
    _p("agglomeration_elasticity", 0.05, "1", 0.0, 0.3, False, "economy",
       "ε: elasticity of productivity to effective density (access-weighted labour)",
       "Melo et al. 2009; Donovan et al. 2021; Combes et al. 2013"),
    _p("access_decay", 1.0, "1", 0.0, 3.0, False, "economy",
       "a: exponent of travel time in effective density", "Graham 2007-type effective density [verify]"),
    _p("commuting_propensity", 0.2, "1", 0.0, 2.0, False, "economy",
       "ϕ_C: weight of working in another node relative to working at home, at zero travel time",
       "judgement: with τ_C = 12 min, 0.13 % of Changchun's plan-area labour force (≈ 6k) commutes to "
       "Jilin City at 60 min door to door, 1.1 % at 35 min (the C-train station to station)"),
    _p("commuting_time_scale", 12.0, "min", 1.0, 120.0, False, "economy",
       "τ_C: travel time over which the commuting weight falls by the factor e",
       "judgement: commuting between cities falls steeply beyond 45–60 min (the plan's '1-hour commuting "
       "circle'); no commuting survey for the metro area in the data"),
    _p("commuting_wage_elasticity", 4.0, "1", 0.0, 10.0, False, "economy",
       "η_C: elasticity of the commuting weight to the workplace's forecast wage relative to home's",
       "judgement: commuters go where wages are higher (a 10 % higher wage raises the weight by ≈ 46 %)"),
    _p("natural_unemployment", 0.05, "1", 0.01, 0.2, True, "economy",
       "u*: unemployment rate at which labour supply equals labour demand (the base year, with the "
       "wage at its equilibrium, sits slightly above it: ≈ 5.5 % for u* = 5 %)",
       "Jilin City registered unemployment ≤ 4.5 % (seeds 2C); spec §5"),
    _p("max_unemployment", 0.25, "1", 0.05, 0.9, False, "economy",
       "u_max: upper asymptote of the unemployment function", "spec §5"),
    _p("unemployment_slope", 2.0, "1", 0.0, 10.0, False, "economy",
       "φ_u: elasticity of the unemployment odds to labour supply / demand", "spec §5"),
    _p("wage_perception_time", 2.0, "yr", 0.1, 10.0, False, "economy",
       "τ_w: adjustment time of the perceived wage (sets labour demand)", "judgement, spec §5"),
    _p("income_smoothing_time", 3.0, "yr", 0.1, 10.0, False, "economy",
       "τ_y: smoothing time of per-capita income for housing demand", "World3 ieat = 3 yr"),
    _p("fiscal_revenue_share", 0.08, "1", 0.0, 0.5, False, "economy",
       "τ_f: local general budget revenue / nominal GDP", "Changchun 2023 ≈ 8.2 % [derived]"),
    _p("service_capacity_life", 25.0, "yr", 1.0, 100.0, False, "economy",
       "τ_Q: mean life of public-service capacity", "judgement, spec §5"),
    _p("service_spending_share", 0.3, "1", 0.0, 1.0, False, "economy",
       "ϑ: share of revenue (incl. transfers) invested in public-service capacity", "judgement"),
    # --- housing --------------------------------------------------------------------------------
    _p("housing_income_elasticity", 0.9, "1", 0.0, 2.0, False, "housing",
       "η_y: income elasticity of desired floor area per person", "Chow & Niu 2015; Zheng & Liu 2005"),
    _p("construction_value_added", 900.0, "yuan/m2", 0.0, 5000.0, False, "housing",
       "v_C: value added of residential construction per m² of floor area put in place (2024 prices)",
       "judgement: building cost ≈ 3,000 yuan/m² (建安成本) × value-added ratio of construction ≈ 0.3 "
       "(China input–output tables); base-year share of GDP 0.3–1.1 % by node"),
    _p("pension_replacement", 0.45, "1", 0.0, 1.5, False, "housing",
       "b: pension per resident aged 60+ as a share of the expected wage, in household income",
       "judgement: China's urban basic pension replaces about 40–45 % of the average wage"),
    _p("floor_area_saturation", 50.0, "m2/person", 40.0, 150.0, False, "housing",
       "h̄: floor area per urban resident that desired floor area approaches as income grows (above every "
       "node's base-year floor area, 31.7–34.8 m², hence the lower bound 40)",
       "judgement: above China's 2020 census urban mean (36.5 m², NBS) and Germany's ≈ 47 m², below the "
       "US; replaces the constant-elasticity demand that reached 96 m²/person by 2060"),
    _p("housing_price_elasticity", 0.8, "1", 0.1, 3.0, False, "housing",
       "η_p: price elasticity of desired floor area per person", "Chow & Niu 2015/2014"),
    _p("price_adjustment_time", 1.5, "yr", 0.1, 10.0, False, "housing",
       "τ_p: time constant of house-price adjustment to market clearing", "judgement, spec §5"),
    _p("natural_vacancy", 0.10, "1", 0.0, 0.5, False, "housing",
       "v*: vacancy rate at which prices are stable", "judgement, spec §5"),
    _p("base_vacancy", {"CC_P": 0.141, "CC_R": 0.141, "JL_P": 0.153, "JL_R": 0.153, "SP_P": 0.147,
                        "SP_R": 0.147, "LY_P": 0.147, "LY_R": 0.147, "RJ": 0.147}, "1", 0.0, 0.6, True, "housing",
       "vacancy of the urban residential stock in the base year",
       "derived: the vacancy at which the price equation reproduces the Dec 2024/Dec 2023 new-home "
       "price change (70-city index: Changchun −3.8 %, Jilin City −5.0 %; other nodes their mean); "
       "calibration/base_year_fit.py"),
    _p("starts_price_elasticity", 2.0, "1", 0.0, 6.0, False, "housing",
       "ε_q: elasticity of housing starts to Tobin's q", "Topel & Rosen 1988; Mayer & Somerville 2000"),
    _p("normal_starts_rate", 0.02, "1/yr", 0.0, 0.2, True, "housing",
       "s0: starts as a share of the stock when q = 1",
       "judgement: a little above the base-year replacement rate (≈ 1.65 %/yr with the default "
       "vintage split and demolition rates), below Forrester's 3 %/yr for growing cities; no "
       "starts or completions series for the nodes in the data"),
    _p("construction_time", 2.5, "yr", 0.3, 10.0, False, "housing",
       "τ_c: mean time from start to completion (3-stage pipeline)", "judgement, spec §5"),
    _p("vintage_aging_time", 25.0, "yr", 1.0, 100.0, False, "housing",
       "τ_age: time for new floor area to become old", "judgement, spec §5"),
    _p("demolition_rate_new", 0.003, "1/yr", 0.0, 0.2, False, "housing",
       "δ_N: demolition rate of the newer vintage", "Zhou et al. 2019; Liu et al. 2014 (mean life ≈ 34 yr)"),
    _p("demolition_rate_old", 0.03, "1/yr", 0.0, 0.3, False, "housing",
       "δ_O: demolition rate of the older vintage", "Zhou et al. 2019; Liu et al. 2014 (mean life ≈ 34 yr)"),
    _p("new_vintage_share", 0.5, "1", 0.0, 1.0, True, "housing",
       "share of the base-year stock in the newer vintage", "judgement (census building-age tables pending)"),
    # --- numerics -------------------------------------------------------------------------------
    _p("min_drain_time", 0.25, "yr", 0.01, 5.0, False, "numerics",
       "τ_min: shortest time in which an exogenous absolute outflow may drain its stock", "spec §4"),
]

PARAMETERS: dict[str, ParameterSpec] = {s.name: s for s in _SPECS}

#: mathematical symbol of each parameter, as in docs/model.md
SYMBOL: dict[str, str] = {
    'mortality_scale': 'θ_i',
    'mortality_improvement': 'λ_m',
    'move_consideration_rate': 'μ',
    'base_out_migration_rate': 'm0_o',
    'base_net_migration_rate': 'n_o',
    'ext_gross_inflow': 'M_ext,0',
    'migration_peak_age': 'μ2',
    'base_enrolment': 'E0',
    'study_duration': 'D',
    'base_graduate_retention': 'ρ0',
    'student_ext_share': 'f_S',
    'income_weight': 'κ',
    'travel_cost_weight': 'γ_T',
    'ext_move_cost': 'c_EXT',
    'housing_cost_weight': 'θ_H',
    'service_weight': 'β_Q',
    'hukou_weight': 'β_k',
    'housing_quality_weight': 'β_HQ',
    'attractiveness_perception_time': 'τ_V',
    'crowding_weight': 'β_C',
    'trend_perception_time': 'τ_h',
    'base_income_growth': 'g0',
    'service_access_decay': 'ν_Q',
    'base_urbanization_trend': 'g_u',
    'rural_urban_income_sensitivity': 'η_HT',
    'hukou_settlement_cost': 'χ_k',
    'urbanization_ceiling': 'ū',
    'base_registered_share': 'H0/P0',
    'settlement_hukou_elasticity': 'β_S',
    'urban_share_weight_births': 'ζ_B',
    'urban_share_weight_deaths': 'ζ_D',
    'urban_weight_in_migrants': 'ζ_in',
    'capital_elasticity': 'α',
    'depreciation': 'δ',
    'capital_output_ratio': '(K/Y)_0',
    'agglomeration_elasticity': 'ε',
    'access_decay': 'a',
    'commuting_propensity': 'ϕ_C',
    'commuting_time_scale': 'τ_C',
    'commuting_wage_elasticity': 'η_C',
    'natural_unemployment': 'u*',
    'max_unemployment': 'u_max',
    'unemployment_slope': 'φ_u',
    'wage_perception_time': 'τ_w',
    'income_smoothing_time': 'τ_y',
    'fiscal_revenue_share': 'τ_f',
    'service_capacity_life': 'τ_Q',
    'service_spending_share': 'ϑ',
    'housing_income_elasticity': 'η_y',
    'pension_replacement': 'b',
    'construction_value_added': 'v_C',
    'floor_area_saturation': 'h̄',
    'housing_price_elasticity': 'η_p',
    'price_adjustment_time': 'τ_p',
    'natural_vacancy': 'v*',
    'base_vacancy': 'v0',
    'starts_price_elasticity': 'ε_q',
    'normal_starts_rate': 's0',
    'construction_time': 'τ_c',
    'vintage_aging_time': 'τ_age',
    'demolition_rate_new': 'δ_N',
    'demolition_rate_old': 'δ_O',
    'new_vintage_share': 'HN0/H0',
    'min_drain_time': 'τ_min',
}


def resolve(overrides: dict[str, float | dict[str, float]] | None = None) -> dict[str, np.ndarray]:
    """Defaults plus overrides as arrays (``()`` shared, ``(N_NODES,)`` per node).

    ``overrides`` values are already validated: a number, or (per-node parameters) a complete
    mapping node → number.
    """
    out = {name: spec.default_array() for name, spec in PARAMETERS.items()}
    for name, value in (overrides or {}).items():
        spec = PARAMETERS[name]
        if isinstance(value, dict):
            arr = out[name].copy()
            for node, v in value.items():
                arr[NODES.index(node)] = float(v)
            out[name] = arr
        elif spec.per_node:
            out[name] = np.full(len(NODES), float(value))
        else:
            out[name] = np.array(float(value))
    return out
