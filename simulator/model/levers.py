"""Policy levers and exogenous paths: inputs that may change over time in a scenario.

Each lever has a *kind*: ``scalar`` (one value for the whole system), ``node`` (one value per
node) or ``pair`` (one value per unordered node pair, e.g. travel time). The default is the
baseline value, constant over time; scenarios replace it with schedules (step, ramp, table).
The base-year closures (node fixed effects, productivity level, …) are computed with every lever
at its default, so a scenario's levers act only through their change from the default: utility
uses hukou ease minus its default, and the bonus, quality and policy levers default to 0.

``seeds`` names the policy levers of ../shared/research/seeds-facts.md §4 (L1–L30).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .nodes import NODES, PAIRS, base_travel_time


@dataclass(frozen=True)
class LeverSpec:
    name: str
    kind: str  # "scalar" | "node" | "pair"
    default: float | dict[str, float]
    units: str
    lower: float
    upper: float
    description: str
    seeds: str

    @property
    def keys(self) -> tuple[str, ...]:
        """Valid element keys: () for scalar levers, node codes, or pair keys."""
        return {"scalar": (), "node": NODES, "pair": PAIRS}[self.kind]

    def default_array(self) -> np.ndarray:
        if self.kind == "scalar":
            return np.array(float(self.default))
        keys = self.keys
        if isinstance(self.default, dict):
            return np.array([self.default[k] for k in keys], dtype=float)
        return np.full(len(keys), float(self.default))


# relative node levels: judgement (rural counties above urban districts); common level fitted to the
# province's 2024 births (97.0k) by calibration/base_year_fit.py
_TFR = {"CC_P": 0.605, "CC_R": 0.714, "JL_P": 0.546, "JL_R": 0.675, "SP_P": 0.645, "SP_R": 0.714,
        "LY_P": 0.585, "LY_R": 0.675, "RJ": 0.694}

_SPECS = [
    LeverSpec("tfr", "node", _TFR, "births/woman", 0.0, 5.0,
              "total fertility rate (default: fitted to 2024 province births, see calibration/base_year_fit.py)",
              "L24 (childcare, fertility support)"),
    LeverSpec("hukou_ease", "node", 0.9, "1", 0.0, 1.0,
              "hukou settlement ease k (1 = no conditions); raises utility and lowers the "
              "urbanization barrier", "L1, L2, L14"),
    LeverSpec("talent_bonus", "node", 0.0, "1", -2.0, 2.0,
              "utility bonus for movers aged 20–34 (talent and graduate programmes)", "L12, L13"),
    LeverSpec("amenity_bonus", "node", 0.0, "1", -2.0, 2.0,
              "utility bonus for all movers (amenity, liveability)", "L29"),
    LeverSpec("metro_integration", "scalar", 0.0, "1", 0.0, 1.0,
              "ρ_M: share of the travel-time migration cost removed between plan-area nodes (portable "
              "insurance, shared labour market); 1 = moving inside the plan area costs nothing", "L16"),
    LeverSpec("travel_time", "pair", base_travel_time(), "min", 1.0, 2000.0,
              "generalized travel time between two nodes (rail, expressways)", "L8"),
    LeverSpec("external_inflow_factor", "scalar", 1.0, "1", 0.0, 10.0,
              "multiplier on the pool of potential in-migrants from the rest of China", "macro"),
    LeverSpec("national_income_growth", "scalar", 0.045, "1/yr", -0.2, 0.3,
              "real growth of expected income in the rest of China (sets its attractiveness)",
              "macro"),
    LeverSpec("rural_income_growth", "node", 0.05, "1/yr", -0.2, 0.3,
              "real growth of rural per-capita income", "L21, L22"),
    LeverSpec("reclassification", "node", 0.0, "persons/yr", 0.0, 1e6,
              "administrative rural→urban reclassification (county-seat urbanization)", "L17"),
    LeverSpec("tfp_growth", "node", 0.02, "1/yr", -0.2, 0.3,
              "growth of total factor productivity g_A", "L9, L10"),
    LeverSpec("investment_rate", "node", 0.42, "1", 0.0, 0.9,
              "gross fixed capital formation / GDP, s", "L19"),
    LeverSpec("project_investment", "node", 0.0, "yuan/yr", 0.0, 1e13,
              "major-project investment on top of s·Y (2024 prices)", "L19, L10"),
    LeverSpec("human_capital", "node", 1.0, "1", 0.1, 5.0,
              "human-capital index h multiplying labour in production (1 = base year)", "L12, L13"),
    LeverSpec("output_shock", "node", 1.0, "1", 0.01, 2.0,
              "multiplier on output (e.g. the 2022 lockdown in historical runs)", "history"),
    LeverSpec("deflator_growth", "scalar", 0.0, "1/yr", -0.2, 0.5,
              "growth of the GDP deflator (nominal = real × deflator)", "macro"),
    LeverSpec("transfers", "node", 0.0, "yuan/yr", 0.0, 1e13,
              "fiscal transfers from higher levels, added to local revenue (nominal)", "L14, L15"),
    LeverSpec("service_spending_factor", "node", 1.0, "1", 0.0, 10.0,
              "multiplier on the share of revenue invested in public services", "L14, L15"),
    LeverSpec("policy_housing_starts", "node", 0.0, "m2/yr", 0.0, 1e9,
              "policy (affordable, rental, rebuilt) floor area started on top of market starts", "L5, L6"),
    LeverSpec("renewal_demolition", "node", 0.0, "m2/yr", 0.0, 1e9,
              "floor area of old housing demolished for renewal", "L6"),
    LeverSpec("housing_quality", "node", 0.0, "1", -1.0, 5.0,
              "housing-quality index raised by renovation of old compounds", "L6"),
    LeverSpec("university_places", "node", 0.0, "persons/yr", 0.0, 1e6,
              "extra new students enrolled per year on top of the base intake E0 (new campuses, expanded "
              "enrolment); a share f_S come from the rest of China, the others from the other nodes", "L12"),
    LeverSpec("graduates_retained", "node", 0.0, "persons/yr", 0.0, 1e6,
              "graduates and young talents (ages 20–24) a programme keeps or attracts per year: first "
              "graduates who would have left for the rest of China, the rest attracted from there", "L12, L13"),
    LeverSpec("retirement_reform", "scalar", 0.0, "1", 0.0, 1.0,
              "share of the statutory retirement-age phase-in completed (2024 NPC Standing Committee "
              "decision: from 1 Jan 2025 over 15 years, men 60 → 63, women 50 → 55 and 55 → 58); raises "
              "participation at ages 50–64 by up to Δℓ_g", "reform in force (labour supply)"),
    LeverSpec("land_quota", "node", 1e10, "m2/yr", 0.0, 1e12,
              "cap on market housing starts from the fixed urban development boundary", "L4"),
    LeverSpec("extra_net_migration", "node", 0.0, "persons/yr", 0.0, 1e6,
              "extra in-migrants from the rest of China on top of the modelled flows, with the age profile "
              "a_g of in-migrants from the rest of China (a requirement lever for `sim gap`: the rest of "
              "China is the counterpart, so people are conserved; an outflow is not expressible, values "
              "below 0 are rejected)", "requirement (sim gap)"),
]

LEVERS: dict[str, LeverSpec] = {s.name: s for s in _SPECS}

#: mathematical symbol of each lever, as in docs/model.md
SYMBOL: dict[str, str] = {
    'tfr': 'TFR',
    'hukou_ease': 'k',
    'talent_bonus': 'Ω (ages 20–34)',
    'amenity_bonus': 'Ω (all ages)',
    'metro_integration': 'ρ_M',
    'travel_time': 'T',
    'external_inflow_factor': 'F_ext',
    'national_income_growth': 'd ln W_ext/dt',
    'rural_income_growth': 'd ln w_R/dt',
    'reclassification': 'Rec',
    'tfp_growth': 'g_A',
    'investment_rate': 's',
    'project_investment': 'I_proj',
    'human_capital': 'h',
    'output_shock': 'S',
    'deflator_growth': 'd ln D/dt',
    'transfers': 'Tr',
    'service_spending_factor': 'F_Q',
    'policy_housing_starts': 'SPol',
    'renewal_demolition': 'RenewPol',
    'housing_quality': 'hq',
    'land_quota': 'Quota',
    'retirement_reform': 'R(t)',
    'extra_net_migration': 'X',
    'university_places': 'ΔE',
    'graduates_retained': 'X_G',
}
