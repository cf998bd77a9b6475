"""Defensive reading of input files and checks of output destinations.

* ``read_input_text``: only regular files, at most ``limit`` bytes, UTF-8. A FIFO, a device
  (``/dev/zero``, ``/dev/urandom``), a directory or an oversized file is refused with a clear
  reason instead of blocking forever or filling memory. The file is opened non-blocking so that
  opening a FIFO without a writer does not hang, and ``fstat`` is checked on the opened descriptor
  (no race between the check and the read).
* ``load_yaml``: ``yaml.SafeLoader`` (subclass) with the document's composed node graph checked
  before anything is built from it: at most ``MAX_YAML_NODES`` nodes *after* alias expansion (a
  "billion laughs" alias bomb of a few hundred bytes is refused at once), no recursive aliases,
  no duplicate mapping keys (reported with their line), at most ``MAX_MAPPING_KEYS`` keys per
  mapping (20,000 unknown keys would otherwise take minutes of "did you mean" suggestions).
* ``check_output_file`` / ``check_output_dir``: a destination chosen with ``-o``/``-f`` must be a
  regular file (or not exist yet) and its nearest existing parent must be a writable directory;
  checked before long work starts, so that nothing is computed only to be lost.
"""
from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

#: largest input file read (scenario, sweep, calibration configuration), bytes
MAX_INPUT_BYTES = 1 << 20
#: largest number of YAML nodes after alias expansion (the shipped files have < 2,000)
MAX_YAML_NODES = 100_000
#: most keys in one YAML mapping (the largest legitimate one, parameters, has about 100)
MAX_MAPPING_KEYS = 1000
#: names used as file or directory names (scenario, sweep and calibration ``name:``)
SAFE_NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}$"
SAFE_NAME_TEXT = ("1–100 characters from A–Z a–z 0–9 _ . -, not starting with '.' or '-' "
                  "(the name becomes a directory name)")


class InputFileError(ValueError):
    """An input file that cannot or must not be read; ``reason`` is a short explanation."""

    def __init__(self, path, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def read_input_bytes(path, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; ``InputFileError`` otherwise."""
    try:
        fd = os.open(os.fspath(path), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except (OSError, ValueError, TypeError) as exc:  # ValueError: NUL in the path
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputFileError(path, f"cannot read file ({reason})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputFileError(path, f"is {_kind(st.st_mode)}, not a regular file")
        if st.st_size > limit:
            raise InputFileError(path, f"file too large ({st.st_size:,} bytes; at most {limit:,})")
        chunks, size = [], 0
        while True:
            block = os.read(fd, min(1 << 16, limit + 1 - size))
            if not block:
                break
            chunks.append(block)
            size += len(block)
            if size > limit:
                raise InputFileError(path, f"file too large (more than {limit:,} bytes)")
        return b"".join(chunks)
    except OSError as exc:
        raise InputFileError(path, f"cannot read file ({exc.strerror or exc})") from None
    finally:
        os.close(fd)


def read_input_text(path, limit: int = MAX_INPUT_BYTES) -> str:
    """``read_input_bytes`` decoded as UTF-8 (``InputFileError`` for undecodable bytes)."""
    data = read_input_bytes(path, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(path, f"not UTF-8 text (byte {exc.start}: {data[exc.start:exc.start + 1]!r})") from None


# --- YAML ---------------------------------------------------------------------------------------

class YAMLLimitError(yaml.YAMLError):
    """The document is too large after alias expansion, recursive, or has duplicate keys."""

    def __init__(self, message: str, line: int | None = None):
        self.line = line
        super().__init__(message)


def check_node_graph(root: yaml.Node, max_nodes: int = MAX_YAML_NODES) -> None:
    """Refuse alias bombs, recursive aliases and duplicate mapping keys (iteratively: no recursion)."""
    size: dict[int, int] = {}            # id(node) -> expanded size, once finished
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            children = _children(node)
            total = 1 + sum(size[id(c)] for c in children)
            if total > max_nodes:
                raise YAMLLimitError(f"document too large: more than {max_nodes:,} values after expanding "
                                     f"aliases (an alias bomb?)", node.start_mark.line + 1)
            size[key] = total
            continue
        if key in size:
            continue
        if key in on_path:
            raise YAMLLimitError("recursive alias (a value that contains itself)", node.start_mark.line + 1)
        on_path.add(key)
        stack.append((node, True))
        if isinstance(node, yaml.MappingNode):
            if len(node.value) > MAX_MAPPING_KEYS:
                raise YAMLLimitError(f"a mapping with {len(node.value):,} keys (at most {MAX_MAPPING_KEYS:,})",
                                     node.start_mark.line + 1)
            seen: dict[tuple, int] = {}
            for k, _ in node.value:
                if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge":
                    ident = (k.tag, k.value)
                    if ident in seen:
                        raise YAMLLimitError(f"duplicate key {k.value[:80]!r} (first given on line {seen[ident]})",
                                             k.start_mark.line + 1)
                    seen[ident] = k.start_mark.line + 1
        for child in _children(node):
            if id(child) not in size:
                stack.append((child, False))


def _children(node: yaml.Node) -> list:
    if isinstance(node, yaml.MappingNode):
        return [x for pair in node.value for x in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


class BoundedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that checks the node graph (see ``check_node_graph``) before constructing,
    and reads ``1.3e7`` / ``1e-6`` as floats (YAML 1.2 style)."""

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None:
            check_node_graph(node)
        return node


BoundedLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+|[0-9][0-9_]*)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def load_yaml(text: str, loader: type = BoundedLoader) -> Any:
    """Parse one YAML document with ``loader`` (a ``BoundedLoader`` subclass)."""
    return yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader subclass


# --- output destinations ------------------------------------------------------------------------

class DestinationError(OSError):
    """An output destination that must not be written (exists and is not a regular file, ...)."""

    def __init__(self, path, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(errno.EINVAL, f"{path}: {reason}")

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def _nearest_existing(path: Path) -> Path:
    p = path
    while not os.path.lexists(p):
        if p.parent == p:
            break
        p = p.parent
    return p


def _check_parent(path: Path) -> None:
    parent = _nearest_existing(path.parent if str(path.parent) else Path("."))
    if not parent.is_dir():
        raise DestinationError(path, f"{parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise DestinationError(path, f"directory {parent} is not writable")


def _existing(path: Path):
    """``os.stat`` of ``path``, or None if it does not exist yet and its parent can hold it."""
    if "\x00" in str(path):
        raise DestinationError(path, "the path contains a NUL character")
    try:
        return os.stat(path)
    except FileNotFoundError:
        _check_parent(path)
        return None
    except OSError as exc:
        raise DestinationError(path, exc.strerror or str(exc)) from None


def check_output_file(path) -> Path:
    """Raise ``DestinationError`` unless ``path`` is a regular file or can be created as one."""
    path = Path(path)
    st = _existing(path)
    if st is None:
        return path
    if not stat.S_ISREG(st.st_mode):
        raise DestinationError(path, f"exists and is {_kind(st.st_mode)}; refusing to replace it "
                                     "(choose a regular file)")
    if not os.access(path.parent if str(path.parent) else ".", os.W_OK | os.X_OK):
        raise DestinationError(path, f"directory {path.parent} is not writable")
    return path


def check_output_dir(path) -> Path:
    """Raise ``DestinationError`` unless ``path`` is a writable directory or can be created as one."""
    path = Path(path)
    st = _existing(path)
    if st is None:
        return path
    if not stat.S_ISDIR(st.st_mode):
        raise DestinationError(path, f"exists and is {_kind(st.st_mode) if not stat.S_ISREG(st.st_mode) else 'a file'}"
                                     ", not a directory")
    if not os.access(path, os.W_OK | os.X_OK):
        raise DestinationError(path, "directory is not writable")
    return path
