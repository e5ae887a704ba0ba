"""Plain text and Markdown: the source's own paragraphs, or speaker turns for transcripts."""

from __future__ import annotations

import re
from pathlib import Path

from meeting_qa.loaders.common import meeting_from_file, paragraph_lines, title_from_name
from meeting_qa.loaders.encoding import read_text
from meeting_qa.types import Meeting


def load_text(path: Path) -> Meeting:
    """`.txt` / `.md`: lines or blank-line separated blocks; a Markdown file's leading `#` heading is its title."""
    decoded = read_text(path)
    title = title_from_name(path)
    lines = paragraph_lines(decoded.text)
    markdown = path.suffix.lower() == ".md"
    if markdown and lines and lines[0].lstrip().startswith("#"):
        title = lines.pop(0).lstrip("#").strip() or title
    lines = [ln for ln in lines if not (markdown and re.fullmatch(r"\s*#+\s*", ln))]
    return meeting_from_file(path, lines, title=title, encoding=decoded.encoding)
