"""BM25 over folded tokens (bm25s), derived from the store (Chroma holds the truth).

The index is a list of immutable bm25s segments (segments.py) and a manifest naming, for every live
meeting, its content hash and the segment holding its paragraphs. When the store's generation token
changes — a write by this or any other process — only the meetings whose content hash changed are read
from the store and tokenized, into one new segment; a deleted or replaced meeting's old paragraphs stay in
their segment but no longer count. Small segments are merged (from saved term counts, not the store) when
they grow past a share of the index. Files live under the cache directory, one manifest per generation,
so a process that meets a generation another process already indexed just maps the files. While the
token is dirty (a write under way, or cut off where no writer's death can be seen: a Chroma server), what
is read may be half of a write: the index is then read whole into memory, never saved, and read again
after a short while.

Scores are exact BM25 over the live paragraphs: a segment's matrix holds bm25s's IDF × term-frequency
part computed with the segment's own statistics; at query time each term's count is recovered from it and
scored with the IDF and average paragraph length of the live paragraphs of all segments.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from meeting_qa.segments import Key, Segment, lucene_idf
from meeting_qa.store import Store, StoredParagraph, is_dirty, is_healed
from meeting_qa.text.rules import HAN
from meeting_qa.types import Filters

DIRTY_REUSE_S = 10.0  # how long an index read during a write is reused before it is read again
FORMAT = 10  # bump when the tokenizer or layout changes, so old files are ignored (10: bm25s segments, JSON)
MERGE_SHARE = 0.2  # merge when paragraphs outside the largest segment (live or not) pass this share
MAX_SEGMENTS = 8
MEETINGS_KEPT = 64  # meetings whose per-paragraph bigram counts are kept for turn scoring
KEEP_MANIFESTS = 3  # older generations stay readable for processes still using them


class BM25:
    """The lexical index at one generation: segments plus which of their documents are live."""

    def __init__(self, segments: Sequence[Segment] = (), meetings: Mapping[str, tuple[str, str]] | None = None):
        self.segments = list(segments)
        # meeting id -> (content hash, segment name): a document is live when its meeting points at its segment
        self.meetings: dict[str, tuple[str, str]] = dict(meetings or {})
        if meetings is None:
            self.meetings = {k[0]: ("", s.name) for s in self.segments for k in s.keys}
        self._live: list[np.ndarray] = []
        self._where: dict[str, tuple[int, range]] = {}  # meeting -> (segment, its documents)
        self._doc: dict[Key, tuple[int, int]] = {}
        for si, seg in enumerate(self.segments):
            live = np.zeros(seg.size, dtype=bool)
            first: dict[str, int] = {}
            for d, key in enumerate(seg.keys):
                if self.meetings.get(key[0], ("", ""))[1] == seg.name:
                    live[d] = True
                    first.setdefault(key[0], d)
                    self._where[key[0]] = (si, range(first[key[0]], d + 1))
                    self._doc[key] = (si, d)
            self._live.append(live)
        self.n = int(sum(int(m.sum()) for m in self._live))
        live_len = sum(float(seg.lengths[live].sum()) for seg, live in zip(self.segments, self._live, strict=True))
        self.avg_len = live_len / self.n if self.n else 1.0
        self.meeting_texts: Mapping[str, str] = _MeetingTexts(self)
        self.meeting_tokens: Mapping[str, set[str]] = _MeetingTokens(self)
        self.paragraphs: Mapping[Key, StoredParagraph] = _Paragraphs(self)
        self.idf = lru_cache(maxsize=65536)(self._idf)  # type: ignore[method-assign]
        self.meeting_bigrams = lru_cache(maxsize=MEETINGS_KEPT)(self._meeting_bigrams)  # type: ignore[method-assign]
        self.substring_idf = lru_cache(maxsize=16384)(self._substring_idf)  # type: ignore[method-assign]

    @classmethod
    def build(cls, paragraphs: Iterable[StoredParagraph]) -> BM25:
        """An in-memory index of these paragraphs (one segment, nothing written)."""
        paragraphs = list(paragraphs)
        return cls([Segment.build("memory", paragraphs)] if paragraphs else [])

    def __len__(self) -> int:
        return self.n

    def live_segments(self) -> Iterator[tuple[Segment, np.ndarray]]:
        yield from zip(self.segments, self._live, strict=True)

    def _df(self, term: str) -> int:
        df = 0
        for seg, live in self.live_segments():
            tid = seg.term_id(term)
            if tid is not None:
                docs, _ = seg.column(tid)
                df += int(live[docs].sum())
        return df

    def _idf(self, term: str) -> float:
        df = self._df(term)
        return lucene_idf(df, self.n) if df else 0.0

    @property
    def max_idf(self) -> float:
        """The IDF of a term found in no paragraph (what `substring_idf` gives for it)."""
        return lucene_idf(0, self.n)

    def _substring_idf(self, term: str) -> float:
        """IDF by substring occurrence: robust to jieba cutting the question and the records differently.
        A term found nowhere gets the highest IDF: a question about it is a question the records don't cover."""
        df = 0
        for seg, live in self.live_segments():
            docs = seg.substring_docs(term)
            df += int(live[docs].sum()) if len(docs) else 0
        return lucene_idf(df, self.n)

    def _meeting_bigrams(self, meeting_id: str) -> MeetingTerms | None:
        """A live meeting's paragraphs in reading order with their character-bigram counts (`bigram_counts`),
        read from the segment's folded texts; the last few dozen asked meetings are kept."""
        where = self._where.get(meeting_id)
        if where is None:
            return None
        si, docs = where
        seg = self.segments[si]
        rows = sorted((d for d in docs if self._live[si][d]), key=lambda d: seg.keys[d][1])
        numbers = [seg.keys[d][1] for d in rows]
        turns = [bool(seg.corpus[d]["meta"].get("speaker")) for d in rows]
        counts = [{g: float(c) for g, c in bigram_counts(seg.text(d)).items()} for d in rows]
        return MeetingTerms.build(meeting_id, numbers, turns, counts)

    def scores(self, query_terms: Mapping[str, float], filters: Filters | None = None) -> dict[Key, float]:
        """BM25 per paragraph for weighted query terms (a term's weight plays the role of its query count),
        from each term's column of a segment's bm25s matrix, with the IDF and average length of the live
        paragraphs (a segment's own were baked in when it was built); only paragraphs that pass `filters`
        are scored (the same test as the store's query)."""
        if filters is not None and filters.empty:
            filters = None
        allowed = set(filters.meeting_ids) if filters is not None and filters.meeting_ids is not None else None
        out: dict[Key, float] = {}
        for seg, live in self.live_segments():
            if not live.any():
                continue
            total = np.zeros(seg.size, dtype=np.float64)
            for term, weight in query_terms.items():
                tid = seg.term_id(term)
                idf = self.idf(term)
                if tid is None or idf <= 0:
                    continue
                docs, baked = seg.column(tid)
                if seg.size == self.n and seg.avg_len == self.avg_len:  # the segment is the index
                    total[docs] += weight * baked
                else:
                    tf = seg.term_counts(docs, baked)
                    total[docs] += weight * idf * seg.tf_part(docs, tf, self.avg_len)
            hits = np.flatnonzero((total > 0) & live)
            for d, score in zip(hits.tolist(), total[hits].tolist(), strict=True):
                key = seg.keys[d]
                if allowed is None or key[0] in allowed:
                    out[key] = score
        if filters is not None and (filters.since or filters.until or filters.speakers is not None):
            held = self.paragraphs  # read only for the paragraphs that matched
            out = {k: s for k, s in out.items() if filters.admits(k[0], held[k].date, held[k].paragraph.speaker)}
        return out


_BIGRAM_RUN = re.compile(rf"[{HAN}]+|[a-z0-9]+")


def bigram_counts(folded: str) -> dict[str, int]:
    """Overlapping character bigrams of a folded text's Han runs (a lone character counts as itself) and its
    Latin words and numbers whole, stop characters and all: matching them needs no word segmentation, so
    ASR variants and jieba's different cuts of question and record still share most bigrams."""
    counts: dict[str, int] = {}
    for m in _BIGRAM_RUN.finditer(folded):
        run = m.group(0)
        grams = [run] if run.isascii() or len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
        for g in grams:
            counts[g] = counts.get(g, 0) + 1
    return counts


@dataclass(frozen=True)
class MeetingTerms:
    """One meeting's paragraphs in reading order: their numbers, which are transcript turns (have a speaker),
    their lengths in tokens and, per term, the paragraphs holding it with its counts there (sparse: a
    meeting's vocabulary is large and most terms are in few of its paragraphs)."""

    meeting_id: str
    numbers: np.ndarray
    turns: np.ndarray
    lengths: np.ndarray
    postings: Mapping[str, tuple[np.ndarray, np.ndarray]]

    def counts(self, term: str) -> np.ndarray | None:
        """A term's count in each paragraph (None: in none of them)."""
        held = self.postings.get(term)
        if held is None:
            return None
        out = np.zeros(len(self.numbers), dtype=np.float64)
        out[held[0]] = held[1]
        return out

    @classmethod
    def build(
        cls, meeting_id: str, numbers: Sequence[int], turns: Sequence[bool], rows: Sequence[Mapping[str, float]]
    ) -> MeetingTerms:
        """From each paragraph's term counts, in reading order."""
        found: dict[str, tuple[list[int], list[float]]] = {}
        for i, row in enumerate(rows):
            for term, c in row.items():
                held = found.setdefault(term, ([], []))
                held[0].append(i)
                held[1].append(c)
        postings = {t: (np.asarray(r, dtype=np.int32), np.asarray(c, dtype=np.float32)) for t, (r, c) in found.items()}
        lengths = np.asarray([sum(row.values()) for row in rows], dtype=np.float64)
        return cls(meeting_id, np.asarray(numbers, dtype=np.int64), np.asarray(turns, dtype=bool), lengths, postings)


class _IndexView:
    """A read-only mapping over one of a BM25 index's tables (`TABLE`: its meetings or its paragraphs), the
    values read from the segments on demand."""

    TABLE: str

    def __init__(self, index: BM25) -> None:
        self.index = index
        self._table: dict[Any, Any] = getattr(index, self.TABLE)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    def __contains__(self, key: object) -> bool:
        return key in self._table


class _PerMeeting(_IndexView):
    TABLE = "_where"


class _MeetingTexts(_PerMeeting, Mapping[str, str]):
    """Each live meeting's folded text (its paragraphs, one a line), read from its segment on demand."""

    def __getitem__(self, meeting_id: str) -> str:
        si, docs = self.index._where[meeting_id]
        seg = self.index.segments[si]
        return "".join(seg.text(d) + "\n" for d in docs)


class _MeetingTokens(_PerMeeting, Mapping[str, set[str]]):
    """Every token of each live meeting, from its segment's saved term lists; the sets of recently asked
    meetings are kept (a question's candidates come from a few dozen meetings, often the same ones)."""

    KEEP = 4096

    def __init__(self, index: BM25) -> None:
        super().__init__(index)
        self._held: dict[str, set[str]] = {}

    def __getitem__(self, meeting_id: str) -> set[str]:
        held = self._held.get(meeting_id)
        if held is None:
            si, docs = self.index._where[meeting_id]
            held = self.index.segments[si].terms_of(docs)
            if len(self._held) >= self.KEEP:
                self._held.clear()
            self._held[meeting_id] = held
        return held


class _Paragraphs(_IndexView, Mapping[Key, StoredParagraph]):
    """Live stored paragraphs by key, read from a segment's memory-mapped corpus on demand."""

    TABLE = "_doc"

    def __getitem__(self, key: Key) -> StoredParagraph:
        si, d = self.index._doc[key]
        return self.index.segments[si].paragraph(d)


class LexicalIndex:
    """Keeps a BM25 index in step with a store; thread-safe, and shared with other processes through files."""

    def __init__(self, store: Store, cache_dir: Path | None = None) -> None:
        self.store = store
        self.cache_dir = cache_dir
        self._generation: str | None = None
        self._bm25 = BM25()
        self._built_at = 0.0
        self._clean: tuple[str, BM25] | None = None  # the last index of a clean generation: the next base
        self._lock = threading.Lock()

    @property
    def folder(self) -> Path | None:
        if self.cache_dir is None:
            return None
        ident = hashlib.sha1(f"{self.store.collection_name}|{self.store.client_id}".encode()).hexdigest()[:16]
        return self.cache_dir / "lexical" / f"{ident}-v{FORMAT}"

    def index(self, generation: str | None = None) -> BM25:
        """The current BM25 index, brought up to date if the store changed since (`generation`: the
        store's token when the caller has just read it)."""
        generation = generation or self.store.generation()
        if is_dirty(generation):
            return self._dirty_index(generation)
        if generation == self._generation:
            return self._bm25
        with self._lock:
            if generation != self._generation:
                self._bm25 = self._update(generation)
                self._generation = generation
                self._clean = (generation, self._bm25)
        return self._bm25

    def _dirty_index(self, generation: str) -> BM25:
        """A write is under way (or was cut off where no writer's death can be seen: a Chroma server): the
        index is brought up to date from the last clean one in memory, never saved, and brought up to date
        again after a short while. Meetings count as changed by their meeting records, which a write puts in
        last, so a meeting half-written is seen as it was before until its write completes."""
        with self._lock:
            if generation != self._generation or time.monotonic() - self._built_at > DIRTY_REUSE_S:
                folder = self.folder
                base = self._clean[1] if self._clean is not None else None
                if base is None and folder is not None and folder.exists():
                    base = self._load(folder, None)
                self._bm25 = self._sync(base or BM25(), generation, None)
                self._generation = generation
                self._built_at = time.monotonic()
        return self._bm25

    def paragraphs(self, keys: Iterable[tuple[str, int]], index: BM25 | None = None) -> dict[Key, StoredParagraph]:
        """Stored paragraphs by key, from the index (the current one unless given) when it has them; the
        store is read for the rest."""
        held = (index or self.index()).paragraphs
        keys = list(keys)
        out = {k: held[k] for k in keys if k in held}
        if len(out) < len(keys):
            out.update(self.store.get_paragraphs([k for k in keys if k not in out]))
        return out

    # -- keeping up with the store ------------------------------------------------------------------

    def _update(self, generation: str) -> BM25:
        folder = self.folder
        # A healed generation follows a write that was cut off: what it changed is not told by meeting
        # records alone (a meeting's paragraphs may be new under its old record), so it is read whole.
        healed = is_healed(generation)
        if folder is None:  # no cache directory: in memory only
            base = self._clean[1] if self._clean is not None and not healed else BM25()
            return self._sync(base, generation, None)
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one process indexes a generation; the others then map it
            try:
                loaded = self._load(folder, generation)
                if loaded is not None:
                    return loaded
                if healed:
                    base = BM25()
                elif self._clean is not None:
                    base = self._clean[1]
                else:
                    base = self._load(folder, None) or BM25()
                return self._sync(base, generation, folder)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _sync(self, base: BM25, generation: str, folder: Path | None) -> BM25:
        # Hashes are read before paragraphs: a meeting rewritten meanwhile shows a new hash next time.
        current = {m.meeting_id: m.content_hash for m in self.store.list_meetings()}
        changed = [mid for mid, h in current.items() if base.meetings.get(mid, (None, ""))[0] != h]
        kept = {mid: v for mid, v in base.meetings.items() if mid in current and mid not in changed}
        segments = [s for s in base.segments if any(v[1] == s.name for v in kept.values())]
        if changed:
            fresh: list[StoredParagraph] = []
            for i in range(0, len(changed), 500):
                fresh += self.store.paragraphs(changed[i : i + 500])
            if fresh:
                seg = Segment.build(_segment_name(), fresh)
                segments.append(seg)
                kept.update({mid: (current[mid], seg.name) for mid in {sp.meeting_id for sp in fresh}})
        index = BM25(segments, kept)
        if _needs_merge(index):
            merged = Segment.merge(_segment_name(), [(s, np.flatnonzero(live)) for s, live in index.live_segments()])
            index = BM25([merged], {mid: (h, merged.name) for mid, (h, _) in kept.items()})
        if folder is not None:
            self._save(folder, generation, index)
        return index

    def _save(self, folder: Path, generation: str, index: BM25) -> None:
        try:
            for seg in index.segments:
                target = folder / seg.name
                if not (target / "complete").exists():
                    seg.save(target)
            manifest = {
                "format": FORMAT,
                "generation": generation,
                "segments": [s.name for s in index.segments],
                "meetings": index.meetings,
            }
            fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(manifest, f, ensure_ascii=False)
            os.replace(tmp, folder / f"manifest-{generation}.json")
            self._prune(folder)
        except OSError:
            pass  # the files are an optimisation; an unwritable cache dir must not break search

    def _prune(self, folder: Path) -> None:
        manifests = sorted(folder.glob("manifest-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in manifests[KEEP_MANIFESTS:]:
            old.unlink(missing_ok=True)
        used: set[str] = set()
        for m in manifests[:KEEP_MANIFESTS]:
            try:
                used.update(str(n) for n in json.loads(m.read_text(encoding="utf-8")).get("segments", []))
            except (ValueError, AttributeError, TypeError):  # not a manifest this code wrote: never used
                m.unlink(missing_ok=True)
        for seg_dir in folder.glob("seg-*"):
            if seg_dir.name not in used:
                shutil.rmtree(seg_dir, ignore_errors=True)  # a process still mapping it keeps its open files

    def _load(self, folder: Path, generation: str | None) -> BM25 | None:
        """The index saved for `generation` (None: the newest saved one, as a base to update)."""
        if generation is None:
            found = sorted(folder.glob("manifest-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        else:
            found = [folder / f"manifest-{generation}.json"]
        for path in found[:1]:
            try:
                manifest = json.loads(path.read_text(encoding="utf-8"))
                if manifest.get("format") != FORMAT:
                    return None
                held = self._clean[1].segments if self._clean is not None else self._bm25.segments
                reuse = {s.name: s for s in held}
                segments = [reuse.get(n) or Segment.load(folder / n) for n in manifest["segments"]]
                meetings = {m: (str(h), str(s)) for m, (h, s) in manifest["meetings"].items()}
                return BM25(segments, meetings)
            except (OSError, ValueError, KeyError, TypeError):  # a damaged or half-pruned set is rebuilt
                return None
        return None


def _segment_name() -> str:
    return f"seg-{uuid.uuid4().hex[:12]}"


def _needs_merge(index: BM25) -> bool:
    if len(index.segments) <= 1:
        return len(index.segments) == 1 and index.n < index.segments[0].size * (1 - MERGE_SHARE)
    total = sum(s.size for s in index.segments)
    outside = total - max(s.size for s in index.segments)
    dead = total - index.n
    return len(index.segments) > MAX_SEGMENTS or outside > MERGE_SHARE * total or dead > MERGE_SHARE * total
