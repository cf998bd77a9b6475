"""Students and graduates: enrolment at the university nodes, graduation, and retention.

Students are residents (the census counts them where they study), so the student stock is a tag on
the population, like the urban and registered coflows; the flows below that *move* people are
added to the migration flows of the assembled right-hand side, origin and destination with the
same count, so people stay conserved.

    S_i       = E0_i·D + Sx_i                                    students enrolled in node i [persons]
    dSx_i/dt  = ΔE_i(t) − Sx_i/D                                 extra students from extra places [persons]
    G_i       = S_i / D                                          graduates [persons/yr]
    ρ_i       = 1 / (1 + (1/ρ0 − 1)·exp(−Ω_T,i(t)))             share of graduates who stay (logit in the
                                                                 talent bonus Ω_T, ρ0 in the base year)

Flows added to migration (ages in brackets):

    extra entrants [15–19] into i:   ΔE_i, of which Dom_i = smin((1 − f_S)·ΔE_i, Σ_o≠i P_o,15–19/τ_min) from
                                     the other nodes in proportion to their 15–19 residents, the rest
                                     (ΔE_i − Dom_i ≥ f_S·ΔE_i) from the rest of China
    extra graduates leaving i [20–24] to the rest of China:   Lx_i = smin((1 − ρ_i)·Sx_i/D, P_i,20–24/τ_min)
    retained by the graduate programme [20–24]:   R_i = smin(X_i, smin((1 − ρ_i)·G_i, M_i→EXT,20–24))
                                     (fewer leave i for the rest of China; never more than would have left)
    attracted by the graduate programme [20–24]:  A_i = X_i − R_i from the rest of China

The base intake E0 (and so base graduation) is part of the fitted migration flows of the data; only
the deviations ΔE (extra places) and X (graduates retained or attracted per year, the planner's unit)
add moves. Every added outflow is bounded by its stock: the entrants' by P_o,15–19/τ_min, the extra
graduates' by P_20–24/τ_min, the programme's retained by the flow to the rest of China it replaces.
"""
from __future__ import annotations

import numpy as np

from ..base_data import AGE_LOWER
from ..functions import _smooth_min1, smooth_min
from ..jit import jit

#: age groups of entrants and graduates (indices into the 5-year groups)
ENTRY_AGE = int(np.flatnonzero(AGE_LOWER == 15)[0])
GRADUATE_AGE = int(np.flatnonzero(AGE_LOWER == 20)[0])

# Shapes are those of one ensemble member: node arrays (N,).


@jit
def graduation(base_enrolment, extra_students, duration):
    """(students S [persons], graduates G [persons/yr]), shape (N,)."""
    students = base_enrolment * duration + extra_students
    return students, students / duration


@jit
def retention_share(base_retention, talent_bonus):
    """ρ (N,): share of graduates who stay, a binary logit in the talent bonus with ρ0 at Ω_T = 0."""
    return 1.0 / (1.0 + (1.0 / base_retention - 1.0) * np.exp(-talent_bonus))


@jit
def extra_entrant_moves(extra_places, ext_share, entry_population, min_drain_time, out=None):
    """Moves of extra entrants, shape (N+1, N): row o = origin (last row: the rest of China), column d.

    ``entry_population`` P_o,15–19 (N,). The domestic part of d's extra places, (1 − f_S)·ΔE_d, comes from
    the other nodes in proportion to their 15–19 residents, and never more than they can give:
    smin((1 − f_S)·ΔE_d, Σ_o≠d P_o,15–19/τ_min), so each origin's outflow is at most P_o,15–19/τ_min and falls
    with its stock. The places the other nodes cannot fill are filled from the rest of China, so all ΔE_d
    places are taken. Into ``out`` if given.
    """
    N = extra_places.shape[0]
    moves = np.empty((N + 1, N)) if out is None else out
    for d in range(N):
        others = 0.0                                    # Σ_{o ≠ d} P_o,15–19
        for o in range(N):
            if o != d:
                others += entry_population[o]
        wanted, room = (1.0 - ext_share) * extra_places[d], others / min_drain_time
        domestic = _smooth_min1(min(wanted, room), max(wanted, room), 8.0)
        for o in range(N):
            share = 0.0 if (o == d or not others > 0) else entry_population[o] / others
            moves[o, d] = domestic * share
        moves[N, d] = extra_places[d] - domestic
    return moves


@jit
def extra_graduate_leavers(retention, extra_students, duration, graduate_population, min_drain_time):
    """Lx (N,): graduates of the extra places who leave for the rest of China [persons/yr]."""
    return smooth_min((1.0 - retention) * extra_students / duration, graduate_population / min_drain_time)


@jit
def programme_retention(target, retention, graduates, leaving_to_ext):
    """(retained R, attracted A), shape (N,) [persons/yr]: the graduate programme's X per year is met first
    from graduates who would have left for the rest of China, the rest by attracting young people from there."""
    retained = smooth_min(target, smooth_min((1.0 - retention) * graduates, leaving_to_ext))
    return retained, target - retained


# =====================================================================================================
# Exported equations (XMILE / Vensim) — generated into files by ``simulator.export``; they mirror the
# numpy code above (and its assembly in rhs.py). Format: see the end of sectors/demography.py.
# =====================================================================================================
def _smin(a: str, b: str) -> str:
    lo, hi = f"MIN({a}, {b})", f"MAX(MAX({a}, {b}), 1e-300)"
    return f"{lo} * (1 + ({lo} / {hi}) ^ 8) ^ (-1 / 8)"


EXPORT_EQUATIONS = [
    ("students", "node", "base_enrolment[node] * study_duration + extra_students[node]", "persons",
     "S = E0 D + Sx: students enrolled"),
    ("graduates", "node", "students[node] / study_duration", "persons/yr", "G = S/D"),
    ("graduate_retention", "node",
     "1 / (1 + (1 / base_graduate_retention - 1) * EXP(-talent_bonus[node]))", "Dmnl",
     "rho = 1/(1 + (1/rho0 - 1) exp(-Omega_T))"),
    ("entry_population", "node", "SUM(population_by_age[node, age!] * entry_age[age!])", "persons",
     "P_o,15-19"),
    ("entry_population_elsewhere", "dest",
     "SUM(entry_population[node!] * (1 - node_identity[node!, dest]))", "persons",
     "sum over o != d of P_o,15-19"),
    ("university_places_at_dest", "dest", "SUM(university_places[node!] * node_identity[node!, dest])",
     "persons/yr", "Delta E over the copy dimension dest"),
    ("domestic_entrants", "dest",
     _smin("(1 - student_ext_share) * university_places_at_dest[dest]",
           "entry_population_elsewhere[dest] / min_drain_time"), "persons/yr",
     "Dom_d = smin((1 - f_S) Delta E_d, sum over o != d of P_o,15-19 / tau_min)"),
    ("domestic_entrants_at_node", "node", "SUM(domestic_entrants[dest!] * node_identity[node, dest!])",
     "persons/yr", "Dom over the node dimension"),
    ("extra_entrant_moves", "node, dest",
     "domestic_entrants[dest] * (1 - node_identity[node, dest])"
     " * entry_population[node] / entry_population_elsewhere[dest]", "persons/yr",
     "domestic extra entrants from o to d"),
    ("extra_entrants_out", "node", "SUM(extra_entrant_moves[node, dest!])", "persons/yr",
     "extra entrants leaving node o for other nodes"),
    ("extra_entrants_in_at_dest", "dest", "SUM(extra_entrant_moves[node!, dest])", "persons/yr",
     "extra entrants arriving from other nodes, over the copy dimension dest"),
    ("extra_entrants_in", "node", "SUM(extra_entrants_in_at_dest[dest!] * node_identity[node, dest!])",
     "persons/yr", "extra entrants arriving from other nodes"),
    ("graduate_population", "node", "SUM(population_by_age[node, age!] * graduate_age[age!])", "persons",
     "P_i,20-24"),
    ("extra_graduate_leavers", "node",
     _smin("(1 - graduate_retention[node]) * extra_students[node] / study_duration",
           "graduate_population[node] / min_drain_time"), "persons/yr", "Lx"),
    ("young_leaving_to_ext", "node",
     "SUM(move_candidates[node, age!] / choice_denominator[node, age!] * graduate_age[age!]) * ext_choice_weight",
     "persons/yr",
     "M_i->EXT at ages 20-24"),
    ("programme_retained", "node",
     _smin("graduates_retained[node]",
           _smin("(1 - graduate_retention[node]) * graduates[node]", "young_leaving_to_ext[node]")),
     "persons/yr", "R = smin(X, smin((1 - rho) G, M_i->EXT,20-24))"),
    ("programme_attracted", "node", "graduates_retained[node] - programme_retained[node]", "persons/yr",
     "A = X - R"),
    ("student_flows_in_by_age", "node, age",
     "(extra_entrants_in[node] + university_places[node] - domestic_entrants_at_node[node]) * entry_age[age]"
     " + programme_attracted[node] * graduate_age[age]", "persons/yr",
     "extra entrants (15-19) and attracted graduates (20-24) arriving"),
    ("student_flows_out_by_age", "node, age",
     "extra_entrants_out[node] * entry_age[age]"
     " + (extra_graduate_leavers[node] - programme_retained[node]) * graduate_age[age]", "persons/yr",
     "extra entrants leaving (15-19), extra graduates leaving less those retained (20-24)"),
]

EXPORT_STOCKS = [
    ("extra_students", "node", "university_places[node] - extra_students[node] / study_duration", "0", "persons",
     "Sx: students on extra places"),
    ("cum_graduates", "node", "graduates[node]", "0", "persons", "accumulated graduates"),
]
