"""The multi-objective search: pymoo NSGA-II / NSGA-III driven by ask-and-tell, so that each generation's
candidates are evaluated together (one call of the evaluation function per generation).

``search`` is generic (any vectorized ``evaluate(X) -> F``; tests use analytic problems). Objectives that
depend on the other candidates (regret) are refreshed for the surviving population before every survival
step through ``refresh``.

``run_portfolio`` evaluates every candidate of a generation over every future as candidates × futures member
rows in one pass of the ensemble runner (chunked, vectorized; local processes with ``jobs`` or dask with
``scheduler``), keeps an archive of every evaluated candidate, and returns the Pareto front of the archive
with the named portfolios.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

log = logging.getLogger(__name__)


def make_algorithm(method: str, population: int, n_obj: int, seed: int, repair=None, sampling=None):
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM
    kw = dict(crossover=SBX(prob=0.9, eta=15), mutation=PM(eta=20), eliminate_duplicates=True)
    if sampling is not None:
        kw["sampling"] = sampling
    if repair is not None:
        kw["repair"] = repair
    if method == "nsga3":
        from pymoo.algorithms.moo.nsga3 import NSGA3
        from pymoo.util.ref_dirs import get_reference_directions
        if n_obj == 1:
            ref = np.array([[1.0]])
        else:
            ref = get_reference_directions("energy", n_obj, max(population, n_obj), seed=seed)
        return NSGA3(ref_dirs=ref, pop_size=population, **kw)
    from pymoo.algorithms.moo.nsga2 import NSGA2
    return NSGA2(pop_size=population, **kw)


def _repair_op(fn):
    from pymoo.core.repair import Repair

    class _Fn(Repair):
        def _do(self, problem, X, **kwargs):
            return fn(np.asarray(X, dtype=float))

    return _Fn()


def search(evaluate, xl, xu, n_obj: int, *, method: str = "nsga2", population: int = 100, generations: int = 50,
           seed: int = 0, repair=None, refresh=None, on_generation=None, initial=None):
    """Minimize ``evaluate(X (n, d)) -> F (n, n_obj)`` over the box [xl, xu] for ``generations`` generations.

    ``repair(X) -> X`` maps candidates onto the feasible grid (rounding); ``refresh(X) -> F`` recomputes the
    objectives of earlier candidates (for objectives relative to the archive); ``on_generation(gen, X, F)``
    is called after each evaluation; ``initial`` (k, d) are candidates placed in the first generation (the
    rest is a Latin hypercube over the box). Returns (X_final_population, F_final_population, n_evaluated).
    """
    from pymoo.core.evaluator import Evaluator
    from pymoo.core.problem import Problem
    from pymoo.problems.static import StaticProblem
    xl, xu = np.asarray(xl, dtype=float), np.asarray(xu, dtype=float)
    problem = Problem(n_var=len(xl), n_obj=n_obj, xl=xl, xu=xu)
    from scipy.stats import qmc
    X0 = xl + qmc.LatinHypercube(d=len(xl), seed=np.random.default_rng(seed)).random(population) * (xu - xl)
    if initial is not None:
        initial = np.atleast_2d(np.asarray(initial, dtype=float))[:population]
        X0[:len(initial)] = initial
    if repair is not None:
        X0 = repair(X0)
    algorithm = make_algorithm(method, population, n_obj, seed, _repair_op(repair) if repair else None, X0)
    algorithm.setup(problem, termination=("n_gen", generations), seed=seed, verbose=False)
    n_eval = 0
    gen = 0
    while algorithm.has_next():
        pop = algorithm.ask()
        X = pop.get("X")
        if repair is not None:
            X = repair(X)
            pop.set("X", X)
        F = np.asarray(evaluate(X), dtype=float)
        n_eval += len(X)
        if refresh is not None:
            F = np.asarray(refresh(X), dtype=float)
            if algorithm.pop is not None and len(algorithm.pop):
                old = algorithm.pop
                Evaluator().eval(StaticProblem(problem, F=np.asarray(refresh(old.get("X")), dtype=float)), old,
                                 skip_already_evaluated=False)
        Evaluator().eval(StaticProblem(problem, F=F), pop)
        algorithm.tell(infills=pop)
        if on_generation is not None:
            on_generation(gen, X, F)
        gen += 1
    final = algorithm.pop
    return final.get("X"), final.get("F"), n_eval


def pareto_mask(F: np.ndarray) -> np.ndarray:
    """True for the non-dominated rows of F (minimization); duplicates of a front point are kept once."""
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting
    F = np.asarray(F, dtype=float)
    mask = np.zeros(len(F), dtype=bool)
    if len(F):
        mask[NonDominatedSorting().do(np.nan_to_num(F, nan=np.inf, posinf=1e300), only_non_dominated_front=True)] = True
    return mask


# --- the portfolio search ----------------------------------------------------------------------------

@dataclass
class Archive:
    """Every evaluated candidate: decisions and per-future outcomes."""

    D: list = field(default_factory=list)           # (d,) decision rows
    population: list = field(default_factory=list)  # (F,) persons in the target year
    gdp: list = field(default_factory=list)         # (F,) yuan
    cost: list = field(default_factory=list)        # (F,) objective cost measure
    cost_mean: list = field(default_factory=list)   # (F,) mean yearly cost [yuan/yr]
    room: list = field(default_factory=list)        # (F,) mean yearly fiscal room [yuan/yr]
    failed: list = field(default_factory=list)
    loss: list = field(default_factory=list)
    generation: list = field(default_factory=list)
    index: dict = field(default_factory=dict)       # decision row (bytes) -> archive row

    def key(self, row) -> bytes:
        return np.asarray(row, dtype=float).tobytes()

    def arrays(self) -> dict:
        return {k: np.asarray(getattr(self, k)) for k in ("D", "population", "gdp", "cost", "cost_mean", "room",
                                                          "failed", "loss", "generation")}


@dataclass
class PortfolioResult:
    portfolio: object
    archive: dict                   # name -> array over every evaluated candidate
    objectives: np.ndarray          # (n_archive, k), minimized, regret against the full archive
    objective_names: list
    front: np.ndarray               # indices into the archive
    named: dict                     # key -> {"description", "index" (or None)}
    futures: np.ndarray             # (F, n_factors)
    runs: int                       # member runs integrated
    seconds: float
    failures: int


def _futures_design(portfolio):
    from simulator.ensemble.designs import factor_values, unit_design
    factors = portfolio.futures.factors
    U = unit_design("lhs", factors, portfolio.samples, portfolio.futures_seed)
    return factors, factor_values(factors, U)


def evaluate_rows(portfolio, D: np.ndarray, factors, Xf: np.ndarray, *, jobs: int = 1, scheduler=None,
                  progress: bool = False, done: int = 0, total: int | None = None, chunk_size: int | None = None):
    """Integrate candidates D (C, d) × futures Xf (F, n_factors) as C·F member rows; returns
    (data {var: (C·F, ...)}, failed (C·F,), times)."""
    from simulator.ensemble.runner import ChunkContext, chunk_size_for, execute
    from simulator.ensemble.store import chunk_bounds
    from .evaluate import VARIABLES, PortfolioInputs, forecast_scenario
    sc = forecast_scenario(portfolio.scenario)
    C, F = D.shape[0], Xf.shape[0]
    X = np.hstack([np.tile(Xf, (C, 1)), np.repeat(D, F, axis=0)])
    times = np.asarray(sc.output_times, dtype=float)
    shapes = {"metro_population": (len(times),), "metro_gdp_nominal": (len(times),), "births": (len(times), 9)}
    ctx = ChunkContext(sc, factors, VARIABLES, portfolio.max_rhs_evaluations, inputs=PortfolioInputs(portfolio,
                                                                                                      factors))
    n = X.shape[0]
    size = chunk_size_for(n, chunk_size or portfolio.chunk_size)
    parts = {}
    execute(ctx, X, chunk_bounds(n, size), shapes, lambda r: parts.__setitem__(r.index, r), jobs=jobs,
            scheduler=scheduler, progress=progress, done=done, total=total if total is not None else n,
            desc=portfolio.name)
    order = sorted(parts)
    data = {v: np.concatenate([parts[i].data[v] for i in order]) for v in VARIABLES}
    failed = np.concatenate([parts[i].failed for i in order])
    return data, failed, times


def run_portfolio(portfolio, *, jobs: int = 1, scheduler=None, progress: bool = False,
                  chunk_size: int | None = None) -> PortfolioResult:
    """The whole search (see module doc)."""
    from .evaluate import forecast_scenario, objectives_from, repair, summarize, tau_per_future
    t0 = time.perf_counter()
    factors, Xf = _futures_design(portfolio)
    n_fut = Xf.shape[0]
    tau = tau_per_future(forecast_scenario(portfolio.scenario), factors, Xf)
    arch = Archive()
    counter = {"runs": 0, "gen": 0}
    total = portfolio.population * portfolio.generations * n_fut
    names_holder: dict = {}

    def best_loss():
        return np.min(np.asarray(arch.loss), axis=0)

    def rows_of(X):
        return [arch.index[arch.key(r)] for r in X]

    def evaluate(X):
        new = [r for r in dict.fromkeys(arch.key(r) for r in X) if r not in arch.index]
        if new:
            Dn = np.array([np.frombuffer(k) for k in new])
            data, failed, times = evaluate_rows(portfolio, Dn, factors, Xf, jobs=jobs, scheduler=scheduler,
                                                progress=progress, done=counter["runs"],
                                                total=max(total, counter["runs"] + len(new) * n_fut),
                                                chunk_size=chunk_size)
            counter["runs"] += len(new) * n_fut
            ev = summarize(portfolio, Dn, data, failed, times, tau, n_fut)
            for i, k in enumerate(new):
                arch.index[k] = len(arch.D)
                arch.D.append(Dn[i])
                arch.population.append(ev.population[i])
                arch.gdp.append(ev.gdp[i])
                arch.cost.append(ev.cost[i])
                arch.cost_mean.append(ev.cost_mean[i])
                arch.room.append(ev.room[i])
                arch.failed.append(ev.failed[i])
                arch.loss.append(ev.loss[i])
                arch.generation.append(counter["gen"])
        return refresh(X)

    def refresh(X):
        from .evaluate import Evaluation
        idx = rows_of(X)
        a = {k: np.asarray(getattr(arch, k))[idx] for k in ("population", "gdp", "cost", "cost_mean", "room",
                                                             "failed", "loss")}
        F, names = objectives_from(portfolio, Evaluation(**a), best_loss())
        names_holder["names"] = names
        return F

    def on_generation(gen, X, F):
        counter["gen"] = gen + 1
        log.debug(f"generation {gen + 1}/{portfolio.generations}: {len(arch.D)} candidates evaluated, "
                  f"{counter['runs']} runs")

    lower = np.array([d.lower for d in portfolio.decisions])
    upper = np.array([d.upper for d in portfolio.decisions])
    k = 4
    search(evaluate, lower, upper, k, method=portfolio.method, population=portfolio.population,
           generations=portfolio.generations, seed=portfolio.seed, repair=lambda X: repair(portfolio, X),
           refresh=refresh, on_generation=on_generation, initial=status_quo(portfolio)[None, :])
    archive = arch.arrays()
    all_idx = list(range(len(arch.D)))
    F = refresh(np.asarray(arch.D)) if all_idx else np.zeros((0, k))
    front = np.flatnonzero(pareto_mask(F))
    named = name_portfolios(portfolio, archive, F, names_holder["names"])
    return PortfolioResult(portfolio, archive, F, names_holder["names"], front, named, Xf, counter["runs"],
                           time.perf_counter() - t0, int(archive["failed"].sum()))


def status_quo(portfolio) -> np.ndarray:
    """The decision row with no new policy where the ranges allow it: quantities at their lower end, rail
    minutes and opening years at their upper end (slowest, latest). Placed in the first generation so that
    the archive always holds the cheapest corner."""
    return np.array([d.upper if d.key in ("minutes", "opens") else d.lower for d in portfolio.decisions])


def name_portfolios(portfolio, archive: dict, F: np.ndarray, names: list) -> dict:
    """The named portfolios among every evaluated candidate (descriptions say why, or that none qualifies)."""
    sc = portfolio.scenario
    ok = ~archive["failed"]
    p_gdp = np.where(ok, archive["gdp"] >= sc.targets.gdp_nominal, False).mean(1)
    mean_pop = np.nanmean(np.where(ok, archive["population"], np.nan), axis=1)
    cost = np.nanmean(np.where(ok, archive["cost_mean"], np.nan), axis=1)
    room = np.nanmean(np.where(ok, archive["room"], np.nan), axis=1)
    regret = F[:, names.index(next(n for n in names if n.startswith("regret_")))]
    yr = int(sc.targets.year)
    out = {}
    for level, key in ((0.5, "cheapest_gdp_p50"), (0.9, "cheapest_gdp_p90")):
        cand = np.flatnonzero(p_gdp >= level)
        if len(cand):
            i = int(cand[np.lexsort((-p_gdp[cand], cost[cand]))[0]])
            out[key] = {"index": i, "description": (
                f"cheapest evaluated portfolio reaching the {yr} GDP target ({sc.targets.gdp_nominal / 1e8:,.0f}亿 "
                f"yuan, nominal) in at least {level:.0%} of the futures: P = {p_gdp[i]:.0%}, mean yearly cost "
                f"{cost[i] / 1e8:,.1f}亿 yuan")}
        else:
            out[key] = {"index": None, "description": (
                f"none qualifies: no evaluated portfolio reaches the {yr} GDP target in {level:.0%} of the futures "
                f"(best P = {p_gdp.max() if len(p_gdp) else 0:.0%})")}
    within = np.flatnonzero(cost <= room)
    if len(within):
        gap = np.abs(mean_pop[within] - sc.targets.population)
        i = int(within[np.lexsort((cost[within], gap))[0]])
        out["closest_population_within_budget"] = {"index": i, "description": (
            f"mean {yr} population closest to {sc.targets.population / 1e4:,.0f}万 with a mean yearly cost within "
            f"the fiscal room (10 % of local revenue, {room[i] / 1e8:,.0f}亿 yuan/yr): "
            f"{mean_pop[i] / 1e4:,.1f}万 at {cost[i] / 1e8:,.1f}亿 yuan/yr")}
    else:
        out["closest_population_within_budget"] = {"index": None, "description": (
            "none qualifies: every evaluated portfolio costs more than the fiscal room")}
    if len(regret):
        i = int(np.lexsort((cost, regret))[0])
        out["most_robust"] = {"index": i, "description": (
            f"smallest {names[-1].replace('_', ' ')} over the futures (regret: shortfall from the targets beyond "
            f"the best evaluated portfolio in each future): {regret[i]:.4f}; mean yearly cost "
            f"{cost[i] / 1e8:,.1f}亿 yuan")}
    else:
        out["most_robust"] = {"index": None, "description": "none qualifies: nothing was evaluated"}
    return out
