"""``sim calibrate``: fit the free parameters of a calibration file to the observed history."""
from __future__ import annotations

import sys
from pathlib import Path

import click


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@click.command("calibrate", help="""Fit the free parameters of a calibration file to historical statistics.

\b
Runs partial-model stages (demography, migration, economy, housing), then a bounded robust joint
least-squares fit from several scrambled-Sobol starts, and prints the parameter table (estimates,
95 % intervals, identified or not) and fit statistics per series (MAPE, RMSE, Theil U^M/U^S/U^C).
Writes calibration/fitted/<name>.yaml (a scenario fragment to `extends:`) and a report under
outputs/calibration/<name>/. With --until YEAR only observations up to YEAR are fitted and the rest
are reported as out-of-sample errors (a backtest, reported in outputs/calibration/<name>_until<YEAR>;
the fitted set is then not written unless -f). calibration/baseline.yaml fits 2020–2024 from the
2020 census (the set the baseline scenario uses); calibration/history_2010.yaml fits 2010–2024
from the 2010 census and also compares each city's 2010→2020 census change.

\b
Examples:
  sim calibrate calibration/baseline.yaml
  sim calibrate calibration/baseline.yaml --until 2022 --starts 0
  sim calibrate calibration/history_2010.yaml --until 2015
""")
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--until", type=int, default=None, help="Fit only observations up to this year (backtest).")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Seed of the multi-start design (default: the file's).")
@click.option("--starts", type=click.IntRange(min=0, max=1000), default=None,
              help="Extra multi-start points (default: the file's).")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Report directory (default: outputs/calibration/<name>).")
@click.option("-f", "--fitted", "fitted", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the fitted set (default: calibration/fitted/<name>.yaml; "
                   "not written for backtests unless given).")
def calibrate_cmd(config: Path, until, seed, starts, output, fitted) -> None:
    from .fitting import FitError, fit, load_config
    from .fitting.report import format_table, write_report
    from .safeio import DestinationError, check_output_dir, check_output_file
    from .scenario import ScenarioError

    try:
        cfg, scenario = load_config(config)
    except ScenarioError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    effective_until = until if until is not None else cfg.until
    if until is not None and not scenario.start < until <= scenario.end:
        _fail(f"--until {until}: outside the calibration run; expected a year in "
              f"({scenario.start:g}, {scenario.end:g}]")
    # destinations are checked before the fit (minutes): a bad -o/-f must not cost the whole fit
    backtest = effective_until is not None and effective_until < int(scenario.end)
    if fitted is None and not backtest:
        fitted = Path("calibration") / "fitted" / f"{cfg.name}.yaml"
    out = output or Path("outputs") / "calibration" / (cfg.name + (f"_until{effective_until}" if backtest else ""))
    try:
        check_output_dir(out)
        for name in ("report.json", "parameters.csv", "fit_statistics.csv", "correlation.csv", "fit.nc"):
            if (out / name).exists():
                check_output_file(out / name)
        if fitted is not None:
            check_output_file(fitted)
    except DestinationError as exc:
        _fail(f"cannot write the calibration results: {exc}")
    try:
        result, problem = fit(cfg, scenario, until=until, seed=seed, starts=starts,
                              progress=lambda m: click.echo(m, err=True))
    except FitError as exc:
        _fail(f"{config}: {exc}", code=1)
    except KeyboardInterrupt:
        _fail("interrupted; nothing written", code=130)
    try:
        report = write_report(problem, result, out, fitted)
    except DestinationError as exc:
        _fail(f"cannot write the calibration results: {exc}")
    except OSError as exc:
        _fail(f"cannot write the calibration results to {out}: {exc.strerror or exc}", code=1)
    click.echo(format_table(report))
    click.echo(f"\n{result.n_evaluations} model runs in {result.wall_seconds:.1f} s; report in {out}"
               + (f"; fitted set {fitted}" if fitted else ""))
