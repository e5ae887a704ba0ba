"""What the web page does, as plain Python (no gradio here): chat, evidence, feedback, meetings.

`respond` is the chat function; the gradio wiring in `meeting_qa.web.app` only maps its results onto
components, so everything here is unit-tested directly against an `Engine`.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meeting_qa.errors import MeetingQAError
from meeting_qa.loaders import SUPPORTED_EXTENSIONS
from meeting_qa.types import Answer, FileReport, IngestReport, MeetingInfo
from meeting_qa.web import render

if TYPE_CHECKING:
    from meeting_qa.qa import Engine

log = logging.getLogger(__name__)

Message = dict[str, Any]  # a gradio Chatbot message: {"role": "user" | "assistant", "content": str}
ProgressFn = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Narrow:
    """The chat's date-range and speaker filters, as the page's inputs hold them (blank = not set)."""

    since: str | None = None
    until: str | None = None
    speakers: tuple[str, ...] | None = None

    @classmethod
    def of(cls, since: str | None = None, until: str | None = None, speakers: Sequence[str] | None = None) -> Narrow:
        return cls((since or "").strip() or None, (until or "").strip() or None, tuple(speakers or ()) or None)


@dataclass(frozen=True)
class Turn:
    """One question and what came of it, kept in the session for the evidence panel, copy and feedback."""

    question: str
    answer: Answer | None
    meeting_ids: tuple[str, ...] | None = None
    index: dict[str, MeetingInfo] = field(default_factory=dict, hash=False, compare=False)
    error: str | None = None


def meeting_index(engine: Engine) -> dict[str, MeetingInfo]:
    return {m.meeting_id: m for m in engine.list_meetings()}


def respond(
    message: str,
    history: Sequence[Message] | None,
    turns: Sequence[Turn] | None = None,
    meeting_ids: Sequence[str] | None = None,
    *,
    engine: Engine,
    placeholder: bool = True,
    narrow: Narrow | None = None,
) -> Iterator[tuple[list[Message], list[Turn]]]:
    """Stream an answer into the chat.

    Yields `(history, turns)`: first the question with a "searching" placeholder, then the growing answer
    text, and last the finished answer with clickable `[n]` chips; the final yield has one more `Turn`.
    With `placeholder=False` the question appears together with its answer (for an answerer that hands
    over the whole answer at once, the placeholder would only be shown for a moment, at a cost).
    An empty message changes nothing; a bad question (or a bad date or speaker in `narrow`) ends in an
    error notice instead of an exception.
    """
    history = list(history or [])
    turns = list(turns or [])
    question = (message or "").strip()
    if not question:
        yield history, turns
        return
    ids = tuple(m for m in (meeting_ids or ()) if m) or None
    narrow = narrow or Narrow()
    history.append({"role": "user", "content": render.question_html(question)})
    if placeholder:
        yield [*history, {"role": "assistant", "content": render.pending_html()}], turns
    turn_no = len(turns)
    answer: Answer | None = None
    streamed = ""
    chunks = 0
    try:
        for event in engine.ask_stream(
            question, meeting_ids=ids, since=narrow.since, until=narrow.until, speakers=narrow.speakers
        ):
            if isinstance(event, Answer):
                answer = event
                continue
            streamed += event
            chunks += 1
            # Show text once a second chunk proves the answer is streaming: the extractive answerer sends
            # its whole text as one chunk right before the final answer, and re-drawing it is pure cost.
            if chunks > 1:
                yield [*history, {"role": "assistant", "content": render.streaming_html(streamed)}], turns
        index = meeting_index(engine)
    except MeetingQAError as e:
        error = str(e)
    except Exception as e:  # the page must survive anything a backend throws; the log keeps the details
        log.exception("answering %r failed", question)
        error = f"内部错误 · internal error ({type(e).__name__}); please try again or tell the administrator"
    else:
        assert answer is not None, "ask_stream must yield the final Answer last"
        history.append({"role": "assistant", "content": render.answer_html(answer, turn_no, index)})
        yield history, [*turns, Turn(question, answer, ids, index)]
        return
    history.append({"role": "assistant", "content": render.error_html(error)})
    yield history, [*turns, Turn(question, None, ids, error=error)]


def latest_answer(turns: Sequence[Turn]) -> tuple[int, Turn] | None:
    for i in range(len(turns) - 1, -1, -1):
        if turns[i].answer is not None:
            return i, turns[i]
    return None


def evidence(engine: Engine, turns: Sequence[Turn], turn: int, kind: str, n: int) -> str:
    """The whole paragraph behind chip `n` of answer `turn` (`kind` "c": citation, "r": related passage)."""
    if not 0 <= turn < len(turns) or (answer := turns[turn].answer) is None:
        return render.evidence_hint_html()
    start: int | None = None
    end: int | None = None
    quote = ""
    if kind == "c" and 1 <= n <= len(answer.citations):
        c = answer.citations[n - 1]
        key, label, start, end, quote = (c.meeting_id, c.paragraph), f"[{n}]", c.start, c.end, c.quote
    elif kind == "r" and 1 <= n <= len(answer.related):
        p = answer.related[n - 1]
        key, label = (p.meeting_id, p.paragraph), "可能相关 · related"
    else:
        return render.evidence_hint_html()
    stored = engine.store.get_paragraphs([key]).get(key)
    if stored is None:
        return render.evidence_missing_html(*key)
    para = stored.paragraph
    if quote and para.text[start:end] != quote:
        # The meeting was re-ingested since the answer: find the quote again rather than mark the wrong words.
        at = para.text.find(quote)
        start, end = (at, at + len(quote)) if at >= 0 else (None, None)
    return render.evidence_html(
        label=label,
        title=stored.title,
        meeting_id=stored.meeting_id,
        date=stored.date,
        paragraph=para.number,
        text=para.text,
        start=start,
        end=end,
        speaker=para.speaker,
        timestamp=para.timestamp,
    )


_feedback_lock = threading.Lock()


def record_feedback(
    path: Path, turns: Sequence[Turn], rating: str, comment: str = "", *, user: str | None = None
) -> dict[str, Any] | None:
    """Append a rating of the latest answer to a JSON Lines file; None when there is no answer to rate."""
    if rating not in ("up", "down"):
        raise ValueError(f"rating must be 'up' or 'down', not {rating!r}")
    found = latest_answer(turns)
    if found is None:
        return None
    _, turn = found
    assert turn.answer is not None
    record: dict[str, Any] = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "rating": rating,
        "comment": comment.strip(),
        "question": turn.question,
        "answer": turn.answer.text,
        "abstained": turn.answer.abstained,
        "citations": [
            {"meeting_id": c.meeting_id, "paragraph": c.paragraph, "quote": c.quote} for c in turn.answer.citations
        ],
        "meeting_ids": list(turn.meeting_ids) if turn.meeting_ids else None,
        "backend": turn.answer.backend,
    }
    if user:
        record["user"] = user
    line = json.dumps(record, ensure_ascii=False) + "\n"
    path = Path(path)
    with _feedback_lock:  # one whole line per write, even with several people rating at once
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(line)
    return record


def ingest_uploads(
    engine: Engine, paths: Sequence[str | Path], *, max_mb: int, progress: ProgressFn | None = None
) -> IngestReport:
    """Ingest uploaded files, refusing (per file, with the reason) unsupported types and oversized files.

    A file whose name is taken by a meeting from another file gets a distinct id (`minutes-2`): two people
    uploading their own `minutes.txt` both keep their meeting. The uploaded copies are removed afterwards
    (they hold meeting records, and nothing reads them again)."""
    try:
        return _ingest_uploads(engine, paths, max_mb=max_mb, progress=progress)
    finally:
        for raw in paths:
            _remove_upload(Path(raw))


def _remove_upload(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
        path.parent.rmdir()  # gradio keeps each upload in a folder of its own; left alone when not empty
    except OSError:
        pass


def _ingest_uploads(
    engine: Engine, paths: Sequence[str | Path], *, max_mb: int, progress: ProgressFn | None
) -> IngestReport:
    refused: list[FileReport] = []
    accepted: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.suffix.lower() not in SUPPORTED_EXTENSIONS:
            kind = p.suffix or "(none)"
            refused.append(
                FileReport(
                    str(p),
                    "failed",
                    error=f"不支持的文件类型 unsupported type {kind}; use {', '.join(SUPPORTED_EXTENSIONS)}",
                )
            )
        elif p.stat().st_size > max_mb * 1024 * 1024:
            size = p.stat().st_size / 1024 / 1024
            refused.append(FileReport(str(p), "failed", error=f"文件过大 too large: {size:.1f} MB > {max_mb} MB"))
        else:
            accepted.append(p)
    report = engine.ingest(accepted, progress=progress, rename=True) if accepted else IngestReport()
    return IngestReport(tuple(refused) + report.files)


def delete_meeting(engine: Engine, meeting_id: str | None) -> str:
    """Delete a meeting; the message says what happened."""
    if not meeting_id:
        return "请先选择一场会议 · Choose a meeting first."
    if engine.delete(meeting_id):
        return f"已删除 · Deleted {meeting_id}"
    return f"没有这场会议 · No meeting {meeting_id!r} (already deleted?)"


def speaker_choices(meetings: Sequence[MeetingInfo]) -> list[str]:
    """Every speaker of the loaded transcripts, for the speaker filter (in order of first appearance)."""
    return list(dict.fromkeys(s for m in meetings for s in m.speakers))


def meeting_choices(meetings: Sequence[MeetingInfo]) -> list[tuple[str, str]]:
    """(label, meeting_id) pairs for the filter and delete dropdowns."""
    return [(" · ".join(x for x in (m.title or m.meeting_id, m.date or "") if x), m.meeting_id) for m in meetings]


# (folded words that suggest the records can answer it, the example question)
_EXAMPLES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("主持",), "谁主持了会议？"),
    (("研究通过", "审议通过"), "会议研究通过了什么方案？"),
    (("疫情防控",), "会议对疫情防控提出了哪些要求？"),
    (("巡察",), "会议对巡察工作有什么要求？"),
    (("决定",), "会议决定了什么？"),
    (("chair",), "Who chaired the meeting?"),
    (("decide", "decision", "agreed"), "What did the meeting decide?"),
    (("action item", "follow up"), "What are the action items?"),
)
_FALLBACK_EXAMPLES = ("会议的主要内容是什么？", "What did the meeting decide?")
_examples_cache: dict[tuple[str, str], list[str]] = {}


def example_questions(engine: Engine, meetings: Sequence[MeetingInfo], limit: int = 4) -> list[str]:
    """Example questions that the loaded meetings can answer (none when there are no meetings)."""
    if not meetings:
        return []
    key = (engine.store.client_id, engine.store.generation())
    if key not in _examples_cache:
        # A few meetings are enough to pick questions; reading every paragraph of a large store is not.
        sample = [m.meeting_id for m in meetings[:5]]
        text = "\n".join(sp.folded for sp in engine.store.paragraphs(sample))
        found = [q for words, q in _EXAMPLES if any(w in text for w in words)]
        if len(_examples_cache) > 32:
            _examples_cache.clear()
        _examples_cache[key] = found or list(_FALLBACK_EXAMPLES)
    return _examples_cache[key][:limit]
