"""Follow-up questions: detection and resolution over composed records (fake embeddings, real Chroma)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meeting_qa.config import Settings
from meeting_qa.conversation import Conversation, Focus
from meeting_qa.embeddings import SentenceEmbeddings
from meeting_qa.qa import Engine
from tests.conftest import REAL_CACHE, ingest_records

MARCH = "hexi-county-government-2024-03-01"
APRIL = "hexi-county-government-2024-04-02"
QINGSHAN = "qingshan-city-party-committee-2024-05-10"
LIAISON = "liaison-meeting-2024-06-01"
RECORDS = {
    MARCH: [
        "2024年3月1日上午，禾溪县县长郑明主持召开县政府第5次常务会议，研究老旧小区改造、防汛备汛等工作。",
        "会议审议通过《禾溪县老旧小区改造实施方案》。今年计划改造老旧小区12个，总投资3.6亿元，由县住建局牵头，6月底前全部开工。",
        "会议强调，要做好防汛备汛工作，县水利局要在4月15日前完成小型水库隐患排查。",
    ],
    APRIL: [
        "2024年4月2日上午，禾溪县县长郑明主持召开县政府第6次常务会议，研究老旧小区改造推进和养老服务工作。",
        "会议指出，老旧小区改造进度滞后，总投资调整为4.1亿元，开工时间推迟到7月底，由县住建局牵头。",
        "会议审议通过《禾溪县社区养老服务设施建设方案》，新建社区养老服务站8个，由县民政局负责。",
    ],
    QINGSHAN: [
        "2024年5月10日，中共青山市委召开常委会会议，市委书记林涛主持。",
        "会议听取了全市电梯安全专项整治情况汇报。全市有老旧电梯320台，要在9月30日前完成安全评估，由市市场监管局牵头。",
        "会议要求，加强校园食品安全监管，学校食堂要在年底前实现明厨亮灶全覆盖。",
    ],
    LIAISON: [
        "王主任：今天讨论社区数据开放平台的建设。",
        "李科长：平台的数据接口我们计划在八月上线，先开放公交到站数据。",
        "王主任：好，那公交到站数据的更新频率要做到每分钟一次。",
        "李科长：还有一点，平台的隐私审查由法务处负责。",
    ],
}


@pytest.fixture
def engine(records_engine: Engine) -> Engine:
    return records_engine


def talk(engine: Engine, *questions: str) -> Conversation:
    conversation = Conversation()
    for q in questions:
        conversation.ask(q, engine)
    return conversation


def test_the_first_question_of_a_conversation_is_answered_exactly_as_a_standalone_question(engine: Engine) -> None:
    question = "禾溪县4月的常务会议对老旧小区改造有什么调整？"
    alone = engine.ask(question)
    answered = Conversation().ask(question, engine)
    assert answered == alone
    assert Conversation().resolve(question, engine).reason == "first"


def test_a_question_without_a_topic_of_its_own_inherits_the_meeting_and_the_topic(engine: Engine) -> None:
    conversation = talk(engine, "禾溪县4月的常务会议对老旧小区改造有什么调整？")
    assert conversation.focus is not None and conversation.focus.meeting_ids == (APRIL,)
    res = conversation.resolve("谁牵头？", engine)
    assert res.inherited and res.reason == "no topic"
    assert res.meeting_ids == (APRIL,)
    assert res.text.startswith("谁牵头？") and "老旧小区改造" in res.text  # the user's words, then the topic


def test_an_ellipsis_with_an_aspect_of_the_topic_keeps_the_topic(engine: Engine) -> None:
    conversation = talk(engine, "禾溪县4月的常务会议对老旧小区改造有什么调整？")
    res = conversation.resolve("那总投资多少？", engine)
    assert (res.inherited, res.reason, res.meeting_ids) == (True, "ellipsis", (APRIL,))
    assert "老旧小区改造" in res.text


def test_an_ellipsis_naming_another_subject_of_the_same_meeting_drops_the_old_topic(engine: Engine) -> None:
    conversation = talk(engine, "禾溪县4月的常务会议对老旧小区改造有什么调整？")
    res = conversation.resolve("那养老服务站建几个？", engine)
    assert res.inherited and res.meeting_ids == (APRIL,)
    assert "老旧小区" not in res.text
    answer = conversation.ask("那养老服务站建几个？", engine)
    assert "8个" in answer.text and answer.citations[0].meeting_id == APRIL


def test_an_anaphor_inherits_the_meeting_and_topic(engine: Engine) -> None:
    conversation = talk(engine, "禾溪县4月的常务会议对老旧小区改造有什么调整？")
    res = conversation.resolve("该项目什么时候开工？", engine)
    assert (res.inherited, res.reason, res.meeting_ids) == (True, "anaphor", (APRIL,))


def test_a_word_that_only_contains_an_anaphor_character_is_no_anaphor(engine: Engine) -> None:
    conversation = talk(engine, "禾溪县4月的常务会议对老旧小区改造有什么调整？")
    res = conversation.resolve("电梯安全评估应该什么时候完成？", engine)  # 应该 holds 该
    assert not res.inherited and res.reason == "own topic"


def test_a_question_with_its_own_topic_starts_fresh(engine: Engine) -> None:
    conversation = talk(engine, "禾溪县4月的常务会议对老旧小区改造有什么调整？")
    res = conversation.resolve("老旧电梯安全评估要在什么时候前完成？", engine)
    assert not res.inherited and res.meeting_ids is None and res.reason == "own topic"
    answer = conversation.ask("老旧电梯安全评估要在什么时候前完成？", engine)
    assert not answer.text.startswith("（") and answer.citations[0].meeting_id == QINGSHAN


def test_a_question_naming_another_meeting_starts_fresh_even_with_an_anaphor(engine: Engine) -> None:
    conversation = talk(engine, "禾溪县4月的常务会议对老旧小区改造有什么调整？")
    res = conversation.resolve("青山市委常委会对这个有什么要求？", engine)
    assert not res.inherited and res.reason == "other meeting"


def test_an_anaphor_whose_topic_the_meeting_in_focus_never_mentions_starts_fresh(engine: Engine) -> None:
    conversation = talk(engine, "禾溪县4月的常务会议对老旧小区改造有什么调整？")
    res = conversation.resolve("明厨亮灶那个要求什么时候全覆盖？", engine)
    assert not res.inherited and res.reason == "own topic"


def test_the_meeting_before_is_the_previous_meeting_of_the_series_with_the_topic(engine: Engine) -> None:
    conversation = talk(engine, "禾溪县4月的常务会议对老旧小区改造有什么调整？")
    res = conversation.resolve("上一次会议是怎么定的？", engine)
    assert (res.inherited, res.reason, res.meeting_ids) == (True, "previous", (MARCH,))
    assert "老旧小区改造" in res.text
    answer = conversation.ask("上一次会议是怎么定的？", engine)
    assert answer.text.startswith("（上一次会议：") and "2024-03-01" in answer.text.split("）")[0]
    assert {c.meeting_id for c in answer.citations} == {MARCH}
    assert conversation.focus is not None and conversation.focus.meeting_ids == (MARCH,)


def test_the_first_meeting_of_a_series_has_no_meeting_before(engine: Engine) -> None:
    conversation = talk(engine, "禾溪县3月的常务会议对防汛备汛有什么要求？")
    res = conversation.resolve("上一次会议是怎么定的？", engine)
    assert not res.inherited and res.reason == "no previous meeting"


def test_the_answer_opens_with_what_it_carried_over_and_its_markers_still_cite(engine: Engine) -> None:
    conversation = talk(engine, "禾溪县4月的常务会议对老旧小区改造有什么调整？")
    answer = conversation.ask("那总投资多少？", engine)
    assert conversation.last is not None
    note = conversation.last.note
    assert note.startswith("（接上题：") and "2024-04-02" in note and "老旧小区改造" in note
    assert answer.text.startswith(note)
    body = answer.text[len(note) :]
    assert "4.1亿元" in body and "[1]" in body
    assert answer.citations[0].meeting_id == APRIL


def test_the_note_follows_the_script_and_language_of_the_follow_up(engine: Engine) -> None:
    conversation = talk(engine, "禾溪县4月的常务会议对老旧小区改造有什么调整？")
    assert conversation.resolve("那總投資多少？", engine).note.startswith("（接上題：")
    english = conversation.resolve("What about the deadline?", engine)
    assert english.inherited and english.note.startswith("(following on: ")
    assert english.text.isascii()  # Chinese topic words would turn the question (and its answer) Chinese


def test_attendance_follow_ups_take_the_meeting_but_not_its_topic(engine: Engine) -> None:
    conversation = talk(engine, "禾溪县4月的常务会议对老旧小区改造有什么调整？")
    res = conversation.resolve("谁主持的？", engine)
    assert res.inherited and res.meeting_ids == (APRIL,) and res.text == "谁主持的？"


def test_a_personal_pronoun_follows_the_transcript_speaker_in_focus(engine: Engine) -> None:
    conversation = talk(engine, "李科长说平台的数据接口计划什么时候上线？")
    assert conversation.focus is not None and conversation.focus.speaker == "李科长"
    res = conversation.resolve("他还说了什么？", engine)
    assert res.inherited and res.speakers == ("李科长",) and res.meeting_ids == (LIAISON,)
    answer = conversation.ask("他还说了什么？", engine)
    assert all(c.speaker == "李科长" for c in answer.citations)


def test_the_conversation_is_plain_data_that_round_trips_through_json_and_resets(engine: Engine) -> None:
    conversation = talk(engine, "禾溪县4月的常务会议对老旧小区改造有什么调整？", "那总投资多少？")
    data = json.loads(conversation.to_json())
    assert data["focus"]["meeting_ids"] == [APRIL]
    assert [t["reason"] for t in data["turns"]] == ["first", "ellipsis"]
    again = Conversation.from_json(conversation.to_json())
    assert again.focus == conversation.focus
    assert again.resolve("谁牵头？", engine) == conversation.resolve("谁牵头？", engine)
    again.reset()
    assert again.focus is None and again.resolve("谁牵头？", engine).reason == "first"


def test_a_broken_conversation_state_is_refused_naming_what_is_wrong() -> None:
    from meeting_qa.errors import InputError

    with pytest.raises(InputError, match="not valid JSON"):
        Conversation.from_json("{")
    with pytest.raises(InputError, match="focus"):
        Conversation.from_dict({"focus": "鹭原"})


def test_a_replayed_history_of_questions_sets_the_focus_they_name(engine: Engine) -> None:
    conversation = Conversation.replay(["禾溪县4月的常务会议对老旧小区改造有什么调整？", "  "], engine)
    assert conversation.focus is not None and conversation.focus.meeting_ids == (APRIL,)
    assert conversation.resolve("谁牵头？", engine).meeting_ids == (APRIL,)


def test_a_rewriter_may_resolve_the_follow_up_but_not_move_it_to_another_meeting(engine: Engine) -> None:
    seen: list[Focus] = []

    def rewriter(question: str, focus: Focus) -> str:
        seen.append(focus)
        return "禾溪县4月的常务会议上老旧小区改造的总投资是多少？"

    conversation = talk(engine, "禾溪县4月的常务会议对老旧小区改造有什么调整？")
    conversation.rewriter = rewriter
    conversation.ask("那总投资多少？", engine)
    assert conversation.last is not None and conversation.last.text.startswith("禾溪县4月")
    assert seen and seen[0].meeting_ids == (APRIL,)

    conversation = talk(engine, "禾溪县4月的常务会议对老旧小区改造有什么调整？")
    conversation.rewriter = lambda q, f: "青山市委常委会的电梯安全评估什么时候完成？"
    conversation.ask("那总投资多少？", engine)
    assert conversation.last is not None and conversation.last.text.startswith("那总投资多少？")
    conversation.rewriter = lambda q, f: "What was the total investment?"  # not the user's language
    conversation.ask("那总投资多少？", engine)
    assert conversation.last is not None and conversation.last.text.startswith("那总投资多少？")


def test_the_users_own_meeting_filter_wins_over_the_conversation(engine: Engine) -> None:
    conversation = talk(engine, "禾溪县4月的常务会议对老旧小区改造有什么调整？")
    answer = conversation.ask("谁牵头？", engine, meeting_ids=[MARCH])
    assert {c.meeting_id for c in answer.citations} <= {MARCH}


@pytest.mark.e2e
def test_a_conversation_through_the_real_model_follows_up_goes_back_a_meeting_and_starts_fresh(
    real_embeddings: SentenceEmbeddings, tmp_path: Path
) -> None:
    engine = Engine.build(Settings(store_dir=tmp_path / "store", cache_dir=REAL_CACHE), embeddings=real_embeddings)
    (tmp_path / "records").mkdir()
    ingest_records(engine, tmp_path / "records", RECORDS)
    conversation = Conversation()
    first = conversation.ask("禾溪县4月的常务会议对老旧小区改造有什么调整？", engine)
    assert first.citations and first.citations[0].meeting_id == APRIL
    second = conversation.ask("那总投资多少？", engine)
    assert second.text.startswith("（接上题：") and "4.1亿元" in second.text
    third = conversation.ask("上一次会议是怎么定的？", engine)
    assert third.text.startswith("（上一次会议：") and {c.meeting_id for c in third.citations} == {MARCH}
    english = conversation.ask("Who leads it?", engine)
    assert english.text.startswith("(following on: ") and english.citations[0].meeting_id == MARCH
    assert "住建局" in english.text
    fresh = conversation.ask("老旧电梯安全评估要在什么时候前完成？", engine)
    assert not fresh.text.startswith("（") and fresh.citations[0].meeting_id == QINGSHAN


def test_with_an_llm_backend_the_model_rewrites_the_follow_up_and_the_rules_still_choose_the_meeting(
    engine: Engine,
) -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from meeting_qa.conversation import llm_rewriter

    engine.chat_model = FakeListChatModel(responses=["禾溪县4月的常务会议上老旧小区改造的总投资是多少？\n（说明）"])
    conversation = Conversation()
    conversation.focus = Focus((APRIL,), ("禾溪县政府第6次常务会议（2024-04-02）",), (("老旧小区改造",),), None, "…")
    res = conversation.resolve("那总投资多少？", engine)
    rewrite = llm_rewriter(engine.chat_model)
    assert rewrite("那总投资多少？", conversation.focus) == "禾溪县4月的常务会议上老旧小区改造的总投资是多少？"

    class Down:
        def invoke(self, text: str) -> str:
            raise ConnectionError("backend down")

    assert llm_rewriter(Down())("那总投资多少？", conversation.focus) is None
    engine.chat_model = FakeListChatModel(responses=["禾溪县4月的常务会议上老旧小区改造的总投资是多少？"])
    checked = conversation._checked_rewrite(res, "禾溪县4月的常务会议上老旧小区改造的总投资是多少？", engine)
    assert checked.text.startswith("禾溪县4月") and checked.meeting_ids == (APRIL,)


def test_a_meeting_deleted_since_it_was_in_focus_leaves_the_conversation(engine: Engine) -> None:
    conversation = talk(engine, "禾溪县4月的常务会议对老旧小区改造有什么调整？")
    assert engine.delete(APRIL)
    res = conversation.resolve("那总投资多少？", engine)
    assert not res.inherited and res.meeting_ids is None
    conversation.ask("那总投资多少？", engine)  # no "unknown meeting id" error


def test_the_conversation_benchmark_set_has_the_shape_the_issue_asks_and_every_gold_resolves() -> None:
    # benchmarks/conversation.py scores each last turn by the shared question it names (`from`) and, where the
    # last turn asks one of that question's two things, only the key groups it asks (`key_groups`).
    import json

    from tests.conftest import ROOT, SHARED

    sources = {}
    for name in ("dev_meetings", "real_meetings"):
        for line in (SHARED / "eval" / name / "questions.jsonl").read_text(encoding="utf-8").splitlines():
            obj = json.loads(line)
            sources[f"{name}/{obj['id']}"] = obj
    convs = [
        json.loads(x) for x in (ROOT / "benchmarks/data/conversations.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert len(convs) >= 60 and sum(1 for c in convs if not c["inherit"]) >= 15
    assert {len(c["turns"]) for c in convs} == {2, 3}
    assert {c["lang"] for c in convs} == {"zh-Hans", "zh-Hant", "en"}
    for c in convs:
        source = sources[c["from"]]
        groups = c.get("key_groups", range(len(source["keys"])))
        assert groups and all(0 <= i < len(source["keys"]) for i in groups), c["id"]
        # A narrowed conversation keeps its first standalone form, and its new one is not the source question;
        # a follow-up's standalone form spells out what the follow-up leaves to the conversation.
        assert ("key_groups" in c) == ("standalone_was" in c), c["id"]
        assert not c["inherit"] or c["standalone"] != c["turns"][-1], c["id"]
        if "key_groups" in c:
            assert c["standalone_was"] == source["q"] != c["standalone"], c["id"]
