"""PDF through pypdfium2 (PDFium, the engine of Chromium's viewer): the text layer's lines, regrouped into
the source's paragraphs. PDFium reads the CID-keyed CJK fonts office software embeds, where pdfminer-based
extractors returned no text at all for a PDF with Noto CJK text.

PDF has no paragraphs, only positioned lines. A new paragraph starts where the vertical gap is clearly
larger than the page's usual line spacing, where a line is indented, or after a line that stops well short
of the right margin (the last line of a paragraph). Running page numbers are dropped. A PDF without a text
layer (a scan) is refused with a message that says so: its words would need OCR first.
"""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path
from statistics import median
from typing import Any

from meeting_qa.errors import LoaderError
from meeting_qa.loaders.common import meeting_from_file
from meeting_qa.loaders.encoding import read_bytes
from meeting_qa.text.rules import CJK_PUNCTUATION, HAN
from meeting_qa.types import Meeting

_PAGE_NUMBER = re.compile(
    r"^\s*(?:[-–—]\s*)?(?:第\s*\d+\s*页(?:\s*共\s*\d+\s*页)?|\d+|page \d+(?: of \d+)?)(?:\s*[-–—])?\s*$", re.I
)
_CJK = re.compile(f"[{HAN}{CJK_PUNCTUATION}\u2018-\u201f\u2026]")
GAP_FACTOR = 1.4  # a line spacing this many times the page's usual one separates paragraphs
SHORT_LINE = 0.85  # a line ending before this share of the text width ends its paragraph


def _page_lines(page: Any) -> list[dict[str, Any]]:
    """The page's text lines, top to bottom, with their box (`top` measured from the top of the page)."""
    textpage = page.get_textpage()
    height = page.get_height()
    lines: list[dict[str, Any]] = []
    for i in range(textpage.count_rects()):
        left, bottom, right, top = textpage.get_rect(i)
        text = textpage.get_text_bounded(left, bottom, right, top).replace("\r", " ").replace("\n", " ")
        if not text.strip():
            continue
        box = {"text": text, "x0": left, "x1": right, "top": height - top, "bottom": height - bottom}
        prev = lines[-1] if lines else None
        # PDFium cuts a line into several boxes where the spacing or font changes: glue them back.
        if prev is not None and abs(box["top"] - prev["top"]) < 0.5 * (prev["bottom"] - prev["top"]):
            prev.update(text=join_wrapped([prev["text"], text]), x1=max(prev["x1"], right), x0=min(prev["x0"], left))
        else:
            lines.append(box)
    return [ln for ln in lines if not _PAGE_NUMBER.match(ln["text"])]


def join_wrapped(lines: list[str]) -> str:
    """Join the lines of one paragraph as a PDF wrapped them: Chinese text wraps between any two characters,
    even inside a pinyin annotation `(d|òng)`, so no space is added next to Chinese text or inside parentheses;
    English words get one."""
    out = ""
    for line in (ln.strip() for ln in lines):
        if not line:
            continue
        inside = max(out.rfind("("), out.rfind("（")) > max(out.rfind(")"), out.rfind("）"))
        if out and not (inside or _CJK.match(out[-1]) or _CJK.match(line[0])):
            out += " "
        out += line
    return out


def _paragraphs(pages: list[list[dict[str, Any]]]) -> list[str]:
    paragraphs: list[list[str]] = []
    ends_paragraph = True
    for lines in pages:
        if not lines:
            continue
        left = min(ln["x0"] for ln in lines)
        right = max(ln["x1"] for ln in lines)
        steps = [b["top"] - a["top"] for a, b in pairwise(lines) if b["top"] > a["top"]]
        step = median(steps) if steps else 0.0
        char = median(ln["bottom"] - ln["top"] for ln in lines)
        for i, ln in enumerate(lines):
            indented = ln["x0"] - left > 0.8 * char
            gap = i > 0 and step > 0 and ln["top"] - lines[i - 1]["top"] > GAP_FACTOR * step
            if ends_paragraph or indented or gap or not paragraphs:
                paragraphs.append([])
            paragraphs[-1].append(ln["text"])
            ends_paragraph = ln["x1"] < left + SHORT_LINE * (right - left)
    return [join_wrapped(p) for p in paragraphs]


def load_pdf(path: Path) -> Meeting:
    """A PDF's text layer as numbered paragraphs (speaker turns when it is a transcript)."""
    import pypdfium2

    data = read_bytes(path)
    try:
        pdf = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as e:
        raise LoaderError(f"{path}: not a readable PDF ({e})", path=str(path)) from None
    try:
        pages = [_page_lines(pdf[i]) for i in range(len(pdf))]
        info = pdf.get_metadata_dict()
    finally:
        pdf.close()
    paragraphs = _paragraphs(pages)
    if not paragraphs:
        raise LoaderError(
            f"{path}: the PDF has no text layer (a scanned image?); run OCR on it or ingest the original document",
            path=str(path),
        )
    return meeting_from_file(path, paragraphs, title=str(info.get("Title") or "").strip())
