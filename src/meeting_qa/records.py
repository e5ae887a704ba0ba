"""What a meeting looks like inside the store: record ids, record metadata, and the way back.

Records (ids are stable, so re-ingest is idempotent):
- `m::<meeting>`            kind=meeting    title, date, source, origin, content hash, paragraph count
- `p::<meeting>::<n>`       kind=paragraph  document = folded text (what is embedded); metadata `text` = display text
- `s::<meeting>::<n>::<k>`  kind=sentence   document = folded sentence; `start`/`end` offsets into the display text
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from meeting_qa.text.fold import fold
from meeting_qa.types import Meeting, Paragraph, Sentence, day_number


def meeting_record_id(meeting_id: str) -> str:
    return f"m::{meeting_id}"


def paragraph_id(meeting_id: str, paragraph: int) -> str:
    return f"p::{meeting_id}::{paragraph}"


def sentence_id(meeting_id: str, paragraph: int, sentence: int) -> str:
    """The record of a paragraph's `sentence`-th sentence (1-based); only paragraphs of several sentences
    have sentence records (a one-sentence paragraph's record stands for its sentence)."""
    return f"s::{meeting_id}::{paragraph}::{sentence}"


def parse_id(record_id: str) -> tuple[str, str, int, int] | None:
    """(kind, meeting_id, paragraph, sentence) of a paragraph or sentence record id; None for others."""
    try:
        if record_id.startswith("s::"):
            mid, n, k = record_id[3:].rsplit("::", 2)
            return "sentence", mid, int(n), int(k)
        if record_id.startswith("p::"):
            mid, n = record_id[3:].rsplit("::", 1)
            return "paragraph", mid, int(n), 0
    except ValueError:
        return None
    return None


@dataclass(frozen=True)
class StoredParagraph:
    meeting_id: str
    paragraph: Paragraph
    folded: str
    title: str
    date: str | None


@dataclass(frozen=True)
class Outcome:
    """What a write did with one meeting; `other` names the stored meeting's file on a conflict."""

    meeting: Meeting
    status: str
    other: str = ""


@dataclass(frozen=True)
class Records:
    """One meeting's records, its meeting record last (written last, so a listed meeting is complete)."""

    ids: list[str]
    texts: list[str]
    metas: list[dict[str, Any]]


# Version of the records' metadata layout: a meeting stored with an older one is rewritten on re-ingest
# even when its text is unchanged (version 2 added `day` and `speaker` to every record, for filters).
RECORDS_VERSION = 2


def _meta(**values: Any) -> dict[str, Any]:
    # Chroma metadata values cannot be None.
    return {k: v for k, v in values.items() if v is not None}


def records_for(meeting: Meeting) -> Records:
    ids: list[str] = []
    texts: list[str] = []
    metas: list[dict[str, Any]] = []
    mid = meeting.meeting_id
    day = day_number(meeting.date)
    for p in meeting.paragraphs:
        ids.append(paragraph_id(mid, p.number))
        texts.append(fold(p.text))
        metas.append(
            _meta(
                kind="paragraph",
                meeting_id=mid,
                paragraph=p.number,
                text=p.text,
                sentences=json.dumps([[s.start, s.end] for s in p.sentences]),
                speaker=p.speaker,
                timestamp=p.timestamp,
                title=meeting.title,
                date=meeting.date,
                day=day,
            )
        )
        if len(p.sentences) > 1:
            for k, s in enumerate(p.sentences, 1):
                ids.append(sentence_id(mid, p.number, k))
                texts.append(fold(p.text[s.start : s.end]))
                metas.append(
                    _meta(
                        kind="sentence",
                        meeting_id=mid,
                        paragraph=p.number,
                        sentence=k,
                        start=s.start,
                        end=s.end,
                        speaker=p.speaker,
                        day=day,
                    )
                )
    ids.append(meeting_record_id(mid))
    texts.append(fold(meeting.title))
    metas.append(
        _meta(
            kind="meeting",
            meeting_id=mid,
            title=meeting.title,
            date=meeting.date,
            source=meeting.source,
            origin=meeting.origin or None,
            content_hash=meeting.content_hash,
            paragraphs=len(meeting.paragraphs),
            speakers=json.dumps(
                list(dict.fromkeys(p.speaker for p in meeting.paragraphs if p.speaker)), ensure_ascii=False
            ),
            records=RECORDS_VERSION,
        )
    )
    return Records(ids, texts, metas)


def record_count(meeting: Meeting) -> int:
    """Texts embedded for a meeting (`records_for` without building them): its paragraphs, the sentences of
    multi-sentence ones, its title."""
    return 1 + sum(1 + (len(p.sentences) if len(p.sentences) > 1 else 0) for p in meeting.paragraphs)


_WHERE_IN_FILE = re.compile(r"(?::\d+|\[\d+\])$")  # "a.jsonl:3", "a.json[2]": a document inside a file


def origin_of(meta: dict[str, Any]) -> str:
    """The file a stored meeting came from. Stores written before `origin` was recorded only have the
    source as given on the command line: resolve it the same way (relative to the current folder)."""
    origin = meta.get("origin")
    if origin:
        return str(origin)
    source = _WHERE_IN_FILE.sub("", str(meta.get("source", "")))
    return str(Path(source).resolve()) if source else ""


def identify(
    m: Meeting,
    stored: dict[str, dict[str, Any]],
    claimed: dict[str, str],
    lookup: Callable[[str], dict[str, Any] | None],
    replace_other: bool,
    rename: bool,
) -> Outcome:
    """What to do with meeting `m`: "unchanged", "conflict" (a stored meeting of that id came from another
    file), or "pending" (to write; under a new id `<id>-2`, … when renaming). `stored`: stored meetings'
    metadata by id; `claimed`: ids already taken in this write (→ their source); `lookup`: one stored id."""
    meta = stored.get(m.meeting_id)
    taken = m.meeting_id in claimed  # by another file of this same call
    if not taken and (meta is None or replace_other or not m.origin or origin_of(meta) == m.origin):
        if meta is not None and meta.get("content_hash") == m.content_hash:
            return Outcome(m, "unchanged")
        return Outcome(m, "pending")
    if not taken and meta is not None and meta.get("content_hash") == m.content_hash:
        return Outcome(m, "unchanged")  # the same record from another copy of the file: nothing to lose
    other = claimed[m.meeting_id] if taken else str(meta.get("source") or origin_of(meta)) if meta else ""
    if not rename:
        return Outcome(m, "conflict", other=other)
    for n in range(2, 10_000):
        candidate = f"{m.meeting_id}-{n}"
        if candidate in claimed:
            continue
        found = lookup(candidate)
        if found is None or origin_of(found) == m.origin:
            stored.update({candidate: found} if found is not None else {})
            renamed = replace(m, meeting_id=candidate)
            if found is not None and found.get("content_hash") == m.content_hash:
                return Outcome(renamed, "unchanged")
            return Outcome(renamed, "pending")
    return Outcome(m, "conflict", other=other)


def stored_paragraph(meta: dict[str, Any], folded: str) -> StoredParagraph:
    sentences = tuple(Sentence(int(a), int(b)) for a, b in json.loads(str(meta.get("sentences", "[]"))))
    paragraph = Paragraph(
        number=int(meta["paragraph"]),
        text=str(meta["text"]),
        sentences=sentences,
        speaker=meta.get("speaker"),
        timestamp=meta.get("timestamp"),
    )
    return StoredParagraph(str(meta["meeting_id"]), paragraph, folded, str(meta.get("title", "")), meta.get("date"))
