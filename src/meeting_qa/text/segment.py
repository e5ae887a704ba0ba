"""Sentence and clause segmentation with character offsets into the original paragraph."""

from __future__ import annotations

import re

from meeting_qa.text.rules import CLOSERS, SENTENCE_ENDS
from meeting_qa.types import Sentence

# A sentence ends at a terminator, or an English period followed by space/end; closing quotes and
# brackets that follow belong to the sentence. Clauses also end at commas, enumeration commas and colons.
_SENTENCE_END = re.compile(rf"(?:[{SENTENCE_ENDS}]+|(?<=[A-Za-z0-9\)])\.(?=\s|$))[{CLOSERS}]*")
_CLAUSE_END = re.compile(rf"[{SENTENCE_ENDS}，,、：:]+[{CLOSERS}]*")
_BREAK = re.compile(r"[，,、：:]|\s")
# A quote is a sentence or a clause of one; a record without sentence ends (a 2 MB line) must not become a
# 2 MB quote, nor one embedding that the model truncates anyway. Real sentences are far shorter than this.
MAX_SENTENCE_CHARS = 600


def _spans(text: str, pattern: re.Pattern[str]) -> tuple[Sentence, ...]:
    spans: list[Sentence] = []
    start = 0
    for m in pattern.finditer(text):
        end = m.end()
        _append(text, start, end, spans)
        start = end
    _append(text, start, len(text), spans)
    return tuple(spans)


def _append(text: str, start: int, end: int, spans: list[Sentence]) -> None:
    # Trim surrounding whitespace so that quotes never start or end with a space.
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append(Sentence(start, end))


def split_sentences(text: str) -> tuple[Sentence, ...]:
    """Sentences of a paragraph (semicolons end sentences too: meeting records chain requirements with them);
    a run longer than `MAX_SENTENCE_CHARS` is cut at its last comma or space within the limit."""
    spans = _spans(text, _SENTENCE_END)
    if all(s.end - s.start <= MAX_SENTENCE_CHARS for s in spans):
        return spans
    out: list[Sentence] = []
    for s in spans:
        start = s.start
        while s.end - start > MAX_SENTENCE_CHARS:
            window = text[start : start + MAX_SENTENCE_CHARS]
            cut = max((m.end() for m in _BREAK.finditer(window, MAX_SENTENCE_CHARS // 2)), default=len(window))
            _append(text, start, start + cut, out)
            start += cut
        _append(text, start, s.end, out)
    return tuple(out)


def split_clauses(text: str, sentence: Sentence) -> tuple[Sentence, ...]:
    """Clauses of one sentence (split at commas, enumeration commas and colons), offsets into `text`."""
    inner = text[sentence.start : sentence.end]
    return tuple(Sentence(sentence.start + s.start, sentence.start + s.end) for s in _spans(inner, _CLAUSE_END))


_PAIRS = (("《", "》"), ("〈", "〉"), ("“", "”"), ("（", "）"), ("(", ")"))
_FINAL = re.compile(rf"[{SENTENCE_ENDS}.][{CLOSERS}]*\s*$")  # an English full stop ends a sentence too


def balanced(text: str, span: Sentence) -> Sentence:
    """`span` grown to close a title mark or bracket it opened ("…审议通过《A", cut by a clause window) when
    the paragraph closes it, so no quote ends inside 《…."""
    end = span.end
    for left, right in _PAIRS:
        quoted = text[span.start : end]
        if quoted.count(left) > quoted.count(right):
            close = text.find(right, end)
            if close >= 0:
                end = close + 1
    return Sentence(span.start, end) if end != span.end else span


def cut_off(text: str, span: Sentence) -> bool:
    """Whether a quote runs to the end of a paragraph that stops mid-sentence (a page cut at "…的《中國共產黨重大
    事項請示", or an unclosed 《): the answer then says so with "…"."""
    if text[span.end :].strip():
        return False
    quoted = text[span.start : span.end]
    unclosed = any(quoted.count(left) > quoted.count(right) for left, right in _PAIRS)
    return unclosed or not _FINAL.search(quoted)
