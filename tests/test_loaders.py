from __future__ import annotations

import json
from pathlib import Path

import pytest

from meeting_qa.errors import LoaderError
from meeting_qa.loaders import find_files, load_path, load_text, meeting_id_for
from meeting_qa.types import Meeting
from tests.conftest import SAMPLE, SAMPLE_ID, SHARED


def _one(path: Path) -> Meeting:
    items = list(load_path(path))
    assert len(items) == 1
    item = items[0]
    if isinstance(item, LoaderError):
        raise item
    return item


def test_the_sample_has_eleven_paragraphs_with_the_source_line_last() -> None:
    m = load_text(SAMPLE)
    assert m.meeting_id == SAMPLE_ID
    assert len(m.paragraphs) == 11
    assert m.paragraphs[0].text.endswith("市委書記徐纓主持。")
    assert m.paragraphs[10].text == "(來源:鹽阜大眾報報業集團)"
    assert m.date == "2022-05-06"
    assert m.cleaned and "388" in m.cleaned[0]
    assert len(m.warnings) == 1 and "¶4" in m.warnings[0] and "?shù)拳h" in m.warnings[0]


def test_sentence_offsets_point_into_the_display_text() -> None:
    m = load_text(SAMPLE)
    p1 = m.paragraphs[0]
    last = p1.sentences[-1]
    assert p1.text[last.start : last.end] == "市委書記徐纓主持。"


def test_blank_line_blocks_become_paragraphs(tmp_path: Path) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("第一段第一行\n第一段第二行。\n\n第二段。\n", encoding="utf-8")
    m = _one(f)
    assert [p.text for p in m.paragraphs] == ["第一段第一行第一段第二行。", "第二段。"]


def test_speaker_turns_become_paragraphs_of_a_transcript(tmp_path: Path) -> None:
    f = tmp_path / "call.txt"
    f.write_text("[00:00:05] 张三：大家好，开始开会。\n[00:01:10] 李四: 我先汇报进度。\n补充一点。\n", encoding="utf-8")
    m = _one(f)
    assert [(p.speaker, p.timestamp) for p in m.paragraphs] == [("张三", "00:00:05"), ("李四", "00:01:10")]
    assert m.paragraphs[1].text == "我先汇报进度。补充一点。"


def test_webvtt_cues_with_voices_are_speaker_turns(tmp_path: Path) -> None:
    f = tmp_path / "m.vtt"
    f.write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v 王五>预算通过了。\n\n00:00:04.000 --> 00:00:05.000\n<v 赵六>好的。\n"
    )
    m = _one(f)
    assert [(p.speaker, p.text, p.timestamp) for p in m.paragraphs] == [
        ("王五", "预算通过了。", "00:00:01"),
        ("赵六", "好的。", "00:00:04"),
    ]


def test_bulk_json_lines_yield_one_meeting_per_line_and_report_bad_lines(tmp_path: Path) -> None:
    f = tmp_path / "docs.jsonl"
    f.write_text(
        json.dumps({"id": "DEV_1", "title": "甲", "text": "一段。"}, ensure_ascii=False)
        + "\nnot json\n"
        + json.dumps({"title": "无编号", "text": "x"}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    items = list(load_path(f))
    assert isinstance(items[0], Meeting) and items[0].meeting_id == "DEV_1" and items[0].title == "甲"
    assert isinstance(items[1], LoaderError) and "docs.jsonl:2" in str(items[1])
    assert isinstance(items[2], LoaderError) and "missing field(s) id" in str(items[2])


def test_gb18030_files_are_read(tmp_path: Path) -> None:
    f = tmp_path / "legacy.txt"
    f.write_bytes("会议通过了方案。".encode("gb18030"))
    assert _one(f).paragraphs[0].text == "会议通过了方案。"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"  \n\n", "no text found"),
        ("binary.txt", b"\x00\x01\x02", "binary"),
        ("slides.pptx", b"x", "unsupported file type .pptx"),
    ],
)
def test_bad_files_give_errors_that_name_the_file(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    f = tmp_path / name
    f.write_bytes(content)
    with pytest.raises(LoaderError) as err:
        _one(f)
    assert name in str(err.value) and message in str(err.value)


def test_content_hash_depends_on_content_not_on_location(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    copy = tmp_path / "a" / SAMPLE.name
    copy.write_bytes(SAMPLE.read_bytes())
    assert _one(copy).content_hash == _one(SAMPLE).content_hash
    copy.write_text(SAMPLE.read_text(encoding="utf-8").replace("徐纓", "某人"), encoding="utf-8")
    assert _one(copy).content_hash != _one(SAMPLE).content_hash


def test_folders_are_walked_recursively_skipping_hidden_and_unsupported_files(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / ".hidden").mkdir()
    for p in ["a.txt", "sub/b.md", ".hidden/c.txt", "d.xlsx"]:
        (tmp_path / p).write_text("x。", encoding="utf-8")
    assert [f.relative_to(tmp_path).as_posix() for f in find_files([tmp_path])] == ["a.txt", "sub/b.md"]
    with pytest.raises(LoaderError, match=r"nope\.txt: no such file"):
        find_files([tmp_path / "nope.txt"])


def test_meeting_ids_are_stable_slugs_of_the_file_name() -> None:
    assert meeting_id_for(Path("x/市委 会议 2022.txt")) == "市委-会议-2022"


VCSUM = SHARED / "data" / "vcsum"


@pytest.mark.skipif(not (VCSUM / "segments.jsonl").exists(), reason="../shared/data/vcsum is not beside the checkout")
def test_all_26_vcsum_meetings_load_as_transcripts_with_speakers_and_no_false_corruption_warnings(
    tmp_path: Path,
) -> None:
    from benchmarks.vcsum import build  # the gold builder checks every line is read as one speaker turn

    meetings, questions = build(tmp_path)
    assert (meetings, questions) == (26, 136)
    loaded = [_one(f) for f in sorted((tmp_path / "transcripts").glob("*.txt"))]
    assert len(loaded) == 26
    assert all(p.speaker for m in loaded for p in m.paragraphs)
    # Transcripts are full of "？" followed by the next sentence: none of it is corruption.
    assert [w for m in loaded for w in m.warnings] == []


def test_a_file_whose_line_breaks_were_lost_is_refused_at_once_naming_the_limit(tmp_path: Path) -> None:
    from meeting_qa.loaders.common import MAX_PARAGRAPH_CHARS

    one_line = tmp_path / "page.txt"
    one_line.write_text("会议研究了城区停车管理工作。" * (MAX_PARAGRAPH_CHARS // 10), encoding="utf-8")
    (result,) = list(load_path(one_line))
    assert isinstance(result, LoaderError)
    assert "page.txt" in str(result) and f"{MAX_PARAGRAPH_CHARS:,}" in str(result)
