"""`.json` (one document or a list) and `.jsonl` (bulk: one document a line with `id`, `title`, `text`,
optional `date`); a bad document is reported without stopping the others."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from meeting_qa.errors import LoaderError
from meeting_qa.loaders.common import build_meeting, paragraph_lines, safe_id
from meeting_qa.loaders.encoding import read_text
from meeting_qa.types import Meeting


def _document(obj: object, where: str, encoding: str) -> Meeting:
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
    paras = [(ln, None, None) for ln in paragraph_lines(text)]
    return build_meeting(mid, title, paras, source=where, date=date, encoding=encoding)


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
    """Bulk JSON Lines: one document a line."""
    decoded = read_text(path)
    for lineno, line in enumerate(decoded.text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            yield _document(json.loads(line), where, decoded.encoding)
        except json.JSONDecodeError as e:
            yield LoaderError(f"{where}: invalid JSON ({e.msg})", path=where)
        except RecursionError:
            yield LoaderError(f"{where}: JSON nested too deeply", path=where)
        except LoaderError as e:
            yield e


def iter_json(path: Path) -> Iterator[Meeting | LoaderError]:
    """One JSON document, or a list of them."""
    decoded = read_text(path)
    try:
        data = json.loads(decoded.text)
    except json.JSONDecodeError as e:
        raise LoaderError(f"{path}: invalid JSON ({e.msg} at line {e.lineno})", path=str(path)) from None
    except RecursionError:
        raise LoaderError(f"{path}: JSON nested too deeply", path=str(path)) from None
    items = data if isinstance(data, list) else [data]
    for i, obj in enumerate(items):
        where = f"{path}[{i}]" if isinstance(data, list) else str(path)
        try:
            yield _document(obj, where, decoded.encoding)
        except LoaderError as e:
            yield e
