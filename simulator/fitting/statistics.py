"""Fit statistics for one series (Sterman 1984): MAPE, RMSE, R² and Theil's decomposition of MSE.

    MSE = (ȳ_s − ȳ_o)² + (σ_s − σ_o)² + 2·(1 − r)·σ_s·σ_o
    U^M = bias share, U^S = unequal-variance share, U^C = unequal-covariance share (sum to 1)

With fewer than two points U^S, U^C and R² are undefined (NaN).
"""
from __future__ import annotations

import numpy as np


def fit_statistics(simulated: np.ndarray, observed: np.ndarray) -> dict[str, float]:
    s, o = np.asarray(simulated, float), np.asarray(observed, float)
    err = s - o
    mse = float(np.mean(err ** 2))
    out = {
        "n": int(s.size),
        "mape": float(np.mean(np.abs(err / o)) * 100) if np.all(o != 0) else float("nan"),
        "rmse": float(np.sqrt(mse)),
        "r2": float("nan"), "theil_um": float("nan"), "theil_us": float("nan"), "theil_uc": float("nan"),
    }
    if s.size >= 2 and mse > 0:
        ss_tot = float(np.sum((o - o.mean()) ** 2))
        out["r2"] = 1 - float(np.sum(err ** 2)) / ss_tot if ss_tot > 0 else float("nan")
        ss, so = s.std(), o.std()
        r = float(np.corrcoef(s, o)[0, 1]) if ss > 0 and so > 0 else 0.0
        out["theil_um"] = (s.mean() - o.mean()) ** 2 / mse
        out["theil_us"] = (ss - so) ** 2 / mse
        out["theil_uc"] = 2 * (1 - r) * ss * so / mse
    elif s.size >= 1 and mse > 0:
        out["theil_um"] = (s.mean() - o.mean()) ** 2 / mse
    return out
