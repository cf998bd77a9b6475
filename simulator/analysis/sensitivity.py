"""Global sensitivity from an ensemble Dataset with SALib.

Which method fits which design (``method_for_design``; ``sensitivity(..., method=...)`` overrides):

=================  ===========================================================================
design             method (default first)
=================  ===========================================================================
``sobol``          ``sobol``: first-order and total Sobol indices S1, ST (Saltelli design needed);
                   also any given-data method below
``morris``         ``morris``: mu*, sigma, mu (trajectories needed); given-data methods refused
                   (a few grid levels per factor)
``lhs``, ``random``,  ``delta`` (Borgonovo's moment-independent δ, Plischke et al. 2013 given-data
``grid``,          estimator), ``pawn`` (PAWN, median Kolmogorov–Smirnov distance between the
``sobol_sequence`` unconditional and conditional output CDFs over 10 slices), ``rbd_fast`` (first-
                   order index S1 by RBD-FAST on the given sample, Plischke 2010's reordering, so
                   any sample works)
=================  ===========================================================================

Every index comes with a confidence interval (``*_conf``: half-width at ``confidence``) from
``resamples`` bootstrap resamples, seeded by ``seed`` (same seed → identical intervals): SALib's own
bootstrap for Sobol, Morris, δ and RBD-FAST, ours (rows resampled with replacement) for PAWN, which
SALib reports without one.

The ensemble must carry its design: coordinate ``factor``, variable ``design_unit`` (run, factor) and
the attributes ``design_method``, ``design_samples``, ``design_levels``, ``design_second_order``
(``run_sweep`` writes them; ``design_dataset`` builds them for any function, e.g. Ishigami in the tests).

Outputs are variable names, optionally with a selection: ``metro_population``,
``population[CC_P]``, ``city_population[Changchun]``. Results are an ``xarray.Dataset`` with dims
(output, parameter, time) and variables S1, S1_conf, ST, ST_conf (Sobol), mu_star, mu_star_conf,
sigma, mu (Morris), delta, delta_conf (δ), PAWN, PAWN_conf (PAWN) or S1, S1_conf (RBD-FAST), attribute
``method``; ``ranked_table`` turns one output/year into a sorted table.
"""
from __future__ import annotations

import re
import warnings

import numpy as np
import xarray as xr

MIN_SOBOL_BASE = 256
MIN_MORRIS_TRAJECTORIES = 10


class SensitivityWarning(UserWarning):
    """The sample is usable but too small or badly shaped for reliable indices."""


def design_dataset(factors, method: str, samples: int, seed: int = 0, levels: int = 4,
                   second_order: bool = False) -> xr.Dataset:
    """A Dataset with only the design (no model outputs): add output variables on ``run`` and analyse."""
    from simulator.ensemble.designs import factor_values, unit_design
    U = unit_design(method, factors, samples, seed, levels, second_order)
    X = factor_values(factors, U)
    ds = xr.Dataset({"design_unit": (("run", "factor"), U)},
                    coords={"run": np.arange(U.shape[0]), "factor": [f.id for f in factors]})
    for j, f in enumerate(factors):
        ds = ds.assign_coords({f.id: ("run", X[:, j])})
    ds.attrs.update(design_method=method, design_samples=int(samples), design_seed=int(seed),
                    design_levels=int(levels), design_second_order=int(second_order))
    return ds


_SEL = re.compile(r"^(?P<var>[A-Za-z0-9_]+)(?:\[(?P<sel>[^\]]+)\])?$")


def output_series(ds: xr.Dataset, output: str) -> xr.DataArray:
    """The output as a DataArray with dims (run[, time])."""
    m = _SEL.match(output)
    if not m or m["var"] not in ds:
        raise KeyError(f"output {output!r} is not in the ensemble (variables: {', '.join(map(str, ds.data_vars))})")
    da = ds[m["var"]]
    if m["sel"]:
        extra = [d for d in da.dims if d not in ("run", "time")]
        if len(extra) != 1:
            raise KeyError(f"output {output!r}: a [selection] needs a variable with one extra dimension")
        da = da.sel({extra[0]: m["sel"]})
    extra = [d for d in da.dims if d not in ("run", "time")]
    if extra:
        raise KeyError(f"output {output!r} has dims {da.dims}; select one element, e.g. {m['var']}[CC_P]")
    return da


def _times(ds, years, over_time):
    if "time" not in ds.dims:
        return None
    all_t = [int(t) for t in ds.time.values]
    if over_time or not years:
        return all_t
    missing = [y for y in years if y not in all_t]
    if missing:
        raise KeyError(f"years {missing} are not output times of the ensemble")
    return [int(y) for y in years]


def _problem(ds):
    from simulator.ensemble.designs import salib_problem
    return salib_problem([str(f) for f in ds.factor.values])


def _ok(ds) -> np.ndarray:
    return (ds["failed"].values == 0) if "failed" in ds else np.ones(ds.sizes["run"], dtype=bool)


def sobol_indices(ds: xr.Dataset, outputs, years=None, over_time: bool = False, resamples: int = 100,
                  confidence: float = 0.95, seed: int = 0) -> xr.Dataset:
    """Sobol S1/ST with confidence intervals (SALib) from a ``sobol`` (Saltelli) ensemble."""
    from SALib.analyze import sobol as sobol_analyze
    if ds.attrs.get("design_method") != "sobol":
        raise ValueError(f"Sobol indices need a 'sobol' design; this ensemble is '{ds.attrs.get('design_method')}'")
    problem = _problem(ds)
    d = problem["num_vars"]
    second = bool(ds.attrs.get("design_second_order", 0))
    block = 2 * d + 2 if second else d + 2
    n_base = int(ds.attrs["design_samples"])
    if n_base < MIN_SOBOL_BASE:
        warnings.warn(f"Sobol base sample N = {n_base} is small (< {MIN_SOBOL_BASE}); indices and intervals "
                      f"will be rough", SensitivityWarning, stacklevel=2)
    if n_base & (n_base - 1):
        warnings.warn(f"Sobol base sample N = {n_base} is not a power of 2", SensitivityWarning, stacklevel=2)
    ok = _ok(ds).reshape(-1, block).all(axis=1)
    if not ok.all():
        warnings.warn(f"{(~ok).sum()} of {ok.size} Saltelli blocks contain failed members and are dropped",
                      SensitivityWarning, stacklevel=2)
    keep = np.repeat(ok, block)
    times = _times(ds, years, over_time)
    names = ("S1", "S1_conf", "ST", "ST_conf")
    out = {k: np.full((len(outputs), d, len(times) if times else 1), np.nan) for k in names}
    for i, o in enumerate(outputs):
        da = output_series(ds, o)
        for k, t in enumerate(times or [None]):
            y = (da.sel(time=t) if t is not None else da).values[keep].astype(float)
            if not np.isfinite(y).all() or np.nanstd(y) == 0:
                continue
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                # SALib treats seed=0 as "no seed" (``if seed:``): pass a seeded Generator instead, so
                # that every seed, 0 included, gives the same confidence intervals on every run
                r = sobol_analyze.analyze(problem, y, calc_second_order=second, num_resamples=resamples,
                                          conf_level=confidence, seed=np.random.default_rng(seed))
            for name in names:
                out[name][i, :, k] = r[name]
    return _result(out, outputs, problem["names"], times, {
        "method": "sobol", "seed": int(seed), "base_samples": n_base, "runs_used": int(keep.sum()), "confidence_level": confidence,
        "resamples": resamples})


def morris_indices(ds: xr.Dataset, outputs, years=None, over_time: bool = False, resamples: int = 100,
                   confidence: float = 0.95, seed: int = 0) -> xr.Dataset:
    """Morris mu* (with confidence interval), sigma and mu from a ``morris`` ensemble; effects are per
    unit of the factor's quantile range (the whole range = 1)."""
    from SALib.analyze import morris as morris_analyze
    if ds.attrs.get("design_method") != "morris":
        raise ValueError(f"Morris indices need a 'morris' design; this ensemble is '{ds.attrs.get('design_method')}'")
    problem = _problem(ds)
    d = problem["num_vars"]
    r_traj = int(ds.attrs["design_samples"])
    if r_traj < MIN_MORRIS_TRAJECTORIES:
        warnings.warn(f"{r_traj} Morris trajectories is small (< {MIN_MORRIS_TRAJECTORIES})", SensitivityWarning,
                      stacklevel=2)
    ok = _ok(ds).reshape(-1, d + 1).all(axis=1)
    if not ok.all():
        warnings.warn(f"{(~ok).sum()} trajectories contain failed members and are dropped", SensitivityWarning,
                      stacklevel=2)
    keep = np.repeat(ok, d + 1)
    U = ds["design_unit"].values[keep]
    times = _times(ds, years, over_time)
    names = ("mu_star", "mu_star_conf", "sigma", "mu")
    out = {k: np.full((len(outputs), d, len(times) if times else 1), np.nan) for k in names}
    for i, o in enumerate(outputs):
        da = output_series(ds, o)
        for k, t in enumerate(times or [None]):
            y = (da.sel(time=t) if t is not None else da).values[keep].astype(float)
            if not np.isfinite(y).all():
                continue
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                r = morris_analyze.analyze(problem, U, y, num_resamples=resamples, conf_level=confidence,
                                           num_levels=int(ds.attrs.get("design_levels", 4)),
                                           seed=np.random.default_rng(seed))
            for name in names:
                out[name][i, :, k] = np.asarray(r[name], dtype=float)
    return _result(out, outputs, problem["names"], times, {
        "method": "morris", "seed": int(seed), "trajectories": r_traj, "runs_used": int(keep.sum()), "confidence_level": confidence,
        "resamples": resamples})


def _result(out, outputs, names, times, attrs) -> xr.Dataset:
    coords = {"output": list(outputs), "parameter": list(names)}
    if times is None:
        data = {k: (("output", "parameter"), v[..., 0]) for k, v in out.items()}
    else:
        data = {k: (("output", "parameter", "time"), v) for k, v in out.items()}
        coords["time"] = times
    return xr.Dataset(data, coords=coords, attrs=attrs)


GIVEN_DATA_METHODS = ("delta", "pawn", "rbd_fast")
METHODS = ("sobol", "morris") + GIVEN_DATA_METHODS
METHOD_NAMES = {"sobol": "Sobol first-order and total indices (Saltelli design)",
                "morris": "Morris elementary effects (mu*, sigma)",
                "delta": "Borgonovo delta moment-independent indices (given data)",
                "pawn": "PAWN moment-independent indices (median KS distance, given data)",
                "rbd_fast": "RBD-FAST first-order indices (given data)"}
PAWN_SLICES = 10


def method_for_design(design: str | None) -> str:
    """The default sensitivity method for an ensemble's design.method."""
    return {"sobol": "sobol", "morris": "morris"}.get(str(design), "delta")


def check_method(method: str, design: str | None) -> None:
    """ValueError (one line) unless ``method`` can be computed from an ensemble with ``design``."""
    if method not in METHODS:
        raise ValueError(f"unknown sensitivity method {method!r}; expected one of {', '.join(METHODS)}")
    if method in ("sobol", "morris") and design != method:
        raise ValueError(f"{method} indices need an ensemble with design.method {method}; this one uses "
                         f"'{design}' (use --method {' or '.join(GIVEN_DATA_METHODS)}, or run sweeps/{method}.yaml)")
    if method in GIVEN_DATA_METHODS and design == "morris":
        raise ValueError(f"{method} needs a sample that spreads over each factor's range; a morris design has only "
                         "a few levels per factor (use --method morris)")


def given_data_indices(ds: xr.Dataset, outputs, years=None, over_time: bool = False, method: str = "delta",
                       resamples: int = 100, confidence: float = 0.95, seed: int = 0) -> xr.Dataset:
    """δ, PAWN or RBD-FAST indices with bootstrap confidence intervals from any sample of the factors
    (LHS, random, grid, …): the factor values are the coordinates named in ``ds.factor``."""
    from SALib.analyze import delta as delta_analyze
    from SALib.analyze import pawn as pawn_analyze
    from SALib.analyze import rbd_fast as rbd_analyze
    from threadpoolctl import threadpool_limits
    check_method(method, ds.attrs.get("design_method"))
    if method not in GIVEN_DATA_METHODS:
        raise ValueError(f"{method} is not a given-data method")
    names = [str(f) for f in ds.factor.values]
    ok = _ok(ds)
    X = np.column_stack([np.asarray(ds[f].values, dtype=float) for f in names])[ok]
    lo, hi = X.min(axis=0), X.max(axis=0)
    problem = {"num_vars": len(names), "names": names,
               "bounds": [[float(a), float(b) if b > a else float(a) + 1.0] for a, b in zip(lo, hi)]}
    n = int(ok.sum())
    if n < 100:
        warnings.warn(f"{n} runs is small for {method} indices (< 100); intervals will be wide",
                      SensitivityWarning, stacklevel=2)
    if (~ok).any():
        warnings.warn(f"{int((~ok).sum())} failed members are left out", SensitivityWarning, stacklevel=2)
    keys = {"delta": ("delta", "delta_conf"), "pawn": ("PAWN", "PAWN_conf"), "rbd_fast": ("S1", "S1_conf")}[method]
    times = _times(ds, years, over_time)
    d = len(names)
    out = {k: np.full((len(outputs), d, len(times) if times else 1), np.nan) for k in keys}
    z = _z(confidence)
    for i, o in enumerate(outputs):
        da = output_series(ds, o)
        for k, t in enumerate(times or [None]):
            y = (da.sel(time=t) if t is not None else da).values[ok].astype(float)
            if not np.isfinite(y).all() or np.nanstd(y) == 0:
                continue
            # one BLAS thread: the estimators work on one-dimensional slices, and on a busy machine
            # several BLAS threads per process made delta many times slower (threadpoolctl is a dependency)
            with warnings.catch_warnings(), np.errstate(all="ignore"), threadpool_limits(1):
                warnings.simplefilter("ignore")
                if method == "delta":
                    state = np.random.get_state()       # SALib's delta draws from the global generator
                    try:
                        np.random.seed(seed)
                        r = delta_analyze.analyze(problem, X, y, num_resamples=resamples, conf_level=confidence,
                                                  method="delta")
                    finally:
                        np.random.set_state(state)
                    val, conf = r["delta_raw"], r["delta_raw_conf"]
                elif method == "rbd_fast":
                    r = rbd_analyze.analyze(problem, X, y, num_resamples=resamples, conf_level=confidence,
                                            seed=np.random.default_rng(seed))
                    val, conf = r["S1"], r["S1_conf"]
                else:
                    val = np.asarray(pawn_analyze.analyze(problem, X, y, S=PAWN_SLICES)["median"], dtype=float)
                    rng = np.random.default_rng(seed)
                    boot = np.empty((resamples, d))
                    for b in range(resamples):
                        idx = rng.integers(0, n, n)
                        boot[b] = pawn_analyze.analyze(problem, X[idx], y[idx], S=PAWN_SLICES)["median"]
                    conf = z * boot.std(axis=0, ddof=1)
            out[keys[0]][i, :, k] = np.asarray(val, dtype=float)
            out[keys[1]][i, :, k] = np.asarray(conf, dtype=float)
    return _result(out, outputs, names, times, {
        "method": method, "method_description": METHOD_NAMES[method], "seed": int(seed), "runs_used": n,
        "design_method": str(ds.attrs.get("design_method")), "confidence_level": confidence,
        "resamples": resamples})


def _z(confidence: float) -> float:
    from scipy.stats import norm
    return float(norm.ppf(0.5 + confidence / 2))


def sensitivity(ds: xr.Dataset, outputs, years=None, over_time: bool = False, method: str | None = None,
                **kw) -> xr.Dataset:
    """Indices by ``method`` (default: ``method_for_design`` of the ensemble's design)."""
    design = ds.attrs.get("design_method")
    method = method or method_for_design(design)
    check_method(method, design)
    if method == "sobol":
        res = sobol_indices(ds, outputs, years, over_time, **kw)
    elif method == "morris":
        res = morris_indices(ds, outputs, years, over_time, **kw)
    else:
        return given_data_indices(ds, outputs, years, over_time, method=method, **kw)
    res.attrs["method_description"] = METHOD_NAMES[method]
    return res


def ranked_table(result: xr.Dataset, output: str, year: int | None = None):
    """One output (and year) as a pandas DataFrame sorted by ST (Sobol) or mu* (Morris), largest first."""
    import pandas as pd
    sel = result.sel(output=output)
    if "time" in sel.dims:
        sel = sel.sel(time=year if year is not None else int(sel.time.values[-1]))
    key = next(k for k in ("ST", "mu_star", "delta", "PAWN", "S1") if k in sel)
    df = pd.DataFrame({k: sel[k].values for k in sel.data_vars}, index=pd.Index(sel.parameter.values, name="parameter"))
    df = df.sort_values(key, ascending=False, na_position="last")
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    return df


PLAIN_NAMES = {
    "metro_population": "population of the metro area (plan-area parts)",
    "metro_gdp_nominal": "nominal GDP of the metro area (plan-area parts)",
    "metro_gdp_real": "real GDP of the metro area (plan-area parts)",
    "population": "population", "gdp_nominal": "nominal GDP", "gdp_real": "real GDP",
    "urbanization_rate": "urbanization rate", "net_migration": "net migration",
}


def plain_name(output: str) -> str:
    """An output as a reader says it: metro_gdp_nominal → 'nominal GDP of the metro area (plan-area
    parts)'; population[CC_P] → 'population of CC_P'."""
    if "[" in output and output.endswith("]"):
        var, node = output[:-1].split("[", 1)
        return f"{PLAIN_NAMES.get(var, var)} of {node}"
    return PLAIN_NAMES.get(output, output)


def format_table(result: xr.Dataset, output: str, year: int | None = None) -> str:
    df = ranked_table(result, output, year)
    cols = [c for c in ("S1", "S1_conf", "ST", "ST_conf", "mu_star", "mu_star_conf", "sigma", "delta", "delta_conf",
                        "PAWN", "PAWN_conf") if c in df]
    head = f"{'rank':>4}  {'parameter':34}" + "".join(f"{c:>14}" for c in cols)
    lines = [head]
    for name, row in df.iterrows():
        lines.append(f"{int(row['rank']):>4}  {name:34}" + "".join(f"{row[c]:14.4g}" for c in cols))
    return "\n".join(lines)


def one_at_a_time(sweep, variable: str = "metro_population", year: int | None = None):
    """Tornado data: ``variable`` (a metro_* output) in ``year`` (default the target year) with each factor of
    ``sweep`` at the 5 % and the 95 % quantile of its distribution, every other factor at the base
    scenario's value. One vectorized solve of 1 + 2·d
    members. Returns a DataFrame: parameter, low, high, base, low_value, high_value, units."""
    import pandas as pd

    from simulator.analysis.targets import _baseline_value
    from simulator.ensemble.runner import ChunkContext, solve_rows
    from simulator.ensemble.sweep import template_dataset
    sc = sweep.scenario
    year = int(sc.targets.year) if year is None else int(year)
    template = template_dataset(sc, [variable])
    if "region" in template[variable].dims:
        raise ValueError(f"tornado needs a metro-wide output (e.g. metro_population), not {variable!r}")
    base_x = np.array([_baseline_value(sc, f) for f in sweep.factors], dtype=float)
    rows = [base_x]
    ends = []
    for j, f in enumerate(sweep.factors):
        lo, hi = (float(v) for v in f.ppf(np.array([0.05, 0.95])))
        ends.append((lo, hi))
        for v in (lo, hi):
            x = base_x.copy()
            x[j] = v
            rows.append(x)
    X = np.array(rows)
    ctx = ChunkContext(sc, sweep.factors, [variable], sweep.max_rhs_evaluations)
    data, failed, reasons, _, _ = solve_rows(ctx, X, {variable: template[variable].shape[1:]})
    if failed.any():
        raise ValueError(f"{int(failed.sum())} one-at-a-time runs failed: {[r for r in reasons if r][:2]}")
    k = list(np.asarray(sc.output_times).astype(int)).index(year)
    y = data[variable][:, k]
    out = pd.DataFrame({"parameter": [f.id for f in sweep.factors], "low": y[1::2], "high": y[2::2],
                        "base": y[0], "low_value": [e[0] for e in ends], "high_value": [e[1] for e in ends]})
    out["units"] = str(template[variable].attrs.get("units", ""))
    out.attrs.update(variable=variable, year=year)
    return out
