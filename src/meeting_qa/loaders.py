"""One function per format → `Meeting` with numbered paragraphs (speaker/time where the source has them).

Supported: `.txt`/`.md` (paragraphs are lines, or blank-line separated blocks; transcripts with
`Speaker: text` or `[hh:mm:ss] Speaker: text` lines become speaker turns), `.vtt`/`.srt` subtitles
(cues, `<v Speaker>` voices), `.json` (one document or a list) and `.jsonl` (bulk: one document a line
with `id`, `title`, `text`, optional `date`).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from meeting_qa.errors import LoaderError
from meeting_qa.text.clean import clean_paragraph
from meeting_qa.text.segment import split_sentences
from meeting_qa.types import Meeting, Paragraph

SUPPORTED_EXTENSIONS = (".txt", ".md", ".vtt", ".srt", ".json", ".jsonl")
# 20 MB of Chinese minutes is some 120,000 passages (the sample: 47 from 8.3 kB), about 15 minutes to embed at
# ~130 passages/s on 2 cores.
# Larger files are almost always exports of many meetings, better split (or given as .jsonl, one per line).
MAX_FILE_BYTES = 20 * 1024 * 1024

_HAN_END = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]$")
_HAN_START = re.compile(r"^[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")
_TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
# A speaker label: up to six words (titles, honorifics, several names: "Dr. Ines Halvorsen", "Lynne Neagle
# AM") and an optional role in parentheses ("(Director of Transit Planning)", "（主持人）").
_NAME_WORD = r"[^\s:：\[\]()（）,，。]"
_SPEAKER = rf"{_NAME_WORD}{{1,24}}(?:\s{_NAME_WORD}{{1,16}}){{0,5}}(?:\s*[(（][^()（）:：]{{1,60}}[)）])?"
_TURN = re.compile(rf"^\s*(?:[\[(（]?(?P<time>{_TIME})[\])）]?\s*)?(?P<speaker>{_SPEAKER})\s*[:：]\s*(?P<text>\S.*)$")
_DATE_IN_NAME = re.compile(r"(\d{4})[-_.]?(\d{2})[-_.]?(\d{2})")
_ID_SEPARATORS = re.compile(r"-{2,}")


def read_text(path: Path) -> str:
    """Read a text file as UTF-8 (with or without BOM), falling back to GB18030 for legacy Chinese files."""
    try:
        size = path.stat().st_size
    except OSError as e:
        raise LoaderError(f"{path}: cannot read ({e.strerror})", path=str(path)) from None
    if size > MAX_FILE_BYTES:
        raise LoaderError(
            f"{path}: file is {size // 2**20} MiB, over the {MAX_FILE_BYTES // 2**20} MiB limit", path=str(path)
        )
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        raise LoaderError(f"{path}: looks like a binary file, not text", path=str(path))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise LoaderError(f"{path}: not valid UTF-8 or GB18030 text", path=str(path))


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


def _date_from_name(name: str) -> str | None:
    m = _DATE_IN_NAME.search(name)
    if not m:
        return None
    y, mo, d = (int(g) for g in m.groups())
    if 1900 <= y <= 2200 and 1 <= mo <= 12 and 1 <= d <= 31:
        return f"{y:04d}-{mo:02d}-{d:02d}"
    return None


def _title_from_name(path: Path) -> str:
    title = _DATE_IN_NAME.sub("", path.stem).replace("_", " ").replace("-", " ").strip()
    title = re.sub(r"\s+", " ", title) or path.stem
    # "Yancheng Party Committee" → "Yancheng Party Committee"; names with capitals or Han are kept as written.
    return title.title() if title.isascii() and title.islower() else title


def _join_lines(lines: Iterable[str]) -> str:
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
    raw_paragraphs: Iterable[tuple[str, str | None, str | None]],
    *,
    source: str,
    date: str | None = None,
) -> Meeting:
    """Clean and segment raw `(text, speaker, timestamp)` paragraphs; number them from 1."""
    paragraphs: list[Paragraph] = []
    warnings: list[str] = []
    removed = 0
    for raw, speaker, timestamp in raw_paragraphs:
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
    )


def _paragraph_lines(text: str) -> list[str]:
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
        return [_join_lines(b) for b in blocks if b]
    return [ln for ln in lines if ln.strip()]


def _as_turns(lines: list[str]) -> list[tuple[str, str | None, str | None]] | None:
    matches = [_TURN.match(ln) for ln in lines]
    hits = sum(1 for m in matches if m)
    # Only call it a transcript when most lines are speaker turns (prose has the odd "会议指出：").
    if len(lines) < 2 or hits < 0.6 * len(lines):
        return None
    turns: list[tuple[str, str | None, str | None]] = []
    for line, m in zip(lines, matches, strict=True):
        if m:
            turns.append((m.group("text"), m.group("speaker"), m.group("time")))
        elif turns:  # a continuation line belongs to the previous turn
            text, speaker, time = turns[-1]
            turns[-1] = (_join_lines([text, line]), speaker, time)
        else:
            turns.append((line, None, None))
    return turns


def load_text(path: Path) -> Meeting:
    """Plain text or Markdown: the source's own paragraphs, or speaker turns for transcripts."""
    text = read_text(path)
    title = _title_from_name(path)
    lines = _paragraph_lines(text)
    if path.suffix.lower() == ".md" and lines and lines[0].lstrip().startswith("#"):
        title = lines.pop(0).lstrip("#").strip() or title
    lines = [ln for ln in lines if not (path.suffix.lower() == ".md" and re.fullmatch(r"\s*#+\s*", ln))]
    turns = _as_turns(lines)
    raw = turns if turns is not None else [(ln, None, None) for ln in lines]
    return build_meeting(meeting_id_for(path), title, raw, source=str(path), date=_date_from_name(path.name))


_CUE_TIME = re.compile(rf"^\s*(?P<start>{_TIME})\s*-->\s*(?P<end>{_TIME})")
_VOICE = re.compile(r"^<v(?:\.[^ >]*)?\s+(?P<speaker>[^>]+)>(?P<text>.*?)(?:</v>)?$")


def load_subtitles(path: Path) -> Meeting:
    """WebVTT / SRT: each cue is a paragraph; `<v Name>` or `Name: ` gives the speaker."""
    text = read_text(path).replace("\r\n", "\n")
    raw: list[tuple[str, str | None, str | None]] = []
    for block in re.split(r"\n\s*\n", text):
        lines = [ln for ln in block.strip().split("\n") if ln.strip()]
        times = [i for i, ln in enumerate(lines) if _CUE_TIME.match(ln)]
        if not times:
            continue
        m_time = _CUE_TIME.match(lines[times[0]])
        assert m_time is not None
        body = _join_lines(re.sub(r"<(?!v[ .])[^>]+>", "", ln) for ln in lines[times[0] + 1 :])
        speaker = None
        if m := _VOICE.match(body):
            speaker, body = m.group("speaker").strip(), m.group("text").strip()
        elif m2 := _TURN.match(body):
            speaker, body = m2.group("speaker"), m2.group("text")
        if not body:
            continue
        start = m_time.group("start").split(".")[0].split(",")[0]
        if raw and raw[-1][1] == speaker and speaker is not None:
            raw[-1] = (_join_lines([raw[-1][0], body]), speaker, raw[-1][2])
        else:
            raw.append((body, speaker, start))
    if not raw:
        raise LoaderError(f"{path}: no subtitle cues found", path=str(path))
    return build_meeting(
        meeting_id_for(path), _title_from_name(path), raw, source=str(path), date=_date_from_name(path.name)
    )


def _document(obj: object, where: str) -> Meeting:
    if not isinstance(obj, dict):
        raise LoaderError(f"{where}: expected a JSON object with id, title, text", path=where)
    missing = [k for k in ("id", "text") if not obj.get(k)]
    if missing:
        raise LoaderError(f"{where}: missing field(s) {', '.join(missing)}", path=where)
    text = obj["text"]
    if not isinstance(text, str):
        raise LoaderError(f"{where}: field text must be a string", path=where)
    for name in ("id", "title", "text", "date"):
        _check_encodable(obj.get(name), name, where)
    mid = safe_id(str(obj["id"]))
    if not mid:
        raise LoaderError(f"{where}: id {obj['id']!r} has no usable characters", path=where, value=str(obj["id"]))
    title = str(obj.get("title") or mid)
    date = str(obj["date"]) if obj.get("date") else None
    paras = [(ln, None, None) for ln in _paragraph_lines(text)]
    return build_meeting(mid, title, paras, source=where, date=date)


def _check_encodable(value: object, name: str, where: str) -> None:
    # JSON may carry "\ud800" escapes: a lone surrogate that no text store can hold.
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as e:
            bad = value[e.start : e.end].encode("unicode_escape").decode()
            raise LoaderError(
                f"{where}: field {name} holds an invalid character {bad} (a lone surrogate)", path=where
            ) from None


def iter_jsonl(path: Path) -> Iterator[Meeting | LoaderError]:
    """Bulk JSON Lines: one document a line; a bad line is reported without stopping the others."""
    for lineno, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            yield _document(json.loads(line), where)
        except json.JSONDecodeError as e:
            yield LoaderError(f"{where}: invalid JSON ({e.msg})", path=where)
        except RecursionError:
            yield LoaderError(f"{where}: JSON nested too deeply", path=where)
        except LoaderError as e:
            yield e


def iter_json(path: Path) -> Iterator[Meeting | LoaderError]:
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as e:
        raise LoaderError(f"{path}: invalid JSON ({e.msg} at line {e.lineno})", path=str(path)) from None
    except RecursionError:
        raise LoaderError(f"{path}: JSON nested too deeply", path=str(path)) from None
    items = data if isinstance(data, list) else [data]
    for i, obj in enumerate(items):
        where = f"{path}[{i}]" if isinstance(data, list) else str(path)
        try:
            yield _document(obj, where)
        except LoaderError as e:
            yield e


_SINGLE: dict[str, Callable[[Path], Meeting]] = {
    ".txt": load_text,
    ".md": load_text,
    ".vtt": load_subtitles,
    ".srt": load_subtitles,
}


def load_path(path: Path) -> Iterator[Meeting | LoaderError]:
    """Meetings in one file (bulk formats yield many); errors are yielded, not raised, per document."""
    suffix = path.suffix.lower()
    if suffix in _SINGLE:
        try:
            yield _SINGLE[suffix](path)
        except LoaderError as e:
            yield e
    elif suffix == ".jsonl":
        try:
            yield from iter_jsonl(path)
        except LoaderError as e:
            yield e
    elif suffix == ".json":
        try:
            yield from iter_json(path)
        except LoaderError as e:
            yield e
    else:
        yield LoaderError(
            f"{path}: unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED_EXTENSIONS)}",
            path=str(path),
            value=suffix,
        )


def find_files(paths: Iterable[Path]) -> list[Path]:
    """Files named directly plus supported files under folders (recursively, sorted, hidden ones skipped)."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found.extend(
                f
                for f in sorted(p.rglob("*"))
                if f.is_file()
                and f.suffix.lower() in SUPPORTED_EXTENSIONS
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
        elif p.exists():
            found.append(p)
        else:
            raise LoaderError(f"{p}: no such file or folder", path=str(p))
    return found
