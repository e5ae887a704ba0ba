from __future__ import annotations

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from meeting_qa import cli
from meeting_qa.qa import Engine


def test_only_the_verified_llm_answer_reaches_stdout(
    sample_engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sample_engine.chat_model = FakeListChatModel(responses=["HACKED"])
    monkeypatch.setattr("meeting_qa.qa.engine_for", lambda settings=None: sample_engine)
    monkeypatch.setenv("MEETING_QA_LLM", "openai")
    assert cli.main(["ask", "谁主持了会议？"]) == 0
    out, err = capsys.readouterr()
    assert "HACKED" not in out  # the unverified draft went to stderr only
    assert "徐缨" in out and "[1]" in out
    assert "HACKED" in err


def test_the_extractive_answer_prints_once_with_its_citations(
    sample_engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("meeting_qa.qa.engine_for", lambda settings=None: sample_engine)
    assert cli.main(["ask", "谁主持了会议？"]) == 0
    out = capsys.readouterr().out
    assert out.count("市委书记徐缨主持") == 1
    assert "[1] yancheng-party-committee-2022-05-06 ¶1: 市委書記徐纓主持。" in out
