"""XMILE 1.0 text of a ``ModelTable`` (PySD ``read_xmile`` runs it; Stella reads the structure).

* Arrays: ``<dimensions>`` at the top; apply-to-all equations with ``<dimensions><dim name=…/>``;
  constants given element by element with ``<element subscript="CC_P, a0_4">``.
* Stocks: ``<stock>`` with the initial value in ``<eqn>`` and one inflow ``<name>_net_flow``
  (a ``<flow>`` holding the net rate of the stock equation).
* Time-varying levers: one scalar graphical function of TIME per element (``<gf>`` with
  ``<xpts>``/``<ypts>``), gathered into the array lever by ``<element>`` equations.
* Sums over a dimension are written ``SUM(x[dim!])`` (the Vensim-style form that PySD's XMILE
  parser accepts; standard XMILE writes ``SUM(x[*])`` or uses dimension names — see the export note).
"""
from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

import numpy as np

from .. import __version__
from .table import ModelTable, Variable, fmt


def _split_args(text: str) -> list[str]:
    args, depth, cur = [], 0, ""
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            args.append(cur)
            cur = ""
        else:
            cur += ch
    args.append(cur)
    return [a.strip() for a in args]


def xmile_expression(expr: str) -> str:
    """Vensim-subset expression → XMILE: ``IF THEN ELSE(c, a, b)`` → ``(IF c THEN a ELSE b)``,
    ``Time`` → ``TIME``."""
    key = "IF THEN ELSE("
    while key in expr:
        i = expr.index(key)
        j, depth = i + len(key), 1
        while depth:
            depth += {"(": 1, ")": -1}.get(expr[j], 0)
            j += 1
        c, a, b = _split_args(expr[i + len(key):j - 1])
        expr = f"{expr[:i]}(IF {xmile_expression(c)} THEN {a} ELSE {b}){expr[j:]}"
    return expr.replace("Time", "TIME")


def _dims_xml(dims) -> str:
    if not dims:
        return ""
    return "<dimensions>" + "".join(f'<dim name="{d}"/>' for d in dims) + "</dimensions>"


def _meta(v: Variable) -> str:
    return f"<units>{escape(v.units)}</units><doc>{escape(v.doc)}</doc>"


def _elements(dims, table: ModelTable):
    grids = np.meshgrid(*[np.arange(len(table.dimensions[d])) for d in dims], indexing="ij")
    for idx in zip(*[g.ravel() for g in grids]):
        yield idx, ",".join(table.dimensions[d][i] for d, i in zip(dims, idx))


def _variable(v: Variable, table: ModelTable) -> str:
    name = quoteattr(v.name)
    if v.kind == "stock":
        flow = v.name + "_net_flow"
        return (f"<stock name={name}>{_dims_xml(v.dims)}<eqn>{escape(xmile_expression(v.initial))}</eqn>"
                f"<inflow>{flow}</inflow>{_meta(v)}</stock>\n"
                f"<flow name={quoteattr(flow)}>{_dims_xml(v.dims)}<eqn>{escape(xmile_expression(v.equation))}</eqn>"
                f"<units>{escape(v.units)}/yr</units><doc>net rate of change of {v.name}</doc></flow>\n")
    if v.kind == "aux":
        return f"<aux name={name}>{_dims_xml(v.dims)}<eqn>{escape(xmile_expression(v.equation))}</eqn>{_meta(v)}</aux>\n"
    if v.lookup is None:
        value = np.asarray(v.value, dtype=float)
        if not v.dims:
            return f"<aux name={name}><eqn>{fmt(value)}</eqn>{_meta(v)}</aux>\n"
        body = "".join(f"<element subscript={quoteattr(sub)}><eqn>{fmt(value[idx])}</eqn></element>"
                       for idx, sub in _elements(v.dims, table))
        return f"<aux name={name}>{_dims_xml(v.dims)}{body}{_meta(v)}</aux>\n"
    out, refs = [], {}
    for key, pts in v.lookup.items():
        gname = "_".join((v.name, "table") + tuple(key))
        refs[key] = gname
        xs = ",".join(fmt(x) for x, _ in pts)
        ys = ",".join(fmt(y) for _, y in pts)
        out.append(f"<aux name={quoteattr(gname)}><eqn>TIME</eqn><gf><xpts>{xs}</xpts><ypts>{ys}</ypts></gf>"
                   f"<units>{escape(v.units)}</units><doc>time table of {v.name} (x = TIME, yr)</doc></aux>\n")
    if not v.dims:
        out.append(f"<aux name={name}><eqn>{refs[()]}</eqn>{_meta(v)}</aux>\n")
    else:
        body = "".join(f"<element subscript={quoteattr(','.join(key))}><eqn>{ref}</eqn></element>"
                       for key, ref in refs.items())
        out.append(f"<aux name={name}>{_dims_xml(v.dims)}{body}{_meta(v)}</aux>\n")
    return "".join(out)


def to_xmile(table: ModelTable) -> str:
    dims = "".join(f'<dim name="{d}">' + "".join(f'<elem name="{e}"/>' for e in elems) + "</dim>\n"
                   for d, elems in table.dimensions.items())
    body = "".join(_variable(v, table) for v in table.variables)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">\n'
        f'<header><vendor>simulator</vendor><product version="{__version__}">simulator (Changchun metro SD model)'
        f'</product><name>{escape(table.name)}</name></header>\n'
        f'<sim_specs method="Euler" time_units="yr"><start>{fmt(table.start)}</start><stop>{fmt(table.end)}</stop>'
        f'<dt>{fmt(table.dt)}</dt></sim_specs>\n'
        f'<dimensions>\n{dims}</dimensions>\n'
        f'<model>\n<variables>\n{body}</variables>\n</model>\n</xmile>\n')
