"""Cleaning of annotation artifacts found in received records.

Records copied from annotated web pages carry pinyin after every character (`會(huì)議`). We strip those
annotations from the display text (quotes are taken from it), keep real parentheses such as `(來源:…)` or
`(RCEP)`, and flag spans that look corrupted (`?shù)拳h`) without failing: the reader should know, and the
original file stays untouched on disk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from meeting_qa.text.rules import HAN

# Latin letters used in pinyin, with tone marks (ā á ǎ à …, ü and its tones), plus combining marks.
_PINYIN_LETTERS = r"a-zA-Z\u00e0-\u00fc\u0101-\u01dc\u0300-\u036f"
_TONE_MARKED = re.compile(r"[\u00e0-\u00fc\u0101-\u01dc\u0300-\u036f]")
_SYLLABLE = rf"[{_PINYIN_LETTERS}]{{1,7}}[1-5]?"
# A parenthesized syllable right after a Han character; half- or full-width parentheses.
_AFTER_HAN = re.compile(rf"(?<=[{HAN}])[(（]({_SYLLABLE})[)）]")
# A tone-marked syllable in parentheses anywhere (e.g. after a corrupted character): unmistakably pinyin.
_TONED_ANYWHERE = re.compile(rf"[(（]({_SYLLABLE})[)）]")
# Corruption signs: a character lost before its own pinyin annotation (`?shù)拳h`), replacement characters,
# a run of half-width question marks inside Chinese text (each one a character an encoding could not hold),
# or stray tone-marked letters outside any annotation. A full-width "？" followed by Chinese text is just a
# question ending a sentence (transcripts are full of them), so a question mark alone is never flagged.
_SUSPICIOUS = re.compile(
    rf"[?？\ufffd][{_PINYIN_LETTERS}]+[)）][{HAN}]?[a-zA-Z]*"
    rf"|[{HAN}]?\ufffd+[{HAN}]?"
    rf"|[{HAN}]\?{{2,}}[{HAN}]"
    rf"|[{_PINYIN_LETTERS}]*[\u00e0-\u00fc\u0101-\u01dc][{_PINYIN_LETTERS}]*[)）]"
)


@dataclass(frozen=True)
class CleanResult:
    text: str
    annotations_removed: int
    suspicious: tuple[str, ...]


def _is_pinyin(syllable: str) -> bool:
    # Pinyin annotations are lower-case; `(RCEP)` or `(A)` are real parentheses.
    return syllable == syllable.lower()


def clean_paragraph(raw: str) -> CleanResult:
    """Strip pinyin annotations and collect suspicious spans of one paragraph's text."""
    removed = 0

    def drop_after_han(m: re.Match[str]) -> str:
        nonlocal removed
        if _is_pinyin(m.group(1)):
            removed += 1
            return ""
        return m.group(0)

    text = _AFTER_HAN.sub(drop_after_han, raw)

    def drop_toned(m: re.Match[str]) -> str:
        nonlocal removed
        if _is_pinyin(m.group(1)) and _TONE_MARKED.search(m.group(1)):
            removed += 1
            return ""
        return m.group(0)

    text = _TONED_ANYWHERE.sub(drop_toned, text)
    suspicious = tuple(m.group(0) for m in _SUSPICIOUS.finditer(text) if len(m.group(0)) > 1)
    return CleanResult(text=text, annotations_removed=removed, suspicious=suspicious)


_WS = re.compile(r"[ \t\u3000\u00a0]+")


def normalize_whitespace(text: str) -> str:
    """Collapse runs of spaces (incl. ideographic) and trim; line breaks inside a paragraph become spaces."""
    return _WS.sub(" ", text.replace("\r", "").replace("\n", " ")).strip()
