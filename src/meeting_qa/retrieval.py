"""The hybrid retriever: BM25 over folded jieba tokens + dense embeddings over sentences and paragraphs.

Signals are computed once per question (`HybridSearcher.signals`) and fused separately (`fuse`, which
returns new values and mutates nothing), so the fusion can be fitted offline. Each signal is calibrated to
[0, 1] before fusion: BM25 relative to the best lexical match (damped when even the best match is weak),
dense similarity between a floor and a ceiling measured for the embedding model on the store's own texts
(see calibration.py). A paragraph's dense score blends its best sentence with the whole paragraph. The
question's analysis (kinds, concepts, translations, meetings and speakers it names) is question.py's.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from meeting_qa.calibration import Calibration, calibration_for
from meeting_qa.embeddings import SentenceEmbeddings
from meeting_qa.lexical import BM25, LexicalIndex, MeetingTerms, bigram_counts
from meeting_qa.meetings import Catalog, states_date
from meeting_qa.profile import FusionWeights, Profile, default_profile
from meeting_qa.question import Concept, Question, TextView, analyze, coverage
from meeting_qa.segments import K1, B, lucene_idf
from meeting_qa.store import Store, StoredParagraph, paragraph_id, sentence_id
from meeting_qa.text.crosslingual import lexicon
from meeting_qa.types import Filters, Passage

Key = tuple[str, int]


def meeting_view(index: BM25, meeting_id: str, *, fallback: str = "") -> TextView:
    """A whole meeting's text as the lexical index holds it (`fallback` for a meeting it does not hold)."""
    if meeting_id in index.meeting_texts:
        return TextView(index.meeting_texts[meeting_id], index.meeting_tokens.get(meeting_id, set()))
    return TextView(fallback)


@dataclass(frozen=True)
class Signals:
    """Everything measured about one question, before fusion."""

    question: Question
    vector: np.ndarray
    bm25: Mapping[Key, float]
    paragraph_sims: Mapping[Key, float]
    sentence_sims: Mapping[Key, Mapping[int, float]]
    index: BM25 = field(default_factory=BM25)  # the lexical index the question was scored against
    catalog: Catalog | None = None
    calibration: Calibration = field(default_factory=Calibration)
    filters: Filters | None = None  # what the question's search was limited to

    @property
    def concepts(self) -> Sequence[Concept]:
        return self.question.concepts


@dataclass(frozen=True)
class Candidate:
    """A paragraph with its evidence signals (the answerer reuses them)."""

    stored: StoredParagraph
    lexical: float = 0.0
    dense: float = 0.0
    dense_raw: float = 0.0
    score: float = 0.0
    sentence_sims: Mapping[int, float] = field(default_factory=dict)  # sentence start offset -> cosine

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


OPENING_KINDS = frozenset({"who", "when", "attendance"})


def _is_meeting(catalog: Catalog | None, meeting_id: str) -> bool:
    card = catalog.get(meeting_id) if catalog is not None else None
    return card is not None and card.is_meeting


def _opens_record(catalog: Catalog | None, meeting_id: str) -> bool:
    """Whether the meeting's first paragraph is the genre's opening (its own name was read from it)."""
    card = catalog.get(meeting_id) if catalog is not None else None
    return card is not None and card.heading != card.title


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


def neighbour_turns(index: BM25, sp: StoredParagraph) -> list[StoredParagraph]:
    """The turns just before and after a transcript turn (none for a paragraph of a report)."""
    if not sp.paragraph.speaker:
        return []
    mid, n = sp.meeting_id, sp.paragraph.number
    return [index.paragraphs[k] for k in ((mid, n - 1), (mid, n + 1)) if k in index.paragraphs]


def _turn_bm25(sig: Signals, sp: StoredParagraph, share: float) -> float:
    """A paragraph's BM25; a transcript turn's plus `share` of its best neighbouring turn's."""
    own = sig.bm25.get((sp.meeting_id, sp.paragraph.number), 0.0)
    around = [sig.bm25.get((n.meeting_id, n.paragraph.number), 0.0) for n in neighbour_turns(sig.index, sp)]
    return own + share * max(around, default=0.0)


def _neighbour_turns(sig: Signals, keys: set[Key], top: int) -> set[Key]:
    """The turns around the best lexical matches among transcript turns (a reply may share no word with the
    question it answers)."""
    best = sorted((k for k in keys if k in sig.bm25), key=lambda k: -sig.bm25[k])[:top]
    out: set[Key] = set()
    for key in best:
        sp = sig.index.paragraphs.get(key)
        if sp is None:
            continue
        for n in neighbour_turns(sig.index, sp):
            if sig.filters is None or sig.filters.admits(n.meeting_id, n.date, n.paragraph.speaker):
                out.add((n.meeting_id, n.paragraph.number))
    return out - keys


def _look_back(values: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Each position's value plus its predecessors' weighted by `kernel` (kernel[j]: the weight of the value
    j places before)."""
    return np.convolve(values, kernel, mode="full")[: len(values)]


def window_bm25(mt: MeetingTerms, query_terms: Mapping[str, float], before: int, decay: float) -> np.ndarray:
    """BM25 of each transcript turn read with the `before` turns that lead to it (a turn j places back
    counts `decay`**j), scored as documents among the meeting's turns: a term every turn holds (the
    meeting's own subject) weighs little, and a long turn counts for less. 0 for paragraphs without a
    speaker. Only earlier turns count: a discussion follows the turn that opens it, and taking the turns
    after as well blurred the boundary between two topics (VCSum: symmetric windows of ±1–5 turns ranked
    the gold segment lower than the turn alone)."""
    n = len(mt.numbers)
    out = np.zeros(n, dtype=np.float64)
    turns = mt.turns.astype(np.float64)
    n_turns = int(mt.turns.sum())
    if n_turns == 0:
        return out
    kernel = decay ** np.arange(before + 1, dtype=np.float64)
    lengths = _look_back(mt.lengths * turns, kernel)
    avg = float(lengths[mt.turns].mean()) or 1.0
    norm = K1 * (1 - B + B * lengths / avg)
    for term, weight in query_terms.items():
        counts = mt.counts(term)
        if counts is None or weight <= 0:
            continue
        tf = _look_back(counts * turns, kernel) * turns
        df = int((tf > 0).sum())
        if df:
            out += weight * lucene_idf(df, n_turns) * tf * (K1 + 1) / (tf + norm)
    return out


def _bigram_scores(sig: Signals, stored: Mapping[Key, StoredParagraph], w: FusionWeights) -> dict[Key, float]:
    """Character-bigram BM25 (`window_bm25` over `BM25.meeting_bigrams`) of the transcript turns of the
    meetings among the candidates (`stored`) — the few whose best lexical match is strongest — relative to
    the best turn among them."""
    best: dict[str, float] = {}
    for key, sp in stored.items():
        if sp.paragraph.speaker:  # only transcripts: reports never read bigrams
            best[key[0]] = max(best.get(key[0], 0.0), sig.bm25.get(key, 0.0))
    query = bigram_counts(sig.question.folded)
    if not query:
        return {}
    raw: dict[Key, float] = {}
    for mid in sorted(best, key=lambda m: (-best[m], m))[: w.bigram_meetings]:
        mt = sig.index.meeting_bigrams(mid)
        if mt is None or not mt.turns.any():
            continue
        scores = window_bm25(mt, query, w.bigram_before, w.bigram_decay)
        for number, score in zip(mt.numbers.tolist(), scores.tolist(), strict=True):
            if score > 0:
                raw[(mid, number)] = score
    top = max(raw.values(), default=0.0)
    return {key: s / top for key, s in raw.items()} if top > 0 else {}


class HybridSearcher:
    """Plain-Python hybrid search; `chain.HybridRetriever` offers it (through `Engine.search`) to LangChain chains."""

    def __init__(
        self,
        store: Store,
        embeddings: SentenceEmbeddings,
        lexical: LexicalIndex,
        *,
        profile: Profile | None = None,
        reranker: Any | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.store = store
        self.embeddings = embeddings
        self.lexical = lexical
        self.profile = profile or default_profile()
        self.reranker = reranker
        self.cache_dir = cache_dir
        self._catalogs: dict[int, tuple[BM25, Catalog]] = {}
        self._lock = threading.Lock()
        self._calibration: tuple[BM25, Calibration] | None = None

    @property
    def weights(self) -> FusionWeights:
        return self.profile.fusion

    def catalog(self, index: BM25) -> Catalog:
        """The meeting cards of the store the index was built from (built once per index)."""
        with self._lock:
            held = self._catalogs.get(id(index))
            if held is None or held[0] is not index:
                held = (index, Catalog(index.paragraphs.values(), self.profile, lexicon(self.cache_dir)))
                self._catalogs = {id(index): held}  # one index is current at a time
            return held[1]

    def analyze(self, question: str, *, generation: str | None = None) -> Question:
        """The question's analysis against the current records."""
        index = self.lexical.index(generation)
        lx = lexicon(self.cache_dir)
        return analyze(question, stats=index, profile=self.profile, lexicon=lx, catalog=self.catalog(index))

    def signals(
        self, question: str | Question, *, filters: Filters | None = None, generation: str | None = None
    ) -> Signals:
        """Lexical and dense evidence for a question; filters are applied inside the store query."""
        index = self.lexical.index(generation)
        q = question if isinstance(question, Question) else self.analyze(question, generation=generation)
        bm25 = index.scores(q.term_weights, filters)
        vector = self.embeddings.encode_query(q.search_text or q.folded)
        hits = self.store.dense(vector, k=self.weights.candidates, kinds=("paragraph", "sentence"), filters=filters)
        held = self.lexical.paragraphs({(h.meeting_id, h.paragraph) for h in hits}, index)
        para_sim: dict[Key, float] = {}
        sent_sims: dict[Key, dict[int, float]] = {}
        for h in hits:
            key = (h.meeting_id, h.paragraph)
            if h.kind == "paragraph":
                para_sim[key] = h.similarity
            elif key in held and 0 < h.sentence <= len(held[key].paragraph.sentences):
                sent_sims.setdefault(key, {})[held[key].paragraph.sentences[h.sentence - 1].start] = h.similarity
        return Signals(
            q, vector, bm25, para_sim, sent_sims, index, self.catalog(index), self.calibration(index), filters
        )

    def calibration(self, index: BM25) -> Calibration:
        """The model's calibration on this store (read once per store state)."""
        held = self._calibration
        if held is not None and held[0] is index:
            return held[1]
        calibration = calibration_for(self.store, self.embeddings, paragraphs=index.paragraphs)
        self._calibration = (index, calibration)
        return calibration

    def fuse(self, sig: Signals, *, k: int, weights: FusionWeights | None = None) -> list[Candidate]:
        """Calibrated, weighted fusion of the signals; the top `k` paragraphs, best first (new values)."""
        w = weights or self.weights
        q = sig.question
        keys = set(sig.paragraph_sims) | set(sig.sentence_sims)
        if sig.bm25:
            # the strongest lexical matches (nlargest: the same top as a full sort, without sorting thousands)
            keys |= {key for key, _ in heapq.nlargest(w.candidates, sig.bm25.items(), key=lambda kv: kv[1])}
        if not keys:
            return []
        if w.turn_context > 0:
            keys |= _neighbour_turns(sig, keys, w.fill_dense)
        stored = self.lexical.paragraphs(keys, sig.index)
        # Only the strongest lexical-only candidates are worth a vector fetch; the rest cannot reach the top.
        missing = [key for key in keys if key in stored and key not in sig.paragraph_sims]
        missing.sort(key=lambda key: -sig.bm25.get(key, 0.0))
        para_sims, sent_sims = self._fill_dense(sig, [stored[key] for key in missing[: w.fill_dense]])
        # Damp lexical scores when even the best match is weak (a single common word matching).
        lex_scale = max(max(sig.bm25.values(), default=0.0), w.lexical_saturation)
        # A turn's lexical score adds a share of its neighbours': scaled by the best such sum, so that the turns
        # that match best stay apart instead of all reaching the cap.
        turn_lex = {key: _turn_bm25(sig, stored[key], w.turn_context) for key in keys if key in stored}
        # Bigram scores are relative to the best turn: damped as the word scores are, so a weak match stays weak.
        bigram = _bigram_scores(sig, stored, w) if w.turn_bigram > 0 and q.language != "en" else {}
        damp = max(sig.bm25.values(), default=0.0) / lex_scale
        lex_scale = max(lex_scale, max(turn_lex.values(), default=0.0))
        kinds = q.kinds & self.profile.answer_types
        about_meeting_date = q.about_meeting and "when" in kinds
        named = q.named_meetings
        speakers = set(q.speakers)
        # Questions the opening paragraph itself answers: who chaired, when, who attended, which meeting.
        opening_penalised = w.opening_penalty > 0 and not (q.kinds & OPENING_KINDS or q.which_meeting)
        meeting_cov: dict[str, float] = {}
        out: list[Candidate] = []
        for key in keys:
            if key not in stored:
                continue
            sp = stored[key]
            sims = sent_sims.get(key, {})
            p_sim = para_sims.get(key)
            s_best = max(sims.values(), default=None)
            if len(sp.paragraph.sentences) <= 1:
                s_best = p_sim if s_best is None else max(s_best, p_sim or 0.0)
            dense_raw = _blend(p_sim, s_best, w.sentence_share)
            dense = sig.calibration.scale(dense_raw)
            lexical = min(1.0, turn_lex[key] / lex_scale)
            matched = lexical
            if bigram and sp.paragraph.speaker and not TextView(sp.folded, set()).is_english:
                # A Chinese transcript turn's lexical evidence: its words' BM25 and, a share of it, its bigrams'
                # (the candidate keeps the words' alone as its `lexical`). English turns keep their words'
                # BM25 (lemmas, stop words dropped): character bigrams are for text without spaces.
                matched = (1 - w.turn_bigram) * lexical + w.turn_bigram * damp * bigram.get(key, 0.0)
            score = w.lexical * matched + w.dense * dense
            if kinds and any(self.profile.answers_kind(kind, sp.folded) for kind in kinds):
                score += w.answer_type
            if about_meeting_date and states_date(sp.folded, sp.date):
                # "When was the meeting held?" is answered where a record states its own meeting's date.
                score += w.own_date
            if q.about_meeting and (sp.date or _is_meeting(sig.catalog, sp.meeting_id)):
                # "The meeting" is a meeting record (dated or not), not a reference text about meetings.
                score += w.meeting_record
            mid = sp.meeting_id
            if opening_penalised and sp.paragraph.number == 1 and _opens_record(sig.catalog, mid):
                score -= w.opening_penalty
            score += w.named_meeting * named.get(mid, 0.0)
            if sp.paragraph.speaker and (mid, sp.paragraph.speaker) in speakers:
                score += w.named_speaker
            if mid not in meeting_cov:
                # A question about a meeting is about a record that covers all of it, not a stray paragraph.
                meeting_cov[mid] = coverage(q.concepts, meeting_view(sig.index, mid))
            score += w.meeting_coverage * meeting_cov[mid]
            out.append(Candidate(sp, lexical, dense, dense_raw, score, dict(sims)))
        out.sort(key=lambda c: (-c.score, c.key))
        if self.reranker is not None and out:
            out = self._rerank(q.text, out[: max(k * 3, 10)])
        return out[:k]

    def _fill_dense(
        self, sig: Signals, missing: list[StoredParagraph]
    ) -> tuple[dict[Key, float], dict[Key, dict[int, float]]]:
        """Similarities for lexical candidates that the dense top-k missed, read from stored vectors (an
        absent similarity is not a zero one). Returns new maps; the signals stay as measured."""
        para = dict(sig.paragraph_sims)
        sents = {key: dict(v) for key, v in sig.sentence_sims.items()}
        vectors = self.store.vectors(_record_ids(missing))
        for sp in missing:
            key = (sp.meeting_id, sp.paragraph.number)
            vec = vectors.get(paragraph_id(*key))
            if vec is not None:
                para[key] = float(np.dot(sig.vector, vec))
            sims = sents.setdefault(key, {})
            for n, sent in enumerate(sp.paragraph.sentences, 1):
                svec = vectors.get(sentence_id(*key, n))
                if svec is not None:
                    sims[sent.start] = float(np.dot(sig.vector, svec))
        return para, sents

    def candidates(
        self, question: str, *, k: int = 5, filters: Filters | None = None, generation: str | None = None
    ) -> list[Candidate]:
        """The top `k` paragraphs for a question, best first, with their evidence signals."""
        return self.fuse(self.signals(question, filters=filters, generation=generation), k=k)

    def _rerank(self, question: str, cands: list[Candidate]) -> list[Candidate]:
        scores = self.reranker.predict([(question, c.stored.paragraph.text) for c in cands])  # type: ignore[union-attr]
        ranked = np.asarray(scores, dtype=np.float64)
        # The cross-encoder only reorders; the fused score stays for abstention and display.
        order = sorted(range(len(cands)), key=lambda i: (-ranked[i], -cands[i].score))
        return [cands[i] for i in order]
