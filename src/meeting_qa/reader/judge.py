"""The reader's judgement in the answer path: re-rank the top candidates and say whether they answer.

The reader sees a window of a paragraph at a time (its training windows were ~220 characters); a long
transcript turn is read as a few windows cut at sentence ends and scores as its best window. Its
probability is blended with the fused retrieval score (the reader alone knows nothing of which meeting a
question names); how much, and how abstention uses it, are `ReaderTuning` values chosen on the fitting
half of the real meetings (benchmarks/real.py) and carried in the reader's config.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from meeting_qa.reader.model import Reader
from meeting_qa.retrieval import Candidate, Signals
from meeting_qa.text.fold import Language, detect_language, fold, to_script

READ_CANDIDATES = 8  # the candidates read: the answer comes from the top few; each costs a forward pass
READ_FROM = 24  # the fused candidates the reader chooses them from (enough to hold 8 of the top meeting)
WINDOW_CHARS = 220
MAX_WINDOWS = 3  # per paragraph: a very long turn is read where it shares most with the question
ABSTAIN_MODES = ("rule", "reader", "any", "all")
SCOPES = ("top", "meeting")


@dataclass(frozen=True)
class ReaderTuning:
    blend: float = 0.5  # share of the reader's probability in a candidate's score
    abstain: str = "reader"  # rule: the answerer's strength only; reader: its probability; any / all: either / both
    abstain_below: float = 0.3
    # "top": the reader re-ranks the top candidates whatever their meeting; "meeting": retrieval has chosen the
    # meeting (its best candidate's) and the reader re-ranks that meeting's candidates only
    scope: str = "top"

    def __post_init__(self) -> None:
        if self.abstain not in ABSTAIN_MODES:
            raise ValueError(f"abstain mode {self.abstain!r} is not one of {ABSTAIN_MODES}")
        if self.scope not in SCOPES:
            raise ValueError(f"reader scope {self.scope!r} is not one of {SCOPES}")


@dataclass(frozen=True)
class Verdict:
    """What the reader concluded about the candidates it read."""

    probability: float  # that the best candidate answers the question
    mode: str
    threshold: float

    @property
    def unanswered(self) -> bool:
        return self.probability < self.threshold


def windows(text: str, sentence_ends: Sequence[int], *, chars: int = WINDOW_CHARS) -> list[str]:
    """`text` cut into windows of at most `chars` characters at sentence ends (a longer sentence is cut)."""
    if len(text) <= chars:
        return [text]
    out: list[str] = []
    start = 0
    ends = [e for e in sentence_ends if 0 < e <= len(text)] + [len(text)]
    while start < len(text):
        fitting = [e for e in ends if start < e <= start + chars]
        end = fitting[-1] if fitting else min(len(text), start + chars)
        out.append(text[start:end].strip())
        start = end
    return [w for w in out if w]


def _in_script(question: str, asked: Language, record: str) -> str:
    script = detect_language(record)
    return to_script(question, script) if script != "en" and script != asked else question


def _bigrams(text: str) -> set[str]:
    t = fold(text).replace(" ", "").lower()
    return {t[i : i + 2] for i in range(len(t) - 1)}


class Judge:
    """A `Reader` with the tuning that fits it into the answer path."""

    def __init__(self, reader: Reader, tuning: ReaderTuning | None = None) -> None:
        self.reader = reader
        self.tuning = tuning or ReaderTuning()
        self._cache: dict[tuple[str, str], float] = {}

    def _pieces(self, question: str, cand: Candidate) -> list[str]:
        p = cand.stored.paragraph
        parts = windows(p.text, [s.end for s in p.sentences])
        if len(parts) > MAX_WINDOWS:
            qb = _bigrams(question)
            order = sorted(range(len(parts)), key=lambda i: (-len(qb & _bigrams(parts[i])), i))[:MAX_WINDOWS]
            parts = [parts[i] for i in sorted(order)]
        prefix = f"{p.speaker}：" if p.speaker else ""
        return [prefix + w for w in parts]

    def logits(self, question: str, cands: Sequence[Candidate]) -> list[float]:
        """Each candidate's logit: its best window's. A Chinese question is read in the script of the record
        (a simplified question over a traditional transcript reads as the record's own words would)."""
        pieces = [self._pieces(question, c) for c in cands]
        asked = detect_language(question)
        shown = [_in_script(question, asked, c.stored.paragraph.text) if asked != "en" else question for c in cands]
        pairs = [(q, w) for q, ws in zip(shown, pieces, strict=True) for w in ws]
        todo = list(dict.fromkeys(pair for pair in pairs if pair not in self._cache))
        if todo:
            for pair, s in zip(todo, self.reader.scores(todo).tolist(), strict=True):
                self._cache[pair] = float(s)
        if len(self._cache) > 20000:
            self._cache.clear()  # a long-running server must not grow without bound
            return self.logits(question, cands)
        return [max(self._cache[(q, w)] for w in ws) for q, ws in zip(shown, pieces, strict=True)]

    def read(self, sig: Signals, cands: Sequence[Candidate]) -> tuple[list[Candidate], Verdict]:
        """The candidates re-ranked by the blend of fused score and reader probability, and the verdict."""
        t = self.tuning
        cands = list(cands)
        if t.scope == "meeting" and cands:
            top_meeting = cands[0].stored.meeting_id
            slots = [i for i, c in enumerate(cands) if c.stored.meeting_id == top_meeting][:READ_CANDIDATES]
        else:
            slots = list(range(min(READ_CANDIDATES, len(cands))))
        if not slots:
            return cands, Verdict(0.0, t.abstain, t.abstain_below)
        head = [cands[i] for i in slots]
        probs = [1 / (1 + math.exp(-x)) for x in self.logits(sig.question.text, head)]
        top = max(c.score for c in cands) or 1.0
        # Candidates the reader did not read keep their place; their score is put on the same scale with the
        # probability it gave the median candidate it read (so across-meeting comparisons stay fair).
        typical = sorted(probs)[len(probs) // 2]
        ranked = [replace(c, score=(1 - t.blend) * max(c.score, 0.0) / top + t.blend * typical) for c in cands]
        blended = [
            replace(c, score=(1 - t.blend) * max(c.score, 0.0) / top + t.blend * p)
            for c, p in zip(head, probs, strict=True)
        ]
        order = sorted(range(len(head)), key=lambda i: (-blended[i].score, i))
        # the candidates read fill the places they held, best first: the meeting order around them stays
        for slot, i in zip(slots, order, strict=True):
            ranked[slot] = blended[i]
        return ranked, Verdict(probs[order[0]], t.abstain, t.abstain_below)
