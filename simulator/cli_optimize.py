"""``sim optimize``: multi-objective search over policy portfolios (registered in ``cli.py``).

Exit codes as for ``sim sweep``: 0 success; 2 bad input (portfolio, sweep or scenario file, options, a
destination holding a different search); 1 failure (including an unreachable dask scheduler); 130
interrupted (earlier outputs untouched: every file is written at the end, together).
"""
from __future__ import annotations

import logging
from pathlib import Path

import click

from .cli_common import fail, guard_destination, overwrite_option, quiet, verbosity_options

log = logging.getLogger(__name__)

#: evaluation speed per worker used by --dry-run [member runs/s]: the low end of the range measured by
#: benchmarks/bench_optimize.py on a shared 2-core machine (2024→2030 forecast with the 2020–24 history)
RUNS_PER_SECOND_PER_WORKER = 25.0
#: member rows of one generation held in memory at most (inputs and outputs ≈ 1 kB per row)
MAX_ROWS_PER_GENERATION = 1_000_000
CONFIRM_SECONDS = 3600.0

OPTIMIZE_HELP = """Search policy portfolios (graduates retained, settlement conditions removed, rail
minutes and opening year, affordable housing, childcare yuan per child, project investment; in planner
units) for the best trade-offs between the probability of each 2030 target (or its expected shortfall),
the fiscal cost and the regret against the best portfolio in each future. Every candidate of a
generation is evaluated over every sampled future in one vectorized pass (candidates × futures member
rows, chunked, -j local processes or --scheduler dask). Writes outputs/optimize/<name>/ (or -o DIR):
portfolio.nc and portfolio.csv (the Pareto front: decisions and objectives), portfolio.json (objectives,
lever units, named portfolios, provenance) and two figures (parallel_coordinates.png, tradeoff.png).
Named portfolios: the cheapest reaching the GDP target with ≥ 50 % and ≥ 90 % probability, the one
closest to 1300万 residents within the fiscal room, and the most robust (smallest regret). Files are
written together at the end; Ctrl-C leaves earlier outputs untouched. See docs/optimize.md.

\b
Examples:
  sim optimize sweeps/portfolio.yaml --dry-run      # runs, memory and time estimate; nothing run
  sim optimize sweeps/portfolio.yaml --population 4 --generations 2 -n 3 -o outputs/optimize/small
  sim optimize sweeps/portfolio.yaml -j 2 --yes     # the file's 100 candidates × 100 futures × 50 generations
  sim optimize sweeps/portfolio.yaml --scheduler tcp://scheduler-host:8786
"""


def _load(path: Path, population, generations, samples, seed):
    from .optimize import load_portfolio
    from .scenario import ScenarioError
    try:
        return load_portfolio(path).with_overrides(population=population, generations=generations,
                                                   samples=samples, seed=seed)
    except ScenarioError as exc:
        fail(str(exc))


def _estimate(pf, jobs: int, scheduler, chunk_size) -> dict:
    from .ensemble.runner import BYTES_PER_MEMBER, chunk_size_for
    workers = max(2, jobs) if scheduler else jobs
    per_gen = pf.population * pf.samples
    runs = per_gen * pf.generations
    chunk = min(per_gen, chunk_size_for(per_gen, chunk_size or pf.chunk_size))
    seconds = runs / (RUNS_PER_SECOND_PER_WORKER * workers)
    return {"runs": runs, "runs_per_generation": per_gen, "chunk": chunk,
            "memory_bytes": chunk * BYTES_PER_MEMBER * min(workers, max(1, -(-per_gen // chunk))),
            "seconds": seconds, "workers": workers}


def _duration(s: float) -> str:
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.0f} min" if s < 7200 else f"{s / 3600:.1f} h"


@click.command("optimize", help=OPTIMIZE_HELP)
@click.argument("portfolio_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Destination directory (default: outputs/optimize/<portfolio name>).")
@click.option("--population", type=click.IntRange(min=2, max=100_000), default=None,
              help="Candidates per generation (overrides algorithm.population).")
@click.option("--generations", type=click.IntRange(min=1, max=100_000), default=None,
              help="Generations (overrides algorithm.generations).")
@click.option("-n", "--samples", type=click.IntRange(min=1, max=100_000), default=None,
              help="Number of futures (overrides futures.samples).")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Search seed (overrides algorithm.seed).")
@click.option("-j", "--jobs", type=click.IntRange(min=1, max=256), default=1, show_default=True,
              help="Local worker processes.")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Run the chunks on a dask.distributed scheduler, e.g. tcp://scheduler-host:8786.")
@click.option("--chunk-size", type=click.IntRange(min=1), default=None,
              help="Member rows integrated together per chunk (default: the file's, else 500, capped by memory).")
@click.option("--dry-run", is_flag=True, help="Print the size of the search and an estimate of its time; run nothing.")
@click.option("--no-figures", is_flag=True, help="Do not draw the figures.")
@click.option("--no-progress", is_flag=True, help="Do not show the progress bar.")
@click.option("--yes", "assume_yes", is_flag=True, help="Start a search estimated to take over an hour without asking.")
@overwrite_option
@verbosity_options
def optimize_cmd(portfolio_file, output, population, generations, samples, seed, jobs, scheduler, chunk_size,
                 dry_run, no_figures, no_progress, assume_yes, overwrite):
    try:
        import pymoo  # noqa: F401
    except ImportError:
        fail("sim optimize needs pymoo: pip install -e '.[optimize]'", code=1)
    pf = _load(portfolio_file, population, generations, samples, seed)
    out = Path(output) if output is not None else Path("outputs") / "optimize" / pf.name
    est = _estimate(pf, jobs, scheduler, chunk_size)
    where = f"the dask scheduler {scheduler}" if scheduler else f"{jobs} local process{'es' if jobs > 1 else ''}"
    line = (f"portfolio '{pf.name}': {len(pf.decisions)} decision variables, {pf.population} candidates × "
            f"{pf.samples} futures × {pf.generations} generations = at most {est['runs']:,} member runs "
            f"({est['runs_per_generation']:,} per generation, chunks of {est['chunk']}); memory ≈ "
            f"{est['memory_bytes'] / 2**20:,.0f} MiB; time ≈ {_duration(est['seconds'])} on {where} "
            f"(estimate at {RUNS_PER_SECOND_PER_WORKER:g} runs/s per worker, see benchmarks/bench_optimize.py)")
    if dry_run:
        click.echo(line)
        click.echo(f"destination: {out}")
        return
    if est["runs_per_generation"] > MAX_ROWS_PER_GENERATION:
        fail(f"{portfolio_file}: {est['runs_per_generation']:,} member rows per generation (population × futures) "
             f"is more than this machine's limit of {MAX_ROWS_PER_GENERATION:,}; lower --population or -n")
    if est["seconds"] > CONFIRM_SECONDS and not assume_yes:
        import sys
        question = f"{line}. Start it?"
        if not sys.stdin.isatty():
            fail(f"{line}; give --yes to start it (or lower --generations, --population or -n)")
        if not click.confirm(question, default=False, err=True):
            fail("not started", code=130)
    from .optimize.output import analysis_key
    replacing = guard_destination(out / "portfolio.nc", analysis_key(pf), overwrite, "portfolio search")
    log.info(line)
    from .ensemble import SweepInterrupted
    from .ensemble.runner import SchedulerUnreachable
    from .model.initial import CalibrationError
    from .optimize import run_portfolio
    from .optimize.output import write
    from .safeio import DestinationError
    try:
        res = run_portfolio(pf, jobs=jobs, scheduler=scheduler, progress=not no_progress and not quiet(),
                            chunk_size=chunk_size)
    except (SweepInterrupted, KeyboardInterrupt):
        fail("interrupted; nothing written, earlier outputs are untouched", code=130)
    except SchedulerUnreachable as exc:
        fail(str(exc), code=1)
    except CalibrationError as exc:
        fail(f"{portfolio_file}: the base scenario cannot be closed: {exc}")
    try:
        files = write(res, out, figures=not no_figures)
    except DestinationError as exc:
        fail(f"cannot write outputs: {exc}")
    except OSError as exc:
        fail(f"cannot write outputs: {exc.strerror or exc}", code=1)
    except KeyboardInterrupt:
        fail("interrupted; earlier outputs are untouched", code=130)
    if replacing:
        log.warning(f"replaced the earlier, different portfolio search in {out} (--overwrite)")
    if quiet():
        return
    click.echo(f"{len(res.archive['D'])} portfolios evaluated over {pf.samples} futures ({res.runs:,} runs, "
               f"{res.failures} failed, {res.seconds:.0f} s); Pareto front: {len(res.front)}")
    for key, v in res.named.items():
        click.echo(f"  {key}: {v['description']}")
    for f in files:
        click.echo(f"wrote {f}")
