"""Meeting items: extraction with exact evidence, the gold list, filters, store changes and series."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest

from meeting_qa import cli
from meeting_qa.errors import InputError
from meeting_qa.minutes import meeting_items
from meeting_qa.minutes.gold import load_gold, score
from meeting_qa.minutes.paragraph import ParagraphIn
from meeting_qa.minutes.rules import en_due, load_rules
from meeting_qa.qa import Engine
from tests.conftest import ROOT, SAMPLE

SHARED_EVAL = Path(os.environ.get("SHARED_DIR") or ROOT.parent / "shared") / "eval"
DEV_MEETINGS = SHARED_EVAL / "dev_meetings"
DEV_TRANSCRIPTS = SHARED_EVAL / "dev_transcripts"
GOLD = ROOT / "tests" / "data" / "items_gold.jsonl"
needs_dev = pytest.mark.skipif(not DEV_MEETINGS.is_dir(), reason="the dev corpora (../shared/eval) are not here")


def _paras(meeting_id: str, when: str | None, *texts: str, speakers: tuple[str, ...] = ()) -> list[ParagraphIn]:
    who = list(speakers) + [None] * (len(texts) - len(speakers))
    return [ParagraphIn(meeting_id, n, t, when, speaker=s) for n, (t, s) in enumerate(zip(texts, who, strict=False), 1)]


def _check_evidence(items: list, paragraphs: list[ParagraphIn]) -> None:
    texts = {p.number: p.text for p in paragraphs}
    for i in items:
        assert i.quote == texts[i.paragraph][i.start : i.end]


@pytest.fixture
def dev_engine(fake_engine: Engine) -> Engine:
    records = sorted(DEV_MEETINGS.glob("*.txt")) + sorted(DEV_TRANSCRIPTS.glob("*.txt")) + [SAMPLE]
    report = fake_engine.ingest(records)
    assert report.ok, [f.error for f in report.files if f.error]
    return fake_engine


# -- extraction on wording none of the dev records use ------------------------------------------------


def test_a_report_yields_approved_documents_tasks_with_owner_and_resolved_deadlines() -> None:
    ps = _paras(
        "m",
        "2025-03-03",
        "3月3日，中共青河县委召开常委会会议，研究部署春耕生产等工作。",
        "会议审议并原则通过了《青河县2025年春耕备耕工作方案》。会议要求，县农业农村局要在4月10日前完成"
        "农资储备检查；全县新增高标准农田2.5万亩，年底前全部验收；由县水务局牵头做好灌区清淤。",
        "会议决定，成立春耕生产指挥部。",
    )
    items = meeting_items(ps)
    _check_evidence(items, ps)
    by_kind = {i.kind: i for i in items}
    assert by_kind["approved"].subject == "青河县2025年春耕备耕工作方案"
    tasks = [i for i in items if i.kind == "task"]
    assert [(t.owner, t.due) for t in tasks] == [
        ("县农业农村局", "2025-04-10"),
        (None, "2025-12-31"),
        ("县水务局", None),
    ]
    assert "2.5万亩" in tasks[1].figures
    assert any(i.kind == "decision" and "指挥部" in i.quote for i in items)
    assert not any(i.paragraph == 1 for i in items)  # the opening line announces the agenda, it decides nothing


def test_other_ways_reports_approve_and_set_deadlines_are_understood() -> None:
    ps = _paras(
        "v",
        "2025-05-20",
        "会议通过了《城区停车管理办法》，原则同意《老年食堂运营方案》。会议要求，区城管局要在本月底前完成摸排，"
        "三季度末前全部建成；区商务局要在下月底前完成招商。",
    )
    items = meeting_items(ps)
    assert [i.subject for i in items if i.kind == "approved"] == ["城区停车管理办法", "老年食堂运营方案"]
    assert [(i.owner, i.due) for i in items if i.kind == "task"] == [
        ("区城管局", "2025-05-31"),
        (None, "2025-09-30"),
        ("区商务局", "2025-06-30"),
    ]


def test_minutes_action_lines_name_their_owner() -> None:
    ps = _paras(
        "al",
        "2025-04-01",
        "Action: Sam to send the revised budget by 15 April.",
        "Priya will circulate the minutes by the end of the month.",
        "It will rain tomorrow, probably.",
        speakers=("Chair", "Chair", "Chair"),
    )
    items = meeting_items(ps)
    assert [(i.paragraph, i.owner, i.due) for i in items] == [(1, "Sam", "2025-04-15"), (2, "Priya", "2025-04-30")]


def test_traditional_records_match_the_same_markers_and_keep_their_script() -> None:
    ps = _paras("t", "2024-10-08", "會議要求，市交通運輸局要於11月底前完成公交站台改造。")
    (task,) = meeting_items(ps)
    assert (task.kind, task.owner, task.due) == ("task", "市交通運輸局", "2024-11-30")
    assert task.quote == "市交通運輸局要於11月底前完成公交站台改造"


def test_status_dates_ranges_and_past_dates_are_not_deadlines() -> None:
    ps = _paras(
        "s",
        "2024-04-01",
        "会议听取了市住建局的汇报。截至3月底，已完成改造12个。预计5月中旬至6月上旬进入雨季。"
        "改造2000年底前建成的老旧小区40个。",
    )
    items = meeting_items(ps)
    assert [i.kind for i in items] == ["heard"]


def test_everyone_addressees_are_not_owners() -> None:
    ps = _paras("g", "2024-01-02", "会议强调，各级各部门要坚持稳中求进，全市上下要切实扛起责任。")
    items = meeting_items(ps)
    assert [i.kind for i in items] == ["principle"]
    assert items[0].owner is None and items[0].subject.startswith("稳中求进")


def test_transcript_commitments_take_their_owner_from_the_speaker_or_the_person_asked() -> None:
    speakers = ("Maya Chen", "Oliver Brandt", "Maya Chen", "Oliver Brandt", "Maya Chen")
    ps = _paras(
        "tx",
        "2025-06-03",  # a Tuesday
        "Oliver, can you draft the grant letter?",
        "Sure. I'll have it to you by the 12th.",
        "Great. And I'll circulate the minutes by Friday.",
        "Can you hear me?",
        "Yes. We'll go with the smaller venue, that's decided.",
        speakers=speakers,
    )
    items = meeting_items(ps)
    _check_evidence(items, ps)
    commitments = [(i.paragraph, i.owner, i.due) for i in items if i.kind == "commitment"]
    assert commitments == [(2, "Oliver Brandt", "2025-06-12"), (3, "Maya Chen", "2025-06-06")]
    assert [i.paragraph for i in items if i.kind == "decision"] == [5]


def test_a_chinese_speaker_who_takes_a_task_on_is_its_owner() -> None:
    ps = _paras(
        "zt",
        "2025-03-18",  # a Tuesday
        "这个方案还要再改。",
        "好，这个我来负责，周五前把修改稿发给大家。",
        "我们会在4月10日前完成测试。",
        "我负责的就是品牌传播，周四到周日画图。",
        speakers=("李娜", "王磊", "李娜", "王磊"),
    )
    items = meeting_items(ps)
    _check_evidence(items, ps)
    assert [(i.paragraph, i.kind, i.owner, i.due) for i in items] == [
        (2, "commitment", "王磊", "2025-03-21"),
        (3, "commitment", "李娜", "2025-04-10"),
    ]


def test_running_speech_yields_no_owners() -> None:
    ps = _paras(
        "sp",
        "2023-05-10",
        "等到政府主管局要求我们搞线上教学的时候，我们早已经搞起来了。",
        "由于这个信仰使得这个组织不断地自我创新。",
        "全县中小学负责人及工作人员参加了讲座。",
        "每年到年底我们还会评选优秀专利，未来几年内还会增长。",
        speakers=("甲", "乙", "甲", "乙"),  # a transcript: the report markers still run on every turn
    )
    assert meeting_items(ps) == []


def test_prose_that_is_not_a_meeting_record_yields_no_items() -> None:
    article = _paras("wiki", None, "龙烟铁路于2013年11月开工建设，由铁路局负责运营，2015年底前建成。")
    assert meeting_items(article) == []
    # A meeting without a known date: "于<date>" may narrate the past, only "<date>前" is a deadline.
    undated = _paras("m", None, "会议听取了市交通局的汇报。该项目于2013年11月开工建设，要求2015年底前建成。")
    assert [(i.kind, i.due) for i in meeting_items(undated)] == [("heard", None), ("task", "2015-12-31")]


def test_english_due_dates_resolve_against_the_meeting_date() -> None:
    rules = load_rules()
    tuesday = date(2025, 3, 18)
    assert en_due("by Friday", tuesday, rules) == "2025-03-21"
    assert en_due("before the 9th", tuesday, rules) == "2025-04-09"  # the 9th has passed: next month's
    assert en_due("to the June 10th meeting", tuesday, rules) == "2025-06-10"
    assert en_due("first thing tomorrow", tuesday, rules) == "2025-03-19"
    assert en_due("to the September hearing", tuesday, rules) == "September hearing"
    assert en_due("by Friday", None, rules) == "Friday"


# -- the gold list, through the public `items` ---------------------------------------------------------


@needs_dev
def test_items_find_the_gold_approvals_deadlines_and_owned_tasks_with_exact_evidence(dev_engine: Engine) -> None:
    items = dev_engine.items()
    texts = {(sp.meeting_id, sp.paragraph.number): sp.paragraph.text for sp in dev_engine.store.paragraphs()}
    for i in items:
        assert i.quote == texts[(i.meeting_id, i.paragraph)][i.start : i.end]
    result = score(load_gold(GOLD), items, texts)
    assert result.recall >= 0.90, result.missed
    assert result.precision >= 0.90, result.wrong


def test_every_gold_quote_occurs_once_in_its_paragraph() -> None:
    from meeting_qa.loaders import load_text

    files = {p.stem: p for d in (DEV_MEETINGS, DEV_TRANSCRIPTS, SAMPLE.parent) if d.is_dir() for p in d.glob("*.txt")}
    for row in load_gold(GOLD):
        if row["meeting_id"] not in files:
            continue
        meeting = load_text(files[row["meeting_id"]])
        for ev in [row, *row.get("also", [])]:
            assert meeting.paragraphs[ev["paragraph"] - 1].text.count(ev["quote"]) == 1, ev


# -- filters and store changes ---------------------------------------------------------------------------


@needs_dev
def test_filters_select_by_kind_topic_owner_meeting_date_and_due(dev_engine: Engine) -> None:
    approved = dev_engine.items(kind="approved")
    assert approved and all(i.kind == "approved" for i in approved)
    dates = [i.date or "" for i in approved]
    assert dates == sorted(dates, reverse=True)  # newest meeting first
    flood = dev_engine.items(topic="防汛", kind="task")  # simplified topic finds the traditional record too
    assert {"luyuan-party-committee-2024-03-12", "luyuan-flood-control-2024-06-05"} <= {i.meeting_id for i in flood}
    assert all(
        i.owner and "应急管理局" in i.owner.replace("應急管理局", "应急管理局")
        for i in dev_engine.items(owner="應急管理局")
    )
    spring = dev_engine.items(since="2024-02-01", until="2024-03-31")
    assert {i.meeting_id for i in spring} == {
        "wanglan-county-government-2024-02-26",
        "luyuan-party-committee-2024-03-12",
        "wanglan-county-government-2024-03-28",
    }
    due = dev_engine.items(due_after="2024-03-01", due_before="2024-03-31")
    assert due and all("2024-03-01" <= (i.due or "") <= "2024-03-31" for i in due)
    assert dev_engine.items(meeting_ids=["northmoor-speech-lab-weekly-2025-04-03"], owner="Clara")


def test_bad_filters_are_refused_with_the_value_named(sample_engine: Engine) -> None:
    with pytest.raises(InputError, match="'decisions'"):
        sample_engine.items(kind="decisions")
    with pytest.raises(InputError, match="since='March'"):
        sample_engine.items(since="March")


def test_items_follow_the_store_when_meetings_are_added_and_deleted(sample_engine: Engine, tmp_path: Path) -> None:
    assert {i.meeting_id for i in sample_engine.items(kind="approved")} == {"yancheng-party-committee-2022-05-06"}
    extra = tmp_path / "hehua-county-government-2025-01-07.txt"
    extra.write_text(
        "会议审议通过了《荷花县冬季供暖保障方案》。会议要求，县住建局要在1月20日前完成管网巡检。\n", "utf-8"
    )
    sample_engine.ingest([extra])
    tasks = sample_engine.items(kind="task")
    assert [(t.owner, t.due) for t in tasks] == [("县住建局", "2025-01-20")]
    sample_engine.delete("hehua-county-government-2025-01-07")
    assert sample_engine.items(kind="task") == []


# -- series and mentions ---------------------------------------------------------------------------------


@needs_dev
def test_meetings_of_one_body_form_a_series_in_date_order(dev_engine: Engine) -> None:
    series = dev_engine.series_of("wanglan-county-government-2024-03-28")
    assert [m.meeting_id for m in series.meetings] == [
        "wanglan-county-government-2024-02-26",
        "wanglan-county-government-2024-03-28",
    ]
    previous = dev_engine.adjacent_meeting("wanglan-county-government-2024-03-28", -1)
    assert previous is not None and previous.meeting_id == "wanglan-county-government-2024-02-26"
    assert dev_engine.adjacent_meeting("wanglan-county-government-2024-03-28", 1) is None
    # Same city, different bodies: the flood-control HQ is not the party committee's next meeting.
    assert dev_engine.adjacent_meeting("luyuan-party-committee-2024-03-12", 1) is None
    with pytest.raises(InputError, match="no-such-meeting"):
        dev_engine.series_of("no-such-meeting")


@needs_dev
def test_mentions_list_the_meetings_that_discuss_a_topic_newest_first(dev_engine: Engine) -> None:
    found = dev_engine.mentions("养老服务")
    ids = [m.meeting_id for m in found]
    assert ids[:3] == [
        "tingyang-party-committee-2024-08-20",
        "yunping-district-government-2024-05-21",
        "tongxi-city-government-2023-11-07",
    ]
    assert all(m.paragraphs for m in found)


# -- CLI -------------------------------------------------------------------------------------------------


def test_cli_items_prints_json_with_evidence_and_refuses_unknown_kinds(
    sample_engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("meeting_qa.qa.engine_for", lambda settings=None: sample_engine)
    assert cli.main(["items", "--kind", "approved", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["items"]
    assert {r["subject"] for r in rows} == {"我市貫徹落實打算", "“5·18”經貿活動總體工作方案"}
    assert all({"meeting_id", "paragraph", "quote", "start", "end", "kind", "owner", "due"} <= r.keys() for r in rows)
    assert cli.main(["items", "--kind", "bogus"]) == 2
    assert "'bogus'" in capsys.readouterr().err
    assert cli.main(["series", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["series"][0]["meetings"][0]["meeting_id"] == SAMPLE.stem
