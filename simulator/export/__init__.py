"""Export a scenario's model to Vensim (.mdl) and XMILE (.xmile) for PySD, Vensim and Stella."""
from __future__ import annotations

from .table import ModelTable, build_table

FORMATS = ("mdl", "xmile")


def export_text(scenario, fmt: str = "mdl", dt: float = 1 / 32) -> str:
    """The model of ``scenario`` as file text in format ``fmt`` ("mdl" or "xmile")."""
    table = build_table(scenario, dt=dt)
    if fmt == "mdl":
        from .vensim import to_vensim
        return to_vensim(table)
    if fmt == "xmile":
        from .xmile import to_xmile
        return to_xmile(table)
    raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")


__all__ = ["FORMATS", "ModelTable", "build_table", "export_text"]
