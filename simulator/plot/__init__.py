"""Plots of simulation results for notebooks, the ``sim plot`` command and the HTML report.

One call per picture; each returns the matplotlib Axes (or the Figure for multi-panel pictures),
takes an optional ``ax`` and never calls ``plt.show()``::

    from simulator import plot
    plot.trajectories(ds, variable="population")

Display conventions (see :mod:`simulator.plot.style`): persons are shown in 万人 (10⁴ persons),
yuan in 亿元 (10⁸ yuan), shares in %; each node has the same colour in every plot; English labels
by default, ``lang="zh"`` for Chinese when a CJK font is installed (otherwise English, with a
warning).
"""
from __future__ import annotations

from .style import color, resolve_lang, CJKFontWarning  # noqa: F401
from ._data import load_results, observed_history  # noqa: F401
from .trajectories import TRAJECTORY_VARIABLES, trajectories, trajectory_panels  # noqa: F401
from .comparison import comparison, comparison_panels  # noqa: F401
from .decomposition import decomposition, flow_matrix  # noqa: F401
from .pyramid import pyramid  # noqa: F401
from .ensemble import fan_chart, target_probability  # noqa: F401
from .sensitivity import index_bars, morris_scatter, sobol_bars, tornado  # noqa: F401
from .discovery import box_stability, peeling_trajectory, prim_box  # noqa: F401
from .calibration import calibration  # noqa: F401
from .gap import gap, gap_panels  # noqa: F401

__all__ = ["trajectories", "trajectory_panels", "comparison", "comparison_panels", "decomposition",
           "flow_matrix", "pyramid", "fan_chart", "target_probability", "sobol_bars", "morris_scatter",
           "tornado", "index_bars", "prim_box", "peeling_trajectory", "box_stability", "calibration", "gap",
           "gap_panels", "load_results", "observed_history",
           "color", "TRAJECTORY_VARIABLES"]
