"""Writing a portfolio search: portfolio.nc, portfolio.csv, portfolio.json and the figures, together
(all files of a run replace the earlier ones at once or not at all; an interrupted run changes nothing).

portfolio.json (read by ``sim report``; keep exactly these top-level keys)::

    {"objectives": [str], "levers": {name: {"units": str}},
     "named": {key: {"description": str, "levers": {name: value}, "objectives": {name: value}}},
     "front_size": int, "provenance": {...}}

A named portfolio that no candidate qualifies for has empty ``levers`` and ``objectives`` and a description
starting "none qualifies".
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

OBJECTIVE_ATTRS = {
    "p_population_target": ("1", "probability of reaching the population target in the target year"),
    "p_gdp_target": ("1", "probability of reaching the nominal GDP target in the target year"),
    "shortfall_population": ("1", "expected relative shortfall from the population target"),
    "shortfall_gdp": ("1", "expected relative shortfall from the nominal GDP target"),
    "cost_mean": ("yuan/yr", "mean yearly fiscal cost over the cost years (nominal, mean over futures)"),
    "cost_npv": ("yuan", "present value of the fiscal cost over the cost years (mean over futures)"),
    "regret_max": ("1", "largest regret over the futures"),
    "regret_mean": ("1", "mean regret over the futures"),
    "regret_p90": ("1", "90th percentile of the regret over the futures"),
}


def _display(name: str, F: np.ndarray) -> np.ndarray:
    """Objective values as reported: probabilities positive (the search minimizes −P)."""
    return -F if name.startswith("p_") else F


def analysis_key(portfolio) -> str:
    from simulator.cli_common import analysis_key as key
    return key(**portfolio.settings())


def provenance(portfolio, result, jobs=None, scheduler=None) -> dict:
    from simulator.ensemble.sweep import versions
    vers = versions()
    try:
        import importlib.metadata as md
        vers["pymoo"] = md.version("pymoo")
    except Exception:  # noqa: BLE001
        vers["pymoo"] = None
    sc = portfolio.scenario
    return {
        "portfolio_name": portfolio.name, "portfolio_file": str(portfolio.path) if portfolio.path else "",
        "portfolio_text": portfolio.text, "portfolio_sha256": portfolio.sha256,
        "scenario_name": sc.name, "scenario_sha256": sc.sha256,
        "futures": {"factors": portfolio.futures.factor_ids, "samples": portfolio.samples,
                    "design": "lhs", "seed": portfolio.futures_seed},
        "algorithm": {"method": portfolio.method, "population": portfolio.population,
                      "generations": portfolio.generations, "seed": portfolio.seed},
        "objectives_settings": portfolio.objectives.model_dump(),
        "solver": {"method": sc.solver.method, "rtol": sc.solver.rtol, "atol": sc.solver.atol,
                   "max_rhs_evaluations": portfolio.max_rhs_evaluations},
        "unit_costs": portfolio.costs.to_dict(),
        "targets": {"year": int(sc.targets.year), "population": sc.targets.population,
                    "gdp_nominal": sc.targets.gdp_nominal},
        "evaluated_candidates": int(len(result.archive["D"])), "member_runs": int(result.runs),
        "failed_runs": int(result.failures),     # no wall time: the same search gives identical files
        "analysis_key": analysis_key(portfolio), "versions": vers, "package": "simulator",
    }


def build(result) -> tuple[xr.Dataset, "object", dict]:
    """(portfolio.nc Dataset, portfolio.csv DataFrame, portfolio.json dict) of a ``PortfolioResult``."""
    import pandas as pd
    pf = result.portfolio
    arch = result.archive
    names = list(result.objective_names)
    named_idx = {k: v["index"] for k, v in result.named.items() if v["index"] is not None}
    rows = list(result.front) + [i for i in dict.fromkeys(named_idx.values()) if i not in set(result.front)]
    rows = np.asarray(rows, dtype=int)
    on_front = np.isin(rows, result.front)
    D = arch["D"][rows] if len(rows) else np.zeros((0, len(pf.decisions)))
    F = result.objectives[rows]
    sc = pf.scenario
    ok = ~arch["failed"][rows]
    mean_pop = np.nanmean(np.where(ok, arch["population"][rows], np.nan), axis=1)
    mean_gdp = np.nanmean(np.where(ok, arch["gdp"][rows], np.nan), axis=1)
    room = np.nanmean(np.where(ok, arch["room"][rows], np.nan), axis=1)
    cost_mean = np.nanmean(np.where(ok, arch["cost_mean"][rows], np.nan), axis=1)
    ds = xr.Dataset(coords={
        "candidate": ("candidate", np.arange(len(rows)), {"long_name": "portfolio on the Pareto front (or named)"}),
        "future": ("future", np.arange(result.futures.shape[0]), {"long_name": "sampled future (LHS row)"}),
        "factor": ("future_factor", pf.futures.factor_ids, {"long_name": "uncertain factor"})})
    for j, d in enumerate(pf.decisions):
        ds[d.name] = xr.Variable("candidate", D[:, j], {"units": d.units, "long_name": f"decision: {d.entry} {d.key}"})
    for j, n in enumerate(names):
        units, long = OBJECTIVE_ATTRS.get(n, ("1", n))
        ds[n] = xr.Variable("candidate", _display(n, F[:, j]), {"units": units, "long_name": long})
    ds["on_front"] = xr.Variable("candidate", on_front.astype("int8"), {"units": "1", "long_name": "1 = Pareto-optimal"})
    ds["archive_index"] = xr.Variable("candidate", rows, {"units": "1", "long_name": "row in the evaluated archive"})
    yr = int(sc.targets.year)
    ds["population_target_year"] = xr.Variable(("candidate", "future"), arch["population"][rows],
                                               {"units": "persons", "long_name": f"plan-area residents in {yr}"})
    ds["gdp_nominal_target_year"] = xr.Variable(("candidate", "future"), arch["gdp"][rows],
                                                {"units": "yuan", "long_name": f"plan-area nominal GDP in {yr}"})
    ds["fiscal_cost"] = xr.Variable(("candidate", "future"), arch["cost_mean"][rows],
                                    {"units": "yuan/yr", "long_name": "mean yearly policy cost over the cost years"})
    ds["fiscal_room"] = xr.Variable(("candidate", "future"), arch["room"][rows],
                                    {"units": "yuan/yr", "long_name": "mean yearly fiscal room (10 % of local revenue)"})
    ds["future_values"] = xr.Variable(("future", "future_factor"), result.futures,
                                      {"units": "mixed (see sweep factors)", "long_name": "sampled factor values"})
    prov = provenance(pf, result)
    ds.attrs.update({"title": f"Policy portfolio search: {pf.name}", "analysis_key": prov["analysis_key"],
                     "provenance": json.dumps(prov, default=str), "named": json.dumps(
                         {k: v["index"] for k, v in result.named.items()}), "package": "simulator"})
    table = {"candidate": np.arange(len(rows)), "on_front": on_front.astype(int)}
    for j, d in enumerate(pf.decisions):
        table[d.name] = D[:, j]
    for j, n in enumerate(names):
        table[n] = _display(n, F[:, j])
    table.update({f"mean_population_{yr}": mean_pop, f"mean_gdp_nominal_{yr}": mean_gdp,
                  "mean_yearly_cost": cost_mean, "mean_fiscal_room": room})
    for key, idx in named_idx.items():
        table[f"named_{key}"] = (rows == idx).astype(int)
    df = pd.DataFrame(table)
    named = {}
    for key, v in result.named.items():
        i = v["index"]
        if i is None:
            named[key] = {"description": v["description"], "levers": {}, "objectives": {}}
        else:
            Fi = result.objectives[i]
            named[key] = {"description": v["description"],
                          "levers": {d.name: float(arch["D"][i][j]) for j, d in enumerate(pf.decisions)},
                          "objectives": {n: float(_display(n, Fi[j])) for j, n in enumerate(names)}}
    doc = {"objectives": names, "levers": {d.name: {"units": d.units} for d in pf.decisions}, "named": named,
           "front_size": int(len(result.front)), "provenance": prov}
    return ds, df, doc


def write(result, directory: Path, figures: bool = True) -> list[Path]:
    """Write every output into ``directory`` together (temporary files, then renamed as a set)."""
    from simulator.atomic import replace_together, to_netcdf, usual_mode
    from simulator.cf import cf_dataset
    from simulator.safeio import check_output_dir, check_output_file
    directory = Path(directory)
    check_output_dir(directory)
    ds, df, doc = build(result)
    finals = [directory / n for n in ("portfolio.nc", "portfolio.csv", "portfolio.json")]
    if figures:
        finals += [directory / "parallel_coordinates.png", directory / "tradeoff.png"]
    for f in finals:
        check_output_file(f)
    directory.mkdir(parents=True, exist_ok=True)
    tmps = []
    try:
        for f in finals:
            fd, tmp = tempfile.mkstemp(prefix=f".{f.name}.", suffix=".tmp", dir=directory)
            os.close(fd)
            tmps.append(Path(tmp))
        to_netcdf(cf_dataset(ds), tmps[0])
        df.to_csv(tmps[1], index=False)
        tmps[2].write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=float), encoding="utf-8")
        if figures:
            _figures(ds, doc, tmps[3], tmps[4])
        for t in tmps:
            usual_mode(t)
        replace_together(list(zip(tmps, finals)))
    finally:
        for t in tmps:
            if t.exists():
                t.unlink()
    return finals


def _figures(ds, doc, parallel_path, tradeoff_path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from simulator.plot.portfolio import parallel_coordinates, tradeoff
    fig, ax = plt.subplots(figsize=(11, 5))
    parallel_coordinates(ds, ax=ax)
    fig.tight_layout()
    fig.savefig(parallel_path, dpi=110, format="png")
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 5))
    tradeoff(ds, ax=ax)
    fig.tight_layout()
    fig.savefig(tradeoff_path, dpi=110, format="png")
    plt.close(fig)
