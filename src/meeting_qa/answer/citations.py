"""Citation parsing and verification for model-written answers.

Sources are numbered from 1 in the prompt. The model's `[n]` markers (also `[1,2]`, `[1][2]`, `【1】`,
`[1-3]`) are bounds-checked against the sources actually shown; each cited claim is then matched to the
sentence(s) of the cited paragraph that support it, by lexical overlap after folding. Claims that no
cited source supports are dropped, and the survivors' markers are renumbered so that `[n]` in the final
text refers to `citations[n-1]`.

Support is deliberately strict (a weak model's invented sentences must not reach the user as cited
claims). A claim is supported by a span of the cited paragraph when
- it has at least `min_units` distinct units (a lone copied word is not a claim),
- at least `min_coverage` of the claim's units (Han character bigrams, single Han characters, English
  word stems, numbers) occur in the span,
- every number in the claim occurs in the span (dates and counts are where small models invent), and so
  does every English word of a mostly-Chinese claim (an injected "HACKED" cannot ride on a copied quote),
- the claim has no long stretch of Han text absent from the span (an invented name or phrase), at most
  `max_novel_run` consecutive unmatched bigrams.
Lexical overlap cannot check meaning (a negated quote passes) or cross-language claims (an English
sentence about Chinese sources fails and the answer falls back to the extractive one).

Ranges: `[a-b]` expands to every source from a to b when both ends are valid sources and a <= b (at
most `LLMTuning.max_sources` sources are shown, so a range stays short); any other range is invalid as a
whole.
Expansion is safe because every expanded source must still support the claim on its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from meeting_qa.retrieval import Candidate
from meeting_qa.text.fold import fold
from meeting_qa.text.rules import (
    CHINESE_FUNCTION_CHARS,
    CLOSERS,
    ENGLISH_STOP_WORDS,
    HAN_RUN,
    RECORD_WORDS,
    SENTENCE_ENDS,
    stem,
)
from meeting_qa.text.segment import split_clauses, split_sentences
from meeting_qa.types import Citation, Sentence

_DIGIT = r"[0-9０-９]"
_SEP = r"[,，、;；]"
_DASH = r"[-‐‑–—~～]"
_ITEM = rf"{_DIGIT}+(?:\s*{_DASH}\s*{_DIGIT}+)?"
# `[1]`, `[1, 2]`, `[1-3]`, `【1】`, `［1］`, and the `[Source 1]` weak models like to write.
MARKER = re.compile(
    rf"[ \t]*[\[【［〔]\s*(?:(?:sources?|src|s|来源|來源)\s*)?({_ITEM}(?:\s*{_SEP}\s*{_ITEM})*)\s*[\]】］〕]",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z]+")
_NUMBER = re.compile(r"\d+")
# Function characters split Han runs so that "会议的主持人" and "会议主持人" share their content bigrams.
_HAN_SPLIT = re.compile("[" + "".join(sorted(CHINESE_FUNCTION_CHARS)) + "]")
_EN_STOP = ENGLISH_STOP_WORDS | RECORD_WORDS


# Attribution that opens a claim ("会议强调，…", "According to the records, …") is not part of what it
# asserts; left in, it would pull every quote toward the paragraph's opening "会议指出".
_FRAMING = re.compile(
    r"^\s*(?:(?:根据|据)(?:会议)?记录[,:：\s]*)?(?:本次|这次|该次)?会议(?:上)?(?:还|也|同时|再次|进一步)?"
    r"(?:强调|指出|要求|认为|提出|表示|提到|明确)?了?[,:：\s]*"
    r"|^\s*(?:according to (?:the )?(?:meeting )?records?,?\s*)?(?:the )?meeting (?:also )?"
    r"(?:stressed|emphasi[sz]ed|noted|pointed out|said|stated|required|called for)(?: that)?\s*"
)


@dataclass(frozen=True)
class SupportTuning:
    """Thresholds for support.

    Calibrated on 196 synthetic claims built from CMRC 2018 dev questions (../shared/data/cmrc2018): the
    question rewritten as a statement with the right answer (should pass) or another question's answer
    (should fail), checked against the gold paragraph. At these values 67% of the right-answer claims and
    4.1% of the wrong-answer ones pass (coverage 0.6 / run 3 passes 84% but 10.7%). The wrong ones that
    pass swap one short name inside an otherwise copied sentence; the model is told to copy the source's
    words, so right answers sit closer to their source than these question echoes.
    """

    min_coverage: float = 0.7
    # A claim must say something: a lone word ("HACKED", copied from an injected paragraph) is not a claim.
    min_units: int = 3
    max_novel_run: int = 2  # consecutive Han bigrams absent from the quote; 3 means an invented 4-character phrase
    long_sentence: int = 120  # longer sentences are narrowed to the clauses that support the claim
    max_sentences: int = 2  # a quote spans at most this many consecutive sentences
    length_cost: float = 0.003  # support a quote may give up per character it is shorter


@dataclass(frozen=True)
class Marker:
    """A group of markers at one place of the answer (`[1][2]` and `[1,2]` are one group)."""

    pos: int  # offset in the marker-free text
    numbers: tuple[int, ...]  # as written, ranges expanded; may be out of range
    valid: tuple[int, ...]  # 0-based indices of sources that exist


@dataclass(frozen=True)
class Verified:
    """The verified answer: `text` with markers renumbered to `citations`, and what was removed."""

    text: str
    citations: tuple[Citation, ...]
    claims: int  # claims (answer sentences or marker-delimited parts) that carried content
    dropped: int  # of those, how many were removed as unsupported or uncited
    invalid_markers: int  # marker numbers that named no source ([0], [99], bad ranges)


# -- parsing -----------------------------------------------------------------------------------------


def parse_numbers(inner: str, n_sources: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(numbers as written with ranges expanded, 0-based valid indices) of one marker's inside."""
    written: list[int] = []
    valid: list[int] = []
    for item in re.split(_SEP, inner):
        ends = [int(x) for x in re.split(_DASH, item.strip()) if x.strip()]
        if len(ends) == 2:
            lo, hi = ends
            if 1 <= lo <= hi <= n_sources:
                written.extend(range(lo, hi + 1))
                valid.extend(i - 1 for i in range(lo, hi + 1))
            else:
                written.extend(ends)  # a reversed or out-of-range range is invalid as a whole
        elif len(ends) == 1:
            written.append(ends[0])
            if 1 <= ends[0] <= n_sources:  # [0] is invalid: it must never wrap to the last source
                valid.append(ends[0] - 1)
    return tuple(written), tuple(dict.fromkeys(valid))


def strip_markers(text: str, n_sources: int) -> tuple[str, list[Marker]]:
    """The text without markers, and the marker groups with their positions in it."""
    plain: list[str] = []
    markers: list[Marker] = []
    pos = 0
    length = 0
    for m in MARKER.finditer(text):
        piece = text[pos : m.start()]
        plain.append(piece)
        length += len(piece)
        written, valid = parse_numbers(m.group(1), n_sources)
        if markers and markers[-1].pos == length:  # `[1][2]`: one group
            prev = markers[-1]
            markers[-1] = Marker(length, prev.numbers + written, tuple(dict.fromkeys(prev.valid + valid)))
        else:
            markers.append(Marker(length, written, valid))
        pos = m.end()
    plain.append(text[pos:])
    return "".join(plain), markers


# -- support -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimUnits:
    """What a claim asserts, as comparable units."""

    han: tuple[tuple[str, ...], ...]  # per Han run (split at function characters): bigrams, or the lone character
    words: tuple[str, ...]
    numbers: tuple[str, ...]

    @property
    def total(self) -> int:
        return sum(len(r) for r in self.han) + len(self.words) + len(self.numbers)

    @property
    def distinct(self) -> frozenset[str]:
        return frozenset(u for r in self.han for u in r) | frozenset(self.words) | frozenset(self.numbers)


def claim_units(text: str) -> ClaimUnits:
    folded = _FRAMING.sub("", fold(text), count=1)
    runs: list[tuple[str, ...]] = []
    for m in HAN_RUN.finditer(folded):
        for piece in _HAN_SPLIT.split(m.group(0)):
            if len(piece) >= 2:
                runs.append(tuple(piece[i : i + 2] for i in range(len(piece) - 1)))
            elif piece:
                runs.append((piece,))
    words = tuple(stem(w) for w in _WORD.findall(folded) if w not in _EN_STOP)
    return ClaimUnits(tuple(runs), words, tuple(_NUMBER.findall(folded)))


def span_units(text: str) -> frozenset[str]:
    folded = fold(text)
    units: set[str] = set()
    for m in HAN_RUN.finditer(folded):
        run = m.group(0)
        units.update(run)
        units.update(run[i : i + 2] for i in range(len(run) - 1))
    units.update(stem(w) for w in _WORD.findall(folded))
    units.update(_NUMBER.findall(folded))
    return frozenset(units)


def support(claim: ClaimUnits, span: frozenset[str], tuning: SupportTuning) -> float:
    """Share of the claim's units found in the span; 0 when a hard rule (numbers, novel run) fails."""
    if len(claim.distinct) < tuning.min_units:
        return 0.0
    if any(n not in span for n in claim.numbers):
        return 0.0
    han = sum(len(r) for r in claim.han)
    if han >= len(claim.words) and any(w not in span for w in claim.words):
        return 0.0  # a Latin word in a Chinese claim that its quote lacks is invented (or injected)
    found = 0
    for run in claim.han:
        novel = 0
        for unit in run:
            if unit in span:
                found += 1
                novel = 0
            else:
                novel += 1
                if novel > tuning.max_novel_run:
                    return 0.0
    found += sum(1 for w in claim.words if w in span) + len(claim.numbers)
    return found / claim.total


def _spans(text: str, sentences: Sequence[Sentence], tuning: SupportTuning) -> list[Sentence]:
    """Candidate quotes: each sentence, runs of consecutive sentences, clause windows of long ones."""
    sents = list(sentences) or [Sentence(0, len(text))]
    out: list[Sentence] = []
    for i, s in enumerate(sents):
        for j in range(i, min(i + tuning.max_sentences, len(sents))):
            out.append(Sentence(s.start, sents[j].end))
        if s.end - s.start > tuning.long_sentence:
            clauses = split_clauses(text, s)
            for a in range(len(clauses)):
                for b in range(a, len(clauses)):
                    end = clauses[b].end
                    while end > clauses[a].start and text[end - 1] in ",，、：:；;":
                        end -= 1
                    out.append(Sentence(clauses[a].start, end))
    return out


def best_quote(claim: ClaimUnits, cand: Candidate, tuning: SupportTuning) -> tuple[Sentence, float] | None:
    """The span of the paragraph that best supports the claim, and its support (None when none does)."""
    p = cand.stored.paragraph
    scored = [
        (span, support(claim, span_units(p.text[span.start : span.end]), tuning))
        for span in _spans(p.text, p.sentences, tuning)
    ]
    best = max((s for _, s in scored), default=0.0)
    if best < tuning.min_coverage:
        return None
    # Among supporting spans, trade support against length: a claim's framing words ("会议强调") occur
    # somewhere in most paragraphs, and a whole paragraph quoted for them would point at nothing.
    return max(
        ((sp, sc) for sp, sc in scored if sc >= tuning.min_coverage),
        key=lambda x: (x[1] - tuning.length_cost * (x[0].end - x[0].start), -x[0].start),
    )


# -- verification ------------------------------------------------------------------------------------


@dataclass
class _Claim:
    start: int
    end: int
    markers: list[Marker]


def _claims(plain: str, markers: list[Marker]) -> list[list[_Claim]]:
    """Claims grouped by answer sentence; a sentence with markers at several places splits at them."""
    sentences = list(split_sentences(plain))
    if not sentences:
        return []
    owned: list[list[Marker]] = [[] for _ in sentences]
    for m in markers:
        i = max((k for k, s in enumerate(sentences) if s.start <= m.pos), default=0)
        # "…主持。[1]" — a marker opening a sentence belongs to the previous, uncited sentence.
        if i > 0 and m.pos <= sentences[i].start and not owned[i - 1]:
            i -= 1
        owned[i].append(m)
    out: list[list[_Claim]] = []
    for s, ms in zip(sentences, owned, strict=True):
        places = sorted({min(max(m.pos, s.start), s.end) for m in ms})
        if len(places) <= 1:
            out.append([_Claim(s.start, s.end, ms)])
            continue
        parts: list[_Claim] = []
        start = s.start
        for k, place in enumerate(places):
            end = s.end if k == len(places) - 1 else place
            parts.append(_Claim(start, end, [m for m in ms if min(max(m.pos, s.start), s.end) == place]))
            start = end
        out.append(parts)
    return out


def _render(plain: str, claim: _Claim, numbers: list[int]) -> str:
    text = plain[claim.start : claim.end]
    body = len(text.rstrip())
    place = min(max(claim.markers[0].pos - claim.start, 0), body)
    if place >= body:
        # Put the marker before closing punctuation: "…主持[1]。" rather than "…主持。[1]".
        while place > 0 and text[place - 1] in SENTENCE_ENDS + "." + CLOSERS:
            place -= 1
        if place == 0 or text[:place].isspace():
            place = body
    return text[:place] + "".join(f"[{n}]" for n in numbers) + text[place:]


def verify_answer(answer: str, sources: Sequence[Candidate], *, tuning: SupportTuning | None = None) -> Verified:
    """Keep only claims that a cited source supports; renumber markers to the returned citations."""
    tuning = tuning or SupportTuning()
    plain, markers = strip_markers(answer, len(sources))
    invalid = sum(len(m.numbers) for m in markers) - sum(len(m.valid) for m in markers)
    citations: list[Citation] = []
    index: dict[tuple[str, int, int, int], int] = {}
    rendered: list[str] = []
    claims = dropped = 0
    for sentence in _claims(plain, markers):
        pieces: list[str] = []
        for claim in sentence:
            units = claim_units(plain[claim.start : claim.end])
            if len(units.distinct) < tuning.min_units:
                continue  # a list number, a bare marker, a lone word: nothing to verify, nothing to show
            claims += 1
            numbers: list[int] = []
            cited = dict.fromkeys(i for m in claim.markers for i in m.valid)
            for i in cited:
                found = best_quote(units, sources[i], tuning)
                if found is None:
                    continue
                span, _ = found
                cand = sources[i]
                p = cand.stored.paragraph
                key = (cand.stored.meeting_id, p.number, span.start, span.end)
                if key not in index:
                    citations.append(
                        Citation(
                            meeting_id=cand.stored.meeting_id,
                            paragraph=p.number,
                            quote=p.text[span.start : span.end],
                            start=span.start,
                            end=span.end,
                            score=round(cand.score, 4),
                            speaker=p.speaker,
                            timestamp=p.timestamp,
                        )
                    )
                    index[key] = len(citations)
                if index[key] not in numbers:
                    numbers.append(index[key])
            if not numbers:
                dropped += 1
                continue
            pieces.append(_render(plain, claim, numbers))
        if pieces:
            rendered.append("".join(pieces).strip())
    return Verified(_join(rendered), tuple(citations), claims, dropped, invalid)


def _join(sentences: list[str]) -> str:
    out = ""
    for s in sentences:
        if out and out[-1].isascii():  # "。" needs no space after it; "." and "]" do
            out += " "
        out += s
    return out
