"""Small sweeps on a short run (2024–2030) for the ensemble tests."""
from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

SHORT_SCENARIO = {"name": "short", "extends": str(ROOT / "scenarios" / "baseline.yaml"),
                  "time": {"start": 2024, "end": 2030, "output_step": 1}}


def write_sweep(tmp_path: Path, **overrides) -> Path:
    (tmp_path / "short.yaml").write_text(yaml.safe_dump(SHORT_SCENARIO))
    doc = {
        "name": "small",
        "scenario": "short.yaml",
        "design": {"method": "lhs", "samples": 12, "seed": 3},
        "parameters": {"income_weight": {"distribution": "uniform", "lower": 1.0, "upper": 2.0},
                       "mortality_scale": {"distribution": "normal", "mean": 1.0, "sd": 0.03, "apply": "scale"}},
        "levers": {"tfp_growth": {"distribution": "uniform", "lower": 0.01, "upper": 0.04,
                                  "elements": "plan_area", "from": 2026},
                   "metro_integration": {"distribution": "uniform", "lower": 0.0, "upper": 1.0}},
        "outputs": {"variables": ["metro_population", "metro_gdp_nominal", "population"]},
        "chunk_size": 4,
    }
    doc.update(overrides)
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path
