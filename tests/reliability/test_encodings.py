"""Legacy and wide encodings are detected, not turned into mojibake (issue 13, case 4; built in issue 11)."""

from __future__ import annotations

from pathlib import Path

import pytest

from meeting_qa.loaders import load_text


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Herr Müller eröffnete die Sitzung um neun Uhr.\nDer Haushalt wurde beschlossen.\n", "cp1252"),
        ("會議由市長主持。\n會議通過了年度預算方案。\n", "big5"),
        ("会议由市长主持。\n会议通过了年度预算方案。\n", "utf-16"),
        ("会议由市长主持。\n会议通过了年度预算方案。\n", "utf-32"),
    ],
)
def test_a_legacy_or_wide_encoding_is_read_as_written(tmp_path: Path, text: str, encoding: str) -> None:
    path = tmp_path / f"minutes-{encoding}.txt"
    path.write_bytes(text.encode(encoding))
    meeting = load_text(path)
    assert [p.text for p in meeting.paragraphs] == text.strip().split("\n")
