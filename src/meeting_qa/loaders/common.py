"""What every format shares: ids, titles and dates from file names, paragraph building and speaker turns.

Every loader ends in `build_meeting`: paragraphs are cleaned, segmented into sentences and numbered from 1
in reading order, whatever the format.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from meeting_qa.errors import LoaderError
from meeting_qa.text.clean import clean_paragraph
from meeting_qa.text.rules import CJK_PUNCTUATION, HAN
from meeting_qa.text.segment import split_sentences
from meeting_qa.types import Meeting, Paragraph

RawParagraph = tuple[str, str | None, str | None]  # (text, speaker, timestamp)

_HAN_END = re.compile(f"[{HAN}{CJK_PUNCTUATION}]$")
_HAN_START = re.compile(f"^[{HAN}{CJK_PUNCTUATION}]")
TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
# A speaker label: up to six words (titles, honorifics, several names: "Dr. Ines Halvorsen", "Lynne Neagle
# AM") and an optional role in parentheses ("(Director of Transit Planning)", "（主持人）").
_NAME_WORD = r"[^\s:：\[\]()（）,，。]"
_SPEAKER = rf"{_NAME_WORD}{{1,24}}(?:\s{_NAME_WORD}{{1,16}}){{0,5}}(?:\s*[(（][^()（）:：]{{1,60}}[)）])?"
TURN = re.compile(rf"^\s*(?:[\[(（]?(?P<time>{TIME})[\])）]?\s*)?(?P<speaker>{_SPEAKER})\s*[:：]\s*(?P<text>\S.*)$")
# The longest paragraph a record may have. The genre's longest paragraphs (a chair's closing speech, a
# transcript's long turn) run to a few thousand characters; a line of millions is a file whose line breaks were
# lost (a 12 MB page saved as one line). Up to this limit such a line is ingested with its sentences capped
# (tests/reliability: a 2 MB line gives bounded quotes); past it, it would be embedded as tens of thousands of
# sentences of one paragraph that no answer could cite usefully, so it is refused at once, the limit named.
MAX_PARAGRAPH_CHARS = 3_000_000
_DATE_IN_NAME = re.compile(r"(\d{4})[-_.]?(\d{2})[-_.]?(\d{2})")
_ID_SEPARATORS = re.compile(r"-{2,}")


def safe_id(name: str) -> str:
    """`name` as an id: letters and digits of every script (kana, Hangul, Cyrillic … included) plus `_.-`;
    anything else becomes `-`. NFC first, so a name typed on one system and listed by another agree."""
    chars = [
        c if c.isalnum() or c in "_.-" or unicodedata.category(c).startswith("M") else "-"
        for c in unicodedata.normalize("NFC", name)
    ]
    return _ID_SEPARATORS.sub("-", "".join(chars)).strip("-.")


def meeting_id_for(path: Path) -> str:
    """A stable id from the file name (the same file re-ingested replaces its own entries)."""
    return safe_id(path.stem).lower() or "meeting"


def date_from_name(name: str) -> str | None:
    m = _DATE_IN_NAME.search(name)
    if not m:
        return None
    y, mo, d = (int(g) for g in m.groups())
    if 1900 <= y <= 2200 and 1 <= mo <= 12 and 1 <= d <= 31:
        return f"{y:04d}-{mo:02d}-{d:02d}"
    return None


def title_from_name(path: Path) -> str:
    title = _DATE_IN_NAME.sub("", path.stem).replace("_", " ").replace("-", " ").strip()
    title = re.sub(r"\s+", " ", title) or path.stem
    # "yancheng party committee" → "Yancheng Party Committee"; names with capitals or Han are kept as written.
    return title.title() if title.isascii() and title.islower() else title


def join_lines(lines: Iterable[str]) -> str:
    """Join wrapped lines of one paragraph: no space between Chinese characters, one between words."""
    out = ""
    for line in (ln.strip() for ln in lines):
        if not line:
            continue
        if out and not (_HAN_END.search(out) and _HAN_START.search(line)):
            out += " "
        out += line
    return out


def build_meeting(
    meeting_id: str,
    title: str,
    raw_paragraphs: Iterable[RawParagraph],
    *,
    source: str,
    date: str | None = None,
    encoding: str | None = None,
) -> Meeting:
    """Clean and segment raw `(text, speaker, timestamp)` paragraphs; number them from 1."""
    paragraphs: list[Paragraph] = []
    warnings: list[str] = []
    removed = 0
    for raw, speaker, timestamp in raw_paragraphs:
        if len(raw) > MAX_PARAGRAPH_CHARS:
            raise LoaderError(
                f"{source}: paragraph {len(paragraphs) + 1} is {len(raw):,} characters long, over the "
                f"{MAX_PARAGRAPH_CHARS:,}-character limit for one paragraph (a file whose line breaks were lost?); "
                "split the text into paragraphs and ingest it again",
                path=source,
                value=str(len(raw)),
            )
        result = clean_paragraph(raw.strip())
        text = result.text.strip()
        if not text:
            continue
        number = len(paragraphs) + 1
        removed += result.annotations_removed
        for span in result.suspicious:
            warnings.append(f"¶{number}: suspicious span {span!r} (possibly corrupted characters; kept as received)")
        paragraphs.append(Paragraph(number, text, split_sentences(text), speaker, timestamp))
    if not paragraphs:
        raise LoaderError(f"{source}: no text found", path=source)
    cleaned = (f"removed {removed} pinyin annotations such as 會(huì)→會",) if removed else ()
    digest = hashlib.sha256(
        json.dumps([title, date, [(p.text, p.speaker, p.timestamp) for p in paragraphs]], ensure_ascii=False).encode()
    ).hexdigest()
    return Meeting(
        meeting_id=meeting_id,
        title=title,
        paragraphs=tuple(paragraphs),
        source=source,
        date=date,
        content_hash=digest,
        warnings=tuple(warnings),
        cleaned=cleaned,
        encoding=encoding,
    )


def meeting_from_file(
    path: Path,
    paragraphs: list[str],
    *,
    title: str | None = None,
    date: str | None = None,
    encoding: str | None = None,
) -> Meeting:
    """A file's meeting: id from its name, date from its name (else `date`), title given or from its name;
    speaker turns when the paragraphs read as a transcript."""
    return build_meeting(
        meeting_id_for(path),
        title or title_from_name(path),
        prose_or_turns(paragraphs),
        source=str(path),
        date=date_from_name(path.name) or date,
        encoding=encoding,
    )


def paragraph_lines(text: str) -> list[str]:
    """A text's paragraphs: its lines, or its blank-line separated blocks (wrapped lines joined)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if any(not ln.strip() for ln in lines[1:-1]) and sum(1 for ln in lines if ln.strip()) > 1:
        # Blank-line separated blocks: a block's wrapped lines form one paragraph.
        blocks: list[list[str]] = [[]]
        for ln in lines:
            if ln.strip():
                blocks[-1].append(ln)
            elif blocks[-1]:
                blocks.append([])
        if all(len(b) <= 1 for b in blocks):
            return [b[0] for b in blocks if b]
        return [join_lines(b) for b in blocks if b]
    return [ln for ln in lines if ln.strip()]


def as_turns(lines: list[str]) -> list[RawParagraph] | None:
    """Speaker turns when most lines are `Speaker: text` (optionally time-stamped); None for prose."""
    matches = [TURN.match(ln) for ln in lines]
    hits = sum(1 for m in matches if m)
    # Only call it a transcript when most lines are speaker turns (prose has the odd "会议指出：").
    if len(lines) < 2 or hits < 0.6 * len(lines):
        return None
    turns: list[RawParagraph] = []
    for line, m in zip(lines, matches, strict=True):
        if m:
            turns.append((m.group("text"), m.group("speaker"), m.group("time")))
        elif turns:  # a continuation line belongs to the previous turn
            text, speaker, time = turns[-1]
            turns[-1] = (join_lines([text, line]), speaker, time)
        else:
            turns.append((line, None, None))
    return turns


def prose_or_turns(lines: list[str]) -> list[RawParagraph]:
    """Paragraphs of a document: speaker turns for a transcript, else the lines as they are."""
    turns = as_turns(lines)
    return turns if turns is not None else [(ln, None, None) for ln in lines]
