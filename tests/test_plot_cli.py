"""``sim plot`` / ``sim report`` commands (invoked directly; registered in simulator/cli.py)."""
import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from simulator import load_scenario, run  # noqa: E402
from simulator.cli_plot import plot_cmd, report_cmd  # noqa: E402
from simulator.results import write_outputs  # noqa: E402


@pytest.fixture(scope="module")
def outdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("out") / "baseline"
    write_outputs(run(load_scenario("scenarios/baseline.yaml")), d)
    return d


@pytest.mark.parametrize("kind, extra", [("trajectories", []), ("cities", ["--variable", "gdp_nominal"]),
                                         ("panels", []), ("decomposition", ["--region", "CC_P"]),
                                         ("flows", ["--year", "2030"]), ("pyramid", ["--region", "metro"]),
                                         ("comparison", [])])
def test_plot_kinds_write_png(outdir, tmp_path, kind, extra):
    out = tmp_path / f"{kind}.png"
    res = CliRunner().invoke(plot_cmd, [str(outdir / "results.nc"), "--kind", kind, "-o", str(out)] + extra)
    assert res.exit_code == 0, res.output
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]   # no temp left


@pytest.mark.parametrize("args, message", [
    (["missing.nc"], "file not found"),
    (["{nc}", "--kind", "bogus"], "Invalid value for '--kind'"),
    (["{nc}", "--variable", "nosuch"], "variable 'nosuch' not in"),
    (["{nc}", "--kind", "fan"], "no 'run' dimension"),
    (["{nc}", "--kind", "pyramid", "--region", "XX"], "unknown region"),
    (["{nc}", "--kind", "flows", "--year", "1990"], "not simulated"),
])
def test_plot_bad_input_exit_2(outdir, tmp_path, args, message):
    args = [a.format(nc=outdir / "results.nc") for a in args] + ["-o", str(tmp_path / "x.png")]
    res = CliRunner().invoke(plot_cmd, args)
    assert res.exit_code == 2
    assert message in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "x.png").exists()


def test_plot_and_report_help():
    r = CliRunner().invoke(plot_cmd, ["--help"])
    assert r.exit_code == 0 and "--kind" in r.output and "sim plot outputs/baseline/results.nc" in r.output
    r = CliRunner().invoke(report_cmd, ["--help"])
    assert r.exit_code == 0 and "sim report outputs/baseline -o report.html" in r.output


def test_report_cmd(outdir, tmp_path):
    out = tmp_path / "r.html"
    res = CliRunner().invoke(report_cmd, [str(outdir), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    res = CliRunner().invoke(report_cmd, [str(tmp_path / "nowhere")])
    assert res.exit_code == 2 and "not found" in res.output
