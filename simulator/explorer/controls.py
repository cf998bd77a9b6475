"""The explorer's controls: one per lever (per plan-area part where it applies), in the units a planner writes.

Each ``Control`` names where its value goes in a scenario file (a ``policies:`` entry or a ``levers:``
schedule), its display units and the factor from display to file units, and its slider range. Slider
ranges are the plausible ranges of ``simulator.scenario.plausible`` where one exists (else a range chosen
here and documented in docs/explore.md); a typed value may go beyond the slider up to the hard bounds of
the lever or policy field, and every value is validated by the scenario loader like a YAML file.
"""
from __future__ import annotations

from dataclasses import dataclass

from simulator.model.levers import LEVERS
from simulator.scenario.plausible import plausible_range

PARTS = ("CC_P", "JL_P", "SP_P", "LY_P")
PART_NAMES = {"CC_P": "Changchun", "JL_P": "Jilin", "SP_P": "Siping", "LY_P": "Liaoyuan"}
RAIL_LINKS = ("CC_P-JL_P", "CC_P-SP_P", "CC_P-LY_P", "SP_P-LY_P")
YEARS = (2025.0, 2035.0)          # range of every start / opening year control


@dataclass(frozen=True)
class Control:
    """One numeric control. ``factor``: file value = display value / factor."""

    group: str            # policy or lever name (one card in the app, one reset button)
    key: str              # part code, link, or a setting of the group ("from", "until", ...)
    label: str
    units: str            # display units
    low: float            # slider range (display units)
    high: float
    step: float
    hard_low: float       # typed values are accepted up to these (display units); the loader validates
    hard_high: float
    factor: float = 1.0
    integer: bool = False

    @property
    def id(self) -> str:
        return f"{self.group}.{self.key}"


@dataclass(frozen=True)
class Group:
    name: str             # policy (``policies:`` key) or lever name
    kind: str             # "policy" or "lever"
    title: str
    help: str
    controls: tuple[Control, ...]


def _year(group: str, key: str = "from", label: str = "from year") -> Control:
    return Control(group, key, label, "year", *YEARS, 0.5, 2024.0, 2100.0)


def _parts(group, units, low, high, step, hard_low, hard_high, factor=1.0, integer=False):
    return tuple(Control(group, p, PART_NAMES[p], units, low, high, step, hard_low, hard_high, factor, integer)
                 for p in PARTS)


def _lever_range(name: str, factor: float, fallback: tuple[float, float] | None = None) -> tuple[float, float]:
    spec = LEVERS[name]
    low, high = plausible_range(name) or fallback or (spec.lower, spec.upper)
    return low * factor, high * factor


def _lever_group(name: str, title: str, units: str, factor: float, step: float, help: str,
                 fallback: tuple[float, float] | None = None, integer: bool = False) -> Group:
    spec = LEVERS[name]
    low, high = _lever_range(name, factor, fallback)
    hard = (spec.lower * factor, spec.upper * factor)
    if spec.kind == "scalar":
        controls = (Control(name, "all", "metro-wide", units, low, high, step, *hard, factor, integer),)
    else:
        controls = _parts(name, units, low, high, step, *hard, factor, integer)
    return Group(name, "lever", title, help, controls + (_year(name),))


def groups() -> tuple[Group, ...]:
    """Every card of the explorer, in display order."""
    rail = tuple(c for link in RAIL_LINKS for c in (
        Control("rail", f"{link}.minutes", f"{link} minutes", "min", 20.0, 240.0, 1.0, 1.0, 2000.0),
        _year("rail", f"{link}.opens", f"{link} opens")))
    return (
        Group("rail", "policy", "Rail: door-to-door minutes by link",
              "Travel time on the link from its opening year (policy `rail`; lever travel_time).", rail),
        Group("hukou", "policy", "Settlement conditions removed",
              "Each condition removed raises hukou ease by 0.05, at most to 1 (policy `hukou`). "
              "Conditions the scenario already removed are not offered again.",
              (_year("hukou", "year", "from year"),)),
        Group("graduates_retained", "policy", "Graduates retained per year (added)",
              "Extra graduates and young talents retained or attracted a year (policy `graduates_retained`).",
              _parts("graduates_retained", "persons/yr", 0, 50_000, 500, 0, 1e6, integer=True)
              + (_year("graduates_retained"),)),
        Group("affordable_housing", "policy", "Affordable units per year (added)",
              "Affordable and rental units started a year, each `unit size` m² (policy `affordable_housing`).",
              _parts("affordable_housing", "units/yr", 0, 20_000, 100, 0, 1e6, integer=True)
              + (Control("affordable_housing", "unit_size_m2", "unit size", "m²", 30, 120, 5, 10.5, 300),
                 _year("affordable_housing"), _year("affordable_housing", "until", "until year"))),
        Group("childcare_subsidy", "policy", "Childcare subsidy, yuan per child per year (added)",
              "Yuan per child aged 0–2 a year; raises the TFR (policy `childcare_subsidy`, docs/model.md §7.1).",
              _parts("childcare_subsidy", "yuan/child/yr", 0, 20_000, 100, 0, 200_000, integer=True)
              + (_year("childcare_subsidy"),)),
        Group("project_investment", "policy", "Major-project investment, 亿元 per year (added)",
              "Investment on top of s·Y, 2024 prices (policy `project_investment`); `local share` is paid "
              "from local budgets (fiscal check).",
              _parts("project_investment", "亿元/yr", 0, 1000, 10, 0, 1e5, factor=1e-8)
              + (Control("project_investment", "local_share", "local share", "1", 0, 1, 0.05, 0, 1),
                 _year("project_investment"), _year("project_investment", "until", "until year"))),
        _lever_group("tfp_growth", "TFP growth", "%/yr", 100.0, 0.05,
                     "Growth of total factor productivity from the year on (lever tfp_growth)."),
        _lever_group("amenity_bonus", "Amenity bonus (all movers)", "utility", 1.0, 0.01,
                     "Utility bonus for all movers from the year on (lever amenity_bonus).", (-1.0, 1.0)),
        _lever_group("talent_bonus", "Talent bonus (movers aged 20–34)", "utility", 1.0, 0.01,
                     "Utility bonus for movers aged 20–34 from the year on (lever talent_bonus).", (-1.0, 1.0)),
        _lever_group("extra_net_migration", "Extra net in-migration", "persons/yr", 1.0, 1000,
                     "Extra in-migrants a year from the rest of China (lever extra_net_migration, the "
                     "requirement lever of `sim gap`).", (0.0, 200_000.0), integer=True),
        _lever_group("deflator_growth", "GDP deflator growth", "%/yr", 100.0, 0.1,
                     "Inflation of the GDP deflator from the year on (lever deflator_growth; nominal GDP).",
                     ),
        _lever_group("metro_integration", "Metro integration ρ_M", "share", 1.0, 0.01,
                     "Share of the migration cost removed between plan-area parts (lever metro_integration)."),
    )

