"""Vensim ``.mdl`` text of a ``ModelTable`` (equations only, no sketch; PySD ``read_vensim`` runs it).

Copy dimensions are declared with ``<->``; stocks are ``INTEG(rate, initial)``; time-varying levers
are per-element lookups ``name_table[e](points)`` read as ``name_table[dims](Time)``.
"""
from __future__ import annotations

import numpy as np

from .table import ModelTable, Variable, fmt


def _sub(dims) -> str:
    return f"[{', '.join(dims)}]" if dims else ""


def _doc(text: str) -> str:
    return " ".join(text.replace("~", "-").replace("|", "/").split())


def _block(lhs: str, rhs: str, units: str, doc: str, op: str = "=") -> str:
    sep = f" {op}\n\t" if op else ""
    return f"{lhs}{sep}{rhs}\n\t~\t{units}\n\t~\t{_doc(doc)}\n\t|\n\n"


def _array_text(value: np.ndarray) -> str:
    value = np.asarray(value, dtype=float)
    if value.ndim == 0:
        return fmt(value)
    if value.ndim == 1:
        return ", ".join(fmt(x) for x in value)
    if value.ndim == 2:
        return ";\n\t".join(", ".join(fmt(x) for x in row) for row in value) + ";"
    raise ValueError("constants of more than two dimensions are not exported")


def _points(pts) -> str:
    xs = [x for x, _ in pts]
    ys = [y for _, y in pts]
    rng = f"[({fmt(min(xs))},{fmt(min(ys))})-({fmt(max(xs))},{fmt(max(ys))})]"
    return "(" + rng + "," + ",".join(f"({fmt(x)},{fmt(y)})" for x, y in pts) + ")"


def _variable(v: Variable) -> str:
    if v.kind == "stock":
        return _block(v.name + _sub(v.dims), f"INTEG (\n\t{v.equation},\n\t\t{v.initial})", v.units, v.doc)
    if v.kind == "aux":
        return _block(v.name + _sub(v.dims), v.equation, v.units, v.doc)
    if v.lookup is None:
        return _block(v.name + _sub(v.dims), _array_text(v.value), v.units, v.doc)
    out = []
    for key, pts in v.lookup.items():
        out.append(_block(f"{v.name}_table{_sub(key)}", _points(pts), v.units,
                          f"time table of {v.name} (x = Time, yr)", op=""))
    out.append(_block(v.name + _sub(v.dims), f"{v.name}_table{_sub(v.dims)}(Time)", v.units, v.doc))
    return "".join(out)


def to_vensim(table: ModelTable) -> str:
    parts = ["{UTF-8}\n"]
    for dim, elems in table.dimensions.items():
        if dim in table.copies:
            parts.append(f"{dim} <-> {table.copies[dim]}\n\t~\t\n\t~\tcopy of {table.copies[dim]}\n\t|\n\n")
        else:
            parts.append(f"{dim}:\n\t{', '.join(elems)}\n\t~\t\n\t~\t{dim}\n\t|\n\n")
    sector = None
    for v in table.variables:
        if v.sector != sector:
            sector = v.sector
            parts.append(f"********************************************************\n\t.{sector}\n"
                         f"********************************************************~\n\t\t|\n\n")
        parts.append(_variable(v))
    parts.append("********************************************************\n\t.Control\n"
                 "********************************************************~\n"
                 "\t\tSimulation Control Parameters\n\t|\n\n")
    parts.append(_block("FINAL TIME", fmt(table.end), "yr", "The final time for the simulation."))
    parts.append(_block("INITIAL TIME", fmt(table.start), "yr",
                        "The initial time: t = Y is 31 December of year Y (docs/model.md section 3)."))
    parts.append(_block("SAVEPER", fmt(table.saveper), "yr [0,?]", "The frequency with which output is stored."))
    parts.append(_block("TIME STEP", fmt(table.dt), "yr [0,?]", "The time step for the simulation (Euler)."))
    return "".join(parts)
