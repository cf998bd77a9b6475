"""Helpers shared by the model tests."""
import numpy as np


def total_population(traj):
    """(time, member, node) population from a trajectory."""
    return traj.states["population"].sum(axis=(-1, -2))


CLOSED = {"base_out_migration_rate": 0.0, "base_net_migration_rate": 0.0, "ext_gross_inflow": 0.0}


def rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))
