"""The web chat's plain-Python handlers (`meeting_qa.web.chat`), its HTML, and the gradio wiring."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from meeting_qa.config import Settings
from meeting_qa.errors import ConfigError
from meeting_qa.qa import Engine
from meeting_qa.types import Answer, Citation, MeetingInfo, Passage
from meeting_qa.web import chat, render
from meeting_qa.web.chat import Turn, respond
from tests.conftest import SAMPLE, SAMPLE_ID, free_port

XSS = "<script>alert(1)</script> <img src=x onerror=alert(1)>"


def final(engine: Any, message: str, **kwargs: Any) -> tuple[list[dict[str, Any]], list[Turn]]:
    *_, last = respond(message, [], engine=engine, **kwargs)
    return last


def content(message: dict[str, Any]) -> str:
    return str(message["content"])


class ScriptedEngine:
    """Stands in for `Engine` where a test needs an exact answer (streamed chunks, abstention, markup)."""

    def __init__(self, *events: str | Answer, meetings: Sequence[MeetingInfo] = ()) -> None:
        self.events = events
        self.meetings = list(meetings)
        self.asked: list[tuple[str, Any]] = []

    def ask_stream(self, question: str, *, meeting_ids: Any = None, **filters: Any) -> Iterator[str | Answer]:
        self.asked.append((question, meeting_ids))
        yield from self.events

    def list_meetings(self) -> list[MeetingInfo]:
        return self.meetings


def cite(paragraph: int = 1, quote: str = "q", meeting_id: str = "m1") -> Citation:
    return Citation(meeting_id, paragraph, quote, 0, len(quote), 0.9)


# -- respond ------------------------------------------------------------------------------------------


def test_respond_shows_the_question_and_a_searching_placeholder_before_the_answer(sample_engine: Engine) -> None:
    steps = list(respond("谁主持了会议？", [], engine=sample_engine))
    first_history, first_turns = steps[0]
    assert [m["role"] for m in first_history] == ["user", "assistant"]
    assert content(first_history[0]) == "谁主持了会议？"
    assert "Searching" in content(first_history[1])
    assert first_turns == []


def test_respond_ends_with_the_answer_and_a_clickable_chip_per_citation(sample_engine: Engine) -> None:
    history, turns = final(sample_engine, "谁主持了会议？")
    answer = content(history[-1])
    assert "徐" in answer
    assert 'class="mqa-cite mqa-ref-0-c1"' in answer
    assert len(turns) == 1 and turns[0].answer is not None
    assert turns[0].answer.citations[0].paragraph == 1
    assert SAMPLE_ID in turns[0].index


def test_respond_keeps_the_conversation_and_numbers_chips_by_turn(sample_engine: Engine) -> None:
    history, turns = final(sample_engine, "谁主持了会议？")
    *_, (history, turns) = respond("会议研究通过了什么方案？", history, turns, engine=sample_engine)
    assert [m["role"] for m in history] == ["user", "assistant", "user", "assistant"]
    assert len(turns) == 2
    assert "mqa-ref-1-c1" in content(history[-1])
    assert "mqa-ref-0-c1" in content(history[1])


def test_respond_streams_the_text_as_it_arrives() -> None:
    engine = ScriptedEngine("会议", "决定", "了。[1]", Answer("会议决定了。[1]", False, (cite(),)))
    steps = list(respond("会议决定了什么？", [], engine=engine))  # type: ignore[arg-type]
    streamed = [content(h[-1]) for h, _ in steps[1:-1]]
    assert [s.split("<span")[0] for s in streamed] == ["会议决定", "会议决定了。&#91;1&#93;"]
    assert all("mqa-caret" in s for s in streamed)
    assert "mqa-ref-0-c1" in content(steps[-1][0][-1])


def test_a_one_piece_answer_goes_straight_from_searching_to_the_final_answer() -> None:
    engine = ScriptedEngine("会议决定了。[1]", Answer("会议决定了。[1]", False, (cite(),)))
    steps = list(respond("会议决定了什么？", [], engine=engine))  # type: ignore[arg-type]
    assert len(steps) == 2
    assert "Searching" in content(steps[0][0][-1]) and "mqa-ref-0-c1" in content(steps[1][0][-1])


def test_without_a_placeholder_the_question_arrives_with_its_answer(sample_engine: Engine) -> None:
    steps = list(respond("谁主持了会议？", [], engine=sample_engine, placeholder=False))
    assert len(steps) == 1
    history, turns = steps[0]
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert "mqa-ref-0-c1" in content(history[1]) and len(turns) == 1


def test_respond_ignores_an_empty_message(sample_engine: Engine) -> None:
    assert list(respond("   ", [], engine=sample_engine)) == [([], [])]


def test_respond_passes_the_chosen_meetings_to_the_engine() -> None:
    engine = ScriptedEngine(Answer("x", True))
    final(engine, "问题", meeting_ids=["a", "b"])
    final(engine, "问题", meeting_ids=[])
    assert engine.asked == [("问题", ("a", "b")), ("问题", None)]


def test_respond_answers_only_from_the_chosen_meetings(sample_engine: Engine, tmp_path: Path) -> None:
    other = tmp_path / "budget-review-2023-03-01.txt"
    other.write_text("会议由财务处长王明主持。\n\n会议审议了年度预算。\n", encoding="utf-8")
    sample_engine.ingest([other])
    _, turns = final(sample_engine, "谁主持了会议？", meeting_ids=["budget-review-2023-03-01"])
    answer = turns[0].answer
    assert answer is not None and answer.citations
    assert {c.meeting_id for c in answer.citations} == {"budget-review-2023-03-01"}


def test_respond_answers_only_from_the_chosen_dates_and_speakers(fake_engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "a-2022-03-01.txt").write_text(
        "王主任：预算方案要压缩开支。\n李会计：预算执行率九成。\n", encoding="utf-8"
    )
    (tmp_path / "b-2023-03-01.txt").write_text(
        "赵局长：预算方案向教育倾斜。\n李会计：预算执行率八成。\n", encoding="utf-8"
    )
    fake_engine.ingest([tmp_path])
    assert chat.speaker_choices(fake_engine.list_meetings()) == ["王主任", "李会计", "赵局长"]
    narrow = chat.Narrow.of(" 2023-01-01 ", "", ["李会计"])
    *_, (_, turns) = respond("预算执行率是多少？", [], [], None, engine=fake_engine, narrow=narrow)
    answer = turns[-1].answer
    assert answer is not None and answer.citations
    assert {(c.meeting_id, c.paragraph) for c in answer.citations} == {("b-2023-03-01", 2)}


def test_a_bad_date_in_the_filters_ends_in_an_error_notice_naming_it(sample_engine: Engine) -> None:
    *_, (history, turns) = respond(
        "谁主持了会议？", [], [], None, engine=sample_engine, narrow=chat.Narrow.of("2022-02-30")
    )
    assert turns[-1].answer is None and "2022-02-30" in (turns[-1].error or "")
    assert "2022-02-30" in history[-1]["content"]


def test_an_abstention_reads_not_in_the_records_with_chips_for_the_related_passages(sample_engine: Engine) -> None:
    history, turns = final(sample_engine, "What is the capital of France?")
    answer = turns[0].answer
    assert answer is not None and answer.abstained and answer.related
    html = content(history[-1])
    assert "Not in the records" in html and "mqa-abstain" in html
    assert "mqa-ref-0-r1" in html
    assert "mqa-ref-0-c" not in html


def test_with_no_meetings_loaded_the_answer_says_to_upload_some(fake_engine: Engine) -> None:
    history, turns = final(fake_engine, "谁主持了会议？")
    assert turns[0].answer is not None and turns[0].answer.abstained
    assert "No meetings yet" in content(history[-1])


def test_a_too_long_question_ends_in_an_error_notice_not_an_exception(sample_engine: Engine) -> None:
    history, turns = final(sample_engine, "问" * 5000)
    assert "mqa-error" in content(history[-1])
    assert "limit" in content(history[-1])
    assert turns[0].answer is None and turns[0].error


def test_a_backend_crash_ends_in_an_error_notice() -> None:
    class Broken(ScriptedEngine):
        def ask_stream(self, question: str, *, meeting_ids: Any = None, **filters: Any) -> Iterator[str | Answer]:
            raise RuntimeError("boom")
            yield ""

    history, turns = final(Broken(), "问题")
    assert "internal error" in content(history[-1])
    assert turns[0].answer is None


# -- text is always text --------------------------------------------------------------------------------


def test_questions_and_answers_with_markup_render_literally() -> None:
    engine = ScriptedEngine(Answer(f"记录写着 {XSS} **粗体** $x$ [1]", False, (cite(quote=XSS),)))
    history, _ = final(engine, f"问 {XSS} `code` # h")
    for message in history:
        html = content(message)
        assert "<script" not in html and "<img" not in html
        assert "**" not in html and "$" not in html and "`" not in html
    assert "&#60;script&#62;alert(1)&#60;/script&#62;" in content(history[0])
    assert "&#60;img src=x onerror=alert(1)&#62;" in content(history[-1])


def test_text_html_escapes_every_character_that_could_become_markup() -> None:
    assert render.text_html("a<b>&\"'\nc") == "a&#60;b&#62;&#38;&#34;&#39;<br>c"
    assert render.text_html("[1] *x* _y_ $z$ \\") == "&#91;1&#93; &#42;x&#42; &#95;y&#95; &#36;z&#36; &#92;"


def test_markers_beyond_the_citations_stay_plain_text() -> None:
    html = render.answer_html(Answer("甲[1]乙[2][0]", False, (cite(),)), 0)
    assert html.count("mqa-cite") == 1
    assert "&#91;2&#93;" in html and "&#91;0&#93;" in html


def test_evidence_from_a_meeting_with_markup_shows_it_as_text(fake_engine: Engine, tmp_path: Path) -> None:
    evil = tmp_path / "evil-2024-01-02.txt"
    evil.write_text(f"主持人 {XSS} 宣布开会。\n", encoding="utf-8")
    fake_engine.ingest([evil])
    _, turns = final(fake_engine, "主持人宣布开会")
    html = chat.evidence(fake_engine, turns, 0, "c", 1)
    assert "<script" not in html and "<img" not in html
    assert "&#60;script&#62;alert(1)&#60;/script&#62;" in html


# -- evidence panel ----------------------------------------------------------------------------------------


def test_evidence_shows_the_whole_paragraph_with_the_quoted_sentence_marked(sample_engine: Engine) -> None:
    _, turns = final(sample_engine, "谁主持了会议？")
    html = chat.evidence(sample_engine, turns, 0, "c", 1)
    assert re.search(r'<mark class="mqa-mark">[^<]*徐纓[^<]*</mark>', html)
    assert "5月6日" in html  # the start of the paragraph, not just the quote
    assert "¶1" in html and "2022-05-06" in html and "Yancheng Party Committee" in html


def test_evidence_for_a_related_passage_shows_its_paragraph_unmarked(sample_engine: Engine) -> None:
    _, turns = final(sample_engine, "What is the capital of France?")
    answer = turns[0].answer
    assert answer is not None
    html = chat.evidence(sample_engine, turns, 0, "r", 1)
    assert f"¶{answer.related[0].paragraph}" in html and "<mark" not in html


def test_evidence_finds_the_quote_again_when_the_meeting_changed_since_the_answer(sample_engine: Engine) -> None:
    stale = Citation(SAMPLE_ID, 1, "市委書記徐纓主持。", 0, 9, 0.5)  # offsets from an older version
    turns = [Turn("谁主持了会议？", Answer("徐纓主持。[1]", False, (stale,)))]
    html = chat.evidence(sample_engine, turns, 0, "c", 1)
    assert '<mark class="mqa-mark">市委書記徐纓主持。</mark>' in html


def test_evidence_for_a_chip_that_does_not_exist_shows_the_hint(sample_engine: Engine) -> None:
    _, turns = final(sample_engine, "谁主持了会议？")
    for turn, kind, n in ((5, "c", 1), (0, "c", 9), (0, "c", 0), (0, "x", 1), (-1, "c", 1)):
        assert "mqa-empty" in chat.evidence(sample_engine, turns, turn, kind, n)


def test_evidence_for_a_deleted_meeting_says_the_paragraph_is_gone(sample_engine: Engine) -> None:
    _, turns = final(sample_engine, "谁主持了会议？")
    sample_engine.delete(SAMPLE_ID)
    assert "not found" in chat.evidence(sample_engine, turns, 0, "c", 1)


def test_the_sources_list_and_the_copy_text_name_each_citation(sample_engine: Engine) -> None:
    _, turns = final(sample_engine, "谁主持了会议？")
    turn = turns[0]
    assert turn.answer is not None
    sources = render.sources_html(turn.answer, 0, turn.index)
    assert "mqa-ref-0-c1" in sources and "市委書記徐纓主持" in sources
    text = render.plain_text(turn.answer, turn.index)
    assert text.splitlines()[0] == turn.answer.text
    assert "[1] Yancheng Party Committee · 2022-05-06 · ¶1: 市委書記徐纓主持。" in text
    assert "<" not in text


# -- feedback ---------------------------------------------------------------------------------------------


def test_feedback_appends_one_json_line_per_rating_with_the_comment(sample_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "fb" / "feedback.jsonl"
    _, turns = final(sample_engine, "谁主持了会议？")
    chat.record_feedback(path, turns, "up", "  准确  ", user="amy")
    chat.record_feedback(path, turns, "down")
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [r["rating"] for r in records] == ["up", "down"]
    assert records[0]["comment"] == "准确" and records[0]["user"] == "amy"
    assert records[0]["question"] == "谁主持了会议？" and "徐" in records[0]["answer"]
    assert records[0]["citations"][0] == {"meeting_id": SAMPLE_ID, "paragraph": 1, "quote": "市委書記徐纓主持。"}
    assert "user" not in records[1]


def test_feedback_rates_the_latest_answered_question(sample_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    history, turns = final(sample_engine, "谁主持了会议？")
    *_, (history, turns) = respond("问" * 5000, history, turns, engine=sample_engine)  # an error turn
    record = chat.record_feedback(path, turns, "up")
    assert record is not None and record["question"] == "谁主持了会议？"


def test_feedback_without_an_answer_records_nothing(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    assert chat.record_feedback(path, [], "up", "hi") is None
    assert not path.exists()
    with pytest.raises(ValueError):
        chat.record_feedback(path, [], "meh")


# -- meetings panel ------------------------------------------------------------------------------------------


def test_uploads_are_ingested_with_progress_and_a_result_per_file(fake_engine: Engine, tmp_path: Path) -> None:
    good = tmp_path / "board-2024-02-03.txt"
    good.write_text("董事会由李华主持。\n\n会议批准了预算。\n", encoding="utf-8")
    sheet = tmp_path / "budget.xlsx"  # .pdf is a supported format now: a spreadsheet is not
    sheet.write_bytes(b"PK\x03\x04")
    big = tmp_path / "huge.txt"
    big.write_bytes(b"a" * (1024 * 1024 + 1))
    seen: list[tuple[str, int, int]] = []
    report = chat.ingest_uploads(
        fake_engine, [good, sheet, big], max_mb=1, progress=lambda s, d, t: seen.append((s, d, t))
    )
    status = {Path(f.path).name: (f.status, f.error or "") for f in report.files}
    assert status["board-2024-02-03.txt"][0] == "added"
    assert status["budget.xlsx"][0] == "failed" and ".xlsx" in status["budget.xlsx"][1]
    assert status["huge.txt"][0] == "failed" and "1 MB" in status["huge.txt"][1]
    assert seen == [(str(good), 1, 1)]
    assert [m.meeting_id for m in fake_engine.list_meetings()] == ["board-2024-02-03"]
    html = render.ingest_html(report.files)
    assert html.count("mqa-file-fail") == 2 and html.count("mqa-file-ok") == 1


def test_uploading_the_same_file_again_reports_it_unchanged(sample_engine: Engine, tmp_path: Path) -> None:
    copy = tmp_path / SAMPLE.name
    copy.write_bytes(SAMPLE.read_bytes())
    report = chat.ingest_uploads(sample_engine, [copy], max_mb=20)
    assert [f.status for f in report.files] == ["unchanged"]
    assert "未变化" in render.ingest_html(report.files)


def test_a_file_that_cannot_be_parsed_fails_with_its_reason(fake_engine: Engine, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    report = chat.ingest_uploads(fake_engine, [broken], max_mb=20)
    assert report.files[0].status == "failed" and report.files[0].error


def test_deleting_a_meeting_removes_it_and_says_so(sample_engine: Engine) -> None:
    assert "Deleted" in chat.delete_meeting(sample_engine, SAMPLE_ID)
    assert sample_engine.list_meetings() == []
    assert "No meeting" in chat.delete_meeting(sample_engine, SAMPLE_ID)
    assert "Choose" in chat.delete_meeting(sample_engine, None)


def test_the_meetings_table_lists_title_date_and_paragraphs_as_text() -> None:
    html = render.meetings_html([MeetingInfo("m-1", "<b>预算</b>会", 7, date="2024-01-02")])
    assert "&#60;b&#62;预算&#60;/b&#62;会" in html and "2024-01-02" in html and ">7<" in html
    assert "No meetings yet" in render.meetings_html([])


def test_meeting_choices_label_meetings_by_title_and_date() -> None:
    meetings = [MeetingInfo("a", "预算会", 3, date="2024-01-02"), MeetingInfo("b", "", 1)]
    assert chat.meeting_choices(meetings) == [("预算会 · 2024-01-02", "a"), ("b", "b")]


def test_example_questions_come_from_the_loaded_meetings(sample_engine: Engine, fake_engine: Engine) -> None:
    questions = chat.example_questions(sample_engine, sample_engine.list_meetings())
    assert "谁主持了会议？" in questions and len(questions) <= 4
    assert chat.example_questions(sample_engine, []) == []


def test_every_example_question_is_answered_from_the_sample(sample_engine: Engine) -> None:
    for question in chat.example_questions(sample_engine, sample_engine.list_meetings()):
        _, turns = final(sample_engine, question)
        answer = turns[0].answer
        assert answer is not None and not answer.abstained, question


def test_an_abstention_copy_text_lists_the_related_passages() -> None:
    answer = Answer("没有找到。", True, related=(Passage("m1", 4, "相关段落", 0.2, title="预算会"),))
    text = render.plain_text(answer, {})
    assert text == "没有找到。\n\n- 预算会 · ¶4: 相关段落"


# -- serving -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_a_loopback_address_needs_no_login(host: str) -> None:
    from meeting_qa.web.access import check_bind

    assert check_bind(host, None, insecure=False) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "example.org", "::"])
def test_a_network_address_without_login_is_refused(host: str) -> None:
    from meeting_qa.web.access import check_bind

    with pytest.raises(ConfigError, match="--auth"):
        check_bind(host, None, insecure=False)
    assert check_bind(host, None, insecure=True) is None
    # With a login it also takes TLS (issue 13): the password must not cross the network in clear text.
    assert check_bind(host, "amy:s3cret:x", insecure=False, tls=True) == ("amy", "s3cret:x")


@pytest.mark.parametrize("auth", ["amy", "amy:", ":pw"])
def test_a_malformed_login_is_refused(auth: str) -> None:
    from meeting_qa.web.access import check_bind

    with pytest.raises(ConfigError, match="user:password"):
        check_bind("127.0.0.1", auth, insecure=False)


def test_serve_refuses_a_public_address_before_loading_anything(settings: Settings) -> None:
    from meeting_qa.web import serve

    with pytest.raises(ConfigError, match="refusing"):
        serve(settings, host="0.0.0.0", port=7860, insecure=False)


def test_importing_meeting_qa_and_its_chat_function_does_not_import_gradio() -> None:
    code = "import sys, meeting_qa, meeting_qa.cli, meeting_qa.web; assert 'gradio' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_chatbot_renders_our_escaped_html_without_markdown_and_with_the_sanitizer(
    sample_engine: Engine, settings: Settings
) -> None:
    import gradio as gr

    from meeting_qa.web import build_app

    app = build_app(sample_engine, settings)
    assert isinstance(app, gr.Blocks)
    chatbots = [c for c in app.config["components"] if c["type"] == "chatbot"]
    assert len(chatbots) == 1
    props = chatbots[0]["props"]
    assert props["sanitize_html"] is True and props["render_markdown"] is False
    assert props["latex_delimiters"] == []


def test_the_page_answers_through_its_gradio_api_and_keeps_the_session(
    sample_engine: Engine, settings: Settings
) -> None:
    from gradio_client import Client

    from meeting_qa.web import build_app
    from meeting_qa.web.app import CHAT_CONCURRENCY

    app = build_app(sample_engine, settings)
    app.queue(default_concurrency_limit=CHAT_CONCURRENCY)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, ssr_mode=False)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        out = client.predict("谁主持了会议？", [], [], api_name="/ask")
        text = json.dumps(out, ensure_ascii=False)
        assert "徐" in text and "mqa-ref-0-c1" in text
        assert "[1] Yancheng Party Committee" in text  # the copy text
        again = json.dumps(client.predict("会议研究通过了什么方案？", [], [], api_name="/ask"), ensure_ascii=False)
        assert "mqa-ref-1-c1" in again  # the session's earlier turn is remembered
        assert "[1] Yancheng Party Committee" in again  # a later answer replaces the copy text
    finally:
        app.close()


def _served(engine: Engine, settings: Settings) -> tuple[Any, str]:
    from meeting_qa.web import build_app
    from meeting_qa.web.app import CHAT_CONCURRENCY

    app = build_app(engine, settings)
    app.queue(default_concurrency_limit=CHAT_CONCURRENCY)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, ssr_mode=False)
    return app, f"http://127.0.0.1:{port}/"


def _messages(url: str, question: str) -> list[dict[str, Any]]:
    """The queue messages of one /ask call, read straight off gradio's server-sent events."""
    import httpx

    config = httpx.get(url + "config").json()
    fn_index = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "ask")
    session = "t" + str(free_port())
    # message, chat history, meeting scope, session turns, from/to dates, speakers
    body = {"data": [question, [], None, None, "", "", []], "fn_index": fn_index, "session_hash": session}
    with httpx.Client(timeout=60) as http:
        assert http.post(url + "gradio_api/queue/join", json=body).status_code == 200
        messages = []
        with http.stream("GET", url + "gradio_api/queue/data", params={"session_hash": session}) as events:
            for line in events.iter_lines():
                if line.startswith("data:"):
                    messages.append(json.loads(line[5:]))
                    if messages[-1]["msg"] in ("process_completed", "close_stream"):
                        break
    return messages


def test_an_extractive_answer_reaches_the_page_in_one_message(sample_engine: Engine, settings: Settings) -> None:
    app, url = _served(sample_engine, settings)
    try:
        messages = _messages(url, "谁主持了会议？")
    finally:
        app.close()
    kinds = [m["msg"] for m in messages]
    assert "process_generating" not in kinds and kinds[-1] == "process_completed"
    assert "mqa-ref-0-c1" in json.dumps(messages[-1], ensure_ascii=False)


def test_an_llm_answer_streams_to_the_page_after_a_searching_placeholder(
    sample_engine: Engine, settings: Settings
) -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    sample_engine.chat_model = FakeListChatModel(responses=["会议由市委书记徐缨主持[1]。"])
    app, url = _served(sample_engine, settings)
    try:
        messages = _messages(url, "谁主持了会议？")
    finally:
        app.close()
    generating = [json.dumps(m, ensure_ascii=False) for m in messages if m["msg"] == "process_generating"]
    assert len(generating) >= 3  # the placeholder, the growing text, the answer with its chips
    assert "Searching" in generating[0]
    assert "mqa-caret" in "".join(generating[1:-1])
    assert messages[-1]["msg"] == "process_completed" and messages[-1]["success"]
    assert "徐缨" in json.dumps(messages[-1], ensure_ascii=False)


def test_with_a_login_the_page_its_api_and_uploads_need_the_password(sample_engine: Engine, settings: Settings) -> None:
    import httpx
    from gradio_client import Client

    from meeting_qa.web.access import check_bind
    from meeting_qa.web.app import build_app, launch_options

    settings = settings.with_(auth="amy:s3cret", max_upload_mb=1)
    app = build_app(sample_engine, settings)
    app.queue()
    port = free_port()
    credentials = check_bind("127.0.0.1", settings.auth, insecure=False)
    app.launch(
        **launch_options(settings, host="127.0.0.1", port=port, credentials=credentials), prevent_thread_lock=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert httpx.get(f"{base}/config").status_code == 401
        assert httpx.post(f"{base}/gradio_api/upload", files={"files": ("a.txt", b"a")}).status_code == 401
        with httpx.Client() as session:
            assert session.post(f"{base}/login", data={"username": "amy", "password": "nope"}).status_code == 400
            assert session.post(f"{base}/login", data={"username": "amy", "password": "s3cret"}).status_code == 200
            big = session.post(f"{base}/gradio_api/upload", files={"files": ("big.txt", b"a" * (1024 * 1024 + 1))})
            assert big.status_code == 413
        client = Client(f"{base}/", auth=("amy", "s3cret"), verbose=False)
        assert "徐" in json.dumps(client.predict("谁主持了会议？", [], [], api_name="/ask"), ensure_ascii=False)
    finally:
        app.close()


def test_gradio_analytics_are_off_and_the_app_is_never_shared(settings: Settings) -> None:
    import os

    from meeting_qa.web.app import launch_options

    options = launch_options(settings, host="127.0.0.1", port=7860, credentials=None)
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"
    assert options["share"] is False and options["auth"] is None
    assert options["max_file_size"] == "20mb"


# -- conversations in the chat ---------------------------------------------------------------------


def test_the_chat_answers_a_follow_up_in_the_meeting_in_focus_and_shows_what_it_carried_over(
    records_engine: Engine,
) -> None:
    from tests.test_conversation import APRIL

    history, turns = final(records_engine, "禾溪县4月的常务会议对老旧小区改造有什么调整？", conversation=True)
    *_, (history, turns) = respond("那总投资多少？", history, turns, engine=records_engine, conversation=True)
    shown = content(history[-1])
    assert "接上题" in shown and "老旧小区改造" in shown and "4.1亿元" in shown
    assert turns[-1].conversation is not None
    assert turns[-1].conversation["focus"]["meeting_ids"] == [APRIL]


def test_without_the_conversation_switch_every_message_stands_alone(records_engine: Engine) -> None:
    history, turns = final(records_engine, "禾溪县4月的常务会议对老旧小区改造有什么调整？")
    *_, (history, turns) = respond("那总投资多少？", history, turns, engine=records_engine)
    assert "接上题" not in content(history[-1]) and turns[-1].conversation is None


def test_new_topic_makes_the_next_question_stand_alone_and_keeps_the_chip_numbers(records_engine: Engine) -> None:
    history, turns = final(records_engine, "禾溪县4月的常务会议对老旧小区改造有什么调整？", conversation=True)
    history, turns = chat.new_topic(history, turns)
    assert "New topic" in content(history[-1]) and len(turns) == 2 and turns[-1].conversation is None
    assert chat.new_topic(history, turns) == (history, turns)  # already fresh: nothing to add
    *_, (history, turns) = respond("那总投资多少？", history, turns, engine=records_engine, conversation=True)
    assert "接上题" not in content(history[-1])
    assert "mqa-ref-2-" in content(history[-1]) or "mqa-abstain" in content(history[-1])


def test_an_error_turn_keeps_the_conversation_going(records_engine: Engine) -> None:
    history, turns = final(records_engine, "禾溪县4月的常务会议对老旧小区改造有什么调整？", conversation=True)
    *_, (history, turns) = respond("问" * 5000, history, turns, engine=records_engine, conversation=True)
    assert turns[-1].answer is None and turns[-1].conversation == turns[0].conversation
    *_, (history, turns) = respond("那总投资多少？", history, turns, engine=records_engine, conversation=True)
    assert "接上题" in content(history[-1])
