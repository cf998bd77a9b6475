"""Resumable, chunk-by-chunk storage of an ensemble.

Layout under the output directory (``outputs/<sweep name>/`` by default)::

    chunks/<key>/chunk_000012.npz    one file per finished chunk, written atomically (tmp + rename)
    chunks/<key>/manifest.json       the settings the key was computed from
    ensemble.nc                      all chunks combined (written atomically once every chunk exists)

``key`` is a SHA-256 over everything that determines the results: the resolved base scenario, the
factors, design method, sample size, seed, levels, chunk size, stored variables, solver guard and the
package version. Rerunning the same command finds the finished chunks under the same key and runs only
the missing ones; a changed sweep gets a new key and never mixes with old chunks. Because each chunk's
members are always integrated together in the same way, a resumed ensemble is identical to an
uninterrupted one.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np

from ..atomic import atomic_path, write_bytes, write_netcdf
from .runner import ChunkResult

write_netcdf_atomic = write_netcdf     # name used by the sweep and sensitivity commands


def design_key(settings: dict, chunk_size: int) -> str:
    from simulator import __version__
    blob = json.dumps({"settings": settings, "chunk_size": chunk_size, "version": __version__},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:20]


def chunk_bounds(n: int, size: int) -> list[tuple[int, int, int]]:
    return [(i, a, min(a + size, n)) for i, a in enumerate(range(0, n, size))]


class ChunkStore:
    def __init__(self, directory: Path, key: str, settings: dict | None = None):
        self.root = Path(directory) / "chunks" / key
        self.key = key
        self.root.mkdir(parents=True, exist_ok=True)
        manifest = self.root / "manifest.json"
        if settings is not None and not manifest.exists():
            write_bytes(manifest, json.dumps(settings, indent=1, sort_keys=True, default=str).encode())

    def path(self, index: int) -> Path:
        return self.root / f"chunk_{index:06d}.npz"

    def done(self, verify: bool = False) -> set[int]:
        """Indices of the stored chunks; with ``verify``, a chunk file that cannot be read back whole
        (truncated by a full disk or a crash of another tool, corrupted) is deleted, so it is rerun."""
        out = set()
        for p in self.root.glob("chunk_*.npz"):
            try:
                index = int(p.stem.split("_")[1])
            except (ValueError, IndexError):
                continue
            if verify and not self.readable(index):
                p.unlink(missing_ok=True)
                continue
            out.add(index)
        return out

    def readable(self, index: int) -> bool:
        if not self.path(index).is_file():     # a FIFO or device would block or never end
            return False
        try:
            res = self.read(index)
        except Exception:  # noqa: BLE001 - BadZipFile, EOFError, KeyError, ValueError, OSError, ...
            return False
        return res.index == index

    def write(self, res: ChunkResult) -> None:
        arrays = {f"var__{k}": v for k, v in res.data.items()}
        arrays["failed"] = res.failed.astype(np.int8)
        arrays["reason"] = np.array(res.reason if res.reason else [], dtype=str).reshape(-1)
        arrays["meta"] = np.array(json.dumps({"index": res.index, "start": res.start, "seconds": res.seconds,
                                              "nfev": res.nfev, "attempts": res.attempts, "worker": res.worker}))
        with atomic_path(self.path(res.index)) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays)
                fh.flush()
                os.fsync(fh.fileno())

    def read(self, index: int) -> ChunkResult:
        with np.load(self.path(index), allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            data = {k[5:]: z[k] for k in z.files if k.startswith("var__")}
            return ChunkResult(meta["index"], meta["start"], data, z["failed"].astype(bool),
                               [str(r) for r in z["reason"]], meta["seconds"], meta["nfev"], meta["attempts"],
                               meta["worker"])

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        parent = self.root.parent
        if parent.exists() and not any(parent.iterdir()):
            parent.rmdir()
