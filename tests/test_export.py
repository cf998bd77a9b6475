"""Export to Vensim (.mdl) and XMILE, run by PySD, compared with our solve_ivp run.

PySD integrates the exported equations with Euler at a fixed step; metro population, metro nominal
GDP (annual totals from the cumulative stock, as in results.annual_flows) and each node's population
must agree within 0.5 % at every output year.
"""
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from simulator import load_scenario
from simulator.cli_export import export_cmd
from simulator.export import export_text
from simulator.model.nodes import NODES, PLAN_MASK
from simulator.results import annual_flows
from simulator.solve import simulate

ROOT = Path(__file__).resolve().parents[1]
DT = 1 / 16
TOL = 5e-3


def ours(sc):
    traj = simulate(sc)
    pop = traj.states["population"].sum(axis=(-1, -2))[:, 0]                # (time, node)
    gdp = annual_flows(traj, "cum_gdp_nominal")[:, 0]
    return dict(times=traj.times, node_pop=pop, metro_pop=pop[:, PLAN_MASK].sum(-1),
                metro_gdp=gdp[:, PLAN_MASK].sum(-1))


def theirs(model, times):
    cols = ["metro_population", "metro_cum_gdp_nominal", "metro_gdp_nominal_rate", "total_population"]
    df = model.run(return_columns=cols, return_timestamps=list(times))
    cum = df["metro_cum_gdp_nominal"].to_numpy()
    gdp = np.concatenate([[df["metro_gdp_nominal_rate"].to_numpy()[0]], np.diff(cum) / np.diff(times)])
    node_pop = np.stack([df[f"total_population[{n}]"].to_numpy() for n in NODES], axis=-1)
    return dict(node_pop=node_pop, metro_pop=df["metro_population"].to_numpy(), metro_gdp=gdp)


def relerr(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)) / np.abs(np.asarray(b))))


#: the baseline to 2035 as Vensim, and the plan (every policy kind: rail, hukou, graduates, housing, childcare,
#: projects) plus extra university places, to 2030 as XMILE (PySD's Euler steps are most of the suite's time)
CASES = [("baseline", "mdl", None), ("plan", "xmile", {"time": {"start": 2024, "end": 2030},
                                                       "levers": {"university_places": {"CC_P": 20000.0}}})]


@pytest.mark.parametrize("name,fmt,change", CASES, ids=[f"{n}-{f}" for n, f, _ in CASES])
def test_pysd_runs_export_and_agrees(name, fmt, change, tmp_path):
    pysd = pytest.importorskip("pysd")
    sc = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    if change:
        from simulator import scenario_from_dict
        sc = scenario_from_dict({"name": f"{name}_export_test", "extends": str(ROOT / "scenarios" / f"{name}.yaml"),
                                 **change}, base_dir=ROOT)
    path = tmp_path / f"{name}.{fmt}"
    path.write_text(export_text(sc, fmt, dt=DT), encoding="utf-8")
    model = pysd.read_vensim(str(path)) if fmt == "mdl" else pysd.read_xmile(str(path))
    a = ours(sc)
    b = theirs(model, a["times"])
    errors = {q: relerr(b[q], a[q]) for q in ("metro_pop", "metro_gdp", "node_pop")}
    print(name, fmt, errors)
    for q, e in errors.items():
        assert e < TOL, (name, fmt, q, e)


def test_export_structure():
    sc = load_scenario(ROOT / "scenarios" / "settlement_rail.yaml")
    mdl = export_text(sc, "mdl")
    for text in ("population[node, age, sub] =\n\tINTEG", "dest <-> node", "travel_time_table[CC_P, SP_P]",
                 "(2028.499999,75),(2028.5,45)", "TIME STEP", "~\tpersons/yr"):
        assert text in mdl, text
    xml = export_text(sc, "xmile")
    for text in ('<stock name="population">', '<dim name="node">', "<gf><xpts>", "<sim_specs",
                 "(IF cell_number[age, sub] = 1 THEN 1 ELSE 0)"):
        assert text in xml, text


def test_export_cli(tmp_path):
    out = tmp_path / "baseline.xmile"
    res = CliRunner().invoke(export_cmd, [str(ROOT / "scenarios" / "baseline.yaml"), "--format", "xmile",
                                          "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_text().startswith("<?xml")
    assert [p.name for p in tmp_path.iterdir()] == ["baseline.xmile"]      # no temp file left behind
    bad = CliRunner().invoke(export_cmd, [str(tmp_path / "missing.yaml"), "-o", str(tmp_path / "x.mdl")])
    assert bad.exit_code == 2 and "error" in bad.output
    bad = CliRunner().invoke(export_cmd, [str(ROOT / "scenarios" / "baseline.yaml"), "--format", "stella",
                                          "-o", str(tmp_path / "x.mdl")])
    assert bad.exit_code == 2
    bad = CliRunner().invoke(export_cmd, [str(ROOT / "scenarios" / "baseline.yaml"), "--dt", "0",
                                          "-o", str(tmp_path / "x.mdl")])
    assert bad.exit_code == 2
