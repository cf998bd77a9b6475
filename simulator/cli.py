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
from .cli_common import overwrite_option, quiet, verbosity_options

EXAMPLES = """
\b
Examples (each is run by the test suite, sweeps at reduced size):
  sim run scenarios/baseline.yaml              # run, print the 2030 target check, write outputs/baseline/
  sim run scenarios/plan.yaml -o outputs/plan_v2   # choose the destination directory
  sim validate scenarios/*.yaml                # check files without running them
  sim schema -o scenario.schema.json           # JSON Schema of the scenario format (for editors)
  sim params --scenario scenarios/baseline.yaml   # the values a scenario uses, with units and plausible ranges
  sim plot outputs/baseline --kind trajectories -o fig.png
  sim report outputs/baseline -o report.html   # one self-contained HTML file
  sim sweep sweeps/uncertainty.yaml -j 2       # thousands of variants, vectorized, resumable
  sim targets outputs/uncertainty              # probability of meeting the 2030 targets
  sim gap scenarios/baseline.yaml --no-requirements -o outputs/gap/baseline_decomposition   # the gap, decomposed (docs/gap.md)
  sim sensitivity sweeps/sobol.yaml -j 2       # Sobol indices with SALib (a sobol or morris design)
  sim calibrate calibration/baseline.yaml      # fit to 2020–2024 (writes outputs/calibration/baseline/ only)
  sim export scenarios/baseline.yaml -o baseline.mdl   # Vensim/XMILE for PySD, Vensim, Stella
  sim explore scenarios/plan.yaml              # live policy explorer in the browser (docs/explore.md)

\b
Exit codes:
  0    success
  1    the run failed (solver error, time or evaluation budget exceeded)
  2    bad input: input file, option value, output destination (nothing written)
  130  interrupted (earlier outputs untouched; finished sweep chunks are kept)

Common options: -o/--output destination, --overwrite, -n/--samples, --seed, -j/--jobs,
-y/--year, --variable, -q/--quiet, -v/--verbose (the same meaning in every command).
Nothing is written outside the destination; tracked files change only when asked (calibrate --install).
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
                          "the 2030 targets and the gap to each, and warns about parameter or lever values "
                          "outside their plausible range (likely unit mistakes). A destination holding "
                          "the results of a different scenario text is not replaced without --overwrite.")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", "output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Destination directory (default: outputs/<scenario name>).")
@overwrite_option
@verbosity_options
def run_cmd(scenario: Path, output: Path | None, overwrite: bool) -> None:
    from .model.initial import CalibrationError
    from .results import summary, write_outputs
    from .scenario import ScenarioError, load_scenario
    from .solve import SolverError
    from .api import run

    from .safeio import SAFE_NAME, SAFE_NAME_TEXT, DestinationError, check_output_dir
    from .cli_common import skip_unused_array_libraries
    skip_unused_array_libraries()          # only in short one-purpose commands that never make dask/pint arrays

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
    old = _earlier_scenario_sha(directory)
    replacing = old is not None and old != sc.sha256
    if replacing and not overwrite:
        _fail(f"{directory} already holds the results of a different scenario text; choose another destination "
              f"with -o DIR, or add --overwrite to replace them")
    implausible = _plausibility_warnings(sc)
    try:
        ds = run(sc)
    except CalibrationError as exc:
        _fail(f"{scenario}: the base year cannot be closed with these parameters: {exc}")
    except SolverError as exc:
        _fail(f"{scenario}: {exc}", code=1)
    except KeyboardInterrupt:
        _fail("interrupted; nothing written", code=130)
    from .cf import cf_dataset
    ds = cf_dataset(ds)
    if implausible:
        ds.attrs["implausible_values"] = json.dumps(implausible, ensure_ascii=False)
    try:
        paths = write_outputs(ds, directory)
    except DestinationError as exc:
        _fail(f"cannot write outputs: {exc}")
    except OSError as exc:
        _fail(f"cannot write outputs to {directory}: {exc.strerror or exc}", code=1)
    except KeyboardInterrupt:
        _fail(f"interrupted; earlier outputs in {directory} are untouched", code=130)
    if not quiet():
        click.echo(format_summary(summary(ds), implausible))
        click.echo(f"\nwrote {', '.join(str(p) for p in paths.values())}"
                   + (" (replaced the results of a different scenario text)" if replacing else ""))


def _earlier_scenario_sha(directory: Path) -> str | None:
    """The scenario SHA-256 of earlier results in ``directory`` ('' if unreadable, None if none)."""
    path = directory / "summary.json"
    if not path.exists():
        return None
    try:
        return str(json.loads(path.read_text(encoding="utf-8")).get("scenario_sha256", ""))
    except (OSError, ValueError):
        return ""


def _plausibility_warnings(sc) -> list[dict]:
    """Log one warning per value outside its plausible range; return them (for the summary)."""
    import logging

    from .scenario.plausible import check_scenario
    found = check_scenario(sc)
    for f in found:
        logging.getLogger("simulator.cli").warning(f["message"])
    return found


_TARGET_NAMES = {"population": "population", "gdp_nominal": "nominal GDP"}


def format_summary(s: dict, implausible: list | None = None) -> str:
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
            lines.append(f"{t['year']} target {_TARGET_NAMES.get(t['target'], t['target']):<12} "
                         f"{t['value'] / scale:10.0f} {unit}   "
                         "not simulated (the target year is not an output time of this run)")
            continue
        verdict = "MET" if t["met"] else "NOT MET"
        lines.append(f"{t['year']} target {_TARGET_NAMES.get(t['target'], t['target']):<12} "
                     f"{t['value'] / scale:10.0f} {unit}   simulated "
                     f"{t['simulated'] / scale:10.1f}   gap {t['gap'] / scale:+10.1f} ({t['gap_percent']:+.1f} %)   {verdict}")
    for f in s.get("fiscal", []):
        flag = "EXCEEDS the budget room" if f["exceeds"] else "within the budget room"
        lines.append(f"{f['year']} policy spending {f['policy_cost'] / 1e8:8.1f} 亿元/yr = "
                     f"{100 * f['share_of_revenue']:.1f} % of the four cities' budget revenue; room "
                     f"{f['fiscal_room'] / 1e8:.1f} 亿元: {flag}")
        over = [c for c in f.get("budgets", []) if c["exceeds"]]
        if over:
            lines.append("     budgets above their own room: " + "; ".join(
                f"{c['budget']} {c['policy_cost'] / 1e8:.1f} of {c['fiscal_room'] / 1e8:.1f} 亿元 "
                f"({100 * c['share_of_revenue']:.0f} % of its revenue)" for c in over))
    if implausible:
        keys = ", ".join(sorted({f["key"] for f in implausible}))
        lines += ["", f"CAUTION: this run used values outside their plausible range ({keys}); see the warnings "
                      "above — the figures may rest on a unit mistake."]
    return "\n".join(lines)


@main.command(help="Check scenario files without running them; prints one line per file and a warning "
                   "for each parameter or lever value outside its plausible range (likely unit mistakes). "
                   "Exit code 2 if any file is invalid (implausible values only warn).")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@verbosity_options
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
            found = _plausibility_warnings(sc)
            history = (f", continues '{sc.history.name}' from {sc.run_start:g}" if sc.history is not None else "")
            click.echo(f"ok: {f} (scenario '{sc.name}', {sc.start:g}–{sc.end:g}{history}, "
                       f"{len(sc.breakpoints())} lever breakpoints"
                       + (f"; {len(found)} implausible value{'s' if len(found) > 1 else ''}" if found else "") + ")")
    if bad:
        sys.exit(2)


@main.command(help="Print (or write with -o) the JSON Schema of the scenario file format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: print to stdout).")
@verbosity_options
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


@main.command(help="List every parameter and lever: name, value, units, plausible range, hard bounds and "
                   "description. With --scenario FILE the values are the ones that scenario actually uses "
                   "(its extends chain and fitted set applied): per node where they differ, levers at the "
                   "start year (and whether they change later), the travel-time matrix in minutes.")
@click.option("--sector", default=None, help="Only parameters of this sector (demography, migration, "
                                             "urbanization, economy, housing, numerics).")
@click.option("--scenario", "scenario", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Show the effective values of this scenario file instead of the defaults.")
@verbosity_options
def params(sector: str | None, scenario: Path | None) -> None:
    import numpy as np

    from .model.levers import LEVERS
    from .model.nodes import NODES, PLAN_MASK
    from .model.parameters import PARAMETERS
    from .scenario.plausible import plausible_range

    sc = None
    if scenario is not None:
        from .scenario import ScenarioError, load_scenario
        try:
            sc = load_scenario(scenario)
        except ScenarioError as exc:
            _fail(str(exc))

    from .scenario.errors import suggest

    def fmt(v):
        return "per node" if isinstance(v, dict) else f"{v:g}"
    sectors = sorted({spec.sector for spec in PARAMETERS.values()})
    if sector is not None and sector not in sectors:
        hint = suggest(sector, sectors)
        _fail(f"--sector: unknown sector {sector[:80]!r}; expected one of {', '.join(sectors)}"
              + (f"; did you mean '{hint}'?" if hint else ""))

    def per_node(arr) -> str:
        arr = np.atleast_1d(np.asarray(arr, dtype=float))
        if arr.size == 1 or np.all(arr == arr[0]):
            return f"{float(arr[0]):g}"
        return "  ".join(f"{n} {v:.4g}" for n, v in zip(NODES, arr))

    def ranges(name, spec) -> str:
        pr = plausible_range(name)
        text = f"hard bounds [{spec.lower:g}, {spec.upper:g}]"
        return (f"plausible {pr[0]:g}–{pr[1]:g}; " if pr else "") + text

    if sc is not None:
        click.echo(f"Scenario '{sc.name}' ({_shown(scenario)}), {sc.start:g}–{sc.end:g}; effective values from "
                   + " → ".join(_shown(f) for f in sc.chain) + " (each file overrides the ones before)")
        click.echo("Node groups usable as keys: plan_area = " + ", ".join(n for n, p in zip(NODES, PLAN_MASK) if p)
                   + "; all = " + ", ".join(NODES) + "\n")
    click.echo("PARAMETERS (constant over a run; scenario key: parameters)")
    for spec in PARAMETERS.values():
        if sector and spec.sector != sector:
            continue
        value = per_node(sc.parameters[spec.name]) if sc is not None else fmt(spec.default)
        mark = " (set by the scenario)" if sc is not None and spec.name in sc.parameter_overrides else ""
        click.echo(f"  {spec.name:34} {value:>10} {spec.units:12} {ranges(spec.name, spec)}{mark}"
                   f"\n      {spec.description}")
    if sector:
        return
    click.echo("\nLEVERS (may change over time; scenario key: levers)")
    for spec in LEVERS.values():
        if sc is not None and spec.kind != "pair":
            lever = sc.levers[spec.name]
            value = per_node(lever.value(sc.start))
            changes = "" if not lever.breakpoints() else f" — changes at {', '.join(f'{t:g}' for t in lever.breakpoints())}"
        else:
            value = fmt(spec.default) if spec.kind != "pair" else "per pair"
            changes = ""
        click.echo(f"  {spec.name:34} {value:>10} {spec.units:12} {ranges(spec.name, spec)} ({spec.kind}){changes}"
                   f"\n      {spec.description} — seeds {spec.seeds}")
    if sc is not None and "travel_time" in sc.levers:
        from .model.nodes import travel_time_matrix
        m = travel_time_matrix(np.asarray(sc.levers["travel_time"].value(sc.start), dtype=float))
        click.echo(f"\nTravel time between nodes in {sc.start:g} (minutes; lever travel_time, keys like CC_P-JL_P):")
        click.echo(f"  {'':6}" + "".join(f"{n:>7}" for n in NODES))
        for i, a in enumerate(NODES):
            click.echo(f"  {a:6}" + "".join(f"{m[i, j]:7.0f}" for j in range(len(NODES))))


def _shown(path) -> str:
    """A path as the user should see it: relative to the working directory when inside it."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(Path(path))


def _register() -> None:
    """Commands that live in their own modules."""
    from .cli_calibrate import calibrate_cmd
    from .cli_ensemble import sensitivity_cmd, sweep_cmd, targets_cmd
    from .cli_explore import explore_cmd
    from .cli_export import export_cmd
    from .cli_gap import gap_cmd
    from .cli_optimize import optimize_cmd
    from .cli_plot import plot_cmd, report_cmd
    from .cli_rank import rank_cmd
    for command in (sweep_cmd, sensitivity_cmd, targets_cmd, calibrate_cmd, gap_cmd, rank_cmd, optimize_cmd,
                    plot_cmd, report_cmd, export_cmd, explore_cmd):
        main.add_command(command)


_register()

if __name__ == "__main__":  # pragma: no cover
    main()
