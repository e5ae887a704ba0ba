"""Answers across meetings: every meeting with strong evidence, latest first, and only the meetings named."""

from __future__ import annotations

from pathlib import Path

from meeting_qa.qa import Engine
from tests.conftest import ingest_records

RECORDS = {
    "heyuan-party-committee-2024-03-01": [
        "2024年3月1日，中共鹤原市委召开常委会会议，研究防汛和招商引资工作。市委书记甲乙主持会议。",
        "会议听取了市水利局关于防汛备汛工作的汇报。会议要求，防汛工作要在5月底前完成堤防加固。",
        "会议强调，招商引资要聚焦主导产业，年内签约亿元以上项目20个。",
    ],
    "heyuan-flood-control-2024-06-05": [
        "2024年6月5日下午，鹤原市防汛抗旱指挥部召开全市防汛工作专题会议。副市长丙丁主持会议。",
        "会议要求，防汛工作要落实水库安全度汛责任，6月15日前完成险工险段处置。",
    ],
    "baihe-county-government-2024-04-10": [
        "2024年4月10日上午，白河县县长戊己主持召开县政府第8次常务会议，研究防汛和学校建设工作。",
        "会议要求，防汛工作要提前转移低洼地带群众，备足抢险物资。",
    ],
}


def ingest(engine: Engine, tmp_path: Path) -> Engine:
    ingest_records(engine, tmp_path, RECORDS)
    # Fake embeddings carry no meaning, so the evidence strength is lexical only: the threshold is lowered
    # to test the grouping, not the abstention (tests/test_e2e.py checks that with the real model).
    answerer = engine.answerer
    answerer.profile = answerer.profile.with_(answer={"abstain_below": 0.1})
    return engine


def test_a_question_across_the_meetings_of_one_place_cites_each_of_them_latest_first(
    fake_engine: Engine, tmp_path: Path
) -> None:
    engine = ingest(fake_engine, tmp_path)
    # Any meeting with evidence as strong would be quoted, however it ranks: only naming 鹤原 keeps 白河 out.
    answerer = engine.answerer
    answerer.profile = answerer.profile.with_(answer={"other_meeting_score": 0.0})
    answer = engine.ask("鹤原市历次会议对防汛提出了哪些要求？")
    cited = [c.meeting_id for c in answer.citations]
    assert set(cited) == {"heyuan-party-committee-2024-03-01", "heyuan-flood-control-2024-06-05"}
    assert cited[0] == "heyuan-flood-control-2024-06-05"  # latest first
    assert "baihe-county-government-2024-04-10" not in cited  # another place's meeting is not one of 鹤原's


def test_which_meetings_without_a_place_covers_every_meeting_with_evidence(fake_engine: Engine, tmp_path: Path) -> None:
    engine = ingest(fake_engine, tmp_path)
    answer = engine.ask("哪些会议对防汛工作提出了要求？")
    assert {c.meeting_id for c in answer.citations} == set(RECORDS)


def test_a_question_turn_is_quoted_with_the_reply_that_answers_it(fake_engine: Engine, tmp_path: Path) -> None:
    f = tmp_path / "lab-weekly-2025-04-03.txt"
    f.write_text(
        "Ruth Calder: Ben, when can you rerun the far-field evaluation with the fixed segmentation?\n"
        "Ben Okoro: Tuesday the 8th. I'll post the numbers in the channel.\n"
        "Ruth Calder: Lovely. Next item, the workshop paper.\n",
        encoding="utf-8",
    )
    fake_engine.ingest([f])
    fake_engine.answerer.profile = fake_engine.answerer.profile.with_(answer={"abstain_below_transcript": 0.1})
    answer = fake_engine.ask("When will the far-field evaluation be rerun with the fixed segmentation?")
    assert [c.paragraph for c in answer.citations][:2] == [1, 2]
    assert "Tuesday the 8th." in answer.text


def test_a_meeting_that_holds_only_a_part_of_the_topic_is_not_one_of_the_answers(
    fake_engine: Engine, tmp_path: Path
) -> None:
    engine = ingest_records(
        fake_engine,
        tmp_path,
        {
            "qinghe-market-regulation-2024-09-10": [
                "9月10日，青河县市场监督管理局召开党组会议，研究部署食品安全工作。",
                "会议要求，要加强校园食品安全监管，开学前完成全部学校食堂检查。",
            ],
            "qinghe-county-government-2024-02-26": [
                "2月26日，青河县县长甲乙主持召开县政府第3次常务会议，研究部署安全生产工作。",
                "会议部署了安全生产工作，要求开展安全生产大检查。",
            ],
        },
    )
    answerer = engine.answerer
    # Any meeting with evidence as strong would be quoted, however it ranks: the test is of the topic.
    answerer.profile = answerer.profile.with_(answer={"abstain_below": 0.0, "other_meeting_score": 0.0})
    answer = engine.ask("哪些会议部署了食品安全工作？")
    cited = {c.meeting_id for c in answer.citations}
    # 安全生产 holds 安全, a part of 食品安全: work safety is not food safety.
    assert cited == {"qinghe-market-regulation-2024-09-10"}, answer.text
