"""The hybrid retriever: BM25 over folded jieba tokens + dense e5 over sentences and paragraphs.

Signals are computed once per question (`HybridSearcher.signals`) and fused separately (`fuse`), so the
fusion can be tuned offline on the dev set. Each signal is calibrated to [0, 1] before fusion: BM25
relative to the best lexical match (damped when even the best match is weak), dense similarity between a
floor and a ceiling of e5 cosine. A paragraph's dense score blends its best sentence with the whole
paragraph. English questions also get Chinese search terms from a dictionary (see text/crosslingual.py).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from meeting_qa.embeddings import SentenceEmbeddings
from meeting_qa.lexical import BM25, LexicalIndex
from meeting_qa.store import Store, StoredParagraph, paragraph_id, sentence_id
from meeting_qa.text.crosslingual import Translation, lexicon
from meeting_qa.text.fold import Language, detect_language, fold
from meeting_qa.text.kinds import (
    ANSWER_TYPES,
    KIND_TERMS,
    MEETING_REFERENCE,
    answers_kind,
    question_kinds,
    states_date,
)
from meeting_qa.text.tokenize import QUESTION_WORDS, TYPE_WORD_WEIGHT, TYPE_WORDS, tokenize, words_with_parts
from meeting_qa.types import Passage

Key = tuple[str, int]


@dataclass(frozen=True)
class FusionWeights:
    """Tuned on the development set (see benchmarks/retrieval.py and BENCHMARKS.md)."""

    lexical: float = 0.7
    dense: float = 0.3
    sentence_share: float = 0.7  # paragraph dense score = share * best sentence + (1 - share) * paragraph
    dense_floor: float = 0.72  # e5 cosine below this says nothing
    dense_ceiling: float = 0.92
    lexical_saturation: float = 8.0  # a best BM25 score at or above this counts as a full-strength match
    answer_type: float = 0.2  # bonus when a who/when/how-many/source question meets a name/date/number/source
    meeting_coverage: float = 0.2  # bonus by how much of the question the paragraph's whole meeting covers
    own_date: float = 0.4  # bonus when "when was the meeting…" meets a paragraph stating its meeting's date
    meeting_record: float = 0.15  # bonus for a dated meeting record when the question is about "the meeting"
    kind_terms: float = 0.5  # query weight of the words that mark an answer's kind (来源 for "which media")
    candidates: int = 40
    fill_dense: int = 6  # lexical-only candidates whose similarity is read from stored vectors


@dataclass(frozen=True)
class Concept:
    """One thing the question asks about: alternative spellings (jieba sub-words, translations) and a weight.

    Coverage of concepts by a paragraph or sentence tells how much of the question the text addresses;
    a concept absent from every record weighs the most, which is what makes abstention work."""

    alternatives: tuple[str, ...]
    weight: float
    absent: bool = False  # found in no record at all
    core: bool = True  # names a topic (not an answer-type word like 原则/要求, not a loose translation)

    def covered_by(self, text: TextView) -> bool:
        return any(text.mentions(a) for a in self.alternatives)


class TextView:
    """A folded text with its search tokens. Two-character terms must be whole tokens (本地产业 does not
    mention 地产); longer terms may also match as substrings (the question and the record may be cut apart
    differently by jieba)."""

    def __init__(self, folded: str, tokens: set[str] | None = None) -> None:
        self.folded = folded
        self.tokens = tokens if tokens is not None else set(tokenize(folded, folded=True))

    def mentions(self, term: str) -> bool:
        return term in self.tokens or (len(term) >= 3 and term in self.folded)


def meeting_view(index: BM25, meeting_id: str, *, fallback: str = "") -> TextView:
    """A whole meeting's text as the lexical index holds it (`fallback` for a meeting it does not hold)."""
    if meeting_id in index.meeting_texts:
        return TextView(index.meeting_texts[meeting_id], index.meeting_tokens.get(meeting_id, set()))
    return TextView(fallback)


def coverage(concepts: Sequence[Concept], text: TextView) -> float:
    """Weighted share of the question's concepts that a text mentions."""
    total = sum(c.weight for c in concepts)
    if total <= 0:
        return 0.0
    return sum(c.weight for c in concepts if c.covered_by(text)) / total


@dataclass
class Signals:
    """Everything measured about one question, before fusion."""

    question: str
    folded: str
    language: Language
    terms: dict[str, float]
    concepts: list[Concept]
    vector: np.ndarray
    bm25: dict[Key, float]
    paragraph_sims: dict[Key, float]
    sentence_sims: dict[Key, dict[int, float]]
    index: BM25 = field(default_factory=BM25)  # the lexical index the question was scored against


@dataclass
class Candidate:
    """A paragraph with its evidence signals (the answerer reuses them)."""

    stored: StoredParagraph
    lexical: float = 0.0
    dense: float = 0.0
    dense_raw: float = 0.0
    score: float = 0.0
    sentence_sims: dict[int, float] = field(default_factory=dict)  # sentence start offset -> cosine

    @property
    def key(self) -> Key:
        return (self.stored.meeting_id, self.stored.paragraph.number)

    def passage(self) -> Passage:
        p = self.stored.paragraph
        return Passage(
            meeting_id=self.stored.meeting_id,
            paragraph=p.number,
            text=p.text,
            score=round(self.score, 4),
            title=self.stored.title,
            date=self.stored.date,
            speaker=p.speaker,
            timestamp=p.timestamp,
        )


def translations(question: str, language: Language, cache_dir: Path | None) -> list[Translation]:
    """Chinese terms for an English question (empty for Chinese questions or without the dictionary)."""
    lx = lexicon(cache_dir) if language == "en" else None
    return lx.translate(question) if lx is not None else []


def query_terms(
    folded: str, translated: Sequence[Translation], bm25: BM25, kind_weight: float = 0.5
) -> dict[str, float]:
    """Weighted search terms: the question's own tokens, the Chinese translations of an English one, and the
    words that mark the kind of answer it wants."""
    terms: dict[str, float] = {}
    for kind in question_kinds(folded):
        for term in KIND_TERMS.get(kind, ()):
            if bm25.idf(term) > 0:
                terms[term] = kind_weight
    for token, count in Counter(tokenize(folded, folded=True)).items():
        # Interrogatives say nothing; answer-type words ("which principles") say little.
        if token not in QUESTION_WORDS:
            terms[token] = count * (TYPE_WORD_WEIGHT if token in TYPE_WORDS else 1.0)
    for tr in translated:
        weight, heads = tr.weight, tr.heads
        present: list[str] = []
        for head in heads:
            # A headword the index does not hold as one token may still match through its parts.
            present.extend(
                [head] if bm25.idf(head) > 0 else [t for t in tokenize(head, folded=True) if bm25.idf(t) > 0]
            )
        for term in dict.fromkeys(present):
            terms[term] = terms.get(term, 0.0) + weight / len(set(present))
    return terms


ENGLISH_ABSENT_SCALE = 0.5


def names_in(question: str) -> set[str]:
    """English words a question writes as names (RCEP, COVID-19, 5G, a capitalised word after the first),
    lower-cased like folded text."""
    words = re.findall(r"[A-Za-z0-9][A-Za-z0-9+-]*", question)
    return {
        w.lower()
        for i, w in enumerate(words)
        if any(ch.isdigit() for ch in w) or any(ch.isupper() for ch in w[1:]) or (i > 0 and w[0].isupper())
    }


def question_concepts(
    folded: str, language: Language, translated: Sequence[Translation], bm25: BM25, names: set[str] | None = None
) -> list[Concept]:
    """The question's concepts, weighted by how rare they are in the records (absent = rarest)."""
    concepts: list[Concept] = []

    def add(alternatives: Sequence[str], scale: float = 1.0, absent_scale: float = 1.0, core: bool = True) -> None:
        alts = tuple(dict.fromkeys(a for a in alternatives if a))
        if not alts or any(c.alternatives == alts for c in concepts):
            return
        idfs = [bm25.idf(a) if len(a) < 3 else bm25.substring_idf(a) for a in alts]
        ceiling = bm25.max_idf  # the IDF of a term found nowhere
        idfs = [i if i > 0 else ceiling for i in idfs]
        present = [i for i in idfs if i < ceiling]
        weight = scale * (max(present) if present else absent_scale * ceiling)
        # Only words of two or more characters name a topic; a stray single character proves nothing.
        concepts.append(Concept(alts, weight, absent=not present, core=core and scale == 1.0 and len(alts[0]) >= 2))

    if language == "en":
        for word in tokenize(folded, folded=True):
            # Names the question writes in English that the records themselves contain (RCEP) count as is;
            # ordinary words ("say", "business") speak through their translations, even where some record
            # (a Wikipedia gloss) happens to contain them.
            if word.isascii() and word in (names or ()) and bm25.substring_idf(word) < bm25.max_idf:
                add([word])
        for tr in translated:
            # A dictionary translation absent from the records may just be the wrong sense of the word;
            # a glossary translation is trusted like a Chinese word.
            add(
                tr.heads,
                scale=min(1.0, tr.weight),
                absent_scale=1.0 if tr.curated else ENGLISH_ABSENT_SCALE,
                core=tr.curated,
            )
        return concepts
    for word, parts in words_with_parts(folded):
        add([word, *parts], TYPE_WORD_WEIGHT if word in TYPE_WORDS else 1.0)
    return concepts


def _calibrate_dense(sim: float, w: FusionWeights) -> float:
    return min(1.0, max(0.0, (sim - w.dense_floor) / (w.dense_ceiling - w.dense_floor)))


def _blend(paragraph: float | None, sentence: float | None, share: float) -> float:
    if paragraph is None and sentence is None:
        return 0.0
    if paragraph is None:
        return float(sentence or 0.0) - 0.02  # only a sentence matched: slightly less sure
    if sentence is None:
        return paragraph
    return share * sentence + (1 - share) * paragraph


def _record_ids(paragraphs: Iterable[StoredParagraph]) -> list[str]:
    """Record ids of paragraphs and, for those of several sentences, of their sentences."""
    ids: list[str] = []
    for sp in paragraphs:
        mid, n = sp.meeting_id, sp.paragraph.number
        ids.append(paragraph_id(mid, n))
        if len(sp.paragraph.sentences) > 1:
            ids.extend(sentence_id(mid, n, k) for k in range(1, len(sp.paragraph.sentences) + 1))
    return ids


class HybridSearcher:
    """Plain-Python hybrid search; `HybridRetriever` wraps it for LangChain chains."""

    def __init__(
        self,
        store: Store,
        embeddings: SentenceEmbeddings,
        lexical: LexicalIndex,
        *,
        weights: FusionWeights | None = None,
        reranker: Any | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.store = store
        self.embeddings = embeddings
        self.lexical = lexical
        self.weights = weights or FusionWeights()
        self.reranker = reranker
        self.cache_dir = cache_dir

    def signals(
        self, question: str, *, meeting_ids: Sequence[str] | None = None, generation: str | None = None
    ) -> Signals:
        """Lexical and dense evidence for a question; filters are applied inside the store query."""
        folded = fold(question)
        language = detect_language(question)
        bm25_index = self.lexical.index(generation)
        translated = translations(question, language, self.cache_dir)
        terms = query_terms(folded, translated, bm25_index, self.weights.kind_terms)
        concepts = question_concepts(folded, language, translated, bm25_index, names_in(question))
        bm25 = bm25_index.scores(terms, meeting_ids)
        vector = self.embeddings.encode_query(folded)
        hits = self.store.dense(
            vector, k=self.weights.candidates, kinds=("paragraph", "sentence"), meeting_ids=meeting_ids
        )
        held = self.lexical.paragraphs({(h.meeting_id, h.paragraph) for h in hits}, bm25_index)
        para_sim: dict[Key, float] = {}
        sent_sims: dict[Key, dict[int, float]] = {}
        for h in hits:
            key = (h.meeting_id, h.paragraph)
            if h.kind == "paragraph":
                para_sim[key] = h.similarity
            elif key in held and 0 < h.sentence <= len(held[key].paragraph.sentences):
                sent_sims.setdefault(key, {})[held[key].paragraph.sentences[h.sentence - 1].start] = h.similarity
        return Signals(question, folded, language, terms, concepts, vector, bm25, para_sim, sent_sims, bm25_index)

    def fuse(self, sig: Signals, *, k: int, weights: FusionWeights | None = None) -> list[Candidate]:
        """Calibrated, weighted fusion of the signals; the top `k` paragraphs, best first."""
        w = weights or self.weights
        keys = set(sig.paragraph_sims) | set(sig.sentence_sims)
        if sig.bm25:
            keys |= {key for key, _ in sorted(sig.bm25.items(), key=lambda kv: -kv[1])[: w.candidates]}
        if not keys:
            return []
        stored = self.lexical.paragraphs(keys, sig.index)
        # Only the strongest lexical-only candidates are worth a vector fetch; the rest cannot reach the top.
        missing = [k for k in keys if k in stored and k not in sig.paragraph_sims]
        missing.sort(key=lambda k: -sig.bm25.get(k, 0.0))
        self._fill_dense(sig, [stored[k] for k in missing[: w.fill_dense]])
        # Damp lexical scores when even the best match is weak (a single common word matching).
        lex_scale = max(max(sig.bm25.values(), default=0.0), w.lexical_saturation)
        kinds = question_kinds(sig.folded) & ANSWER_TYPES
        about_meeting = MEETING_REFERENCE.search(sig.folded) is not None
        about_meeting_date = about_meeting and "when" in kinds
        meeting_cov: dict[str, float] = {}
        out: list[Candidate] = []
        for key in keys:
            if key not in stored:
                continue
            sp = stored[key]
            sims = sig.sentence_sims.get(key, {})
            p_sim = sig.paragraph_sims.get(key)
            s_best = max(sims.values(), default=None)
            if len(sp.paragraph.sentences) <= 1:
                s_best = p_sim if s_best is None else max(s_best, p_sim or 0.0)
            cand = Candidate(stored=sp, sentence_sims=dict(sims))
            cand.dense_raw = _blend(p_sim, s_best, w.sentence_share)
            cand.dense = _calibrate_dense(cand.dense_raw, w)
            cand.lexical = sig.bm25.get(key, 0.0) / lex_scale
            cand.score = w.lexical * cand.lexical + w.dense * cand.dense
            if kinds and any(answers_kind(k, sp.folded) for k in kinds):
                cand.score += w.answer_type
            if about_meeting_date and states_date(sp.folded, sp.date):
                # "When was the meeting held?" is answered where a record states its own meeting's date.
                cand.score += w.own_date
            if about_meeting and sp.date:
                # "The meeting" is a meeting record (these carry their date), not a reference text about meetings.
                cand.score += w.meeting_record
            mid = sp.meeting_id
            if mid not in meeting_cov:
                # A question about "the meeting" is about a record that covers all of it, not a stray paragraph.
                meeting_cov[mid] = coverage(sig.concepts, meeting_view(sig.index, mid))
            cand.score += w.meeting_coverage * meeting_cov[mid]
            out.append(cand)
        out.sort(key=lambda c: (-c.score, c.key))
        if self.reranker is not None and out:
            out = self._rerank(sig.question, out[: max(k * 3, 10)])
        return out[:k]

    def _fill_dense(self, sig: Signals, missing: list[StoredParagraph]) -> None:
        """Lexical candidates that the dense top-k missed get their real similarities from stored vectors
        (an absent similarity is not a zero one)."""
        vectors = self.store.vectors(_record_ids(missing))
        for sp in missing:
            key = (sp.meeting_id, sp.paragraph.number)
            vec = vectors.get(paragraph_id(*key))
            if vec is not None:
                sig.paragraph_sims[key] = float(np.dot(sig.vector, vec))
            sims = sig.sentence_sims.setdefault(key, {})
            for k, sent in enumerate(sp.paragraph.sentences, 1):
                svec = vectors.get(sentence_id(*key, k))
                if svec is not None:
                    sims[sent.start] = float(np.dot(sig.vector, svec))

    def candidates(
        self, question: str, *, k: int = 5, meeting_ids: Sequence[str] | None = None, generation: str | None = None
    ) -> list[Candidate]:
        """The top `k` paragraphs for a question, best first, with their evidence signals."""
        return self.fuse(self.signals(question, meeting_ids=meeting_ids, generation=generation), k=k)

    def _rerank(self, question: str, cands: list[Candidate]) -> list[Candidate]:
        scores = self.reranker.predict([(question, c.stored.paragraph.text) for c in cands])  # type: ignore[union-attr]
        ranked = np.asarray(scores, dtype=np.float64)
        # The cross-encoder only reorders; the fused score stays for abstention and display.
        order = sorted(range(len(cands)), key=lambda i: (-ranked[i], -cands[i].score))
        return [cands[i] for i in order]

    def search(self, question: str, *, k: int = 5, meeting_ids: Sequence[str] | None = None) -> list[Passage]:
        return [c.passage() for c in self.candidates(question, k=k, meeting_ids=meeting_ids)]


class HybridRetriever(BaseRetriever):
    """LangChain retriever over `HybridSearcher` (documents carry the Passage fields as metadata)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: HybridSearcher
    k: int = 5
    meeting_ids: list[str] | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [
            Document(
                page_content=p.text,
                metadata={
                    "meeting_id": p.meeting_id,
                    "paragraph": p.paragraph,
                    "score": p.score,
                    "title": p.title,
                    "date": p.date,
                    "speaker": p.speaker,
                    "timestamp": p.timestamp,
                },
            )
            for p in self.searcher.search(query, k=self.k, meeting_ids=self.meeting_ids)
        ]
