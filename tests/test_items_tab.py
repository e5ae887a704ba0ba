"""The "Decisions & tasks" tab's plain functions (the browser test covers the page itself)."""

from __future__ import annotations

import csv
import io

from meeting_qa.qa import Engine
from meeting_qa.web import items_tab


def test_the_table_shows_the_sample_approvals_newest_first_with_their_paragraph(sample_engine: Engine) -> None:
    found, note = items_tab.select_items(sample_engine, ["approved"], "", "", "", "")
    rows = items_tab.table_rows(found)
    assert [r[-1] for r in rows] == ["2022-05-06 ¶6", "2022-05-06 ¶9"]
    assert "2 items" in note


def test_a_bad_filter_value_becomes_a_message_not_an_error(sample_engine: Engine) -> None:
    found, note = items_tab.select_items(sample_engine, None, "", "", "last week", "")
    assert found == [] and "last week" in note


def test_the_csv_export_has_the_full_quote_and_offsets(sample_engine: Engine) -> None:
    found, _ = items_tab.select_items(sample_engine, ["approved"], "经贸", "", "", "")
    path = items_tab.write_csv(found)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 1
    row = rows[0]
    text = sample_engine.store.paragraphs()[8].paragraph.text
    assert row["quote"] == text[int(row["start"]) : int(row["end"])]
    assert row["subject"] == "“5·18”經貿活動總體工作方案"
    # Another export is another file of the same name, in the same per-process folder.
    again = items_tab.write_csv(found)
    assert again != path and again.name == path.name == "meeting-items.csv"
    assert again.parent.parent == path.parent.parent


def test_a_row_opens_its_paragraph_with_the_quote_marked(sample_engine: Engine) -> None:
    found, _ = items_tab.select_items(sample_engine, ["approved"], "经贸", "", "", "")
    html = items_tab.item_evidence_html(sample_engine, found[0])
    assert '<mark class="mqa-mark">會議研究通過了今年“5·18”經貿活動總體工作方案</mark>' in html
    sample_engine.delete("yancheng-party-committee-2022-05-06")
    assert "Paragraph not found" in items_tab.item_evidence_html(sample_engine, found[0])
