"""``sim sweep``, ``sim sensitivity`` and ``sim targets`` (click commands; registered in ``cli.py``).

Exit codes as for ``sim run``: 0 success; 2 bad input (sweep or scenario file, options, a destination
holding a different analysis); 1 failure (including an unreachable dask scheduler); 130 interrupted
(finished chunks are kept; rerun the same command to resume).
"""
from __future__ import annotations

import json
import logging
import os
import sys
import warnings
from pathlib import Path

import click

from .cli_common import (analysis_key, fail, guard_destination, overwrite_option, quiet, resolve_input,
                         verbosity_options)

log = logging.getLogger(__name__)
_fail = fail


_common = [
    click.option("-n", "--samples", type=click.IntRange(min=1, max=10_000_000), default=None,
                 help="Sample size (overrides design.samples; base size N for sobol, trajectories for morris)."),
    click.option("--seed", type=click.IntRange(min=0), default=None, help="Random seed (overrides design.seed)."),
    click.option("-j", "--jobs", type=click.IntRange(min=1, max=256), default=1, show_default=True,
                 help="Local worker processes, at most 256 (results are identical for any -j)."),
    click.option("--scheduler", default=None, metavar="ADDRESS",
                 help="Run the chunks on a dask.distributed scheduler, e.g. tcp://scheduler-host:8786."),
    click.option("--chunk-size", type=click.IntRange(min=1), default=None,
                 help="Members integrated together per chunk (default: the sweep file's, else 500, capped by "
                      "memory; never depends on -j). Members of a chunk share solver steps, so a different "
                      "chunk size changes results in the last digits."),
    click.option("--no-progress", is_flag=True, help="Do not show the progress bar."),
    click.option("--yes", "assume_yes", is_flag=True,
                 help="Start a sweep estimated to take over an hour without asking."),
]


def common_options(fn):
    for opt in reversed(_common):
        fn = opt(fn)
    return verbosity_options(overwrite_option(fn))


def _load(path: Path, samples, seed):
    from .ensemble import load_sweep
    from .scenario import ScenarioError
    try:
        return load_sweep(path).with_overrides(samples=samples, seed=seed)
    except ScenarioError as exc:
        _fail(str(exc))


def _confirm_size(sweep, output, jobs, scheduler, assume_yes: bool) -> None:
    """Refuse what cannot fit; ask (or require --yes) before a sweep estimated over an hour."""
    from .ensemble.sweep import CONFIRM_SECONDS, SweepTooLarge, check_fits, estimate
    from .safeio import DestinationError, check_output_dir
    out = Path(output) if output is not None else Path("outputs") / sweep.name
    try:
        check_output_dir(out)
        if (out / "ensemble.nc").exists() or os.path.lexists(out / "ensemble.nc"):
            from .safeio import check_output_file
            check_output_file(out / "ensemble.nc")
    except DestinationError as exc:
        _fail(f"cannot write the ensemble: {exc}")
    est = estimate(sweep, max(jobs, 2) if scheduler else jobs)
    try:
        check_fits(sweep, est, None)
    except SweepTooLarge as exc:
        _fail(f"{sweep.path}: {exc}")
    if est.seconds > CONFIRM_SECONDS and not assume_yes:
        question = f"sweep '{sweep.name}': {est.describe()} with {jobs} worker(s). Start it?"
        if not sys.stdin.isatty():
            _fail(f"{question.removesuffix(' Start it?')}; give --yes to start it (or reduce -n)")
        if not click.confirm(question, default=False, err=True):
            _fail("not started", code=130)


def _plan(sweep, output, chunk_size, overwrite: bool):
    """What the sweep will run; refuses (exit 2) to replace a different ensemble.nc without --overwrite."""
    from .ensemble.sweep import plan
    p = plan(sweep, output, chunk_size)
    if p.existing_key is not None and p.existing_key != p.key and not overwrite:
        _fail(f"{p.directory / 'ensemble.nc'} already holds a different ensemble (other design, seed, sample "
              f"size or scenario); choose another destination with -o DIR, or add --overwrite to replace it")
    return p


def _run(sweep, output, jobs, scheduler, chunk_size, progress, overwrite=False, assume_yes=False):
    from .ensemble import SweepInterrupted, run_sweep
    from .ensemble.runner import SchedulerUnavailable
    from .ensemble.designs import DesignWarning
    from .ensemble.runner import SchedulerUnreachable
    from .model.initial import CalibrationError
    from .safeio import DestinationError
    _confirm_size(sweep, output, jobs, scheduler, assume_yes)
    p = _plan(sweep, output, chunk_size, overwrite)
    log.info(p.describe(sweep.name) + ("" if p.reuse else f" on {_where(jobs, scheduler)}"))
    replacing = p.existing_key is not None and p.existing_key != p.key
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DesignWarning)
        try:
            res = run_sweep(sweep, output, jobs=jobs, scheduler=scheduler, chunk_size=chunk_size,
                            progress=progress and not quiet())
        except SweepInterrupted as exc:
            _fail(str(exc), code=130)
        except SchedulerUnreachable as exc:
            _fail(str(exc), code=1)
        except CalibrationError as exc:  # the base scenario itself
            _fail(f"{sweep.path}: the base scenario cannot be closed: {exc}")
        except ValueError as exc:
            _fail(f"{sweep.path}: {exc}")
        except OSError as exc:
            _fail(f"cannot write outputs: {exc.strerror or exc}" if not isinstance(exc, DestinationError)
                  else f"cannot write outputs: {exc}", code=2 if isinstance(exc, DestinationError) else 1)
        except KeyboardInterrupt:
            _fail("interrupted; finished chunks are kept (rerun the same command to resume)", code=130)
    for w in caught:
        if issubclass(w.category, DesignWarning):
            log.warning(str(w.message))
    if replacing:
        log.warning(f"replaced the earlier, different ensemble in {res.path} (--overwrite)")
    if not quiet():
        click.echo(res.summary())
    return res


def _where(jobs, scheduler) -> str:
    if scheduler is not None:
        return f"the dask scheduler {scheduler}"
    return f"{jobs} local process{'es' if jobs > 1 else ''}"


def _ensemble(path: Path, samples, seed, jobs, scheduler, chunk_size, no_progress, output=None, overwrite=False,
              assume_yes=False):
    """(dataset, sweep or None) for a sweep file (run or resumed as needed), an ensemble.nc, or a directory
    holding one."""
    import xarray as xr
    path = resolve_input(path, "ensemble.nc")
    if path.suffix == ".nc":
        if not path.is_file():
            _fail(f"{path}: file not found")
        try:
            ds = _read_ensemble(path)
        except (OSError, ValueError, RuntimeError) as exc:
            _fail(f"{path}: cannot read the ensemble ({exc})")
        return ds, None
    sweep = _load(path, samples, seed)
    res = _run(sweep, output, jobs, scheduler, chunk_size, not no_progress, overwrite, assume_yes=assume_yes)
    return res.dataset, sweep


def _read_ensemble(path: Path):
    """An ensemble.nc written by ``sim sweep`` (not a results.nc or a calibration fit.nc)."""
    import xarray as xr
    if not path.exists():
        raise ValueError("no such file")
    if not path.is_file():
        raise ValueError("not a regular file")      # a FIFO would block, a device never ends
    ds = xr.load_dataset(path)
    if "run" not in ds.dims or "factor" not in ds.dims or "failed" not in ds:
        raise ValueError("not an ensemble written by `sim sweep` (no run/factor dimensions); give a sweep file "
                         "or its outputs/<sweep name>/ensemble.nc")
    return ds


def _peek(path: Path, samples, seed, chunk_size) -> dict:
    """What an ensemble input will be, without running anything: design key, sweep name, design method and
    seed, target year, and the sweep (None for an ensemble.nc)."""
    import xarray as xr
    path = resolve_input(Path(path), "ensemble.nc")
    if path.suffix == ".nc":
        if not path.is_file():
            _fail(f"{path}: file not found")
        try:
            with xr.open_dataset(path) as ds:
                a = dict(ds.attrs)
                is_ensemble = "run" in ds.dims and "factor" in ds.dims and "failed" in ds
        except (OSError, ValueError) as exc:
            _fail(f"{path}: cannot read the ensemble ({exc})")
        if not is_ensemble:
            _fail(f"{path}: not an ensemble written by `sim sweep` (no run/factor dimensions); give a sweep file "
                  "or its outputs/<sweep name>/ensemble.nc")
        return {"design_key": a.get("design_key"), "sweep_name": a.get("sweep_name"), "sweep": None,
                "design_method": a.get("design_method"), "design_seed": int(a.get("design_seed", 0)),
                "target_year": int(a.get("target_year", 2030)),
                "target_population": float(a.get("target_population", 1.3e7)),
                "target_gdp_nominal": float(a.get("target_gdp_nominal", 1.35e12))}
    from .ensemble.sweep import plan
    sweep = _load(path, samples, seed)
    return {"design_key": plan(sweep, None, chunk_size).key, "sweep_name": sweep.name, "sweep": sweep,
            "design_method": sweep.method, "design_seed": int(sweep.seed),
            "target_year": int(sweep.scenario.targets.year),
            "target_population": float(sweep.scenario.targets.population),
            "target_gdp_nominal": float(sweep.scenario.targets.gdp_nominal)}


def _sensitivity_key(design_key, outputs, years, over_time, resamples, confidence, seed, method=None) -> str:
    extra = {} if method in (None, "sobol", "morris") else {"method": method}   # earlier keys unchanged
    return analysis_key(ensemble=design_key, outputs=list(outputs), years=list(years), over_time=bool(over_time),
                        resamples=resamples, confidence=confidence, seed=seed, **extra)


SWEEP_HELP = """Run every variant of a scenario described by a sweep file, in vectorized chunks, and write
outputs/<sweep name>/ensemble.nc (or -o DIR; dims run × time × …, sampled values as coordinates on run,
provenance in the attributes). Finished chunks are saved as they complete: after Ctrl-C or a lost worker,
rerun the same command to resume; the result is identical to an uninterrupted run, and identical for any
-j or scheduler. A destination that holds a different ensemble is not replaced without --overwrite. If
the sweep file has an `analysis: sensitivity:` block, sensitivity indices are computed too, by the method
`sim sensitivity` chooses for the design (Sobol, Morris, or delta for LHS/random designs; sensitivity.nc
in outputs/sensitivity/<sweep name>/, as `sim sensitivity` writes it, or in -o DIR).
Measured speed on a 2-core machine: see README, Timings.

\b
Examples:
  sim sweep sweeps/uncertainty.yaml                    # the file's design, sample size and seed
  sim sweep sweeps/uncertainty.yaml -n 10000 -j 2      # 10,000 runs on two cores
  sim sweep sweeps/levers.yaml --seed 7 -o outputs/levers_seed7
  sim sweep sweeps/uncertainty.yaml --scheduler tcp://scheduler-host:8786
"""


@click.command("sweep", help=SWEEP_HELP)
@click.argument("sweep_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Destination directory (default: outputs/<sweep name>).")
@common_options
def sweep_cmd(sweep_file, output, samples, seed, jobs, scheduler, chunk_size, no_progress, overwrite, assume_yes):
    sweep = _load(sweep_file, samples, seed)
    if sweep.sensitivity is not None:
        from .safeio import DestinationError, check_output_file
        try:
            check_output_file((Path(output) if output else Path("outputs") / sweep.name) / "sensitivity.nc")
        except DestinationError as exc:
            _fail(f"cannot write the sensitivity indices: {exc}")
    res = _run(sweep, output, jobs, scheduler, chunk_size, not no_progress, overwrite, assume_yes=assume_yes)
    if sweep.sensitivity is not None:
        # with -o everything goes into that directory; otherwise the analysis goes where `sim sensitivity`
        # puts it, outputs/sensitivity/<sweep name>/
        directory = res.path.parent if output is not None else Path("outputs") / "sensitivity" / sweep.name
        _sensitivity(res.dataset, sweep.sensitivity.outputs, sweep.sensitivity.years, sweep.sensitivity.over_time,
                     directory, sweep.sensitivity.resamples, sweep.sensitivity.confidence, overwrite)


def _sensitivity(ds, outputs, years, over_time, directory: Path, resamples=100, confidence=0.95,
                 overwrite=False, method=None, seed=None):
    from .analysis.sensitivity import METHOD_NAMES, SensitivityWarning, format_table, method_for_design, sensitivity
    from .ensemble.store import write_netcdf_atomic
    seed = int(ds.attrs.get("design_seed", 0)) if seed is None else int(seed)
    method = method or method_for_design(ds.attrs.get("design_method"))
    key = _sensitivity_key(ds.attrs.get("design_key"), outputs, years, over_time, resamples, confidence, seed, method)
    path = Path(directory) / "sensitivity.nc"
    replacing = guard_destination(path, key, overwrite, "sensitivity analysis (other outputs, years, method or ensemble)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SensitivityWarning)
        try:
            result = sensitivity(ds, list(outputs), list(years), over_time, method=method, resamples=resamples,
                                 confidence=confidence, seed=seed)
        except (KeyError, ValueError) as exc:
            _fail(str(exc).strip("'\""))
    if not quiet():
        click.echo(f"method: {METHOD_NAMES[method]} — {'chosen for' if method == method_for_design(ds.attrs.get('design_method')) else 'requested (--method) on'} "
                   f"the ensemble's '{ds.attrs.get('design_method')}' design; {resamples} bootstrap resamples, seed "
                   f"{seed}, {int(confidence * 100)} % intervals")
    for w in caught:
        if issubclass(w.category, SensitivityWarning):
            log.warning(str(w.message))
    if not quiet():
        for o in outputs:
            for y in years:
                label = {"rbd_fast": "RBD-FAST", "pawn": "PAWN", "delta": "Delta"}.get(result.attrs["method"],
                                                                                    result.attrs["method"].capitalize())
                click.echo(f"\n{label} indices of {_plain(o)} ({o}) in {y}:")
                click.echo(format_table(result, o, y))
    from .cf import cf_dataset
    for v in result.data_vars:
        if v.startswith(("S1", "ST", "delta", "PAWN")):    # Morris effects are in each output's own units
            result[v].attrs.setdefault("units", "1")
        long_name = _INDEX_NAMES.get(v, v)
        if result.attrs.get("method") == "rbd_fast" and v.startswith("S1"):
            long_name = long_name.replace("Sobol index", "index (RBD-FAST)")
        result[v].attrs.setdefault("long_name", long_name)
    result = cf_dataset(result)
    result.attrs["target_year"] = int(ds.attrs.get("target_year", 2030))
    result = result.assign_coords(output_units=("output", [
        str(ds[o.split("[")[0]].attrs.get("units", "")) if o.split("[")[0] in ds else "" for o in outputs],
        {"long_name": "units of each output (Morris effects are in these units)"}))
    result.attrs["analysis_key"] = key
    result.attrs["ensemble_design_key"] = str(ds.attrs.get("design_key", ""))
    result.attrs["sweep_name"] = str(ds.attrs.get("sweep_name", ""))
    from .safeio import DestinationError
    try:
        path = write_netcdf_atomic(result, path)
    except DestinationError as exc:
        _fail(f"cannot write the sensitivity indices: {exc}")
    except OSError as exc:
        _fail(f"cannot write {path}: {exc.strerror or exc}", code=1)
    click.echo(f"\nwrote {path}" + (" (replaced the earlier, different analysis)" if replacing else ""))
    return result


_INDEX_NAMES = {"delta": "Borgonovo delta moment-independent index (0: no influence, 1: output determined)",
                "delta_conf": "half-width of the confidence interval of delta",
                "PAWN": "PAWN index: median Kolmogorov-Smirnov distance between unconditional and conditional "
                        "output distributions", "PAWN_conf": "half-width of the bootstrap confidence interval of PAWN",
                "S1": "first-order Sobol index", "S1_conf": "half-width of the confidence interval of S1",
                "ST": "total-order Sobol index", "ST_conf": "half-width of the confidence interval of ST",
                "mu_star": "Morris mu* (mean absolute elementary effect per unit quantile range, in the output's units)",
                "mu_star_conf": "half-width of the confidence interval of mu*",
                "sigma": "Morris sigma (standard deviation of the elementary effects)",
                "mu": "Morris mu (mean elementary effect)"}


def _plain(name: str) -> str:
    """metro_gdp_nominal → 'nominal GDP of the metro area'; population[CC_P] → 'population of CC_P'."""
    from .analysis.sensitivity import plain_name
    return plain_name(name)


SENS_HELP = """Global sensitivity of chosen outputs, computed with SALib, with confidence intervals, at
single years (default: the target year 2030) and (with --over-time) at every output year. The method
follows the ensemble's design and is stated in the output; --method overrides it:

\b
  sobol design      sobol: first-order and total Sobol indices S1, ST
  morris design     morris: mu*, sigma (elementary effects)
  lhs, random, …    delta: Borgonovo's moment-independent delta (default); or
                    pawn: PAWN (median Kolmogorov-Smirnov distance), or rbd_fast: RBD-FAST S1

Takes a sweep file (its ensemble is run or resumed if needed), an ensemble.nc, or the directory holding
it; prints a ranked table per output and year and writes sensitivity.nc to
outputs/sensitivity/<sweep name>/ (or -o DIR). A destination holding a different analysis (other
outputs, years, method or ensemble) is not replaced without --overwrite. The confidence intervals come
from bootstrap resamples seeded by --seed (default: the ensemble's design seed; for a sweep file
--seed also sets the design seed): same ensemble and seed → identical file. Warns when the sample is
small or (Sobol) not a power of two. See docs/discovery.md.

\b
Examples:
  sim sensitivity sweeps/sobol.yaml
  sim sensitivity sweeps/morris.yaml -y 2035 -o outputs/sensitivity/morris_2035
  sim sensitivity outputs/sobol/ensemble.nc --variable metro_population --variable metro_gdp_real \\
      --year 2030 --over-time -o outputs/sensitivity/sobol_real
  sim sensitivity sweeps/levers.yaml -n 300 -o outputs/sensitivity/levers_delta
  sim sensitivity sweeps/levers.yaml -n 300 --method pawn -o outputs/sensitivity/levers_pawn
"""


@click.command("sensitivity", help=SENS_HELP)
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--variable", "variables", multiple=True,
              help="Output variable, e.g. metro_population or population[CC_P] (repeatable; default: the sweep "
                   "file's analysis block, else metro population and metro nominal GDP).")
@click.option("-y", "--year", "years", multiple=True, type=int,
              help="Year for the tables (repeatable; default: the sweep file's, else the target year 2030).")
@click.option("--over-time/--no-over-time", default=None, help="Also compute the indices at every output year.")
@click.option("--method", default=None, metavar="METHOD",
              help="sobol, morris, delta, pawn or rbd_fast (default: from the ensemble's design: sobol → sobol, "
                   "morris → morris, anything else → delta).")
@click.option("--resamples", type=click.IntRange(10, 10000), default=None,
              help="Bootstrap resamples for the confidence intervals (default: the sweep file's, else 100).")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Destination directory (default: outputs/sensitivity/<sweep name>).")
@common_options
def sensitivity_cmd(source, variables, years, over_time, method, resamples, output, samples, seed, jobs, scheduler,
                    chunk_size, no_progress, overwrite, assume_yes):
    from .analysis.sensitivity import check_method, method_for_design
    info = _peek(source, samples, seed, chunk_size)        # checks before anything runs
    method = method or method_for_design(info["design_method"])
    try:
        check_method(method, info["design_method"])
    except ValueError as exc:
        _fail(f"{source}: --method {method}: {exc}")
    cfg = info["sweep"].sensitivity if info["sweep"] is not None else None
    variables = list(variables) or (cfg.outputs if cfg else ["metro_population", "metro_gdp_nominal"])
    years = list(years) or (cfg.years if cfg else [info["target_year"]])
    over = over_time if over_time is not None else (cfg.over_time if cfg else False)
    cfg_resamples, confidence = (cfg.resamples, cfg.confidence) if cfg else (100, 0.95)
    resamples = resamples or cfg_resamples
    ci_seed = int(seed) if seed is not None else int(info["design_seed"])
    directory = output or Path("outputs") / "sensitivity" / str(info["sweep_name"] or "ensemble")
    guard_destination(Path(directory) / "sensitivity.nc",
                      _sensitivity_key(info["design_key"], variables, years, over, resamples, confidence,
                                       ci_seed, method),
                      overwrite, "sensitivity analysis (other outputs, years, method or ensemble)")
    ds, sweep = _ensemble(source, samples, seed, jobs, scheduler, chunk_size, no_progress, assume_yes=assume_yes)
    _sensitivity(ds, variables, years, over, directory, resamples, confidence, overwrite, method=method, seed=ci_seed)


TARGETS_HELP = """How likely are the 2030 targets (13.0 million residents and 1.35 trillion yuan nominal GDP in
the plan area)? Says first which sweeps it will run (and how many runs), then prints and writes
targets.json to outputs/targets/<sweep name>/ (with --levers: <sweep name>_<levers sweep name>/; or
-o DIR; a different earlier analysis there is not replaced without --overwrite):

\b
  * the probability of meeting each target and both, with a Wilson interval, over the ensemble;
  * for each lever of --levers (default: the levers of UNCERTAINTY), the value needed to meet
    each target with everything else at the base scenario (brentq), or "not reachable within the
    lever's range";
  * PRIM boxes (peeling, then pasting) of lever values in the --levers ensemble where both targets
    are met, with coverage, density, mass and their bootstrap stability (--resamples, --seed).

\b
When fewer than --min-cases runs meet both targets, PRIM looks for the first relaxed target that
enough runs meet, and says which: population at least 1250万 and GDP met, then 1200万 and GDP met
(change the rungs with --population-at-least / --gdp-at-least), then GDP met alone, population met
alone, and finally the 10 % of runs closest to both targets. --no-relax turns this off.
--export-box N FILE writes box N as a sweep file (factors restricted to the box) for `sim sweep`.
See docs/discovery.md.

\b
UNCERTAINTY is a sweep file (run or resumed as needed), an ensemble.nc or the directory holding it.

\b
Examples:
  sim targets sweeps/uncertainty.yaml --levers sweeps/levers.yaml -j 2
  sim targets outputs/uncertainty              # an ensemble already run by sim sweep
  sim targets outputs/uncertainty/ensemble.nc --levers outputs/levers/ensemble.nc --no-goal-seek \\
      -o outputs/targets/prim_only
  sim targets sweeps/levers.yaml --no-goal-seek --population-at-least 1260e4 --population-at-least 1220e4 \\
      --export-box 1 outputs/levers_box1.yaml -o outputs/targets/levers_relaxed

The last example writes box 1 as outputs/levers_box1.yaml; explore it with `sim sweep
outputs/levers_box1.yaml -n 200`.
"""


@click.command("targets", help=TARGETS_HELP)
@click.argument("uncertainty", type=click.Path(path_type=Path))
@click.option("--levers", "levers_src", type=click.Path(path_type=Path), default=None,
              help="Lever sweep file (or its ensemble.nc, or the directory holding it) for goal seek and "
                   "scenario discovery.")
@click.option("--goal-seek/--no-goal-seek", default=True, show_default=True,
              help="Find the lever values that meet each target (needs sweep files).")
@click.option("--threshold", type=click.FloatRange(0, 1), default=0.8, show_default=True,
              help="PRIM: minimum share of runs in a box that meet the target (density).")
@click.option("--min-mass", type=click.FloatRange(0.001, 0.5), default=0.05, show_default=True,
              help="PRIM: smallest box, as a share of all runs.")
@click.option("--resamples", type=click.IntRange(0, 1000), default=50, show_default=True,
              help="PRIM stability: bootstrap resamples per box (0: none).")
@click.option("--population-at-least", "population_at_least", type=float, multiple=True, metavar="PERSONS",
              help="Relaxed-target rung: population at least PERSONS (e.g. 1250e4) with GDP met "
                   "(repeatable, tried in order; replaces the default 1250e4, 1200e4).")
@click.option("--gdp-at-least", "gdp_at_least", type=float, multiple=True, metavar="YUAN",
              help="Relaxed-target rung: nominal GDP at least YUAN (e.g. 1.3e12) with population met (repeatable).")
@click.option("--min-cases", type=click.IntRange(min=1), default=10, show_default=True,
              help="Relax the target when fewer runs than this meet it.")
@click.option("--relax/--no-relax", default=True, show_default=True,
              help="Use the relaxed-target ladder when too few runs meet both targets.")
@click.option("--export-box", nargs=2, type=(click.IntRange(min=1), click.Path(dir_okay=False, path_type=Path)),
              default=None, metavar="N FILE", help="Write PRIM box N (1 = first) as a sweep file for `sim sweep`.")
@click.option("--confidence", type=click.FloatRange(0.5, 0.999), default=0.95, show_default=True)
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Destination directory (default: outputs/targets/<sweep name>[_<levers sweep name>]).")
@common_options
def targets_cmd(uncertainty, levers_src, goal_seek, threshold, min_mass, resamples, population_at_least,
                gdp_at_least, min_cases, relax, export_box, confidence, output, samples, seed, jobs, scheduler,
                chunk_size, no_progress, overwrite, assume_yes):
    from .analysis.targets import discover, factor_info, format_answer, goal_seek as seek, target_probabilities
    from .atomic import write_bytes
    # every option and destination is checked before anything runs
    unc = _peek(uncertainty, samples, seed, chunk_size)
    lev = _peek(levers_src, samples, seed, chunk_size) if levers_src is not None else unc
    for opt, vals, target, unit in (("--population-at-least", population_at_least, lev["target_population"], "persons"),
                                    ("--gdp-at-least", gdp_at_least, lev["target_gdp_nominal"], "yuan")):
        for v in vals:
            if not (v > 0 and v < target):
                _fail(f"{opt} {v:g}: expected a number of {unit} above 0 and below the target {target:g} "
                      f"(a relaxed target)")
    name = str(unc["sweep_name"] or "ensemble")
    if levers_src is not None:
        name += "_" + str(lev["sweep_name"] or "levers")
    directory = output or Path("outputs") / "targets" / name
    path = Path(directory) / "targets.json"
    prim_seed = int(seed) if seed is not None else int(lev["design_seed"])
    key = analysis_key(uncertainty=unc["design_key"], levers=lev["design_key"],
                       goal_seek=bool(goal_seek and lev["sweep"] is not None), threshold=threshold,
                       confidence=confidence, min_mass=min_mass, resamples=resamples, prim_seed=prim_seed,
                       population_at_least=list(population_at_least), gdp_at_least=list(gdp_at_least),
                       min_cases=min_cases, relax=relax)
    replacing = guard_destination(path, key, overwrite, "targets analysis (other ensembles or settings)")
    if export_box is not None:
        from .safeio import DestinationError, check_output_file
        try:
            check_output_file(export_box[1])
        except DestinationError as exc:
            _fail(f"--export-box: cannot write the sweep file: {exc}")
        if export_box[1].suffix.lower() not in (".yaml", ".yml"):
            _fail(f"--export-box {export_box[0]} {export_box[1]}: expected a .yaml or .yml file name")
    _announce(uncertainty, levers_src, goal_seek, samples, seed, chunk_size, jobs, scheduler)
    ds, sweep = _ensemble(uncertainty, samples, seed, jobs, scheduler, chunk_size, no_progress, assume_yes=assume_yes)
    lds, lsweep = ds, sweep
    if levers_src is not None:
        lds, lsweep = _ensemble(levers_src, samples, seed, jobs, scheduler, chunk_size, no_progress,
                                assume_yes=assume_yes)
    answer = {"uncertainty_sweep": ds.attrs.get("sweep_name"), "design_key": ds.attrs.get("design_key"),
              "seed": ds.attrs.get("design_seed"), "analysis_key": key}
    try:
        answer["probabilities"] = target_probabilities(ds, confidence=confidence)
    except KeyError as exc:
        _fail(f"{uncertainty}: the ensemble lacks {exc} (store metro_population and metro_gdp_nominal)")
    answer["levers_sweep"] = lds.attrs.get("sweep_name")
    answer["factor_info"] = {**factor_info(ds), **factor_info(lds)}
    answer["goal_seek"] = {"status": "skipped", "reason": "--no-goal-seek"}
    answer["required_lever_values"] = None
    if goal_seek:
        if lsweep is None:
            log.warning("goal seek needs a sweep file (not an ensemble.nc); skipped")
            answer["goal_seek"] = {"status": "skipped", "reason": "the levers input is an ensemble.nc, not a sweep file"}
        else:
            from .ensemble.runner import _progress
            levers = [f for f in lsweep.factors if f.kind == "lever"]
            log.info(f"goal seek: {len(levers)} lever factors, about 10–20 runs each")
            bar = _progress(len(levers), 0, not no_progress and not quiet(), "goal seek", unit="lever")
            try:
                answer["required_lever_values"] = seek(lsweep.scenario, lsweep.factors, progress=bar.update)
            finally:
                bar.close()
            answer["goal_seek"] = {"status": "done", "reason": ""}
    try:
        answer["discovery"] = discover(lds, threshold=threshold, min_mass=min_mass, resamples=resamples,
                                       seed=prim_seed, population_at_least=population_at_least or None,
                                       gdp_at_least=gdp_at_least or None, min_cases=min_cases, relax=relax)
    except KeyError as exc:
        _fail(f"{levers_src or uncertainty}: the ensemble lacks {exc} (store metro_population and metro_gdp_nominal)")
    export_text = None
    if export_box is not None:
        export_text = _export_box(answer, lds, lsweep, export_box)
    if not quiet():
        click.echo(format_answer(answer))
    from .safeio import DestinationError
    try:
        if export_text is not None:
            write_bytes(export_box[1], export_text.encode("utf-8"))
        write_bytes(path, (json.dumps(answer, indent=2, ensure_ascii=False, default=float) + "\n").encode("utf-8"))
    except DestinationError as exc:
        _fail(f"cannot write the answer: {exc}")
    except OSError as exc:
        _fail(f"cannot write {path}: {exc.strerror or exc}", code=1)
    if export_text is not None:
        click.echo(f"\nwrote {export_box[1]} (box {export_box[0]} as a sweep file; run it with: sim sweep "
                   f"{export_box[1]})")
    click.echo(f"\nwrote {path}" + (" (replaced the earlier, different analysis)" if replacing else ""))


def _export_box(answer: dict, lds, lsweep, export_box) -> str:
    """The text of the sweep file for box N (validated by loading it); exits 2 with a message if impossible."""
    import yaml

    from .analysis.discovery import ExportError, box_sweep_document
    from .ensemble.spec import sweep_from_dict
    from .scenario import ScenarioError
    n, dest = export_box
    disc = answer["discovery"]
    boxes = disc["boxes"]
    if not boxes:
        _fail(f"--export-box {n}: PRIM found no box ({disc['message']}); nothing written")
    if n > len(boxes):
        _fail(f"--export-box {n}: box index out of range; PRIM found {len(boxes)} box"
              f"{'es' if len(boxes) > 1 else ''} (1–{len(boxes)}); nothing written")
    if lsweep is not None:
        document, source_dir = lsweep.document, (lsweep.path.parent if lsweep.path else Path.cwd())
    else:
        text, sweep_file = lds.attrs.get("sweep_text", ""), lds.attrs.get("sweep_file", "")
        if not text or not sweep_file:
            _fail(f"--export-box {n}: the ensemble does not record its sweep file; give the sweep file "
                  "(--levers sweeps/levers.yaml) instead of its ensemble.nc; nothing written")
        document, source_dir = yaml.safe_load(text), Path(sweep_file).parent
    box = boxes[n - 1]
    base = str(document.get("name", "sweep"))
    desc = (f"PRIM box {n} of sweep '{base}' for: {disc['target']['label']} in {disc['year']}. "
            f"Coverage {box['coverage']:.0%}, density {box['density']:.0%}, mass {box['mass']:.0%}. "
            f"Factors restricted to the box: {', '.join(box['limits']) or 'none'}.")
    try:
        doc = box_sweep_document(document, source_dir, box, dest, name=f"{base}_box{n}", description=desc,
                                 ranges=disc.get("ranges"))
    except ExportError as exc:
        _fail(f"--export-box {n}: {exc}; nothing written")
    text = (f"# Written by `sim targets --export-box {n}`: {desc}\n"
            "# Triangular factors restricted by the box are sampled uniformly over it; normal ones as\n"
            "# truncated normals. Run it with `sim sweep <this file>`.\n"
            + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    try:
        sweep_from_dict(yaml.safe_load(text), base_dir=dest.parent, source=str(dest))
    except ScenarioError as exc:
        _fail(f"--export-box {n}: the restricted sweep would not load ({str(exc).splitlines()[0]}); nothing written")
    answer["exported_box"] = {"box": n, "path": str(dest)}
    return text


def _announce(uncertainty, levers_src, goal_seek, samples, seed, chunk_size, jobs, scheduler) -> None:
    """Say which sweeps will run (and how many runs) before anything starts."""
    from .ensemble.sweep import plan
    lines, total = [], 0
    for label, src in (("uncertainty", uncertainty), ("levers", levers_src)):
        if src is None:
            continue
        p = resolve_input(Path(src), "ensemble.nc")
        if p.suffix == ".nc":
            lines.append(f"  {label}: {p} (already run)")
            continue
        sweep = _load(p, samples, seed)
        pl = plan(sweep, None, chunk_size)
        total += pl.runs_to_do
        lines.append(f"  {label}: {pl.describe(sweep.name)}")
        if label == "levers" or levers_src is None:
            if goal_seek:
                lines.append(f"  goal seek over the {len(sweep.factors)} factors of '{sweep.name}': "
                             f"about {10 * len(sweep.factors)}–{20 * len(sweep.factors)} more runs")
    log.info(f"sim targets will use ({total:,} runs to integrate on {_where(jobs, scheduler)}):\n" + "\n".join(lines))
