"""The model as one format-neutral table of variables, shared by the XMILE and Vensim writers.

Equations come from the ``EXPORT_EQUATIONS`` / ``EXPORT_STOCKS`` sections at the end of each
``simulator/model/sectors/*.py`` file (beside the numpy code they mirror). Numbers — parameters,
calibrated constants (ξ, ψ, G_ext, A0, λ_RU, reference values) and initial values — are computed by
our own code for the scenario (``stack_parameters`` + ``initialize`` with one member), so the export
starts from exactly the state ``solve_ivp`` starts from. Lever schedules become time lookups with
the schedule's breakpoints; a jump at t is written as two points (t − ε, left) and (t, right).

Equations are written in the Vensim syntax subset that PySD's XMILE reader also parses:
``SUM(x[dim!])``, ``IF THEN ELSE(c, a, b)`` (rewritten for XMILE), ``EXP``, ``LN``, ``MIN``, ``MAX``,
``^``, and ``Time``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..model import initial as _initial
from ..model.base_data import AGE_GROUPS, AGE_LOWER, N_AGES
from ..model.inputs import stack_parameters
from ..model.levers import LEVERS
from ..model.nodes import INTERNAL_COMMUTE_MIN, NODES, PLAN_MASK, pair_key
from ..model.parameters import PARAMETERS
from ..scenario.schedules import Piecewise
from ..model.sectors import demography, economy, housing, migration, services, students, urbanization

SECTORS = {"demography": demography, "migration": migration, "urbanization": urbanization,
           "economy": economy, "services": services, "housing": housing, "students": students}

#: a jump of a lever schedule at t is exported as the points (t − STEP_EPS, left), (t, right)
STEP_EPS = 1e-6

AGE_ELEMENTS = tuple("a" + g.replace("-", "_").replace("+", "plus") for g in AGE_GROUPS)


@dataclass
class Variable:
    name: str
    dims: tuple[str, ...]
    units: str
    doc: str
    sector: str
    kind: str                       # "aux" | "stock" | "constant" | "lever"
    equation: str = ""              # aux: expression; stock: net rate
    initial: str = ""               # stock: initial-value expression
    value: np.ndarray | None = None  # constant: numbers with shape of dims
    # lever: {element tuple (or ()): [(t, y), ...]} when time-varying, else value holds the constant
    lookup: dict | None = None


@dataclass
class ModelTable:
    name: str
    dimensions: dict[str, tuple[str, ...]]
    copies: dict[str, str]                 # copy dimension -> original
    variables: list[Variable] = field(default_factory=list)
    start: float = 2024.0
    end: float = 2035.0
    dt: float = 1 / 32
    saveper: float = 1.0
    description: str = ""


def _dims(text: str) -> tuple[str, ...]:
    return tuple(d.strip() for d in text.split(",") if d.strip())


_UNITS = {"1": "Dmnl", "": "Dmnl"}


def _units(u: str) -> str:
    return _UNITS.get(u, u)


def _piecewise_points(pw, start: float, end: float) -> list[tuple[float, float]]:
    """Lookup points of a ``Piecewise`` covering [start, end] (flat tails written explicitly)."""
    if not pw.times:
        return [(start, pw.base), (end, pw.base)]
    pts = []
    for t, lv, rv in zip(pw.times, pw.left, pw.right):
        if lv != rv:
            pts += [(t - STEP_EPS, lv), (t, rv)]
        else:
            pts.append((t, lv))
    if pts[0][0] > start:
        pts.insert(0, (start, pts[0][1]))
    if pts[-1][0] < end:
        pts.append((end, pts[-1][1]))
    return pts


def _lever_variables(scenario) -> list[Variable]:
    out = []
    levers = scenario.effective_levers()          # the history's schedules, then the scenario's
    for name, spec in LEVERS.items():
        sched = levers[name]
        doc = f"lever: {spec.description} [{spec.seeds}]"
        if spec.kind == "pair":
            # full (node, dest) matrix, the diagonal holds the internal commute time (not a lever)
            elems, constant = {}, True
            for a in NODES:
                for b in NODES:
                    if a == b:
                        elems[(a, b)] = _piecewise_points(Piecewise.constant(INTERNAL_COMMUTE_MIN[a]),
                                                          scenario.run_start, scenario.end)
                    else:
                        pw = sched.schedules[pair_key(a, b)]
                        constant &= pw.is_constant
                        elems[(a, b)] = _piecewise_points(pw, scenario.run_start, scenario.end)
            if constant:
                value = np.array([[elems[(a, b)][0][1] for b in NODES] for a in NODES])
                out.append(Variable(name, ("node", "dest"), _units(spec.units), doc, "levers", "lever",
                                    value=value))
            else:
                out.append(Variable(name, ("node", "dest"), _units(spec.units), doc, "levers", "lever",
                                    lookup=elems))
            continue
        keys = spec.keys or ((),)
        dims = () if spec.kind == "scalar" else ("node",)
        pws = [sched.schedules[k] for k in keys]
        if all(pw.is_constant for pw in pws):
            value = np.array([pw.base for pw in pws]) if dims else np.array(pws[0].base)
            out.append(Variable(name, dims, _units(spec.units), doc, "levers", "lever", value=value))
        else:
            elems = {((k,) if dims else ()): _piecewise_points(pw, scenario.run_start, scenario.end)
                     for k, pw in zip(keys, pws)}
            out.append(Variable(name, dims, _units(spec.units), doc, "levers", "lever", lookup=elems))
    return out


def build_table(scenario, dt: float = 1 / 32) -> ModelTable:
    """The full model of ``scenario`` (a loaded ``Scenario``) as a ``ModelTable``."""
    k = int(scenario.age_substages)
    subs = tuple(f"s{j + 1}" for j in range(k))
    table = ModelTable(
        name=scenario.name,
        dimensions={"node": NODES, "dest": NODES, "age": AGE_ELEMENTS, "age2": AGE_ELEMENTS,
                    "sub": subs, "sub2": subs},
        copies={"dest": "node", "age2": "age", "sub2": "sub"},
        start=float(scenario.run_start), end=float(scenario.end), dt=float(dt),
        saveper=float(scenario.output_step), description=(scenario.description or "").strip())
    V = table.variables

    def const(name, dims, value, units, doc, sector="constants"):
        V.append(Variable(name, _dims(dims), _units(units), doc, sector, "constant",
                          value=np.asarray(value, dtype=float)))

    # --- structure constants ---------------------------------------------------------------------
    const("age_substages", "", k, "Dmnl", "k: sub-stages per 5-year age group (model.age_substages)")
    const("number_of_ages", "", N_AGES, "Dmnl", "G: number of 5-year age groups")
    const("age_index", "age", np.arange(1, N_AGES + 1), "Dmnl", "position of the age group, 1 .. G")
    const("age_index2", "age2", np.arange(1, N_AGES + 1), "Dmnl", "age_index over the copy dimension")
    const("sub_index", "sub", np.arange(1, k + 1), "Dmnl", "position of the sub-stage, 1 .. k")
    const("sub_index2", "sub2", np.arange(1, k + 1), "Dmnl", "sub_index over the copy dimension")
    const("node_identity", "node, dest", np.eye(len(NODES)), "Dmnl", "1{o = d}")
    const("plan_area", "node", PLAN_MASK.astype(float), "Dmnl", "1 for the four plan-area (*_P) nodes")
    const("plan_pair", "node, dest", np.outer(PLAN_MASK, PLAN_MASK).astype(float), "Dmnl",
          "1 if both nodes are in the plan area")
    const("talent_age", "age", _initial.YOUNG_ADULT, "Dmnl", "1 for ages 20-34 (talent bonus)")
    const("entry_age", "age", (np.arange(N_AGES) == students.ENTRY_AGE).astype(float), "Dmnl",
          "1 for ages 15-19 (university entrants)")
    const("graduate_age", "age", (np.arange(N_AGES) == students.GRADUATE_AGE).astype(float), "Dmnl",
          "1 for ages 20-24 (graduates)")
    const("retired_age", "age", (AGE_LOWER >= 60).astype(float), "Dmnl", "1 for ages 60+ (pensioners)")

    # --- parameters, calibrated constants and initial values (our own code, one member) ----------
    p = stack_parameters([scenario.parameters])
    blocks, c = _initial.initialize(p, 1, k, start_year=int(scenario.run_start))
    for name, spec in PARAMETERS.items():
        v = np.asarray(scenario.parameters[name], dtype=float)
        const(name, "node" if spec.per_node else "", v, spec.units,
              f"parameter: {spec.description} (source: {spec.source})", "parameters")
    ages = c.ages
    col = lambda a: np.asarray(a, float)[:, 0]   # noqa: E731
    node = lambda a: np.asarray(a, float).reshape(len(NODES), -1)[:, 0]   # noqa: E731
    const("mortality_rate_2020", "age", col(ages.mortality), "1/yr", "m_g^2020: national 2020 death rates (shape)")
    const("fertility_weight", "age", col(ages.fertility_weight), "1/yr", "f_g/5 * phi_g")
    const("participation_rate", "age", col(ages.participation), "Dmnl", "l_g: labour-force participation")
    const("retirement_participation_gain", "age", col(ages.retirement_gain), "Dmnl",
          "Delta l_g: participation gain at full phase-in of the retirement-age reform")
    const("migration_age_profile", "age", col(ages.migration_profile), "Dmnl", "r_g: Rogers-Castro profile")
    const("ext_age_distribution", "age", col(ages.ext_age_distribution), "Dmnl", "a_g: age distribution of EXT in-migrants")
    calibrated = [
        ("tfp0", c.tfp0, "Dmnl", "A0: productivity closing base-year GDP"),
        ("access0", c.access0, "persons", "Acc0: base-year effective density"),
        ("expected_income0", c.expected_income0, "yuan/worker/yr", "W0 = w0 (1 - u0)"),
        ("service_access0", c.service_access0, "yuan/person", "Qacc0: base-year service access"),
        ("income0", c.income0, "yuan/person/yr", "ytil0 = W0 (LF0 + b P_60+,0)/P0"),
        ("floor_area0", c.floor_area0, "m2/person", "h0: base-year floor area per person"),
        ("crowding0", c.crowding0, "Dmnl", "chi0: base-year share of desired floor area obtained"),
        ("hukou_ease_base", c.hukou_base, "Dmnl", "k_base: default hukou ease"),
        ("fixed_effect", c.fixed_effect, "Dmnl", "xi: node fixed effect closing base-year migration"),
        ("home_premium", c.home_premium, "Dmnl", "psi: home premium closing base-year out-migration"),
        ("conversion_rate", c.conversion_rate, "1/yr", "lambda_RU: closes base-year urbanization"),
        ("settlement_rate0", c.settlement_rate0, "1/yr", "sigma0: keeps the registered share stationary at t0"),
    ]
    for name, v, u, doc in calibrated:
        const(name, "node", node(v), u, "calibrated: " + doc, "calibrated")
    const("urban_reference", "", float(np.ravel(c.urban_reference)[0]), "Dmnl",
          "calibrated: u_ref, the province's base-year urban share", "calibrated")
    const("ext_scale", "", float(np.ravel(c.ext_scale)[0]), "persons/yr",
          "calibrated: G_ext, scale of the pool of in-migrants from the rest of China", "calibrated")
    pop = np.asarray(blocks["population"])[..., 0]                        # (N, G, k)
    if not np.allclose(pop, pop[:, :, :1]):
        raise ValueError("the export assumes the base-year population spread evenly over sub-stages")
    const("initial_population_by_age", "node, age", pop.sum(axis=2), "persons", "base-year population by age")
    for name, block, u in [("initial_urban_population", "urban_population", "persons"),
                           ("initial_registered_population", "registered_population", "persons"),
                           ("initial_capital_stock", "capital_stock", "yuan"),
                           ("initial_perceived_wage", "perceived_wage", "yuan/worker/yr"),
                           ("initial_wage_reference", "wage_reference", "yuan/worker/yr"),
                           ("initial_housing_new", "housing_new", "m2"),
                           ("initial_housing_old", "housing_old", "m2"),
                           ("initial_service_capacity", "service_capacity", "yuan")]:
        const(name, "node", node(np.broadcast_to(blocks[block], (len(NODES), 1))), u, "base-year " + block)
    pipe = np.asarray(blocks["construction_pipeline"])[..., 0]
    const("initial_construction_stage", "node", pipe[:, 0], "m2", "base-year floor area in each construction stage")

    V.extend(_lever_variables(scenario))

    # --- equations from the sector files ---------------------------------------------------------
    for sector, mod in SECTORS.items():
        for name, dims, eq, units, doc in mod.EXPORT_EQUATIONS:
            V.append(Variable(name, _dims(dims), _units(units), doc, sector, "aux", equation=eq))
        for name, dims, rate, init, units, doc in mod.EXPORT_STOCKS:
            V.append(Variable(name, _dims(dims), _units(units), doc, sector, "stock", equation=rate,
                              initial=init))
    # --- plan-area totals (as in simulator/results.py) --------------------------------------------
    V.append(Variable("metro_population", (), "persons", "population of the plan area (sum of *_P nodes)",
                      "results", "aux", equation="SUM(total_population[node!] * plan_area[node!])"))
    V.append(Variable("metro_gdp_nominal_rate", (), "yuan/yr", "nominal GDP of the plan area (rate)",
                      "results", "aux", equation="SUM(gdp_nominal[node!] * plan_area[node!])"))
    V.append(Variable("metro_cum_gdp_nominal", (), "yuan",
                      "accumulated nominal GDP of the plan area; annual GDP = difference over the year",
                      "results", "aux", equation="SUM(cum_gdp_nominal[node!] * plan_area[node!])"))
    names = [v.name.lower() for v in V]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise AssertionError(f"duplicate exported names: {sorted(dup)}")
    return table


def fmt(x: float) -> str:
    """Full-precision number text."""
    x = float(x)
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return repr(x)
