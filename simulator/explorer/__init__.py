"""Live policy explorer (``sim explore``; in a notebook ``from simulator import explore``).

The state logic (controls → scenario document → numbers, saving) lives in ``state.py`` and needs no
user-interface library; ``app.py`` builds the Panel app on it (docs/explore.md).
"""
from __future__ import annotations

INSTALL_HINT = ("the explorer needs Panel: pip install -e '.[explore]' (or: python -m pip install 'panel>=1.4,<2')")


def explore(scenario="scenarios/baseline.yaml", output_dir="outputs/explore", **kwargs):
    """The explorer app for ``scenario`` as a Panel object: displayed inline in a notebook, or
    ``.servable()`` / ``panel serve``. Saved scenarios go to ``output_dir``."""
    try:
        import panel  # noqa: F401
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    from .app import ExplorerApp
    return ExplorerApp(scenario, output_dir, **kwargs).layout
