"""Chroma clients: HTTP for a server, persistent for a folder, ephemeral for tests (telemetry always off)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from meeting_qa.errors import StoreError


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
        if fresh:
            from chromadb.api.shared_system_client import SharedSystemClient

            # Requests still running on the old view finish on it; it is dropped with its last reference.
            SharedSystemClient._identifier_to_system.pop(str(store_dir), None)
        return chromadb.PersistentClient(path=str(store_dir), settings=chroma_settings)
    except StoreError:
        raise
    except Exception as e:
        where = chroma_url or str(store_dir)
        raise StoreError(f"cannot open the Chroma store at {where}: {e}", value=where) from e
