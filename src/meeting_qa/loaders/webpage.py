"""Saved web pages (`.html` / `.htm`) through BeautifulSoup: the main text only.

Navigation, headers, footers, sidebars, forms, scripts and styles are dropped; the page's `<main>` or
`<article>` is used when it has one. Every block element (`<p>`, list items, headings, table rows …) and
every `<br>` starts a paragraph, so numbering follows what a reader sees. The page's bytes are decoded by
the same detector as text files (a page's own charset declaration is often wrong on saved pages).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from meeting_qa.errors import LoaderError
from meeting_qa.loaders.common import join_lines, meeting_from_file
from meeting_qa.loaders.encoding import read_text
from meeting_qa.types import Meeting

DROPPED = (
    "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form",
    "iframe", "svg", "canvas", "button", "select", "input", "textarea", "menu", "head", "object",
)  # fmt: skip
DROPPED_ROLES = ("navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar")
BLOCKS = frozenset(
    "p div section article main li dt dd h1 h2 h3 h4 h5 h6 blockquote pre tr table ul ol dl figure "
    "figcaption address center hr caption".split()
)


def _walk(node: Any, out: list[list[str]]) -> None:
    from bs4 import NavigableString, Tag
    from bs4.element import Comment, Doctype, ProcessingInstruction

    for child in node.children:
        if isinstance(child, (Comment, Doctype, ProcessingInstruction)):
            continue
        if isinstance(child, NavigableString):
            out[-1].append(str(child))
        elif isinstance(child, Tag):
            name = child.name.lower()
            if name == "br":
                out.append([])
            elif name in ("td", "th"):
                out[-1].append(" | " if out[-1] and "".join(out[-1]).strip() else "")
                _walk(child, out)
            elif name in BLOCKS:
                out.append([])
                _walk(child, out)
                out.append([])
            else:
                _walk(child, out)


def _text(parts: list[str]) -> str:
    return join_lines("".join(parts).split()).strip(" |")


def load_html(path: Path) -> Meeting:
    """A saved web page's main text as numbered paragraphs."""
    from bs4 import BeautifulSoup

    decoded = read_text(path)
    soup = BeautifulSoup(decoded.text, "lxml")
    page_title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup.find_all(DROPPED):
        tag.decompose()
    for tag in soup.find_all(True, attrs={"role": list(DROPPED_ROLES)}):
        tag.decompose()
    for tag in soup.find_all(True, attrs={"hidden": True}):
        tag.decompose()
    root = soup.find("main") or soup.find(True, attrs={"role": "main"}) or soup.find("article") or soup.body or soup
    first_heading = root.find(["h1"])
    out: list[list[str]] = [[]]
    _walk(root, out)
    paragraphs = [t for t in (_text(p) for p in out) if t]
    title = page_title
    if first_heading is not None and paragraphs and paragraphs[0] == _text([first_heading.get_text(" ")]):
        # A leading <h1> names the page (as a Markdown file's leading `#` does).
        title = paragraphs.pop(0)
    if not paragraphs:
        raise LoaderError(f"{path}: no main text found in the page", path=str(path))
    return meeting_from_file(path, paragraphs, title=title, encoding=decoded.encoding)
