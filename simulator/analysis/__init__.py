"""Ensemble analysis: global sensitivity (SALib), target probabilities and goal seek, scenario discovery (PRIM)."""
from .discovery import prim
from .sensitivity import (SensitivityWarning, design_dataset, morris_indices, ranked_table, sensitivity,
                          sobol_indices)
from .targets import discover, goal_seek, target_probabilities, wilson_interval

__all__ = ["SensitivityWarning", "design_dataset", "discover", "goal_seek", "morris_indices", "prim",
           "ranked_table", "sensitivity", "sobol_indices", "target_probabilities", "wilson_interval"]
