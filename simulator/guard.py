"""Evaluation and time budgets for ``solve_ivp``: an integration always ends, with a clear error.

``guarded_method(method, max_rhs_evaluations, deadline)`` returns a ``GuardedMethod`` for a method name.
The compiled engine enforces its budgets itself (evaluations per segment and non-finite values inside the
compiled integrator, which rejects a step whose stages leave the equations' domain and fails only when no
smaller step avoids them; the deadline between members). For the scipy engine it builds a subclass of scipy's
solver class whose right-hand-side function is checked on *every* call (not only at the start of a step:
RK45's step loop never ends once the step size is NaN, which happens as soon as the RHS returns NaN):

* a non-finite time or accepted state (``t = nan``: the equations produced NaN/inf, e.g. a lever at a value
  they cannot handle) → ``IntegrationError`` at once; a non-finite stage state (a step too large for the
  equations' domain) gives NaN derivatives, so the method rejects the step and retries it smaller, as the
  compiled integrator does;
* more than ``max_rhs_evaluations`` calls in one segment (stiff or diverging) → ``IntegrationError``;
* past ``deadline`` (``time.monotonic()`` seconds) → ``IntegrationError``.

``IntegrationError`` subclasses ``solve.SolverError``, so every caller that handles solver failures
(the CLI: exit 1; the ensemble: the member is marked failed) handles these too.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from .solve import SolverError

#: right-hand-side evaluations allowed per segment of a single run (the baseline needs ≈ 120)
RUN_MAX_RHS_EVALUATIONS = 200_000
#: wall-clock seconds allowed for the integration of a single run (the baseline needs ≈ 1 s)
RUN_TIME_LIMIT = 900.0


class IntegrationError(SolverError):
    """The integration was stopped by a budget or a non-finite value (message says which)."""


@dataclass(frozen=True)
class GuardedMethod:
    """An ODE method name with the budgets (see module doc), as ``scenario.solver.method``.

    The compiled engine (``solve.integrate``) reads the budgets from it and enforces them itself; the scipy
    engine asks ``solver_class()`` for the guarded subclass of scipy's solver. Building that class imports
    ``scipy.integrate`` (~0.35 s), so it is built only when the scipy engine runs, not on every ``sim run``.
    ``before_step`` (optional, no arguments) is called before every step of the scipy engine (the explorer's
    cancellation check).
    """

    base_method: str
    max_rhs_evaluations: int | None = None
    deadline: float | None = None
    before_step: Callable[[], None] | None = None

    def __str__(self) -> str:
        return self.base_method

    def solver_class(self):
        """The subclass of scipy's solver class for ``base_method`` that enforces the budgets (built anew
        on each call: cheap, and nothing keeps the budgets or the hook of finished runs alive)."""
        from scipy.integrate._ivp.ivp import METHODS
        return _guarded_class(METHODS[self.base_method], self.max_rhs_evaluations, self.deadline, self.before_step)


def guarded_method(method, max_rhs_evaluations: int | None = None, deadline: float | None = None,
                   before_step: Callable[[], None] | None = None):
    """``method`` (a solve_ivp method name or solver class) with the budgets of the module doc: a
    ``GuardedMethod`` for a name, a guarded subclass for a class."""
    if isinstance(method, str):
        return GuardedMethod(method, max_rhs_evaluations, deadline, before_step)
    if isinstance(method, GuardedMethod):       # new budgets; the hook kept unless another is given
        return GuardedMethod(method.base_method, max_rhs_evaluations, deadline, before_step or method.before_step)
    return _guarded_class(method, max_rhs_evaluations, deadline, before_step)


def solver_class(method):
    """What ``solve_ivp(method=...)`` takes for a scenario's ``solver.method``: a name or class as it is,
    the guarded class of a ``GuardedMethod``."""
    return method.solver_class() if isinstance(method, GuardedMethod) else method


def _guarded_class(base, max_rhs_evaluations, deadline, before_step):
    """A subclass of scipy solver class ``base`` whose right-hand side checks the budgets on every call."""
    budget = max_rhs_evaluations

    def __init__(self, fun, t0, y0, t_bound, *args, **kwargs):
        def checked(t, y):
            if not np.isfinite(t) or not np.all(np.isfinite(getattr(self, "y", y))):
                raise IntegrationError(f"the model produced non-finite values near t = {self.t:.6g} (a parameter "
                                       "or lever value the equations cannot handle)")
            if not np.all(np.isfinite(y)):
                # a stage state outside the equations' domain (the accepted state is finite): non-finite
                # derivatives make the method reject the step and retry it smaller (RK45: × MIN_FACTOR), as the
                # compiled integrator does
                return np.full_like(y, np.nan)
            if budget is not None and self.nfev > budget:
                raise IntegrationError(f"more than {budget} right-hand-side evaluations in one segment "
                                       f"(stiff or diverging run, stopped at t = {self.t:.6g})")
            if deadline is not None and time.monotonic() > deadline:
                raise IntegrationError(f"time limit exceeded (stopped at t = {self.t:.6g})")
            return fun(t, y)

        base.__init__(self, checked, t0, y0, t_bound, *args, **kwargs)

    def _step_impl(self):
        if before_step is not None:
            before_step()
        if budget is not None and self.nfev > budget:
            return False, (f"more than {budget} right-hand-side evaluations in one segment "
                           f"(stiff or diverging member)")
        return base._step_impl(self)

    # the budgets as class attributes too: the compiled engine (solve.integrate) enforces them itself
    return type(f"Guarded{base.__name__}", (base,), {"__init__": __init__, "_step_impl": _step_impl,
                                                      "__module__": __name__, "base_method": base.__name__,
                                                      "max_rhs_evaluations": budget, "deadline": deadline})


def guarded_scenario(scenario, max_rhs_evaluations: int | None = RUN_MAX_RHS_EVALUATIONS,
                     seconds: float | None = RUN_TIME_LIMIT):
    """``scenario`` with its solver method replaced by the guarded method (results are identical)."""
    deadline = None if seconds is None else time.monotonic() + seconds
    method = guarded_method(scenario.solver.method, max_rhs_evaluations, deadline)
    return replace(scenario, solver=replace(scenario.solver, method=method))
