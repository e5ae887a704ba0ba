"""Subtitles: WebVTT through webvtt-py, SRT through srt. Each cue is a paragraph, and consecutive cues of
one speaker (`<v Name>` voices, or a `Name: ` prefix) are joined into that speaker's turn."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from pathlib import Path

from meeting_qa.errors import LoaderError
from meeting_qa.loaders.common import (
    TURN,
    RawParagraph,
    build_meeting,
    date_from_name,
    join_lines,
    meeting_id_for,
    title_from_name,
)
from meeting_qa.loaders.encoding import read_text
from meeting_qa.types import Meeting

_TAG = re.compile(r"<[^>]+>")  # styling left in a cue's text (<b>, <i>, <c.x>, <font …>)


def _hms(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _turns(cues: Iterable[tuple[float, str, str | None]]) -> list[RawParagraph]:
    """(start seconds, text, voice) cues → speaker turns."""
    raw: list[RawParagraph] = []
    for start, text, voice in cues:
        body = join_lines(_TAG.sub("", ln) for ln in text.split("\n"))
        speaker = voice.strip() if voice else None
        if speaker is None and (m := TURN.match(body)):
            speaker, body = m.group("speaker"), m.group("text")
        if not body:
            continue
        if raw and speaker is not None and raw[-1][1] == speaker:
            raw[-1] = (join_lines([raw[-1][0], body]), speaker, raw[-1][2])
        else:
            raw.append((body, speaker, _hms(start)))
    return raw


def _vtt_cues(text: str, source: str) -> list[tuple[float, str, str | None]]:
    import webvtt
    from webvtt.errors import MalformedFileError

    try:
        captions = webvtt.from_buffer(io.StringIO(text))
    except MalformedFileError as e:
        raise LoaderError(f"{source}: not a valid WebVTT file ({e})", path=source) from None
    return [(c.start_in_seconds, c.text, c.voice) for c in captions.captions]


def _srt_cues(text: str, source: str) -> list[tuple[float, str, str | None]]:
    import srt

    try:
        subtitles = list(srt.parse(text))
    except srt.SRTParseError as e:
        raise LoaderError(f"{source}: not a valid SRT file ({e})", path=source) from None
    return [(s.start.total_seconds(), s.content, None) for s in subtitles]


def load_subtitles(path: Path) -> Meeting:
    """`.vtt` / `.srt`: cues as paragraphs, one speaker's consecutive cues joined into a turn."""
    decoded = read_text(path)
    parse = _srt_cues if path.suffix.lower() == ".srt" else _vtt_cues
    raw = _turns(parse(decoded.text, str(path)))
    if not raw:
        raise LoaderError(f"{path}: no subtitle cues found", path=str(path))
    return build_meeting(
        meeting_id_for(path),
        title_from_name(path),
        raw,
        source=str(path),
        date=date_from_name(path.name),
        encoding=decoded.encoding,
    )
