"""``sim gap``: the gap to each target decomposed, and what it would take (requirements backcast with the model).

Register in simulator/cli.py with ``main.add_command(gap_cmd)``. Exit codes: 0 success; 1 a run failed;
2 bad input (scenario file, year, destination; nothing written); 130 interrupted.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

import click

from .cli_common import analysis_key, fail, overwrite_option, quiet, verbosity_options

GAP_HELP = """Decompose the gap between a scenario and the 2030 targets, and backcast what it would take.

Writes gap.json (decomposition, requirements, provenance) and gap.png to outputs/gap/<scenario name>/
(or -o DIR) and prints the tables. Population change from the scenario start to the target year is split
into births, deaths and net migration by origin (within the metro area, rest of Jilin, rest of China) for
each plan-area part and the metro area (an exact identity); the log change of nominal GDP into TFP,
capital, labour, agglomeration, human capital and prices (exact; metro by log-mean Divisia weights). The
requirements are goal seeks with the model, every other input as in the scenario: (a) the extra net
in-migration per year from the start year (lever extra_net_migration) that reaches the population target;
(b) the TFP growth that reaches the GDP target with the deflator at the scenario's path, 0, +1 and +2 %/yr;
(c) the TFR that reaches the population target with migration as in the scenario. docs/gap.md explains
the equations and how to read the output.

\b
Examples (the decomposition alone, 4.4–4.5 s; then everything, 5.6 s, about 40 model runs; times from
benchmarks/bench_gap.py on a shared 2-core machine):
  sim gap scenarios/baseline.yaml --no-requirements -o outputs/gap/baseline_decomposition
  sim gap scenarios/baseline.yaml
  sim report outputs/gap/baseline -o gap_report.html
"""


@click.command("gap", help=GAP_HELP)
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Destination directory (default: outputs/gap/<scenario name>).")
@click.option("-y", "--year", type=int, default=None, help="Target year (default: the scenario's, 2030).")
@click.option("--requirements/--no-requirements", default=True, show_default=True,
              help="Backcast the requirements (goal seek; tens of model runs) or only decompose.")
@overwrite_option
@verbosity_options
def gap_cmd(scenario: Path, output: Path | None, year: int | None, requirements: bool, overwrite: bool) -> None:
    import re

    from .analysis.gap import GapInputError, check_year, format_gap, gap_analysis
    from .model.initial import CalibrationError
    from .safeio import SAFE_NAME, SAFE_NAME_TEXT, DestinationError, check_output_dir
    from .scenario import ScenarioError, load_scenario
    from .solve import SolverError

    try:
        sc = load_scenario(scenario)
    except ScenarioError as exc:
        fail(str(exc))
    year = int(sc.targets.year) if year is None else year
    try:
        check_year(sc, year)
    except GapInputError as exc:
        fail(f"{scenario}: target year {year} (--year or targets.year): {exc}")
    if output is None and not re.fullmatch(SAFE_NAME, sc.name):
        fail(f"{scenario}: the scenario name {sc.name[:80]!r} cannot be used as the output directory name "
             f"({SAFE_NAME_TEXT}); give -o DIR")
    directory = output if output is not None else Path("outputs") / "gap" / sc.name
    try:
        check_output_dir(directory)
        for name in ("gap.json", "gap.png"):
            from .safeio import check_output_file
            check_output_file(directory / name)
    except DestinationError as exc:
        fail(f"cannot write outputs: {exc}")
    from . import __version__
    key = analysis_key(scenario_sha256=sc.sha256, year=year, requirements=requirements, version=__version__)
    old = _earlier_key(directory / "gap.json")
    replacing = old is not None and old != key
    if replacing and not overwrite:
        fail(f"{directory} already holds a different gap analysis; choose another destination with -o DIR, or add "
             "--overwrite to replace it")
    log = logging.getLogger("simulator.gap")
    try:
        result = gap_analysis(sc, year, requirements=requirements, progress=log.info)
    except GapInputError as exc:
        fail(f"{scenario}: {exc}")
    except CalibrationError as exc:
        fail(f"{scenario}: the base year cannot be closed with these parameters: {exc}")
    except SolverError as exc:
        fail(f"{scenario}: {exc}", code=1)
    except KeyboardInterrupt:
        fail("interrupted; nothing written", code=130)
    result["analysis_key"] = key
    try:
        paths = write_gap(result, directory)
    except DestinationError as exc:
        fail(f"cannot write outputs: {exc}")
    except OSError as exc:
        fail(f"cannot write outputs to {directory}: {exc.strerror or exc}", code=1)
    except ValueError as exc:            # a non-finite number (allow_nan=False): the run went wrong
        fail(f"cannot write {directory / 'gap.json'}: {exc}; nothing written", code=1)
    except KeyboardInterrupt:
        fail(f"interrupted; earlier outputs in {directory} are untouched", code=130)
    if not quiet():
        click.echo(format_gap(result))
        click.echo(f"\nwrote {', '.join(str(p) for p in paths)}"
                   + (" (replaced a different gap analysis)" if replacing else ""))


def _earlier_key(path: Path) -> str | None:
    if not path.exists():
        return None
    try:
        return str(json.loads(path.read_text(encoding="utf-8")).get("analysis_key", ""))
    except (OSError, ValueError):
        return ""


def write_gap(result: dict, directory: Path) -> list[Path]:
    """gap.json and gap.png, written to temporary files and renamed together (all or nothing)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .atomic import replace_together, usual_mode
    from .plot.gap import gap_panels
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tmps: dict[str, Path] = {}
    try:
        for name in ("gap.json", "gap.png"):
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
            os.close(fd)
            tmps[name] = Path(tmp)
        tmps["gap.json"].write_text(json.dumps(result, indent=2, ensure_ascii=False, allow_nan=False),
                                    encoding="utf-8")
        fig = gap_panels(result)
        fig.savefig(tmps["gap.png"], dpi=110, format="png", bbox_inches="tight")
        plt.close(fig)
        for tmp in tmps.values():
            usual_mode(tmp)
        replace_together([(tmp, directory / name) for name, tmp in tmps.items()])
        return [directory / name for name in tmps]
    finally:
        for tmp in tmps.values():
            if tmp.exists():
                tmp.unlink()
