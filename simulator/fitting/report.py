"""The calibration report and the fitted parameter set.

Writes, atomically (temporary file + rename):

* ``<name>.yaml`` and ``<name>_history.yaml`` in the report directory — a scenario fragment
  (parameters and lever constants of the exported free parameters) that any scenario can
  ``extends:``, and the history run with every fitted value; ``sim calibrate --install`` also
  writes them to ``calibration/fitted/`` (the set the shipped scenarios extend);
* ``outputs/calibration/<name>/``: ``report.json`` (everything below plus provenance),
  ``parameters.csv`` (estimate, sd, 95 % interval, data-only sd, identified), ``correlation.csv``,
  ``fit_statistics.csv`` (per series, in sample and out of sample: MAPE, RMSE, R², Theil U^M/U^S/U^C)
  and ``fit.nc`` (observed and simulated by series and year).
"""
from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import numpy as np
import xarray as xr
import yaml

from .. import __version__
from ..atomic import write_bytes, write_netcdf
from ..results import to_dataset
from ..solve import simulate
from .fit import FitResult, Problem
from dataclasses import replace

from .observations import simulated, simulated_all
from .statistics import fit_statistics


def census_changes(ds: xr.Dataset) -> list[dict]:
    """Each city's population change between the censuses of 2010 and 2020 (2020 boundaries), as
    observed and as simulated by a run that starts at the 2010 census (``ds`` without ``run``)."""
    from ..model.base_data import census_2010_city, obs
    rows = []
    for city in ds.whole_city.values:
        city = str(city)
        observed = obs(city, 2020, "resident_pop_census") - census_2010_city(city)
        model = float(ds.city_population.sel(whole_city=city, time=2020) - ds.city_population.sel(whole_city=city, time=2010))
        rows.append({"city": city, "observed": observed, "simulated": model,
                     "same_sign": bool(np.sign(observed) == np.sign(model)),
                     "relative_error": (model - observed) / abs(observed)})
    return rows


def series_table(problem: Problem, result: FitResult) -> tuple[list[dict], xr.Dataset, np.ndarray]:
    """Fit statistics per series (in and out of sample), the observed/simulated Dataset, and the
    simulated values of every observation at the estimate."""
    obs = problem.all_observations
    ds = to_dataset(simulate([problem.scenario_for(result.estimate)]), squeeze=False)
    sim = simulated_all(ds, obs)[0]
    rows = []
    series = sorted({o.series for o in obs})
    for name in series:
        for sample in ("in", "out"):
            idx = [i for i, o in enumerate(obs) if o.series == name and
                   ((problem.until is None or o.year <= problem.until) == (sample == "in"))]
            if not idx:
                continue
            stats = fit_statistics(sim[idx], np.array([obs[i].value for i in idx]))
            rows.append({"series": name, "sample": sample, "units": obs[idx[0]].units, **stats})
    start, end = int(problem.scenario.start), int(problem.scenario.end)
    years = sorted({o.year for o in obs} | set(range(start, end + 1)))
    observed = np.full((len(series), len(years)), np.nan)
    simulated_ = np.full_like(observed, np.nan)
    for i, o in enumerate(obs):
        observed[series.index(o.series), years.index(o.year)] = o.value
    for j, name in enumerate(series):          # the model's path in every year, not only where observed
        template = next(o for o in obs if o.series == name)
        for k, year in enumerate(years):
            try:
                simulated_[j, k] = simulated(ds.isel(run=0), replace(template, year=year))
            except (KeyError, IndexError):
                pass                           # e.g. growth in the first year of the run
    units = [next(o.units for o in obs if o.series == s) for s in series]
    fit_ds = xr.Dataset(
        {"observed": (("series", "time"), observed, {"long_name": "observed value", "units": "see units coord"}),
         "simulated": (("series", "time"), simulated_, {"long_name": "simulated value", "units": "see units coord"})},
        coords={"series": series, "time": years, "units": ("series", units)})
    fit_ds.attrs["census_changes"] = json.dumps(census_changes(ds.isel(run=0))) if start == 2010 else "[]"
    return rows, fit_ds, sim


def write_report(problem: Problem, result: FitResult, out_dir: Path, fitted_path: Path | None) -> dict:
    cfg = problem.cfg
    rows, fit_ds, _ = series_table(problem, result)
    params = []
    for i, f in enumerate(problem.free):
        params.append({"name": f.name, "target": f.parameter or f.lever, "kind": f.kind, "node": f.node,
                       "estimate": float(result.estimate[i]), "sd": float(result.sd[i]),
                       "ci95_low": float(result.estimate[i] - 1.96 * result.sd[i]),
                       "ci95_high": float(result.estimate[i] + 1.96 * result.sd[i]),
                       "sd_data_only": float(result.sd_data[i]), "identified": bool(result.identified[i]),
                       "bounds": list(f.bounds), "prior": list(f.prior), "exported": bool(f.export)})
    report = {
        "name": cfg.name, "description": cfg.description, "package_version": __version__,
        "scenario": problem.scenario.name, "scenario_sha256": problem.scenario.sha256,
        "until": problem.until, "seed": cfg.seed, "loss": cfg.loss,
        "converged": result.converged, "message": result.message, "cost": result.cost,
        "least_squares_nfev": result.nfev, "model_evaluations": result.n_evaluations,
        "wall_seconds": result.wall_seconds, "parameters": params,
        "correlation": {"names": result.names, "matrix": np.nan_to_num(result.correlation, nan=0.0,
                                                                        posinf=0.0, neginf=0.0).tolist()},
        "fit_statistics": rows, "census_changes_2010_2020": json.loads(fit_ds.attrs["census_changes"]),
        "stages": result.stages, "starts": result.starts,
        "fitted_set": str(fitted_path) if fitted_path else None,
    }
    out_dir = Path(out_dir)
    write_bytes(out_dir / "report.json", json.dumps(report, indent=2, ensure_ascii=False, default=float).encode())
    write_bytes(out_dir / "parameters.csv", _csv(params))
    write_bytes(out_dir / "fit_statistics.csv", _csv(rows))
    corr_rows = [{"parameter": n, **{m: float(result.correlation[i, j]) for j, m in enumerate(result.names)}}
                 for i, n in enumerate(result.names)]
    write_bytes(out_dir / "correlation.csv", _csv(corr_rows))
    write_netcdf(fit_ds, out_dir / "fit.nc")
    if fitted_path is not None:
        report["fitted_files"] = [str(p) for p in write_fitted_set(problem, result, Path(fitted_path))]
    return report


def write_fitted_set(problem: Problem, result: FitResult, fitted_path: Path) -> list[Path]:
    """``<fitted>.yaml`` (the exported scenario fragment) and ``<fitted>_history.yaml``; returns both paths."""
    cfg = problem.cfg
    fitted_path = Path(fitted_path)
    parameters, levers = _exported(problem, result)
    doc = {"name": f"fitted_{cfg.name}",
           "description": f"Parameters fitted by sim calibrate ({cfg.name}, data up to "
                          f"{problem.until or 'the end of the history run'}); see outputs/calibration/{cfg.name}/"}
    if parameters:
        doc["parameters"] = parameters
    if levers:
        doc["levers"] = levers
    header = "# Written by `sim calibrate`; extend it from a scenario with `extends:`.\n"
    write_bytes(fitted_path, (header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)).encode())
    return [fitted_path, _write_history(problem, result, fitted_path)]


def _write_history(problem: Problem, result: FitResult, fitted_path: Path) -> None:
    """``<fitted>_history.yaml``: the calibration's historical scenario with every fitted value
    (including history-only ones such as shocks), for comparing the fitted model with the data."""
    from .config import apply
    parameters, levers = apply(problem.scenario, problem.free, result.estimate)
    base = problem.scenario.path
    doc = {"name": f"{problem.cfg.name}_history",
           "description": "Historical run with every fitted value (written by sim calibrate)."}
    if base is not None:
        doc["extends"] = os.path.relpath(Path(base).resolve(), fitted_path.parent.resolve())
    if parameters:
        doc["parameters"] = parameters
    if levers:
        doc["levers"] = levers
    path = fitted_path.with_name(fitted_path.stem + "_history.yaml")
    header = "# Written by `sim calibrate`: the history scenario with every fitted value.\n"
    write_bytes(path, (header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)).encode())
    return path


def _exported(problem: Problem, result: FitResult):
    from .config import apply
    parameters, levers = apply(problem.scenario, problem.free, result.estimate, only_exported=True)
    # schedules of a historical run (tables over 2020–2024) cannot be reused in forward runs: keep
    # scaled levers as constants at the schedule's last value
    for name, value in list(levers.items()):
        if isinstance(value, dict):
            levers[name] = {k: (v["table"][-1][1] if isinstance(v, dict) and "table" in v else v)
                            for k, v in value.items()}
    return parameters, levers


def _csv(rows: list[dict]) -> bytes:
    if not rows:
        return b""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    for r in rows:
        writer.writerow({k: (json.dumps(v) if isinstance(v, (list, dict)) else v) for k, v in r.items()})
    return buf.getvalue().encode()


def format_table(report: dict) -> str:
    """Parameter and fit tables for the terminal."""
    lines = [f"{'parameter':34}{'estimate':>12}{'95 % interval':>26}  identified"]
    for p in report["parameters"]:
        ci = f"[{p['ci95_low']:.4g}, {p['ci95_high']:.4g}]" if np.isfinite(p["sd"]) else "[not identified]"
        lines.append(f"{p['name']:34}{p['estimate']:12.4g}{ci:>26}  {'yes' if p['identified'] else 'NO'}")
    lines += ["", f"{'series':40}{'sample':>7}{'n':>4}{'MAPE %':>9}{'RMSE':>12}{'U^M':>7}{'U^S':>7}{'U^C':>7}"]
    for r in report["fit_statistics"]:
        lines.append(f"{r['series']:40}{r['sample']:>7}{r['n']:>4}{r['mape']:9.2f}{r['rmse']:12.4g}"
                     f"{r['theil_um']:7.2f}{r['theil_us']:7.2f}{r['theil_uc']:7.2f}")
    if report.get("census_changes_2010_2020"):
        lines += ["", f"{'2010→2020 census change':28}{'observed':>12}{'simulated':>12}{'error':>9}  sign"]
        for r in report["census_changes_2010_2020"]:
            lines.append(f"{r['city']:28}{r['observed']:12,.0f}{r['simulated']:12,.0f}"
                         f"{100 * r['relative_error']:8.1f}%  {'ok' if r['same_sign'] else 'WRONG'}")
    return "\n".join(lines)
