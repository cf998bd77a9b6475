"""``sim plot`` and ``sim report``: figures and the HTML report from output files.

Register in simulator/cli.py with::

    from .cli_plot import plot_cmd, report_cmd
    main.add_command(plot_cmd)
    main.add_command(report_cmd)

Exit codes: 0 success; 2 bad input (missing file, unknown kind, variable/region not in the file).
"""
from __future__ import annotations

import json
import os
import logging
import sys
from pathlib import Path

import click
from .atomic import atomic_path
from .cli_common import verbosity_options

# kind -> (input type, help)
KINDS = {
    "trajectories": ("results", "lines per node + metro total of --variable (default population); 2030 target marked"),
    "panels": ("results", "population, urbanization, floor area, real and nominal GDP in one figure (--level)"),
    "cities": ("results", "whole-city lines of --variable with observed history points"),
    "comparison": ("results+", "several results files on one chart with the gap to the 2030 target "
                               "(--variable metro_population or metro_gdp_nominal)"),
    "decomposition": ("results", "natural change and net migration by origin, stacked bars (--region, default metro)"),
    "flows": ("results", "migration flow matrix heatmap (--year, default 2030)"),
    "pyramid": ("results", "age structure of --region (default CC_P) in two --year values"),
    "fan": ("ensemble", "ensemble fan chart of --variable (file with a 'run' dim)"),
    "sobol": ("sensitivity", "Sobol S1/ST bars (--variable: which output)"),
    "morris": ("sensitivity", "Morris mu*-sigma scatter (--variable: which output)"),
    "tornado": ("csv", "one-at-a-time swings of --variable (default metro_population) in the target year "
                       "over each factor of a sweep file (5–95 % of its distribution), or from a CSV with "
                       "columns parameter, low, high, base"),
    "prim": ("json", "PRIM box from a JSON result"),
    "peeling": ("json", "PRIM peeling trajectory from a JSON result"),
    "calibration": ("calibration", "simulated vs observed for every series (dims series, time)"),
}

#: the file inside an output directory that each kind of input stands for
INNER = {"results": "results.nc", "results+": "results.nc", "ensemble": "ensemble.nc",
         "sensitivity": "sensitivity.nc", "calibration": "fit.nc", "csv": "tornado.csv", "json": "targets.json"}

PLOT_HELP = ("Draw one figure from output files (or the output directories holding them) and write it to "
             "FILE given with -o (format from the suffix: .png, .svg, .pdf).\n\n\b\nKinds:\n" + "\n".join(f"  {k:<14}{v[1]}" for k, v in KINDS.items()) + """

\b
Examples:
  sim plot outputs/baseline/results.nc --kind trajectories -o fig.png
  sim plot outputs/baseline/results.nc --kind cities --variable gdp_nominal -o gdp.png
  sim plot outputs/baseline/results.nc outputs/plan/results.nc --kind comparison -o cmp.png
  sim plot outputs/baseline/results.nc --kind pyramid --region metro --year 2024 --year 2035 -o pyr.png
  sim plot outputs/uncertainty --kind fan --variable metro_gdp_nominal -o fan.png
  sim plot outputs/sensitivity/sobol --kind sobol --variable metro_population -o sobol.png
  sim plot sweeps/uncertainty.yaml --kind tornado --variable metro_gdp_nominal -o tornado.png
""")


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _save_atomic(fig, path: Path, dpi: int) -> None:
    suffix = path.suffix or ".png"
    with atomic_path(path, suffix=suffix) as tmp:
        fig.savefig(tmp, dpi=dpi, format=suffix.lstrip("."), bbox_inches="tight")   # keeps outside legends


def _open_nc(path: Path):
    from .plot import load_results
    try:
        return load_results(path)
    except Exception as exc:  # noqa: BLE001 - any read failure is bad input here
        _fail(f"{path}: cannot read as NetCDF: {exc}")


@click.command("plot", help=PLOT_HELP)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--kind", "-k", type=click.Choice(list(KINDS)), default="trajectories", show_default=True,
              help="Which figure (see the list above).")
@click.option("--variable", "variable", default=None,
              help="Variable to plot (trajectories, cities, comparison, fan) or sensitivity output (sobol, morris).")
@click.option("--region", "-r", default=None, help="Node code (CC_P, …, RJ), 'metro', or a city for city_* variables.")
@click.option("--year", "-y", "years", type=int, multiple=True, help="Year(s) (flows: one; pyramid: two).")
@click.option("--level", type=click.Choice(["node", "city"]), default="node", show_default=True,
              help="For --kind panels: per node or per whole city.")
@click.option("--output-name", "output_name", default=None, hidden=True,
              help="Deprecated spelling of --variable for --kind sobol/morris.")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
              help="Label language; zh needs a CJK font (falls back to English otherwise).")
@click.option("--dpi", type=click.IntRange(10, 600), default=120, show_default=True,
              help="Resolution of raster output (10–600).")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Image file to write (.png, .svg, .pdf).")
@verbosity_options
def plot_cmd(files, kind, variable, region, years, level, output_name, lang, dpi, output) -> None:
    import warnings

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import plot

    from .safeio import DestinationError, check_output_file

    source = KINDS[kind][0]
    files = tuple(Path(f) / INNER[source] if Path(f).is_dir() else Path(f) for f in files)
    if output_name is not None:
        click.echo("warning: --output-name is deprecated; use --variable", err=True)
        variable = variable or output_name
    missing = [str(f) for f in files if not Path(f).is_file()]
    if missing:
        _fail(f"file not found (or not a regular file): {', '.join(missing)}")
    if output.suffix.lower() not in (".png", ".svg", ".pdf", ""):
        _fail(f"unsupported output format {output.suffix!r}; use .png, .svg or .pdf")
    try:
        check_output_file(output)
    except DestinationError as exc:
        _fail(f"cannot write {exc}")
    if source != "results+" and len(files) > 1:
        _fail(f"--kind {kind} takes one input file, got {len(files)}")
    warnings.simplefilter("ignore", UserWarning)   # glyph warnings; the CJK fallback is reported below
    if lang == "zh" and plot.style.cjk_font() is None:
        click.echo("note: no CJK font installed; using English labels", err=True)

    def need_var(ds, v, file=None):
        if v not in ds.data_vars:
            _fail(f"variable {v!r} not in {file or files[0]}; available: {', '.join(sorted(ds.data_vars))}")

    try:
        if source in ("results", "results+", "ensemble"):
            dss = [_open_nc(Path(f)) for f in files]
            ds = dss[0]
            if kind in ("trajectories", "cities"):
                v = variable or "population"
                need_var(ds, v)
                if "region" not in ds[v].dims:
                    _fail(f"{v!r} is not a per-node variable; try --kind comparison or fan for metro_* variables")
                obj = plot.trajectories(ds, v, level="city" if kind == "cities" else "node",
                                        regions=[region] if region else None, lang=lang)
            elif kind == "panels":
                obj = plot.trajectory_panels(ds, level=level, lang=lang)
            elif kind == "comparison":
                v = variable or "metro_population"
                for f, d in zip(files, dss):
                    need_var(d, v, f)
                runs = {}
                for f, d in zip(files, dss):
                    if "run" in d.dims:
                        for i in range(d.sizes["run"]):
                            runs[f"{Path(f).parent.name or Path(f).stem} #{i}"] = d.isel(run=i)
                    else:
                        label = d.attrs.get("scenario_name", Path(f).parent.name)
                        runs[label if label not in runs else f"{label} ({f})"] = d
                obj = plot.comparison(runs, v, region=region if region not in (None, "metro") else None, lang=lang)
            elif kind == "decomposition":
                obj = plot.decomposition(ds, region or "metro", lang=lang)
            elif kind == "flows":
                obj = plot.flow_matrix(ds, years[0] if years else None, lang=lang)
            elif kind == "pyramid":
                if years and len(years) != 2:
                    _fail("--kind pyramid takes two --year values (or none for first and last)")
                obj = plot.pyramid(ds, region or "CC_P", years or None, lang=lang)
            elif kind == "fan":
                v = variable or "metro_population"
                need_var(ds, v)
                if "run" not in ds.dims:
                    _fail(f"{files[0]} has no 'run' dimension; --kind fan needs an ensemble file")
                obj = plot.fan_chart(ds, v, region=region if region not in (None, "metro") else None, lang=lang)
        elif source == "sensitivity":
            obj = (plot.sobol_bars if kind == "sobol" else plot.morris_scatter)(_open_nc(Path(files[0])), variable,
                                                                                lang=lang)
        elif source == "calibration":
            obj = plot.calibration(_open_nc(Path(files[0])), lang=lang)
        elif source == "csv" and Path(files[0]).suffix in (".yaml", ".yml"):
            from .analysis.sensitivity import one_at_a_time
            from .ensemble import load_sweep
            from .scenario import ScenarioError
            try:
                sweep = load_sweep(Path(files[0]))
            except ScenarioError as exc:
                _fail(str(exc))
            v = variable or "metro_population"
            click.echo(f"tornado: {1 + 2 * len(sweep.factors)} runs of '{sweep.scenario.name}' "
                       f"({len(sweep.factors)} factors at their 5 % and 95 % quantiles)", err=True)
            df = one_at_a_time(sweep, v)
            tgt = {"metro_population": sweep.scenario.targets.population,
                   "metro_gdp_nominal": sweep.scenario.targets.gdp_nominal}.get(v)
            obj = plot.tornado(df, units=str(df["units"].iloc[0]), variable=v, target=tgt, lang=lang)
        elif source == "csv":
            import pandas as pd
            df = pd.read_csv(files[0])
            units = str(df["units"].iloc[0]) if "units" in df else "persons"
            obj = plot.tornado(df, units=units, lang=lang)
        else:
            try:
                data = json.loads(Path(files[0]).read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                _fail(f"{files[0]}: not a JSON file: {exc}")
            obj = (plot.prim_box if kind == "prim" else plot.peeling_trajectory)(data, lang=lang)
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        msg = exc.args[0] if exc.args else exc
        _fail(f"cannot draw --kind {kind} from {', '.join(map(str, files))}: {msg}")
    fig = obj if hasattr(obj, "savefig") else obj.figure
    try:
        _save_atomic(fig, output, dpi)
    except DestinationError as exc:
        _fail(f"cannot write {exc}")
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror or exc}")
    finally:
        plt.close(fig)
    click.echo(f"wrote {output}")


@click.command("report", help="""Write a self-contained HTML report of an output directory: summary table,
2030 target check and every relevant figure embedded (no external files; prints cleanly).

\b
Uses DIRECTORY/results.nc and summary.json, and when present ensemble.nc (fan charts, target
probabilities), sensitivity.nc (Sobol / Morris), tornado.csv, prim.json, calibration.nc, gap.json
(`sim gap`: decomposition tables, figure and what it would take), targets.json (`sim targets`:
probabilities, goal seek, PRIM boxes) and portfolio.json (`sim optimize`: named portfolios). A directory
with only gap.json, targets.json or portfolio.json gives a report of those. --ensemble, --sensitivity,
--targets, --calibration, --gap and --portfolio take the file or the directory holding it.

\b
Examples:
  sim report outputs/baseline -o report.html
  sim report outputs/plan --compare outputs/baseline -o plan.html
  sim report outputs/baseline --ensemble outputs/uncertainty \\
      --targets outputs/targets/uncertainty --sensitivity outputs/sensitivity/sobol \\
      --calibration outputs/calibration/baseline -o full.html""")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="HTML file to write (default DIRECTORY/report.html).")
@click.option("--compare", "compare", multiple=True, type=click.Path(path_type=Path),
              help="Other output directories to draw on a scenario-comparison chart (repeatable).")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True, help="Figure label language.")
@click.option("--ensemble", type=click.Path(path_type=Path), default=None,
              help="ensemble.nc of `sim sweep` (default: DIRECTORY/ensemble.nc if present).")
@click.option("--sensitivity", type=click.Path(path_type=Path), default=None,
              help="sensitivity.nc of `sim sensitivity`.")
@click.option("--targets", type=click.Path(path_type=Path), default=None,
              help="targets.json of `sim targets` (its PRIM boxes are drawn).")
@click.option("--calibration", type=click.Path(path_type=Path), default=None,
              help="fit.nc of `sim calibrate` (simulated vs observed).")
@click.option("--gap", "gap", type=click.Path(path_type=Path), default=None,
              help="gap.json of `sim gap` (default: DIRECTORY/gap.json if present).")
@click.option("--portfolio", type=click.Path(path_type=Path), default=None,
              help="portfolio.json of `sim optimize` (default: DIRECTORY/portfolio.json if present).")
@verbosity_options
def report_cmd(directory, output, compare, lang, ensemble, sensitivity, targets, calibration, gap=None,
               portfolio=None) -> None:
    import warnings

    import matplotlib
    matplotlib.use("Agg")
    from .report import build_report

    from .safeio import DestinationError, check_output_file

    if not directory.is_dir():
        _fail(f"directory not found: {directory}")
    def inner(p, name):
        return p / name if p is not None and p.is_dir() else p
    gap, portfolio = inner(gap, "gap.json"), inner(portfolio, "portfolio.json")
    answers = [p for p in (gap or directory / "gap.json", inner(targets, "targets.json") or directory / "targets.json",
                           portfolio or directory / "portfolio.json") if p.is_file()]
    if not (directory / "results.nc").is_file() and not answers:
        _fail(f"{directory / 'results.nc'} not found (run `sim run SCENARIO -o {directory}` first), and no "
              "gap.json, targets.json or portfolio.json there")
    try:
        check_output_file(output if output is not None else directory / "report.html")
    except DestinationError as exc:
        _fail(f"cannot write the report: {exc}")
    for c in compare:
        p = c / "results.nc" if c.is_dir() else c
        if not p.is_file():
            _fail(f"--compare: {p} not found")
    ensemble, sensitivity = inner(ensemble, "ensemble.nc"), inner(sensitivity, "sensitivity.nc")
    targets, calibration = inner(targets, "targets.json"), inner(calibration, "fit.nc")
    for option, p in (("--ensemble", ensemble), ("--sensitivity", sensitivity), ("--targets", targets),
                      ("--calibration", calibration), ("--gap", gap), ("--portfolio", portfolio)):
        if p is not None and not p.is_file():
            _fail(f"{option}: {p} not found")
    _check_report_inputs(directory, compare, ensemble, sensitivity)
    warnings.simplefilter("ignore", UserWarning)
    logging.getLogger(__name__).info(f"building the report of {directory}, one figure at a time")
    try:
        path = build_report(directory, output, lang=lang, compare=list(compare), ensemble=ensemble,
                            sensitivity=sensitivity, targets=targets, calibration=calibration, gap=gap,
                            portfolio=portfolio)
    except (KeyError, ValueError, TypeError) as exc:
        _fail(f"cannot build the report from {directory}: {exc.args[0] if exc.args else exc}")
    except DestinationError as exc:
        _fail(f"cannot write the report: {exc}")
    except OSError as exc:
        where = getattr(exc, "filename", None)
        target = Path(output if output is not None else directory / "report.html")
        if where is not None and Path(where).name != target.name and not str(where).startswith(str(target.parent / ".")):
            _fail(f"cannot read {where}: {exc.strerror or exc}")
        _fail(f"cannot write the report: {exc.strerror or exc}")
    click.echo(f"wrote {path}")


def _check_report_inputs(directory: Path, compare, ensemble, sensitivity) -> None:
    """Each input is the kind of file its option names (not, e.g., a fit.nc as results.nc)."""
    from .safeio import InputFileError, read_input_text

    def results_file(p: Path, what: str) -> None:
        ds = _open_nc(p)
        if "population" not in ds.data_vars or "region" not in ds.dims or "run" in ds.dims:
            _fail(f"{what} {p}: not the results.nc of `sim run` (no population by region; an ensemble or "
                  "calibration file?)")

    if (directory / "results.nc").is_file():
        results_file(directory / "results.nc", "")
    sfile = directory / "summary.json"
    if os.path.lexists(sfile):
        try:
            s = json.loads(read_input_text(sfile))
        except (InputFileError, json.JSONDecodeError) as exc:
            _fail(f"{sfile}: cannot read ({exc}); rerun `sim run` or delete it")
        years = s.get("years") if isinstance(s, dict) else None
        if (not isinstance(years, list) or not years or not all(isinstance(r, dict) and "year" in r for r in years)
                or not isinstance(s.get("targets"), list)):
            _fail(f"{sfile}: not a summary of `sim run` (needs a non-empty 'years' list and 'targets'); "
                  "rerun `sim run` or delete it")
    for c in compare:
        results_file(c / "results.nc" if c.is_dir() else c, "--compare")
    ens = ensemble if ensemble is not None else directory / "ensemble.nc"
    if ens.is_file():
        ds = _open_nc(ens)
        if "run" not in ds.dims or "metro_population" not in ds or "metro_gdp_nominal" not in ds:
            _fail(f"--ensemble {ens}: not an ensemble.nc of `sim sweep` with metro_population and metro_gdp_nominal")
    sens = sensitivity if sensitivity is not None else directory / "sensitivity.nc"
    if sens.is_file():
        ds = _open_nc(sens)
        if not ({"S1", "ST"} <= set(ds.data_vars) or {"mu_star", "sigma"} <= set(ds.data_vars)):
            _fail(f"--sensitivity {sens}: not a sensitivity.nc of `sim sensitivity` (no Sobol S1/ST or Morris "
                  "mu_star/sigma indices)")
