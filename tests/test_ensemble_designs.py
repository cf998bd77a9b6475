import numpy as np
import pytest

from simulator.ensemble.designs import DesignWarning, design_size, factor_values, unit_design
from simulator.ensemble.spec import FactorSpec


def factors(d, dist="uniform", **args):
    args = args or {"lower": 0.0, "upper": 1.0}
    return [FactorSpec(f"x{i}", "parameter", f"x{i}", (), "value", None, dist, args) for i in range(d)]


def test_lhs_is_stratified_in_every_factor():
    U = unit_design("lhs", factors(4), 50, seed=1)
    assert U.shape == (50, 4)
    for j in range(4):
        assert sorted(np.floor(U[:, j] * 50).astype(int)) == list(range(50))


def test_sobol_sequence_is_balanced():
    U = unit_design("sobol_sequence", factors(3), 64, seed=2)
    for j in range(3):
        for k in (2, 4, 8):
            counts = np.bincount(np.floor(U[:, j] * k).astype(int), minlength=k)
            assert (counts == 64 // k).all()


def test_sobol_not_power_of_two_warns():
    with pytest.warns(DesignWarning):
        unit_design("sobol_sequence", factors(2), 10, seed=0)
    with pytest.warns(DesignWarning):
        unit_design("sobol", factors(2), 10, seed=0)


def test_saltelli_and_morris_sizes_and_structure():
    U = unit_design("sobol", factors(3), 16, seed=0)
    assert U.shape == (design_size("sobol", 3, 16), 3) == (16 * 5, 3)
    M = unit_design("morris", factors(3), 5, seed=0, levels=4)
    assert M.shape == (design_size("morris", 3, 5), 3) == (20, 3)
    for t in range(5):                                 # one factor changes per step of a trajectory
        block = M[t * 4:(t + 1) * 4]
        assert ((np.abs(np.diff(block, axis=0)) > 1e-12).sum(axis=1) == 1).all()


def test_grid_and_choice():
    fs = factors(2)
    fs.append(FactorSpec("c", "parameter", "c", (), "value", None, "choice", {"values": [1.0, 2.0, 5.0]}))
    U = unit_design("grid", fs, 0, seed=0, levels=3)
    X = factor_values(fs, U)
    assert X.shape == (27, 3)
    assert set(X[:, 0]) == {0.0, 0.5, 1.0} and set(X[:, 2]) == {1.0, 2.0, 5.0}


def test_same_seed_same_design_and_distributions():
    a = unit_design("lhs", factors(3), 20, seed=7)
    assert np.array_equal(a, unit_design("lhs", factors(3), 20, seed=7))
    assert not np.array_equal(a, unit_design("lhs", factors(3), 20, seed=8))
    u = np.linspace(0, 1, 101)
    tri = FactorSpec("t", "parameter", "t", (), "value", None, "triangular", {"lower": 1, "mode": 2, "upper": 4})
    assert tri.ppf(u).min() == 1 and tri.ppf(u).max() == 4
    lu = FactorSpec("l", "parameter", "l", (), "value", None, "loguniform", {"lower": 1, "upper": 100})
    assert np.isclose(lu.ppf(np.array([0.5]))[0], 10)
    tn = FactorSpec("n", "parameter", "n", (), "value", None, "truncnormal",
                    {"mean": 0, "sd": 1, "lower": -1, "upper": 2})
    v = tn.ppf(u)
    assert v.min() >= -1 and v.max() <= 2
