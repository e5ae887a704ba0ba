"""Renderings of a meeting's paragraphs as real .docx, .pdf and .html files, written by the libraries a user's
office software would use (python-docx, fpdf2), for loader tests and the cross-format end-to-end test."""

from __future__ import annotations

import html
import subprocess
from pathlib import Path


def cjk_font() -> Path | None:
    """A Noto CJK font file (Debian's fonts-noto-cjk, installed by `make browser-deps`), or None."""
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return None
    files = sorted({line.split(":")[0].strip() for line in out.splitlines() if "Noto" in line and "CJK" in line})
    regular = [f for f in files if "Regular" in f] or files
    return Path(regular[0]) if regular else None


def write_docx(paragraphs: list[str], path: Path, *, title: str | None = None) -> Path:
    import docx

    document = docx.Document()
    if title:
        document.add_heading(title, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))
    return path


def write_pdf(paragraphs: list[str], path: Path, font: Path) -> Path:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_font("cjk", fname=str(font))
    pdf.set_font("cjk", size=11)
    pdf.add_page()
    for text in paragraphs:
        pdf.multi_cell(0, 6, text)
        pdf.ln(4)  # the gap between paragraphs a word processor leaves
    pdf.output(str(path))
    return path


def write_html(paragraphs: list[str], path: Path, *, title: str = "会议纪要") -> Path:
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    path.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>"
        + html.escape(title)
        + "</title><style>p { margin: 1em }</style><script>var tracking = '会议 首页';</script></head><body>"
        "<nav><a href='/'>首页</a> | <a href='/news'>新闻中心</a> | <a href='/gov'>政务公开</a></nav>"
        "<header><div class='logo'>盐城新闻网</div></header>"
        f"<main><article>\n{body}\n</article></main>"
        "<aside><h3>相关新闻</h3><ul><li>另一条新闻</li></ul></aside>"
        "<footer>版权所有 © 盐城新闻网</footer><script>document.title += '';</script></body></html>",
        encoding="utf-8",
    )
    return path
