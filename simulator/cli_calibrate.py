"""``sim calibrate``: fit the free parameters of a calibration file to the observed history."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from .cli_common import analysis_key, fail, guard_destination, overwrite_option, quiet, verbosity_options

log = logging.getLogger(__name__)


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@click.command("calibrate", help="""Fit the free parameters of a calibration file to historical statistics.

\b
Runs partial-model stages (demography, migration, economy, housing), then a bounded robust joint
least-squares fit from several scrambled-Sobol starts, and prints the parameter table (estimates,
95 % intervals, identified or not) and fit statistics per series (MAPE, RMSE, Theil U^M/U^S/U^C).

\b
Writes only to outputs/calibration/<name>/ (or -o DIR): the report (report.json, parameters.csv,
fit_statistics.csv, correlation.csv, fit.nc) and the fitted set (<name>.yaml, a scenario fragment
to `extends:`, and <name>_history.yaml). The shipped fitted set in calibration/fitted/ — the one
scenarios/baseline.yaml and every scenario extending it use — changes only with --install.
With --until YEAR only observations up to YEAR are fitted and the rest are reported as out-of-sample
errors (a backtest, in outputs/calibration/<name>_until<YEAR>/; never installed).
calibration/baseline.yaml fits 2020–2024 from the 2020 census; calibration/history_2010.yaml fits
2010–2024 from the 2010 census and also compares each city's 2010→2020 census change.
On a 2-core machine baseline.yaml takes 20–33 s with a warm compile cache (measured) and
history_2010.yaml about 1.5 min (89 s measured once); see README, Timings.

\b
Examples:
  sim calibrate calibration/baseline.yaml                      # writes outputs/calibration/baseline/
  sim calibrate calibration/baseline.yaml --install --overwrite   # …and replaces calibration/fitted/baseline*.yaml
  sim calibrate calibration/baseline.yaml --until 2022                # a backtest
  sim calibrate calibration/baseline.yaml --until 2022 --starts 0 -o outputs/calibration/quick
  sim calibrate calibration/history_2010.yaml --until 2015
  sim calibrate calibration/backtest.yaml --backtest 2012,2015,2018,2020,2022   # rolling origins

\b
With --backtest Y1,Y2,… the file is fitted once per origin year Y (observations up to Y only), each
fit predicts to the end of the run, and a forecast ensemble per origin (--members draws from the
fit's posterior plus the structural alternatives) gives 90 % bands; the table shows per city the
errors of the 2024 population, the 2020–24 net migration and 2024 GDP, and the coverage of the
bands (share of cases whose observed value lies inside). Writes outputs/calibration/<name>_backtest/
(backtest.json, backtest.csv). calibration/backtest.yaml is the long run without city-specific
free terms, for exactly this.
""")
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--until", type=int, default=None, help="Fit only observations up to this year (backtest).")
@click.option("--backtest", "backtest_years", default=None, metavar="Y1,Y2,…",
              help="Rolling-origin backtest: fit up to each of these years in turn and score the forecasts "
                   "to the end of the run (e.g. 2012,2015,2018,2020,2022).")
@click.option("--members", type=click.IntRange(min=10, max=100000), default=100, show_default=True,
              help="With --backtest: members of each origin's forecast ensemble (posterior draws).")
@click.option("--discrepancy-sd", type=click.FloatRange(min=0.0, max=2.0), default=0.0, show_default=True,
              help="With --backtest: sd of the migration discrepancy (unexplained pull per node, utility units) "
                   "added to each forecast ensemble; 0 = parameter and structural uncertainty only.")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Seed of the multi-start design (default: the file's).")
@click.option("--starts", type=click.IntRange(min=0, max=1000), default=None,
              help="Extra multi-start points (default: the file's).")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Destination directory (default: outputs/calibration/<name>, or <name>_until<YEAR>).")
@click.option("--install", is_flag=True,
              help="Also write the fitted set to calibration/fitted/<name>.yaml and <name>_history.yaml next "
                   "to the calibration file (tracked files that the shipped scenarios extend).")
@click.option("-f", "--fitted", "fitted", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the fitted set to this file (and <stem>_history.yaml beside it).")
@overwrite_option
@verbosity_options
def calibrate_cmd(config: Path, until, backtest_years, members, discrepancy_sd, seed, starts, output, install, fitted,
                  overwrite) -> None:
    from .fitting import fit, load_config
    from .fitting.report import format_table, write_fitted_set, write_report
    from .safeio import DestinationError, check_output_dir, check_output_file
    from .scenario import ScenarioError

    try:
        cfg, scenario = load_config(config)
    except ScenarioError as exc:
        fail(str(exc))
    if backtest_years is not None:
        if until is not None or install or fitted is not None:
            fail("--backtest fits several origins and installs nothing; drop --until, --install and -f")
        origins = _origins(backtest_years, scenario)
        _backtest(config, cfg, scenario, origins, members, discrepancy_sd, seed, starts, output, overwrite)
        return
    fit_until = until if until is not None else cfg.until
    if until is not None and not scenario.start < until <= scenario.end:
        fail(f"--until {until}: outside the calibration run; expected a year in "
             f"({scenario.start:g}, {scenario.end:g}]")
    backtest = fit_until is not None and fit_until < int(scenario.end)
    if install and backtest:
        fail("--install: a backtest (--until) is not installed; rerun without --until, or write it with -f FILE")
    out = output or Path("outputs") / "calibration" / (cfg.name + (f"_until{fit_until}" if backtest else ""))
    installed_path = Path(config).resolve().parent / "fitted" / f"{cfg.name}.yaml" if install else None
    # destinations are checked before the fit (minutes): a bad -o/-f must not cost the whole fit
    try:
        check_output_dir(out)
        for name in ("report.json", "parameters.csv", "fit_statistics.csv", "correlation.csv", "fit.nc"):
            if (out / name).exists():
                check_output_file(out / name)
        for path in (fitted, installed_path):
            if path is not None:
                check_output_file(Path(path))
    except DestinationError as exc:
        fail(f"cannot write the calibration results: {exc}")
    key = analysis_key(config=cfg.model_dump(mode="json"), scenario=scenario.sha256, until=fit_until, seed=seed,
                       starts=starts)
    replaced = guard_destination(out / "report.json", key, overwrite, "calibration report")
    if installed_path is not None and installed_path.exists() and not overwrite:
        fail(f"--install would replace {installed_path} and "
             f"{installed_path.with_name(installed_path.stem + '_history.yaml')}; add --overwrite to confirm")

    n_steps = len(cfg.stages) + 1 + (cfg.starts if starts is None else starts)
    bar = _bar(n_steps)

    def progress(message: str) -> None:
        log.info(message)
        bar.update(1)
    log.info(f"calibrating {cfg.name}: {len(cfg.stages)} stages, then the joint fit from "
             f"{n_steps - len(cfg.stages)} starts; writing to {out}")
    result, problem = _with_bar(bar, config, lambda: fit(cfg, scenario, until=until, seed=seed, starts=starts,
                                                          progress=progress))
    log.info("writing the report (one more model run per series window)")
    local_set = out / f"{cfg.name}.yaml"
    try:
        report = write_report(problem, result, out, local_set)
        _stamp(out / "report.json", key)
        extra = []
        if fitted is not None:
            extra += write_fitted_set(problem, result, Path(fitted))
        if installed_path is not None:
            extra += write_fitted_set(problem, result, installed_path)
    except DestinationError as exc:
        fail(f"cannot write the calibration results: {exc}")
    except OSError as exc:
        fail(f"cannot write the calibration results to {out}: {exc.strerror or exc}", code=1)
    written = [out / n for n in ("report.json", "parameters.csv", "fit_statistics.csv", "correlation.csv",
                                 "fit.nc")] + [Path(p) for p in report.get("fitted_files", [])]
    if not quiet():
        click.echo(format_table(report))
    click.echo(f"\n{result.n_evaluations} model runs in {result.wall_seconds:.1f} s"
               + ("; replaced the earlier report" if replaced else ""))
    click.echo("wrote " + ", ".join(str(p) for p in written + list(extra)))
    if installed_path is not None:
        click.echo(f"installed the fitted set in {installed_path.parent}: scenarios that extend "
                   f"{installed_path.name} now use this fit")
    else:
        click.echo("calibration/fitted/ is unchanged (add --install to make the shipped scenarios use this fit)")


def _stamp(path: Path, key: str) -> None:
    import json

    from .atomic import write_bytes
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["analysis_key"] = key
    write_bytes(path, json.dumps(doc, indent=2, ensure_ascii=False, default=float).encode())


def _bar(total: int):
    from .ensemble.runner import _progress
    return _progress(total, 0, not quiet(), "calibrate", unit="step")


def _origins(text: str, scenario) -> list[int]:
    """Parse "2012,2015" into sorted distinct years inside the run; clear error otherwise."""
    years = []
    for part in text.split(","):
        part = part.strip()
        try:
            years.append(int(part))
        except ValueError:
            fail(f"--backtest {text!r}: {part!r} is not a year; expected comma-separated years such as "
                 "2012,2015,2018,2020,2022")
    bad = [y for y in years if not scenario.start < y < scenario.end]
    if bad:
        fail(f"--backtest {text!r}: {bad[0]} is outside the calibration run; expected years in "
             f"({scenario.start:g}, {scenario.end:g}) so that something is left to forecast")
    return sorted(set(years))


def _backtest(config, cfg, scenario, origins, members, discrepancy_sd, seed, starts, output, overwrite) -> None:
    import json

    from .atomic import write_bytes
    from .fitting.backtest import format_table, run_backtests, summary
    from .fitting.report import _csv
    from .safeio import DestinationError, check_output_dir, check_output_file
    from .ensemble.sweep import versions

    out = output or Path("outputs") / "calibration" / f"{cfg.name}_backtest"
    try:
        check_output_dir(out)
        for name in ("backtest.json", "backtest.csv"):
            if (out / name).exists():
                check_output_file(out / name)
    except DestinationError as exc:
        fail(f"cannot write the backtest results: {exc}")
    key = analysis_key(config=cfg.model_dump(mode="json"), scenario=scenario.sha256, backtest=origins,
                       members=members, seed=seed, starts=starts, discrepancy_sd=discrepancy_sd)
    replaced = guard_destination(out / "backtest.json", key, overwrite, "backtest")
    bar = _bar(len(origins) * (len(cfg.stages) + 2 + (cfg.starts if starts is None else starts)))

    def progress(message: str) -> None:
        log.info(message)
        bar.update(1)
    results = _with_bar(bar, config, lambda: run_backtests(cfg, scenario, origins, members=members, seed=seed,
                                                           starts=starts, progress=progress,
                                                           discrepancy_sd=discrepancy_sd))
    rows = [r for o in results for r in o.rows]
    doc = {"config": str(config), "name": cfg.name, "origins": origins, "members": members,
           "discrepancy_sd": discrepancy_sd,
           "seed": cfg.seed if seed is None else seed, "summary": summary(results), "rows": rows,
           "scenario": {"path": str(scenario.path), "sha256": scenario.sha256},
           "versions": versions(), "analysis_key": key}
    try:
        write_bytes(out / "backtest.csv", _csv(rows))
        write_bytes(out / "backtest.json", json.dumps(doc, indent=2, ensure_ascii=False, default=float).encode())
    except OSError as exc:
        fail(f"cannot write the backtest results to {out}: {exc.strerror or exc}", code=1)
    click.echo(format_table(results))
    runs = sum(o.fit.n_evaluations for o in results)
    click.echo(f"\n{len(origins)} origins, {runs} model runs" + ("; replaced the earlier backtest" if replaced else ""))
    click.echo(f"wrote {out / 'backtest.json'}, {out / 'backtest.csv'}")


def _with_bar(bar, config, compute):
    """``compute()`` with the progress bar closed afterwards; a fit that cannot converge exits 1, Ctrl-C
    exits 130, and in both cases nothing has been written yet."""
    from .fitting import FitError
    try:
        return compute()
    except FitError as exc:
        fail(f"{config}: {exc}", code=1)
    except KeyboardInterrupt:
        fail("interrupted; nothing written", code=130)
    finally:
        bar.close()
