"""Calibration against history: observations and operators, bounded robust least squares, fit
statistics and the calibration report."""
from .config import CalibrationConfig, FreeParameter, load_config
from .fit import FitError, FitResult, fit
from .observations import Observation, simulated_all, standard_observations
from .statistics import fit_statistics

__all__ = ["CalibrationConfig", "FreeParameter", "load_config", "FitError", "FitResult", "fit", "Observation",
           "simulated_all", "standard_observations", "fit_statistics"]
