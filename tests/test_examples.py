"""Every `sim …` example in `sim --help`, in each command's --help and in README.md runs and succeeds.

The examples are collected from the help texts and the README's bash blocks, then run in a scratch
directory that links scenarios/ and sweeps/ and copies calibration/ (so that `calibrate --install`
cannot touch the repository). Reductions, so that they take seconds:

* sweeps run at a small sample size (``-n``, the same per sweep file, so that the examples share
  their ensembles as a user's commands would);
* ``--scheduler ADDRESS`` points at an in-process dask cluster;
* ``sim explore`` (a server that runs until Ctrl-C) runs with ``--check``: it builds the app and runs the
  scenario once, then exits (tests/test_explore_browser.py serves it to a real browser);
* ``sim calibrate`` uses a stub fit at the prior mean (tests/test_fitting.py checks the estimator;
  the report, fitted set and destination rules are real).

Examples run in dependency order (runs and sweeps before the commands that read their outputs).
"""
from __future__ import annotations

import glob
import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator.cli import main

from .test_cli_calibrate import stub_fit

ROOT = Path(__file__).resolve().parents[1]
SMALL_N = {"uncertainty": 8, "levers": 8, "sobol": 2, "morris": 2}
ORDER = ["validate", "schema", "params", "export", "run", "sweep", "sensitivity", "targets", "calibrate", "gap",
         "rank", "optimize", "plot", "report", "explore", "--help"]
#: `sim optimize` examples run at this size (candidates, generations, futures) unless they are --dry-run
SMALL_OPTIMIZE = ["--population", "4", "--generations", "2", "-n", "3"]


def _join_continuations(lines):
    out, buf = [], ""
    for line in lines:
        if line.rstrip().endswith("\\"):
            buf += line.rstrip()[:-1] + " "
            continue
        out.append(buf + line)
        buf = ""
    return out


def _sim_lines(text: str) -> list[str]:
    """Lines of ``text`` that are `sim …` commands (continuations joined, comments dropped)."""
    found = []
    for line in _join_continuations(text.splitlines()):
        m = re.match(r"^\s*(?:Example:\s*)?(sim(?:\s.*)?)$", line)
        if m:
            found.append(shlex.split(m.group(1), comments=True))
    return found


def help_examples() -> list[list[str]]:
    from click import Context
    texts = [main.help or ""]
    for name, cmd in main.commands.items():
        texts.append(cmd.help or "")
    return [c for t in texts for c in _sim_lines(t)]


def readme_examples() -> list[list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    return [c for b in blocks for c in _sim_lines(b)]


def _reduce(argv: list[str], scheduler: str) -> list[str]:
    argv = list(argv)
    if "--scheduler" in argv:
        argv[argv.index("--scheduler") + 1] = scheduler
    if argv and argv[0] in ("sweep", "sensitivity", "targets"):
        sweep_files = [a for a in argv if a.startswith("sweeps/") and a.endswith(".yaml")]
        if sweep_files:
            n = SMALL_N[Path(sweep_files[0]).stem]
            for flag in ("-n", "--samples"):
                if flag in argv:
                    i = argv.index(flag)
                    del argv[i:i + 2]
            argv += ["-n", str(n)]
    if argv and argv[0] == "calibrate" and "--backtest" in argv and "--members" not in argv:
        argv += ["--members", "10"]
    if argv and argv[0] == "optimize" and "--dry-run" not in argv:
        for flag in ("--population", "--generations", "-n", "--samples"):
            if flag in argv:
                i = argv.index(flag)
                del argv[i:i + 2]
        argv += SMALL_OPTIMIZE
    if argv and argv[0] == "explore" and "--check" not in argv:
        argv += ["--check"]                  # a server: build it, run once, do not listen
        if "--port" in argv:                 # --check does not listen: the port changes nothing
            i = argv.index("--port")
            del argv[i:i + 2]
    expanded = []
    for a in argv:
        expanded += sorted(glob.glob(a)) if "*" in a else [a]
    return expanded


def _key(argv):
    cmd = argv[0] if argv else "--help"
    rank = ORDER.index(cmd) if cmd in ORDER else len(ORDER)
    reads_outputs = any(a.startswith("outputs/") for a in argv[1:2])
    return (rank, "--scheduler" not in argv, reads_outputs, "--install" in argv)


def all_examples():
    seen, out = set(), []
    for argv in help_examples() + readme_examples():
        argv = argv[1:]                      # drop "sim"
        key = tuple(argv)
        if key not in seen:
            seen.add(key)
            out.append(argv)
    return sorted(out, key=_key)


def test_examples_are_found():
    ex = all_examples()
    commands = {a[0] for a in ex if a}
    assert {"run", "sweep", "sensitivity", "targets", "calibrate", "gap", "plot", "report", "export", "params"} <= commands
    assert ["sensitivity", "outputs/uncertainty"] not in ex        # needs a sobol/morris design: removed
    assert len(ex) >= 30


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("examples")
    for d in ("scenarios", "sweeps"):
        (tmp / d).symlink_to(ROOT / d)
    shutil.copytree(ROOT / "calibration", tmp / "calibration", ignore=shutil.ignore_patterns("data"))
    (tmp / "calibration" / "data").symlink_to(ROOT / "calibration" / "data")
    return tmp


def test_every_example_runs(workspace, monkeypatch):
    import simulator.fitting as fitting
    from distributed import Client, LocalCluster
    monkeypatch.setattr(fitting, "fit", stub_fit)
    monkeypatch.chdir(workspace)
    repo_fitted = {p.name: p.read_bytes() for p in (ROOT / "calibration" / "fitted").iterdir()}
    failures = []
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster):
        done = set()
        for argv in all_examples():
            run_argv = _reduce(argv, cluster.scheduler_address)
            if tuple(run_argv) in done:          # two examples that reduce to the same command run once
                continue
            done.add(tuple(run_argv))
            res = CliRunner().invoke(main, run_argv or ["--help"])
            if res.exit_code != 0:
                failures.append(f"sim {shlex.join(argv)}  (ran: {shlex.join(run_argv)})\n"
                                f"  exit {res.exit_code}: {res.output[-800:]}\n  {res.exception!r}")
    assert not failures, "\n\n".join(failures)
    # the examples wrote only inside the scratch directory; the repository's fitted set is untouched
    assert {p.name: p.read_bytes() for p in (ROOT / "calibration" / "fitted").iterdir()} == repo_fitted
    assert (workspace / "outputs" / "sensitivity" / "sobol" / "sensitivity.nc").is_file()
    assert (workspace / "outputs" / "targets" / "uncertainty" / "targets.json").is_file()
    assert (workspace / "outputs" / "calibration" / "baseline" / "baseline.yaml").is_file()
