"""Bounded, robust, multi-start least squares of a historical run against the observations.

    J(θ) = Σ_obs w_s·ρ(r_obs²) + Σ_k ((θ_k − μ_k)/σ_k)²,
    r_obs = (ln ŷ − ln y)/σ_s  (relative series)   or   (ŷ − y)/σ_s  (level series)

``scipy.optimize.least_squares`` (method ``trf``, bounds, robust ``loss``) works on scaled free
values x = (θ − lo)/(hi − lo) ∈ [0, 1]. Every batch of candidate parameter vectors — the forward-
difference Jacobian (n + 1 vectors) and the multi-start design — is integrated as one vectorized
ensemble (``simulate_many``), so a Jacobian costs about one stacked run, not n + 1 runs.

Stages: each stage of the configuration fits its free parameters to its series with the others
held at their current values (partial-model calibration: demography, migration, economy,
housing); the joint fit then starts from the stage estimates and from ``starts`` scrambled-Sobol
points, with the stage estimates as prior means. Uncertainty: the Gauss–Newton covariance
(JᵀJ)⁻¹ of the weighted residuals at the optimum, with and without the prior rows; a parameter
whose data-only sd is undefined or large, or which is strongly correlated with another, is
reported as poorly identified instead of being silently fixed.
"""
from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import least_squares
from scipy.stats import qmc

from ..results import to_dataset
from ..model.initial import CalibrationError
from ..solve import SolverError, simulate
from .config import CalibrationConfig, FreeParameter, apply
from .observations import Observation, simulated_all, standard_observations

FAILED_RESIDUAL = 1e3
JACOBIAN_STEP = 1e-3          # in the scaled [0, 1] space


class FitError(RuntimeError):
    """The fit did not converge (message says why); no fitted set is written."""


@dataclass
class FitResult:
    names: list[str]
    estimate: np.ndarray
    sd: np.ndarray                # with priors
    sd_data: np.ndarray           # data only (inf where the data do not identify the parameter)
    correlation: np.ndarray
    identified: np.ndarray        # bool
    cost: float
    nfev: int
    n_evaluations: int            # model runs (members) integrated
    converged: bool
    message: str
    wall_seconds: float
    stages: list[dict] = field(default_factory=list)
    starts: list[dict] = field(default_factory=list)


class Problem:
    """Residuals of free-parameter vectors for a configuration, evaluated in vectorized batches."""

    def __init__(self, cfg: CalibrationConfig, scenario, observations: list[Observation] | None = None,
                 until: int | None = None):
        self.cfg, self.scenario = cfg, scenario
        self.free: list[FreeParameter] = list(cfg.free)
        obs = observations if observations is not None else standard_observations(
            int(scenario.start), int(scenario.end))
        self.all_observations = obs
        self.until = until if until is not None else cfg.until
        self.fit_observations = [o for o in obs if self.until is None or o.year <= self.until]
        if not self.fit_observations:
            raise FitError("no observations inside the fitting window")
        self.lo = np.array([f.bounds[0] for f in self.free])
        self.hi = np.array([f.bounds[1] for f in self.free])
        self.prior_mean = np.array([f.prior[0] for f in self.free], dtype=float)
        self.prior_sd = np.array([f.prior[1] for f in self.free], dtype=float)
        self.n_evaluations = 0

    # -- mapping ---------------------------------------------------------------------------------
    def theta(self, x: np.ndarray) -> np.ndarray:
        return self.lo + np.asarray(x) * (self.hi - self.lo)

    def x(self, theta: np.ndarray) -> np.ndarray:
        return (np.asarray(theta) - self.lo) / (self.hi - self.lo)

    def scenario_for(self, theta: np.ndarray, only_exported: bool = False):
        parameters, levers = apply(self.scenario, self.free, theta, only_exported)
        return self.scenario.with_changes(parameters=parameters or None, levers=levers or None)

    # -- evaluation ------------------------------------------------------------------------------
    def simulate(self, thetas: np.ndarray, observations: list[Observation]) -> np.ndarray:
        """Model values (batch, n_obs) for a batch of free vectors; NaN rows for failed members."""
        thetas = np.atleast_2d(thetas)
        scenarios = [self.scenario_for(t) for t in thetas]
        self.n_evaluations += len(scenarios)
        try:
            # the observed quantities come from the states (a KeyError names any that would need the auxiliaries)
            return simulated_all(to_dataset(_guarded_simulate(scenarios, auxiliaries=False), squeeze=False),
                                 observations)
        except (CalibrationError, SolverError, FloatingPointError):
            if len(scenarios) == 1:
                return np.full((1, len(observations)), np.nan)
            return np.vstack([self.simulate(t[None], observations) for t in thetas])

    def residuals(self, thetas: np.ndarray, observations: list[Observation], active: np.ndarray,
                  prior_mean: np.ndarray, with_priors: bool = True) -> np.ndarray:
        sim = self.simulate(thetas, observations)
        obs = np.array([o.value for o in observations])
        sig = np.array([o.sigma for o in observations])
        logs = np.array([o.log for o in observations])
        w = np.sqrt([self.cfg.weights.get(o.series.split("/")[0], 1.0) for o in observations])
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.where(logs, (np.log(np.abs(sim)) - np.log(np.abs(obs))) / sig, (sim - obs) / sig) * w
        r = np.where(np.isfinite(r), r, FAILED_RESIDUAL)
        if not with_priors:
            return r
        thetas = np.atleast_2d(thetas)
        prior = (thetas[:, active] - prior_mean[active]) / self.prior_sd[active]
        return np.hstack([r, prior])


def _guarded_simulate(scenarios: list, auxiliaries: bool = True):
    """``simulate`` with the integration guard (``simulator.guard``): a member whose equations give NaN that
    no smaller step avoids fails (and is isolated like any failed member) instead of looping forever.
    ``auxiliaries``: see ``solve.integrate``."""
    from dataclasses import replace

    from ..guard import RUN_MAX_RHS_EVALUATIONS, guarded_method
    method = guarded_method(scenarios[0].solver.method, RUN_MAX_RHS_EVALUATIONS)
    traj = simulate([replace(s, solver=replace(s.solver, method=method)) for s in scenarios],
                    auxiliaries=auxiliaries)
    traj.stats["method"] = scenarios[0].solver.method
    traj.scenarios = scenarios
    return traj


def _solve(problem: Problem, theta0: np.ndarray, active: np.ndarray, observations, prior_mean,
           max_nfev: int, loss: str):
    """One bounded least-squares fit of the ``active`` free parameters from ``theta0``."""
    idx = np.flatnonzero(active)
    cache: dict = {}

    def full(xa):
        theta = theta0.copy()
        theta[idx] = problem.lo[idx] + np.clip(xa, 0, 1) * (problem.hi[idx] - problem.lo[idx])
        return theta

    def batch(xs):
        return problem.residuals(np.array([full(x) for x in xs]), observations, active, prior_mean)

    def fun(xa):
        key = tuple(np.round(xa, 15))
        if key not in cache:
            cache.clear()
            steps = [xa] + [xa + JACOBIAN_STEP * np.eye(len(xa))[j] * (1 if xa[j] + JACOBIAN_STEP <= 1 else -1)
                            for j in range(len(xa))]
            R = batch(steps)
            cache[key] = R
        return cache[key][0]

    def jac(xa):
        fun(xa)
        R = cache[tuple(np.round(xa, 15))]
        J = np.empty((R.shape[1], len(xa)))
        for j in range(len(xa)):
            h = JACOBIAN_STEP if xa[j] + JACOBIAN_STEP <= 1 else -JACOBIAN_STEP
            J[:, j] = (R[j + 1] - R[0]) / h
        return J

    x0 = np.clip(problem.x(theta0)[idx], 0, 1)
    res = least_squares(fun, x0, jac=jac, bounds=(0, 1), method="trf", loss=loss, max_nfev=max_nfev,
                        x_scale=1.0)
    return full(res.x), res


def fit(cfg: CalibrationConfig, scenario, until: int | None = None, seed: int | None = None,
        starts: int | None = None, observations: list[Observation] | None = None,
        progress=None) -> tuple[FitResult, Problem]:
    """Partial-model stages, then the joint multi-start fit; raises FitError if it cannot converge.
    ``progress(message)`` is called after each stage and start (default: logged at INFO level)."""
    progress = progress or logging.getLogger(__name__).info
    t0 = time.perf_counter()
    problem = Problem(cfg, scenario, observations, until)
    seed = cfg.seed if seed is None else seed
    n_starts = cfg.starts if starts is None else starts
    names = [f.name for f in problem.free]
    theta = problem.prior_mean.copy().clip(problem.lo, problem.hi)
    stages = []
    for stage in cfg.stages:
        active = np.array([n in stage.free for n in names])
        obs = [o for o in problem.fit_observations if o.series.split("/")[0] in stage.series]
        if not obs:
            progress(f"stage {stage.name}: no observations in the window, skipped")
            continue
        theta, res = _solve(problem, theta, active, obs, problem.prior_mean, cfg.max_nfev, cfg.loss)
        stages.append({"stage": stage.name, "estimates": {n: float(theta[i]) for i, n in enumerate(names) if active[i]},
                       "cost": float(res.cost), "nfev": int(res.nfev), "status": int(res.status)})
        progress(f"stage {stage.name:<12} cost {res.cost:10.3f}  nfev {res.nfev:3d}  "
                 + ", ".join(f"{n}={theta[i]:.4g}" for i, n in enumerate(names) if active[i]))

    active = np.ones(len(names), dtype=bool)
    prior_mean = theta.copy() if stages else problem.prior_mean
    candidates = [theta]
    if n_starts:
        with warnings.catch_warnings():   # balance of Sobol' points is not needed for start points
            warnings.simplefilter("ignore", UserWarning)
            sob = qmc.Sobol(d=len(names), scramble=True, seed=seed).random(n_starts)
        candidates += [problem.theta(x) for x in sob]
    results, runs = [], []
    for i, start in enumerate(candidates):
        est, res = _solve(problem, start, active, problem.fit_observations, prior_mean, cfg.max_nfev, cfg.loss)
        results.append((est, res))
        runs.append({"start": i, "cost": float(res.cost), "nfev": int(res.nfev), "status": int(res.status),
                     "estimate": est.tolist()})
        progress(f"joint fit, start {i + 1}/{len(candidates)}: cost {res.cost:10.3f}  nfev {res.nfev:3d}  "
                 f"{'converged' if res.status > 0 else 'stopped: ' + res.message}")
    chosen = best_start(runs)
    if chosen is None:
        raise FitError(f"the joint fit did not converge from any start ({results[0][1].message}); try more "
                       "max_nfev, other bounds or fewer free parameters — no fitted set was written")
    best, best_res = results[chosen]
    sd, sd_data, corr = _uncertainty(problem, best, prior_mean)
    identified = np.isfinite(sd_data) & (sd_data < 0.5 * (problem.hi - problem.lo))
    off = np.abs(corr - np.eye(len(names)))
    identified &= ~(np.nan_to_num(off) > 0.95).any(axis=1)
    return FitResult(names=names, estimate=best, sd=sd, sd_data=sd_data, correlation=corr,
                     identified=identified, cost=float(best_res.cost), nfev=int(sum(r["nfev"] for r in runs)),
                     n_evaluations=problem.n_evaluations, converged=True, message=best_res.message,
                     wall_seconds=time.perf_counter() - t0, stages=stages, starts=runs), problem


def best_start(runs: list[dict]) -> int | None:
    """Index of the start with the lowest cost among those that converged (status > 0, finite
    cost); None if none did. A start stopped by max_nfev never wins, even at an equal cost."""
    ok = [r for r in runs if r["status"] > 0 and np.isfinite(r["cost"])]
    return min(ok, key=lambda r: r["cost"])["start"] if ok else None


def _uncertainty(problem: Problem, theta: np.ndarray, prior_mean: np.ndarray):
    """sd with priors, sd from the data alone, and the correlation matrix (from the prior-ful cov)."""
    n = len(theta)
    active = np.ones(n, dtype=bool)
    hs = 1e-3 * (problem.hi - problem.lo)
    thetas = np.vstack([theta] + [theta + np.eye(n)[j] * hs[j] for j in range(n)])
    R = problem.residuals(thetas, problem.fit_observations, active, prior_mean)
    # the Jacobian in the scaled space x = (θ − lo)/(hi − lo): parameters of very different magnitudes
    # (persons/yr next to 1/yr) would otherwise make the information matrix look singular
    width = problem.hi - problem.lo
    J = (R[1:] - R[0]).T / (hs / width)
    m_obs = len(problem.fit_observations)

    def cov(Jm):
        info = Jm.T @ Jm
        try:
            w, V = np.linalg.eigh(info)
        except np.linalg.LinAlgError:
            return np.full((n, n), np.inf)
        if w.min() <= 1e-10 * max(w.max(), 1e-300):
            c = np.linalg.pinv(info)
            bad = np.abs(V[:, w <= 1e-10 * max(w.max(), 1e-300)]).max(axis=1) > 1e-3
            c[bad, :] = np.inf
            c[:, bad] = np.inf
            return c
        return V @ np.diag(1 / w) @ V.T

    scale = np.outer(width, width)          # back to θ units, elementwise (keeps inf entries inf)
    c_all = cov(J) * scale
    c_data = cov(J[:m_obs]) * scale
    sd = np.sqrt(np.abs(np.diag(c_all)))
    sd_data = np.sqrt(np.abs(np.diag(c_data)))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = c_all / np.outer(sd, sd)
    return sd, sd_data, corr
