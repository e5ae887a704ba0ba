"""Segments of the lexical index: immutable bm25s indexes over some paragraphs, saved in their own files.

A segment holds, for the paragraphs it was built from:
- bm25s's sparse score matrix (CSC: term -> documents), its vocabulary and parameters, and the stored
  paragraphs as bm25s's JSON Lines corpus — all bm25s's own `save` files, loaded memory-mapped;
- each paragraph's terms and counts (CSR: document -> terms, `.npy`), so segments can be merged without
  tokenizing again and a meeting's token set is read without the store;
- the folded texts, one string, for substring document frequency, and which documents hold each character
  bigram (`bigrams.npy`), so a word's documents are found by reading a few of them instead of the whole string.

Segments never change once written (deletes are a liveness mask kept by the caller, see lexical.py), so
several processes can map the same files.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from meeting_qa.records import StoredParagraph, stored_paragraph
from meeting_qa.text.tokenize import tokenize

K1 = 1.2
B = 0.75
SEP = "\x00"  # between folded texts: never part of a search term
Key = tuple[str, int]
_CODES = 0x110000  # Unicode code points: a bigram (a, b) is the number a * _CODES + b
_DOC_SLOTS = 1 << 20  # a bigram posting key is bigram * _DOC_SLOTS + document (segments up to ~1M documents)
_BIGRAM_CHUNK = 2_000_000  # characters read at once while building the postings (bounds the build's memory)


def bigram_postings(folded: str, starts: np.ndarray) -> np.ndarray | None:
    """Sorted, unique `bigram * _DOC_SLOTS + document` keys of every character bigram of every document (those
    across the separator left out): the documents holding a bigram are one contiguous slice. None for a segment
    of more documents than a key has room for (it is scanned)."""
    n_docs = len(starts) - 1
    if n_docs >= _DOC_SLOTS:
        return None
    if n_docs == 0:
        return np.zeros(0, dtype=np.int64)
    bounds = np.asarray(starts, dtype=np.int64)
    doc_of = np.repeat(np.arange(n_docs, dtype=np.int64), (bounds[1:] - bounds[:-1]).astype(np.int64))
    parts: list[np.ndarray] = []
    sep = ord(SEP)
    for lo in range(0, len(folded), _BIGRAM_CHUNK):
        piece = folded[lo : lo + _BIGRAM_CHUNK + 1]  # one character more: the bigram across the chunk's edge
        codes = np.frombuffer(piece.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        first, second = codes[:-1], codes[1:]
        keep = (first != sep) & (second != sep)
        parts.append(((first * _CODES + second) * _DOC_SLOTS + doc_of[lo : lo + len(first)])[keep])
    if not parts:
        return np.zeros(0, dtype=np.int64)
    keys = np.sort(np.concatenate(parts), kind="stable")  # (np.unique hashes: ~15x slower on 12M keys)
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(keys) else keys


def lucene_idf(df: float, n: float) -> float:
    """BM25's IDF as bm25s computes it (`idf_method="lucene"`): positive for any df."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def _new_retriever() -> Any:
    import bm25s

    # ATIRE term-frequency part with Lucene IDF: tf·(k1+1) / (tf + k1·(1 − b + b·len/avg)) · idf.
    return bm25s.BM25(k1=K1, b=B, method="atire", idf_method="lucene")


def _stored_json(sp: StoredParagraph) -> dict[str, Any]:
    p = sp.paragraph
    meta: dict[str, Any] = {
        "meeting_id": sp.meeting_id,
        "paragraph": p.number,
        "text": p.text,
        "sentences": json.dumps([[s.start, s.end] for s in p.sentences]),
        "title": sp.title,
    }
    for name, value in (("speaker", p.speaker), ("timestamp", p.timestamp), ("date", sp.date)):
        if value is not None:
            meta[name] = value
    return {"meta": meta, "folded": sp.folded}


@dataclass
class Segment:
    """One immutable bm25s index and what lexical search needs beside it."""

    name: str
    retriever: Any  # bm25s.BM25 (memory-mapped when loaded from disk)
    keys: list[Key]
    corpus: Any  # a sequence of {"meta", "folded"} dicts (bm25s JsonlCorpus on disk)
    folded: str  # folded texts joined by SEP
    starts: np.ndarray  # start of each text in `folded`, plus one past the end
    doc_ptr: np.ndarray  # CSR of document -> (term id, count)
    doc_terms: np.ndarray
    doc_tfs: np.ndarray
    vocab: list[str]  # term id -> term
    bigrams: np.ndarray | None = None  # see `bigram_postings`; None: scanned (saved before them, or too large)

    def __post_init__(self) -> None:
        # Paragraph lengths in tokens, and their mean as bm25s used it when it built the matrix.
        ends = np.concatenate([[0], np.cumsum(np.asarray(self.doc_tfs, dtype=np.int64))])
        self.lengths = np.diff(ends[np.asarray(self.doc_ptr)]).astype(np.float64)
        self.avg_len = float(self.lengths.mean()) if len(self.lengths) else 1.0

    @property
    def size(self) -> int:
        return len(self.keys)

    def term_counts(self, docs: np.ndarray, baked: np.ndarray) -> np.ndarray:
        """A term's counts in these documents, recovered from the matrix's scores (the inverse of bm25s's
        formula with this segment's IDF and average length), so a score can be recomputed with live ones."""
        tfc = baked / lucene_idf(len(docs), self.size)
        c = K1 * (1 - B + B * self.lengths[docs] / self.avg_len)
        return np.rint(tfc * c / ((K1 + 1) - tfc))

    def tf_part(self, docs: np.ndarray, tf: np.ndarray, avg_len: float) -> np.ndarray:
        """BM25's term-frequency part (ATIRE, as bm25s builds it) for an average paragraph length."""
        return tf * (K1 + 1) / (tf + K1 * (1 - B + B * self.lengths[docs] / avg_len))

    def term_id(self, term: str) -> int | None:
        tid = self.retriever.vocab_dict.get(term)
        return None if tid is None or tid >= len(self.vocab) else int(tid)

    def column(self, tid: int) -> tuple[np.ndarray, np.ndarray]:
        """(documents, baked BM25 scores) of a term."""
        s = self.retriever.scores
        a, b = int(s["indptr"][tid]), int(s["indptr"][tid + 1])
        return np.asarray(s["indices"][a:b]), np.asarray(s["data"][a:b], dtype=np.float64)

    def text(self, doc: int) -> str:
        return self.folded[int(self.starts[doc]) : int(self.starts[doc + 1]) - 1]

    def terms_of(self, docs: range) -> set[str]:
        a, b = int(self.doc_ptr[docs.start]), int(self.doc_ptr[docs.stop])
        return {self.vocab[t] for t in np.unique(np.asarray(self.doc_terms[a:b])).tolist()}

    def paragraph(self, doc: int) -> StoredParagraph:
        item = self.corpus[doc]
        return stored_paragraph(item["meta"], item["folded"])

    def substring_docs(self, term: str) -> np.ndarray:
        """Documents whose folded text contains `term`: the documents holding its two rarest character bigrams,
        each checked for the whole term; a single character, or bigrams too common to narrow the search, by
        one pass over the joined texts in C."""
        # (A segment saved before bigram postings existed is scanned: building them would stall a question.)
        if len(term) >= 2 and SEP not in term and self.bigrams is not None:
            postings = sorted((self._bigram_docs(term[i], term[i + 1]) for i in range(len(term) - 1)), key=len)
            if len(postings[0]) == 0:
                return np.zeros(0, dtype=np.int64)
            if len(term) == 2:
                return postings[0].astype(np.int64)  # a bigram's documents are exactly the term's
            found = np.intersect1d(postings[0], postings[1], assume_unique=True)
            if 4 * len(found) <= self.size:
                starts = self.starts
                hits = [d for d in found.tolist() if term in self.folded[int(starts[d]) : int(starts[d + 1])]]
                return np.asarray(hits, dtype=np.int64)
        return self._scan_docs(term)

    def _bigram_docs(self, a: str, b: str) -> np.ndarray:
        assert self.bigrams is not None
        base = (ord(a) * _CODES + ord(b)) * _DOC_SLOTS
        lo, hi = np.searchsorted(self.bigrams, [base, base + _DOC_SLOTS])
        return np.asarray(self.bigrams[lo:hi]) - base

    def _scan_docs(self, term: str) -> np.ndarray:
        hits: list[int] = []
        i = self.folded.find(term)
        while i >= 0:
            doc = int(np.searchsorted(self.starts, i, side="right")) - 1
            hits.append(doc)
            i = self.folded.find(term, int(self.starts[doc + 1]))
        return np.asarray(hits, dtype=np.int64)

    # -- building, merging, files -----------------------------------------------------------------

    @classmethod
    def build(cls, name: str, paragraphs: Sequence[StoredParagraph]) -> Segment:
        """Tokenize paragraphs (the only costly step) and index them with bm25s."""
        # A turn is found by its speaker's name too ("what did Councillor Whitcombe say…").
        counts = [
            Counter(tokenize(sp.folded, folded=True) + (tokenize(sp.paragraph.speaker) if sp.paragraph.speaker else []))
            for sp in paragraphs
        ]
        return cls._from_counts(
            name,
            [(sp.meeting_id, sp.paragraph.number) for sp in paragraphs],
            counts,
            [_stored_json(sp) for sp in paragraphs],
            [sp.folded for sp in paragraphs],
        )

    @classmethod
    def merge(cls, name: str, parts: Sequence[tuple[Segment, np.ndarray]]) -> Segment:
        """One segment of the given documents of several segments, from their saved term counts."""
        keys: list[Key] = []
        counts: list[Counter[str]] = []
        corpus: list[dict[str, Any]] = []
        texts: list[str] = []
        for seg, docs in parts:
            for d in docs.tolist():
                a, b = int(seg.doc_ptr[d]), int(seg.doc_ptr[d + 1])
                terms, tfs = np.asarray(seg.doc_terms[a:b]).tolist(), np.asarray(seg.doc_tfs[a:b]).tolist()
                counts.append(Counter({seg.vocab[t]: f for t, f in zip(terms, tfs, strict=True)}))
                keys.append(seg.keys[d])
                corpus.append(seg.corpus[d])
                texts.append(seg.text(d))
        return cls._from_counts(name, keys, counts, corpus, texts)

    @classmethod
    def _from_counts(
        cls,
        name: str,
        keys: list[Key],
        counts: list[Counter[str]],
        corpus: list[dict[str, Any]],
        texts: list[str],
    ) -> Segment:
        vocab_dict: dict[str, int] = {}
        for c in counts:
            for term in c:
                vocab_dict.setdefault(term, len(vocab_dict))
        ptr = np.zeros(len(counts) + 1, dtype=np.int64)
        ids: list[int] = []
        tfs: list[int] = []
        token_ids: list[list[int]] = []
        for i, c in enumerate(counts):
            row = [vocab_dict[t] for t in c]
            ids += row
            tfs += list(c.values())
            ptr[i + 1] = len(ids)
            token_ids.append([t for t, f in zip(row, c.values(), strict=True) for _ in range(f)])
        retriever = _new_retriever()
        if vocab_dict:
            retriever.index((token_ids, dict(vocab_dict)), create_empty_token=False, show_progress=False)
        else:  # no tokens at all: an empty matrix keeps every lookup uniform
            retriever.scores = {
                "data": np.zeros(0, np.float32),
                "indices": np.zeros(0, np.int32),
                "indptr": np.zeros(1, np.int64),
                "num_docs": len(counts),
            }
            retriever.vocab_dict = {}
            retriever.nonoccurrence_array = None
        starts = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum([len(t) + 1 for t in texts], out=starts[1:])
        folded = "".join(t + SEP for t in texts)
        return cls(
            name,
            retriever,
            keys,
            corpus,
            folded,
            starts,
            ptr,
            np.asarray(ids, dtype=np.int32),
            np.asarray(tfs, dtype=np.int32),
            list(vocab_dict),
            bigram_postings(folded, starts),
        )

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.retriever.save(str(folder), corpus=self.corpus, show_progress=False, raise_on_serialization_error=True)
        np.save(folder / "doc_ptr.npy", self.doc_ptr)
        np.save(folder / "doc_terms.npy", self.doc_terms)
        np.save(folder / "doc_tfs.npy", self.doc_tfs)
        np.save(folder / "starts.npy", self.starts)
        if self.bigrams is not None:
            np.save(folder / "bigrams.npy", self.bigrams)
        (folder / "folded.txt").write_text(self.folded, encoding="utf-8")
        (folder / "keys.json").write_text(json.dumps(self.keys, ensure_ascii=False), encoding="utf-8")
        (folder / "complete").touch()  # written last: a folder without it is an interrupted save

    @classmethod
    def load(cls, folder: Path) -> Segment:
        import bm25s

        if not (folder / "complete").exists():
            raise FileNotFoundError(folder / "complete")
        retriever = bm25s.BM25.load(str(folder), load_corpus=True, mmap=True, show_progress=False, verbosity=0)
        keys = [(str(m), int(n)) for m, n in json.loads((folder / "keys.json").read_text(encoding="utf-8"))]
        vocab = [""] * len(retriever.vocab_dict)
        for term, tid in retriever.vocab_dict.items():
            vocab[tid] = term
        return cls(
            folder.name,
            retriever,
            keys,
            retriever.corpus if retriever.corpus is not None else [],
            (folder / "folded.txt").read_text(encoding="utf-8"),
            np.load(folder / "starts.npy"),
            np.load(folder / "doc_ptr.npy", mmap_mode="r"),
            np.load(folder / "doc_terms.npy", mmap_mode="r"),
            np.load(folder / "doc_tfs.npy", mmap_mode="r"),
            vocab,
            np.load(folder / "bigrams.npy", mmap_mode="r") if (folder / "bigrams.npy").exists() else None,
        )
