"""Render the example notebooks for reading without running them: docs/gallery/<notebook>.md (code, printed
results, tables) with the figures as docs/gallery/<notebook>_<n>.png. Run by hand after changing a
notebook or the model (it rewrites docs/gallery/, nothing else):

    python docs/render_notebooks.py            # execute every notebook in notebooks/ and render it
    python docs/render_notebooks.py --check    # only report whether docs/gallery/ is up to date

The notebooks themselves stay stored without outputs. tests/test_notebooks.py executes each notebook and
checks that its rendering (text and numbers; figure files present) matches docs/gallery/, that no cell
printed a warning, and that no number is printed raw (more than four decimals, or in scientific notation).
"""
from __future__ import annotations

import argparse
import base64
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GALLERY = ROOT / "docs" / "gallery"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

#: a "raw float": a printed number with more than four decimals, or in scientific notation
RAW_FLOAT = re.compile(r"(?<![\w.])-?\d+\.\d{5,}|(?<![\w.])-?\d+(?:\.\d+)?e[+-]?\d+", re.I)


def execute(path: Path):
    import nbclient
    import nbformat
    nb = nbformat.read(path, as_version=4)
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def render(nb, stem: str) -> tuple[str, dict[str, bytes]]:
    """(markdown text, {figure file name: PNG bytes}) of an executed notebook."""
    lines = [f"<!-- rendered from notebooks/{stem}.ipynb by docs/render_notebooks.py; do not edit -->", ""]
    figures: dict[str, bytes] = {}
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            lines += [cell.source, ""]
            continue
        if cell.cell_type != "code":
            continue
        lines += ["```python", cell.source, "```", ""]
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "stream":
                lines += ["```text", out.get("text", "").rstrip("\n"), "```", ""]
            elif kind in ("execute_result", "display_data"):
                data = out.get("data", {})
                if "image/png" in data:
                    name = f"{stem}_{len(figures) + 1}.png"
                    figures[name] = base64.b64decode(data["image/png"])
                    lines += [f"![figure {len(figures)}]({name})", ""]
                elif "text/markdown" in data:
                    lines += [data["text/markdown"], ""]
                elif "text/plain" in data:
                    lines += ["```text", data["text/plain"].rstrip("\n"), "```", ""]
            elif kind == "error":
                lines += ["```text", "\n".join(out.get("traceback", [])), "```", ""]
    return "\n".join(lines).rstrip("\n") + "\n", figures


def problems(nb, stem: str) -> list[str]:
    """Warnings printed by a cell and raw floats in the printed outputs."""
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                found.append(f"{stem} cell {i}: printed to stderr: {out.get('text', '')[:200]!r}")
            texts = [out.get("text", "")] + [out.get("data", {}).get("text/plain", ""),
                                             out.get("data", {}).get("text/markdown", "")]
            texts = [t if isinstance(t, str) else "".join(t) for t in texts]
            for t in texts:
                m = RAW_FLOAT.search(t or "")
                if m:
                    found.append(f"{stem} cell {i}: raw float {m.group(0)!r}")
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="do not write; exit 1 if docs/gallery/ is stale")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    stale = []
    for path in NOTEBOOKS:
        nb = execute(path)
        text, figures = render(nb, path.stem)
        for p in problems(nb, path.stem):
            print("problem:", p)
        md = GALLERY / f"{path.stem}.md"
        if args.check:
            if not md.exists() or md.read_text(encoding="utf-8") != text:
                stale.append(str(md.relative_to(ROOT)))
            continue
        GALLERY.mkdir(parents=True, exist_ok=True)
        for old in GALLERY.glob(f"{path.stem}_*.png"):
            old.unlink()
        for name, data in figures.items():
            (GALLERY / name).write_bytes(data)
        md.write_text(text, encoding="utf-8")
        print(f"wrote {md.relative_to(ROOT)} and {len(figures)} figures")
    if stale:
        print("stale: " + ", ".join(stale) + " (run python docs/render_notebooks.py)")
        sys.exit(1)


if __name__ == "__main__":
    main()
