"""Largest relative difference between two results.nc files, variable by variable.

    python benchmarks/compare_results.py OLD/results.nc NEW/results.nc [--tolerance 1e-9]

For every numeric variable present in both: max |new − old| / max |old| over the variable (the scale of
the variable, so values that cross zero do not inflate the figure), and the element-wise maximum of
|new − old| / |old| over elements with |old| > 1e-9·max |old|. Exits 1 if either exceeds ``--tolerance``
or a variable is missing from one file.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
import xarray as xr


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--tolerance", type=float, default=1e-9)
    a = ap.parse_args(argv)
    old, new = xr.open_dataset(a.old), xr.open_dataset(a.new)
    bad = sorted(set(old.data_vars) ^ set(new.data_vars))
    worst_scaled = worst_elem = 0.0
    for name in sorted(set(old.data_vars) & set(new.data_vars)):
        x, y = np.asarray(old[name].values), np.asarray(new[name].values)
        if x.dtype.kind not in "fiu" or x.size == 0:
            continue
        x, y = x.astype(float), y.astype(float)
        if x.shape != y.shape or not np.array_equal(np.isnan(x), np.isnan(y)):
            bad.append(name)
            continue
        ok = ~np.isnan(x)
        scale = np.max(np.abs(x[ok]), initial=0.0)
        diff = np.abs(y[ok] - x[ok])
        scaled = float(diff.max(initial=0.0) / scale) if scale > 0 else float(diff.max(initial=0.0))
        big = np.abs(x[ok]) > 1e-9 * scale
        elem = float(np.max(diff[big] / np.abs(x[ok][big]), initial=0.0))
        worst_scaled, worst_elem = max(worst_scaled, scaled), max(worst_elem, elem)
        if max(scaled, elem) > a.tolerance:
            bad.append(name)
            print(f"  {name}: scaled {scaled:.3g}, element-wise {elem:.3g}")
    print(f"{a.new} vs {a.old}: max relative difference {worst_scaled:.3g} (to each variable's scale), "
          f"{worst_elem:.3g} (element-wise); {'differs: ' + ', '.join(bad) if bad else 'agree'} at {a.tolerance:g}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
