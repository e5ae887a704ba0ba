"""The default answerer: composes a short answer from the source sentences that best answer the question.

No LLM: every word of the answer body is a quote (folded to the question's script), each followed by its
`[n]` marker. It abstains when the evidence is too weak — a decision calibrated on the dev set, not
"nothing was retrieved".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from meeting_qa.answer import messages
from meeting_qa.retrieval import Candidate
from meeting_qa.text.fold import Language, fold, to_script
from meeting_qa.text.segment import split_clauses
from meeting_qa.text.tokenize import tokenize
from meeting_qa.types import Answer, Citation, Sentence

# Question kinds and the cues that make a sentence a likely answer to them (folded, simplified).
_KIND_PATTERNS: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "who": (
        re.compile(r"谁|哪位|何人|主持人|\bwho\b|\bwhom\b|chair|host|preside"),
        re.compile(r"主持|书记|主任|市长|部长|主席|出席|发言|讲话"),
    ),
    "when": (
        re.compile(r"什么时候|何时|哪天|哪一天|日期|时间|几月|几号|\bwhen\b|\bdate\b|what day"),
        re.compile(r"\d{1,2}月\d{1,2}日|\d{4}年|\d{4}-\d{2}-\d{2}|上午|下午|今年|明年"),
    ),
    "decision": (
        re.compile(r"通过|决定|批准|审议|方案|决议|decid|approv|adopt|pass"),
        re.compile(r"通过|决定|批准|审议|决议|同意"),
    ),
    "source": (
        re.compile(r"媒体|来源|报道|发布|source|report|publish"),
        re.compile(r"来源|报|集团|新闻"),
    ),
}


@dataclass(frozen=True)
class AnswerTuning:
    """Calibrated on ../shared/eval/seed_dev.jsonl (see BENCHMARKS.md)."""

    abstain_below: float = 0.30  # evidence strength under which we abstain
    max_sentences: int = 3
    keep_ratio: float = 0.82  # other sentences kept when they score this close to the best
    long_sentence: int = 110  # sentences longer than this are trimmed to their best clauses
    clause_window: int = 90


@dataclass
class _Scored:
    cand: Candidate
    span: Sentence
    score: float
    lexical: float
    dense: float


def question_kinds(folded_question: str) -> set[str]:
    return {kind for kind, (q, _) in _KIND_PATTERNS.items() if q.search(folded_question)}


class ExtractiveAnswerer:
    """Chooses and trims evidence sentences; the searcher supplies candidates and signals."""

    def __init__(
        self,
        idf: Callable[[str], float],
        sentence_vectors: Callable[[Sequence[tuple[str, int]]], dict[tuple[str, int, int], list[float]]],
        tuning: AnswerTuning | None = None,
    ) -> None:
        self.idf = idf
        self.sentence_vectors = sentence_vectors
        self.tuning = tuning or AnswerTuning()

    # -- evidence ---------------------------------------------------------------------------------

    def score_sentences(self, question: str, query_vector: np.ndarray, cands: Sequence[Candidate]) -> list[_Scored]:
        folded_q = fold(question)
        q_tokens = set(tokenize(folded_q, folded=True))
        weights = {t: self.idf(t) for t in q_tokens}
        total = sum(weights.values()) or 1.0
        kinds = question_kinds(folded_q)
        vectors = self.sentence_vectors([c.key for c in cands])
        top_score = max((c.score for c in cands), default=0.0) or 1.0
        scored: list[_Scored] = []
        for cand in cands:
            p = cand.stored.paragraph
            prior = cand.score / top_score
            for s in p.sentences:
                text = fold(p.text[s.start : s.end])
                s_tokens = set(tokenize(text, folded=True))
                lexical = sum(w for t, w in weights.items() if t in s_tokens) / total
                vec = vectors.get((cand.stored.meeting_id, p.number, s.start))
                sim = float(np.dot(query_vector, np.asarray(vec))) if vec is not None else cand.dense_raw
                dense = float(np.clip((sim - 0.75) / 0.15, 0.0, 1.0))
                bonus = sum(0.25 for k in kinds if _KIND_PATTERNS[k][1].search(text))
                score = (0.45 * lexical + 0.35 * dense + bonus) * (0.5 + 0.5 * prior)
                scored.append(_Scored(cand, s, score, lexical, dense))
        scored.sort(key=lambda x: -x.score)
        return scored

    # -- composition ------------------------------------------------------------------------------

    def answer(self, question: str, language: Language, query_vector: np.ndarray, cands: Sequence[Candidate]) -> Answer:
        t = self.tuning
        top = cands[0] if cands else None
        scored = self.score_sentences(question, query_vector, cands[:3]) if cands else []
        strength = self.strength(top, scored[0] if scored else None)
        if top is None or not scored or strength < t.abstain_below:
            related = [c.passage() for c in cands[:3]]
            return Answer(messages.not_found(language, related), True, (), tuple(related))

        best = scored[0].score
        chosen = [scored[0]]
        for s in scored[1:]:
            if len(chosen) >= t.max_sentences:
                break
            if (s.score >= t.keep_ratio * best and s.cand.key == chosen[0].cand.key) or s.score >= 0.95 * best:
                chosen.append(s)
        spans = self._merge([(c.cand, self._trim(question, c)) for c in chosen])
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

    def strength(self, top: Candidate | None, best: _Scored | None) -> float:
        """How strongly the best evidence supports answering (0..1+)."""
        if top is None or best is None:
            return 0.0
        return 0.5 * top.score + 0.5 * (0.6 * best.lexical + 0.4 * best.dense)

    def _trim(self, question: str, s: _Scored) -> Sentence:
        """Long sentences are cut to the clause window that best matches the question."""
        p = s.cand.stored.paragraph
        if s.span.end - s.span.start <= self.tuning.long_sentence:
            return s.span
        clauses = split_clauses(p.text, s.span)
        if len(clauses) <= 1:
            return s.span
        q_tokens = set(tokenize(question))
        weights = {t: self.idf(t) for t in q_tokens}

        def clause_score(c: Sentence) -> float:
            toks = set(tokenize(p.text[c.start : c.end]))
            return sum(w for t, w in weights.items() if t in toks)

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
