"""Expectations: trend-corrected perception (Sterman 2000, §16.3, the TREND and FORECAST structures).

A quantity x is perceived with a first-order delay τ_p; the perceived value is smoothed again over
τ_h to a reference, and the gap between the two gives the perceived trend, which is extrapolated over
the perception delay. Under steady growth the forecast then equals the current value exactly, so
steady growth carries no lag bias:

    additive (utilities, logit scale):     dx̃/dt = (x − x̃)/τ_p;   dx_r/dt = (x̃ − x_r)/τ_h
                                           trend = (x̃ − x_r)/τ_h;  x̂ = x̃ + trend·τ_p
        (x = x0 + g·t  ⇒  x̃ = x − g·τ_p, x_r = x̃ − g·τ_h, trend = g, x̂ = x)
    multiplicative (wages, yuan):          same stocks;  trend = (x̃/x_r − 1)/τ_h;  x̂ = x̃·(1 + trend·τ_p)
        (x = x0·e^(g·t)  ⇒  x̃ = x/(1 + g·τ_p), x_r = x̃/(1 + g·τ_h), trend = g, x̂ = x)

Every alternative of the migration choice — the nine nodes and the rest of China — is perceived
through the same structure with the same delays, so a change common to all of them moves no one.
The base year starts on the steady-growth path of the growth rate ``base_income_growth`` g0
(``initial_levels``), so the forecasts equal the base-year values and the closures hold at t0.
"""
from __future__ import annotations

from ..jit import jit


@jit
def forecast_additive(perceived, reference, trend_time, perception_time):
    """x̂ = x̃ + (x̃ − x_r)/τ_h · τ_p (same units as x)."""
    return perceived + (perceived - reference) / trend_time * perception_time


@jit
def forecast_multiplicative(perceived, reference, trend_time, perception_time):
    """x̂ = x̃ · (1 + (x̃/x_r − 1)/τ_h · τ_p) (same units as x)."""
    return perceived * (1.0 + (perceived / reference - 1.0) / trend_time * perception_time)


def initial_additive(value, growth, trend_time, perception_time):
    """(x̃0, x_r0) on the steady path x = value + growth·t through t0 (growth in units of x per year)."""
    perceived = value - growth * perception_time
    return perceived, perceived - growth * trend_time


def initial_multiplicative(value, growth, trend_time, perception_time):
    """(x̃0, x_r0) on the steady path x = value·e^(growth·t) through t0 (growth in 1/yr)."""
    perceived = value / (1.0 + growth * perception_time)
    return perceived, perceived / (1.0 + growth * trend_time)


# =====================================================================================================
# Exported equations (XMILE / Vensim): the stocks are exported with their sectors (migration: Vp,
# attractiveness_reference, perceived_ext_utility, ext_utility_reference; economy: perceived_wage,
# wage_reference); the forecasts are auxiliaries there. Nothing of its own to export.
# =====================================================================================================
EXPORT_EQUATIONS: list = []
EXPORT_STOCKS: list = []
