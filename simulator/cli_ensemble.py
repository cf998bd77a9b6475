"""``sim sweep``, ``sim sensitivity`` and ``sim targets`` (click commands; registered in ``cli.py``).

Exit codes as for ``sim run``: 0 success; 2 bad input (sweep or scenario file, options); 1 failure;
130 interrupted (finished chunks are kept; rerun the same command to resume).
"""
from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

import click


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


_common = [
    click.option("--samples", "-n", type=click.IntRange(min=1, max=10_000_000), default=None,
                 help="Sample size (overrides design.samples; base size N for sobol, trajectories for morris)."),
    click.option("--seed", type=click.IntRange(min=0), default=None, help="Random seed (overrides design.seed)."),
    click.option("-j", "--jobs", type=click.IntRange(min=1, max=256), default=1, show_default=True,
                 help="Local worker processes (at most 256)."),
    click.option("--scheduler", default=None, metavar="ADDRESS",
                 help="Run the chunks on a dask.distributed scheduler, e.g. tcp://scheduler-host:8786."),
    click.option("--chunk-size", type=click.IntRange(min=1), default=None,
                 help="Members integrated together per chunk (default: sweep file, else 500, capped by memory)."),
    click.option("--no-progress", is_flag=True, help="Do not show the progress bar."),
    click.option("--yes", "assume_yes", is_flag=True,
                 help="Start a sweep estimated to take over an hour without asking."),
]


def common_options(fn):
    for opt in reversed(_common):
        fn = opt(fn)
    return fn


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


def _run(sweep, output, jobs, scheduler, chunk_size, progress, quiet=False, assume_yes=False):
    from .ensemble import SweepInterrupted, run_sweep
    from .ensemble.runner import SchedulerUnavailable
    from .ensemble.designs import DesignWarning
    from .model.initial import CalibrationError
    from .safeio import DestinationError
    _confirm_size(sweep, output, jobs, scheduler, assume_yes)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DesignWarning)
        try:
            res = run_sweep(sweep, output, jobs=jobs, scheduler=scheduler, chunk_size=chunk_size, progress=progress)
        except SweepInterrupted as exc:
            _fail(str(exc), code=130)
        except SchedulerUnavailable as exc:
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
            click.echo(f"warning: {w.message}", err=True)
    if not quiet:
        click.echo(res.summary())
    return res


def _ensemble(path: Path, samples, seed, jobs, scheduler, chunk_size, no_progress, output=None,
              assume_yes=False, writes=()):
    """(dataset, sweep or None, directory) for a sweep file (run or resumed as needed) or an ensemble.nc.

    ``writes``: file names the command will write next to the ensemble; checked before any work."""
    from .safeio import DestinationError, check_output_dir, check_output_file
    if path.suffix == ".nc":
        try:
            ds = _read_ensemble(path)
        except (OSError, ValueError, RuntimeError) as exc:
            _fail(f"{path}: cannot read the ensemble ({exc})")
        directory = path.parent
    else:
        sweep = _load(path, samples, seed)
        directory = Path(output) if output is not None else Path("outputs") / sweep.name
    try:
        if writes or path.suffix != ".nc":
            check_output_dir(directory)
        for name in writes:
            check_output_file(directory / name)
    except DestinationError as exc:
        _fail(f"cannot write the results: {exc}")
    if path.suffix == ".nc":
        return ds, None, directory
    res = _run(sweep, output, jobs, scheduler, chunk_size, not no_progress, assume_yes=assume_yes)
    return res.dataset, sweep, res.path.parent if res.path else Path("outputs") / sweep.name


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


SWEEP_HELP = """Run every variant of a scenario described by a sweep file, in vectorized chunks, and write
outputs/<sweep name>/ensemble.nc (dims run × time × …, sampled values as coordinates on run, provenance
in the attributes). Finished chunks are saved as they complete: after Ctrl-C or a lost worker, rerun the
same command to resume; the result is identical to an uninterrupted run. If the sweep file has an
`analysis: sensitivity:` block, Sobol/Morris indices are computed too (sensitivity.nc).

\b
Examples:
  sim sweep sweeps/uncertainty.yaml                    # the file's design, sample size and seed
  sim sweep sweeps/uncertainty.yaml -n 10000 -j 2      # 10,000 runs on two cores
  sim sweep sweeps/levers.yaml --seed 7 -o /tmp/levers
  sim sweep sweeps/uncertainty.yaml --scheduler tcp://scheduler-host:8786
"""


@click.command("sweep", help=SWEEP_HELP)
@click.argument("sweep_file", type=click.Path(dir_okay=False, path_type=Path))
@common_options
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output directory (default: outputs/<sweep name>).")
def sweep_cmd(sweep_file, samples, seed, jobs, scheduler, chunk_size, no_progress, assume_yes, output):
    sweep = _load(sweep_file, samples, seed)
    if sweep.sensitivity is not None:
        from .safeio import DestinationError, check_output_file
        try:
            check_output_file((Path(output) if output else Path("outputs") / sweep.name) / "sensitivity.nc")
        except DestinationError as exc:
            _fail(f"cannot write the sensitivity indices: {exc}")
    res = _run(sweep, output, jobs, scheduler, chunk_size, not no_progress, assume_yes=assume_yes)
    if sweep.sensitivity is not None and sweep.method not in ("sobol", "morris"):
        click.echo(f"warning: the analysis block needs design.method sobol or morris (this sweep uses "
                   f"{sweep.method}); sensitivity skipped", err=True)
    elif sweep.sensitivity is not None:
        _sensitivity(res.dataset, sweep.sensitivity.outputs, sweep.sensitivity.years, sweep.sensitivity.over_time,
                     res.path.parent, sweep.sensitivity.resamples, sweep.sensitivity.confidence)


def _sensitivity(ds, outputs, years, over_time, directory: Path, resamples=100, confidence=0.95):
    from .analysis.sensitivity import SensitivityWarning, format_table, sensitivity
    from .ensemble.store import write_netcdf_atomic
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SensitivityWarning)
        try:
            result = sensitivity(ds, list(outputs), list(years), over_time, resamples=resamples, confidence=confidence)
        except (KeyError, ValueError) as exc:
            _fail(str(exc).strip("'\""))
    for w in caught:
        if issubclass(w.category, SensitivityWarning):
            click.echo(f"warning: {w.message}", err=True)
    for o in outputs:
        for y in years:
            click.echo(f"\n{result.attrs['method'].capitalize()} indices of {o} in {y}:")
            click.echo(format_table(result, o, y))
    from .safeio import DestinationError
    try:
        path = write_netcdf_atomic(result, Path(directory) / "sensitivity.nc")
    except DestinationError as exc:
        _fail(f"cannot write the sensitivity indices: {exc}")
    except OSError as exc:
        _fail(f"cannot write the sensitivity indices to {directory}: {exc.strerror or exc}", code=1)
    click.echo(f"\nwrote {path}")
    return result


SENS_HELP = """Global sensitivity of chosen outputs: Sobol first-order and total indices with confidence
intervals (design.method: sobol) or Morris mu*, sigma (design.method: morris), computed with SALib, at
single years and (with --over-time) at every output year. Takes a sweep file (its ensemble is run or
resumed if needed) or an ensemble.nc; prints a ranked table per output and year and writes
sensitivity.nc next to the ensemble. Warns when the sample is small or (Sobol) not a power of two.

\b
Examples:
  sim sensitivity sweeps/sobol.yaml
  sim sensitivity outputs/sobol/ensemble.nc -y metro_population -y "population[CC_P]" --year 2030 --over-time
"""


@click.command("sensitivity", help=SENS_HELP)
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-y", "--output", "outputs", multiple=True,
              help="Output variable, e.g. metro_population or population[CC_P] (repeatable; default: the sweep "
                   "file's analysis block, else metro population and metro nominal GDP).")
@click.option("--year", "years", multiple=True, type=int, help="Year for the tables (repeatable; default 2030, 2035).")
@click.option("--over-time/--no-over-time", default=None, help="Also compute the indices at every output year.")
@common_options
def sensitivity_cmd(source, outputs, years, over_time, samples, seed, jobs, scheduler, chunk_size, no_progress,
                    assume_yes):
    ds, sweep, directory = _ensemble(source, samples, seed, jobs, scheduler, chunk_size, no_progress,
                                     assume_yes=assume_yes, writes=("sensitivity.nc",))
    cfg = sweep.sensitivity if sweep is not None else None
    outputs = list(outputs) or (cfg.outputs if cfg else ["metro_population", "metro_gdp_nominal"])
    years = list(years) or (cfg.years if cfg else [2030, 2035])
    over = over_time if over_time is not None else (cfg.over_time if cfg else False)
    _sensitivity(ds, outputs, years, over, directory, cfg.resamples if cfg else 100, cfg.confidence if cfg else 0.95)


TARGETS_HELP = """How likely are the 2030 targets (13.0 million residents and 1.35 trillion yuan nominal GDP in
the plan area)? Prints and writes targets.json next to the ensemble of UNCERTAINTY_SWEEP:

\b
  * the probability of meeting each target and both, with a Wilson interval, over the ensemble;
  * for each lever of --levers (default: the levers of UNCERTAINTY_SWEEP), the value needed to meet
    each target with everything else at the base scenario (brentq), or "not reachable within the
    lever's range";
  * PRIM boxes of lever values in the --levers ensemble where both targets are met (coverage, density).

\b
Examples:
  sim targets sweeps/uncertainty.yaml --levers sweeps/levers.yaml -j 2
  sim targets outputs/uncertainty/ensemble.nc --levers outputs/levers/ensemble.nc --no-goal-seek
"""


@click.command("targets", help=TARGETS_HELP)
@click.argument("uncertainty", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--levers", "levers_src", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Lever sweep file (or its ensemble.nc) for goal seek and scenario discovery.")
@click.option("--goal-seek/--no-goal-seek", default=True, show_default=True,
              help="Find the lever values that meet each target (needs sweep files).")
@click.option("--threshold", type=click.FloatRange(0, 1), default=0.8, show_default=True,
              help="PRIM: minimum share of runs in a box that meet both targets.")
@click.option("--confidence", type=click.FloatRange(0.5, 0.999), default=0.95, show_default=True)
@common_options
def targets_cmd(uncertainty, levers_src, goal_seek, threshold, confidence, samples, seed, jobs, scheduler,
                chunk_size, no_progress, assume_yes):
    from .analysis.targets import discover, format_answer, goal_seek as seek, target_probabilities
    from .atomic import write_bytes
    ds, sweep, directory = _ensemble(uncertainty, samples, seed, jobs, scheduler, chunk_size, no_progress,
                                     assume_yes=assume_yes, writes=("targets.json",))
    answer = {"uncertainty_sweep": ds.attrs.get("sweep_name"), "ensemble": str(directory / "ensemble.nc"),
              "design_key": ds.attrs.get("design_key"), "seed": ds.attrs.get("design_seed")}
    try:
        answer["probabilities"] = target_probabilities(ds, confidence=confidence)
    except KeyError as exc:
        _fail(f"{uncertainty}: the ensemble lacks {exc} (store metro_population and metro_gdp_nominal)")
    lds, lsweep = ds, sweep
    if levers_src is not None:
        lds, lsweep, _ = _ensemble(levers_src, samples, seed, jobs, scheduler, chunk_size, no_progress,
                                   assume_yes=assume_yes)
    answer["levers_sweep"] = lds.attrs.get("sweep_name")
    if goal_seek:
        if lsweep is None:
            click.echo("warning: goal seek needs a sweep file (not an ensemble.nc); skipped", err=True)
        else:
            answer["required_lever_values"] = seek(lsweep.scenario, lsweep.factors)
    answer["discovery"] = discover(lds, threshold=threshold)
    click.echo(format_answer(answer))
    path = Path(directory) / "targets.json"
    from .safeio import DestinationError
    try:
        write_bytes(path, (json.dumps(answer, indent=2, ensure_ascii=False, default=float) + "\n").encode("utf-8"))
    except DestinationError as exc:
        _fail(f"cannot write the answer: {exc}")
    except OSError as exc:
        _fail(f"cannot write the answer to {path}: {exc.strerror or exc}", code=1)
    click.echo(f"\nwrote {path}")
