"""``sim export``: write a scenario's full model as Vensim (.mdl) or XMILE for PySD, Vensim, Stella.

Register with ``main.add_command(export_cmd)`` in simulator/cli.py.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click
from .atomic import write_text
from .cli_common import verbosity_options


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@click.command("export", help="Write the full model of a scenario (every stock, flow and auxiliary, with "
                              "units, documentation, node/age subscripts, lever time tables and the "
                              "scenario's calibrated initial values) as a Vensim .mdl or XMILE file that "
                              "PySD runs without edits (pysd.read_vensim / pysd.read_xmile).\n\n"
                              "Example: sim export scenarios/baseline.yaml --format xmile -o baseline.xmile")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["mdl", "xmile"]), default=None,
              help="Output format (default: from the -o suffix, else mdl).")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Output file (default: <scenario name>.<format>).")
@click.option("--dt", "dt", type=float, default=1 / 32, show_default=True,
              help="Fixed time step [yr] written into the file (Euler in PySD/Vensim).")
@verbosity_options
def export_cmd(scenario: Path, fmt: str | None, output: Path | None, dt: float) -> None:
    from .export import export_text
    from .model.initial import CalibrationError
    from .scenario import ScenarioError, load_scenario

    if not (0 < dt <= 1):
        _fail(f"--dt must be in (0, 1] years, got {dt}")
    if fmt is None:
        suffix = output.suffix.lower().lstrip(".") if output is not None else ""
        fmt = "xmile" if suffix in ("xmile", "xml", "stmx") else "mdl"
    try:
        sc = load_scenario(scenario)
    except ScenarioError as exc:
        _fail(str(exc))
    try:
        text = export_text(sc, fmt, dt=dt)
    except CalibrationError as exc:
        _fail(f"{scenario}: the base year cannot be closed with these parameters: {exc}")
    except ValueError as exc:
        _fail(f"{scenario}: {exc}")
    path = output if output is not None else Path(f"{sc.name}.{fmt}")
    from .safeio import DestinationError
    try:
        write_text(path, text)
    except DestinationError as exc:
        _fail(f"cannot write {exc}")
    except OSError as exc:
        _fail(f"cannot write {path}: {exc.strerror or exc}")
    click.echo(f"wrote {path} ({fmt}, dt = {dt:g} yr)")
