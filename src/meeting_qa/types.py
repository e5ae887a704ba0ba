"""Small frozen dataclasses that cross module boundaries (LangChain objects stay inside store/chain)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Sentence:
    """A sentence of a paragraph as character offsets into the paragraph's display text."""

    start: int
    end: int


@dataclass(frozen=True)
class Paragraph:
    """One of the source's own paragraphs (a speaker turn for transcripts), numbered from 1."""

    number: int
    text: str  # display text: original script and punctuation, annotation artifacts removed
    sentences: tuple[Sentence, ...]
    speaker: str | None = None
    timestamp: str | None = None


@dataclass(frozen=True)
class Meeting:
    """A parsed meeting record, ready to index."""

    meeting_id: str
    title: str
    paragraphs: tuple[Paragraph, ...]
    source: str = ""
    date: str | None = None
    content_hash: str = ""
    warnings: tuple[str, ...] = ()
    cleaned: tuple[str, ...] = ()  # human-readable notes on what cleaning removed or changed
    encoding: str | None = None  # the text encoding the file was decoded with (None for .docx/.pdf)
    origin: str = ""  # the file it came from (resolved): a different file never silently replaces it


@dataclass(frozen=True)
class MeetingInfo:
    """What the store knows about an ingested meeting (for `list`)."""

    meeting_id: str
    title: str
    paragraphs: int
    source: str = ""
    date: str | None = None
    content_hash: str = ""
    speakers: tuple[str, ...] = ()  # a transcript's speakers, in order of first turn
    label: str = ""  # the meeting's own name and date, as answers name it ("舞钢市委常委会会议（2020-07-18）")
    reference: bool = False  # a reference text, not a meeting record (no speaker turns, opening or minutes)


@dataclass(frozen=True)
class Filters:
    """Which paragraphs a question may be answered from; applied inside the store query.

    `since`/`until` are inclusive ISO dates (`YYYY-MM-DD`) compared with the meeting's date, so a meeting
    without a date is left out once either is set. `speakers` keeps only those speakers' turns.
    """

    meeting_ids: tuple[str, ...] | None = None
    since: str | None = None
    until: str | None = None
    speakers: tuple[str, ...] | None = None

    @property
    def empty(self) -> bool:
        return not (self.meeting_ids or self.since or self.until or self.speakers)

    def admits(self, meeting_id: str, date: str | None, speaker: str | None) -> bool:
        """Whether a paragraph of this meeting, date and speaker passes the filters (the same test the
        store's query applies, for indexes kept outside the store)."""
        if self.meeting_ids is not None and meeting_id not in self.meeting_ids:
            return False
        if self.since or self.until:
            day = day_number(date)
            if day is None:
                return False
            if (self.since and day < (day_number(self.since) or 0)) or (
                self.until and day > (day_number(self.until) or 0)
            ):
                return False
        return self.speakers is None or speaker in self.speakers


def day_number(date: str | None) -> int | None:
    """`2022-05-06…` → 20220506, the form dates are compared in (Chroma compares numbers, not strings)."""
    if not date or len(date) < 10 or not (date[:4] + date[5:7] + date[8:10]).isdigit() or date[4] + date[7] != "--":
        return None
    return int(date[:4] + date[5:7] + date[8:10])


@dataclass(frozen=True)
class Passage:
    """A retrieved paragraph."""

    meeting_id: str
    paragraph: int
    text: str
    score: float
    title: str = ""
    date: str | None = None
    speaker: str | None = None
    timestamp: str | None = None


@dataclass(frozen=True)
class Citation:
    """Evidence for a claim: `quote == paragraph_text[start:end]`, always."""

    meeting_id: str
    paragraph: int
    quote: str
    start: int
    end: int
    score: float
    speaker: str | None = None
    timestamp: str | None = None


@dataclass(frozen=True)
class Answer:
    """An answer whose `[n]` markers refer to `citations[n-1]`."""

    text: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    related: tuple[Passage, ...] = ()  # "possibly related" passages offered when abstaining
    backend: str = "extractive"
    notes: tuple[str, ...] = ()  # e.g. "LLM answer had no valid citation; showing the extractive answer"


FileStatus = Literal["added", "updated", "unchanged", "failed"]


@dataclass(frozen=True)
class FileReport:
    """What ingest did with one file (a bulk JSON Lines file yields one report per document)."""

    path: str
    status: FileStatus
    meeting_id: str | None = None
    paragraphs: int = 0
    warnings: tuple[str, ...] = ()
    cleaned: tuple[str, ...] = ()
    error: str | None = None
    encoding: str | None = None  # how a text file was decoded, e.g. "UTF-8", "Big5", "UTF-16 (BOM)"

    @property
    def encoding_note(self) -> str | None:
        """The encoding when it is worth telling the user (anything but plain UTF-8 or ASCII)."""
        return self.encoding if self.encoding not in (None, "UTF-8", "ASCII") else None


@dataclass(frozen=True)
class IngestReport:
    """Per-file results of one ingest call."""

    files: tuple[FileReport, ...] = field(default_factory=tuple)

    def count(self, status: FileStatus) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0


@dataclass(frozen=True)
class Item:
    """A decision, task, commitment, report heard, document approved or principle stressed, with its evidence:
    `quote == paragraph_text[start:end]`, always."""

    meeting_id: str
    paragraph: int
    kind: str  # heard | approved | decision | task | principle | commitment
    quote: str
    start: int
    end: int
    subject: str = ""  # the document name, the report's topic, the principle; else the agenda topic
    owner: str | None = None
    due: str | None = None  # ISO date when the meeting's date resolves it, else the text ("4月上旬")
    figures: tuple[str, ...] = ()
    topic: str = ""  # the agenda item the paragraph belongs to (report heard / document approved)
    date: str | None = None  # the meeting's date
    title: str = ""
    speaker: str | None = None
    timestamp: str | None = None


@dataclass(frozen=True)
class SeriesMeeting:
    meeting_id: str
    date: str | None
    title: str


@dataclass(frozen=True)
class Series:
    """Meetings of one body, oldest first (`key` is the body and place read from the records)."""

    key: str
    meetings: tuple[SeriesMeeting, ...]


@dataclass(frozen=True)
class Mention:
    """A meeting whose paragraphs mention a topic (for "哪些会议讨论过X"), with those paragraphs."""

    meeting_id: str
    date: str | None
    title: str
    paragraphs: tuple[int, ...]
