"""The nine model nodes, their city and plan-area membership, and base travel times.

Each of the four cities is split into its part inside the metropolitan plan area (``*_P``) and the
rest of that city (``*_R``), so whole-city statistics are sums of two nodes and plan-area figures
are sums of the four ``*_P`` nodes. ``RJ`` is the rest of Jilin province. The rest of China
(``EXT``) is exogenous and is not a node; it appears only as an origin/destination label.
"""
from __future__ import annotations

import numpy as np

from .jit import jit

NODES: tuple[str, ...] = ("CC_P", "CC_R", "JL_P", "JL_R", "SP_P", "SP_R", "LY_P", "LY_R", "RJ")
N_NODES = len(NODES)
EXT = "EXT"
#: origin/destination labels of the migration matrix: the nodes plus the rest of China
MIGRATION_LABELS: tuple[str, ...] = NODES + (EXT,)

CITY: dict[str, str] = {
    "CC_P": "Changchun", "CC_R": "Changchun",
    "JL_P": "Jilin", "JL_R": "Jilin",
    "SP_P": "Siping", "SP_R": "Siping",
    "LY_P": "Liaoyuan", "LY_R": "Liaoyuan",
    "RJ": "Rest of Jilin province",
}
IN_PLAN_AREA: dict[str, bool] = {n: n.endswith("_P") for n in NODES}
CITIES: tuple[str, ...] = ("Changchun", "Jilin", "Siping", "Liaoyuan")

LONG_NAME: dict[str, str] = {
    "CC_P": "Changchun, plan-area part (7 districts, Gongzhuling, Nong'an, Dehui, part of Yushu)",
    "CC_R": "Changchun, rest (the part of Yushu outside the plan area)",
    "JL_P": "Jilin City, plan-area part (Chuanying, Changyi, Longtan, Fengman + development zones)",
    "JL_R": "Jilin City, rest (Yongji, Jiaohe, Huadian, Shulan, Panshi)",
    "SP_P": "Siping, plan-area part (Tiedong, Tiexi, Yitong)",
    "SP_R": "Siping, rest (Lishu, Shuangliao)",
    "LY_P": "Liaoyuan, plan-area part (Longshan, Xi'an, part of Dongliao)",
    "LY_R": "Liaoyuan, rest (Dongfeng, rest of Dongliao)",
    "RJ": "Rest of Jilin province (Songyuan, Baicheng, Yanbian, Tonghua, Baishan, Meihekou)",
}

PLAN_MASK = np.array([IN_PLAN_AREA[n] for n in NODES])
INDEX: dict[str, int] = {n: i for i, n in enumerate(NODES)}

#: Base generalized travel time between node centroids [minutes], 2024 network. [judgement]
#: Road/rail door-to-door estimates (e.g. Changchun–Jilin C-train ≈ 35 min station to station,
#: ≈ 60 min door to door); diagonal = mean internal commute. Documented in docs/model.md.
_TT = {
    ("CC_P", "CC_R"): 80, ("CC_P", "JL_P"): 60, ("CC_P", "JL_R"): 110, ("CC_P", "SP_P"): 75,
    ("CC_P", "SP_R"): 110, ("CC_P", "LY_P"): 120, ("CC_P", "LY_R"): 140, ("CC_P", "RJ"): 240,
    ("CC_R", "JL_P"): 120, ("CC_R", "JL_R"): 140, ("CC_R", "SP_P"): 150, ("CC_R", "SP_R"): 180,
    ("CC_R", "LY_P"): 190, ("CC_R", "LY_R"): 210, ("CC_R", "RJ"): 240,
    ("JL_P", "JL_R"): 70, ("JL_P", "SP_P"): 135, ("JL_P", "SP_R"): 170, ("JL_P", "LY_P"): 150,
    ("JL_P", "LY_R"): 150, ("JL_P", "RJ"): 210,
    ("JL_R", "SP_P"): 180, ("JL_R", "SP_R"): 210, ("JL_R", "LY_P"): 150, ("JL_R", "LY_R"): 130,
    ("JL_R", "RJ"): 200,
    ("SP_P", "SP_R"): 60, ("SP_P", "LY_P"): 90, ("SP_P", "LY_R"): 110, ("SP_P", "RJ"): 240,
    ("SP_R", "LY_P"): 140, ("SP_R", "LY_R"): 160, ("SP_R", "RJ"): 220,
    ("LY_P", "LY_R"): 50, ("LY_P", "RJ"): 180,
    ("LY_R", "RJ"): 170,
}
INTERNAL_COMMUTE_MIN = {"CC_P": 35, "CC_R": 30, "JL_P": 30, "JL_R": 35, "SP_P": 25, "SP_R": 35,
                        "LY_P": 25, "LY_R": 30, "RJ": 45}


def pair_key(a: str, b: str) -> str:
    """Canonical key of an unordered node pair, e.g. ``"CC_P-JL_P"`` (order of NODES)."""
    ia, ib = INDEX[a], INDEX[b]
    return f"{a}-{b}" if ia < ib else f"{b}-{a}"


#: every valid pair key (unordered, distinct nodes)
PAIRS: tuple[str, ...] = tuple(pair_key(a, b) for i, a in enumerate(NODES) for b in NODES[i + 1:])


def base_travel_time() -> dict[str, float]:
    """Base travel time [min] for every pair key."""
    out = {}
    for (a, b), v in _TT.items():
        out[pair_key(a, b)] = float(v)
    missing = set(PAIRS) - set(out)
    assert not missing, missing
    return out


def travel_time_matrix(pair_values: np.ndarray) -> np.ndarray:
    """Symmetric (N, N, ...) travel-time matrix [min] from values in PAIRS order (n_pairs, ...).

    The diagonal holds the internal commute time. Trailing axes (ensemble members) are kept.
    """
    pair_values = np.asarray(pair_values, dtype=float)
    rest = pair_values.shape[1:]
    T = np.empty((N_NODES, N_NODES) + rest)
    iu = np.triu_indices(N_NODES, k=1)
    T[iu] = pair_values
    T[iu[1], iu[0]] = pair_values
    diag = np.array([INTERNAL_COMMUTE_MIN[n] for n in NODES], dtype=float)
    T[np.arange(N_NODES), np.arange(N_NODES)] = diag.reshape((N_NODES,) + (1,) * len(rest))
    return T


_UPPER = np.triu_indices(N_NODES, k=1)
_UPPER_ROW, _UPPER_COL = _UPPER[0].copy(), _UPPER[1].copy()


def internal_commute() -> np.ndarray:
    """The diagonal of the travel-time matrix [min], (N,)."""
    return np.array([INTERNAL_COMMUTE_MIN[n] for n in NODES], dtype=np.float64)


@jit
def travel_times(pair_values, internal):
    """``travel_time_matrix`` of one member: (N, N) [min] from the pair values (n_pairs,) and the
    internal commute times (N,) (compiled)."""
    n = internal.shape[0]
    T = np.empty((n, n))
    for p in range(_UPPER_ROW.shape[0]):
        T[_UPPER_ROW[p], _UPPER_COL[p]] = pair_values[p]
        T[_UPPER_COL[p], _UPPER_ROW[p]] = pair_values[p]
    for i in range(n):
        T[i, i] = internal[i]
    return T
