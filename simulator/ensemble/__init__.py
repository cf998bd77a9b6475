"""Ensembles: sweep files, designs, vectorized chunked runs (local processes or dask), resumable storage.

    from simulator.ensemble import load_sweep, run_sweep
    result = run_sweep(load_sweep("sweeps/uncertainty.yaml"), jobs=2, progress=True)
    result.dataset.metro_population.sel(time=2030)      # dims run
"""
from .designs import DesignWarning, design_size, factor_values, unit_design
from .members import SampledLevers, member_parameters
from .runner import SweepInterrupted
from .spec import FactorSpec, Sweep, load_sweep, sweep_from_dict
from .sweep import SweepResult, design, run_sweep

__all__ = ["DesignWarning", "FactorSpec", "SampledLevers", "Sweep", "SweepInterrupted", "SweepResult", "design",
           "design_size", "factor_values", "load_sweep", "member_parameters", "run_sweep", "sweep_from_dict",
           "unit_design"]
