"""The "Decisions & tasks" tab: meeting items in a filterable table; a row opens its evidence, with the quote
highlighted, in the evidence panel; the current selection exports as CSV."""

from __future__ import annotations

import atexit
import csv
import io
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from meeting_qa.errors import MeetingQAError
from meeting_qa.minutes import KINDS
from meeting_qa.qa import Engine
from meeting_qa.types import Item
from meeting_qa.web import render

KIND_LABELS = {
    "approved": "通过 approved",
    "decision": "决定 decision",
    "task": "任务 task",
    "commitment": "承诺 commitment",
    "heard": "听取 heard",
    "principle": "强调 principle",
}
# The quote comes second: in the side column it is what stays in view. The meeting shows as its date and
# paragraph (the evidence panel and the CSV carry its id).
HEADERS = ["类型 Kind", "原文 Evidence", "负责 Owner", "期限 Due", "会议 Meeting"]
COLUMN_WIDTHS = ["13%", "45%", "16%", "13%", "13%"]
CSV_FIELDS = ["date", "meeting_id", "paragraph", "kind", "subject", "owner", "due", "figures", "quote", "start", "end"]
DEFAULT_KINDS = ["approved", "decision", "task", "commitment"]
QUOTE_CHARS = 80  # the table shows the start of a quote; the evidence panel shows all of it


def table_rows(items: Sequence[Item]) -> list[list[str]]:
    return [
        [
            KIND_LABELS.get(i.kind, i.kind),
            i.quote if len(i.quote) <= QUOTE_CHARS else i.quote[:QUOTE_CHARS] + "…",
            i.owner or "",
            i.due or "",
            f"{i.date or i.meeting_id} ¶{i.paragraph}",
        ]
        for i in items
    ]


def items_csv(items: Sequence[Item]) -> str:
    """The items as CSV (one row each, the full quote and its offsets), for spreadsheets."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for i in items:
        writer.writerow(
            {
                "date": i.date or "",
                "meeting_id": i.meeting_id,
                "paragraph": i.paragraph,
                "kind": i.kind,
                "subject": i.subject,
                "owner": i.owner or "",
                "due": i.due or "",
                "figures": "; ".join(i.figures),
                "quote": i.quote,
                "start": i.start,
                "end": i.end,
            }
        )
    return out.getvalue()


_exports: Path | None = None


def _exports_root() -> Path:
    """One folder for this process's exports, removed when it exits (a server exporting all day left one
    temporary folder per export behind)."""
    global _exports
    if _exports is None:
        _exports = Path(tempfile.mkdtemp(prefix="meeting-qa-exports-"))
        atexit.register(shutil.rmtree, _exports, ignore_errors=True)
    return _exports


def write_csv(items: Sequence[Item]) -> Path:
    # A fresh folder per export: two people exporting at once never share a file. Excel reads the BOM as UTF-8.
    path = Path(tempfile.mkdtemp(dir=_exports_root())) / "meeting-items.csv"
    path.write_text(items_csv(items), encoding="utf-8-sig")
    return path


def item_evidence_html(engine: Engine, item: Item) -> str:
    """The item's paragraph with its quote marked (found again if the meeting was re-ingested since)."""
    key = (item.meeting_id, item.paragraph)
    stored = engine.store.get_paragraphs([key]).get(key)
    if stored is None:
        return render.evidence_missing_html(*key)
    text = stored.paragraph.text
    start, end = item.start, item.end
    if text[start:end] != item.quote:
        at = text.find(item.quote)
        start, end = (at, at + len(item.quote)) if at >= 0 else (-1, -1)
    return render.evidence_html(
        label=KIND_LABELS.get(item.kind, item.kind),
        title=stored.title,
        meeting_id=item.meeting_id,
        date=item.date,
        paragraph=item.paragraph,
        text=text,
        start=start if start >= 0 else None,
        end=end if end >= 0 else None,
        speaker=stored.paragraph.speaker,
        timestamp=stored.paragraph.timestamp,
    )


def select_items(
    engine: Engine, kinds: Sequence[str] | None, topic: str, owner: str, since: str, until: str
) -> tuple[list[Item], str]:
    """(items, a status line); a bad filter value comes back as the status, not an exception."""
    try:
        found = engine.items(
            kind=list(kinds) if kinds else None,
            topic=topic.strip() or None,
            owner=owner.strip() or None,
            since=since.strip() or None,
            until=until.strip() or None,
        )
    except MeetingQAError as e:
        return [], render.error_html(str(e))
    note = f"<div class='mqa-hint'>共 {len(found)} 条 · {len(found)} item{'' if len(found) == 1 else 's'}"
    return found, note + " · 点击一行查看原文 · click a row for its evidence</div>"


def build(engine: Engine, *, evidence: gr.HTML, tabs: gr.Tabs) -> None:
    """The tab, built inside the caller's `gr.Tabs`; a row click fills `evidence` and selects its tab."""
    with gr.Tab("决定与任务 · Decisions & tasks", id="items", elem_id="mqa-items-tab") as tab:
        shown = gr.State([])
        kinds = gr.CheckboxGroup(
            choices=[(KIND_LABELS[k], k) for k in KINDS],
            value=DEFAULT_KINDS,
            label="类型 · Kinds",
            elem_id="mqa-items-kinds",
        )
        with gr.Row(equal_height=True):
            topic = gr.Textbox(label="主题 · Topic", placeholder="防汛 / budget", elem_id="mqa-items-topic")
            owner = gr.Textbox(label="负责 · Owner", placeholder="应急管理局 / Halvorsen", elem_id="mqa-items-owner")
        with gr.Row(equal_height=True):
            since = gr.Textbox(label="自 · Since", placeholder="2024-01-01", elem_id="mqa-items-since")
            until = gr.Textbox(label="至 · Until", placeholder="2024-12-31", elem_id="mqa-items-until")
        with gr.Row(equal_height=True):
            apply = gr.Button("筛选 Filter", variant="primary", elem_id="mqa-items-apply")
            export = gr.DownloadButton("导出 CSV · Export CSV", value=None, elem_id="mqa-items-export")
        status = gr.HTML("", elem_id="mqa-items-status")
        table = gr.Dataframe(
            headers=HEADERS,
            value=[],
            interactive=False,
            wrap=True,
            column_widths=COLUMN_WIDTHS,
            elem_id="mqa-items-table",
        )

    def refresh(k: list[str] | None, t: str, o: str, s: str, u: str) -> tuple[Any, ...]:
        found, note = select_items(engine, k, t or "", o or "", s or "", u or "")
        return found, note, table_rows(found), gr.DownloadButton(value=str(write_csv(found)))

    def open_row(items: list[Item], evt: gr.SelectData) -> tuple[Any, Any]:
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        if not isinstance(index, int) or not 0 <= index < len(items):
            return gr.skip(), gr.skip()
        return item_evidence_html(engine, items[index]), gr.Tabs(selected="evidence")

    filters = [kinds, topic, owner, since, until]
    outputs = [shown, status, table, export]
    tab.select(refresh, inputs=filters, outputs=outputs, api_visibility="private")
    for event in (apply.click, topic.submit, owner.submit, since.submit, until.submit):
        event(refresh, inputs=filters, outputs=outputs, api_visibility="private")
    table.select(open_row, inputs=[shown], outputs=[evidence, tabs], api_visibility="private")
