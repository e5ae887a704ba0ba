"""BM25 over folded tokens, derived from the store (Chroma holds the truth).

Built on first use, saved beside the cache, and rebuilt when the store's generation token changes —
including writes made by another process.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meeting_qa.store import Store, StoredParagraph, is_dirty
from meeting_qa.text.tokenize import tokenize
from meeting_qa.types import Filters, Paragraph, Sentence

DIRTY_REUSE_S = 10.0  # how long an index read during a write is reused before it is read again
FORMAT = 9  # bump when the tokenizer or layout changes, so old cache files are ignored (9: JSON, not pickle)


@dataclass
class BM25:
    """Okapi BM25 with postings lists; documents are keyed by (meeting_id, paragraph)."""

    keys: list[tuple[str, int]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # folded paragraph texts, for substring document frequency
    postings: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    lengths: list[int] = field(default_factory=list)
    meeting_tokens: dict[str, set[str]] = field(default_factory=dict)  # every token of each meeting
    meeting_texts: dict[str, str] = field(default_factory=dict)  # each meeting's folded text
    paragraphs: dict[tuple[str, int], StoredParagraph] = field(default_factory=dict)  # saves a store read per query
    k1: float = 1.2
    b: float = 0.75

    @classmethod
    def build(cls, paragraphs: Iterable[StoredParagraph]) -> BM25:
        index = cls()
        for sp in paragraphs:
            key, text = (sp.meeting_id, sp.paragraph.number), sp.folded
            # A turn is found by its speaker's name too ("what did Councillor Whitcombe say…").
            tokens = tokenize(text, folded=True) + (tokenize(sp.paragraph.speaker) if sp.paragraph.speaker else [])
            index.paragraphs[key] = sp
            doc = len(index.keys)
            index.keys.append(key)
            index.texts.append(text)
            index.lengths.append(len(tokens))
            index.meeting_tokens.setdefault(key[0], set()).update(tokens)
            index.meeting_texts[key[0]] = index.meeting_texts.get(key[0], "") + text + "\n"
            for term, tf in Counter(tokens).items():
                index.postings.setdefault(term, []).append((doc, tf))
        return index

    def idf(self, term: str) -> float:
        n = len(self.keys)
        df = len(self.postings.get(term, ()))
        return math.log(1 + (n - df + 0.5) / (df + 0.5)) if df else 0.0

    @property
    def max_idf(self) -> float:
        """The IDF of a term found in no paragraph (what `substring_idf` gives for it)."""
        n = len(self.texts)
        return math.log(1 + (n + 0.5) / 0.5)

    def substring_idf(self, term: str) -> float:
        """IDF by substring occurrence: robust to jieba cutting the question and the records differently.
        A term found nowhere gets the highest IDF: a question about it is a question the records don't cover."""
        n = len(self.texts)
        df = sum(1 for t in self.texts if term in t)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def scores(self, query_terms: Mapping[str, float], filters: Filters | None = None) -> dict[tuple[str, int], float]:
        """BM25 per paragraph for weighted query terms (a term's weight plays the role of its query count);
        only paragraphs that pass `filters` are scored (the same test as the store's query)."""
        if not self.keys:
            return {}
        avg = sum(self.lengths) / len(self.lengths) or 1.0
        out: dict[int, float] = {}
        for term, qtf in query_terms.items():
            idf = self.idf(term)
            if idf <= 0:
                continue
            for doc, tf in self.postings.get(term, ()):
                norm = tf * (self.k1 + 1) / (tf + self.k1 * (1 - self.b + self.b * self.lengths[doc] / avg))
                out[doc] = out.get(doc, 0.0) + qtf * idf * norm
        result = {self.keys[d]: s for d, s in out.items()}
        if filters is not None and not filters.empty:
            held = self.paragraphs
            result = {k: s for k, s in result.items() if filters.admits(k[0], held[k].date, held[k].paragraph.speaker)}
        return result


class LexicalIndex:
    """Keeps a BM25 index in step with a store; thread-safe."""

    def __init__(self, store: Store, cache_dir: Path | None = None) -> None:
        self.store = store
        self.cache_dir = cache_dir
        self._generation: str | None = None
        self._bm25 = BM25()
        self._built_at = 0.0
        self._lock = threading.Lock()

    def _cache_file(self, generation: str) -> Path | None:
        if self.cache_dir is None:
            return None
        ident = hashlib.sha1(f"{self.store.collection_name}|{self.store.client_id}".encode()).hexdigest()[:16]
        return self.cache_dir / "lexical" / f"{ident}-{generation}-v{FORMAT}.json"

    def index(self, generation: str | None = None) -> BM25:
        """The current BM25 index, rebuilt if the store changed since it was built (`generation`: the
        store's token when the caller has just read it)."""
        generation = generation or self.store.generation()
        if is_dirty(generation):
            return self._dirty_index(generation)
        if generation == self._generation:
            return self._bm25
        with self._lock:
            if generation != self._generation:
                self._bm25 = self._load(generation) or self._build(generation)
                self._generation = generation
        return self._bm25

    def _dirty_index(self, generation: str) -> BM25:
        """A write is under way (or was cut off where no writer's death can be seen: a Chroma server):
        what is read now may be half of it, so it is never saved and is re-read after a short while."""
        with self._lock:
            if generation != self._generation or time.monotonic() - self._built_at > DIRTY_REUSE_S:
                self._bm25 = BM25.build(self.store.paragraphs())
                self._generation = generation
                self._built_at = time.monotonic()
        return self._bm25

    def paragraphs(
        self, keys: Iterable[tuple[str, int]], index: BM25 | None = None
    ) -> dict[tuple[str, int], StoredParagraph]:
        """Stored paragraphs by key, from the index (the current one unless given) when it has them; the
        store is read for the rest."""
        held = (index or self.index()).paragraphs
        keys = list(keys)
        out = {k: held[k] for k in keys if k in held}
        if len(out) < len(keys):
            out.update(self.store.get_paragraphs([k for k in keys if k not in out]))
        return out

    def _load(self, generation: str) -> BM25 | None:
        path = self._cache_file(generation)
        if path is None or not path.exists():
            return None
        try:
            # Plain JSON data: loading it cannot run code, whoever wrote the cache folder.
            return _from_json(json.loads(path.read_text(encoding="utf-8")))
        except Exception:  # a damaged or foreign cache file is just rebuilt
            return None

    def _build(self, generation: str) -> BM25:
        bm25 = BM25.build(self.store.paragraphs())
        path = self._cache_file(generation)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                for old in path.parent.glob(path.name.split("-")[0] + "-*"):
                    old.unlink(missing_ok=True)
                fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(_to_json(bm25), f, ensure_ascii=False)
                os.replace(tmp, path)
            except OSError:
                pass  # the cache is an optimisation; an unwritable cache dir must not break search
        return bm25


def _to_json(index: BM25) -> dict[str, Any]:
    return {
        "keys": [list(k) for k in index.keys],
        "texts": index.texts,
        "postings": index.postings,
        "lengths": index.lengths,
        "meeting_tokens": {m: sorted(t) for m, t in index.meeting_tokens.items()},
        "meeting_texts": index.meeting_texts,
        "paragraphs": [
            {
                "meeting_id": sp.meeting_id,
                "number": sp.paragraph.number,
                "text": sp.paragraph.text,
                "sentences": [[x.start, x.end] for x in sp.paragraph.sentences],
                "speaker": sp.paragraph.speaker,
                "timestamp": sp.paragraph.timestamp,
                "folded": sp.folded,
                "title": sp.title,
                "date": sp.date,
            }
            for sp in index.paragraphs.values()
        ],
    }


def _from_json(data: dict[str, Any]) -> BM25:
    index = BM25(
        keys=[(str(m), int(n)) for m, n in data["keys"]],
        texts=[str(t) for t in data["texts"]],
        postings={str(t): [(int(d), int(f)) for d, f in p] for t, p in data["postings"].items()},
        lengths=[int(n) for n in data["lengths"]],
        meeting_tokens={str(m): set(t) for m, t in data["meeting_tokens"].items()},
        meeting_texts={str(m): str(t) for m, t in data["meeting_texts"].items()},
    )
    for p in data["paragraphs"]:
        paragraph = Paragraph(
            int(p["number"]),
            str(p["text"]),
            tuple(Sentence(int(a), int(b)) for a, b in p["sentences"]),
            p.get("speaker"),
            p.get("timestamp"),
        )
        sp = StoredParagraph(str(p["meeting_id"]), paragraph, str(p["folded"]), str(p["title"]), p.get("date"))
        index.paragraphs[(sp.meeting_id, paragraph.number)] = sp
    return index
