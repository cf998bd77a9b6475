"""The compiler of the model equations: ``numba.njit`` with an on-disk cache that follows the source.

Every sector function, the assembled right-hand side (``rhs.py``) and the integrator (``dopri.py``) are
decorated with ``jit``: ordinary Python functions written in the numpy subset numba compiles, so each can
be called (and tested) on its own from Python, and the compiled right-hand side calls them without any
interpreter in between.

Cache. ``cache=True`` stores the machine code on disk, so only the first run after an install (or after an
edit of the model) pays the compilation. numba checks only the time stamp of the file that holds a
function, not of the functions it calls or of the module constants it read (block offsets, lever
offsets): an edited sector would leave a stale compiled right-hand side. The cache therefore lives in a
directory named by a hash of every source file the compiled code depends on (``_SOURCES``), so any edit
starts a fresh cache. Directory: ``$SIMULATOR_JIT_CACHE`` if set, else ``__pycache__/jit-<hash>`` beside
this file, else (read-only install) ``~/.cache/changchun-simulator/jit-<hash>``.

``unowned`` hands the compiled right-hand side its argument arrays without their owner, so that views of
them carry no atomic reference counts (numba's NRT); in Python it returns its argument.

``SIMULATOR_NO_JIT=1`` leaves every function as plain Python (slow; for debugging a sector in pdb).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

_HERE = Path(__file__).resolve().parent
#: every file whose content the compiled model functions depend on (sources and the registries that fix
#: offsets). Callers at the top of the call graph (``simulator/dopri.py``) are covered by numba's own
#: time-stamp check plus this hash (a changed callee changes the directory).
_SOURCES = sorted([*_HERE.glob("*.py"), *(_HERE / "sectors").glob("*.py")])


def _source_hash() -> str:
    h = hashlib.sha256()
    for path in _SOURCES:
        h.update(path.name.encode())
        try:
            h.update(path.read_bytes())
        except OSError:  # pragma: no cover
            pass
    return h.hexdigest()[:16]


def _prune(base: Path, keep: str, age: float = 3600.0) -> None:
    """Remove the caches of earlier sources (``jit-*`` beside ``keep``) not written to for ``age`` seconds
    (each is 20–50 MB; an edited model never reads them again)."""
    import shutil
    import time
    for old in base.glob("jit-*"):
        try:
            if old.name != keep and time.time() - old.stat().st_mtime > age:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:  # pragma: no cover
            pass


def _cache_dir() -> str:
    explicit = os.environ.get("SIMULATOR_JIT_CACHE")
    if explicit:
        return explicit
    tag = f"jit-{_source_hash()}"
    for base in (_HERE / "__pycache__", Path.home() / ".cache" / "changchun-simulator"):
        try:
            base.mkdir(parents=True, exist_ok=True)
            probe = base / ".write-test"
            probe.touch()
            probe.unlink()
            _prune(base, tag)
            return str(base / tag)
        except OSError:
            continue
    return str(Path(os.environ.get("TMPDIR", "/tmp")) / "changchun-simulator" / tag)  # pragma: no cover


ENABLED = os.environ.get("SIMULATOR_NO_JIT", "") in ("", "0")
CACHE_DIR = _cache_dir() if ENABLED else None


def jit(func=None, **options):
    """``numba.njit(cache=True)`` into the source-hashed cache directory (see module doc)."""
    if func is None:
        return lambda f: jit(f, **options)
    if not ENABLED:
        return func
    import numba
    from numba.core import config
    previous = config.CACHE_DIR
    config.CACHE_DIR = CACHE_DIR          # read once, when the dispatcher sets up its cache
    try:
        return numba.njit(cache=True, error_model="numpy", **options)(func)
    finally:
        config.CACHE_DIR = previous


def unowned(x):
    """``x`` (an array, or a tuple of arrays such as a parameter record) for use inside one compiled call.

    In compiled code: the same arrays without their owner (the NRT meminfo pointer is null), so the views
    taken of them carry no reference count: numba otherwise increments and decrements an atomic counter
    for every view (``P.alpha[m]``, ``rows[W_pop]``, ``y[S_K:S_K + N]``) and for every array passed to a
    sector function, ~15 % of an evaluation of the right-hand side. Only for arrays whose owner outlives
    every use of the result: the arguments of the calling function, used within it (never stored or
    returned). Never unown a value created in the same function (``unowned(workspace(C))``): numba may free
    it after its last owned use while the unowned alias is still in use. Arrays, tuples of arrays and
    numbers only (anything else is a typing error). From Python: ``x`` itself.
    """
    return x


if ENABLED:
    from numba.core import cgutils, types
    from numba.core.errors import TypingError
    from numba.extending import intrinsic, overload

    def _strip_owner(context, builder, ty, value):
        if isinstance(ty, types.Array):
            ary = context.make_array(ty)(context, builder, value=value)
            ary.meminfo = cgutils.get_null_value(ary.meminfo.type)
            ary.parent = cgutils.get_null_value(ary.parent.type)
            return ary._getvalue()
        if isinstance(ty, types.BaseTuple):
            for i, item_type in enumerate(ty):
                item = _strip_owner(context, builder, item_type, builder.extract_value(value, i))
                value = builder.insert_value(value, item, i)
        return value

    def _strippable(ty):
        """Arrays, and tuples of arrays and numbers: what ``_strip_owner`` returns without a reference of
        its own to give (a string or list passed through would be released once more than it was taken)."""
        if isinstance(ty, types.Array):
            return True
        if isinstance(ty, types.BaseTuple):
            return all(_strippable(item) for item in ty)
        return isinstance(ty, (types.Number, types.Boolean))

    @intrinsic
    def _unowned(typingctx, x):
        if not _strippable(x):
            raise TypingError(f"unowned() takes arrays, tuples of arrays and numbers, not {x}")

        def codegen(context, builder, signature, args):
            return _strip_owner(context, builder, signature.args[0], args[0])
        return x(x), codegen

    @overload(unowned)
    def _unowned_overload(x):
        return lambda x: _unowned(x)


_announced = False


def announce_cold_cache() -> None:
    """Say once on a terminal's stderr that the model core is being compiled, when the cache holds nothing
    yet (the first run after an install or a model edit: minutes of silence otherwise)."""
    global _announced
    if _announced or not ENABLED:
        return
    _announced = True
    import sys
    try:
        cold = not any(Path(CACHE_DIR).rglob("*.nbi"))
    except OSError:  # pragma: no cover
        cold = True
    if cold and sys.stderr.isatty():
        print(f"compiling the model core once (first run after an install or a model edit: about 1–2 min on a "
              f"2-core machine, estimate); cached in {CACHE_DIR}", file=sys.stderr, flush=True)
