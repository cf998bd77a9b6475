"""CF-1.10 metadata for the NetCDF files the command line writes (results.nc, ensemble.nc, sensitivity.nc).

What is added or normalised (``cf_dataset``):

* the global attribute ``Conventions = "CF-1.10"`` (a free-text lower-case ``conventions`` note moves to
  ``comment``);
* the ``time`` coordinate gets ``standard_name = "time"`` and ``axis = "T"`` (what cf_xarray and other CF
  readers look for). Its values stay integer calendar years (year-end values, ``units = "year"``) so
  that ``ds.sel(time=2030)`` keeps working; CF's "years since …" form is deliberately not used;
* unit strings are written so that udunits/cf_units and pint read them: ``m2`` becomes ``m^2``.
  Counts of people are in ``person`` (plural ``persons``) and money in ``yuan``, which neither library
  knows; define them once::

      import pint
      ureg = pint.UnitRegistry()
      for line in simulator.cf.PINT_DEFINITIONS:
          ureg.define(line)

  (or ``simulator.cf.unit_registry()``, which does exactly that). Dimensionless quantities are ``1``.
* No CF standard names exist for the model's socio-economic variables, so none is invented; ``long_name``
  describes each variable.
"""
from __future__ import annotations

import re

#: pint definitions for the units CF/udunits lack (see the module docstring)
PINT_DEFINITIONS = (
    "person = [population] = persons",
    "worker = person = workers",
    "woman = person = women",
    "birth = person = births",
    "yuan = [currency] = CNY",
)

_M2 = re.compile(r"\bm2\b")


def cf_units(units: str) -> str:
    """A unit string readers parse: ``m2`` → ``m^2`` (the rest is already udunits/pint syntax)."""
    return _M2.sub("m^2", str(units))


def unit_registry():
    """A pint ``UnitRegistry`` that parses every unit string the simulator writes."""
    import pint
    ureg = pint.UnitRegistry()
    for line in PINT_DEFINITIONS:
        ureg.define(line)
    return ureg


def cf_dataset(ds):
    """``ds`` with CF-1.10 attributes (a shallow copy; data are not copied)."""
    ds = ds.copy()
    ds.attrs["Conventions"] = "CF-1.10"
    # an older free-text 'conventions' attribute (lower case) would read as a second, conflicting
    # Conventions to case-insensitive tools: keep its text as the CF 'comment'
    note = ds.attrs.pop("conventions", None)
    if note:
        note = str(note).replace("CF-1.8 style attrs; ", "")
        ds.attrs["comment"] = f"{ds.attrs['comment']}; {note}" if ds.attrs.get("comment") else note
    for name in list(ds.variables):
        units = ds[name].attrs.get("units")
        if units is not None:
            ds[name].attrs["units"] = cf_units(units)
    if "time" in ds.coords:
        ds["time"].attrs.update(standard_name="time", axis="T")
        ds["time"].attrs.setdefault("units", "year")
    return ds
