"""What reaches a terminal: text with its control characters escaped, and one-line messages for failures
of the machine, the terminal or a server (exit 2) rather than of meeting-qa itself (exit 1)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DISK_FULL_BYTES = 8 * 2**20  # less free space than this after a store failure: the failure is the full disk

_UNSAFE = {c: f"\\u{c:04x}" for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F)}
_UNSAFE.update({c: f"\\x{c:02x}" for c in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)) if chr(c) not in "\n\t"})


def safe_text(text: str) -> str:
    """Text as a terminal should show it: control characters (escape sequences that could recolour, retitle
    or rewrite the screen, bidi overrides that reorder it) shown as `\\x1b`-style escapes, never obeyed."""
    # Lone surrogates (bytes of a non-UTF-8 file name) cannot be printed at all: shown as `\udcff`.
    return text.translate(_UNSAFE).encode("utf-8", "backslashreplace").decode("utf-8")


def say(*parts: object, end: str = "\n", flush: bool = False, file: Any = None) -> None:
    """`print` for human-readable output: every line passes through `safe_text`."""
    print(safe_text(" ".join(str(p) for p in parts)), end=end, flush=flush, file=file or sys.stdout)


def bad_argument(argv: Sequence[str]) -> str | None:
    # Bytes that are not UTF-8 arrive as lone surrogates ("\\udcff"); no question or path can use them.
    for i, arg in enumerate(argv, 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")
            return f"error: argument {i} ({shown}) is not valid UTF-8 text"
    return None


def disk_nearly_full(folder: Path) -> bool:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free < DISK_FULL_BYTES
    except OSError:
        return False


def environment_problem(e: BaseException, *, store_dir: Path | None, chroma_url: str | None) -> str | None:
    """A one-line message for failures of the machine or a server rather than of meeting-qa (exit 2)."""
    if isinstance(e, OSError):
        where = f": {e.filename}" if e.filename else ""
        return f"{e.strerror or e}{where}"
    text = f"{type(e).__name__}: {e}"
    if store_dir is not None and not chroma_url and disk_nearly_full(Path(store_dir)):
        # Chroma reports a full disk as an internal error of its own ("Error in compaction: …", or SQLite's
        # "database or disk is full" from whichever read or write met it first).
        return (
            f"the disk holding the store {store_dir} is full; free some space and run the same command "
            f"again: meetings written before are kept ({text})"
        )
    if "disk is full" in text or "No space left" in text:
        return f"the disk is full ({text})"
    module = type(e).__module__.split(".")[0]
    if module in ("httpx", "httpcore") or isinstance(e, ConnectionError):
        return (
            f"lost the connection to the Chroma server{f' at {chroma_url}' if chroma_url else ''} ({text}); meetings written "
            f"before it are kept, run the same command again when the server is back"
        )
    return None
