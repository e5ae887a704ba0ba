from __future__ import annotations

import json
from pathlib import Path

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


def test_search_and_ask_take_date_and_speaker_filters(
    fake_engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "a-2022-03-01.txt").write_text(
        "王主任：预算方案要压缩开支。\n李会计：预算执行率九成。\n", encoding="utf-8"
    )
    (tmp_path / "b-2023-03-01.txt").write_text(
        "赵局长：预算方案向教育倾斜。\n李会计：教育预算增加。\n", encoding="utf-8"
    )
    monkeypatch.setattr("meeting_qa.qa.engine_for", lambda settings=None: fake_engine)
    assert cli.main(["ingest", str(tmp_path)]) == 0
    capsys.readouterr()
    argv = ["search", "预算", "--json", "--since", "2023-01-01", "--speaker", "李会计", "--speaker", "赵局长"]
    assert cli.main(argv) == 0
    passages = json.loads(capsys.readouterr().out)["passages"]
    assert {(p["meeting_id"], p["paragraph"]) for p in passages} == {("b-2023-03-01", 1), ("b-2023-03-01", 2)}
    assert cli.main(["ask", "预算执行率是多少？", "--until", "2022-12-31", "--speaker", "李会计"]) == 0
    assert "[1] a-2022-03-01 ¶2 李会计:" in capsys.readouterr().out


def test_a_bad_filter_value_exits_2_naming_it(
    sample_engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("meeting_qa.qa.engine_for", lambda settings=None: sample_engine)
    assert cli.main(["search", "预算", "--since", "2022-02-30"]) == 2
    assert "2022-02-30" in capsys.readouterr().err
    assert cli.main(["ask", "谁主持了会议？", "--speaker", "李主任"]) == 2
    assert "no speaker '李主任'" in capsys.readouterr().err


def test_the_ingest_report_names_a_legacy_encoding(
    fake_engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "taipei.txt").write_bytes("會議決定：預算照案通過，由財政局執行。\n".encode("big5"))
    monkeypatch.setattr("meeting_qa.qa.engine_for", lambda settings=None: fake_engine)
    assert cli.main(["ingest", str(tmp_path)]) == 0
    assert "taipei.txt  [Big5]" in capsys.readouterr().out
    assert cli.main(["ingest", "--json", str(tmp_path / "taipei.txt")]) == 0
    assert json.loads(capsys.readouterr().out)["files"][0]["encoding"] == "Big5"


def test_chat_answers_follow_ups_one_json_line_each_and_slash_new_starts_over(
    records_engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    from tests.test_conversation import APRIL

    monkeypatch.setattr("meeting_qa.qa.engine_for", lambda settings=None: records_engine)
    lines = [
        "禾溪县4月的常务会议对老旧小区改造有什么调整？",
        "那总投资多少？",
        "",
        "/new",
        "那总投资多少？",
        "问" * 3000,
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    assert cli.main(["chat", "--json"]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(out) == 5
    first, follow, new, fresh, bad = out
    assert first["following"] is None
    assert follow["following"]["meeting_ids"] == [APRIL] and follow["following"]["reason"] == "ellipsis"
    assert follow["answer"].startswith("（接上题：") and follow["citations"][0]["meeting_id"] == APRIL
    assert new == {"new_topic": True}
    assert fresh["following"] is None and not fresh["answer"].startswith("（接上题")
    assert "limit" in bad["error"]


def test_chat_prints_each_answer_with_its_citations(
    records_engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    from tests.test_conversation import APRIL

    monkeypatch.setattr("meeting_qa.qa.engine_for", lambda settings=None: records_engine)
    monkeypatch.setattr(
        "sys.stdin", io.StringIO("禾溪县4月的常务会议对老旧小区改造有什么调整？\n那总投资多少？\n/quit\n谁牵头？\n")
    )
    assert cli.main(["chat"]) == 0
    out = capsys.readouterr().out
    assert "（接上题：" in out and f"[1] {APRIL} ¶2" in out
    assert "谁牵头" not in out  # /quit ended the conversation
