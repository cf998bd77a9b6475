"""docs/model.md stays in step with the code."""
import subprocess
import sys
from pathlib import Path

from simulator.model.levers import LEVERS
from simulator.model.parameters import PARAMETERS
from simulator.model.state import block_shapes

ROOT = Path(__file__).resolve().parents[1]


def test_generated_tables_are_current():
    proc = subprocess.run([sys.executable, str(ROOT / "docs" / "tables.py"), "--check"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_name_is_documented():
    text = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    for name in list(PARAMETERS) + list(LEVERS) + list(block_shapes(5)):
        assert f"`{name}`" in text, name
