"""The base-year state built from the data, and the constants that close it.

Everything here uses the *default* lever values, so every scenario starts from the same calibrated
base year and policy levers act only as deviations from it. Constants closed by identities:

* A0: total factor productivity so that real GDP at t0 equals the observed 2024 GDP of the node;
* w̄0: the perceived wage whose trend-corrected forecast is the wage at which labour demand equals
  employment (no transient at t0);
* ξ, ψ, G_ext: node fixed effects, home premia and the external pool, so that in the base year each
  node's gross out-migration rate and net migration rate equal their parameters and the rest of
  China sends ``ext_gross_inflow`` people (a static logit solved by fixed-point iteration);
* λ_RU: the rural→urban conversion rate that reproduces ``base_urbanization_trend``;
* σ0: the settlement rate that keeps the registered (hukou) share of residents stationary at t0;
* reference values (W0, Qacc0, Acc0, ỹ0) for the ratios inside utility and productivity.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .functions import softplus
from .base_data import AGE_LOWER, age_schedules, base_year, migration_age_profile
from .inputs import default_lever_values
from .jit import jit
from .nodes import N_NODES, internal_commute, travel_time_matrix
from .records import _member_first
from .sectors import economy, expectations, housing, migration, services
from .state import N_PIPELINE

YOUNG_ADULT = ((AGE_LOWER >= 20) & (AGE_LOWER < 35)).astype(float)   # talent programmes: ages 20–34

#: Δℓ_g: rise in participation at full phase-in of the 2025 retirement-age reform [judgement]. Affected are
#: urban employees under statutory retirement (about half of the workers at these ages); for each group the
#: share of the group that gains working years × the share that stays on (≈ 0.7):
#: 50–54 blue-collar women 50 → 55 (0.5 women × 0.25 × 1.0 × 0.7 ≈ 0.09); 55–59 cadre women 55 → 58
#: (0.5 × 0.25 × 0.6 × 0.7 ≈ 0.05); 60–64 men 60 → 63 (0.5 men × 0.5 × 0.6 × 0.7 ≈ 0.10).
RETIREMENT_PARTICIPATION_GAIN = np.where(AGE_LOWER == 50, 0.09, 0.0) + np.where(AGE_LOWER == 55, 0.05, 0.0) \
    + np.where(AGE_LOWER == 60, 0.10, 0.0)


CLOSED_HOME_PREMIUM = 1e3   # ψ of a closed system: π_stay = 1 to machine precision


class CalibrationError(ValueError):
    """The base year cannot be closed with the given parameters (message says which and why)."""


def member_arguments(function, members: int, *args):
    """The arguments of ``function`` (a compiled sector function of one member) for each member in turn.
    Array arguments must have the member axis last (length ``members``: broadcast them first, e.g.
    ``np.broadcast_to(a, shape + (members,))``): a 1-d array gives each member a number, a larger one each
    member's slice; scalars (0-d arrays too) are the same for every member."""
    for i, a in enumerate(args):
        if isinstance(a, np.ndarray) and a.ndim and a.shape[-1] != members:
            raise ValueError(f"{function.__name__}: argument {i} has shape {a.shape}, not member-last with "
                             f"{members} members")
    # arrays of two or more dims once as member-first writable C copies, so that a member's slice is a C view
    # (a read-only or strided view is another argument type for numba: another compilation)
    member_first = [_member_first(a, members, a.dtype) if isinstance(a, np.ndarray) and a.ndim > 1 else a
                    for a in args]
    for m in range(members):
        yield [(float(a) if a.ndim == 0 else float(a[m]) if a.ndim == 1 else a[m])
               if isinstance(a, np.ndarray) else a for a in member_first]


def each(function, members: int, *args):
    """``function`` applied to every member (arguments as ``member_arguments``); the results are stacked along
    a new last axis."""
    return np.stack([function(*a) for a in member_arguments(function, members, *args)], axis=-1)


@jit
def _base_wage(T, labour_resident, Y_core0, x, alpha, propensity, time_scale, elasticity):
    """The base-year wage of one member with commuting in balance: (wage (N,), last relative change)."""
    wage0 = (1 - alpha) * Y_core0 / (labour_resident / x)            # start: no commuting
    change = np.inf
    time_weights = economy.commuting_time_weights(T, propensity, time_scale)     # fixed: travel times only
    commuting = np.empty_like(time_weights)
    LF = np.empty_like(wage0)
    for _ in range(2000):
        economy.commuting_shares_weighted(time_weights, wage0, elasticity, commuting)
        economy.workplace_labour(labour_resident, commuting, LF)     # labour supply at the workplace
        new_wage = (1 - alpha) * Y_core0 / (LF / x)
        change = np.max(np.abs(new_wage / wage0 - 1))
        wage0 = wage0 * (new_wage / wage0) ** 0.2       # damped: strong wage responses overshoot
        if change < 1e-13:
            break
    return wage0, change


def age_constants(migration_peak_age: np.ndarray | None = None) -> SimpleNamespace:
    """Age schedules shared by all members, as column vectors (G, 1) that broadcast against
    arrays by age (N, G, M). The movers' age profile r_g and the age distribution of in-migrants
    from the rest of China are (G, M) when members differ in ``migration_peak_age`` (μ2, yr)."""
    s = age_schedules()
    peak = None if migration_peak_age is None else np.asarray(migration_peak_age, dtype=float)
    if peak is None or np.all(peak == peak.flat[0]):
        profile = migration_age_profile(20.0 if peak is None else float(peak.flat[0]))
        ext_age = profile * s["national_population_2020"]
        ext_age = ext_age / ext_age.sum()
    else:
        profile = migration_age_profile(peak)                                   # (G, M)
        ext_age = profile * s["national_population_2020"][:, None]
        ext_age = ext_age / ext_age.sum(axis=0)
    col = lambda v: np.asarray(v, dtype=float) if np.ndim(v) == 2 else np.asarray(v, dtype=float)[:, None]   # noqa: E731
    return SimpleNamespace(
        mortality=col(s["mortality_rate_2020"]),
        fertility_weight=col(s["fertility_share"] / 5.0 * s["female_share"]),
        participation=col(s["participation_rate"]),
        retirement_gain=col(RETIREMENT_PARTICIPATION_GAIN),
        retired=col((AGE_LOWER >= 60).astype(float)),   # pensioners for household income
        migration_profile=col(profile),
        ext_age_distribution=col(ext_age),
        age_class=YOUNG_ADULT.astype(int),        # bonus class of each age group: 1 = talent-eligible
        class_talent=np.array([[0.0], [1.0]]),    # talent-bonus weight of each class, (V, 1)
    )


def initialize(p: SimpleNamespace, members: int, k: int, population_by_age: np.ndarray | None = None,
               start_year: int = 2024):
    """Base-year state blocks and calibrated constants for member-stacked parameters ``p``.

    Arrays have the member axis last: node arrays (N, M). ``population_by_age`` (persons, shape
    (N, G) or (N, G, k)) replaces the data's base-year population (tests, other base years); urban
    shares and GDP stay those of the data.
    """
    base = base_year(int(start_year))
    M, N = members, N_NODES
    ages = age_constants(np.broadcast_to(np.asarray(p.migration_peak_age, dtype=float), (M,)))
    lev = default_lever_values(members)
    ones = np.ones((N, M))

    if population_by_age is None:
        population_by_age = base.population[:, None] * base.age_shares
    if np.ndim(population_by_age) == 3:        # given per sub-stage (N, G, k)
        population = np.asarray(population_by_age, dtype=float)[..., None] * np.ones(M)
    else:                                      # spread evenly over the sub-stages of each group
        pba = np.asarray(population_by_age, dtype=float)[:, :, None, None] * np.ones(M)
        population = np.repeat(pba / k, k, axis=2)
    pop_by_age = population.sum(axis=2)                                           # (N, G, M)
    P = pop_by_age.sum(axis=1)
    U = P * (base.urban_population / base.population)[:, None]
    T = travel_time_matrix(lev.travel_time)

    # economy
    Y0 = base.gdp[:, None] * ones
    # residential construction's value added at the steady pipeline (ΣC/τ_c = starts0); the rest is Y_core
    H0 = U * base.floor_area_per_person[:, None] / (1 - p.base_vacancy)
    Y_core0 = Y0 - p.construction_value_added * p.normal_starts_rate * H0
    if np.any(Y_core0 <= 0):
        raise CalibrationError("construction_value_added × base-year starts exceeds a node's GDP; lower "
                               "construction_value_added or normal_starts_rate")
    K0 = p.capital_output_ratio * Y0
    LF_resident = each(economy.labour_force, M, pop_by_age, np.broadcast_to(ages.participation, pop_by_age.shape))
    x = economy.equilibrium_supply_demand_ratio(p.natural_unemployment, p.max_unemployment,
                                                p.unemployment_slope) * ones
    # the base-year wage depends on employment at the workplace, which depends on commuting, which depends
    # on relative wages: a damped fixed-point iteration on the wage, member by member (commuting shares are small)
    alpha = p.capital_elasticity
    wage0 = np.empty((N, M))
    for m, a in enumerate(member_arguments(_base_wage, M, T, LF_resident, Y_core0, x, alpha, p.commuting_propensity,
                                           p.commuting_time_scale, p.commuting_wage_elasticity)):
        wage0[:, m], change = _base_wage(*a)
        if not change < 1e-13:
            raise CalibrationError(f"the base-year commuting balance did not converge (largest wage change "
                                   f"{change:.1e}); lower commuting_propensity or commuting_wage_elasticity")
    commuting = each(economy.commuting_shares, M, T, p.commuting_propensity, p.commuting_time_scale, wage0,
                     p.commuting_wage_elasticity)
    LF = each(economy.workplace_labour, M, LF_resident, commuting)
    E0 = LF / x
    u0 = 1 - E0 / LF
    A0 = Y_core0 / (K0 ** alpha * E0 ** (1 - alpha))
    wage0 = (1 - alpha) * Y_core0 / E0
    acc0 = each(economy.effective_density, M, LF, T, p.access_decay)

    # public services (steady state of the capacity stock)
    revenue0 = p.fiscal_revenue_share * Y0
    QS0 = p.service_spending_share * revenue0 * p.service_capacity_life
    qacc0 = each(services.service_access, M, QS0, P, T, p.service_access_decay)

    # housing
    h0 = base.floor_area_per_person[:, None] * ones
    H0 = U * h0 / (1 - p.base_vacancy)
    starts0 = p.normal_starts_rate * H0
    pipeline0 = np.repeat((starts0 * p.construction_time / N_PIPELINE)[:, None, :], N_PIPELINE, axis=1)

    xi, psi, ext_scale = calibrate_migration(p, pop_by_age, T, ages)
    # settlement rate σ0 that keeps the registered share stationary at t0 (base hukou ease): settlements plus
    # returning registered migrants balance the in-migrants, σ0·(1 − h) = h·(n + m0)
    registered0 = p.base_registered_share * ones
    settlement_rate0 = (np.maximum(registered0 * (p.base_net_migration_rate + p.base_out_migration_rate) * ones, 0.0)
                        / (1 - registered0))
    conversion_rate = p.base_urbanization_trend * P / ((P - U) * softplus(1 - U / P / p.urbanization_ceiling))

    # expectations start on the steady path of growth g0, so that every forecast equals its base value
    g0, tau_h = p.base_income_growth, p.trend_perception_time
    Vp0, Vr0 = expectations.initial_additive(xi, p.income_weight * g0, tau_h, p.attractiveness_perception_time)
    Ep0, Er0 = expectations.initial_additive(np.zeros((1, M)), p.income_weight * g0, tau_h,
                                             p.attractiveness_perception_time)
    wbar0, wref0 = expectations.initial_multiplicative(wage0, g0, tau_h, p.wage_perception_time)
    crowding0 = housing.crowding(U * h0, H0, p.natural_vacancy)

    W0 = each(economy.residents_expected_income, M, commuting, wage0 * (1 - u0))
    income0 = each(housing.household_income, M, W0, LF_resident, pop_by_age, np.broadcast_to(ages.retired, (len(ages.retired), M)),
                   p.pension_replacement)
    blocks = {
        "population": population, "urban_population": U,
        "registered_population": p.base_registered_share * P,
        "perceived_attractiveness": Vp0, "attractiveness_reference": Vr0,
        "perceived_ext_utility": Ep0, "ext_utility_reference": Er0,
        "perceived_wage": wbar0, "wage_reference": wref0, "capital_stock": K0,
        "log_tfp": 0.0, "log_deflator": 0.0, "log_national_income": 0.0, "log_rural_income": 0.0,
        "housing_new": p.new_vintage_share * H0, "housing_old": (1 - p.new_vintage_share) * H0,
        "construction_pipeline": pipeline0, "house_price": 1.0, "smoothed_income": income0,
        "service_capacity": QS0, "extra_students": 0.0,
    }
    constants = SimpleNamespace(
        ages=ages, tfp0=A0, access0=acc0, expected_income0=W0, service_access0=qacc0,
        income0=income0, urban_reference=U.sum(axis=0) / P.sum(axis=0), floor_area0=h0, hukou_base=lev.hukou_ease, fixed_effect=xi, home_premium=psi,
        ext_scale=ext_scale, base_unemployment=u0, conversion_rate=conversion_rate, crowding0=crowding0,
        settlement_rate0=settlement_rate0, internal_commute=internal_commute()[:, None] * np.ones(M),
    )
    return blocks, constants


def calibrate_migration(p, pop_by_age, T, ages, iterations: int = 2000, tol: float = 1e-12):
    """Solve the base-year logit for ξ (N, M), ψ (N, M) and the external scale G (M,).

    Conditions per node o: gross out-migration = m0_o·P_o; in-migration = (n_o + m0_o)·P_o, where
    m0 and n are the ``base_out_migration_rate`` and ``base_net_migration_rate`` parameters; and
    Σ_d (inflow from EXT) = ``ext_gross_inflow``. If all three are zero the system is closed: no
    one moves.
    """
    N, _, M = pop_by_age.shape
    P = pop_by_age.sum(axis=1)
    m0 = p.base_out_migration_rate * np.ones((N, M))
    net = p.base_net_migration_rate * np.ones((N, M))
    total_ext = p.ext_gross_inflow * np.ones(M)                        # (M,)
    closed = (m0 == 0).all(axis=0) & (net == 0).all(axis=0) & (total_ext == 0)
    if closed.all():
        # no migration at all: staying is certain (a finite premium large enough that exp underflows)
        return np.zeros((N, M)), np.full((N, M), CLOSED_HOME_PREMIUM), np.zeros(M)
    mean_profile = (pop_by_age * ages.migration_profile).sum(axis=1) / P
    leave = m0 / (p.move_consideration_rate * mean_profile)             # 1 − π_stay
    if np.any(leave >= 1) or np.any(leave < 0):
        raise CalibrationError(
            "base_out_migration_rate must be below move_consideration_rate × the node's mean age "
            f"propensity; got out-rate {np.max(m0):g} with consideration rate "
            f"{np.min(p.move_consideration_rate):g}")
    outflow = m0 * P
    target_in = (net + m0) * P
    if np.any(target_in <= 0):
        raise CalibrationError(
            "base_out_migration_rate + base_net_migration_rate must be positive for every node "
            "(in-migration cannot be negative)")
    if np.any(total_ext <= 0):
        raise CalibrationError("ext_gross_inflow must be positive")
    if np.any(total_ext - (net * P).sum(axis=0) <= 0):
        raise CalibrationError(
            "ext_gross_inflow is smaller than the total base-year net migration: the base year "
            "would need negative moves to the rest of China")
    cost = each(migration.migration_cost, M, T, p.travel_cost_weight, np.zeros(M), p.ext_move_cost)
    offdiag = ~np.eye(N, dtype=bool)[..., None]
    xi = np.zeros((N, M))
    active = np.ones(M, dtype=bool)

    cost_factor = np.exp(-cost)                                          # (o, k, M), fixed during the iteration

    def attraction(xi):
        e = np.concatenate([np.exp(xi), np.ones((1, M))], axis=0)       # EXT utility 0 in the base year
        a = e[None] * cost_factor                                        # (o, k, M)
        a[:, :N] *= offdiag
        return a

    for _ in range(iterations):
        attract = attraction(xi)
        shares = attract / attract.sum(axis=1, keepdims=True)
        inflow = ((outflow[:, None, :] * shares[:, :N]).sum(axis=0)
                  + total_ext * np.exp(xi) / np.exp(xi).sum(axis=0))
        step = np.log(target_in / inflow)
        xi = xi + np.where(active, step, 0.0)              # each member until its own convergence, so that
        active &= np.max(np.abs(step), axis=0) >= tol      # its result does not depend on the other members
        if not active.any():
            break
    else:
        raise CalibrationError("the base-year migration balance did not converge "
                               f"(largest log error {np.max(np.abs(step)):.2e})")
    S = attraction(xi).sum(axis=1)
    stay = 1 - leave
    psi = np.log(S * stay / leave) - xi
    ext_scale = total_ext / np.exp(xi).sum(axis=0)
    return xi, psi, ext_scale
