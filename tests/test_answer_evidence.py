"""Which sentence answers, and when a paragraph on the topic still does not: the answer's type and the
question's framing words decide within a paragraph."""

from __future__ import annotations

from pathlib import Path

from meeting_qa.qa import Engine
from meeting_qa.text.tokenize import words_with_parts
from tests.conftest import ingest_records

RECORDS = {
    "heyuan-party-committee-2024-03-01": [
        "2024年3月1日上午，中共鹤原市委召开常委会会议，传达学习省委农村工作会议精神，研究城市更新工作。"
        "市委书记甲乙主持会议。市委副书记、市长丙丁，市委副书记戊己及其他市委常委出席会议。",
        "会议审议通过了《鹤原市桂花巷片区城市更新实施方案》。方案明确，片区更新总投资约17.5亿元，分三期实施。"
        "一期工程范围包括桂花巷等7条街巷，涉及居民约960户，今年年底前开工。",
        "会议听取了市民政局关于全市养老服务体系建设情况的汇报。全市已建成社区日间照料中心213个。",
    ],
    "baihe-county-government-2024-04-10": [
        "2024年4月10日上午，白河县县长庚辛主持召开县政府第8次常务会议，研究防汛和学校建设工作。",
        "会议要求，防汛工作要提前转移低洼地带群众，备足抢险物资。",
    ],
}


def ingest(engine: Engine, tmp_path: Path) -> Engine:
    return ingest_records(engine, tmp_path, RECORDS)


def strength(engine: Engine, question: str) -> float:
    sig = engine.searcher.signals(question)
    return engine.answerer.strength(sig, engine.searcher.fuse(sig, k=5))


def test_a_who_question_is_answered_by_the_sentence_with_its_framing_word(fake_engine: Engine, tmp_path: Path) -> None:
    engine = ingest(fake_engine, tmp_path)
    engine.answerer.profile = engine.answerer.profile.with_(answer={"abstain_below": 0.1})
    answer = engine.ask("鹤原市委3月召开的那次常委会是谁主持的？")
    # The attendance sentence names more of the question's words (市委, 常委) than the chair's; 主持 decides.
    assert "甲乙主持会议" in answer.text, answer.text


def test_a_place_kept_whole_leaves_its_body_word_whole() -> None:
    words = [w for w, _ in words_with_parts("鹤原市委常委会", keep=frozenset({"鹤原市"}))]
    assert words[:2] == ["鹤原市", "市委"]


def test_a_question_for_money_is_not_answered_by_a_count(fake_engine: Engine, tmp_path: Path) -> None:
    engine = ingest(fake_engine, tmp_path)
    q = engine.searcher.signals("鹤原的社区日间照料中心一共投了多少钱？").question
    assert q.kinds == {"money"}
    # The paragraph on day-care centres holds a count (213个), not a sum of money.
    counted = strength(engine, "鹤原的社区日间照料中心建成了多少个？")
    assert strength(engine, "鹤原的社区日间照料中心一共投了多少钱？") < 0.75 * counted


def test_a_sum_for_the_whole_does_not_answer_a_question_about_a_part(fake_engine: Engine, tmp_path: Path) -> None:
    engine = ingest(fake_engine, tmp_path)
    # The record gives the total (17.5亿元) and what phase one covers, but not what phase one costs.
    whole = strength(engine, "鹤原桂花巷片区城市更新总投资多少？")
    part = strength(engine, "鹤原桂花巷片区一期工程投资多少？")
    assert part < 0.8 * whole, (part, whole)


TRANSCRIPT = """Chair: Next, the library roof. Ben, what would the roof repair cost us?
Ben Okafor: Forty thousand pounds, and the contractor can start in June.
Chair: Thank you, Ben.
"""


def test_a_turn_whose_reply_holds_the_answer_is_typed_by_that_reply(fake_engine: Engine, tmp_path: Path) -> None:
    f = tmp_path / "library-board-2025-02-03.txt"
    f.write_text(TRANSCRIPT, encoding="utf-8")
    fake_engine.ingest([f])
    sig = fake_engine.searcher.signals("How much would the library roof repair cost?")
    asking = next(c for c in fake_engine.searcher.fuse(sig, k=5) if c.stored.paragraph.number == 1)
    answerer = fake_engine.answerer

    def strength(factor: float) -> float:
        answerer.profile = answerer.profile.with_(answer={"missing_type_factor": factor})
        return answerer.paragraph_strength(sig, asking)

    # "Ben, what would the roof repair cost us?" holds no sum, the reply after it does: not "missing its type".
    assert strength(0.6) == strength(1.0)


def test_which_meeting_is_never_answered_from_a_reference_text(fake_engine: Engine, tmp_path: Path) -> None:
    engine = ingest(fake_engine, tmp_path)
    reference = tmp_path / "airport.txt"  # no date, no meeting: a reference text in the store
    reference.write_text(
        "鹤原民用机场是一座新建民用机场，新建航站楼一座，可满足年旅客吞吐量50万人次。\n", encoding="utf-8"
    )
    engine.ingest([reference])
    answer = engine.ask("哪次会议研究了新建民用机场的事？")
    assert answer.abstained, answer.text
    # Asked as a question about the text itself, the reference answers.
    assert not engine.ask("鹤原民用机场新建了什么？").abstained


def test_an_agenda_sentence_that_repeats_the_decision_adds_nothing_to_it(fake_engine: Engine, tmp_path: Path) -> None:
    from meeting_qa.answer.extractive import _adds

    engine = ingest_records(
        fake_engine,
        tmp_path,
        {
            "heyuan-party-committee-2024-08-20": [
                "8月20日，中共鹤原市委召开常委会会议，听取招商引资工作汇报，审议《鹤原市数字政府建设三年行动计划》。",
                "会议审议通过了《鹤原市数字政府建设三年行动计划》。",
                "会议听取了数字政府专项资金安排情况的汇报，市财政安排资金2亿元。",
            ],
            "baihe-county-government-2024-04-10": RECORDS["baihe-county-government-2024-04-10"],
        },
    )
    sig = engine.searcher.signals("鹤原搞数字政府，通过了什么规划？")
    scored = engine.answerer.score_sentences(sig, engine.searcher.fuse(sig, k=3))
    by_paragraph = {x.cand.stored.paragraph.number: x for x in scored}
    # The opening's agenda names the same plan: it says nothing of the question the decision does not.
    assert not _adds(sig, by_paragraph[1], [by_paragraph[2]])
    # Asked about the money too, a sentence holding it adds to the decision.
    money = engine.searcher.signals("鹤原数字政府计划通过了吗？安排了多少专项资金？")
    scored = engine.answerer.score_sentences(money, engine.searcher.fuse(money, k=3))
    by_paragraph = {x.cand.stored.paragraph.number: x for x in scored}
    assert _adds(money, by_paragraph[3], [by_paragraph[2]])


def test_each_part_of_a_question_is_answered_by_a_sentence_that_holds_most_of_its_words(
    fake_engine: Engine, tmp_path: Path
) -> None:
    engine = ingest_records(
        fake_engine,
        tmp_path,
        {
            "heyuan-party-committee-2024-08-20": [
                "8月20日，中共鹤原市委召开常委会会议，研究养老服务工作。",
                "会议听取了市民政局关于全市养老服务体系建设情况的汇报。会议要求，年底前新建老年助餐点80个。"
                "截至6月底，全市60岁以上户籍老年人口41.8万人，占户籍总人口的23.6%。",
            ],
            "baihe-county-government-2024-04-10": RECORDS["baihe-county-government-2024-04-10"],
        },
    )
    answerer = engine.answerer
    sig = engine.searcher.signals("鹤原市委常委会听取了哪个部门关于养老服务的汇报？全市老年人口有多少？")
    scored = answerer.score_sentences(sig, engine.searcher.fuse(sig, k=3))
    part = "全市老年人口有多少?"
    concepts = [c for c in sig.concepts if not c.names_meeting and any(a in part for a in c.alternatives)]
    kinds = answerer.profile.question_kinds(part) & answerer.profile.answer_types

    def answers(fragment: str) -> bool:
        x = next(x for x in scored if fragment in x.cand.stored.paragraph.text[x.span.start : x.span.end])
        return answerer._answers_part(x, concepts, kinds)

    # "新建老年助餐点80个" holds a number and 老年, but not the population the second part asks about.
    assert not answers("助餐点")
    assert answers("41.8万人")


def test_a_question_about_a_named_meeting_is_never_answered_from_a_reference_text(
    fake_engine: Engine, tmp_path: Path
) -> None:
    engine = ingest(fake_engine, tmp_path)
    reference = tmp_path / "recycling.txt"  # no date, no meeting: a reference text in the store
    reference.write_text("垃圾分类是将垃圾按可回收物、有害垃圾、厨余垃圾和其他垃圾分别投放的做法。\n", encoding="utf-8")
    engine.ingest([reference])
    engine.answerer.profile = engine.answerer.profile.with_(answer={"abstain_below": 0.0})
    # The reference text matches the question's words far better than the meeting it names.
    weights = {"named_meeting": 0.0, "meeting_coverage": 0.0, "meeting_record": 0.0}
    engine.searcher.profile = engine.searcher.profile.with_(fusion=weights)
    assert engine.search("白河县政府常务会议对垃圾分类有什么部署？", k=1)[0].meeting_id == "recycling"
    named = engine.ask("白河县政府常务会议对垃圾分类有什么部署？")
    assert all(c.meeting_id != "recycling" for c in named.citations), named.text
    # A question that names no meeting may still be answered from the reference text.
    assert any(c.meeting_id == "recycling" for c in engine.ask("垃圾分类是什么做法？").citations)


def test_a_title_line_is_not_the_whole_answer_to_what_a_meeting_did(fake_engine: Engine, tmp_path: Path) -> None:
    engine = ingest_records(
        fake_engine,
        tmp_path,
        {
            "heyuan-city-government-2023-02-26": [
                "市政府召开第37次常务会议研究停车管理",
                "2月26日下午，市长某某主持召开市政府第37次常务会议，研究经济社会发展工作。",
                "会议研究了《城区停车管理办法》。强调，要规范停车秩序，增加停车泊位。",
            ]
        },
    )
    engine.answerer.profile = engine.answerer.profile.with_(answer={"abstain_below": 0.0})
    answer = engine.ask("市政府第37次常务会议研究了什么？")
    assert answer.citations and all(c.paragraph != 1 for c in answer.citations), answer.text


def test_a_dateless_transcript_is_answered_as_a_meeting_not_a_reference_text(
    fake_engine: Engine, tmp_path: Path
) -> None:
    engine = ingest_records(
        fake_engine,
        tmp_path,
        {
            "Bmr023": [
                "Chair: Okay, let's start with the recogniser results.",
                "Dana: The new recogniser cut the word error rate to twelve percent on the far-field channel.",
                "Chair: Great, thanks.",
            ],
            "baihe-county-government-2024-04-10": RECORDS["baihe-county-government-2024-04-10"],
        },
    )
    engine.answerer.profile = engine.answerer.profile.with_(answer={"abstain_below": 0.0})
    answer = engine.ask("What word error rate did the new recogniser reach on the far-field channel?")
    assert not answer.abstained
    assert "reference text" not in answer.text and answer.text.startswith("According to the record of Bmr023")


def test_a_place_only_in_a_pinyin_file_name_names_the_meeting(fake_engine: Engine, tmp_path: Path) -> None:
    engine = ingest_records(
        fake_engine,
        tmp_path,
        {
            "shijiazhuang-party-committee-2023-02-21": [
                "2月21日上午，市委常委会会议召开。市委书记某某主持会议。",
                "会议研究了城区供暖工作。会议要求，要确保群众温暖过冬。",
            ],
            "baihe-county-government-2024-04-10": [
                "2024年4月10日上午，白河县县长庚辛主持召开县政府第8次常务会议，研究供暖和学校建设工作。",
                "会议要求，供暖工作要提前检修管网，确保群众温暖过冬。",
            ],
        },
    )
    engine.answerer.profile = engine.answerer.profile.with_(answer={"abstain_below": 0.0})
    answer = engine.ask("石家庄市委常委会对供暖工作有什么要求？")
    assert answer.citations and answer.citations[0].meeting_id == "shijiazhuang-party-committee-2023-02-21"
    assert "石家庄市委常委会会议（2023-02-21）" in answer.text
    english = engine.ask("What did the Shijiazhuang party standing committee require about heating?")
    assert english.citations and english.citations[0].meeting_id == "shijiazhuang-party-committee-2023-02-21"
    assert "Shijiazhuang Party Standing Committee meeting (2023-02-21)" in english.text
