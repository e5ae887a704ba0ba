"""Date-range and speaker filters: applied inside Chroma's query (dense side) and to the BM25 scores (lexical
side), through the API, and refused with a message naming the value when they cannot match anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from meeting_qa.errors import InputError
from meeting_qa.qa import Engine
from meeting_qa.store import RECORDS_VERSION, meeting_record_id
from meeting_qa.types import Filters


@pytest.fixture
def three_meetings(fake_engine: Engine, tmp_path: Path) -> Engine:
    (tmp_path / "budget-2022-03-01.txt").write_text(
        "王主任：今年的预算方案需要压缩行政开支。\n李会计：预算执行率已经达到九成。\n王主任：预算方案下周报市政府。\n",
        encoding="utf-8",
    )
    (tmp_path / "budget-2023-03-01.txt").write_text(
        "赵局长：明年的预算方案要向教育倾斜。\n李会计：教育预算增加一成。\n", encoding="utf-8"
    )
    (tmp_path / "undated-notes.txt").write_text("会议讨论了预算方案。\n会议要求压缩开支。\n", encoding="utf-8")
    report = fake_engine.ingest([tmp_path])
    assert report.ok, report
    return fake_engine


def _keys(engine: Engine, question: str, **filters: object) -> set[tuple[str, int]]:
    return {(p.meeting_id, p.paragraph) for p in engine.search(question, k=10, **filters)}  # type: ignore[arg-type]


def test_a_speaker_filter_keeps_only_that_speakers_turns(three_meetings: Engine) -> None:
    got = three_meetings.search("预算方案", k=10, speakers=["李会计"])
    assert got and {p.speaker for p in got} == {"李会计"}
    assert {(p.meeting_id, p.paragraph) for p in got} == {("budget-2022-03-01", 2), ("budget-2023-03-01", 2)}


def test_a_date_range_keeps_meetings_held_within_it_and_drops_undated_ones(three_meetings: Engine) -> None:
    assert {m for m, _ in _keys(three_meetings, "预算方案", since="2023-01-01")} == {"budget-2023-03-01"}
    assert {m for m, _ in _keys(three_meetings, "预算方案", until="2022-12-31")} == {"budget-2022-03-01"}
    both = _keys(three_meetings, "预算方案", since="2022-03-01", until="2023-03-01")
    assert {m for m, _ in both} == {"budget-2022-03-01", "budget-2023-03-01"}  # inclusive at both ends
    assert {m for m, _ in _keys(three_meetings, "预算方案")} >= {"undated-notes"}


def test_filters_combine_with_meetings_and_with_each_other(three_meetings: Engine) -> None:
    got = _keys(three_meetings, "预算", since="2022-01-01", speakers="王主任", meeting_ids=["budget-2022-03-01"])
    assert got == {("budget-2022-03-01", 1), ("budget-2022-03-01", 3)}
    answer = three_meetings.ask("明年的预算方案要向哪里倾斜？", speakers=["赵局长"])
    assert answer.citations and {(c.meeting_id, c.paragraph, c.speaker) for c in answer.citations} == {
        ("budget-2023-03-01", 1, "赵局长")
    }


def test_the_dense_query_filters_inside_chroma_not_after_it(three_meetings: Engine) -> None:
    store = three_meetings.store
    vector = three_meetings.embeddings.encode_query("预算方案需要压缩行政开支")
    # k=1: a filter applied after an unfiltered top-1 would find nothing from 赵局长, whose turns are far away.
    hits = store.dense(vector, k=1, kinds=("paragraph", "sentence"), filters=Filters(speakers=("赵局长",)))
    assert [(h.meeting_id, h.paragraph) for h in hits] == [("budget-2023-03-01", 1)]
    hits = store.dense(vector, k=1, kinds=("paragraph",), filters=Filters(since="2023-01-01"))
    assert hits and hits[0].meeting_id == "budget-2023-03-01"


def test_the_lexical_side_scores_only_paragraphs_that_pass(three_meetings: Engine) -> None:
    index = three_meetings.lexical.index()
    scores = index.scores({"预算": 1.0}, Filters(speakers=("王主任",), until="2022-12-31"))
    assert set(scores) == {("budget-2022-03-01", 1), ("budget-2022-03-01", 3)}


def test_speakers_are_listed_per_meeting(three_meetings: Engine) -> None:
    speakers = {m.meeting_id: m.speakers for m in three_meetings.list_meetings()}
    assert speakers == {
        "budget-2022-03-01": ("王主任", "李会计"),
        "budget-2023-03-01": ("赵局长", "李会计"),
        "undated-notes": (),
    }


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"since": "2022-13-01"}, "2022-13-01"),
        ({"until": "last week"}, "last week"),
        ({"since": "2023-01-01", "until": "2022-01-01"}, "2023-01-01"),
        ({"speakers": ["李主任"]}, "李主任"),
    ],
)
def test_bad_filters_are_refused_naming_the_value(
    three_meetings: Engine, kwargs: dict[str, object], named: str
) -> None:
    with pytest.raises(InputError, match=named):
        three_meetings.search("预算", **kwargs)  # type: ignore[arg-type]


def test_a_store_written_before_filters_existed_is_rewritten_on_reingest(
    three_meetings: Engine, tmp_path: Path
) -> None:
    collection = three_meetings.store.collection
    record = meeting_record_id("budget-2022-03-01")
    meta = collection.get(ids=[record], include=["metadatas"])["metadatas"][0]
    collection.update(ids=[record], metadatas=[{**meta, "records": 1}])  # as an older version wrote it
    report = three_meetings.ingest([tmp_path / "budget-2022-03-01.txt"])
    assert [f.status for f in report.files] == ["updated"]
    assert collection.get(ids=[record], include=["metadatas"])["metadatas"][0]["records"] == RECORDS_VERSION
    assert three_meetings.ingest([tmp_path / "budget-2022-03-01.txt"]).files[0].status == "unchanged"
