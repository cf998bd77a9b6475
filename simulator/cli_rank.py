"""``sim rank``: one lever at a time under structural uncertainty (simulator.analysis.lever_ranking)."""
from __future__ import annotations

from pathlib import Path

import click

from .cli_common import analysis_key, fail, guard_destination, overwrite_option, verbosity_options


@click.command("rank", help="""Rank the levers and policies by their effect on the target-year population and
GDP, under every structural alternative of the migration block.

\b
Each lever change (model units: hukou ease, talent and amenity bonuses, travel times, TFP growth,
investment, TFR, housing, …) and each policy (planner units: rail minutes, settlement conditions,
graduates retained, affordable units, yuan per child, project yuan) is applied alone from the start
of the forecast, under 11 structural alternatives: the income weight κ (0.05 as the 2010–24 fit,
0.85 as the 2020–24 fit, 1.5 as Tombe & Zhu 2019) × the perception delay τ_V (0.5, 4, 10 yr), and
the movers' age peak at 17 and 25 instead of 20. Prints, per lever, the median and range of Δ
population and Δ nominal GDP over the alternatives and the range of its rank (1 = largest effect):
a narrow rank range is a ranking that holds whatever the migration structure. All runs are one
vectorized solve.

\b
Writes outputs/<scenario name>/ranking.csv (one row per lever) and ranking.json (per alternative,
with provenance), or -o DIR.

\b
Examples:
  sim rank scenarios/baseline.yaml
  (--year 2035 compares 2035 instead; -o DIR writes elsewhere)
""")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--year", type=int, default=None, help="Year of the comparison (default: the target year).")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Destination directory (default: outputs/<scenario name>).")
@overwrite_option
@verbosity_options
def rank_cmd(scenario: Path, year, output, overwrite) -> None:
    import json

    from .analysis.lever_ranking import format_ranking, rank_levers
    from .atomic import write_bytes
    from .ensemble.sweep import versions
    from .fitting.report import _csv
    from .model.initial import CalibrationError
    from .safeio import DestinationError, check_output_dir, check_output_file
    from .scenario import ScenarioError, load_scenario
    from .solve import SolverError

    try:
        sc = load_scenario(scenario)
    except ScenarioError as exc:
        fail(str(exc))
    if year is not None and not sc.start < year <= sc.end:
        fail(f"--year {year}: outside the run of {scenario}; expected a year in ({sc.start:g}, {sc.end:g}]")
    out = output or Path("outputs") / sc.name
    try:
        check_output_dir(out)
        for name in ("ranking.csv", "ranking.json"):
            if (out / name).exists():
                check_output_file(out / name)
    except DestinationError as exc:
        fail(f"cannot write the ranking: {exc}")
    key = analysis_key(scenario=sc.sha256, year=year)
    replaced = guard_destination(out / "ranking.json", key, overwrite, "lever ranking")
    try:
        ranking = rank_levers(sc, year=year)
    except (ScenarioError, CalibrationError, SolverError, ValueError) as exc:
        fail(f"{scenario}: {exc}", code=1)
    rows = ranking.table()
    doc = {"scenario": {"path": str(scenario), "sha256": sc.sha256, "name": sc.name}, "year": ranking.year,
           "alternatives": ranking.alternatives, "levers": ranking.labels, "units": ranking.units,
           "delta_population": ranking.delta_population.tolist(), "delta_gdp_nominal": ranking.delta_gdp.tolist(),
           "base_population": ranking.base_population.tolist(), "base_gdp_nominal": ranking.base_gdp.tolist(),
           "table": rows, "robust_top3": {"population": ranking.robust_top(3, "population"),
                                          "gdp": ranking.robust_top(3, "gdp")},
           "versions": versions(), "analysis_key": key}
    try:
        write_bytes(out / "ranking.csv", _csv(rows))
        write_bytes(out / "ranking.json", json.dumps(doc, indent=2, ensure_ascii=False, default=float).encode())
    except OSError as exc:
        fail(f"cannot write the ranking to {out}: {exc.strerror or exc}", code=1)
    click.echo(format_ranking(ranking))
    click.echo(f"\nwrote {out / 'ranking.csv'}, {out / 'ranking.json'}"
               + ("; replaced the earlier ranking" if replaced else ""))
