"""HTML for the web chat, built from escaped text only.

Every piece of meeting text, question or file name goes through `text_html`, so markup in a record
(`<script>`, `<img onerror=…>`) or markdown/LaTeX syntax always shows literally. The only tags on the page
are the ones written here. Chips carry their identity in a class name (`mqa-ref-<turn>-<c|r><n>`) because
the chatbot's sanitizer strips `data-*` attributes.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from meeting_qa.types import Answer, FileReport, MeetingInfo

MeetingIndex = dict[str, MeetingInfo]

MARKER = re.compile(r"\[(\d+)\]")
# One pass over the text: HTML's own characters, plus those that markdown, LaTeX or the chatbot's tag
# handling could read as syntax, become character references; newlines become line breaks.
_LITERAL = str.maketrans({c: f"&#{ord(c)};" for c in "&<>\"'*_`#[]~|\\$!{}"} | {"\n": "<br>", "\r": None})


def text_html(text: str) -> str:
    """Text shown exactly as written: HTML-escaped, markdown-neutral, newlines kept."""
    return text.translate(_LITERAL)


def chip(turn: int, kind: str, n: int, label: str, title: str) -> str:
    """A clickable citation (`kind` "c") or related-passage (`kind` "r") chip."""
    return (
        f'<span class="mqa-cite mqa-ref-{turn}-{kind}{n}" role="button" tabindex="0" '
        f'title="{html.escape(title)}">{text_html(label)}</span>'
    )


def _where(index: MeetingIndex, meeting_id: str, paragraph: int, fallback: str = "") -> str:
    """The label of a paragraph (title · date · ¶n), from what the store knows about its meeting."""
    info = index.get(meeting_id)
    title = (info.title if info else "") or fallback or meeting_id
    date = info.date if info else None
    return " · ".join(p for p in (title, date or "", f"¶{paragraph}") if p)


def question_html(question: str) -> str:
    return text_html(question)


def pending_html() -> str:
    return '<span class="mqa-pending">正在查找相关段落 · Searching the records<span class="mqa-dots"></span></span>'


def streaming_html(text: str) -> str:
    return text_html(text) + '<span class="mqa-caret"></span>'


def error_html(message: str) -> str:
    return (
        '<div class="mqa-notice mqa-error"><div class="mqa-notice-title">无法回答这个问题 · Could not answer</div>'
        f"<div>{text_html(message)}</div></div>"
    )


def answer_html(answer: Answer, turn: int, index: MeetingIndex | None = None) -> str:
    """The answer with its `[n]` markers as chips; an abstention as a clear "not in the records" notice."""
    no_meetings = index is not None and not index
    index = index or {}
    if answer.abstained:
        related = "".join(
            chip(turn, "r", k, f"¶{p.paragraph}", _where(index, p.meeting_id, p.paragraph, p.title))
            for k, p in enumerate(answer.related, 1)
        )
        body = (
            '<div class="mqa-notice mqa-abstain">'
            '<div class="mqa-notice-title">会议记录中没有找到答案 · Not in the records</div>'
            f"<div>{text_html(answer.text)}</div>"
        )
        if related:
            body += f'<div class="mqa-related">可能相关的段落 · Possibly related: {related}</div>'
        if no_meetings:
            body += (
                '<div class="mqa-related">还没有导入任何会议记录：请在「会议 · Meetings」中上传。'
                "<br>No meetings yet: upload records under Meetings.</div>"
            )
        return body + "</div>"
    out = []
    pos = 0
    for m in MARKER.finditer(answer.text):
        n = int(m.group(1))
        if not 1 <= n <= len(answer.citations):
            continue  # an out-of-range marker stays literal text
        c = answer.citations[n - 1]
        out.append(text_html(answer.text[pos : m.start()]))
        where = _where(index, c.meeting_id, c.paragraph)
        out.append(chip(turn, "c", n, f"[{n}]", f"查看证据 · Show evidence: {where}"))
        pos = m.end()
    out.append(text_html(answer.text[pos:]))
    notes = "".join(f'<div class="mqa-note">{text_html(n)}</div>' for n in answer.notes)
    return '<div class="mqa-answer">' + "".join(out) + "</div>" + notes


def sources_html(answer: Answer | None, turn: int, index: MeetingIndex) -> str:
    """The list of the latest answer's citations (or related passages), each with its chip."""
    if answer is None:
        return ""
    items: list[str] = []
    if answer.abstained:
        head = "可能相关的段落 · Possibly related"
        for k, p in enumerate(answer.related, 1):
            where = _where(index, p.meeting_id, p.paragraph, p.title)
            items.append(_source_item(chip(turn, "r", k, f"¶{p.paragraph}", where), where, _excerpt(p.text)))
    else:
        head = "本回答的引用 · Citations in this answer"
        for n, c in enumerate(answer.citations, 1):
            where = _where(index, c.meeting_id, c.paragraph)
            items.append(_source_item(chip(turn, "c", n, f"[{n}]", where), where, c.quote))
    if not items:
        return '<div class="mqa-empty">这个回答没有可显示的引用 · No passages to show.</div>'
    return f'<div class="mqa-sources-head">{head}</div><ol class="mqa-sources">{"".join(items)}</ol>'


def _source_item(chip_html: str, where: str, quote: str) -> str:
    return (
        f'<li class="mqa-source">{chip_html}<span class="mqa-where">{text_html(where)}</span>'
        f'<div class="mqa-quote">“{text_html(quote)}”</div></li>'
    )


def _excerpt(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def evidence_hint_html() -> str:
    return (
        '<div class="mqa-empty">点击回答中的 <span class="mqa-cite-demo">[1]</span> 查看整段原文，引用的句子会高亮。<br>'
        "Click a marker to see the whole paragraph with the quoted sentence highlighted.</div>"
    )


def evidence_html(
    *,
    label: str,
    title: str,
    meeting_id: str,
    date: str | None,
    paragraph: int,
    text: str,
    start: int | None = None,
    end: int | None = None,
    speaker: str | None = None,
    timestamp: str | None = None,
) -> str:
    """The whole paragraph with `text[start:end]` (the quoted sentence) inside a `<mark>`."""
    if start is not None and end is not None and 0 <= start < end <= len(text):
        body = (
            text_html(text[:start])
            + f'<mark class="mqa-mark">{text_html(text[start:end])}</mark>'
            + text_html(text[end:])
        )
    else:
        body = text_html(text)
    meta = [f'<span class="mqa-badge">{text_html(label)}</span>', f'<span class="mqa-para-no">¶{paragraph}</span>']
    if date:
        meta.append(f'<span class="mqa-date">{text_html(date)}</span>')
    who = " · ".join(x for x in (speaker, timestamp) if x)
    if who:
        meta.append(f'<span class="mqa-speaker">{text_html(who)}</span>')
    return (
        '<div class="mqa-evidence">'
        f'<div class="mqa-ev-title">{text_html(title or meeting_id)}</div>'
        f'<div class="mqa-ev-meta">{"".join(meta)}</div>'
        f'<div class="mqa-ev-text">{body}</div>'
        f'<div class="mqa-ev-id">{text_html(meeting_id)}</div>'
        "</div>"
    )


def evidence_missing_html(meeting_id: str, paragraph: int) -> str:
    return (
        '<div class="mqa-notice mqa-error"><div class="mqa-notice-title">找不到这段原文 · Paragraph not found</div>'
        f"<div>{text_html(meeting_id)} ¶{paragraph} — 会议可能已被删除 · the meeting may have been deleted.</div></div>"
    )


def _listed_name(m: MeetingInfo) -> str:
    """The meeting's own name as answers give it (its date has a column of its own); reference texts say so."""
    name = (m.label or m.title or m.meeting_id).removesuffix(f"（{m.date}）") if m.date else (m.label or m.title)
    return f"{name or m.meeting_id} · 参考资料 reference text" if m.reference else (name or m.meeting_id)


def meetings_html(meetings: Sequence[MeetingInfo]) -> str:
    """A table of the ingested meetings (title, date, paragraphs, id)."""
    if not meetings:
        return (
            '<div class="mqa-empty">还没有会议记录。请在下方上传文件。<br>No meetings yet: upload records below.</div>'
        )
    rows = "".join(
        "<tr>"
        f'<td class="mqa-m-title">{text_html(_listed_name(m))}<div class="mqa-m-id">{text_html(m.meeting_id)}</div></td>'
        f"<td>{text_html(m.date or '—')}</td>"
        f'<td class="mqa-num">{m.paragraphs}</td>'
        "</tr>"
        for m in meetings
    )
    return (
        '<table class="mqa-meetings"><thead><tr><th>会议 Meeting</th><th>日期 Date</th>'
        f'<th class="mqa-num">段落 ¶</th></tr></thead><tbody>{rows}</tbody></table>'
    )


STATUS_LABELS = {
    "added": ("ok", "已导入 · added"),
    "updated": ("ok", "已更新 · updated"),
    "unchanged": ("same", "未变化 · unchanged"),
    "failed": ("fail", "失败 · failed"),
}


def ingest_html(files: Sequence[FileReport], names: dict[str, str] | None = None) -> str:
    """One row per file: ok / unchanged / failed with the reason."""
    names = names or {}
    if not files:
        return ""
    rows = []
    for f in files:
        cls, label = STATUS_LABELS[f.status]
        name = names.get(f.path) or f.path.rsplit("/", 1)[-1]
        detail = f.error or (f"{f.meeting_id} · {f.paragraphs} ¶" if f.meeting_id else "")
        if f.encoding_note and not f.error:
            detail += f" · {f.encoding_note}"
        extra = "".join(f'<div class="mqa-warn">{text_html(w)}</div>' for w in f.warnings[:3])
        rows.append(
            f'<li class="mqa-file mqa-file-{cls}"><span class="mqa-file-status">{label}</span>'
            f'<span class="mqa-file-name">{text_html(name)}</span>'
            f'<div class="mqa-file-detail">{text_html(detail)}</div>{extra}</li>'
        )
    return f'<ul class="mqa-files">{"".join(rows)}</ul>'


def plain_text(answer: Answer, index: MeetingIndex) -> str:
    """The answer with its citations as plain text, for copying into an email or a report."""
    lines = [answer.text]
    if answer.citations:
        lines.append("")
        for n, c in enumerate(answer.citations, 1):
            who = " ".join(x for x in (c.speaker, c.timestamp) if x)
            where = _where(index, c.meeting_id, c.paragraph) + (f" {who}" if who else "")
            lines.append(f"[{n}] {where}: {c.quote}")
    elif answer.related:
        lines.append("")
        for p in answer.related:
            lines.append(f"- {_where(index, p.meeting_id, p.paragraph, p.title)}: {_excerpt(p.text)}")
    return "\n".join(lines)
