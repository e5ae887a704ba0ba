"""Chroma storage: one collection per store holding meetings, paragraphs and sentences (see `records`).

The collection's metadata records the embedding model that built it and a generation token that changes
on every write, so derived indexes (the lexical index) notice changes made by other processes too. The
token is marked dirty (`writing-…`) before a write's first change and made clean after its last: a process
killed in between leaves it dirty, so no reader trusts an index derived during or before the write, and
the next process that finds no writer alive heals it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from meeting_qa.chroma_client import make_client, retry_transient
from meeting_qa.errors import ModelMismatchError, StoreError
from meeting_qa.records import (
    RECORDS_VERSION,
    Outcome,
    Records,
    StoredParagraph,
    identify,
    meeting_record_id,
    paragraph_id,
    parse_id,
    record_count,
    records_for,
    sentence_id,
    stored_paragraph,
)
from meeting_qa.storelock import StoreLock
from meeting_qa.types import Filters, Meeting, MeetingInfo, day_number

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

__all__ = [
    "Hit",
    "Outcome",
    "Store",
    "StoredParagraph",
    "make_client",
    "meeting_record_id",
    "paragraph_id",
    "parse_id",
    "record_count",
    "sentence_id",
]

BATCH = 256  # records per Chroma write when the client cannot tell its maximum
# Texts embedded in one call across meetings: large enough that length sorting leaves little padding and
# per-call overhead vanishes, small enough that a group's vectors and records stay a few MB. A meeting larger
# than this is embedded and written in chunks of this many.
EMBED_GROUP = 2048
DIRTY = "writing-"
HEALED = "healed-"  # the token a process gives a store it found marked by a writer that died
RETIRE_AFTER_S = 120.0  # an earlier view of the store is closed this long after it was replaced
Status = str  # "added" | "updated" | "unchanged" | "conflict"
ChunkFn = Callable[[str, int, int], None]  # (source, passages written, passages of this group)


@dataclass(frozen=True)
class Hit:
    """A dense match: a paragraph (sentence 0) or its `sentence`-th sentence (1-based)."""

    meeting_id: str
    paragraph: int
    kind: str  # "paragraph" | "sentence"
    similarity: float
    sentence: int = 0


class Store:
    """Meetings in a Chroma collection, through the chromadb client's public API.

    Not langchain-chroma's vector store: the store embeds texts itself (in groups across meetings),
    reads metadata and stored vectors by id, queries by a precomputed vector for ids and distances only,
    and keeps the model fingerprint in the collection's metadata; langchain-chroma's public methods cover
    documents and similarity search, not these, and using them meant reaching into its private collection.
    """

    def __init__(
        self,
        client: Any,
        embeddings: Embeddings,
        *,
        collection: str = "meetings",
        model_label: str,
        client_id: str = "ephemeral",
        lock: StoreLock | None = None,
        reopen: Callable[[], Any] | None = None,
    ) -> None:
        self.client_id = client_id  # where the data lives (path or URL): names derived caches
        self.embeddings = embeddings
        self.collection_name = collection
        self.model_label = model_label
        self.lock = lock or StoreLock(None)
        self.reopen = reopen  # a fresh client of the same embedded store (see `make_client(fresh=True)`)
        self._open(client)
        self._known_token: str | None = None  # the generation this process last saw or wrote
        self._retired: list[tuple[float, Any]] = []  # earlier views of the store, closed after a while

    def _open(self, client: Any) -> None:
        try:
            # No embedding function: every vector comes from `embeddings` (Chroma's default would fetch a model).
            collection = retry_transient(
                lambda: client.get_or_create_collection(
                    name=self.collection_name, embedding_function=None, metadata={"hnsw:space": "cosine"}
                )
            )
        except Exception as e:
            raise StoreError(
                f"cannot open Chroma collection {self.collection_name!r}: {e}", value=self.collection_name
            ) from e
        self.client, self.collection = client, collection

    # -- model fingerprint and change token ---------------------------------------------------------

    def _fresh_metadata(self) -> dict[str, Any]:
        # Re-read: another process may have written since this object was made.
        return dict(self.client.get_collection(self.collection_name).metadata or {})

    def check_model(self) -> str:
        """Refuse to mix vectors of two models: the store must be re-ingested to switch models.
        Returns the store's generation token, read in the same trip (see `generation`)."""
        meta = self._fresh_metadata()
        built_with = meta.get("embedding_model")
        if built_with and built_with != self.model_label:
            raise ModelMismatchError(
                f"the store was built with embedding model {built_with!r} but {self.model_label!r} is "
                f"configured; re-ingest into an empty store (delete its meetings or point MEETING_QA_STORE "
                f"elsewhere), or set MEETING_QA_EMBEDDING_MODEL back to {built_with!r}",
                value=self.model_label,
            )
        return self._token(meta)

    def generation(self) -> str:
        """A token that changes whenever any process writes to this store; `is_dirty` while a write is
        under way (or was cut off)."""
        return self._token(self._fresh_metadata())

    def metadata(self) -> dict[str, Any]:
        """The collection's metadata as stored now (model, generation, calibration)."""
        return self._fresh_metadata()

    def update_metadata(self, values: dict[str, Any]) -> None:
        """Add derived facts (e.g. the model's calibration) to the collection's metadata; not a data write,
        so the generation token stays. Under the write lock: a read-modify-write of the metadata racing a
        writer would put back the token it had just marked."""
        with self.lock.hold():
            meta = self._fresh_metadata()
            meta.update(values)
            meta.pop("hnsw:space", None)
            self.collection.modify(metadata=meta)

    def _token(self, meta: dict[str, Any]) -> str:
        token = str(meta.get("generation", "empty"))
        if is_dirty(token) and not self.lock.writer_alive():
            # The writer that marked the store died inside its write: what it wrote is what the store holds,
            # so a fresh token (`healed-…`) tells every derived index to rebuild from it once, and then to
            # trust it again.
            try:
                with self.lock.hold():
                    token = str(self._fresh_metadata().get("generation", "empty"))
                    if is_dirty(token):
                        self._follow(token)
                        token = self._set_token(HEALED + uuid.uuid4().hex)
            except (StoreError, OSError):
                pass  # a store this process may only read: it stays marked, and derived indexes are not kept
        self._follow(token)
        return token

    def _follow(self, token: str) -> None:
        """Take a fresh view of the store when another process has written to it since this one looked."""
        if self._known_token is not None and token != self._known_token and self.reopen is not None:
            now = time.monotonic()
            # The old view is closed only once requests that may still be using it are long finished.
            for _, client in [r for r in self._retired if now - r[0] > RETIRE_AFTER_S]:
                _close(client)
            self._retired = [r for r in self._retired if now - r[0] <= RETIRE_AFTER_S]
            self._retired.append((now, self.client))
            self._open(self.reopen())
        self._known_token = token

    def _set_token(self, token: str) -> str:
        meta = self._fresh_metadata()
        meta.update(embedding_model=self.model_label, generation=token)
        meta.pop("hnsw:space", None)  # fixed at creation; Chroma refuses to change it
        self.collection.modify(metadata=meta)
        self._known_token = token
        return token

    def _begin_write(self) -> None:
        self._set_token(DIRTY + uuid.uuid4().hex)

    def _end_write(self) -> None:
        self._set_token(uuid.uuid4().hex)

    # -- writes ---------------------------------------------------------------------------------------

    def stored_hash(self, meeting_id: str) -> str | None:
        meta = self._stored_meta([meeting_id]).get(meeting_id)
        return str(meta.get("content_hash")) if meta else None

    def upsert_meetings(
        self,
        meetings: Iterable[Meeting],
        *,
        replace_other: bool = False,
        rename: bool = False,
        on_chunk: ChunkFn | None = None,
    ) -> Iterator[Outcome]:
        """Add or replace meetings, yielding each one's outcome once it is written.

        A stored meeting that came from another file (`origin`) is not replaced unless `replace_other`;
        it is a "conflict", or with `rename` the newcomer gets the first free id `<id>-2`, `<id>-3`, ….

        The whole call holds the store's write lock. Meetings are consumed as they come (a corpus is never
        held whole) and written in groups of about `EMBED_GROUP` texts: a group's texts are embedded in one
        call, so short texts of many meetings share batches and length sorting cuts padding, and records go
        to Chroma in its maximum batch size; a meeting larger than a group is embedded and written in chunks.
        A meeting's meeting record is written last and stale entries are removed just before it: an
        interrupted ingest never leaves a listed meeting half-written, and re-ingesting finishes the job.
        """
        with self.lock.hold():
            self.check_model()  # also brings this process's view up to date before it writes
            claimed: dict[str, str] = {}  # id → source of the meetings this call writes
            group: list[Meeting] = []
            size = 0
            for m in meetings:
                n = record_count(m)
                if group and size + n > EMBED_GROUP:
                    yield from self._upsert_group(group, claimed, replace_other, rename, on_chunk)
                    group, size = [], 0
                group.append(m)
                size += n
            if group:
                yield from self._upsert_group(group, claimed, replace_other, rename, on_chunk)

    def _upsert_group(
        self,
        group: list[Meeting],
        claimed: dict[str, str],
        replace_other: bool,
        rename: bool,
        on_chunk: ChunkFn | None,
    ) -> Iterator[Outcome]:
        """Identify a group's meetings against the store and write the pending ones."""
        stored = self._stored_meta([m.meeting_id for m in group])
        pending: list[Meeting] = []
        for m in group:
            outcome = identify(m, stored, claimed, lambda mid: self._stored_meta([mid]).get(mid), replace_other, rename)
            if outcome.status == "pending":
                pending.append(outcome.meeting)
                claimed[outcome.meeting.meeting_id] = outcome.meeting.source
            else:
                yield outcome
        if pending:
            yield from self._write_group(pending, stored, on_chunk)

    def _stored_meta(self, meeting_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        ids = [meeting_record_id(m) for m in dict.fromkeys(meeting_ids)]
        for i in range(0, len(ids), 500):
            got = self.collection.get(ids=ids[i : i + 500], include=["metadatas"])
            for meta in got.get("metadatas") or []:
                held = dict(meta)
                if int(held.get("records", 1)) < RECORDS_VERSION:
                    # An older records layout never matches a content hash: the meeting is rewritten ("updated").
                    held["content_hash"] = f"{held.get('content_hash')}|old-records"
                out[str(meta["meeting_id"])] = held
        return out

    def _embed(self, texts: list[str]) -> np.ndarray:
        encode = getattr(self.embeddings, "encode_passages", None)  # no float lists for our own embeddings
        if callable(encode):
            return np.asarray(encode(texts), dtype=np.float32)
        return np.asarray(self.embeddings.embed_documents(texts), dtype=np.float32)

    def _write_group(
        self, group: list[Meeting], stored: dict[str, dict[str, Any]], on_chunk: ChunkFn | None
    ) -> Iterator[Outcome]:
        records = [records_for(m) for m in group]
        flat = [(r.ids[i], r.texts[i], r.metas[i]) for r in records for i in range(len(r.ids))]
        source = group[0].source if len(group) == 1 else f"{len(group)} meetings"
        batch = self._max_batch()
        # Embedded and written a chunk at a time (one chunk unless one meeting is larger than a group): a
        # 50 MB file is not one embedding call holding everything in memory before its first write. Meeting
        # records wait for the end (they mark a meeting complete). The store is marked as being written from
        # just before a group's first change to just after its last: each group is a generation of its own,
        # so readers (and their lexical index) follow a long ingest group by group.
        last: dict[str, tuple[np.ndarray, str, dict[str, Any]]] = {}
        marked = False
        try:
            for i in range(0, len(flat), EMBED_GROUP):
                chunk = flat[i : i + EMBED_GROUP]
                vectors = self._embed([t for _, t, _ in chunk])
                if not marked:
                    self._begin_write()
                    marked = True
                body: list[int] = []
                for j, (rid, text, meta) in enumerate(chunk):
                    if meta["kind"] == "meeting":
                        last[rid] = (vectors[j], text, meta)
                    else:
                        body.append(j)
                for j in range(0, len(body), batch):
                    sel = body[j : j + batch]
                    self.collection.upsert(
                        ids=[chunk[r][0] for r in sel],
                        embeddings=vectors[sel],
                        documents=[chunk[r][1] for r in sel],
                        metadatas=[chunk[r][2] for r in sel],
                    )
                if on_chunk:
                    on_chunk(source, i + len(chunk), len(flat))
            stale = self._stale_entries(group, records)
            for meeting, rec in zip(group, records, strict=True):
                gone = stale.get(meeting.meeting_id, [])
                for i in range(0, len(gone), batch):
                    self.collection.delete(ids=gone[i : i + batch])
                vec, text, meta = last[rec.ids[-1]]
                self.collection.upsert(ids=[rec.ids[-1]], embeddings=vec[None, :], documents=[text], metadatas=[meta])
                yield Outcome(meeting, "added" if stored.get(meeting.meeting_id) is None else "updated")
        finally:
            if marked:
                self._end_write()

    def _stale_entries(self, group: list[Meeting], records: list[Records]) -> dict[str, list[str]]:
        """Entries of earlier versions of these meetings that the new ones no longer have (fewer paragraphs,
        or an ingest cut off before), by meeting: one read for the whole group."""
        keep = {i for r in records for i in r.ids}
        got = self.collection.get(where={"meeting_id": {"$in": [m.meeting_id for m in group]}}, include=[])
        out: dict[str, list[str]] = {}
        for rid in got.get("ids") or []:
            parsed = parse_id(rid)
            if rid not in keep and parsed is not None:
                out.setdefault(parsed[1], []).append(rid)
        return out

    def _max_batch(self) -> int:
        try:
            return max(1, int(self.client.get_max_batch_size()))
        except Exception:  # an older server without the call
            return BATCH

    def _has_entries(self, meeting_id: str) -> bool:
        got = self.collection.get(where={"meeting_id": meeting_id}, limit=1, include=[])
        return bool(got.get("ids"))

    def delete(self, meeting_id: str) -> bool:
        """Remove a meeting and all its entries; False when it was not there."""
        with self.lock.hold():
            self.generation()  # brings this process's view up to date before it writes
            if not self._has_entries(meeting_id):
                return False
            self._begin_write()
            try:
                self.collection.delete(where={"meeting_id": meeting_id})
            finally:
                self._end_write()
            return True

    def exists(self, meeting_ids: Sequence[str]) -> set[str]:
        """Which of these meetings the store lists."""
        return set(self._stored_meta(meeting_ids))

    # -- reads ----------------------------------------------------------------------------------------

    def list_meetings(self) -> list[MeetingInfo]:
        got = self.collection.get(where={"kind": "meeting"}, include=["metadatas"])
        infos = [
            MeetingInfo(
                meeting_id=str(m["meeting_id"]),
                title=str(m.get("title", "")),
                paragraphs=int(m.get("paragraphs", 0)),
                source=str(m.get("source", "")),
                date=m.get("date"),
                content_hash=str(m.get("content_hash", "")),
                speakers=tuple(json.loads(str(m.get("speakers") or "[]"))),
            )
            for m in got.get("metadatas") or []
        ]
        return sorted(infos, key=lambda i: i.meeting_id)

    def paragraphs(self, meeting_ids: Sequence[str] | None = None) -> list[StoredParagraph]:
        """Every paragraph (optionally of some meetings), in meeting and reading order."""
        where: dict[str, Any] = {"kind": "paragraph"}
        if meeting_ids is not None:
            where = {"$and": [where, {"meeting_id": {"$in": list(meeting_ids)}}]}
        got = self.collection.get(where=where, include=["metadatas", "documents"])
        out = [
            stored_paragraph(meta, doc)
            for meta, doc in zip(got.get("metadatas") or [], got.get("documents") or [], strict=True)
        ]
        return sorted(out, key=lambda s: (s.meeting_id, s.paragraph.number))

    def get_paragraphs(self, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], StoredParagraph]:
        keys = list(dict.fromkeys(keys))
        if not keys:
            return {}
        got = self.collection.get(ids=[paragraph_id(m, n) for m, n in keys], include=["metadatas", "documents"])
        out = {}
        for meta, doc in zip(got.get("metadatas") or [], got.get("documents") or [], strict=True):
            sp = stored_paragraph(meta, doc)
            out[(sp.meeting_id, sp.paragraph.number)] = sp
        return out

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors by record id (missing ids are left out)."""
        if not ids:
            return {}
        got = self.collection.get(ids=list(ids), include=["embeddings"])
        embeddings = got.get("embeddings")
        vecs = embeddings if embeddings is not None else []
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got.get("ids") or [], vecs, strict=True)}

    def dense(
        self,
        vector: Sequence[float] | np.ndarray,
        *,
        k: int,
        kinds: Sequence[str],
        filters: Filters | None = None,
    ) -> list[Hit]:
        """Nearest paragraphs/sentences by cosine similarity; filters are applied inside the store query.

        Without filters the query runs unfiltered (Chroma's filtered search is several times slower on a
        large collection) with a little headroom, and the few meeting-title records are dropped here.
        """
        where: dict[str, Any] | None = None
        fetch = k
        if filters is not None and not filters.empty:
            where = filter_where(kinds, filters)
        else:
            fetch = k + k // 4
        # Only distances: the record id says what matched, and the caller holds the paragraphs' text.
        got = self.collection.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=fetch, where=where, include=["distances"]
        )
        hits = []
        for record_id, distance in zip((got.get("ids") or [[]])[0], (got.get("distances") or [[]])[0], strict=True):
            parsed = parse_id(record_id)
            if parsed is None or parsed[0] not in kinds:
                continue
            kind, mid, n, sentence = parsed
            hits.append(
                Hit(meeting_id=mid, paragraph=n, kind=kind, similarity=1.0 - float(distance), sentence=sentence)
            )
        return hits[:k]


def _close(client: Any) -> None:
    """Let go of an earlier view; chromadb offers no public close for one client, so its vector index is
    freed by the garbage collector once nothing refers to it."""
    del client


def filter_where(kinds: Sequence[str], filters: Filters) -> dict[str, Any]:
    """The Chroma `where` clause for records of these kinds that pass the filters."""
    clauses: list[dict[str, Any]] = [{"kind": {"$in": list(kinds)}} if len(kinds) > 1 else {"kind": kinds[0]}]
    if filters.meeting_ids is not None:
        clauses.append({"meeting_id": {"$in": list(filters.meeting_ids)}})
    if filters.since:
        clauses.append({"day": {"$gte": day_number(filters.since)}})
    if filters.until:
        clauses.append({"day": {"$lte": day_number(filters.until)}})
    if filters.speakers is not None:
        clauses.append({"speaker": {"$in": list(filters.speakers)}})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def is_dirty(token: str) -> bool:
    """Whether a generation token marks a write under way or cut off (no derived index may be kept for it)."""
    return token.startswith(DIRTY)


def is_healed(token: str) -> bool:
    """Whether a generation token follows a write that was cut off: an index derived incrementally from an
    earlier generation cannot tell what that write changed, so derived indexes read the store whole."""
    return token.startswith(HEALED)
