"""The ``sim`` command line: thin wrappers that parse, call the API, print and set the exit code.

Exit codes: 0 success; 2 bad input (scenario file, options, parameter combination); 1 the
solver failed.
"""
from __future__ import annotations

import json
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
"""


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@click.group(help="Simulate the Changchun modern metropolitan area (长春现代化都市圈): population, "
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

    try:
        sc = load_scenario(scenario)
    except ScenarioError as exc:
        _fail(str(exc))
    try:
        ds = run(sc)
    except CalibrationError as exc:
        _fail(f"{scenario}: the base year cannot be closed with these parameters: {exc}")
    except SolverError as exc:
        _fail(f"{scenario}: {exc}", code=1)
    directory = output if output is not None else Path("outputs") / sc.name
    try:
        paths = write_outputs(ds, directory)
    except OSError as exc:
        _fail(f"cannot write outputs to {directory}: {exc}")
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
    for f in s.get("fiscal", []):
        flag = "EXCEEDS the budget room" if f["exceeds"] else "within the budget room"
        lines.append(f"{f['year']} policy spending {f['policy_cost'] / 1e8:8.1f} 亿元/yr = "
                     f"{100 * f['share_of_revenue']:.1f} % of local budget revenue; room {f['fiscal_room'] / 1e8:.1f} 亿元: {flag}")
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
    text = json.dumps(json_schema(), indent=2, ensure_ascii=False)
    if output is None:
        click.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {output}")


@main.command(help="List every parameter and lever: name, default, units, bounds and description.")
@click.option("--sector", default=None, help="Only parameters of this sector (demography, migration, "
                                             "urbanization, economy, housing, numerics).")
def params(sector: str | None) -> None:
    from .model.levers import LEVERS
    from .model.parameters import PARAMETERS

    def fmt(v):
        return "per node" if isinstance(v, dict) else f"{v:g}"
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
