"""Stacking scenarios into member arrays: parameters (constant) and levers (piecewise linear).

The ensemble member axis is last. Shared parameters become arrays of shape (M,) and per-node ones
(N, M), so that they broadcast against node arrays (N, M) in the sector code. Lever values have
shape (M,) (scalar levers), (N, M) (node levers) or (n_pairs, M) (pair levers).
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .jit import jit
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
    return SimpleNamespace(**{name: np.repeat(np.asarray(spec.default_array(), dtype=float)[..., None], members, -1)
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
        self.members = len(schedules)
        self._rows = None
        self._knots = None

    def matrices(self, times, side: str = "right") -> np.ndarray:
        """Lever values at each of ``times`` as rows, shape (M, T, n_lever_values) at ``records.LEVER_OFFSETS``
        (what the compiled core reads): every element schedule of every distinct lever schedule evaluated at
        all times in one compiled call (``_knot_values``: the arithmetic of ``Piecewise.value``)."""
        if self._knots is None:
            self._knots = self._pack_knots()
        ptr, kt, kl, kr, base, element_of = self._knots
        vals = _knot_values(ptr, kt, kl, kr, base, np.asarray(times, dtype=float), side == "right")   # (E, T)
        return np.ascontiguousarray(vals[element_of].transpose(0, 2, 1))

    def _pack_knots(self):
        """Every element schedule as knots in flat arrays, and the element read by each (member, lever value)."""
        from .records import LEVER_OFFSETS
        ptr, kt, kl, kr, base = [0], [], [], [], []
        element_of = np.empty((self.members, sum(_width(s) for s in LEVERS.values())), dtype=np.int64)
        for name, (uniques, index) in self.groups.items():
            off = LEVER_OFFSETS[name]
            for u_i, u in enumerate(uniques):
                rows = np.flatnonzero(index == u_i)
                for c, key in enumerate(u.spec.keys or ((),)):
                    pw = u.schedules[key]
                    element_of[rows, off + c] = len(base)
                    kt += pw.times
                    kl += pw.left
                    kr += pw.right
                    ptr.append(len(kt))
                    base.append(float(pw.base))
        f = lambda v: np.asarray(v, dtype=float)                          # noqa: E731
        return np.asarray(ptr, dtype=np.int64), f(kt), f(kl), f(kr), f(base), element_of

    def matrix(self, t: float, side: str = "right") -> np.ndarray:
        """Lever values at t as rows (M, n_lever_values) (see ``matrices``)."""
        base, varying = self._row_parts()
        out = base.copy()
        for rows, off, width, u in varying:
            out[rows, off:off + width] = np.reshape(u.value(t, side=side), -1)
        return out

    def _row_parts(self):
        """(rows of the constant schedules (M, n_lever_values), [(members, offset, width, schedule) of the others])."""
        if self._rows is None:
            from .records import LEVER_OFFSETS
            base = np.zeros((self.members, sum(_width(s) for s in LEVERS.values())))
            varying = []
            for name, (uniques, index) in self.groups.items():
                off, width = LEVER_OFFSETS[name], _width(LEVERS[name])
                for u_i, u in enumerate(uniques):
                    rows = np.flatnonzero(index == u_i)
                    constant = u._constant if hasattr(u, "_constant") else None
                    if constant is not None:
                        base[rows, off:off + width] = np.reshape(constant, -1)
                    else:
                        varying.append((rows, off, width, u))
            self._rows = (base, varying)
        return self._rows

    def values(self, t: float, side: str = "right") -> dict[str, np.ndarray]:
        """Member-stacked lever values at time t (``side`` = limit from the left or right)."""
        return {name: _as_member_array([u.value(t, side=side) for u in uniques])[..., index]
                for name, (uniques, index) in self.groups.items()}

    def breakpoints(self) -> list[float]:
        return sorted({t for uniques, _ in self.groups.values() for u in uniques for t in u.breakpoints()})


@jit
def _knot_values(ptr, knot_t, knot_left, knot_right, base, times, right):
    """Values (E, T) of E piecewise-linear schedules (knots of e at ptr[e]:ptr[e+1]) at ``times``, limits from
    the right (``right``) or the left: ``Piecewise._value_at``'s arithmetic."""
    E, T = ptr.shape[0] - 1, times.shape[0]
    out = np.empty((E, T))
    for e in range(E):
        a, n = ptr[e], ptr[e + 1] - ptr[e]
        for i in range(T):
            t = times[i]
            if n == 0:
                out[e, i] = base[e]
                continue
            idx = 0                                           # bisect_right / bisect_left
            while idx < n and (knot_t[a + idx] <= t if right else knot_t[a + idx] < t):
                idx += 1
            if idx == 0:
                out[e, i] = knot_left[a]
            elif idx == n:
                out[e, i] = knot_right[a + n - 1]
            else:
                t0, t1 = knot_t[a + idx - 1], knot_t[a + idx]
                v0, v1 = knot_right[a + idx - 1], knot_left[a + idx]
                out[e, i] = v0 + (t - t0) / (t1 - t0) * (v1 - v0)
    return out


def _width(spec) -> int:
    """Number of values of a lever in one member's lever row (scalar 1, node N, pair n_pairs)."""
    from .nodes import N_NODES, PAIRS
    return {"scalar": 1, "node": N_NODES, "pair": len(PAIRS)}[spec.kind]


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
