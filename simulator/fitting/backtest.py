"""Rolling-origin backtests: fit the history up to year Y, predict to the end of the run, compare.

For every origin Y (``sim calibrate CONFIG --backtest 2012,2015,2018,2020,2022``):

1. ``fit(cfg, scenario, until=Y)`` — only observations up to Y are fitted;
2. the **point forecast** is the run at the estimate θ̂_Y;
3. the **forecast ensemble** draws ``members`` parameter vectors from the Gauss–Newton posterior
   N(θ̂_Y, s²·Σ_Y) (Σ_Y with the prior rows, so parameters the data do not identify keep their prior
   spread), truncated to the bounds by rejection, with s² = max(1, χ²/(m − d)) when the m fitted
   observations exceed the d free parameters (the residual variance beyond the stated measurement
   errors is model error and widens the band); ``structural`` parameters (e.g. the movers' age
   profile, ``migration_peak_age``) are drawn independently from their ranges;
4. per city and quantity: observed value, point forecast and error, the 5–95 % band of the ensemble
   and whether it contains the observation.

Quantities (per whole city, from the observed series in ``calibration/data``):

* ``population_2024`` [persons] — end-2024 resident population (city bulletins);
* ``population_2020`` [persons] — 2020 census (only for origins before 2020, when it is a forecast);
* ``net_migration_2020_2024`` [persons/yr] — net migration 2021–2024: the 2020→2024 population change
  minus the point run's natural change (births − deaths of the city's nodes), over 4 years (the census
  date, 1 Nov 2020, is the run's end of 2020). "Observed" is the implied value (observed change minus the
  run's natural change), so the error equals (ΔP_model − ΔP_obs)/4 — the natural change cancels;
* ``gdp_nominal_2024`` [yuan/yr] — 2024 nominal GDP;
* province ``net_migration_external`` [persons/yr] — mean net inter-provincial migration 2022–2024
  (bulletins), for origins before 2022.

``coverage(inside)`` is the share of cases whose observation lies inside the band, with its Wilson
95 % interval; a calibrated 90 % band covers about 90 % of (city, origin) cases.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import xarray as xr

from ..analysis.targets import wilson_interval
from ..model.base_data import obs as observed_value
from ..model.nodes import CITIES, NODES
from ..model.initial import CalibrationError
from ..results import to_dataset
from ..solve import SolverError
from .fit import FitResult, Problem, _guarded_simulate

BAND = (0.05, 0.95)
#: what makes one member fail (the same set the fit isolates, fit.Problem.simulate)
_MEMBER_FAILURES = (CalibrationError, SolverError, FloatingPointError)
NET_MIGRATION_YEARS = 4.0        # 2020 → 2024 in the run (annual outputs at year ends)

#: structural alternatives drawn in every forecast ensemble: name → (lower, upper), uniform
DEFAULT_STRUCTURAL = {"migration_peak_age": (17.0, 27.0)}


@dataclass
class OriginResult:
    origin: int
    fit: FitResult
    rows: list[dict]
    members: int
    failed: int
    inflation: float


def posterior_draws(problem: Problem, result: FitResult, n: int, rng: np.random.Generator,
                    inflation: float = 1.0) -> np.ndarray:
    """``n`` parameter vectors from N(θ̂, inflation·Σ) folded into the bounds, shape (n, d).

    Σ is the Gauss–Newton covariance with the prior rows (finite whenever every parameter has a prior);
    a non-finite sd falls back to the prior sd, uncorrelated. Draws outside [lo, hi] are reflected at
    the bound (repeatedly, as on a circle of circumference 2·(hi − lo)): an estimate at its bound gets a
    half-normal spread into the box, as a truncated normal would, without rejecting whole vectors
    (with many parameters at bounds, rejection would almost never accept).
    """
    sd = np.where(np.isfinite(result.sd), result.sd, problem.prior_sd)
    corr = np.where(np.isfinite(result.correlation), result.correlation, 0.0)
    np.fill_diagonal(corr, 1.0)
    cov = corr * np.outer(sd, sd) * inflation
    # a correlation matrix from a near-singular information matrix may be slightly indefinite
    w, V = np.linalg.eigh(0.5 * (cov + cov.T))
    root = V * np.sqrt(np.clip(w, 0.0, None))
    theta = result.estimate + rng.standard_normal((n, len(sd))) @ root.T
    return reflect(theta, problem.lo, problem.hi)


def reflect(theta: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Fold values into [lo, hi] by reflection at the bounds."""
    width = hi - lo
    u = np.mod(theta - lo, 2 * width)
    return lo + np.where(u > width, 2 * width - u, u)


def residual_inflation(problem: Problem, result: FitResult, simulated_fit: np.ndarray) -> float:
    """s² = max(1, Σ r²/(m − d)) over the fitted observations (r: standardized residuals), or 1 if m ≤ d."""
    obs = problem.fit_observations
    m, d = len(obs), len(result.names)
    if m <= d:
        return 1.0
    value = np.array([o.value for o in obs])
    sig = np.array([o.sigma for o in obs])
    logs = np.array([o.log for o in obs])
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(logs, (np.log(np.abs(simulated_fit)) - np.log(np.abs(value))) / sig, (simulated_fit - value) / sig)
    r = r[np.isfinite(r)]
    return float(max(1.0, np.sum(r ** 2) / (m - d)))


def observed_quantities(origin: int) -> list[tuple[str, str, float, str]]:
    """(quantity, city or 'province', observed value, units) evaluated for an origin."""
    rows = []
    for c in CITIES:
        p24 = observed_value(c, 2024, "resident_pop") * 1e4
        p20 = observed_value(c, 2020, "resident_pop_census")
        rows.append(("population_2024", c, p24, "persons"))
        if origin < 2020:
            rows.append(("population_2020", c, p20, "persons"))
        rows.append(("net_migration_2020_2024", c, np.nan, "persons/yr"))   # defined by the run's natural change
        for variable in ("gdp_current_final", "gdp_current"):
            try:
                rows.append(("gdp_nominal_2024", c, observed_value(c, 2024, variable) * 1e8, "yuan/yr"))
                break
            except KeyError:
                continue
    if origin < 2022:
        net = np.mean([observed_value("Jilin_province", y, "net_interprovincial_migration") * 1e4
                       for y in (2022, 2023, 2024)])
        rows.append(("net_migration_external_2022_2024", "province", net, "persons/yr"))
    return rows


def model_quantities(ds: xr.Dataset, quantities) -> np.ndarray:
    """Model values (runs, quantities) for a Dataset with a ``run`` dim; for the implied net migration,
    the model value is ΔP_model/4 and the observed one ΔP_obs/4 (see the module docstring)."""
    out = np.empty((ds.sizes["run"], len(quantities)))
    for j, (q, where, _, _) in enumerate(quantities):
        if q == "population_2024":
            v = ds.city_population.sel(whole_city=where, time=2024)
        elif q == "population_2020":
            v = ds.city_population.sel(whole_city=where, time=2020)
        elif q == "net_migration_2020_2024":
            v = (ds.city_population.sel(whole_city=where, time=2024)
                 - ds.city_population.sel(whole_city=where, time=2020)) / NET_MIGRATION_YEARS
        elif q == "gdp_nominal_2024":
            v = ds.city_gdp_nominal.sel(whole_city=where, time=2024)
        elif q == "net_migration_external_2022_2024":
            v = ds.net_migration_external.sel(time=[2022, 2023, 2024]).sum("region").mean("time")
        else:                                                        # pragma: no cover - closed list
            raise KeyError(q)
        out[:, j] = np.asarray(v, dtype=float)
    return out


def _natural_change(ds: xr.Dataset, quantities) -> np.ndarray:
    """Per quantity: the point run's natural change per year 2021–2024 for the implied net migration
    (births − deaths of the city's nodes, averaged over the four years), 0 for other quantities."""
    out = np.zeros(len(quantities))
    d = ds.isel(run=0)
    for j, (q, where, _, _) in enumerate(quantities):
        if q == "net_migration_2020_2024":
            nodes = [str(r) for r in d.region.values if str(d.city.sel(region=r).values) == where]
            nat = (d.births - d.deaths).sel(region=nodes, time=[2021, 2022, 2023, 2024]).sum()
            out[j] = float(nat) / NET_MIGRATION_YEARS
    return out


def _observed(quantities) -> np.ndarray:
    vals = []
    for q, where, value, _ in quantities:
        if q == "net_migration_2020_2024":
            value = (observed_value(where, 2024, "resident_pop") * 1e4
                     - observed_value(where, 2020, "resident_pop_census")) / NET_MIGRATION_YEARS
        vals.append(value)
    return np.array(vals, dtype=float)


def _run(problem: Problem, thetas: np.ndarray, structural: dict[str, np.ndarray] | None = None,
         pull: np.ndarray | None = None) -> xr.Dataset:
    scenarios = []
    for i, t in enumerate(thetas):
        s = problem.scenario_for(t)
        if structural:
            s = s.with_changes(parameters={k: float(v[i]) for k, v in structural.items()})
        if pull is not None:
            s = s.with_changes(levers={"amenity_bonus": _shifted(s, "amenity_bonus", pull[i])})
        scenarios.append(s)
    problem.n_evaluations += len(scenarios)
    # every quantity read from these runs is stock- or accumulator-based: no auxiliaries (``solve.integrate``)
    return to_dataset(_guarded_simulate(scenarios, auxiliaries=False), squeeze=False)


def _shifted(scenario, lever: str, shift: np.ndarray) -> dict:
    """The lever's constant node values in ``scenario`` plus a constant ``shift`` per node (file format).
    A lever with a time path is refused (the discrepancy is defined on a constant history value)."""
    sched = scenario.levers[lever]
    out = {}
    for j, node in enumerate(NODES):
        piece = sched.schedules[node]
        if piece.times:
            raise ValueError(f"the migration discrepancy needs a constant '{lever}' in the history run; "
                             f"{node} has a time path")
        out[node] = float(piece.base) + float(shift[j])
    return out


def evaluate_origin(problem: Problem, result: FitResult, members: int, seed: int,
                    structural: dict[str, tuple[float, float]] | None = None, chunk: int = 50,
                    discrepancy_sd: float = 0.0) -> OriginResult:
    """Point forecast, forecast ensemble and per-quantity rows for one fitted origin.

    ``discrepancy_sd`` [utility]: sd of the migration discrepancy — a pull on movers that the model does
    not explain, drawn independently per node from N(0, sd²) and held over the whole run (lever
    ``amenity_bonus``, added to the history's own values); 0 = parameter and structural uncertainty only.
    """
    from .observations import simulated_all

    origin = problem.until
    quantities = observed_quantities(origin)
    observed = _observed(quantities)
    point_ds = _run(problem, result.estimate[None])
    point = model_quantities(point_ds, quantities)[0]
    inflation = residual_inflation(problem, result, simulated_all(point_ds, problem.fit_observations)[0])
    shift = _natural_change(point_ds, quantities)     # net migration = population change − natural change
    rng = np.random.default_rng(seed)
    thetas = posterior_draws(problem, result, members, rng, inflation)
    structural = DEFAULT_STRUCTURAL if structural is None else structural
    draws = {k: rng.uniform(lo, hi, members) for k, (lo, hi) in structural.items()}
    pull = rng.normal(0.0, discrepancy_sd, (members, len(NODES))) if discrepancy_sd > 0 else None
    values, failed = [], 0
    for start in range(0, members, chunk):
        sl = slice(start, min(start + chunk, members))
        try:
            values.append(model_quantities(_run(problem, thetas[sl], {k: v[sl] for k, v in draws.items()},
                                                None if pull is None else pull[sl]), quantities))
        except _MEMBER_FAILURES:   # a failed chunk is retried member by member, failures are counted
            for i in range(sl.start, sl.stop):
                try:
                    values.append(model_quantities(_run(problem, thetas[i:i + 1],
                                                        {k: v[i:i + 1] for k, v in draws.items()},
                                                        None if pull is None else pull[i:i + 1]), quantities))
                except _MEMBER_FAILURES:
                    failed += 1
    ens = np.vstack(values)
    lo, hi = np.nanquantile(ens, BAND[0], axis=0), np.nanquantile(ens, BAND[1], axis=0)
    observed, point, lo, hi = observed - shift, point - shift, lo - shift, hi - shift
    rows = []
    for j, (q, where, _, units) in enumerate(quantities):
        err = point[j] - observed[j]
        rel = err / abs(observed[j]) if q != "net_migration_2020_2024" else np.nan
        rows.append({"origin": origin, "quantity": q, "where": where, "units": units,
                     "observed": float(observed[j]), "forecast": float(point[j]), "error": float(err),
                     "relative_error": float(rel), "band_low": float(lo[j]), "band_high": float(hi[j]),
                     "inside": bool(lo[j] <= observed[j] <= hi[j])})
    return OriginResult(origin=origin, fit=result, rows=rows, members=len(ens), failed=failed,
                        inflation=inflation)


def coverage(inside) -> dict:
    """Share of cases inside their band, with the Wilson 95 % interval: {k, n, share, low, high}."""
    inside = np.asarray(inside, dtype=bool)
    n, k = int(inside.size), int(inside.sum())
    if n == 0:
        return {"k": 0, "n": 0, "share": math.nan, "low": math.nan, "high": math.nan}
    low, high = wilson_interval(k, n)
    return {"k": k, "n": n, "share": k / n, "low": low, "high": high}


def run_backtests(cfg, scenario, origins: list[int], members: int = 100, seed: int | None = None,
                  starts: int | None = None, progress=None, discrepancy_sd: float = 0.0) -> list[OriginResult]:
    """Fit and evaluate every origin in turn (each fit from the configuration's priors)."""
    from .. import fitting            # looked up at call time (tests replace the estimator with a stub)
    seed = cfg.seed if seed is None else seed
    results = []
    for origin in origins:
        result, problem = fitting.fit(cfg, scenario, until=origin, seed=seed, starts=starts, progress=progress)
        results.append(evaluate_origin(problem, result, members, seed + origin, discrepancy_sd=discrepancy_sd))
        if progress:
            progress(f"origin {origin}: fitted and evaluated ({results[-1].members} members)")
    return results


def summary(results: list[OriginResult]) -> dict:
    """Coverage by quantity and overall, and the identified parameters per origin."""
    rows = [r for o in results for r in o.rows]
    by_q = {}
    for q in sorted({r["quantity"] for r in rows}):
        by_q[q] = coverage([r["inside"] for r in rows if r["quantity"] == q])
    per_origin = []
    for o in results:
        f = o.fit
        per_origin.append({
            "origin": o.origin, "members": o.members, "failed": o.failed, "inflation": o.inflation,
            "fit_runs": f.n_evaluations, "fit_seconds": f.wall_seconds, "names": f.names,
            "estimate": f.estimate.tolist(), "sd": f.sd.tolist(), "sd_data": f.sd_data.tolist(),
            "correlation": f.correlation.tolist(), "identified": f.identified.tolist(),
            "parameters": {n: {"estimate": float(f.estimate[i]), "sd": float(f.sd[i]),
                               "sd_data": float(f.sd_data[i]), "identified": bool(f.identified[i])}
                           for i, n in enumerate(f.names)}})
    return {"coverage": by_q, "coverage_population_2024": by_q.get("population_2024"),
            "band": list(BAND), "origins": per_origin}


def format_table(results: list[OriginResult]) -> str:
    """Plain-text table: per origin and city, forecast errors and whether the band holds the value."""
    cities = list(CITIES)
    lines = ["origin  quantity                    " + "  ".join(f"{c:>20}" for c in cities)]
    for o in results:
        for q in ("population_2024", "population_2020", "net_migration_2020_2024", "gdp_nominal_2024"):
            cells = []
            for c in cities:
                r = next((r for r in o.rows if r["quantity"] == q and r["where"] == c), None)
                if r is None:
                    continue
                if q == "net_migration_2020_2024":
                    cells.append(f"{r['error'] / 1e3:+8.1f}k/yr {'in ' if r['inside'] else 'OUT'}")
                else:
                    cells.append(f"{100 * r['relative_error']:+8.1f} %    {'in ' if r['inside'] else 'OUT'}")
            if cells:
                lines.append(f"{o.origin:<7} {q:<27} " + "  ".join(f"{c:>20}" for c in cells))
        ext = next((r for r in o.rows if r["quantity"] == "net_migration_external_2022_2024"), None)
        if ext is not None:
            lines.append(f"{o.origin:<7} {'province net inter-prov.':<27} forecast {ext['forecast'] / 1e3:+.1f}k/yr, "
                         f"observed {ext['observed'] / 1e3:+.1f}k/yr, band [{ext['band_low'] / 1e3:+.1f}, "
                         f"{ext['band_high'] / 1e3:+.1f}]k {'in' if ext['inside'] else 'OUT'}")
    s = summary(results)
    lines.append("")
    lines.append("coverage of the 90 % bands (share of cases inside, Wilson 95 % interval):")
    for q, c in s["coverage"].items():
        lines.append(f"  {q:<34} {c['k']:>3}/{c['n']:<3} = {100 * c['share']:5.1f} %  "
                     f"[{100 * c['low']:.1f}, {100 * c['high']:.1f}]")
    return "\n".join(lines)


def fits_from_report(doc: dict) -> list[tuple[int, FitResult]]:
    """(origin, FitResult) for every origin stored in a backtest.json document (re-evaluate without re-fitting)."""
    out = []
    for o in doc["summary"]["origins"]:
        a = lambda k: np.array(o[k], dtype=float)   # noqa: E731
        out.append((int(o["origin"]), FitResult(
            names=list(o["names"]), estimate=a("estimate"), sd=a("sd"), sd_data=a("sd_data"),
            correlation=a("correlation"), identified=np.array(o["identified"], dtype=bool), cost=math.nan, nfev=0,
            n_evaluations=int(o["fit_runs"]), converged=True, message="from report", wall_seconds=float(o["fit_seconds"]))))
    return out
