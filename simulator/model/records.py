"""Member-first records of the inputs of the compiled right-hand side.

The compiled code reads parameters and constants from named tuples of arrays whose first axis is the
ensemble member (``P.capital_elasticity[m]`` is a float, ``P.natural_unemployment[m]`` an (N,) array),
and lever values from one flat vector per member at the offsets ``LEVER_OFFSETS`` (the order of the
lever registry; scalar levers take one element, node levers N, pair levers one per node pair).
Named-tuple types carry their field names, so numba compiles (and caches) anew when a field is added.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from .levers import LEVERS
from .nodes import N_NODES, PAIRS, internal_commute
from .parameters import PARAMETERS

Params = namedtuple("Params", list(PARAMETERS))

#: calibrated constants (``initial.initialize``) and age schedules as the compiled code reads them
CONSTANT_FIELDS = ("tfp0", "access0", "expected_income0", "service_access0", "income0", "floor_area0",
                   "hukou_base", "fixed_effect", "home_premium", "ext_scale", "conversion_rate", "crowding0",
                   "settlement_rate0", "internal_commute", "urban_reference",
                   # ages
                   "mortality", "fertility_weight", "participation", "retirement_gain", "retired", "migration_profile",
                   "ext_age_distribution", "age_class", "class_talent")
Consts = namedtuple("Consts", CONSTANT_FIELDS)
_AGE_FIELDS = CONSTANT_FIELDS[CONSTANT_FIELDS.index("mortality"):]


def _lever_offsets() -> tuple[dict[str, int], int]:
    offsets, offset = {}, 0
    for name, spec in LEVERS.items():
        offsets[name] = offset
        offset += {"scalar": 1, "node": N_NODES, "pair": len(PAIRS)}[spec.kind]
    return offsets, offset


LEVER_OFFSETS, N_LEVER_VALUES = _lever_offsets()

#: auxiliaries written by the right-hand side when asked (node arrays; commuting_flow is (N, N))
AUX_NAMES = ("labour_force", "workplace_labour", "commuters", "commuting_flow", "employment",
             "unemployment_rate", "wage", "gdp_real_rate", "gdp_nominal_rate", "deflator", "tfp",
             "effective_density", "human_capital", "output_shock", "attractiveness", "expected_income",
             "service_access", "desired_floor_area", "housing_demand", "housing_occupied", "crowding",
             "attractiveness_forecast", "wage_forecast", "housing_starts_rate", "housing_completions_rate",
             "births_rate", "deaths_rate", "in_migration_rate", "out_migration_rate", "settlement_rate",
             "construction_output", "students", "graduates_rate", "graduate_retention")


def _aux_offsets() -> tuple[dict[str, int], int]:
    offsets, offset = {}, 0
    for name in AUX_NAMES:
        offsets[name] = offset
        offset += N_NODES * N_NODES if name == "commuting_flow" else N_NODES
    return offsets, offset


AUX_OFFSETS, AUX_SIZE = _aux_offsets()


def _member_first(value, members: int, dtype=np.float64) -> np.ndarray:
    """A member-last array (…, M) or a member-free one (…) → a new writable C-contiguous (M, …) array.

    Always a copy: numba compiles (and caches) one version per argument type, and a read-only array (what
    ``np.broadcast_to`` gives, kept by ``np.ascontiguousarray`` when it need not copy, e.g. for M = 1) is a
    different type from a writable one; mixed records cost a second full compilation of the core."""
    a = np.asarray(value, dtype=dtype)
    if a.ndim == 0 or a.shape[-1] != members:
        a = a[..., None]
    a = np.broadcast_to(a, a.shape[:-1] + (members,))
    return np.array(np.moveaxis(a, -1, 0), dtype=dtype, order="C")


def parameters_record(p, members: int) -> Params:
    """Member-stacked parameters (shared (M,), per node (N, M)) → ``Params`` of (M,) and (M, N) arrays."""
    return Params(*(_member_first(getattr(p, name), members) for name in PARAMETERS))


def constants_record(c, members: int) -> Consts:
    """Constants of ``initial.initialize`` (member axis last) → ``Consts`` (member first)."""
    values = []
    for name in CONSTANT_FIELDS:
        if name == "internal_commute":
            v = getattr(c, name, None)
            values.append(_member_first(internal_commute()[:, None] if v is None else v, members))
        elif name == "age_class":
            values.append(np.array(np.broadcast_to(np.asarray(c.ages.age_class, dtype=np.int64),
                                                   (members, len(c.ages.age_class))), order="C"))
        elif name in _AGE_FIELDS:
            v = np.asarray(getattr(c.ages, name), dtype=float)          # (G, 1) or (G, M); (V, 1)
            values.append(_member_first(np.broadcast_to(v, (v.shape[0], members)), members))
        else:
            values.append(_member_first(getattr(c, name), members))
    return Consts(*values)


def lever_matrix(values: dict[str, np.ndarray], members: int) -> np.ndarray:
    """Member-stacked lever values {name: (M,), (N, M) or (n_pairs, M)} → rows (M, N_LEVER_VALUES)."""
    out = np.empty((members, N_LEVER_VALUES))
    for name, spec in LEVERS.items():
        a = np.asarray(values[name], dtype=float)
        off = LEVER_OFFSETS[name]
        if spec.kind == "scalar":
            out[:, off] = np.broadcast_to(a.reshape(-1), (members,)) if a.ndim else a
        else:
            out[:, off:off + a.shape[0]] = np.broadcast_to(a.reshape(a.shape[0], -1), (a.shape[0], members)).T
    return out
