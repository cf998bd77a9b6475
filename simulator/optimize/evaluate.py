"""Evaluating candidate portfolios over the uncertain futures: candidates × futures member rows integrated
together through the ensemble runner (``simulator.ensemble.runner.execute``), then the objectives.

Member rows are candidate-major: row ``c·F + f`` is candidate c in future f. A row's inputs are the
future's sampled factors (parameters and exogenous lever paths, as in ``sim sweep``) plus the
candidate's policies translated into levers by the rules of ``simulator.scenario.policies``
(``PortfolioLevers``; a rail opening year may differ between members, so switch times are per member).

The fitted 2020–2024 history is re-integrated for every row: a future's structural parameters change
its history (docs/model.md §5.9), and the solver has no entry point for a stored 2024 state, so the
history cannot be integrated once per future without new machinery (its share of each run's integration
time is not measured yet; 4 of the 15 years integrated, 2020–2024 of 2020–2035).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from simulator.model.nodes import NODES, PAIRS, pair_key
from simulator.scenario.policies import (CHILD_COST, FERTILITY_SUBSIDY_ELASTICITY, HUKOU_CONDITIONS, PLAN_NODES,
                                         SUBSIDY_YEARS)

#: outputs kept per member row (everything the objectives and the cost model need)
VARIABLES = ["metro_population", "metro_gdp_nominal", "births"]
HUKOU_STEP = HUKOU_CONDITIONS[next(iter(HUKOU_CONDITIONS))][0]   # rise in k per condition removed (0.05)
assert all(v[0] == HUKOU_STEP for v in HUKOU_CONDITIONS.values())


def _expand(nodes) -> list[str]:
    names = [nodes] if isinstance(nodes, str) else list(nodes)
    out = []
    for n in names:
        out += list(PLAN_NODES) if n == "plan_area" else list(NODES) if n == "all" else [n]
    return list(dict.fromkeys(out))


def forecast_scenario(scenario):
    """The scenario cut at its target year (nothing after it enters the objectives)."""
    end = float(scenario.targets.year)
    if scenario.end <= end:
        return scenario
    times = np.asarray(scenario.output_times, dtype=float)
    return replace(scenario, end=end, output_times=times[times <= end + 1e-9])


def decision_values(portfolio, D: np.ndarray) -> list[dict]:
    """Per candidate: {entry: {key: value}} with the fixed values of each entry filled in."""
    out = []
    for row in np.atleast_2d(D):
        vals = {}
        for name, lever in portfolio.entries.items():
            vals[name] = {}
        for d, v in zip(portfolio.decisions, row):
            vals[d.entry][d.key] = float(v)
        for name, lever in portfolio.entries.items():
            from .spec import SEARCHED
            for key, *_ in SEARCHED[lever.policy]:
                if key not in vals[name]:
                    vals[name][key] = float(getattr(lever, key))
        out.append(vals)
    return out


def repair(portfolio, D: np.ndarray) -> np.ndarray:
    """Decision rows clipped to their ranges and rounded to each variable's resolution."""
    D = np.array(D, dtype=float, copy=True)
    for j, d in enumerate(portfolio.decisions):
        col = np.clip(D[:, j], d.lower, d.upper)
        if d.resolution:
            col = np.clip(np.round(col / d.resolution) * d.resolution, d.lower, d.upper)
        D[:, j] = col
    return D


@dataclass
class Override:
    """One lever element changed for every member: ``mode`` add or value, active on (start, until]."""

    lever: str
    element: int | None            # index into the lever's keys; None for a scalar lever
    mode: str                      # "add" | "value"
    values: np.ndarray             # (M,)
    start: np.ndarray              # (M,) switch-on time (model axis)
    until: np.ndarray | None       # (M,) switch-off time or None


def translate(portfolio, scenario, D: np.ndarray) -> list[Override]:
    """The lever overrides of candidate rows D (C, n_decisions) — the rules of ``scenario.policies``."""
    cands = decision_values(portfolio, D)
    C = len(cands)
    out: list[Override] = []
    for name, lever in portfolio.entries.items():
        get = lambda key: np.array([c[name][key] for c in cands], dtype=float)  # noqa: E731
        full = lambda v: np.full(C, float(v))                                   # noqa: E731
        p = lever.policy
        if p == "rail":
            a, _, b = lever.link.partition("-")
            k = PAIRS.index(pair_key(a, b))
            out.append(Override("travel_time", k, "value", get("minutes"), get("opens"), None))
        elif p == "hukou":
            gain = np.round(get("removed")) * HUKOU_STEP
            for node in _expand(lever.nodes):
                sched = scenario.levers["hukou_ease"].schedules[node]
                room = max(0.0, 1.0 - float(sched.value(lever.year, side="right")))
                out.append(Override("hukou_ease", NODES.index(node), "add", np.minimum(gain, room),
                                    full(lever.year), None))
        elif p == "graduates_retained":
            for node in _expand(lever.node):
                out.append(Override("graduates_retained", NODES.index(node), "add", get("per_year"),
                                    full(lever.start), None))
        elif p == "affordable_housing":
            for node in _expand(lever.node):
                area = get("units_per_year") * lever.unit_size_m2
                out.append(Override("policy_housing_starts", NODES.index(node), "add", area, full(lever.start),
                                    None if lever.until is None else full(lever.until)))
        elif p == "childcare_subsidy":
            for node in _expand(lever.nodes):
                tfr = float(scenario.levers["tfr"].schedules[node].value(lever.start, side="right"))
                delta = FERTILITY_SUBSIDY_ELASTICITY * SUBSIDY_YEARS * get("yuan_per_child") / CHILD_COST * tfr
                out.append(Override("tfr", NODES.index(node), "add", delta, full(lever.start), None))
        elif p == "project_investment":
            for node in _expand(lever.node):
                out.append(Override("project_investment", NODES.index(node), "add", get("yuan_per_year"),
                                    full(lever.start), None if lever.until is None else full(lever.until)))
    return out


def _active(t: float, side: str, start: np.ndarray) -> np.ndarray:
    return (t > start) | ((t == start) & (side == "right"))


class PortfolioLevers:
    """Lever values of member rows: the futures' sampled levers plus the candidates' policy overrides
    (per-member switch times). Same interface as ``model.inputs.MemberLevers``."""

    def __init__(self, sampled, overrides: list[Override], row_candidate: np.ndarray):
        self.sampled = sampled
        self.overrides = [replace(o, values=o.values[row_candidate], start=o.start[row_candidate],
                                  until=None if o.until is None else o.until[row_candidate]) for o in overrides]
        times = set(sampled.breakpoints())
        for o in self.overrides:
            times |= set(np.unique(o.start).tolist())
            if o.until is not None:
                times |= set(np.unique(o.until).tolist())
        self._bps = sorted(float(t) for t in times)

    def values(self, t: float, side: str = "right") -> dict[str, np.ndarray]:
        out = self.sampled.values(t, side=side)
        for o in self.overrides:
            on = _active(t, side, o.start)
            if o.until is not None:
                on &= ~_active(t, side, o.until)
            if not on.any():
                continue
            arr = out[o.lever]
            target = arr if o.element is None else arr[o.element]
            new = np.where(on, o.values if o.mode == "value" else target + o.values, target)
            if o.element is None:
                out[o.lever] = new
            else:
                arr[o.element] = new
        return out

    def breakpoints(self) -> list[float]:
        return list(self._bps)


class PortfolioInputs:
    """``ChunkContext.inputs``: member rows [future factor values | candidate decision values] → the
    member-stacked parameters and levers (picklable, shipped once to workers)."""

    def __init__(self, portfolio, factors):
        self.portfolio = portfolio
        self.factors = factors
        self.n_factors = len(factors)

    def __call__(self, scenario, X: np.ndarray):
        from simulator.ensemble.members import SampledLevers, member_parameters
        Xf, Xd = X[:, :self.n_factors], X[:, self.n_factors:]
        p = member_parameters(scenario, self.factors, Xf)
        sampled = SampledLevers(scenario, self.factors, Xf)
        # distinct candidates in this chunk, translated once each
        uniq, inverse = np.unique(Xd, axis=0, return_inverse=True)
        overrides = translate(self.portfolio, scenario, uniq)
        return p, PortfolioLevers(sampled, overrides, np.asarray(inverse).reshape(-1))


# --- objectives ------------------------------------------------------------------------------------

@dataclass
class Evaluation:
    """Per candidate and future: outputs in the target year, yearly cost, and the objectives."""

    population: np.ndarray          # (C, F) persons in the target year
    gdp: np.ndarray                 # (C, F) yuan, nominal
    cost: np.ndarray                # (C, F) the cost objective's measure: mean yuan/yr over the cost years or NPV
    cost_mean: np.ndarray           # (C, F) yuan/yr mean over the cost years
    room: np.ndarray                # (C, F) yuan/yr mean fiscal room over the cost years
    failed: np.ndarray              # (C, F) bool
    loss: np.ndarray                # (C, F) relative shortfall summed over targets (regret's loss)


def yearly_costs(portfolio, D: np.ndarray, times: np.ndarray, births: np.ndarray) -> np.ndarray:
    """Fiscal cost (C, F, T) [yuan/yr] of candidates D in each calendar year ``times`` (the flow labelled t);
    ``births`` (C, F, T, N). Rules and unit costs: ``simulator.costs``."""
    cm = portfolio.costs
    cands = decision_values(portfolio, D)
    C, F = births.shape[:2]
    t = np.asarray(times, dtype=float)
    start = float(portfolio.scenario.start)
    total = np.zeros((C, F, len(t)))
    for name, lever in portfolio.entries.items():
        v = {key: np.array([c[name][key] for c in cands]) for key in cands[0][name]} if cands else {}
        p = lever.policy
        if p == "rail":
            a, _, b = lever.link.partition("-")
            base = float(portfolio.scenario.levers["travel_time"].schedules[pair_key(a, b)].value(start, "right"))
            capital = np.maximum(0.0, base - v["minutes"]) * cm.rail_minute_saved * cm.rail_local_share  # (C,)
            act = (t[None, :] > start + 1e-9) & (t[None, :] < v["opens"][:, None] + 1 - 1e-9)            # (C, T)
            n = np.maximum(act.sum(1, keepdims=True), 1)
            total += (capital[:, None] * act / n)[:, None, :]
            continue
        until = getattr(lever, "until", None)
        when = getattr(lever, "start", None)
        act = (t > when + 1e-9) & (True if until is None else t <= until + 1e-9) if when is not None else t < 0
        if p == "graduates_retained":
            total += (v["per_year"][:, None] * cm.graduate_retained * act)[:, None, :]
        elif p == "affordable_housing":
            total += (v["units_per_year"][:, None] * lever.unit_size_m2 * cm.affordable_housing_m2 * act)[:, None, :]
        elif p == "project_investment":
            total += (v["yuan_per_year"][:, None] * lever.local_share * act)[:, None, :]
        elif p == "childcare_subsidy":
            idx = [NODES.index(n) for n in _expand(lever.nodes)]
            b = births[..., idx].sum(-1)                                   # (C, F, T)
            total += v["yuan_per_child"][:, None, None] * cm.childcare_per_child_years * b * act[None, None, :]
        # hukou: no budget cost in the cost model (documented in docs/optimize.md)
    return total


def objectives_from(portfolio, ev: Evaluation, best_loss: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """The objective matrix (C, k), all minimized, and the objective names.

    * targets (probability): −P(population ≥ target), −P(GDP ≥ target) over the futures;
      (shortfall): E[max(0, 1 − y/target)] for each target;
    * cost: mean over futures of the mean yearly cost (or NPV) over the cost years [yuan/yr or yuan];
    * regret: statistic over futures of loss(c, f) − best_loss(f), best over every evaluated candidate.
    Failed rows count as missing the targets and as the worst loss.
    """
    sc = portfolio.scenario
    o = portfolio.objectives
    pop, gdp = ev.population, ev.gdp
    ok = ~ev.failed
    names, cols = [], []
    for label, y, target in (("population", pop, sc.targets.population), ("gdp", gdp, sc.targets.gdp_nominal)):
        if o.targets == "probability":
            met = np.where(ok, np.nan_to_num(y, nan=-np.inf) >= target, False)
            names.append(f"p_{label}_target")
            cols.append(-met.mean(1))
        else:
            short = np.where(ok, np.maximum(0.0, 1.0 - np.nan_to_num(y, nan=0.0) / target), 1.0)
            names.append(f"shortfall_{label}")
            cols.append(short.mean(1))
    names.append("cost_npv" if o.cost.measure == "npv" else "cost_mean")
    cols.append(np.nanmean(np.where(ok, ev.cost, np.nan), axis=1) if ok.any() else np.zeros(len(pop)))
    regret = ev.loss - best_loss[None, :]
    stat = o.regret.statistic
    if stat == "max":
        r = regret.max(1)
    elif stat == "mean":
        r = regret.mean(1)
    else:
        r = np.quantile(regret, 0.9, axis=1)
    names.append(f"regret_{stat}")
    cols.append(r)
    F = np.column_stack(cols)
    return np.nan_to_num(F, nan=np.inf), names


def losses(portfolio, pop: np.ndarray, gdp: np.ndarray, failed: np.ndarray) -> np.ndarray:
    """Regret's loss per candidate and future: Σ over the two targets of the relative shortfall
    max(0, 1 − y/target) (0 when both targets are met; 2 for a failed run)."""
    sc = portfolio.scenario
    lp = np.maximum(0.0, 1.0 - np.nan_to_num(pop, nan=0.0) / sc.targets.population)
    lg = np.maximum(0.0, 1.0 - np.nan_to_num(gdp, nan=0.0) / sc.targets.gdp_nominal)
    return np.where(failed, 2.0, lp + lg)


def summarize(portfolio, D: np.ndarray, data: dict, failed: np.ndarray, times: np.ndarray, tau: np.ndarray,
              n_futures: int) -> Evaluation:
    """Objective ingredients from the member outputs ``data`` (rows candidate-major)."""
    C = D.shape[0]
    F = n_futures
    sc = portfolio.scenario
    year = float(sc.targets.year)
    it = int(np.argmin(np.abs(times - year)))
    pop = data["metro_population"].reshape(C, F, -1)
    gdp = data["metro_gdp_nominal"].reshape(C, F, -1)
    births = data["births"].reshape(C, F, len(times), -1)
    fail = failed.reshape(C, F)
    y0, y1 = portfolio.objectives.cost.years
    sel = (times >= y0 - 1e-9) & (times <= y1 + 1e-9)
    yearly = yearly_costs(portfolio, D, times[sel], np.nan_to_num(births[:, :, sel, :]))
    from simulator.fiscal import DISCRETIONARY_SHARE
    room_y = DISCRETIONARY_SHARE * tau[None, :, None] * gdp[:, :, sel]       # as simulator.fiscal
    if portfolio.objectives.cost.measure == "npv":
        r = portfolio.objectives.cost.discount_rate
        disc = (1 + r) ** -(times[sel] - float(sc.start))
        cost = (yearly * disc).sum(-1)
    else:
        cost = yearly.mean(-1)
    return Evaluation(pop[:, :, it], gdp[:, :, it], cost, yearly.mean(-1), room_y.mean(-1), fail,
                      losses(portfolio, pop[:, :, it], gdp[:, :, it], fail))


def tau_per_future(scenario, factors, Xf: np.ndarray) -> np.ndarray:
    from simulator.ensemble.members import member_parameters
    p = member_parameters(scenario, factors, Xf)
    tau = np.asarray(p.fiscal_revenue_share, dtype=float)
    return tau.mean(0) if tau.ndim > 1 else tau


__all__ = ["Evaluation", "PortfolioInputs", "PortfolioLevers", "VARIABLES", "forecast_scenario", "losses",
           "objectives_from", "repair", "summarize", "translate", "yearly_costs"]
