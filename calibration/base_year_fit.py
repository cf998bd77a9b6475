"""Re-derive the base-year defaults that are fitted to 2024 data (run by hand; prints the values).

    python calibration/base_year_fit.py

1. The common level of the node TFRs and the common mortality scale θ, so that the base-year
   (t0) births and deaths of the whole province equal the 2024 bulletin (97.0k and 210.0k).
   The relative node TFRs are a judgement (rural counties above urban districts).
2. The base-year vacancy of each node, so that the initial house-price trend equals the
   December 2024 / December 2023 change of the NBS 70-city new-home index (Changchun, Jilin City);
   nodes without an index use the mean of the two.
These are the defaults in simulator/model/levers.py (tfr) and parameters.py (mortality_scale,
base_vacancy); tests/test_base_year.py checks that they still reproduce the data.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator import scenario_from_dict  # noqa: E402
from simulator.model.base_data import base_year, obs  # noqa: E402
from simulator.model.levers import LEVERS  # noqa: E402
from simulator.model.nodes import NODES  # noqa: E402
from simulator.model.parameters import PARAMETERS  # noqa: E402
from simulator.solve import simulate  # noqa: E402


def vital_events(tfr_scale: float, theta: float) -> tuple[float, float]:
    tfr = LEVERS["tfr"].default_array() * tfr_scale
    sc = scenario_from_dict({"name": "fit", "time": {"start": 2024, "end": 2025},
                             "parameters": {"mortality_scale": theta},
                             "levers": {"tfr": dict(zip(NODES, map(float, tfr)))}})
    tr = simulate(sc)
    return float(tr.rates["cum_births"][0, 0].sum()), float(tr.rates["cum_deaths"][0, 0].sum())


def main() -> None:
    births_obs = obs("Jilin_province", 2024, "births") * 1e4
    deaths_obs = obs("Jilin_province", 2024, "deaths") * 1e4
    scale, theta = 1.0, float(PARAMETERS["mortality_scale"].default_array()[0])
    for _ in range(5):      # both are (nearly) proportional: fixed-point iteration
        b, d = vital_events(scale, theta)
        scale *= births_obs / b
        theta *= deaths_obs / d
    b, d = vital_events(scale, theta)
    print(f"TFR scale on current defaults {scale:.4f}; mortality_scale {theta:.4f}; "
          f"births {b:.0f} (obs {births_obs:.0f}), deaths {d:.0f} (obs {deaths_obs:.0f})")
    print("node TFRs:", {n: round(float(v), 3) for n, v in zip(NODES, LEVERS["tfr"].default_array() * scale)})

    g = base_year().price_index_growth
    g = np.where(np.isnan(g), np.nanmean(g), g)
    g[[1, 3]] = g[[0, 2]]                    # the rest of Changchun / Jilin City follow their city
    tau = float(PARAMETERS["price_adjustment_time"].default_array())
    eta = float(PARAMETERS["housing_price_elasticity"].default_array())
    vstar = float(PARAMETERS["natural_vacancy"].default_array())
    v0 = 1 - (1 - vstar) * np.exp(tau * eta * np.log1p(g))
    print("base_vacancy:", {n: round(float(v), 3) for n, v in zip(NODES, v0)})


if __name__ == "__main__":
    main()
