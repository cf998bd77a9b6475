"""What it would take: the gap to each 2030 target, decomposed, and the requirements, backcast with the model.

``gap_analysis(scenario, year)`` runs the scenario once and returns a JSON-serialisable dict (what
``sim gap`` writes to ``gap.json``; equations in docs/gap.md):

* **Population** of each plan-area node and of the metro area, change from the scenario start to ``year``,
  split into births, deaths and net migration by origin (within the metro area, the rest of Jilin, the rest
  of China), per year and in total. The annual flows of the results are differences of accumulator states
  integrated in the same ODE system as the population (``results.annual_flows``), and every Runge–Kutta
  step and its dense output are linear in the stage derivatives, so the linear invariant
  ΔP = ∫Births − ∫Deaths + ∫In − ∫Out holds to rounding error: the split is an identity. The residual is
  reported, not hidden (≈ 1e-12 relative).
* **Nominal GDP** (calendar-year totals) of each plan-area node: the log change split by the production
  function Y = A0·e^{lnA}·S·(Acc/Acc0)^ε·K^α·(h·E)^(1−α), Ynom = Y·D, at the year ends, plus the
  calendar-year term ln(Ȳ/Y(year end)) that turns year-end rates into calendar-year totals. Metro
  components are the node components weighted by Sato–Vartia log-mean Divisia weights (they sum to 1), and a
  ``node_mix`` term, Σ (w_i^LMDI-I − w_i)·Δln Y_i, closes the identity exactly: LMDI-I weights
  L(Y_i1, Y_i0)/L(Y1, Y0), L(a, b) = (a − b)/ln(a/b), are exact for a sum of nodes (Ang 2004).
* **Requirements** (goal seek with the model, ``scipy.optimize.brentq``; every other input as in the scenario):
  (a) the extra net in-migration from the rest of China per year from the start (lever
  ``extra_net_migration``, shared between the plan-area nodes in proportion to their start population)
  that reaches the population target; (b) the TFP growth of the plan-area nodes that reaches the GDP
  target under four deflator paths (the scenario's, 0, +1 %/yr, +2 %/yr); (c) the TFR of the plan-area
  nodes that reaches the population target with migration as in the scenario (bounds [0, 5]).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..model.nodes import NODES, PLAN_MASK

PLAN = [n for n, p in zip(NODES, PLAN_MASK) if p]
OUTSIDE = [n for n, p in zip(NODES, PLAN_MASK) if not p]        # rest of the four cities and of Jilin
ORIGIN_GROUPS = {"net_migration_within_metro": PLAN, "net_migration_rest_of_jilin": OUTSIDE,
                 "net_migration_rest_of_china": ["EXT"]}
POP_COMPONENTS = ("births", "deaths", *ORIGIN_GROUPS)           # deaths enter with a minus sign
GDP_COMPONENTS = {
    "tfp": "TFP (exogenous growth g_A)",
    "output_shock": "output shock S",
    "agglomeration": "agglomeration ε·Δln Acc",
    "capital": "capital α·Δln K",
    "construction": "residential construction Δln(Y/Y_core)",
    "human_capital": "human capital (1−α)·Δln h",
    "labour_population": "labour: residents (1−α)·Δln P",
    "labour_participation": "labour: participation and commuting (1−α)·Δln(L/P)",
    "labour_employment_rate": "labour: employment rate (1−α)·Δln(1−u)",
    "prices": "prices (deflator) Δln D",
    "calendar_year": "calendar-year total vs year-end rate",
    "node_mix": "metro only: shift of output between nodes",
}
INFLATION_PATHS = (("the scenario's path", None), ("0 %/yr", 0.0), ("+1 %/yr", 0.01), ("+2 %/yr", 0.02))
TFR_BOUNDS = (0.0, 5.0)
TFP_RANGE = (-0.2, 0.3)                 # the lever's hard bounds
MIGRATION_RANGE = (0.0, 1.0e6)          # persons/yr over the plan area (each node stays within the lever bound)


class GapInputError(ValueError):
    """The scenario cannot be analysed (target year outside the run, missing outputs)."""


# --- running ------------------------------------------------------------------------------------
def run_with_trajectory(scenario):
    """(Dataset, Trajectory) of one guarded run (the same integration as ``api.run``)."""
    from ..guard import RUN_MAX_RHS_EVALUATIONS, RUN_TIME_LIMIT, guarded_scenario
    from ..results import to_dataset
    from ..solve import simulate
    traj = simulate(guarded_scenario(scenario, RUN_MAX_RHS_EVALUATIONS, RUN_TIME_LIMIT))
    traj.stats["method"] = scenario.solver.method
    traj.scenarios = [scenario]
    return to_dataset(traj), traj


def check_year(scenario, year: int) -> None:
    times = [int(round(t)) for t in np.asarray(scenario.output_times, dtype=float)]
    if not np.allclose(scenario.output_times, np.round(scenario.output_times)) or scenario.output_step != 1:
        raise GapInputError(f"the scenario's output step is {scenario.output_step:g} yr; the decomposition needs "
                            "yearly outputs (time: output_step: 1)")
    if year not in times or year <= times[0]:
        raise GapInputError(f"year {year} is outside the run (expected a year in {times[0] + 1}–{times[-1]}, "
                            f"after the start {times[0]})")


# --- population ---------------------------------------------------------------------------------
def population_decomposition(ds, start: int, year: int) -> dict:
    """Change of the population of each plan-area node and of the metro area from ``start`` to ``year``."""
    needed = ("population", "births", "deaths", "migration_flow")
    missing = [v for v in needed if v not in ds]
    if missing:
        raise GapInputError(f"the results lack {', '.join(missing)}")
    F = ds["migration_flow"]
    years = list(range(start + 1, year + 1))
    out = {}
    for region in PLAN + ["metro"]:
        members = PLAN if region == "metro" else [region]
        pop = ds["population"].sel(region=members).sum("region")
        rows = []
        for y in years:
            row = {"year": y, "change": float(pop.sel(time=y) - pop.sel(time=y - 1)),
                   "births": float(ds["births"].sel(time=y, region=members).sum()),
                   "deaths": float(ds["deaths"].sel(time=y, region=members).sum())}
            for key, origins in ORIGIN_GROUPS.items():
                origins = [o for o in origins if o not in members]
                into = float(F.sel(time=y, origin=origins, destination=members).sum()) if origins else 0.0
                back = float(F.sel(time=y, origin=members, destination=origins).sum()) if origins else 0.0
                row[key] = into - back
            row["residual"] = row["change"] - _pop_sum(row)
            rows.append(row)
        total = {k: float(sum(r[k] for r in rows)) for k in ("births", "deaths", *ORIGIN_GROUPS)}
        p0, p1 = float(pop.sel(time=start)), float(pop.sel(time=year))
        total.update(start=p0, end=p1, change=p1 - p0)
        total["residual"] = total["change"] - _pop_sum(total)
        total["by_year"] = rows
        out[region] = total
    return out


def _pop_sum(d: dict) -> float:
    return d["births"] - d["deaths"] + sum(d[k] for k in ORIGIN_GROUPS)


# --- GDP ----------------------------------------------------------------------------------------
def _logmean(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        L = (a - b) / (np.log(a) - np.log(b))
    return np.where(np.isclose(a, b, rtol=1e-14, atol=0), a, L)


def gdp_decomposition(ds, traj, scenario, start: int, year: int) -> dict:
    """Δln nominal GDP (calendar-year totals) of each plan-area node and of the metro area, by source."""
    times = [int(round(t)) for t in traj.times]
    i0, i1 = times.index(start), times.index(year)
    st, aux = traj.states, traj.auxiliaries
    alpha = float(np.ravel(scenario.parameters["capital_elasticity"])[0])
    eps = float(np.ravel(scenario.parameters["agglomeration_elasticity"])[0])

    def d(arr):                    # (T, M=1, N) → Δ between the two times, per node
        return arr[i1, 0] - arr[i0, 0]

    ln = np.log
    comps = {
        "tfp": d(st["log_tfp"]),
        "output_shock": d(ln(aux["output_shock"])),
        "agglomeration": eps * d(ln(aux["effective_density"])),
        "capital": alpha * d(ln(st["capital_stock"])),
        "human_capital": (1 - alpha) * d(ln(aux["human_capital"])),
        "labour_population": (1 - alpha) * d(ln(st["population"].sum(axis=(-1, -2)))),
        "labour_participation": (1 - alpha) * (d(ln(aux["workplace_labour"]))
                                               - d(ln(st["population"].sum(axis=(-1, -2))))),
        "labour_employment_rate": (1 - alpha) * d(ln(1 - aux["unemployment_rate"])),
        "construction": d(ln(aux["gdp_real_rate"] / (aux["gdp_real_rate"] - aux["construction_output"]))),
        "prices": np.full(len(NODES), d(st["log_deflator"])[0]),
    }
    annual = ds["gdp_nominal"]
    y_ann = np.stack([annual.sel(time=start).values, annual.sel(time=year).values])          # (2, N)
    y_inst = aux["gdp_nominal_rate"][[i0, i1], 0]                                            # (2, N)
    comps["calendar_year"] = ln(y_ann[1] / y_inst[1]) - ln(y_ann[0] / y_inst[0])
    comps["node_mix"] = np.zeros(len(NODES))
    total = ln(y_ann[1]) - ln(y_ann[0])
    nodes = {}
    for k, n in enumerate(NODES):
        if not PLAN_MASK[k]:
            continue
        entry = {c: float(v[k]) for c, v in comps.items()}
        entry.update(start=float(y_ann[0, k]), end=float(y_ann[1, k]), dlog=float(total[k]))
        entry["residual"] = entry["dlog"] - sum(entry[c] for c in GDP_COMPONENTS)
        nodes[n] = entry
    Y0, Y1 = y_ann[0, PLAN_MASK], y_ann[1, PLAN_MASK]
    w_exact = _logmean(Y1, Y0) / _logmean(Y1.sum(), Y0.sum())       # LMDI-I: Σ w_i Δln Y_i = Δln Y exactly
    w = _logmean(Y1 / Y1.sum(), Y0 / Y0.sum())
    w = w / w.sum()                                                  # Sato–Vartia: Σ w_i = 1
    metro = {c: float(np.sum(w * comps[c][PLAN_MASK])) for c in GDP_COMPONENTS}
    metro["node_mix"] = float(np.sum((w_exact - w) * total[PLAN_MASK]))
    metro.update(start=float(Y0.sum()), end=float(Y1.sum()), dlog=float(np.log(Y1.sum() / Y0.sum())),
                 weights={n: float(x) for n, x in zip(PLAN, w)})
    metro["residual"] = metro["dlog"] - sum(metro[c] for c in GDP_COMPONENTS)
    # the same split in yuan: ΔY × (component / Δln Y) (exact: the shares sum to 1)
    scale = (metro["end"] - metro["start"]) / metro["dlog"] if metro["dlog"] != 0 else 0.0
    metro["yuan"] = {c: metro[c] * scale for c in GDP_COMPONENTS}
    nodes["metro"] = metro
    return {"units": "log points (Δln, natural log) of calendar-year nominal GDP",
            "alpha": alpha, "agglomeration_elasticity": eps,
            "metro_weights": ("Sato–Vartia log-mean Divisia weights w_i = L(s_i,end, s_i,start) / Σ_j L(s_j,end, s_j,start) "
                              "(s = node share of metro GDP, L = logarithmic mean; they sum to 1, so a source common "
                              "to every node keeps its size); node_mix = Σ_i (L(Y_i,end, Y_i,start)/L(Y_end, Y_start) − w_i)"
                              "·Δln Y_i closes the identity exactly (LMDI-I minus Sato–Vartia)"),
            "components": dict(GDP_COMPONENTS), "regions": nodes}


# --- requirements --------------------------------------------------------------------------------
def _seek(evaluate, lo: float, hi: float, target: float, xtol: float, first: tuple | None = None) -> dict:
    """Root of evaluate(x) = target in [lo, hi] (brentq), or 'not reachable' with the values at the ends.

    ``first``: a narrower bracket tried first (fewer model runs when the root is inside it)."""
    from scipy.optimize import brentq
    if first is not None:
        a, b = first
        fa, fb = evaluate(a), evaluate(b)
        if np.sign(fa - target) != np.sign(fb - target):
            root = brentq(lambda x: evaluate(x) - target, a, b, xtol=xtol, rtol=1e-10, maxiter=80)
            return {"range": [lo, hi], "status": "reachable", "value": float(root),
                    "achieved": float(evaluate(root))}
    f_lo, f_hi = evaluate(lo), evaluate(hi)
    out = {"range": [lo, hi], "at_range_ends": [f_lo, f_hi]}
    if np.sign(f_lo - target) == np.sign(f_hi - target):
        closest = lo if abs(f_lo - target) < abs(f_hi - target) else hi
        out.update(status="not_reachable", value=None, value_at_bound=closest,
                   achieved_at_bound=evaluate(closest))
        return out
    root = brentq(lambda x: evaluate(x) - target, lo, hi, xtol=xtol, rtol=1e-10, maxiter=80)
    out.update(status="reachable", value=float(root), achieved=float(evaluate(root)))
    return out


class _Cache:
    def __init__(self, fn):
        self.fn, self.cache = fn, {}

    def __call__(self, x):
        x = float(x)
        if x not in self.cache:
            self.cache[x] = self.fn(x)
        return self.cache[x]


def migration_shares(ds, start: int) -> dict[str, float]:
    pop = ds["population"].sel(time=start, region=PLAN)
    return {n: float(v) for n, v in zip(PLAN, (pop / pop.sum()).values)}


def with_extra_migration(scenario, total: float, shares: dict[str, float]):
    """``scenario`` with ``total`` extra net in-migrants a year from the start, shared by ``shares``."""
    return scenario.with_changes(levers={"extra_net_migration": {n: total * s for n, s in shares.items()}})


def with_plan_tfp(scenario, g: float, deflator: float | None = None):
    levers = {"tfp_growth": {n: g for n in PLAN}}
    if deflator is not None:
        levers["deflator_growth"] = deflator
    return scenario.with_changes(levers=levers)


def with_plan_tfr(scenario, tfr: float):
    return scenario.with_changes(levers={"tfr": {n: tfr for n in PLAN}})


def requirement_migration(scenario, ds, traj, start: int, year: int) -> dict:
    from ..api import run
    target = float(scenario.targets.population)
    shares = migration_shares(ds, start)
    runs = {}

    def ev(x):
        runs[float(x)] = run(with_extra_migration(scenario, x, shares))
        return float(runs[float(x)].metro_population.sel(time=year))
    ev = _Cache(ev)
    res = _seek(ev, *MIGRATION_RANGE, target, xtol=1.0, first=(0.0, 5e5))
    res["model_runs"] = len(ev.cache)
    res.update(units="persons/yr", lever="extra_net_migration", from_year=start + 1, shares=shares,
               target=target)
    if res["status"] != "reachable":
        return res
    x = res["value"]
    dsx = runs[x]
    from ..model.base_data import AGE_GROUPS
    a = _ext_age_distribution(traj)
    res["by_node"] = {n: x * s for n, s in shares.items()}
    res["age_profile"] = {"units": "persons/yr", "by_age": {g: float(x * v) for g, v in zip(AGE_GROUPS, a)}}
    years = slice(start + 1, year)
    base_ext = float(ds["net_migration_external"].sel(time=years, region=PLAN).sum()) / (year - start)
    new_ext = float(dsx["net_migration_external"].sel(time=years, region=PLAN).sum()) / (year - start)
    base_net = float(ds["metro_net_migration"].sel(time=years).sum()) / (year - start)
    new_net = float(dsx["metro_net_migration"].sel(time=years).sum()) / (year - start)
    res["realized"] = {
        "units": "persons/yr, mean over the years",
        "metro_net_migration_rest_of_china_baseline": base_ext,
        "metro_net_migration_rest_of_china_required": new_ext,
        "metro_net_migration_baseline": base_net, "metro_net_migration_required": new_net,
        "offset_by_response": x - (new_ext - base_ext),
    }
    return res


def _ext_age_distribution(traj) -> np.ndarray:
    """a_g, the age distribution of in-migrants from the rest of China (sums to 1)."""
    from ..model.base_data import AGE_GROUPS
    return np.ravel(traj.constants.ages.ext_age_distribution)[:len(AGE_GROUPS)]


def requirement_tfp(scenario, ds, start: int, year: int) -> list[dict]:
    from ..api import run
    target = float(scenario.targets.gdp_nominal)
    base_g = {n: float(np.ravel(scenario.levers["tfp_growth"].value(start + 0.5))[NODES.index(n)]) for n in PLAN}
    rows = []
    for label, deflator in INFLATION_PATHS:
        def ev(g, deflator=deflator):
            return float(run(with_plan_tfp(scenario, g, deflator)).metro_gdp_nominal.sel(time=year))
        cache = _Cache(ev)
        res = _seek(cache, *TFP_RANGE, target, xtol=1e-6, first=(0.0, 0.08))
        res["model_runs"] = len(cache.cache)
        dpath = (float(np.ravel(scenario.levers["deflator_growth"].value(start + 0.5))[0])
                 if deflator is None else deflator)
        res.update(inflation=label, deflator_growth=dpath, units="1/yr", lever="tfp_growth (plan-area nodes)",
                   baseline=base_g, target=target, from_year=start + 1)
        rows.append(res)
    return rows


def requirement_tfr(scenario, ds, start: int, year: int) -> dict:
    from ..api import run
    target = float(scenario.targets.population)

    def ev(tfr):
        return float(run(with_plan_tfr(scenario, tfr)).metro_population.sel(time=year))
    cache = _Cache(ev)
    res = _seek(cache, *TFR_BOUNDS, target, xtol=1e-6)
    res["model_runs"] = len(cache.cache)
    base = {n: float(np.ravel(scenario.levers["tfr"].value(start + 0.5))[NODES.index(n)]) for n in PLAN}
    res.update(units="births/woman", lever="tfr (plan-area nodes)", baseline=base, target=target,
               from_year=start + 1, bounds=list(TFR_BOUNDS))
    return res


# --- the record ----------------------------------------------------------------------------------
def migration_record(scenario) -> dict:
    """Observed migration 2010–2024 from calibration/data/city_year.csv, and the fitted history's metro series."""
    import csv
    from ..model.base_data import DATA_DIR
    out = {"units": "persons/yr", "province_net_interprovincial": {}, "plan_area_census_change_per_year": None}
    path = Path(DATA_DIR) / "city_year.csv"
    full = {}
    with open(path, encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["city"] == "Jilin_province" and r["variable"] == "net_interprovincial_migration":
                out["province_net_interprovincial"][int(r["year"])] = float(r["value"]) * 1e4
            if r["city"] == "Metro_area" and r["variable"] == "scope_pop_census_full_units":
                full[int(r["year"])] = float(r["value"])
    out["province_net_interprovincial"] = dict(sorted(out["province_net_interprovincial"].items()))
    if 2010 in full and 2020 in full:
        out["plan_area_census_change_per_year"] = (full[2020] - full[2010]) / 10.0
        out["plan_area_census_note"] = ("population change per year (natural change included) of the fully-in-plan "
                                        "census units, 2010 → 2020 censuses")
    prov = out["province_net_interprovincial"]
    if prov:
        best = max(prov, key=prov.get)
        out["best_observed"] = {"year": best, "value": prov[best],
                                "what": "Jilin province net inter-provincial migration (provincial bulletins)"}
    out["source"] = "calibration/data/city_year.csv"
    out["fitted_history"] = _history_record()
    return out


def _history_record() -> dict | None:
    """Metro net migration by year in the fitted 2010 → 2024 history run (scenarios/history.yaml), if present."""
    from ..api import run
    from ..scenario import load_scenario
    path = Path(__file__).resolve().parents[2] / "scenarios" / "history.yaml"
    if not path.is_file():
        return None
    try:
        ds = run(load_scenario(path))
    except Exception as exc:  # noqa: BLE001 - the record is context; the gap does not depend on it
        import logging
        logging.getLogger(__name__).warning(f"the fitted history run for the record failed ({exc}); left out")
        return None
    years = [int(t) for t in ds.time.values][1:]
    ext = ds["net_migration_external"].sel(region=PLAN).sum("region")
    net = ds["metro_net_migration"]
    return {"what": "metro net migration in the fitted history run scenarios/history.yaml (model reconstruction)",
            "net_migration": {y: float(net.sel(time=y)) for y in years},
            "net_migration_rest_of_china": {y: float(ext.sel(time=y)) for y in years},
            "best_year": max(years, key=lambda y: float(net.sel(time=y))),
            "best": max(float(net.sel(time=y)) for y in years)}


# --- everything ---------------------------------------------------------------------------------
def gap_analysis(scenario, year: int | None = None, requirements: bool = True, record: bool = True,
                 progress=None) -> dict:
    """The whole analysis as a JSON-serialisable dict (``gap.json``)."""
    from .. import __version__
    year = int(scenario.targets.year) if year is None else int(year)
    check_year(scenario, year)
    start = int(round(scenario.start))
    say = progress or (lambda msg: None)
    say("running the scenario")
    ds, traj = run_with_trajectory(scenario)
    pop = population_decomposition(ds, start, year)
    gdp = gdp_decomposition(ds, traj, scenario, start, year)
    t_pop, t_gdp = float(scenario.targets.population), float(scenario.targets.gdp_nominal)
    result = {
        "analysis": "gap", "scenario": scenario.name, "scenario_sha256": scenario.sha256,
        "package": "simulator", "package_version": __version__,
        "parameters": json.loads(ds.attrs["parameters"]), "solver": json.loads(ds.attrs["solver"]),
        "start_year": start, "year": year,
        "targets": {"year": int(scenario.targets.year), "population": t_pop, "gdp_nominal": t_gdp},
        "simulated": {"population": pop["metro"]["end"], "gdp_nominal": gdp["regions"]["metro"]["end"]},
        "gap": {"population": pop["metro"]["end"] - t_pop, "gdp_nominal": gdp["regions"]["metro"]["end"] - t_gdp,
                "gdp_nominal_log": float(np.log(t_gdp / gdp["regions"]["metro"]["end"]))},
        "population": {"units": "persons", "components": list(POP_COMPONENTS),
                       "signs": "change = births − deaths + net migration (within metro + rest of Jilin + rest of China)",
                       "regions": pop},
        "gdp": gdp,
    }
    if requirements:
        say("goal seek (a): extra net in-migration")
        result.setdefault("requirements", {})["extra_net_migration"] = requirement_migration(scenario, ds, traj, start, year)
        say("goal seek (b): TFP growth under four inflation paths")
        result["requirements"]["tfp_growth"] = requirement_tfp(scenario, ds, start, year)
        say("goal seek (c): TFR with migration as in the scenario")
        result["requirements"]["tfr"] = requirement_tfr(scenario, ds, start, year)
    if record:
        say("the 2010–2024 record")
        result["record"] = migration_record(scenario)
    return result


# --- text ---------------------------------------------------------------------------------------
def _w(x):
    return f"{x / 1e4:+.1f}"


def format_gap(r: dict) -> str:
    """The terminal text (万人, 亿元, log points in %)."""
    s, y = r["start_year"], r["year"]
    lines = [f"Scenario: {r['scenario']}   (sha256 {r['scenario_sha256'][:12]})   gap to the {y} targets", ""]
    lines.append(f"Population change {s}→{y} in 万人 (10^4 persons): births − deaths + net migration by origin")
    head = f"{'':10}{'start':>9}{'end':>9}{'change':>9}{'births':>9}{'deaths':>9}{'metro':>9}{'rest JL':>9}{'China':>9}"
    lines.append(head)
    for k, e in r["population"]["regions"].items():
        lines.append(f"{k:10}{e['start'] / 1e4:9.1f}{e['end'] / 1e4:9.1f}{_w(e['change']):>9}{_w(e['births']):>9}"
                     f"{_w(-e['deaths']):>9}{_w(e['net_migration_within_metro']):>9}"
                     f"{_w(e['net_migration_rest_of_jilin']):>9}{_w(e['net_migration_rest_of_china']):>9}")
    m = r["population"]["regions"]["metro"]
    lines.append(f"(identity residual of the metro split: {m['residual']:.2e} persons)")
    t = r["targets"]
    lines.append(f"target {t['population'] / 1e4:.0f} 万, simulated {m['end'] / 1e4:.1f} 万, gap "
                 f"{r['gap']['population'] / 1e4:+.1f} 万")
    g = r["gdp"]["regions"]
    lines += ["", f"Nominal GDP change {s}→{y}, calendar-year totals: Δln by source, in % (log points × 100)"]
    cols = list(GDP_COMPONENTS)
    short = {"tfp": "TFP", "output_shock": "shock", "agglomeration": "agglo", "capital": "capital", "construction": "constr",
             "human_capital": "h", "labour_population": "L:pop", "labour_participation": "L:part",
             "labour_employment_rate": "L:empl", "prices": "prices", "calendar_year": "cal.yr", "node_mix": "mix"}
    lines.append(f"{'':8}{'Δln Y':>8}" + "".join(f"{short[c]:>8}" for c in cols))
    for k, e in g.items():
        lines.append(f"{k:8}{100 * e['dlog']:8.2f}" + "".join(f"{100 * e[c]:8.2f}" for c in cols))
    gm = g["metro"]
    lines.append(f"target {t['gdp_nominal'] / 1e8:.0f} 亿元, simulated {gm['end'] / 1e8:.0f} 亿元, gap "
                 f"{r['gap']['gdp_nominal'] / 1e8:+.0f} 亿元 ({100 * r['gap']['gdp_nominal_log']:.2f} log points short); "
                 f"metro: Sato–Vartia weights + node mix (identity residual {gm['residual']:.1e})")
    req = r.get("requirements")
    if req:
        lines += ["", "What it would take (goal seek with the model, other inputs as in the scenario):"]
        lines.append("  " + requirement_sentence_migration(r))
        for row in req["tfp_growth"]:
            if row["status"] == "reachable":
                lines.append(f"  TFP growth of the plan-area nodes from {row['from_year']} with deflator "
                             f"{row['inflation']} ({100 * row['deflator_growth']:.2f} %/yr): "
                             f"{100 * row['value']:.2f} %/yr (scenario {100 * _mean(row['baseline']):.2f} %/yr)")
            else:
                lines.append(f"  TFP growth with deflator {row['inflation']}: not reachable within "
                             f"{100 * row['range'][0]:.0f}…{100 * row['range'][1]:.0f} %/yr")
        lines.append("  " + requirement_sentence_tfr(r))
    return "\n".join(lines)


def _mean(d: dict) -> float:
    return float(np.mean(list(d.values())))


def requirement_sentence_migration(r: dict) -> str:
    a = r["requirements"]["extra_net_migration"]
    y, t = r["year"], r["targets"]["population"]
    if a["status"] != "reachable":
        return (f"Extra net in-migration: {t / 1e4:.0f} 万 is not reachable with up to {a['range'][1] / 1e4:.0f} 万 "
                f"extra in-migrants a year ({a['at_range_ends'][1] / 1e4:.1f} 万 at that bound).")
    x = a["value"]
    text = (f"Reaching {t / 1e4:.0f} 万 in {y} would need about {x / 1e4:.1f} 万 ({x:,.0f}) extra net in-migrants a year "
            f"from the rest of China from {a['from_year']}")
    rec = r.get("record") or {}
    best = rec.get("best_observed")
    if best:
        years = sorted(rec.get("province_net_interprovincial", {}))
        span = f"{years[0]}–{years[-1]}" if years else ""
        text += (f", {x / best['value']:.0f} times the best year on record of Jilin province's net inter-provincial "
                 f"migration ({best['year']}: {best['value'] / 1e4:+.2f} 万; bulletins {span} in the data)"
                 if best["value"] > 0 else
                 f"; Jilin province's net inter-provincial migration was negative in every year on record "
                 f"({span}), at best {best['value'] / 1e4:+.2f} 万 ({best['year']})")
    census = rec.get("plan_area_census_change_per_year")
    if census is not None:
        text += (f"; between the 2010 and 2020 censuses the plan area's census units changed by only "
                 f"{census / 1e4:+.1f} 万 a year, all sources together")
    hist = rec.get("fitted_history")
    if hist:
        text += (f"; the metro area's own net migration peaked at {hist['best'] / 1e4:+.1f} 万 a year "
                 f"({hist['best_year']}) in the fitted 2010–2024 history")
    real = a.get("realized")
    if real:
        text += (f". The model's response (house prices, crowding, wages) offsets "
                 f"{real['offset_by_response'] / 1e4:.1f} 万 a year of them")
    young = sum(v for g, v in a["age_profile"]["by_age"].items() if g in ("15-19", "20-24", "25-29", "30-34"))
    return text + f"; {young / x:.0%} of the extra movers are aged 15–34."


def requirement_sentence_tfr(r: dict) -> str:
    c = r["requirements"]["tfr"]
    t = r["targets"]["population"]
    if c["status"] == "reachable":
        return (f"With migration as in the scenario, {t / 1e4:.0f} 万 would need a TFR of {c['value']:.2f} in every "
                f"plan-area node from {c['from_year']} (scenario {_mean(c['baseline']):.2f}).")
    return (f"With migration as in the scenario, {t / 1e4:.0f} 万 is not reachable with any TFR within "
            f"[{c['bounds'][0]:g}, {c['bounds'][1]:g}]: at TFR {c['value_at_bound']:g} the metro reaches "
            f"{c['achieved_at_bound'] / 1e4:.1f} 万.")
