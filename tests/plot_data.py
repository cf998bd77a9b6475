"""Small synthetic inputs in the formats the plot functions take (shared by the plot tests)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

PARAMS = ["income_weight", "housing_cost_weight", "hukou_weight", "tfp_growth", "move_consideration_rate"]


def ensemble(scenario, n=20, seed=1):
    from simulator import simulate_many
    rng = np.random.default_rng(seed)
    iw = rng.uniform(1.0, 2.5, n)
    mcr = rng.uniform(0.5, 1.5, n)
    base = scenario.parameters
    members = [scenario.with_changes(parameters={"income_weight": float(a),
                                                 "move_consideration_rate": float(b * np.asarray(base["move_consideration_rate"]).mean())})
               for a, b in zip(iw, mcr)]
    ens = simulate_many(members)
    return ens.assign_coords(income_weight=("run", iw), move_scale=("run", mcr))


def sensitivity(outputs=("metro_population", "metro_gdp_nominal")):
    rng = np.random.default_rng(0)
    shape = (len(outputs), len(PARAMS))
    st = rng.uniform(0.05, 0.6, shape)
    s1 = st * rng.uniform(0.4, 0.9, shape)
    mu = rng.uniform(1e4, 3e5, shape)
    dims = ("output", "parameter")
    return xr.Dataset({"S1": (dims, s1), "S1_conf": (dims, 0.1 * st), "ST": (dims, st), "ST_conf": (dims, 0.08 * st),
                       "mu_star": (dims, mu), "mu_star_conf": (dims, 0.15 * mu), "sigma": (dims, mu * rng.uniform(0.2, 1.4, shape))},
                      coords={"output": list(outputs), "parameter": PARAMS})


def tornado_frame(base=1.17e7):
    swings = np.array([4e5, 2.5e5, 1.2e5, 6e4, 2e4])
    return pd.DataFrame({"parameter": PARAMS, "low": base - swings, "high": base + 0.7 * swings, "base": base,
                         "low_value": [1.0, 0.5, 0.2, 0.01, 0.5], "high_value": [2.5, 1.5, 0.8, 0.03, 1.5]})


def prim_result():
    traj = [{"coverage": c, "density": d, "mass": m, "n_restricted": k}
            for c, d, m, k in [(1.0, 0.3, 1.0, 0), (0.97, 0.38, 0.77, 1), (0.93, 0.47, 0.6, 1), (0.88, 0.58, 0.45, 2),
                               (0.8, 0.7, 0.34, 2), (0.7, 0.8, 0.26, 3), (0.55, 0.88, 0.19, 3), (0.4, 0.95, 0.13, 3)]]
    return {"boxes": [{"limits": {"income_weight": [1.6, 2.5], "tfp_growth": [0.022, 0.03], "hukou_weight": [0.2, 0.55]},
                       "coverage": 0.8, "density": 0.7, "mass": 0.34}],
            "peeling_trajectory": traj,
            "ranges": {"income_weight": [1.0, 2.5], "tfp_growth": [0.01, 0.03], "hukou_weight": [0.2, 0.8]}}


def calibration_dataset(ds):
    """Simulated whole-city population and GDP against the observed 2024 values (+ a fake 2030 NaN)."""
    series, units, sim, obs = [], [], [], []
    t = ds.time.values
    obs_pop = {"Changchun": 908.51e4, "Jilin": 349.48e4, "Siping": 163.93e4, "Liaoyuan": 91.64e4}
    obs_gdp = {"Changchun": 7632.19e8, "Jilin": 1633.20e8, "Siping": 580.60e8, "Liaoyuan": 527.69e8}
    for c in ("Changchun", "Jilin", "Siping", "Liaoyuan"):
        for var, o, u in (("city_population", obs_pop, "persons"), ("city_gdp_nominal", obs_gdp, "yuan/yr")):
            series.append(f"{var.replace('city_', '')}/{c}")
            units.append(u)
            sim.append(ds[var].sel(whole_city=c).values)
            row = np.full(len(t), np.nan)
            row[0] = o[c]
            row[1] = o[c] * 1.01
            obs.append(row)
    return xr.Dataset({"observed": (("series", "time"), np.array(obs)), "simulated": (("series", "time"), np.array(sim))},
                      coords={"series": series, "time": t, "units": ("series", units)})
