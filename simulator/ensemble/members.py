"""Sampled factor values → member-stacked model inputs, without building one Scenario per member.

Parameters: the base scenario's resolved parameters are broadcast to M members, then each factor
sets (``value``), multiplies (``scale``) or shifts (``add``) its elements with the sampled column.

Levers (``SampledLevers``): the base scenario's schedules are evaluated once (they are the same for
every member) and broadcast; each lever factor then acts on its elements:

* ``value`` — the lever takes the sampled value from ``from`` on (a step at ``from``, which becomes a
  breakpoint; without ``from`` the value holds over the whole run);
* ``scale`` — the base schedule times the sampled factor (no new breakpoints);
* ``add`` — the base schedule plus the sampled amount (no new breakpoints).

All three keep every lever piecewise linear with its kinks in ``breakpoints()``, as ``solve.integrate``
requires. Values applied with ``value`` are clipped to the registry bounds (relevant for ``normal``).
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from simulator.model.inputs import MemberLevers, _width, stack_parameters
from simulator.model.levers import LEVERS
from simulator.model.parameters import PARAMETERS
from simulator.model.records import LEVER_OFFSETS


def _apply(arr: np.ndarray, elements: tuple, how: str, values: np.ndarray) -> None:
    target = arr if not elements else arr[list(elements)]
    if how == "value":
        new = np.broadcast_to(values, target.shape)
    elif how == "scale":
        new = target * values
    else:
        new = target + values
    if elements:
        arr[list(elements)] = new
    else:
        arr[...] = new


def member_parameters(scenario, factors, X: np.ndarray) -> SimpleNamespace:
    """Member-stacked parameters (shared (M,), per node (N, M)) for the rows of X (M, d)."""
    M = X.shape[0]
    base = stack_parameters([scenario.parameters])
    p = {k: np.repeat(v, M, axis=-1) for k, v in vars(base).items()}
    for j, f in enumerate(factors):
        if f.kind != "parameter":
            continue
        spec = PARAMETERS[f.target]
        col = X[:, j]
        if f.apply == "value":
            col = np.clip(col, spec.lower, spec.upper)
        _apply(p[f.target], f.elements if spec.per_node else (), f.apply, col)
    return SimpleNamespace(**p)


class SampledLevers:
    """Lever values of M members: the base scenario's schedules with sampled factors applied."""

    def __init__(self, scenario, factors, X: np.ndarray):
        self.members = X.shape[0]
        self.base = MemberLevers([scenario.effective_levers()])
        self.overrides = []
        for j, f in enumerate(factors):
            if f.kind != "lever":
                continue
            spec = LEVERS[f.target]
            col = np.asarray(X[:, j], dtype=float)
            if f.apply == "value":
                col = np.clip(col, spec.lower, spec.upper)
            start = f.start
            if start is None and scenario.history is not None:
                start = scenario.start          # a continued history keeps its own levers
            self.overrides.append((f.target, f.elements if spec.kind != "scalar" else (), f.apply, start, col))
        self._bps = sorted(set(self.base.breakpoints()) | {o[3] for o in self.overrides if o[3] is not None})

    def values(self, t: float, side: str = "right") -> dict[str, np.ndarray]:
        base = self.base.values(t, side=side)
        out = {name: np.repeat(v, self.members, axis=-1) for name, v in base.items()}
        for name, elements, how, start, col in self.overrides:
            if start is not None and not (t > start or (t == start and side == "right")):
                continue
            _apply(out[name], elements, how, col)
        return out

    def matrices(self, times, side: str = "right") -> np.ndarray:
        """Lever values at each of ``times`` as rows (M, T, n_lever_values) (what ``solve.lever_table`` reads):
        the base schedules evaluated once (``MemberLevers.matrices``), repeated over the members, then each
        factor applied to its columns at the times it acts: the arithmetic of ``values``, for all times at once."""
        times = np.asarray(times, dtype=float)
        out = np.repeat(self.base.matrices(times, side), self.members, axis=0)
        for name, elements, how, start, col in self.overrides:
            active = (np.ones(times.shape, dtype=bool) if start is None
                      else (times > start) | ((times == start) & (side == "right")))
            if not active.any():
                continue
            columns = LEVER_OFFSETS[name] + (np.asarray(elements, dtype=np.int64) if elements
                                             else np.arange(_width(LEVERS[name])))
            at = np.ix_(np.arange(self.members), np.flatnonzero(active), columns)
            values = col[:, None, None]
            out[at] = (np.broadcast_to(values, out[at].shape) if how == "value"
                       else out[at] * values if how == "scale" else out[at] + values)
        return out

    def breakpoints(self) -> list[float]:
        return list(self._bps)


def member_scenario(scenario, factors, x):
    """The same member as an ordinary Scenario (via ``with_changes``; slow, ≈ 1 ms): for checks and the
    loop comparison. Lever ``scale``/``add`` factors are supported on levers whose base schedule is
    constant."""
    from simulator.model.nodes import NODES
    params: dict = {}
    levers: dict = {}
    resolved = {k: np.array(v, dtype=float, copy=True) for k, v in scenario.parameters.items()}
    for f, v in zip(factors, np.asarray(x, dtype=float)):
        if f.kind == "parameter":
            spec = PARAMETERS[f.target]
            v = float(np.clip(v, spec.lower, spec.upper)) if f.apply == "value" else float(v)
            arr = resolved[f.target]
            _apply(arr, f.elements if spec.per_node else (), f.apply, v)
            params[f.target] = ({n: float(a) for n, a in zip(NODES, arr)} if spec.per_node else float(arr))
        else:
            spec = LEVERS[f.target]
            sched = scenario.levers[f.target]
            keys = spec.keys or ((),)
            idx = f.elements if spec.kind != "scalar" else (0,)
            entry = levers.setdefault(f.target, {})
            for i in idx:
                key = keys[i]
                pw = sched.schedules[key]
                if f.apply == "value":
                    val = float(np.clip(v, spec.lower, spec.upper))
                    new = {"step": [[f.start, val]]} if f.start is not None else val
                else:
                    if not pw.is_constant:
                        raise NotImplementedError("scale/add of a time-varying schedule")
                    new = pw.base * v if f.apply == "scale" else pw.base + v
                    new = float(new)
                entry[key if key != () else "value"] = new
    levers = {k: (v["value"] if "value" in v else v) for k, v in levers.items()}
    return scenario.with_changes(parameters=params, levers=levers)
