"""The resolved ``Scenario``: everything a model run needs, after ``extends`` merging and validation."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .schedules import LeverSchedule


@dataclass(frozen=True)
class SolverSettings:
    """ODE solver choice; ``atol`` is relative to each state's typical size."""

    method: str = "RK45"
    rtol: float = 1e-6
    atol: float = 1e-6


@dataclass(frozen=True)
class Targets:
    """Plan targets: resident population [persons] and nominal GDP [yuan] in ``year``."""

    year: float = 2030
    population: float = 1.3e7
    gdp_nominal: float = 1.35e12


@dataclass(frozen=True, eq=False)
class Scenario:
    """A validated, fully resolved scenario (see ``simulator.scenario`` for the file format)."""

    name: str
    description: str
    path: Path | None
    text: str
    sha256: str
    start: float
    end: float
    output_step: float
    output_times: np.ndarray
    solver: SolverSettings
    age_substages: int
    targets: Targets
    parameter_overrides: dict[str, float | dict[str, float]]
    parameters: dict[str, np.ndarray]
    levers: dict[str, LeverSchedule]
    chain: tuple[Path, ...] = ()
    source: str = field(default="<dict>", repr=False)
    history: Scenario | None = field(default=None, repr=False)
    policies: tuple = field(default=(), repr=False)     # raw ``policies:`` sections, root parent first

    # --- continuation of a history run (``continues:``) ------------------------------------------
    @property
    def run_start(self) -> float:
        """Where the integration starts: the history's start if this scenario continues one."""
        return self.history.start if self.history is not None else self.start

    @property
    def run_output_times(self) -> np.ndarray:
        """Output times of the whole integration: the history's years, then this scenario's."""
        if self.history is None:
            return self.output_times
        past = self.history.output_times[self.history.output_times < self.start]
        return np.concatenate([past, self.output_times])

    def effective_levers(self) -> dict[str, LeverSchedule]:
        """The schedules the model sees: the history's levers before ``start``, this scenario's after."""
        if self.history is None:
            return self.levers
        return {name: LeverSchedule.spliced(self.history.levers[name], lever, self.start)
                for name, lever in self.levers.items()}

    def breakpoints(self) -> np.ndarray:
        """Sorted unique lever knot times strictly inside (start, end)."""
        times = {t for lever in self.effective_levers().values() for t in lever.breakpoints()}
        return np.array(sorted(t for t in times if self.run_start < t < self.end), dtype=float)

    def with_changes(self, parameters: dict | None = None, levers: dict | None = None) -> Scenario:
        """A copy with more overrides applied on top, in the file format (validated the same way)."""
        from .loader import apply_changes

        return apply_changes(self, parameters or {}, levers or {})

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serializable description of the resolved scenario (for provenance)."""
        return {
            "name": self.name,
            "description": self.description,
            "path": str(self.path) if self.path is not None else None,
            "chain": [str(p) for p in self.chain],
            "sha256": self.sha256,
            "time": {"start": self.start, "end": self.end, "output_step": self.output_step},
            "solver": {"method": self.solver.method, "rtol": self.solver.rtol, "atol": self.solver.atol},
            "model": {"age_substages": self.age_substages},
            "targets": {"year": self.targets.year, "population": self.targets.population,
                        "gdp_nominal": self.targets.gdp_nominal},
            "parameter_overrides": {k: (dict(v) if isinstance(v, dict) else v)
                                    for k, v in self.parameter_overrides.items()},
            "levers": {name: lever.to_dict() for name, lever in self.levers.items()},
            "continues": self.history.to_dict() if self.history is not None else None,
            "policies": list(self.policies),
        }
