"""Migration: logit destination choice among the nodes and the rest of China (EXT).

    c[o,d]     = γ_T · ln(T[o,d]/60 min) − ρ_M(t)·1{o,d both in the plan area}     (o ≠ d, nodes)
    c[o,EXT]   = c_EXT
    u[o,d,g]   = Vp[d] + Ω[d,g](t) − c[o,d]            (alternative d ≠ o; Vp of EXT = V_EXT)
    u[o,o,g]   = Vp[o] + Ω[o,g](t) + ψ_o                (stay)
    π[o,d,g]   = exp(u[o,d,g]) / Σ_k exp(u[o,k,g])
    M[o,d,g]   = μ_o · r_g · P[o,g] · π[o,d,g]          (d ≠ o)                       [persons/yr]

Ω[d,g] = amenity bonus + talent bonus × 1{20 ≤ age < 35} takes two values per node, so π is
computed for those two age classes only and expanded to age groups by ``age_class``.
    M[EXT,d,g] = G_ext · F_ext(t) · a_g · exp(Vp[d] + Ω[d,g](t) − V_EXT)                 [persons/yr]

The rest of China is large, so its choice probabilities are in the small-share limit of the logit
(a constant denominator folded into the calibrated scale G_ext). Every flow between nodes is
subtracted from its origin and added to its destination with the same age vector: people are
conserved by construction.
"""
from __future__ import annotations

import numpy as np

from ..nodes import N_NODES, PLAN_MASK

_PLAN_PAIR = (PLAN_MASK[:, None] & PLAN_MASK[None, :]).astype(float)
_OFF_DIAG = ~np.eye(N_NODES, dtype=bool)


def migration_cost(travel_time: np.ndarray, travel_cost_weight: np.ndarray,
                   metro_integration: np.ndarray, ext_move_cost: np.ndarray) -> np.ndarray:
    """Cost c[o,k] of moving from node o to alternative k ∈ nodes ∪ {EXT}, shape (M, N, N+1).

    The diagonal (o → o) is 0: staying has no moving cost.
    """
    M = travel_time.shape[0]
    cost = np.empty((M, N_NODES, N_NODES + 1))
    node_cost = (travel_cost_weight[..., None] * np.log(travel_time / 60.0)
                 - metro_integration[..., None] * _PLAN_PAIR)
    cost[:, :, :N_NODES] = np.where(_OFF_DIAG, node_cost, 0.0)
    cost[:, :, N_NODES] = ext_move_cost
    return cost


def choice_probabilities(perceived: np.ndarray, bonus: np.ndarray, home_premium: np.ndarray,
                         cost: np.ndarray, ext_utility: np.ndarray) -> np.ndarray:
    """π[o,k,v], shape (M, N, N+1, V): probability that a mover-candidate of bonus class v in o picks k.

    perceived: Vp (M, N); bonus: Ω by bonus class (M, N, V) — the age groups fall into V classes
    (here: all ages, and ages 20–34 who also get the talent bonus); home_premium: ψ (M, N);
    cost (M, N, N+1); ext_utility: V_EXT (M, 1). k = o is staying.
    """
    M, N, V = bonus.shape
    dest = np.empty((M, N + 1, V))
    dest[:, :N, :] = perceived[..., None] + bonus
    dest[:, N, :] = ext_utility
    util = dest[:, None, :, :] - cost[..., None]                       # (M, o, k, V)
    idx = np.arange(N)
    util[:, idx, idx, :] += home_premium[..., None]
    util -= util.max(axis=2, keepdims=True)
    e = np.exp(util)
    return e / e.sum(axis=2, keepdims=True)


def flows(move_rate: np.ndarray, age_profile: np.ndarray, population_by_age: np.ndarray,
          probabilities: np.ndarray, age_class: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Moves out of every node, M[o,k,g] = μ_o·r_g·P[o,g]·π[o,k,class(g)], aggregated two ways.

    Returns (inflow by destination and age Σ_o M[o,d,g], shape (M, N+1, G) [persons/yr];
    origin–destination matrix Σ_g M[o,k,g], shape (M, N, N+1) with a zero diagonal [persons/yr];
    out-migration rate per person by (o, g), shape (M, N, G) [1/yr]).
    """
    N = population_by_age.shape[1]
    idx = np.arange(N)
    stay = probabilities[:, idx, idx, :]                                # (M, N, V)
    out_rate = move_rate[..., None] * age_profile * (1.0 - stay[..., age_class])
    candidates = move_rate[..., None] * age_profile * population_by_age   # (M, N, G) considering a move
    going = probabilities.copy()
    going[:, idx, idx, :] = 0.0
    inflow = 0.0
    matrix = 0.0
    for v in range(probabilities.shape[-1]):
        in_class = candidates * (age_class == v)
        inflow = inflow + np.matmul(going[..., v].transpose(0, 2, 1), in_class)
        matrix = matrix + going[..., v] * in_class.sum(-1)[..., None]
    return inflow, matrix, out_rate


def external_inflow(scale: np.ndarray, inflow_factor: np.ndarray, age_distribution: np.ndarray,
                    perceived: np.ndarray, bonus: np.ndarray, ext_utility: np.ndarray,
                    age_class: np.ndarray) -> np.ndarray:
    """In-migration from the rest of China M[EXT,d,g], shape (M, N, G) [persons/yr]."""
    pull = np.exp(perceived[..., None] + bonus - ext_utility[..., None])          # (M, N, V)
    return (scale * inflow_factor)[..., None] * age_distribution * pull[..., age_class]


def attractiveness(income_weight, expected_income_ratio, housing_cost_weight, price_ratio,
                   service_weight, service_ratio, hukou_weight, hukou_gain, quality_weight,
                   housing_quality, fixed_effect) -> np.ndarray:
    """Utility V[d] of living in node d (dimensionless), shape (M, N).

    V = κ·(ln(W/W0) − θ_H·ln(p/p0)) + β_Q·ln(Qacc/Qacc0) + β_k·(k − k_base) + β_HQ·hq + ξ
    """
    return (income_weight * (np.log(expected_income_ratio) - housing_cost_weight * np.log(price_ratio))
            + service_weight * np.log(service_ratio) + hukou_weight * hukou_gain
            + quality_weight * housing_quality + fixed_effect)
