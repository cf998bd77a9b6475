"""The ``sim`` command line: thin wrappers that parse, call the API, print and set the exit code.

Exit codes (every command): 0 success; 1 the run failed (solver, time or evaluation budget, a
write that failed part-way); 2 bad input (input file, option, parameter combination, output
destination); 130 interrupted (Ctrl-C; earlier outputs are untouched, finished sweep chunks kept).
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click

from . import __version__

EXAMPLES = """
\b
Examples:
  sim run scenarios/baseline.yaml              # run, print the 2030 target check, write outputs/baseline/
  sim run scenarios/plan.yaml -o /tmp/plan     # choose the output directory
  sim validate scenarios/*.yaml                # check files without running them
  sim schema -o scenario.schema.json           # JSON Schema of the scenario format (for editors)
  sim params                                   # every parameter and lever with units and defaults
  sim plot outputs/baseline/results.nc --kind trajectories -o fig.png
  sim report outputs/baseline -o report.html   # one self-contained HTML file
  sim sweep sweeps/uncertainty.yaml -j 2      # thousands of variants, vectorized, resumable
  sim sensitivity outputs/uncertainty          # Sobol / Morris indices with SALib
  sim targets outputs/uncertainty              # probability of meeting the 2030 targets
  sim calibrate calibration/baseline.yaml      # fit to 2020–2024 statistics (history_2010.yaml: from 2010)
  sim export scenarios/baseline.yaml -o baseline.mdl   # Vensim/XMILE for PySD, Vensim, Stella

\b
Exit codes:
  0    success
  1    the run failed (solver error, time or evaluation budget exceeded)
  2    bad input: input file, option value, output destination (nothing written)
  130  interrupted (earlier outputs untouched; finished sweep chunks are kept)
"""


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


class _Group(click.Group):
    """``click.Group`` that turns a NUL character in a path argument (click's ``os.stat`` raises
    ValueError for it) into a usage error (exit 2) instead of a traceback, and Ctrl-C anywhere into
    exit code 130."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:       # click would say "Aborted!" and exit 1; outputs are written atomically
            _fail("interrupted; nothing was half-written", code=130)
        except ValueError as exc:
            if "null byte" not in str(exc):
                raise
            raise click.UsageError("a path contains a NUL character") from None


@click.group(cls=_Group, help="Simulate the Changchun modern metropolitan area (长春现代化都市圈): population, "
                  "migration, urbanization, housing and GDP, against the 2030 targets.\n" + EXAMPLES)
@click.version_option(__version__, prog_name="sim")
def main() -> None:
    pass


@main.command("run", help="Run a scenario file and write results.nc, results.csv and summary.json "
                          "to outputs/<scenario name>/ (or -o DIR). Prints population and GDP of each "
                          "city's plan-area part and of the metro area for 2024, 2030 and 2035, with "
                          "the 2030 targets and the gap to each.")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", "output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output directory (default: outputs/<scenario name>).")
@click.option("--quiet", is_flag=True, help="Do not print the summary table.")
def run_cmd(scenario: Path, output: Path | None, quiet: bool) -> None:
    from .model.initial import CalibrationError
    from .results import summary, write_outputs
    from .scenario import ScenarioError, load_scenario
    from .solve import SolverError
    from .api import run

    from .safeio import SAFE_NAME, SAFE_NAME_TEXT, DestinationError, check_output_dir

    try:
        sc = load_scenario(scenario)
    except ScenarioError as exc:
        _fail(str(exc))
    if output is None and not re.fullmatch(SAFE_NAME, sc.name):
        _fail(f"{scenario}: the scenario name {sc.name[:80]!r} cannot be used as the output directory name "
              f"({SAFE_NAME_TEXT}); rename the file or give -o DIR")
    directory = output if output is not None else Path("outputs") / sc.name
    try:
        check_output_dir(directory)          # before the run: nothing is computed only to be lost
    except DestinationError as exc:
        _fail(f"cannot write outputs: {exc}")
    try:
        ds = run(sc)
    except CalibrationError as exc:
        _fail(f"{scenario}: the base year cannot be closed with these parameters: {exc}")
    except SolverError as exc:
        _fail(f"{scenario}: {exc}", code=1)
    except KeyboardInterrupt:
        _fail("interrupted; nothing written", code=130)
    try:
        paths = write_outputs(ds, directory)
    except DestinationError as exc:
        _fail(f"cannot write outputs: {exc}")
    except OSError as exc:
        _fail(f"cannot write outputs to {directory}: {exc.strerror or exc}", code=1)
    except KeyboardInterrupt:
        _fail(f"interrupted; earlier outputs in {directory} are untouched", code=130)
    if not quiet:
        click.echo(format_summary(summary(ds)))
        click.echo(f"\nwrote {', '.join(str(p) for p in paths.values())}")


def format_summary(s: dict) -> str:
    """The terminal table: plan-area parts, metro total, targets and gaps (万人 and 亿元)."""
    years = [row["year"] for row in s["years"]]
    nodes = [k[len("population_"):] for k in s["years"][0] if k.startswith("population_")]
    names = {"CC_P": "Changchun (plan part)", "JL_P": "Jilin (plan part)", "SP_P": "Siping (plan part)",
             "LY_P": "Liaoyuan (plan part)"}
    lines = [f"Scenario: {s['scenario']}   (sha256 {s['scenario_sha256'][:12]})", ""]
    head = f"{'':28}" + "".join(f"{'pop ' + str(y):>12}{'GDP ' + str(y):>12}" for y in years)
    lines += ["population in 万人 (10^4 persons), nominal GDP in 亿元 (10^8 yuan)", head]
    for n in nodes:
        cells = "".join(f"{r['population_' + n] / 1e4:12.1f}{r['gdp_nominal_' + n] / 1e8:12.0f}" for r in s["years"])
        lines.append(f"{names.get(n, n):28}{cells}")
    cells = "".join(f"{r['metro_population'] / 1e4:12.1f}{r['metro_gdp_nominal'] / 1e8:12.0f}" for r in s["years"])
    lines.append(f"{'Metro area total':28}{cells}")
    lines.append("")
    for t in s["targets"]:
        scale, unit = (1e4, "万人") if t["target"] == "population" else (1e8, "亿元")
        if t["simulated"] is None:
            lines.append(f"{t['year']} target {t['target']:<12} {t['value'] / scale:10.0f} {unit}   "
                         "not simulated (the target year is not an output time of this run)")
            continue
        verdict = "MET" if t["met"] else "NOT MET"
        lines.append(f"{t['year']} target {t['target']:<12} {t['value'] / scale:10.0f} {unit}   simulated "
                     f"{t['simulated'] / scale:10.1f}   gap {t['gap'] / scale:+10.1f} ({t['gap_percent']:+.1f} %)   {verdict}")
    return "\n".join(lines)


@main.command(help="Check scenario files without running them; prints one line per file. "
                   "Exit code 2 if any file is invalid.")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    from .scenario import ScenarioError, load_scenario
    bad = 0
    for f in files:
        try:
            sc = load_scenario(f)
        except ScenarioError as exc:
            bad += 1
            click.echo(f"invalid: {exc}", err=True)
        else:
            click.echo(f"ok: {f} (scenario '{sc.name}', {sc.start:g}–{sc.end:g}, "
                       f"{len(sc.breakpoints())} lever breakpoints)")
    if bad:
        sys.exit(2)


@main.command(help="Print (or write with -o) the JSON Schema of the scenario file format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def schema(output: Path | None) -> None:
    from .scenario import json_schema
    from .atomic import write_text
    from .safeio import DestinationError
    text = json.dumps(json_schema(), indent=2, ensure_ascii=False)
    if output is None:
        click.echo(text)
        return
    try:
        write_text(output, text + "\n")          # atomic: a full disk leaves no 0-byte file
    except DestinationError as exc:
        _fail(f"cannot write the schema: {exc}")
    except OSError as exc:
        _fail(f"cannot write the schema to {output}: {exc.strerror or exc}")
    click.echo(f"wrote {output}")


@main.command(help="List every parameter and lever: name, default, units, bounds and description.")
@click.option("--sector", default=None, help="Only parameters of this sector (demography, migration, "
                                             "urbanization, economy, housing, numerics).")
def params(sector: str | None) -> None:
    from .model.levers import LEVERS
    from .model.parameters import PARAMETERS

    from .scenario.errors import suggest

    def fmt(v):
        return "per node" if isinstance(v, dict) else f"{v:g}"
    sectors = sorted({spec.sector for spec in PARAMETERS.values()})
    if sector is not None and sector not in sectors:
        hint = suggest(sector, sectors)
        _fail(f"--sector: unknown sector {sector[:80]!r}; expected one of {', '.join(sectors)}"
              + (f"; did you mean '{hint}'?" if hint else ""))
    click.echo("PARAMETERS (constant over a run; scenario key: parameters)")
    for spec in PARAMETERS.values():
        if sector and spec.sector != sector:
            continue
        node = " [per node]" if spec.per_node else ""
        click.echo(f"  {spec.name:34} {fmt(spec.default):>10} {spec.units:12} [{spec.lower:g}, {spec.upper:g}]{node}"
                   f"\n      {spec.description}")
    if sector:
        return
    click.echo("\nLEVERS (may change over time; scenario key: levers)")
    for spec in LEVERS.values():
        click.echo(f"  {spec.name:34} {fmt(spec.default) if spec.kind != 'pair' else 'per pair':>10} "
                   f"{spec.units:12} [{spec.lower:g}, {spec.upper:g}] ({spec.kind})\n      {spec.description}"
                   f" — seeds {spec.seeds}")


def _register() -> None:
    """Commands that live in their own modules."""
    from .cli_calibrate import calibrate_cmd
    from .cli_ensemble import sensitivity_cmd, sweep_cmd, targets_cmd
    from .cli_export import export_cmd
    from .cli_plot import plot_cmd, report_cmd
    for command in (sweep_cmd, sensitivity_cmd, targets_cmd, calibrate_cmd, plot_cmd, report_cmd, export_cmd):
        main.add_command(command)


_register()

if __name__ == "__main__":  # pragma: no cover
    main()
