"""One loader per format family → `Meeting` with numbered paragraphs (speaker/time where the source has them).

Supported: `.txt`/`.md` (paragraphs are lines, or blank-line separated blocks; transcripts with
`Speaker: text` or `[hh:mm:ss] Speaker: text` lines become speaker turns), `.docx` (python-docx),
`.pdf` (pdfplumber, text layer), `.html`/`.htm` (BeautifulSoup, main text), `.vtt`/`.srt` subtitles
(webvtt-py / srt; `<v Speaker>` voices), `.json` (one document or a list) and `.jsonl` (bulk: one
document a line with `id`, `title`, `text`, optional `date`). Text encodings are detected (see encoding.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from meeting_qa.errors import LoaderError
from meeting_qa.loaders.common import build_meeting, meeting_id_for
from meeting_qa.loaders.encoding import MAX_FILE_BYTES, Decoded, decode, read_text
from meeting_qa.loaders.jsondocs import iter_json, iter_jsonl
from meeting_qa.loaders.pdf import load_pdf
from meeting_qa.loaders.subtitles import load_subtitles
from meeting_qa.loaders.text import load_text
from meeting_qa.loaders.webpage import load_html
from meeting_qa.loaders.word import load_docx
from meeting_qa.types import Meeting

__all__ = [
    "MAX_FILE_BYTES",
    "SUPPORTED_EXTENSIONS",
    "Decoded",
    "build_meeting",
    "decode",
    "find_files",
    "load_path",
    "load_text",
    "meeting_id_for",
    "read_text",
]

_SINGLE: dict[str, Callable[[Path], Meeting]] = {
    ".txt": load_text,
    ".md": load_text,
    ".docx": load_docx,
    ".pdf": load_pdf,
    ".html": load_html,
    ".htm": load_html,
    ".vtt": load_subtitles,
    ".srt": load_subtitles,
}
_BULK: dict[str, Callable[[Path], Iterator[Meeting | LoaderError]]] = {".jsonl": iter_jsonl, ".json": iter_json}
SUPPORTED_EXTENSIONS = (*_SINGLE, *_BULK)


def load_path(path: Path) -> Iterator[Meeting | LoaderError]:
    """Meetings in one file (bulk formats yield many); errors are yielded, not raised, per document."""
    suffix = path.suffix.lower()
    try:
        if suffix in _SINGLE:
            yield _SINGLE[suffix](path)
        elif suffix in _BULK:
            yield from _BULK[suffix](path)
        else:
            yield LoaderError(
                f"{path}: unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED_EXTENSIONS)}",
                path=str(path),
                value=suffix,
            )
    except LoaderError as e:
        yield e


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
