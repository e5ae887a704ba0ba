"""Word `.docx` through python-docx: paragraphs and tables in reading order, headings kept as paragraphs,
each table row one paragraph (`cell | cell`); the title and date come from the core properties when the
file name does not give them."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from meeting_qa.errors import LoaderError
from meeting_qa.loaders.common import join_lines, meeting_from_file
from meeting_qa.loaders.encoding import read_bytes
from meeting_qa.types import Meeting


def _row_text(row: Any) -> str:
    cells: list[str] = []
    for cell in row.cells:
        text = join_lines(cell.text.split("\n"))
        # A merged cell is reported once per grid column it spans.
        if text and (not cells or cells[-1] != text):
            cells.append(text)
    return " | ".join(cells)


def _blocks(document: Any) -> list[tuple[str, bool]]:
    """(text, is_title_heading) of each paragraph and table row, in reading order."""
    from docx.table import Table

    out: list[tuple[str, bool]] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            out.extend((_row_text(row), False) for row in item.rows)
            continue
        style = (item.style.name if item.style is not None else "") or ""
        out.append((join_lines(item.text.split("\n")), style in ("Title", "Heading 1")))
    return [(t, h) for t, h in out if t.strip()]


def load_docx(path: Path) -> Meeting:
    """A Word document as numbered paragraphs (speaker turns when it is a transcript)."""
    import io

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    data = read_bytes(path)
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as e:
        raise LoaderError(f"{path}: not a readable Word .docx file ({e})", path=str(path)) from None
    blocks = _blocks(document)
    props = document.core_properties
    title = (props.title or "").strip()
    if blocks and blocks[0][1]:
        # A leading Title/Heading 1 names the document (as a Markdown file's leading `#` does).
        heading = blocks.pop(0)[0]
        title = title or heading
    created = props.created.date().isoformat() if props.created is not None else None
    return meeting_from_file(path, [t for t, _ in blocks], title=title, date=created)
