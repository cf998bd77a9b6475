"""Ensemble analysis: global sensitivity (SALib), target probabilities and goal seek, scenario discovery (PRIM)."""
from .discovery import box_sweep_document, in_box, prim
from .sensitivity import (SensitivityWarning, design_dataset, given_data_indices, method_for_design, morris_indices,
                          ranked_table, sensitivity, sobol_indices)
from .targets import discover, goal_seek, target_ladder, target_probabilities, wilson_interval

__all__ = ["SensitivityWarning", "box_sweep_document", "design_dataset", "discover", "given_data_indices",
           "goal_seek", "in_box", "method_for_design", "morris_indices", "prim", "ranked_table", "sensitivity",
           "sobol_indices", "target_ladder", "target_probabilities", "wilson_interval"]
