"""Meeting items derived from the store and kept in step with it, like the lexical index: rebuilt in memory
when the store's generation token changes (extraction is rule-based and takes milliseconds per meeting, so
nothing is persisted). Queries filter the held items, newest meeting first."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from meeting_qa.errors import InputError
from meeting_qa.lexical import LexicalIndex
from meeting_qa.meetings import read_card
from meeting_qa.minutes.en import extract_transcript
from meeting_qa.minutes.paragraph import ParagraphIn
from meeting_qa.minutes.rules import Rules, load_rules, parse_iso
from meeting_qa.minutes.series import build_series, neighbour
from meeting_qa.minutes.zh import agenda_of, extract_zh, match_form
from meeting_qa.profile import default_profile
from meeting_qa.store import StoredParagraph
from meeting_qa.text.crosslingual import Lexicon, lexicon
from meeting_qa.text.fold import fold
from meeting_qa.text.rules import HAN
from meeting_qa.types import Item, Mention, Series, SeriesMeeting

KINDS = ("heard", "approved", "decision", "task", "principle", "commitment")
_HAN = re.compile(f"[{HAN}]")
_TEXT_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")


@dataclass(frozen=True)
class Snapshot:
    generation: str
    items: tuple[Item, ...]  # newest meeting first, then reading order
    series: tuple[Series, ...]
    folded: tuple[str, ...]  # per item: quote, subject, topic folded together (what `topic=` matches)
    paragraphs: dict[str, tuple[tuple[int, str], ...]]  # meeting → (number, folded text), for mentions
    meetings: dict[str, SeriesMeeting]


def meeting_items(paragraphs: Sequence[ParagraphIn], rules: Rules | None = None) -> list[Item]:
    """Items of one meeting's paragraphs (in reading order): Chinese reports by their report markers,
    anything else as a transcript of speaker turns."""
    rules = rules or load_rules()
    if not paragraphs:
        return []
    when = parse_iso(paragraphs[0].date)
    text = "".join(p.text for p in paragraphs)
    if len(_HAN.findall(text)) > 0.3 * len(text):
        if not any(p.speaker for p in paragraphs) and not rules.zh["meeting_marker"].search(match_form(text)):
            return []  # not a meeting record
        agenda = agenda_of(paragraphs[0], rules)
        return [i for p in paragraphs for i in extract_zh(p, rules, when, agenda)]
    return extract_transcript(paragraphs, rules, when)


def meeting_date(stored_date: str | None, opening: str) -> str | None:
    """The meeting's date: from its metadata, else the first full date of its opening paragraph."""
    if stored_date:
        return stored_date
    m = _TEXT_DATE.search(opening)
    if m:
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
        except ValueError:
            return None
    return None


def build_snapshot(
    generation: str, stored: Iterable[StoredParagraph], rules: Rules | None = None, lexicon: Lexicon | None = None
) -> Snapshot:
    """Items and series of every stored meeting. Items and series carry the meeting's label (its own name and
    date, as answers give it); a series is keyed by the place and body the record states about itself, and a
    record that states neither is a series of its own file name."""
    rules = rules or load_rules()
    profile = default_profile()
    by_meeting: dict[str, list[StoredParagraph]] = {}
    for sp in stored:
        by_meeting.setdefault(sp.meeting_id, []).append(sp)
    items: list[Item] = []
    heads: list[tuple[str, str | None, str, str]] = []
    texts: dict[str, str] = {}
    paragraphs: dict[str, tuple[tuple[int, str], ...]] = {}
    keys: dict[str, str] = {}
    for mid, sps in by_meeting.items():
        sps.sort(key=lambda s: s.paragraph.number)
        when = meeting_date(sps[0].date, sps[0].paragraph.text)
        card = read_card(mid, sps, profile, lexicon)
        label = card.label
        ps = [
            ParagraphIn(
                mid, s.paragraph.number, s.paragraph.text, when, label, s.paragraph.speaker, s.paragraph.timestamp
            )
            for s in sps
        ]
        items.extend(meeting_items(ps, rules))
        heads.append((mid, when, label, sps[0].paragraph.text))
        if card.identity is not None:
            keys[mid] = card.identity.series_key or _file_series(sps[0].title)
        texts[mid] = "\n".join(p.text for p in ps)
        paragraphs[mid] = tuple((s.paragraph.number, s.folded) for s in sps)
    items.sort(key=lambda i: (i.meeting_id, i.paragraph, i.start))
    items.sort(key=lambda i: i.date or "", reverse=True)  # stable: newest meeting first, reading order within
    series = tuple(build_series(heads, rules, texts, keys))
    meetings = {m.meeting_id: m for s in series for m in s.meetings}
    folded = tuple(fold(" ".join((i.quote, i.subject, i.topic, i.owner or ""))) for i in items)
    return Snapshot(generation, tuple(items), series, folded, paragraphs, meetings)


def _file_series(title: str) -> str:
    """The series of a record that does not state its place and body: its file name without numbers."""
    return re.sub(r"[\d\s_\-]+", " ", title.lower()).strip() or title


class ItemIndex:
    """Items and series of every stored meeting, rebuilt when the store changes; thread-safe."""

    def __init__(self, lexical: LexicalIndex, rules: Rules | None = None) -> None:
        self.lexical = lexical
        self.rules = rules or load_rules()
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()

    def snapshot(self, generation: str | None = None) -> Snapshot:
        generation = generation or self.lexical.store.generation()
        snap = self._snapshot
        if snap is not None and snap.generation == generation:
            return snap
        with self._lock:
            snap = self._snapshot
            if snap is None or snap.generation != generation:
                bm25 = self.lexical.index(generation)
                lx = lexicon(getattr(self.lexical, "cache_dir", None))
                snap = build_snapshot(generation, bm25.paragraphs.values(), self.rules, lx)
                self._snapshot = snap
        return snap

    def items(
        self,
        *,
        kind: str | Sequence[str] | None = None,
        topic: str | None = None,
        meeting_ids: Sequence[str] | None = None,
        since: str | None = None,
        until: str | None = None,
        owner: str | None = None,
        due_after: str | None = None,
        due_before: str | None = None,
        generation: str | None = None,
    ) -> list[Item]:
        """Items matching every filter given, newest meeting first. `since`/`until` bound the meeting's date,
        `due_after`/`due_before` an item's due date (both inclusive, ISO); `topic` and `owner` match
        substrings in either Chinese script."""
        kinds = _check_kinds(kind)
        since_d, until_d = _check_date("since", since), _check_date("until", until)
        due_a, due_b = _check_date("due_after", due_after), _check_date("due_before", due_before)
        terms = fold(topic).split() if topic else []
        owner_f = fold(owner) if owner else None
        wanted = set(meeting_ids) if meeting_ids is not None else None
        snap = self.snapshot(generation)
        out = []
        for item, folded in zip(snap.items, snap.folded, strict=True):
            if kinds and item.kind not in kinds:
                continue
            if wanted is not None and item.meeting_id not in wanted:
                continue
            if terms and not all(t in folded for t in terms):
                continue
            if owner_f and (item.owner is None or owner_f not in fold(item.owner)):
                continue
            if since_d or until_d:
                d = parse_iso(item.date)
                if d is None or (since_d and d < since_d) or (until_d and d > until_d):
                    continue
            if due_a or due_b:
                d = parse_iso(item.due)
                if d is None or (due_a and d < due_a) or (due_b and d > due_b):
                    continue
            out.append(item)
        return out

    def series(self, generation: str | None = None) -> list[Series]:
        return list(self.snapshot(generation).series)

    def series_of(self, meeting_id: str, generation: str | None = None) -> Series:
        for s in self.snapshot(generation).series:
            if any(m.meeting_id == meeting_id for m in s.meetings):
                return s
        raise InputError(f"no meeting {meeting_id!r} in the store (see `meeting-qa list`)", value=meeting_id)

    def neighbour(self, meeting_id: str, step: int, generation: str | None = None) -> SeriesMeeting | None:
        self.series_of(meeting_id, generation)  # an unknown id is an error, not "no previous meeting"
        return neighbour(self.snapshot(generation).series, meeting_id, step)

    def mentions(self, topic: str, generation: str | None = None) -> list[Mention]:
        """Meetings whose paragraphs contain every term of `topic` (either script), newest first."""
        terms = fold(topic).split()
        if not terms:
            raise InputError("the topic is empty", value=repr(topic))
        snap = self.snapshot(generation)
        found = []
        for mid, paras in snap.paragraphs.items():
            hits = tuple(n for n, text in paras if all(t in text for t in terms))
            if hits:
                m = snap.meetings[mid]
                found.append(Mention(mid, m.date, m.title, hits))
        found.sort(key=lambda m: m.meeting_id)
        found.sort(key=lambda m: m.date or "", reverse=True)
        return found


def _check_kinds(kind: str | Sequence[str] | None) -> set[str]:
    if kind is None:
        return set()
    kinds = {k.strip() for k in (kind.split(",") if isinstance(kind, str) else kind) if k.strip()}
    unknown = sorted(kinds - set(KINDS))
    if unknown:
        raise InputError(f"unknown item kind {unknown[0]!r}; kinds are: {', '.join(KINDS)}", value=unknown[0])
    return kinds


def _check_date(name: str, value: str | None) -> date | None:
    if value is None or value == "":
        return None
    d = parse_iso(value) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()) else None
    if d is None:
        raise InputError(f"{name}={value!r} is not a date like 2024-03-31", value=value)
    return d
