"""Chroma clients: HTTP for a server, persistent for a folder, ephemeral for tests (telemetry always off)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from meeting_qa.errors import StoreError

T = TypeVar("T")

OPEN_LOCK_NAME = "meeting-qa-open.lock"
OPEN_WAIT_S = 120.0  # how long opening a store retries while other processes open or write it
# SQLite's answers when another process is creating the same store or writing to it: passing, so retried.
_TRANSIENT = ("database is locked", "already exists", "database table is locked")


def _transient(e: Exception) -> bool:
    return any(t in str(e) for t in _TRANSIENT)


def retry_transient(
    action: Callable[[], T], *, wait_s: float = OPEN_WAIT_S, undo: Callable[[], None] | None = None
) -> T:
    """`action()`, tried again (with `undo()` first) while it fails only because another process holds the
    store's database for a moment — two processes opening a new store at once race on creating its tables."""
    deadline, pause = time.monotonic() + wait_s, 0.05
    while True:
        try:
            return action()
        except Exception as e:
            if not _transient(e) or time.monotonic() + pause > deadline:
                raise
            if undo is not None:
                undo()
            time.sleep(pause)
            pause = min(pause * 2, 2.0)


def make_client(store_dir: Path | None = None, chroma_url: str | None = None, *, fresh: bool = False) -> Any:
    """A Chroma client: HTTP when a server URL is given, else persistent at `store_dir`; telemetry off.

    `fresh`: a new view of a persistent store instead of the one this process already holds. Chroma shares
    one in-memory vector index per directory and process, and does not see records other processes added
    to it since: reading them fails ("Error finding id") and writing would overwrite theirs."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if chroma_url:
            from urllib.parse import urlparse

            url = urlparse(chroma_url if "://" in chroma_url else f"http://{chroma_url}")
            if not url.hostname:
                raise StoreError(f"MEETING_QA_CHROMA_URL={chroma_url!r} has no host", value=chroma_url)
            return chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        if store_dir is None:
            return chromadb.EphemeralClient(settings=chroma_settings)
        store_dir.mkdir(parents=True, exist_ok=True)
        from chromadb.api.shared_system_client import SharedSystemClient
        from filelock import FileLock

        def forget() -> None:
            # Requests still running on the old view finish on it; it is dropped with its last reference.
            # (Also after a failed start: Chroma keeps the half-started system under the directory's name.)
            SharedSystemClient._identifier_to_system.pop(str(store_dir), None)

        if fresh:
            forget()
        # One process at a time creates or migrates the store's tables (held only while opening, so readers
        # never wait for a long ingest); SQLite's "locked" while another process writes is waited out.
        with FileLock(str(store_dir / OPEN_LOCK_NAME), timeout=OPEN_WAIT_S):
            return retry_transient(
                lambda: chromadb.PersistentClient(path=str(store_dir), settings=chroma_settings), undo=forget
            )
    except StoreError:
        raise
    except Exception as e:
        where = chroma_url or str(store_dir)
        raise StoreError(f"cannot open the Chroma store at {where}: {e}", value=where) from e
