"""Plausible ranges of parameters and levers, besides their hard bounds.

A value inside the hard bounds (``model.parameters`` / ``model.levers``) can still be a slip of units:
``deflator_growth: 0.5`` is a legal 50 %/yr but almost surely meant 0.5 % (0.005). ``check_scenario``
compares every effective value of a resolved scenario (each node, pair and lever knot) with the
ranges below and returns one finding per key and value, naming the plausible range and the likely
unit mistake. ``sim validate`` and ``sim run`` print them as warnings; ``sim run`` flags the summary.

The ranges are judgement, not data: wide enough for every shipped scenario, fitted set and policy
package, narrow enough to catch factors of 100 (percent), 1,000 (per mille), 60 (hours for minutes) or
10⁴/10⁸ (万/亿). Change them here, keyed by parameter or lever name.
"""
from __future__ import annotations

import numpy as np

#: name -> (low, high) plausible range, in the parameter's or lever's own units
PARAMETERS: dict[str, tuple[float, float]] = {
    "mortality_scale": (0.6, 1.6),
    "mortality_improvement": (0.0, 0.04),
    "move_consideration_rate": (0.01, 0.4),
    "base_out_migration_rate": (0.0, 0.12),
    "base_net_migration_rate": (-0.06, 0.06),
    "ext_gross_inflow": (1e4, 1.5e6),
    "income_weight": (0.05, 3.5),
    "attractiveness_perception_time": (0.3, 12.0),
    "base_urbanization_trend": (0.0, 0.04),
    "urbanization_ceiling": (0.5, 1.0),
    "capital_elasticity": (0.25, 0.7),
    "depreciation": (0.02, 0.15),
    "capital_output_ratio": (1.0, 7.0),
    "agglomeration_elasticity": (0.0, 0.15),
    "natural_unemployment": (0.02, 0.12),
    "max_unemployment": (0.1, 0.5),
    "fiscal_revenue_share": (0.02, 0.25),
    "price_adjustment_time": (0.2, 10.0),
    "natural_vacancy": (0.02, 0.25),
    "base_vacancy": (0.0, 0.4),
    "normal_starts_rate": (0.0, 0.08),
    "construction_time": (0.8, 6.0),
    "demolition_rate_new": (0.0, 0.02),
    "demolition_rate_old": (0.0, 0.1),
    "study_duration": (2.0, 6.0),
    "base_graduate_retention": (0.3, 0.95),
    "student_ext_share": (0.0, 0.8),
    "construction_value_added": (100.0, 3000.0),
    "pension_replacement": (0.05, 0.9),
}

LEVERS: dict[str, tuple[float, float]] = {
    "tfr": (0.4, 3.0),
    "travel_time": (5.0, 900.0),
    "external_inflow_factor": (0.1, 4.0),
    "national_income_growth": (-0.06, 0.12),
    "rural_income_growth": (-0.06, 0.15),
    "tfp_growth": (-0.08, 0.08),
    "investment_rate": (0.1, 0.75),
    "human_capital": (0.5, 2.5),
    "deflator_growth": (-0.08, 0.2),      # the 2010s history fit reaches 0.15 in single years
    "service_spending_factor": (0.2, 4.0),
    "metro_integration": (0.0, 1.0),
    # the province enrols ≈ 20.6万 a year and keeps ≈ 13万 graduates: a node adding more than 10万 places or
    # keeping 5万 more graduates a year is more likely a slip (万 for persons) than a plan
    "university_places": (0.0, 1e5),
    "graduates_retained": (0.0, 5e4),
}

_UNIT_HINTS = [  # (factor the value was probably too large by, how a reader says the slip)
    (100.0, "a percentage: {v:g} % is {r:g}"),
    (1000.0, "per 1,000: {v:g} per 1,000 is {r:g}"),
]


def _hint(name: str, units: str, value: float, low: float, high: float) -> str:
    candidates = list(_UNIT_HINTS)
    if units == "min":
        candidates = [(1 / 60, "hours: {v:g} h is {r:g} min")]
    elif units.startswith("persons"):
        candidates = [(1e-4, "万人 (10⁴ persons): {v:g} 万 is {r:g}")]
    elif units.startswith("yuan"):
        candidates = [(1e-8, "亿元 (10⁸ yuan): {v:g} 亿 is {r:g}")]
    elif units == "births/woman":
        candidates = [(1000.0, "births per 1,000 women: {v:g} per 1,000 is {r:g}")]
    for factor, text in candidates:
        r = value / factor
        if low <= r <= high:
            return "probably " + text.format(v=value, r=r)
    if value != 0:
        for factor, text in candidates:
            r = value * factor
            if low <= r <= high and factor > 1:
                return f"probably a fraction where {units} was expected ({value:g} × {factor:g} = {r:g})"
    return "check the units"


def _values(lever) -> list[tuple[str, float]]:
    out = []
    for key, pw in lever.schedules.items():
        label = "" if key == () else (f"{key[0]}-{key[1]}" if isinstance(key, tuple) else str(key))
        vals = [pw.base] if not pw.times else list(pw.left) + list(pw.right)
        out += [(label, float(v)) for v in dict.fromkeys(vals)]
    return out


def check_scenario(sc) -> list[dict]:
    """Findings for every effective value outside its plausible range (empty list: none).

    Each finding: key (e.g. ``levers.deflator_growth``), element (node/pair or ''), value, range,
    units, hint and a one-line ``message``."""
    from ..model.levers import LEVERS as LEVER_SPECS
    from ..model.nodes import NODES
    from ..model.parameters import PARAMETERS as PARAM_SPECS
    findings = []

    def add(kind, name, element, value, rng, units):
        low, high = rng
        if low <= value <= high or not np.isfinite(value):
            return
        hint = _hint(name, units, value, low, high)
        where = f"[{element}]" if element else ""
        findings.append({"key": f"{kind}.{name}", "element": element, "value": value, "range": [low, high],
                         "units": units, "hint": hint,
                         "message": f"{sc.name}: {kind}.{name}{where} = {value:g} {units} is outside the plausible "
                                    f"range {low:g}–{high:g} {units} (within the hard bounds, so it runs); {hint}"})

    node_codes = [n.code if hasattr(n, "code") else str(n) for n in NODES]
    for name, rng in PARAMETERS.items():
        if name not in sc.parameters or name not in PARAM_SPECS:
            continue
        arr = np.atleast_1d(np.asarray(sc.parameters[name], dtype=float))
        seen = set()
        for i, v in enumerate(arr):
            if float(v) in seen:
                continue
            seen.add(float(v))
            element = node_codes[i] if arr.size == len(node_codes) and arr.size > 1 else ""
            add("parameters", name, element, float(v), rng, PARAM_SPECS[name].units)
    for name, rng in LEVERS.items():
        if name not in sc.levers or name not in LEVER_SPECS:
            continue
        for element, v in _values(sc.levers[name]):
            add("levers", name, element, v, rng, LEVER_SPECS[name].units)
    return findings


def plausible_range(name: str) -> tuple[float, float] | None:
    """The plausible range of a parameter or lever (None if it has none beyond its hard bounds)."""
    return PARAMETERS.get(name) or LEVERS.get(name)
