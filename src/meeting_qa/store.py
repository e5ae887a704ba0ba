"""Chroma storage: one collection per store holding meetings, paragraphs and sentences.

Records (ids are stable, so re-ingest is idempotent):
- `m::<meeting>`            kind=meeting    title, date, source, content hash, paragraph count
- `p::<meeting>::<n>`       kind=paragraph  document = folded text (what is embedded); metadata `text` = display text
- `s::<meeting>::<n>::<k>`  kind=sentence   document = folded sentence; `start`/`end` offsets into the display text

The collection's metadata records the embedding model that built it and a generation token that changes
on every write, so derived indexes (the lexical index) notice changes made by other processes too.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from meeting_qa.errors import ModelMismatchError, StoreError
from meeting_qa.text.fold import fold
from meeting_qa.types import Filters, Meeting, MeetingInfo, Paragraph, Sentence, day_number

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

BATCH = 256  # records per Chroma write when the client cannot tell its maximum
# Version of the records' metadata layout: a meeting stored with an older one is rewritten on re-ingest
# even when its text is unchanged (version 2 added `day` and `speaker` to every record, for filters).
RECORDS_VERSION = 2
# Texts embedded in one call across meetings: large enough that length sorting leaves little padding and
# per-call overhead vanishes, small enough that a group's vectors and records stay a few MB.
EMBED_GROUP = 2048
Status = str  # "added" | "updated" | "unchanged"


@dataclass(frozen=True)
class Hit:
    """A dense match: a paragraph (sentence 0) or its `sentence`-th sentence (1-based)."""

    meeting_id: str
    paragraph: int
    kind: str  # "paragraph" | "sentence"
    similarity: float
    sentence: int = 0


def meeting_record_id(meeting_id: str) -> str:
    return f"m::{meeting_id}"


def paragraph_id(meeting_id: str, paragraph: int) -> str:
    return f"p::{meeting_id}::{paragraph}"


def sentence_id(meeting_id: str, paragraph: int, sentence: int) -> str:
    """The record of a paragraph's `sentence`-th sentence (1-based); only paragraphs of several sentences
    have sentence records (a one-sentence paragraph's record stands for its sentence)."""
    return f"s::{meeting_id}::{paragraph}::{sentence}"


def parse_id(record_id: str) -> tuple[str, str, int, int] | None:
    """(kind, meeting_id, paragraph, sentence) of a paragraph or sentence record id; None for others."""
    try:
        if record_id.startswith("s::"):
            mid, n, k = record_id[3:].rsplit("::", 2)
            return "sentence", mid, int(n), int(k)
        if record_id.startswith("p::"):
            mid, n = record_id[3:].rsplit("::", 1)
            return "paragraph", mid, int(n), 0
    except ValueError:
        return None
    return None


@dataclass(frozen=True)
class StoredParagraph:
    meeting_id: str
    paragraph: Paragraph
    folded: str
    title: str
    date: str | None


def make_client(store_dir: Path | None = None, chroma_url: str | None = None) -> Any:
    """A Chroma client: HTTP when a server URL is given, else persistent at `store_dir`; telemetry off."""
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
        return chromadb.PersistentClient(path=str(store_dir), settings=chroma_settings)
    except StoreError:
        raise
    except Exception as e:
        where = chroma_url or str(store_dir)
        raise StoreError(f"cannot open the Chroma store at {where}: {e}", value=where) from e


def record_count(meeting: Meeting) -> int:
    """Texts embedded for a meeting: its paragraphs, the sentences of multi-sentence ones, its title."""
    return 1 + sum(1 + (len(p.sentences) if len(p.sentences) > 1 else 0) for p in meeting.paragraphs)


def _meta(**values: Any) -> dict[str, Any]:
    # Chroma metadata values cannot be None.
    return {k: v for k, v in values.items() if v is not None}


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
    ) -> None:
        self.client = client
        self.client_id = client_id  # where the data lives (path or URL): names derived caches
        self.embeddings = embeddings
        self.collection_name = collection
        self.model_label = model_label
        try:
            # No embedding function: every vector comes from `embeddings` (Chroma's default would fetch a model).
            self.collection = client.get_or_create_collection(
                name=collection, embedding_function=None, metadata={"hnsw:space": "cosine"}
            )
        except Exception as e:
            raise StoreError(f"cannot open Chroma collection {collection!r}: {e}", value=collection) from e
        self._checked = False

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
        self._checked = True
        return str(meta.get("generation", "empty"))

    def generation(self) -> str:
        """A token that changes whenever any process writes to this store."""
        meta = self._fresh_metadata()
        return str(meta.get("generation", "empty"))

    def metadata(self) -> dict[str, Any]:
        """The collection's metadata as stored now (model, generation, calibration)."""
        return self._fresh_metadata()

    def update_metadata(self, values: dict[str, Any]) -> None:
        """Add derived facts (e.g. the model's calibration) to the collection's metadata; not a data write,
        so the generation token stays."""
        meta = self._fresh_metadata()
        meta.update(values)
        meta.pop("hnsw:space", None)
        self.collection.modify(metadata=meta)

    def _touch(self) -> None:
        meta = self._fresh_metadata()
        meta.update(embedding_model=self.model_label, generation=uuid.uuid4().hex)
        meta.pop("hnsw:space", None)  # fixed at creation; Chroma refuses to change it
        self.collection.modify(metadata=meta)

    # -- writes ---------------------------------------------------------------------------------------

    def stored_hash(self, meeting_id: str) -> str | None:
        got = self.collection.get(ids=[meeting_record_id(meeting_id)], include=["metadatas"])
        metas = got.get("metadatas") or []
        return str(metas[0].get("content_hash")) if metas else None

    def upsert_meetings(self, meetings: Iterable[Meeting]) -> Iterator[tuple[Meeting, Status]]:
        """Add or replace meetings, yielding each one's status once it is written.

        Meetings are consumed as they come (a corpus is never held whole) and written in groups: the texts
        of a group's meetings are embedded in one call, so short texts of many meetings share batches and
        length sorting cuts padding, and records go to Chroma in its maximum batch size. A group's old
        entries are deleted only after its new vectors exist, and meeting records are written last: an
        interrupted ingest never leaves a listed meeting half-written, and re-ingesting finishes the job.
        """
        if not self._checked:
            self.check_model()
        group: list[Meeting] = []
        size = 0
        for m in meetings:
            group.append(m)
            size += record_count(m)
            if size >= EMBED_GROUP:
                yield from self._upsert_group(group)
                group, size = [], 0
        if group:
            yield from self._upsert_group(group)

    def _upsert_group(self, group: list[Meeting]) -> Iterator[tuple[Meeting, Status]]:
        stored = self._stored_hashes([m.meeting_id for m in group])
        pending: list[Meeting] = []
        for m in group:
            if stored.get(m.meeting_id) == m.content_hash:
                yield m, "unchanged"
            else:
                pending.append(m)
        if pending:
            yield from self._write_group(pending, stored)

    def _stored_hashes(self, meeting_ids: Sequence[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        ids = [meeting_record_id(m) for m in dict.fromkeys(meeting_ids)]
        for i in range(0, len(ids), 500):
            got = self.collection.get(ids=ids[i : i + 500], include=["metadatas"])
            for meta in got.get("metadatas") or []:
                # An older records layout never matches a content hash: the meeting is rewritten ("updated").
                stale = "" if int(meta.get("records", 1)) >= RECORDS_VERSION else "|old-records"
                out[str(meta["meeting_id"])] = str(meta.get("content_hash")) + stale
        return out

    def _embed(self, texts: list[str]) -> np.ndarray:
        encode = getattr(self.embeddings, "encode_passages", None)  # no float lists for our own embeddings
        if callable(encode):
            return np.asarray(encode(texts), dtype=np.float32)
        return np.asarray(self.embeddings.embed_documents(texts), dtype=np.float32)

    def _write_group(self, group: list[Meeting], stored: dict[str, str]) -> Iterator[tuple[Meeting, Status]]:
        records = [meeting_records(m) for m in group]
        # Embed everything before touching the old entries: a failure here leaves the store as it was.
        vectors = self._embed([t for _, ts, _ in records for t in ts])
        ids: list[str] = []
        docs: list[str] = []
        metas: list[dict[str, Any]] = []
        rows: list[int] = []
        last: list[int] = []  # meeting records: written after every paragraph and sentence of the group
        offset = 0
        for ids_m, texts_m, metas_m in records:
            for j in range(len(ids_m)):
                (last if metas_m[j]["kind"] == "meeting" else rows).append(offset + j)
            ids += ids_m
            docs += texts_m
            metas += metas_m
            offset += len(ids_m)
        mids = [m.meeting_id for m in group]
        try:
            if any(mid in stored for mid in mids) or self._any_entries(mids):
                self.collection.delete(where={"meeting_id": {"$in": mids}})
            batch = self._max_batch()
            for part in (rows, last):
                for i in range(0, len(part), batch):
                    sel = part[i : i + batch]
                    self.collection.add(
                        ids=[ids[r] for r in sel],
                        embeddings=vectors[sel],
                        documents=[docs[r] for r in sel],
                        metadatas=[metas[r] for r in sel],
                    )
        finally:
            self._touch()
        for m in group:
            yield m, "updated" if m.meeting_id in stored else "added"

    def _max_batch(self) -> int:
        try:
            return max(1, int(self.client.get_max_batch_size()))
        except Exception:  # an older server without the call
            return BATCH

    def _any_entries(self, meeting_ids: Sequence[str]) -> bool:
        """Whether any of these meetings has entries (even without a meeting record: an interrupted ingest)."""
        got = self.collection.get(where={"meeting_id": {"$in": list(meeting_ids)}}, limit=1, include=[])
        return bool(got.get("ids"))

    def delete(self, meeting_id: str) -> bool:
        """Remove a meeting and all its entries; False when it was not there."""
        if not self._any_entries([meeting_id]):
            return False
        self.collection.delete(where={"meeting_id": meeting_id})
        self._touch()
        return True

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
            _stored(meta, doc) for meta, doc in zip(got.get("metadatas") or [], got.get("documents") or [], strict=True)
        ]
        return sorted(out, key=lambda s: (s.meeting_id, s.paragraph.number))

    def get_paragraphs(self, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], StoredParagraph]:
        keys = list(dict.fromkeys(keys))
        if not keys:
            return {}
        got = self.collection.get(ids=[paragraph_id(m, n) for m, n in keys], include=["metadatas", "documents"])
        out = {}
        for meta, doc in zip(got.get("metadatas") or [], got.get("documents") or [], strict=True):
            sp = _stored(meta, doc)
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


def meeting_records(meeting: Meeting) -> tuple[list[str], list[str], list[dict[str, Any]]]:
    """A meeting's Chroma records: ids, the folded texts that are embedded, metadata."""
    ids: list[str] = []
    texts: list[str] = []
    metas: list[dict[str, Any]] = []
    mid = meeting.meeting_id
    day = day_number(meeting.date)
    for p in meeting.paragraphs:
        ids.append(paragraph_id(mid, p.number))
        texts.append(fold(p.text))
        metas.append(
            _meta(
                kind="paragraph",
                meeting_id=mid,
                paragraph=p.number,
                text=p.text,
                sentences=json.dumps([[s.start, s.end] for s in p.sentences]),
                speaker=p.speaker,
                timestamp=p.timestamp,
                title=meeting.title,
                date=meeting.date,
                day=day,
            )
        )
        if len(p.sentences) > 1:
            for k, s in enumerate(p.sentences, 1):
                ids.append(sentence_id(mid, p.number, k))
                texts.append(fold(p.text[s.start : s.end]))
                metas.append(
                    _meta(
                        kind="sentence",
                        meeting_id=mid,
                        paragraph=p.number,
                        sentence=k,
                        start=s.start,
                        end=s.end,
                        speaker=p.speaker,
                        day=day,
                    )
                )
    ids.append(meeting_record_id(mid))
    texts.append(fold(meeting.title))
    metas.append(
        _meta(
            kind="meeting",
            meeting_id=mid,
            title=meeting.title,
            date=meeting.date,
            source=meeting.source,
            content_hash=meeting.content_hash,
            paragraphs=len(meeting.paragraphs),
            speakers=json.dumps(
                list(dict.fromkeys(p.speaker for p in meeting.paragraphs if p.speaker)), ensure_ascii=False
            ),
            records=RECORDS_VERSION,
        )
    )
    return ids, texts, metas


def _stored(meta: dict[str, Any], folded: str) -> StoredParagraph:
    sentences = tuple(Sentence(int(a), int(b)) for a, b in json.loads(str(meta.get("sentences", "[]"))))
    paragraph = Paragraph(
        number=int(meta["paragraph"]),
        text=str(meta["text"]),
        sentences=sentences,
        speaker=meta.get("speaker"),
        timestamp=meta.get("timestamp"),
    )
    return StoredParagraph(str(meta["meeting_id"]), paragraph, folded, str(meta.get("title", "")), meta.get("date"))
