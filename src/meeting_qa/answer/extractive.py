"""The default answerer: composes a short answer from the source sentences that best answer the question.

No LLM: every word of the answer body is a quote (folded to the question's script), each followed by its
`[n]` marker. It abstains when the evidence is too weak — a decision calibrated on the dev set, not
"nothing was retrieved".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from meeting_qa.answer import messages
from meeting_qa.retrieval import Candidate, Signals, TextView, coverage, meeting_view
from meeting_qa.store import paragraph_id, sentence_id
from meeting_qa.text.fold import fold, to_script
from meeting_qa.text.kinds import ANSWER_TYPES, KIND_PATTERNS, LIST_KINDS, question_kinds
from meeting_qa.text.segment import split_clauses
from meeting_qa.types import Answer, Citation, Sentence


@dataclass(frozen=True)
class AnswerTuning:
    """Calibrated on ../shared/eval/seed_dev.jsonl (see BENCHMARKS.md)."""

    # Midway between the unanswerable max (0.28, d24 "How many new COVID cases…") and the answerable min
    # (0.35, d07) of seed_dev + benchmarks/holdout.jsonl (benchmarks/tune_answers.py prints them).
    abstain_below: float = 0.31
    coverage_share: float = 0.8  # strength = share * concept coverage + (1 - share) * calibrated dense
    absent_topic_factor: float = 0.5
    max_sentences: int = 3
    keep_ratio: float = 0.82  # other sentences kept when they score this close to the best
    long_sentence: int = 110  # sentences longer than this are trimmed to their best clauses
    clause_window: int = 90
    dense_floor: float = 0.75
    dense_span: float = 0.15


@dataclass
class Scored:
    cand: Candidate
    span: Sentence
    score: float
    coverage: float
    dense: float


class ExtractiveAnswerer:
    """Chooses and trims evidence sentences; the searcher supplies candidates and signals."""

    def __init__(
        self,
        vectors: Callable[[Sequence[str]], dict[str, np.ndarray]],
        tuning: AnswerTuning | None = None,
    ) -> None:
        self.vectors = vectors
        self.tuning = tuning or AnswerTuning()

    # -- evidence ---------------------------------------------------------------------------------

    def _dense(self, sim: float) -> float:
        return float(np.clip((sim - self.tuning.dense_floor) / self.tuning.dense_span, 0.0, 1.0))

    def score_sentences(self, sig: Signals, cands: Sequence[Candidate]) -> list[Scored]:
        """Every sentence of the candidate paragraphs, scored by concept coverage, similarity and question kind."""
        kinds = question_kinds(sig.folded)
        # Similarities the retriever already has are reused; only the other sentences' vectors are read.
        wanted: list[str] = []
        for cand in cands:
            mid, n = cand.key
            sentences = cand.stored.paragraph.sentences
            for k, s in enumerate(sentences, 1):
                if s.start not in cand.sentence_sims:
                    wanted.append(sentence_id(mid, n, k) if len(sentences) > 1 else paragraph_id(mid, n))
        vectors = self.vectors(wanted)
        top_score = max((c.score for c in cands), default=0.0) or 1.0
        share = self.tuning.coverage_share
        scored: list[Scored] = []
        for cand in cands:
            p = cand.stored.paragraph
            prior = cand.score / top_score
            mid, n = cand.key
            for k, s in enumerate(p.sentences, 1):
                text = fold(p.text[s.start : s.end])
                cov = coverage(sig.concepts, TextView(text))
                sim = cand.sentence_sims.get(s.start)
                if sim is None:
                    vec = vectors.get(sentence_id(mid, n, k) if len(p.sentences) > 1 else paragraph_id(mid, n))
                    sim = float(np.dot(sig.vector, vec)) if vec is not None else cand.dense_raw
                dense = self._dense(sim)
                bonus = sum(0.25 for kind in kinds if KIND_PATTERNS[kind][1].search(text))
                score = (share * cov + (1 - share) * dense + bonus) * (0.5 + 0.5 * prior)
                scored.append(Scored(cand, s, score, cov, dense))
        scored.sort(key=lambda x: -x.score)
        return scored

    def strength(self, sig: Signals, cands: Sequence[Candidate]) -> float:
        """How well the best paragraph addresses the question (0..1): concept coverage and similarity."""
        if not cands:
            return 0.0
        share = self.tuning.coverage_share
        # Questions that expect a type of answer (a person, a date, a number, a source): evidence without
        # anything of that type does not answer them, evidence with it half does.
        kinds = question_kinds(sig.folded) & ANSWER_TYPES

        def paragraph_strength(c: Candidate) -> float:
            cov = coverage(sig.concepts, TextView(c.stored.folded))
            if kinds:
                typed = any(KIND_PATTERNS[k][1].search(c.stored.folded) for k in kinds)
                cov = 0.5 + 0.5 * cov if typed else 0.5 * cov
            return share * cov + (1 - share) * self._dense(c.dense_raw)

        strength = max(paragraph_strength(c) for c in cands[:3])
        # A topic word that the meeting the answer would come from never mentions (房地产, 人事任免) means its
        # record does not cover the question — judged per meeting, since another record in the store (a
        # different meeting, a reference text) mentioning the word does not make this one answer it.
        meeting = meeting_view(sig.index, cands[0].stored.meeting_id, fallback=cands[0].stored.folded)
        if any(c.core and (c.absent or not c.covered_by(meeting)) for c in sig.concepts):
            strength *= self.tuning.absent_topic_factor
        return strength

    # -- composition ------------------------------------------------------------------------------

    def answer(self, sig: Signals, cands: Sequence[Candidate]) -> Answer:
        t = self.tuning
        language = sig.language
        strength = self.strength(sig, cands)
        if not cands or strength < t.abstain_below:
            related = [c.passage() for c in cands[:3]]
            return Answer(messages.not_found(language, related), True, (), tuple(related))
        # One answer speaks for one meeting: the best-ranked paragraph's. Other meetings' matches would mix
        # records (a Wikipedia summit "held in 1999" into "when was the meeting held?").
        top_meeting = cands[0].stored.meeting_id
        scored = self.score_sentences(sig, [c for c in cands[:3] if c.stored.meeting_id == top_meeting])
        best = scored[0].score
        chosen = [scored[0]]
        # "What is required / how" questions are answered by lists of requirements: keep more of them.
        wants_list = bool(question_kinds(sig.folded) & LIST_KINDS)
        limit = t.max_sentences + (1 if wants_list else 0)
        keep = t.keep_ratio - (0.1 if wants_list else 0.0)
        requirement_cue = KIND_PATTERNS["requirement"][1]
        for s in scored[1:]:
            if len(chosen) >= limit:
                break
            same_paragraph = s.cand.key == chosen[0].cand.key
            text = s.cand.stored.paragraph.text[s.span.start : s.span.end]
            # A list question takes the other requirements of the best paragraph ("要…" sentences).
            listed = wants_list and same_paragraph and bool(requirement_cue.search(fold(text)))
            # Evidence from a second paragraph only when it is about as strong as the best sentence.
            # (A sentence that covers the whole question is an answer in its own right: a little more slack.)
            near = s.score >= 0.97 * best or (s.coverage >= 0.999 and s.score >= 0.93 * best)
            close = near and s.cand.score >= 0.9 * chosen[0].cand.score
            if listed or (same_paragraph and s.score >= keep * best) or close:
                chosen.append(s)
        spans = self._merge([(c.cand, self._trim(sig, c)) for c in chosen])
        citations: list[Citation] = []
        parts: list[str] = []
        for cand, span, score in spans:
            p = cand.stored.paragraph
            quote = p.text[span.start : span.end]
            citations.append(
                Citation(
                    meeting_id=cand.stored.meeting_id,
                    paragraph=p.number,
                    quote=quote,
                    start=span.start,
                    end=span.end,
                    score=round(score, 4),
                    speaker=p.speaker,
                    timestamp=p.timestamp,
                )
            )
            shown = to_script(quote, language)
            if p.speaker:
                shown = f"{p.speaker}：{shown}" if language != "en" else f"{p.speaker}: {shown}"
            parts.append(f"{shown}[{len(citations)}]")
        body = ("「" + "」 「".join(parts) + "」") if language == "en" else "".join(parts)
        return Answer(messages.lead(language) + body, False, tuple(citations))

    def _trim(self, sig: Signals, s: Scored) -> Sentence:
        """Long sentences are cut to the clause window that best matches the question."""
        p = s.cand.stored.paragraph
        if s.span.end - s.span.start <= self.tuning.long_sentence:
            return s.span
        clauses = split_clauses(p.text, s.span)
        if len(clauses) <= 1:
            return s.span

        def clause_score(c: Sentence) -> float:
            view = TextView(fold(p.text[c.start : c.end]))
            return sum(k.weight for k in sig.concepts if k.covered_by(view))

        scores = [clause_score(c) for c in clauses]
        best_i = int(np.argmax(scores)) if max(scores) > 0 else 0
        lo = hi = best_i
        # Grow around the best clause while the window stays short, preferring the better neighbour.
        while True:
            options = []
            if lo > 0:
                options.append((scores[lo - 1], lo - 1, hi))
            if hi < len(clauses) - 1:
                options.append((scores[hi + 1] + 0.01, lo, hi + 1))
            options = [o for o in options if clauses[o[2]].end - clauses[o[1]].start <= self.tuning.clause_window]
            if not options:
                break
            _, lo, hi = max(options)
        start, end = clauses[lo].start, clauses[hi].end
        # Drop a trailing comma-like separator so the quote reads as a phrase.
        while end > start and p.text[end - 1] in ",，、：:；;":
            end -= 1
        return Sentence(start, end)

    @staticmethod
    def _merge(items: list[tuple[Candidate, Sentence]]) -> list[tuple[Candidate, Sentence, float]]:
        """Adjacent or overlapping spans of one paragraph become one citation, in reading order."""
        by_para: dict[tuple[str, int], list[tuple[Candidate, Sentence]]] = {}
        order: list[tuple[str, int]] = []
        for cand, span in items:
            if cand.key not in by_para:
                order.append(cand.key)
            by_para.setdefault(cand.key, []).append((cand, span))
        out: list[tuple[Candidate, Sentence, float]] = []
        for key in order:
            group = sorted(by_para[key], key=lambda x: x[1].start)
            cand = group[0][0]
            text = cand.stored.paragraph.text
            cur = group[0][1]
            for _, span in group[1:]:
                gap = text[cur.end : span.start]
                if span.start <= cur.end or not gap.strip():
                    cur = Sentence(cur.start, max(cur.end, span.end))
                else:
                    out.append((cand, cur, cand.score))
                    cur = span
            out.append((cand, cur, cand.score))
        return out
