"""What every ``sim`` command shares: the option vocabulary, logging set-up, destinations that are
never replaced silently, and inputs given as a directory or as the file inside it.

Option vocabulary (the same meaning in every command that has it)::

    -o/--output DIR|FILE   destination (a directory, except for commands that write one file)
    --overwrite            replace an earlier, different analysis at the destination
    -n/--samples N         sample size            --seed S      random seed
    -j/--jobs N            local worker processes -y/--year Y   a year (repeatable where it makes sense)
    --variable NAME        an output variable     -q/--quiet, -v/--verbose   less / more on stderr

Logging: library modules log to ``logging.getLogger(__name__)`` (under ``simulator``); the command
line attaches one stderr handler to the ``simulator`` logger (INFO; DEBUG with -v; WARNING with -q).
Library users configure logging as usual (``logging.getLogger("simulator").setLevel(...)``).
"""
from __future__ import annotations

import hashlib
import json
import logging
import sys
from pathlib import Path

import click

log = logging.getLogger("simulator")


class _TqdmHandler(logging.StreamHandler):
    """Writes through tqdm so that log lines do not break a progress bar."""

    def emit(self, record):
        try:
            from tqdm import tqdm
            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:  # noqa: BLE001 - fall back to a plain stream
            super().emit(record)


class _Format(logging.Formatter):
    def format(self, record):
        msg = record.getMessage()
        if record.levelno >= logging.ERROR:
            return f"error: {msg}"
        if record.levelno >= logging.WARNING:
            return f"warning: {msg}"
        return msg


def setup_logging(verbosity: int) -> None:
    """-1 quiet (warnings and errors), 0 normal (info), 1+ verbose (debug)."""
    level = logging.WARNING if verbosity < 0 else logging.DEBUG if verbosity > 0 else logging.INFO
    for h in list(log.handlers):
        if getattr(h, "_sim_cli", False):
            log.removeHandler(h)
    handler = _TqdmHandler(sys.stderr)
    handler._sim_cli = True
    handler.setFormatter(_Format())
    log.addHandler(handler)
    log.setLevel(level)
    log.propagate = False
    logging.captureWarnings(False)


def _verbosity_callback(ctx: click.Context, param, value):
    meta = ctx.meta.setdefault("sim_verbosity", 0)
    if param.name == "quiet" and value:
        ctx.meta["sim_verbosity"] = -1
    elif param.name == "verbose" and value:
        ctx.meta["sim_verbosity"] = max(meta, 0) + value
    setup_logging(ctx.meta["sim_verbosity"])
    return value


def verbosity_options(fn):
    """-q/--quiet and -v/--verbose (not passed to the command; read with ``quiet()``)."""
    fn = click.option("-v", "--verbose", count=True, expose_value=False, callback=_verbosity_callback,
                      help="More detail on stderr (repeat for debug output).")(fn)
    fn = click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=_verbosity_callback,
                      help="Only warnings and errors: no tables, no progress bar.")(fn)
    return fn


def quiet() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx and ctx.meta.get("sim_verbosity", 0) < 0)


def overwrite_option(fn):
    return click.option("--overwrite", is_flag=True,
                        help="Replace an earlier, different analysis at the destination (without it the "
                             "command refuses and says where the earlier one is).")(fn)


def fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def analysis_key(**settings) -> str:
    """A short hash of everything that determines an analysis' result (JSON-serialisable values)."""
    blob = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:20]


def existing_key(path: Path) -> str | None:
    """The ``analysis_key`` recorded in an earlier output (NetCDF attribute or JSON field), '' if the
    file exists without one, None if there is no file."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        if path.suffix == ".nc":
            import xarray as xr
            with xr.open_dataset(path) as ds:
                return str(ds.attrs.get("analysis_key", ""))
        if path.suffix == ".json":
            return str(json.loads(path.read_text(encoding="utf-8")).get("analysis_key", ""))
    except Exception:  # noqa: BLE001 - unreadable: treat as a different analysis
        return ""
    return ""


def guard_destination(path: Path, key: str, overwrite: bool, what: str) -> bool:
    """Refuse (exit 2) to replace ``path`` when it holds a different analysis, unless ``overwrite``.

    Returns True when an earlier different analysis is being replaced (the caller says so). A destination
    that exists and is not a regular file (a device, a FIFO, a directory) is refused first, before anything
    reads it."""
    from .safeio import DestinationError, check_output_dir, check_output_file
    try:
        check_output_dir(Path(path).parent)
        check_output_file(Path(path))
    except DestinationError as exc:
        fail(f"cannot write the {what}: {exc}")
    old = existing_key(path)
    if old is None or old == key:
        return False
    if not overwrite:
        fail(f"{path} already holds a different {what}; choose another destination with -o DIR, or add "
             f"--overwrite to replace it")
    return True


def resolve_input(path: Path, filename: str) -> Path:
    """A directory stands for the ``filename`` inside it (e.g. outputs/uncertainty → …/ensemble.nc)."""
    path = Path(path)
    if path.is_dir():
        inner = path / filename
        if not inner.is_file():
            fail(f"{path} is a directory without {filename}")
        return inner
    return path


#: array libraries xarray probes for on every new array when they are installed (``array_type``)
_PROBED_ARRAY_LIBRARIES = ("dask", "pint", "sparse", "cupy")


def skip_unused_array_libraries() -> None:
    """Spare a short command the imports of array libraries it cannot be using.

    xarray checks every array it wraps against the array types of dask, pint, sparse and cupy, importing
    each installed one the first time (dask.array and pint: ~0.3 s of a ~2.5 s `sim run`). In a process that
    has not imported one of them, no array of its type exists, so the answer is "not that type" without the
    import: this records them in xarray's cache of probed libraries as unavailable. Only for commands that
    never create such arrays (`sim run`); a no-op if xarray's internals differ from 2023–2026 releases.
    """
    try:
        from packaging.version import Version
        from xarray.namedarray import pycompat
        cache, module_class = pycompat._cached_duck_array_modules, pycompat.DuckArrayModule
    except (ImportError, AttributeError):  # pragma: no cover - another xarray
        return
    for name in _PROBED_ARRAY_LIBRARIES:
        if name in sys.modules or name in cache:
            continue
        absent = module_class.__new__(module_class)
        absent.module, absent.version, absent.type, absent.available = None, Version("0.0.0"), (), False
        cache[name] = absent
