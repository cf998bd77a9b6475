"""The example notebooks are stored without outputs and must run top to bottom (nbclient); their rendering in
docs/gallery/ (for reading without running them) must match what they print now, without warnings or raw
floats (docs/render_notebooks.py regenerates it)."""
import importlib.util
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _renderer():
    spec = importlib.util.spec_from_file_location("render_notebooks", ROOT / "docs" / "render_notebooks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_at_least_two_notebooks():
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_stored_without_outputs_and_runs(path, monkeypatch):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name}: outputs stored"
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()          # raises CellExecutionError on the first failing cell
    images = sum(1 for c in nb.cells if c.cell_type == "code" for o in c.outputs
                 if o.get("output_type") == "display_data" and "image/png" in o.get("data", {}))
    assert images >= 4
    rn = _renderer()
    assert rn.problems(nb, path.stem) == []                  # no warnings, no raw floats in the outputs
    text, figures = rn.render(nb, path.stem)
    md = ROOT / "docs" / "gallery" / f"{path.stem}.md"
    assert md.is_file() and md.read_text(encoding="utf-8") == text, \
        f"{md.relative_to(ROOT)} is stale: run python docs/render_notebooks.py"
    for name in figures:
        assert (md.parent / name).is_file(), name


def test_raw_float_rule():
    rn = _renderer()
    assert rn.RAW_FLOAT.search("0.419571") and rn.RAW_FLOAT.search("1.300000e+07")
    assert not rn.RAW_FLOAT.search("1284.5 万人") and not rn.RAW_FLOAT.search("gap -10.6 %")
