from __future__ import annotations

import re
from pathlib import Path

import pytest

from meeting_qa.config import Settings
from meeting_qa.errors import ConfigError, InputError
from meeting_qa.qa import Engine
from meeting_qa.types import Answer
from tests.conftest import SAMPLE, SAMPLE_ID, FakeEmbeddings


def _check_contract(engine: Engine, answer: Answer) -> None:
    paragraphs = {(p.meeting_id, p.paragraph.number): p.paragraph.text for p in engine.store.paragraphs()}
    for c in answer.citations:
        assert c.quote == paragraphs[(c.meeting_id, c.paragraph)][c.start : c.end]
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", answer.text)]
    assert sorted(set(markers)) == list(range(1, len(answer.citations) + 1))


def test_search_returns_passages_of_the_contract(sample_engine: Engine) -> None:
    passages = sample_engine.search("市委书记徐缨主持", k=3)
    assert len(passages) == 3
    assert passages[0].meeting_id == SAMPLE_ID and passages[0].paragraph == 1
    assert passages[0].text.startswith("5月6日")  # original script, not folded
    assert passages[0].score >= passages[1].score >= passages[2].score


def test_ask_cites_sentences_whose_quotes_are_exact_slices(sample_engine: Engine) -> None:
    answer = sample_engine.ask("谁主持了会议？")
    assert not answer.abstained
    assert answer.citations[0].paragraph == 1
    assert "徐纓" in answer.citations[0].quote
    assert "徐缨" in answer.text  # shown in the question's (simplified) script
    _check_contract(sample_engine, answer)


def test_a_traditional_question_gets_traditional_text(sample_engine: Engine) -> None:
    answer = sample_engine.ask("會議通過了什麼方案？")
    assert answer.citations and answer.citations[0].paragraph == 9
    assert "經貿活動" in answer.text
    _check_contract(sample_engine, answer)


def test_an_empty_store_abstains_in_the_question_language(fake_engine: Engine) -> None:
    answer = fake_engine.ask("谁主持了会议？")
    assert answer.abstained and answer.citations == ()
    assert "没有找到" in answer.text
    assert "don't say" in fake_engine.ask("Who chaired the meeting?").text


def test_meeting_filter_is_applied(sample_engine: Engine) -> None:
    # An unknown id is a typo to report (issue 13), not a filter that silently matches nothing.
    with pytest.raises(InputError, match="unknown meeting id 'no-such-meeting'"):
        sample_engine.search("徐缨", meeting_ids=["no-such-meeting"])
    assert sample_engine.search("徐缨", meeting_ids=[SAMPLE_ID])[0].meeting_id == SAMPLE_ID


@pytest.mark.parametrize("question", ["", "   ", "问" * 3000])
def test_bad_questions_are_refused_with_a_clear_message(sample_engine: Engine, question: str) -> None:
    with pytest.raises(InputError):
        sample_engine.ask(question)


def test_k_must_be_positive(sample_engine: Engine) -> None:
    with pytest.raises(InputError, match="k must be at least 1"):
        sample_engine.search("会议", k=0)


def test_streaming_yields_text_then_the_final_answer(sample_engine: Engine) -> None:
    events = list(sample_engine.ask_stream("谁主持了会议？"))
    assert isinstance(events[-1], Answer)
    assert all(isinstance(e, str) for e in events[:-1]) and events[:-1]


class _PreferParagraph:
    """A stand-in CrossEncoder: scores the pair highest when the paragraph contains a marker string."""

    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.calls = 0

    def predict(self, pairs: list[tuple[str, str]]) -> list[float]:
        self.calls += 1
        return [1.0 if self.marker in text else 0.0 for _, text in pairs]


def test_a_reranker_reorders_the_fused_candidates(settings: Settings) -> None:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False, allow_reset=True))
    client.reset()
    reranker = _PreferParagraph("經貿活動總體工作方案")
    engine = Engine.build(settings, embeddings=FakeEmbeddings(), client=client, reranker=reranker)
    engine.ingest([SAMPLE])
    passages = engine.search("市委书记徐缨主持", k=3)
    assert reranker.calls == 1
    assert passages[0].paragraph == 9  # the reranker's choice, although fusion put ¶1 first


def test_a_bad_reranker_name_is_reported(settings: Settings) -> None:
    from meeting_qa.errors import ModelError
    from meeting_qa.rerank import load_reranker

    with pytest.raises(ModelError, match="/no/such/reranker"):
        load_reranker("/no/such/reranker")


def test_settings_read_the_query_int8_switch_and_refuse_a_bad_value() -> None:
    from meeting_qa.errors import ConfigError

    assert Settings.from_env({}).query_int8 is True
    assert Settings.from_env({"MEETING_QA_QUERY_INT8": "0"}).query_int8 is False
    assert Settings.from_env({"MEETING_QA_QUERY_INT8": "yes"}).query_int8 is True
    with pytest.raises(ConfigError, match="MEETING_QA_QUERY_INT8='maybe'"):
        Settings.from_env({"MEETING_QA_QUERY_INT8": "maybe"})


def test_an_answer_quotes_one_meeting_and_judges_missing_topics_in_that_meeting(
    fake_engine: Engine, tmp_path: Path
) -> None:
    """Two meetings: one on new energy, one on the housing market. Asked about both topics, an answer from
    the energy meeting is not backed by the housing meeting's words: it abstains rather than half-answer."""
    (tmp_path / "energy-2024-01-02.txt").write_text(
        "会议强调,要大力发展新能源产业,推进风电光伏项目建设。\n会议还研究了其他事项。\n", encoding="utf-8"
    )
    (tmp_path / "housing-2024-02-03.txt").write_text(
        "会议指出,要促进房地产市场平稳健康发展。\n会议还研究了其他事项。\n", encoding="utf-8"
    )
    assert fake_engine.ingest([tmp_path]).ok
    both = fake_engine.ask("会议对新能源产业和房地产市场有何安排？", meeting_ids=["energy-2024-01-02"])
    assert both.abstained, both.text
    answer = fake_engine.ask("会议对新能源产业有什么要求？")
    assert not answer.abstained and {c.meeting_id for c in answer.citations} == {"energy-2024-01-02"}


def test_a_record_longer_than_the_limit_is_refused_naming_file_length_and_setting_and_the_rest_ingests(
    fake_engine: Engine, tmp_path: Path
) -> None:
    engine = fake_engine
    object.__setattr__(engine, "settings", engine.settings.with_(max_record_chars=5_000))
    archive = tmp_path / "city-archive-2023-02-21.txt"
    archive.write_text("会议研究了城区停车管理工作，要求各部门抓好落实。\n" * 400, encoding="utf-8")  # 9,600 chars
    short = tmp_path / "short-2023-02-22.txt"
    short.write_text("市政府召开常务会议。\n会议研究了城区停车管理工作。\n", encoding="utf-8")
    report = engine.ingest([archive, short])
    by_path = {Path(f.path).name: f for f in report.files}
    refused = by_path["city-archive-2023-02-21.txt"]
    assert refused.status == "failed"
    assert "city-archive-2023-02-21.txt" in refused.error and "9,600" in refused.error
    assert "5,000" in refused.error and "MEETING_QA_MAX_RECORD_CHARS" in refused.error
    assert by_path["short-2023-02-22.txt"].status == "added"
    assert [m.meeting_id for m in engine.list_meetings()] == ["short-2023-02-22"]
    # The limit off: the same record ingests.
    object.__setattr__(engine, "settings", engine.settings.with_(max_record_chars=0))
    assert engine.ingest([archive]).files[0].status == "added"


def test_the_record_limit_setting_is_read_from_the_environment_and_checked() -> None:
    assert Settings.from_env({"MEETING_QA_MAX_RECORD_CHARS": "2000"}).max_record_chars == 2000
    assert Settings.from_env({}).max_record_chars == 1_000_000
    with pytest.raises(ConfigError, match="MAX_RECORD_CHARS"):
        Settings.from_env({"MEETING_QA_MAX_RECORD_CHARS": "lots"})
