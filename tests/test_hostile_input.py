"""Hostile and broken input on every command (issue 14): no traceback, no hang, nothing written where
the user did not choose, earlier outputs never lost.

Each table case asserts the exit code (2 bad input, 1 run failed, 130 interrupted), a message naming
the problem, no traceback, and that no file in the working directory was created or changed outside
the chosen destination. Cases that used to hang run in a subprocess with a timeout (a bound, not a
timing assertion). Nothing here runs a calibration: the fit is replaced by a function that fails the
test if a bad configuration were ever accepted.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.cli import main
from simulator.scenario import ScenarioError, scenario_from_dict
from simulator.scenario.errors import short_repr
from .ensemble_helpers import write_sweep

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
CALIBRATION = ROOT / "calibration" / "baseline.yaml"
SUBPROCESS_TIMEOUT = 60          # a bound for cases that used to hang, far above their normal time

BOMB = "\n".join(["name: bomb", 'a: &a ["x","x","x","x","x","x","x","x","x","x"]']
                 + [f"{c}: &{c} [{', '.join(['*' + p] * 10)}]" for p, c in zip("abcdefgh", "bcdefghi")]) + "\n"


# --- helpers ------------------------------------------------------------------------------------

def tree(root: Path) -> dict[str, str]:
    """Every regular file below root with its SHA-256 (FIFOs and devices by kind)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_file() and not p.is_symlink():
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
            else:
                out[rel] = "special"
        for d in dirnames:
            out[str((Path(dirpath) / d).relative_to(root)) + "/"] = "dir"
    return out


class Bound(Exception):
    """Raised by SIGALRM: the command ran past its bound (a hang)."""


def _alarm(signum, frame):
    raise Bound(f"still running after {IN_PROCESS_BOUND} s")


IN_PROCESS_BOUND = 30


def invoke(args, cwd: Path, input: str | None = None):
    """Run ``sim ARGS`` in-process in ``cwd`` (bounded by SIGALRM); return (exit code, output)."""
    old = os.getcwd()
    os.chdir(cwd)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(IN_PROCESS_BOUND)
    try:
        res = CliRunner().invoke(main, [str(a) for a in args], input=input)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        os.chdir(old)
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        import traceback
        pytest.fail("uncaught exception: " + "".join(traceback.format_exception(res.exception))[-3000:])
    return res.exit_code, res.output


def sim_subprocess(args, cwd: Path, timeout: float = SUBPROCESS_TIMEOUT, **kw):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "simulator.cli", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, **kw)


def write(tmp: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        p = tmp / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")


def assert_clean_failure(code, output, expected_code, fragment, before, after):
    assert code == expected_code, output
    assert "Traceback" not in output
    assert fragment in output, output
    assert after == before, f"files changed: {set(after.items()) ^ set(before.items())}"


@pytest.fixture(autouse=True)
def _no_calibration(monkeypatch):
    """A configuration that passes validation would start a long fit: fail the test instead."""
    import simulator.fitting as fitting

    def refuse(*a, **k):
        raise AssertionError("a calibration was started: the bad configuration was accepted")
    monkeypatch.setattr(fitting, "fit", refuse)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory, baseline_ds):
    """A run's output directory (results.nc, results.csv, summary.json) from the session baseline."""
    from simulator.results import write_outputs
    d = tmp_path_factory.mktemp("base")
    write_outputs(baseline_ds, d)
    return d


@pytest.fixture(scope="module")
def small_ensemble(tmp_path_factory):
    """A finished 4-member sweep (chunks kept): (sweep file, output directory)."""
    from simulator.ensemble import load_sweep, run_sweep
    tmp = tmp_path_factory.mktemp("ens")
    path = write_sweep(tmp, design={"method": "lhs", "samples": 4, "seed": 1}, chunk_size=2)
    out = tmp / "out"
    run_sweep(load_sweep(path), out, keep_chunks=True)
    return path, out


# --- 1. hangs: bounded loader, non-regular files, budgets ----------------------------------------

SCEN = "name: x\nextends: {parent}\n"
SWEEP_OF = "name: s\nscenario: {scenario}\nparameters:\n  income_weight: {{distribution: uniform, lower: 1, upper: 2}}\n"

HANG_CASES = [
    # id, files, args, expected code, fragment
    ("bomb-scenario-run", {"b.yaml": BOMB}, ["run", "b.yaml"], 2, "alias"),
    ("bomb-scenario-validate", {"b.yaml": BOMB}, ["validate", "b.yaml"], 2, "alias"),
    ("bomb-parent", {"b.yaml": BOMB, "c.yaml": SCEN.format(parent="b.yaml")}, ["run", "c.yaml"], 2, "alias"),
    ("bomb-sweep", {"s.yaml": BOMB}, ["sweep", "s.yaml"], 2, "alias"),
    ("bomb-sensitivity", {"s.yaml": BOMB}, ["sensitivity", "s.yaml"], 2, "alias"),
    ("bomb-calibration", {"k.yaml": BOMB}, ["calibrate", "k.yaml"], 2, "alias"),
    ("dev-zero-scenario", {}, ["run", "/dev/zero"], 2, "not a regular file"),
    ("dev-urandom-scenario", {}, ["validate", "/dev/urandom"], 2, "not a regular file"),
    ("dev-zero-extends", {"c.yaml": SCEN.format(parent="/dev/zero")}, ["run", "c.yaml"], 2, "not a regular file"),
    ("dev-zero-sweep", {}, ["sweep", "/dev/zero"], 2, "not a regular file"),
    ("dev-zero-calibration", {}, ["calibrate", "/dev/zero"], 2, "not a regular file"),
    ("fifo-scenario", {}, ["run", "fifo.yaml"], 2, "FIFO"),
    ("fifo-extends", {"c.yaml": SCEN.format(parent="fifo.yaml")}, ["validate", "c.yaml"], 2, "FIFO"),
    ("fifo-sweep", {}, ["sweep", "fifo.yaml"], 2, "FIFO"),
    ("fifo-calibration", {}, ["calibrate", "fifo.yaml"], 2, "FIFO"),
    ("fifo-sweep-scenario", {"s.yaml": SWEEP_OF.format(scenario="fifo.yaml")}, ["sweep", "s.yaml"], 2, "FIFO"),
    ("huge-file", {"big.yaml": "name: x\n" + "# padding\n" * 200_000}, ["run", "big.yaml"], 2, "too large"),
    ("output-shock-0", {"z.yaml": "name: z\nlevers: {output_shock: 0}\n"}, ["run", "z.yaml"], 2, "output_shock"),
    ("output-shock-step-0", {"z.yaml": "name: z\nlevers: {output_shock: {step: [[2030, 0]]}}\n"},
     ["run", "z.yaml"], 2, "output_shock"),
    ("knots-100000", {"k.yaml": "name: k\nlevers:\n  tfp_growth: {table: ["
                      + ",".join(f"[{2024 + i * 1e-4:.4f}, 0.02]" for i in range(100_000)) + "]}\n"},
     ["validate", "k.yaml"], 2, "k.yaml"),
    ("knots-1001", {"k.yaml": "name: k\nlevers:\n  tfp_growth: {table: ["
                    + ",".join(f"[{2024 + i * 0.01:.2f}, 0.02]" for i in range(1001)) + "]}\n"},
     ["run", "k.yaml"], 2, "at most 1000 knots"),
    ("knots-total", {"k.yaml": "name: k\nlevers:\n  tfp_growth: {"
                     + ", ".join(f"{n}: {{table: [" + ",".join(f"[{2024 + i * 0.01 + j * 0.001:.3f}, 0.02]"
                                                            for i in range(200)) + "]}"
                                 for j, n in enumerate(["CC_P", "CC_R", "JL_P", "JL_R", "SP_P", "SP_R"])) + "}\n"},
     ["run", "k.yaml"], 2, "distinct lever knot times"),
    ("output-step-tiny", {"t.yaml": "name: t\ntime: {start: 2024, end: 2035, output_step: 0.0001}\n"},
     ["run", "t.yaml"], 2, "at most 2000 outputs"),
    ("sweep-n-huge", {"s.yaml": SWEEP_OF.format(scenario=BASELINE)}, ["sweep", "s.yaml", "-n", "99999999999"],
     2, "--samples"),
    ("sweep-samples-max", {"s.yaml": SWEEP_OF.format(scenario=BASELINE) + "design: {samples: 10000000}\n"},
     ["sweep", "s.yaml"], 2, "--yes"),
    ("sweep-grid-too-large", {"s.yaml": "name: g\nscenario: " + str(BASELINE) + "\ndesign: {method: grid, levels: 1000}\n"
                              "parameters:\n" + "".join(f"  {p}: {{distribution: uniform, lower: 0.5, upper: 1}}\n"
                                                        for p in ("income_weight", "mortality_scale"))
                              + "levers:\n" + "".join(f"  {l}: {{distribution: uniform, lower: 0, upper: 0.1}}\n"
                                                      for l in ("tfp_growth", "metro_integration", "national_income_growth",
                                                                "rural_income_growth"))},
     ["sweep", "s.yaml"], 2, "too large"),
    ("sweep-output-shock-grid-0", {"s.yaml": "name: g\nscenario: " + str(BASELINE) + "\ndesign: {method: grid}\n"
                                   "levers:\n  output_shock: {distribution: choice, values: [0, 1]}\n"},
     ["sweep", "s.yaml"], 2, "output_shock"),
]


#: also run end to end in a subprocess (the rest in-process under SIGALRM, which is faster)
SUBPROCESS_CASES = {"bomb-scenario-run", "fifo-scenario", "output-shock-step-0", "sweep-samples-max"}


@pytest.mark.parametrize("case", HANG_CASES, ids=[c[0] for c in HANG_CASES])
def test_cases_that_used_to_hang_end_quickly(tmp_path, case):
    case_id, files, args, code, fragment = case
    write(tmp_path, files)
    if "fifo.yaml" in args or any("fifo.yaml" in str(v) for v in files.values()):
        os.mkfifo(tmp_path / "fifo.yaml")
    before = tree(tmp_path)
    if case_id in SUBPROCESS_CASES:
        proc = sim_subprocess(args, tmp_path)
        got, output = proc.returncode, proc.stdout + proc.stderr
    else:
        got, output = invoke(args, tmp_path)
    assert_clean_failure(got, output, code, fragment, before, tree(tmp_path))
    assert len(output) < 5000          # every message bounded


def test_non_finite_rhs_stops_the_integration_at_once(baseline_scenario, monkeypatch):
    """A NaN right-hand side (here forced, through the scipy engine's Python wrapper) ends with SolverError,
    not an endless step loop (the compiled engine: tests/test_compiled_core.py)."""
    from simulator import api
    monkeypatch.setattr("simulator.solve.DEFAULT_ENGINE", "scipy")
    from simulator.model.rhs import Model
    from simulator.solve import SolverError
    original = Model.derivatives

    def poisoned(self, t, y, lev, **kw):
        out = original(self, t, y, lev, **kw)
        if t > 2026 and not kw:
            return out * np.nan
        return out
    Model.derivatives = poisoned
    try:
        with pytest.raises(SolverError, match="non-finite"):
            api.run(baseline_scenario)
    finally:
        Model.derivatives = original


def test_rhs_budget_and_time_limit(baseline_scenario):
    from simulator import api
    from simulator.solve import SolverError
    with pytest.raises(SolverError, match="right-hand-side evaluations"):
        api.run(baseline_scenario, max_rhs_evaluations=5)
    with pytest.raises(SolverError, match="time limit"):
        api.run(baseline_scenario, time_limit=1e-9)


def test_guarded_run_gives_identical_results(baseline_scenario, baseline_ds):
    from simulator.results import to_dataset
    from simulator.solve import simulate
    plain = to_dataset(simulate(baseline_scenario))
    assert np.array_equal(plain.metro_population.values, baseline_ds.metro_population.values)
    assert json.loads(baseline_ds.attrs["solver"])["method"] == "RK45"


# --- YAML: duplicates, recursion, bounded messages --------------------------------------------------

YAML_CASES = [
    ("dup-top", "name: d\nlevers: {tfr: 1}\nlevers: {tfr: 2}\n", "duplicate key 'levers'", "line 3"),
    ("dup-nested", "name: d\nparameters:\n  income_weight: 1\n  income_weight: 2\n", "duplicate key", "line 4"),
    ("dup-flow", "name: d\nlevers: {tfr: {CC_P: 1, CC_P: 2}}\n", "duplicate key 'CC_P'", "line 2"),
    ("recursive", "name: r\nx: &a [1, *a]\n", "recursive alias", "line 2"),
    ("nul-name", 'name: "a\\x00b"\n', "name", "not starting with"),
    ("target-year-fraction", "name: t\ntargets: {year: 2025.5}\n", "targets.year", "whole year"),
    ("non-utf8", b"name: \xff\xfe\n", "UTF-8", "x.yaml"),
]


@pytest.mark.parametrize("case", YAML_CASES, ids=[c[0] for c in YAML_CASES])
def test_validate_rejects(tmp_path, case):
    _, text, frag1, frag2 = case
    write(tmp_path, {"x.yaml": text})
    before = tree(tmp_path)
    code, out = invoke(["validate", "x.yaml"], tmp_path)
    assert_clean_failure(code, out, 2, frag1, before, tree(tmp_path))
    assert frag2 in out


@pytest.mark.parametrize("where", ["sweep", "calibration"])
def test_duplicate_keys_in_sweep_and_calibration_files(tmp_path, where):
    text = ("name: s\nscenario: x.yaml\nscenario: y.yaml\n" if where == "sweep"
            else "name: c\nname: d\nscenario: x.yaml\nfree: []\n")
    write(tmp_path, {"f.yaml": text})
    before = tree(tmp_path)
    code, out = invoke(["sweep" if where == "sweep" else "calibrate", "f.yaml"], tmp_path)
    assert_clean_failure(code, out, 2, "duplicate key", before, tree(tmp_path))


def test_many_unknown_keys_report_quickly(tmp_path):
    """20,000 unknown keys: one clear error at once; 300 (a mapping may have up to 1,000): 100 shown."""
    write(tmp_path, {"x.yaml": "name: x\nparameters:\n" + "".join(f"  zz_unknown_{i}: 1\n" for i in range(20_000)),
                     "y.yaml": "name: y\nparameters:\n" + "".join(f"  zz_unknown_{i}: 1\n" for i in range(300))})
    code, out = invoke(["validate", "x.yaml"], tmp_path)
    assert code == 2 and "20,000 keys" in out
    code, out = invoke(["validate", "y.yaml"], tmp_path)
    assert code == 2 and "zz_unknown_0" in out and "and 200 more problems" in out and len(out) < 30_000


values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=200),
                      lambda children: st.lists(children, max_size=30) | st.dictionaries(st.text(max_size=20), children,
                                                                                           max_size=30),
                      max_leaves=60)


@settings(max_examples=30, deadline=None)
@given(values)
def test_short_repr_is_bounded(value):
    assert len(short_repr(value)) <= 80


def test_short_repr_of_self_referencing_and_huge_values():
    a: list = [1]
    a.append(a)
    assert len(short_repr(a)) <= 80
    big = [[list(range(1000))] * 1000] * 1000        # a billion elements by reference
    assert len(short_repr(big)) <= 80


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(st.sampled_from(["name", "time", "levers", "parameters", "targets", "solver", "model",
                                        "zzz"]), values, max_size=5))
def test_any_plain_data_is_a_scenario_or_a_scenario_error(data):
    try:
        scenario_from_dict(data)
    except ScenarioError as exc:
        assert len(str(exc)) < 400 * max(1, len(exc.problems))


# --- 2. security: names, destinations, output sets ----------------------------------------------

NAME_CASES = [
    ("run-dotdot", {"x.yaml": "name: ../../o/x\n"}, ["run", "x.yaml"], "name"),
    ("run-absolute", {"x.yaml": "name: {tmp}/evil\n"}, ["run", "x.yaml"], "name"),
    ("run-dot", {"x.yaml": "name: ..\n"}, ["run", "x.yaml"], "name"),
    ("export-dotdot", {"x.yaml": "name: ../x\n"}, ["export", "x.yaml"], "name"),
    ("sweep-dotdot", {"s.yaml": "name: ..\nscenario: " + str(BASELINE)
                      + "\nparameters: {income_weight: {distribution: uniform, lower: 1, upper: 2}}\n"},
     ["sweep", "s.yaml"], "name"),
    ("calibrate-dotdot", {"k.yaml": "name: ../../x\nscenario: " + str(ROOT / "scenarios" / "history_2020.yaml")
                          + "\nfree: []\n"}, ["calibrate", "k.yaml"], "name"),
]


@pytest.mark.parametrize("case", NAME_CASES, ids=[c[0] for c in NAME_CASES])
def test_names_never_escape_the_output_directory(tmp_path, case):
    _, files, args, fragment = case
    work = tmp_path / "a" / "b"
    write(work, {k: v.replace("{tmp}", str(tmp_path)) for k, v in files.items()})
    before = tree(tmp_path)
    code, out = invoke(args, work)
    assert_clean_failure(code, out, 2, fragment, before, tree(tmp_path))
    assert not (tmp_path / "evil").exists()


def test_run_refuses_a_file_stem_that_is_not_a_safe_name_without_o(tmp_path):
    write(tmp_path, {"my scenario.yaml": "time: {start: 2024, end: 2026}\n"})
    before = tree(tmp_path)
    code, out = invoke(["run", "my scenario.yaml"], tmp_path)
    assert_clean_failure(code, out, 2, "-o DIR", before, tree(tmp_path))


def _dest_cases(outputs):
    res = outputs / "results.nc"
    return [
        ("schema", ["schema", "-o", "{dest}"]),
        ("export", ["export", BASELINE, "-o", "{dest}"]),
        ("plot", ["plot", res, "-o", "{dest}"]),
        ("report", ["report", outputs, "-o", "{dest}"]),
        ("calibrate-f", ["calibrate", CALIBRATION, "-f", "{dest}"]),
        ("calibrate-o", ["calibrate", CALIBRATION, "-o", "{dest}"]),
        ("run-o", ["run", BASELINE, "-o", "{dest}"]),
    ]


FILE_DESTS = ["schema", "export", "plot", "report", "calibrate-f"]
DIR_DESTS = ["calibrate-o", "run-o"]
DEST_CASES = ([(c, k) for c in FILE_DESTS + DIR_DESTS for k in ("fifo", "nul")]
              + [(c, "dir-for-file") for c in FILE_DESTS] + [(c, "file-for-dir") for c in DIR_DESTS])


@pytest.mark.parametrize("command, kind", DEST_CASES, ids=[f"{k}-{c}" for c, k in DEST_CASES])
def test_destinations_that_are_not_regular_files_are_refused(tmp_path, outputs, command, kind):
    args = dict(_dest_cases(outputs))[command]
    if kind == "fifo":
        dest = tmp_path / "dest"
        os.mkfifo(dest)
    elif kind == "dir-for-file":
        dest = tmp_path / "dest.png"
        dest.mkdir()
    elif kind == "file-for-dir":
        dest = tmp_path / "dest"
        dest.write_text("keep me")
    else:
        dest = "a\x00b.png"
    before = tree(tmp_path)
    before_outputs = tree(outputs)
    code, out = invoke([str(a).replace("{dest}", str(dest)) for a in args], tmp_path)
    assert code == 2, out
    assert "Traceback" not in out and "error" in out.lower()
    assert tree(tmp_path) == before and tree(outputs) == before_outputs


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
@pytest.mark.parametrize("command", ["schema", "export", "plot", "calibrate-f", "run-o"])
def test_read_only_destination_directory(tmp_path, outputs, command):
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o555)
    try:
        args = dict(_dest_cases(outputs))[command]
        code, out = invoke([str(a).replace("{dest}", str(ro / "x.png")) for a in args], tmp_path)
        assert code == 2 and "not writable" in out and not any(ro.iterdir())
    finally:
        os.chmod(ro, 0o755)


def test_write_outputs_changes_all_files_or_none(outputs, baseline_ds, tmp_path, monkeypatch):
    """The third rename fails: results.nc and results.csv are still the earlier run's."""
    from simulator import atomic, results
    target = tmp_path / "o"
    target.mkdir()
    for f in outputs.iterdir():
        (target / f.name).write_bytes(f.read_bytes() + b"" if f.suffix != ".json" else b'{"old": 1}')
    before = tree(target)
    real = os.replace
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(src, dst)
    monkeypatch.setattr(atomic.os, "replace", flaky)
    with pytest.raises(OSError):
        results.write_outputs(baseline_ds, target)
    monkeypatch.setattr(atomic.os, "replace", real)
    assert tree(target) == before          # restored, and no temporary or backup file left


def test_write_outputs_gives_the_usual_file_mode(outputs):
    umask = os.umask(0)
    os.umask(umask)
    for f in outputs.iterdir():
        assert (f.stat().st_mode & 0o777) == (0o666 & ~umask), f


# --- 3. tracebacks --------------------------------------------------------------------------------

HISTORY_2020 = ROOT / "scenarios" / "history_2020.yaml"


def calibration_text(**changes) -> str:
    doc = yaml.safe_load(CALIBRATION.read_text(encoding="utf-8"))
    doc["scenario"] = str(ROOT / "calibration" / doc["scenario"])
    for key, value in changes.items():
        if key.startswith("free0_"):
            doc["free"][0][key[6:]] = value
        else:
            doc[key] = value
    return yaml.safe_dump(doc, sort_keys=False)


CALIBRATE_CASES = [
    ("non-utf8", b"name: \xff\n", [], "UTF-8"),
    ("deep-nesting", "x: " + "[" * 100_000 + "]" * 100_000 + "\n", [], "YAML"),
    ("starts-2024", calibration_text(scenario=str(BASELINE)), [], "census year"),
    ("bounds-inf", calibration_text(free0_bounds=[0.02, float("inf")]), [], "non-finite bound"),
    ("bounds-beyond-parameter", None, [], "own bounds"),
    ("bounds-beyond-lever-scale", calibration_text(free0_bounds=[0.5, 100.0]), [], "outside its own bounds"),
    ("starts-negative", calibration_text(), ["--starts", "-3"], "--starts"),
    ("until-before-start", calibration_text(), ["--until", "2015"], "--until 2015"),
    ("misspelt-series", None, [], "did you mean 'city_population'"),
    ("unknown-weight", calibration_text(weights={"city_populaton": 2.0}), [], "did you mean 'city_population'"),
    ("unknown-key", calibration_text(stagez=[]), [], "stagez"),
    ("top-level-list", "- 1\n- 2\n", [], "mapping"),
    ("empty", "", [], "empty"),
]


def _calibrate_file(case_id, text):
    if case_id == "bounds-beyond-parameter":
        doc = yaml.safe_load(calibration_text())
        i = next(i for i, f in enumerate(doc["free"]) if f.get("parameter") == "income_weight")
        doc["free"][i]["bounds"] = [-5.0, 50.0]
        doc["starts"] = 4
        return yaml.safe_dump(doc, sort_keys=False)
    if case_id == "misspelt-series":
        doc = yaml.safe_load(calibration_text())
        doc["stages"][2]["series"][0] = "city_populaton"
        return yaml.safe_dump(doc, sort_keys=False)
    return text


@pytest.mark.parametrize("case", CALIBRATE_CASES, ids=[c[0] for c in CALIBRATE_CASES])
def test_calibrate_bad_config(tmp_path, case):
    case_id, text, extra, fragment = case
    write(tmp_path, {"k.yaml": _calibrate_file(case_id, text)})
    before = tree(tmp_path)
    code, out = invoke(["calibrate", "k.yaml", *extra], tmp_path)
    assert_clean_failure(code, out, 2, fragment, before, tree(tmp_path))


def test_shipped_calibration_configs_still_load():
    from simulator.fitting import load_config
    for name in ("baseline.yaml", "history_2010.yaml"):
        cfg, scenario = load_config(ROOT / "calibration" / name)
        assert cfg.free and scenario.start in (2010, 2020)


@pytest.mark.parametrize("dpi", ["0", "-5", "20000", "abc"])
def test_plot_dpi_bounds(tmp_path, outputs, dpi):
    before = tree(tmp_path)
    code, out = invoke(["plot", outputs / "results.nc", "--dpi", dpi, "-o", "f.png"], tmp_path)
    assert_clean_failure(code, out, 2, "--dpi", before, tree(tmp_path))


def _report_dir(tmp_path, outputs, summary=None, results_from=None):
    d = tmp_path / "rep"
    d.mkdir()
    (d / "results.nc").write_bytes((results_from or outputs / "results.nc").read_bytes())
    if summary is not None:
        (d / "summary.json").write_text(summary)
    return d


REPORT_CASES = [
    ("years-empty", lambda s: json.dumps({**s, "years": []}), None, [], "summary"),
    ("summary-not-json", lambda s: "{not json", None, [], "summary.json"),
    ("summary-list", lambda s: "[1, 2]", None, [], "summary"),
    ("ensemble-as-results", None, "ensemble", [], "not the results.nc"),
    ("sensitivity-ensemble", None, None, ["--sensitivity", "{ens}"], "not a sensitivity.nc"),
    ("ensemble-results", None, None, ["--ensemble", "{res}"], "not an ensemble.nc"),
    ("compare-ensemble", None, None, ["--compare", "{ens}"], "not the results.nc"),
]


@pytest.mark.parametrize("case", REPORT_CASES, ids=[c[0] for c in REPORT_CASES])
def test_report_bad_inputs(tmp_path, outputs, small_ensemble, case):
    _, summary_fn, results_from, extra, fragment = case
    ens = small_ensemble[1] / "ensemble.nc"
    base_summary = json.loads((outputs / "summary.json").read_text())
    d = _report_dir(tmp_path, outputs, summary_fn(base_summary) if summary_fn else None,
                    ens if results_from == "ensemble" else None)
    extra = [a.replace("{ens}", str(ens)).replace("{res}", str(outputs / "results.nc")) for a in extra]
    before = tree(tmp_path)
    code, out = invoke(["report", d, "-o", tmp_path / "r.html", *extra], tmp_path)
    assert_clean_failure(code, out, 2, fragment, before, tree(tmp_path))


def test_targets_with_a_results_file_as_levers(tmp_path, outputs, small_ensemble):
    ens_dir = small_ensemble[1]
    before = tree(ens_dir)
    code, out = invoke(["targets", ens_dir / "ensemble.nc", "--levers", outputs / "results.nc"], tmp_path)
    assert code == 2 and "not an ensemble" in out and "Traceback" not in out
    assert tree(ens_dir) == before


@pytest.mark.parametrize("command", ["targets", "sensitivity"])
def test_ensemble_commands_refuse_a_results_file(tmp_path, outputs, command):
    code, out = invoke([command, outputs / "results.nc"], tmp_path)
    assert code == 2 and "not an ensemble" in out


def test_targets_refuses_a_non_regular_targets_json_before_work(tmp_path, small_ensemble):
    d = tmp_path / "e"
    d.mkdir()
    (d / "ensemble.nc").write_bytes((small_ensemble[1] / "ensemble.nc").read_bytes())
    dest = tmp_path / "t"
    dest.mkdir()
    os.mkfifo(dest / "targets.json")          # targets writes to its own destination (-o), not next to the ensemble
    code, out = invoke(["targets", d / "ensemble.nc", "--no-goal-seek", "-o", dest], tmp_path)
    assert code == 2 and "FIFO" in out


def test_resume_over_a_truncated_chunk_discards_and_reruns_it(small_ensemble):
    import xarray as xr

    from simulator.ensemble import load_sweep, run_sweep
    path, out = small_ensemble
    with xr.open_dataset(out / "ensemble.nc") as ds:
        reference = ds.metro_population.values.copy()
    work = out.parent / "resume"
    chunks = next((out / "chunks").iterdir())
    (work / "chunks" / chunks.name).mkdir(parents=True)
    for f in chunks.iterdir():
        (work / "chunks" / chunks.name / f.name).write_bytes(f.read_bytes())
    victim = sorted((work / "chunks" / chunks.name).glob("chunk_*.npz"))[0]
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    res = run_sweep(load_sweep(path), work)
    assert res.chunks_run == 1 and res.chunks_resumed == 1
    assert np.array_equal(res.dataset.metro_population.values, reference)


# --- 4. wrong results without an error -------------------------------------------------------------

SWEEP_BOUND_CASES = [
    ("normal-tails", {"parameters": {"income_weight": {"distribution": "normal", "mean": 2.5, "sd": 50}}},
     "draws outside the bounds"),
    ("normal-mean", {"parameters": {"income_weight": {"distribution": "normal", "mean": -1, "sd": 0.1}}},
     "out of bounds"),
    ("scale-tfr", {"levers": {"tfr": {"distribution": "uniform", "lower": 10, "upper": 100, "apply": "scale"}}},
     "apply: scale"),
    ("add-parameter", {"parameters": {"income_weight": {"distribution": "uniform", "lower": 0, "upper": 10,
                                                         "apply": "add"}}}, "apply: add"),
    ("uniform-beyond", {"levers": {"output_shock": {"distribution": "uniform", "lower": 0, "upper": 1}}},
     "out of bounds"),
    ("choice-zero", {"levers": {"output_shock": {"distribution": "choice", "values": [0, 1]}}}, "out of bounds"),
]


@pytest.mark.parametrize("case", SWEEP_BOUND_CASES, ids=[c[0] for c in SWEEP_BOUND_CASES])
def test_sweep_samples_are_checked_against_bounds(tmp_path, case):
    _, section, fragment = case
    path = write_sweep(tmp_path, parameters=section.get("parameters", {}), levers=section.get("levers", {}))
    before = tree(tmp_path)
    code, out = invoke(["sweep", path], tmp_path)
    assert_clean_failure(code, out, 2, fragment, before, tree(tmp_path))


def test_params_sector_nonsense(tmp_path):
    code, out = invoke(["params", "--sector", "demograpy"], tmp_path)
    assert code == 2 and "did you mean 'demography'" in out
    code, out = invoke(["params", "--sector", "housing"], tmp_path)
    assert code == 0 and "PARAMETERS" in out and len(out.splitlines()) > 3


# --- interruption and processes ------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, timeout=10).stdout
    except (FileNotFoundError, subprocess.TimeoutExpired):  # pragma: no cover
        pytest.skip("pgrep not available")
    return [int(x) for x in out.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:   # a zombie is dead for our purpose
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _as_from_a_terminal() -> None:
    """In the child before exec: Ctrl-C delivered and handled by default, whatever the test process inherited
    (an ignored or blocked signal stays so across exec; under pytest-xdist the SIGINT test once timed out)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])


def _signal_state(pid: int) -> str:
    try:
        return " ".join(line.strip() for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                        if line.startswith(("SigBlk", "SigIgn", "SigCgt", "State")))
    except OSError:
        return "no /proc status"


def _start_long_sweep(tmp_path, baseline_traj):
    # baseline_traj: the compiled core is in the disk cache before the subprocess starts, so that its
    # workers do not spend the SUBPROCESS_TIMEOUT compiling it (a cold cache on a clean CI checkout)
    path = write_sweep(tmp_path, design={"method": "lhs", "samples": 4000, "seed": 2}, chunk_size=10)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "simulator.cli", "sweep", str(path), "-j", "2", "--no-progress",
                             "-o", str(tmp_path / "out")], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
                            preexec_fn=_as_from_a_terminal)
    deadline = time.monotonic() + SUBPROCESS_TIMEOUT
    workers: list[int] = []
    while time.monotonic() < deadline and proc.poll() is None:
        workers = [w for w in _children(proc.pid)]
        if len(workers) >= 2 and list((tmp_path / "out").glob("chunks/*/chunk_*.npz")):
            break
        time.sleep(0.2)
    assert proc.poll() is None, proc.communicate()
    return proc, workers


def test_sweep_j2_sigint_exits_130_and_leaves_no_workers(tmp_path, baseline_traj):
    proc, workers = _start_long_sweep(tmp_path, baseline_traj)
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=SUBPROCESS_TIMEOUT)
    except subprocess.TimeoutExpired:
        state = _signal_state(proc.pid)
        proc.kill()
        pytest.fail(f"sim sweep did not stop within {SUBPROCESS_TIMEOUT} s of SIGINT; its signal state: {state}")
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    deadline = time.monotonic() + 20
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers)
    assert list((tmp_path / "out").glob("chunks/*/chunk_*.npz"))       # finished chunks kept


def test_sweep_j2_workers_die_with_a_killed_parent(tmp_path, baseline_traj):
    proc, workers = _start_long_sweep(tmp_path, baseline_traj)
    proc.kill()
    proc.communicate(timeout=SUBPROCESS_TIMEOUT)
    deadline = time.monotonic() + 20
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert workers and not any(_alive(w) for w in workers)


def test_exit_codes_are_documented():
    help_text = CliRunner().invoke(main, ["--help"]).output
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for text in (help_text, readme):
        for code in ("130", "interrupted", "bad input"):
            assert code in text


def test_unreachable_scheduler_is_reported_as_such_and_leaves_nothing(tmp_path, monkeypatch):
    import distributed

    class Unreachable:
        def __init__(self, *a, **k):
            raise OSError("Timed out trying to connect to tcp://127.0.0.1:1 after 0.5 s")
    monkeypatch.setattr(distributed, "Client", Unreachable)
    path = write_sweep(tmp_path, design={"method": "lhs", "samples": 4, "seed": 1}, chunk_size=2)
    before = tree(tmp_path)
    code, out = invoke(["sweep", path, "--scheduler", "tcp://127.0.0.1:1", "--no-progress"], tmp_path)
    assert_clean_failure(code, out, 1, "the dask scheduler", before, tree(tmp_path))
    assert "cannot write" not in out


def test_disk_full_mid_sweep_is_a_clean_error_and_keeps_finished_chunks(tmp_path, monkeypatch):
    from simulator.ensemble import store
    real = store.ChunkStore.write
    calls = []

    def fill_up(self, res):
        calls.append(res.index)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(self, res)
    monkeypatch.setattr(store.ChunkStore, "write", fill_up)
    path = write_sweep(tmp_path, design={"method": "lhs", "samples": 4, "seed": 1}, chunk_size=2)
    code, out = invoke(["sweep", path, "--no-progress", "-o", tmp_path / "o"], tmp_path)
    assert code == 1 and "No space left on device" in out and "Traceback" not in out
    assert len(list((tmp_path / "o").glob("chunks/*/chunk_*.npz"))) == 1      # the finished chunk is kept
    assert not list((tmp_path / "o").rglob(".*.tmp")) and not (tmp_path / "o" / "ensemble.nc").exists()


def test_plot_comparison_names_the_file_that_lacks_the_variable(tmp_path, outputs, small_ensemble):
    import xarray as xr
    other = tmp_path / "other.nc"
    with xr.open_dataset(outputs / "results.nc") as ds:
        ds.drop_vars("metro_gdp_real").to_netcdf(other)
    code, out = invoke(["plot", outputs / "results.nc", other, "--kind", "comparison", "--variable", "metro_gdp_real",
                        "-o", tmp_path / "c.png"], tmp_path)
    assert code == 2 and f"not in {other}" in out and not (tmp_path / "c.png").exists()


yaml_fragments = st.lists(st.sampled_from(["name: x\n", "a: &a [1, 2]\n", "b: [*a, *a]\n", "c: *a\n", "{", "}", "[",
                                           "]", "- ", "levers:\n", "  tfr: ", "1e3", ".inf", "!!python/object:os.system",
                                           "\x00", "\t", "? ", ": ", "&x ", "*x ", "<<: *a\n", "'", '"', "\n"]),
                          max_size=40).map("".join)


@settings(max_examples=200, deadline=None)
@given(yaml_fragments)
def test_yaml_reader_returns_a_mapping_or_a_scenario_error(text):
    from simulator.scenario.loader import _parse_yaml
    try:
        data = _parse_yaml(text, "f.yaml")
    except ScenarioError as exc:
        assert str(exc).startswith("f.yaml") and len(str(exc)) < 1000
    else:
        assert isinstance(data, dict)


def test_failed_runs_leave_earlier_outputs_byte_identical(tmp_path, outputs, monkeypatch):
    target = tmp_path / "o"
    target.mkdir()
    for f in outputs.iterdir():
        (target / f.name).write_bytes(f.read_bytes())
    before = tree(tmp_path)
    write(tmp_path, {"bad.yaml": "name: bad\nlevers: {hukou_eese: 1}\n"})
    code, out = invoke(["run", "bad.yaml", "-o", target], tmp_path)
    assert code == 2 and "did you mean 'hukou_ease'" in out
    (tmp_path / "bad.yaml").unlink()
    assert tree(tmp_path) == before

    def disk_full(*a, **k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr("simulator.atomic.to_netcdf", disk_full)
    code, out = invoke(["run", BASELINE, "-o", target, "--quiet", "--overwrite"], tmp_path)
    assert code == 1 and "No space left on device" in out and "Traceback" not in out
    assert tree(tmp_path) == before


def test_report_read_error_is_not_called_a_write_error(tmp_path, outputs):
    bad = tmp_path / "other"
    bad.mkdir()
    (bad / "results.nc").write_bytes(b"CDF\x01 truncated")
    code, out = invoke(["report", outputs, "--compare", bad, "-o", tmp_path / "r.html"], tmp_path)
    assert code == 2 and "cannot read" in out and "cannot write" not in out
    assert not (tmp_path / "r.html").exists()


def test_ctrl_c_anywhere_exits_130(tmp_path, monkeypatch):
    import simulator.scenario as scenario_pkg

    def interrupted():
        raise KeyboardInterrupt
    monkeypatch.setattr(scenario_pkg, "json_schema", interrupted)
    code, out = invoke(["schema", "-o", tmp_path / "s.json"], tmp_path)
    assert code == 130 and "interrupted" in out and not (tmp_path / "s.json").exists()


def test_simulate_many_is_guarded(baseline_scenario, monkeypatch):
    from simulator import simulate_many
    monkeypatch.setattr("simulator.solve.DEFAULT_ENGINE", "scipy")
    from simulator.model.rhs import Model
    from simulator.solve import SolverError
    original = Model.derivatives

    def poisoned(self, t, y, lev, **kw):
        out = original(self, t, y, lev, **kw)
        return out * np.nan if t > 2025 and not kw else out
    Model.derivatives = poisoned
    try:
        with pytest.raises(SolverError, match="non-finite"):
            simulate_many([baseline_scenario, baseline_scenario])
    finally:
        Model.derivatives = original
