"""The reader: its training groups, its windows, how its verdict re-ranks and abstains, and its settings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from meeting_qa.config import Settings
from meeting_qa.errors import ConfigError
from meeting_qa.qa import Engine
from meeting_qa.reader import Judge, ReaderTuning, Verdict, judge_for
from meeting_qa.reader.data import build_groups
from meeting_qa.reader.judge import windows
from tests.conftest import ingest_records
from tests.test_e2e import SHARED_EVAL

RECORDS = {
    "heyuan-party-committee-2024-03-01": [
        "2024年3月1日上午，中共鹤原市委召开常委会会议，研究城市更新工作。市委书记甲乙主持会议。",
        "会议审议通过了《鹤原市桂花巷片区城市更新实施方案》。片区更新总投资约17.5亿元，分三期实施。",
        "会议听取了市民政局关于全市养老服务体系建设情况的汇报。全市已建成社区日间照料中心213个。",
    ],
}


class ScriptedReader:
    """Scores pairs by whether the passage holds a marker string: a stand-in for the trained network."""

    def __init__(self, marker: str, high: float = 3.0, low: float = -3.0) -> None:
        self.marker, self.high, self.low = marker, high, low
        self.calls: list[tuple[str, str]] = []

    def scores(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        self.calls.extend(pairs)
        return np.array([self.high if self.marker in p else self.low for _, p in pairs], dtype=np.float32)


def _squad(path: Path, title: str, context: str, question: str, answer: str) -> None:
    others = ["另一段落讲的是完全不同的事情，没有任何答案。" * 3, "第三段落同样与问题无关，只是凑数的文字。" * 3]
    paragraphs = [
        {
            "context": context,
            "qas": [
                {"id": "q1", "question": question, "answers": [{"text": answer, "answer_start": context.index(answer)}]}
            ],
        },
        *({"context": c, "qas": []} for c in others),
    ]
    path.write_text(
        json.dumps({"data": [{"title": title, "paragraphs": paragraphs}]}, ensure_ascii=False), encoding="utf-8"
    )


def test_a_training_group_pairs_the_answering_passage_with_one_that_lost_its_answer(tmp_path: Path) -> None:
    context = "桂花巷片区位于老城中心，涉及七条街巷和近千户居民。片区更新总投资约17.5亿元。工程分三期实施，今年年底前开工，明年完成一期。"
    _squad(tmp_path / "drcd_dev.json", "桂花巷", context, "片区更新总投资是多少？", "17.5亿元")
    _squad(
        tmp_path / "cmrc2018_trial.json",
        "其他",
        "某地举行会议，研究了防汛工作。会议要求备足物资。",
        "会议研究了什么？",
        "防汛工作",
    )
    (tmp_path / "qmsum_val.jsonl").write_text("", encoding="utf-8")
    groups = [g for g in build_groups(tmp_path, val_share=0.0) if g.source == "drcd"]
    assert len(groups) == 1
    g = groups[0]
    assert "17.5亿元" in g.passages[0]
    assert all("17.5亿元" not in p for p in g.passages[1:])
    # the topic stays in the "detail not given" negative: only the sentence with the value is gone
    assert any("桂花巷" in p and "三期" in p for p in g.passages[1:])


def test_a_long_turn_is_cut_into_windows_at_sentence_ends() -> None:
    text = "甲。" * 50 + "乙。" * 150
    ends = [i + 2 for i in range(0, len(text), 2)]
    parts = windows(text, ends, chars=100)
    assert all(len(p) <= 100 for p in parts)
    assert "".join(parts) == text
    assert windows("短句。", [3]) == ["短句。"]


def test_the_reader_puts_the_passage_it_judges_answering_first(fake_engine: Engine, tmp_path: Path) -> None:
    engine = ingest_records(fake_engine, tmp_path, RECORDS)
    question = "鹤原市委常委会研究了什么？"
    sig = engine.searcher.signals(question)
    cands = engine.searcher.fuse(sig, k=5)
    judge = Judge(ScriptedReader("213个"), ReaderTuning(blend=0.9, abstain="reader", abstain_below=0.5))  # type: ignore[arg-type]
    ranked, verdict = judge.read(sig, cands)
    assert ranked[0].stored.paragraph.number == 3
    assert verdict.probability > 0.9 and not verdict.unanswered
    # no blend: the fused order stays
    judge.tuning = ReaderTuning(blend=0.0)
    assert [c.key for c in judge.read(sig, cands)[0]] == [c.key for c in cands]


def test_the_reader_verdict_decides_abstention_as_its_tuning_says(fake_engine: Engine, tmp_path: Path) -> None:
    engine = ingest_records(fake_engine, tmp_path, RECORDS)
    sig = engine.searcher.signals("桂花巷片区更新总投资多少？")
    cands = engine.searcher.fuse(sig, k=5)
    answerer = engine.answerer
    doubtful = Verdict(0.1, "reader", 0.5)
    assert answerer.answer(sig, cands, verdict=doubtful).abstained
    assert not answerer.answer(sig, cands, verdict=Verdict(0.9, "reader", 0.5)).abstained
    rule = answerer.abstains(sig, cands)
    assert answerer.abstains(sig, cands, Verdict(0.1, "any", 0.5))
    assert answerer.abstains(sig, cands, Verdict(0.1, "all", 0.5)) == rule
    assert not answerer.abstains(sig, cands, Verdict(0.9, "all", 0.5))


def test_the_engine_asks_through_its_judge(fake_engine: Engine, tmp_path: Path) -> None:
    engine = ingest_records(fake_engine, tmp_path, RECORDS)
    reader = ScriptedReader("不存在的标记")
    engine.judge = Judge(reader, ReaderTuning(blend=0.5, abstain="reader", abstain_below=0.5))  # type: ignore[arg-type]
    answer = engine.ask("桂花巷片区更新总投资多少？")
    assert answer.abstained
    assert reader.calls and all(q == "桂花巷片区更新总投资多少？" for q, _ in reader.calls)


def test_reader_none_turns_it_off_and_a_wrong_folder_is_named(tmp_path: Path) -> None:
    assert judge_for(Settings(reader="none", cache_dir=tmp_path)) is None
    with pytest.raises(ConfigError, match="nowhere"):
        judge_for(Settings(reader=str(tmp_path / "nowhere"), cache_dir=tmp_path))
    assert Settings.from_env({"MEETING_QA_READER": "none"}).reader == "none"


def test_the_real_meetings_split_keeps_each_meeting_and_each_question_in_one_half() -> None:
    split = json.loads((Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "real_split.json").read_text())
    fitting, held = set(split["fitting"]), set(split["held_out"])
    assert fitting and held and not fitting & held
    qs_fit, qs_held = set(split["questions"]["fitting"]), set(split["questions"]["held_out"])
    assert not qs_fit & qs_held
    gold_file = SHARED_EVAL / "real_meetings" / "questions.jsonl"
    if not gold_file.exists():
        pytest.skip("../shared/eval/real_meetings is not beside this checkout")
    for line in gold_file.read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        meetings = {g.split("#")[0] for g in q["gold"]}
        half = fitting if q["id"] in qs_fit else held
        assert q["id"] in qs_fit | qs_held
        # a question across meetings has all its meetings in its own half: nothing fitted leaks into the other
        assert meetings <= half, q["id"]


def test_a_chinese_question_is_read_in_the_script_of_the_record(fake_engine: Engine, tmp_path: Path) -> None:
    records = {"luyuan-meeting-2024-03-01": ["會議審議通過了《鷺原市老舊小區改造實施方案》，總投資約三億元。"]}
    engine = ingest_records(fake_engine, tmp_path, records)
    reader = ScriptedReader("改造")
    judge = Judge(reader, ReaderTuning(blend=0.5))  # type: ignore[arg-type]
    sig = engine.searcher.signals("老旧小区改造方案总投资多少？")
    judge.read(sig, engine.searcher.fuse(sig, k=3))
    assert reader.calls and all(q == "老舊小區改造方案總投資多少？" for q, _ in reader.calls)
    # an English question stays as asked: no script to fold it to
    reader.calls.clear()
    sig = engine.searcher.signals("What is the total investment of the renovation plan?")
    judge.read(sig, engine.searcher.fuse(sig, k=3))
    assert all(q == "What is the total investment of the renovation plan?" for q, _ in reader.calls)
