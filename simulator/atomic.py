"""Atomic output files: write to a temporary file in the destination's directory, then rename.

An interrupted or failed write leaves the previous file (if any) untouched and no temporary file
behind; readers never see a half-written file. A destination that exists and is not a regular file
(a device such as /dev/null or /dev/full, a FIFO, a directory) is refused with ``DestinationError``
(an ``OSError``) instead of being replaced. ``replace_together`` renames a set of files so that
either all of them are the new versions or none is (earlier files restored on failure).
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .safeio import DestinationError, check_output_file


@contextmanager
def atomic_path(path, suffix: str = ".tmp"):
    """Yield a temporary path next to ``path``; rename it onto ``path`` if the block succeeds."""
    path = Path(path)
    check_output_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        usual_mode(tmp)                        # mkstemp creates 0600; give the usual file mode
        if os.path.lexists(path) and not os.path.isfile(path):
            raise DestinationError(path, "became something other than a regular file; not replaced")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_bytes(path, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    return Path(path)


def write_text(path, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def write_netcdf(ds, path) -> Path:
    with atomic_path(path) as tmp:
        to_netcdf(ds, tmp)
    return Path(path)


def to_netcdf(ds, path) -> None:
    """``ds.to_netcdf(path)`` (netCDF4 engine, NETCDF4 format; the same bytes), without asking dask for its
    scheduler when no variable is a dask array: xarray's ``to_netcdf`` imports ``dask.distributed``
    (~0.15 s of a fresh `sim run`) only to choose the file lock."""
    if any(v.chunks is not None for v in ds.variables.values()):
        ds.to_netcdf(path)
        return
    try:
        from xarray.backends import NetCDF4DataStore
        from xarray.backends.netCDF4_ import NETCDF4_PYTHON_LOCK
        from xarray.backends.writers import _validate_attrs, _validate_dataset_names
    except ImportError:  # pragma: no cover - a future xarray without these names
        ds.to_netcdf(path)
        return
    _validate_dataset_names(ds)                   # the checks to_netcdf makes before writing (clear errors)
    _validate_attrs(ds, engine="netcdf4")
    store = NetCDF4DataStore.open(os.fspath(path), mode="w", format="NETCDF4", lock=NETCDF4_PYTHON_LOCK)
    try:
        ds.dump_to_store(store, unlimited_dims=ds.encoding.get("unlimited_dims"))
    finally:
        store.close()


def usual_mode(path) -> None:
    """Give ``path`` the mode a plain ``open(..., "w")`` would (0666 minus the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def replace_together(pairs: list[tuple[Path, Path]]) -> None:
    """``os.replace(tmp, final)`` for every pair, all or nothing.

    Existing finals are first hard-linked to backups; if any rename fails, the finals already
    replaced are restored from their backups (or removed if they did not exist), so the set of
    files changes together. Backups are removed at the end either way.
    """
    backups: list[tuple[Path, Path | None]] = []
    done: list[tuple[Path, Path | None]] = []
    try:
        for _, final in pairs:
            final = Path(final)
            if os.path.lexists(final) and not os.path.isfile(final):
                raise DestinationError(final, "exists and is not a regular file; refusing to replace it")
            backup = None
            if os.path.lexists(final):
                fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".bak", dir=final.parent)
                os.close(fd)
                os.unlink(name)
                os.link(final, name)
                backup = Path(name)
            backups.append((final, backup))
        for (tmp, final), (_, backup) in zip(pairs, backups):
            os.replace(tmp, final)
            done.append((Path(final), backup))
    except BaseException:
        for final, backup in reversed(done):
            try:
                if backup is not None:
                    os.replace(backup, final)
                else:
                    os.unlink(final)
            except OSError:  # pragma: no cover - best effort
                pass
        raise
    finally:
        for _, backup in backups:
            if backup is not None and os.path.lexists(backup):
                os.unlink(backup)
