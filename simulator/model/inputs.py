"""Stacking scenarios into member arrays: parameters (constant) and levers (piecewise linear).

The ensemble member axis is last. Shared parameters become arrays of shape (M,) and per-node ones
(N, M), so that they broadcast against node arrays (N, M) in the sector code. Lever values have
shape (M,) (scalar levers), (N, M) (node levers) or (n_pairs, M) (pair levers).
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .levers import LEVERS
from .parameters import PARAMETERS


def _as_member_array(values: list[np.ndarray]) -> np.ndarray:
    """Stack per-member values along a new last axis: () → (M,), (N,) → (N, M)."""
    return np.stack([np.asarray(v, dtype=float) for v in values], axis=-1)


def stack_parameters(parameter_sets: list[dict[str, np.ndarray]]) -> SimpleNamespace:
    """Member-stacked parameters from resolved parameter dicts (one per member)."""
    return SimpleNamespace(**{name: _as_member_array([p[name] for p in parameter_sets])
                              for name in PARAMETERS})


def default_lever_values(members: int) -> SimpleNamespace:
    """Every lever at its default (baseline) value, member-stacked."""
    return SimpleNamespace(**{name: _as_member_array([spec.default_array()] * members)
                              for name, spec in LEVERS.items()})


class MemberLevers:
    """Lever schedules of all members, evaluated once per distinct schedule.

    Ensemble members usually share most schedules; members with equal schedules (equal
    ``cache_key``) are evaluated together, so the cost grows with the number of distinct
    schedules, not with the number of members.
    """

    def __init__(self, schedules: list[dict]):
        self.groups = {}
        for name in LEVERS:
            first: dict = {}
            index = np.empty(len(schedules), dtype=int)
            for m, member in enumerate(schedules):
                index[m] = first.setdefault(member[name].cache_key, len(first))
            uniques = [None] * len(first)
            for m, member in enumerate(schedules):
                uniques[index[m]] = member[name]
            self.groups[name] = (uniques, index)

    def values(self, t: float, side: str = "right") -> dict[str, np.ndarray]:
        """Member-stacked lever values at time t (``side`` = limit from the left or right)."""
        return {name: _as_member_array([u.value(t, side=side) for u in uniques])[..., index]
                for name, (uniques, index) in self.groups.items()}

    def breakpoints(self) -> list[float]:
        return sorted({t for uniques, _ in self.groups.values() for u in uniques for t in u.breakpoints()})


class LeverSegment:
    """Lever values on one segment [t0, t1] between breakpoints, where every schedule is linear."""

    def __init__(self, levers: MemberLevers, t0: float, t1: float):
        start = levers.values(t0, side="right")
        end = levers.values(t1, side="left")
        self.t0 = t0
        self.start = start
        self.slope = {n: (end[n] - start[n]) / (t1 - t0) for n in start}
        self._constant = all(not np.any(s) for s in self.slope.values())
        self._cache = SimpleNamespace(**start)

    def at(self, t: float) -> SimpleNamespace:
        if self._constant:
            return self._cache
        dt = t - self.t0
        return SimpleNamespace(**{n: self.start[n] + self.slope[n] * dt for n in self.start})
