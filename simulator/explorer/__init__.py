"""Live policy explorer (``sim explore``; in a notebook ``from simulator import explore``).

The state logic (controls → scenario document → numbers, saving) lives in ``state.py`` and needs no
user-interface library; ``app.py`` builds the Panel app on it (docs/explore.md).
"""
from __future__ import annotations

INSTALL_HINT = ("the explorer needs Panel: pip install -e '.[explore]' (or: python -m pip install 'panel>=1.4,<2')")


def explore(scenario="scenarios/baseline.yaml", output_dir="outputs/explore", band=None, **kwargs):
    """The explorer app for ``scenario`` as a Panel object: displayed inline in a notebook, or
    ``.servable()`` / ``panel serve``. Saved scenarios go to ``output_dir``. ``band``: an ensemble.nc of
    ``sim sweep`` (or its directory) whose 5–95 % band of metro population and GDP is shaded. Starting
    from another scenario than the baseline, the baseline is drawn too (``baseline=False``: not). A file that
    cannot be used gives an alert pane saying why (the file, what was expected) instead of the app."""
    try:
        import panel  # noqa: F401
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    from .app import ExplorerApp
    from .state import ExploreError
    try:
        return ExplorerApp(scenario, output_dir, band=band, **kwargs).layout
    except ExploreError as exc:          # a bad scenario or band file: a message in the cell, not a traceback
        import panel as pn
        return pn.pane.Alert(f"sim explore: {exc}", alert_type="danger")
