"""The gradio wiring of the staff web chat (the only module that imports gradio)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

# Before gradio is imported: no usage reporting or version pings from a tool that handles meeting records.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
# After every event gradio's queue rebuilds a pandas summary of up to 10,000 past events for its monitoring
# page, which this app does not offer: ~4 ms per answer on a fresh server, ~19 ms once 10,000 are kept.
# Keep fewer and summarise them rarely (an operator's own settings win).
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "1000")
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000")

import gradio as gr

from meeting_qa.config import Settings
from meeting_qa.errors import ConfigError, MeetingQAError
from meeting_qa.loaders import SUPPORTED_EXTENSIONS
from meeting_qa.qa import Engine
from meeting_qa.web import chat, items_tab, render
from meeting_qa.web.access import check_bind, login_checker
from meeting_qa.web.style import CHIPS_JS, CSS

# Answers are CPU-bound (a query embedding, then ranking); a few at a time keeps every request moving
# on a small server, the rest wait in the queue in order. Extractive answers are all CPU and mostly
# Python, which runs one thread at a time: more in flight than cores only makes them take turns (8 people
# at once on 2 cores answered sooner with 2 or 1 in flight than with 4, and later still with 8).
# An LLM answer mostly waits for the model, so several stream at once.
CHAT_CONCURRENCY = 4
EXTRACTIVE_CONCURRENCY = max(1, min(CHAT_CONCURRENCY, os.cpu_count() or 1))
QUEUE_MAX = 64
TITLE = "会议记录问答 · Meeting Q&A"
PLACEHOLDER = (
    "<div style='text-align:center;opacity:.75;line-height:1.9'>"
    "<div style='font-size:1.1rem;font-weight:600'>问一个关于会议记录的问题</div>"
    "<div>Ask a question about the meeting records</div>"
    "<div style='font-size:.85rem'>每个回答都标明出处：点击 [1] 查看原文段落 · every answer cites its paragraph</div></div>"
)
FEEDBACK_SAVED = {
    "up": "已记录：有帮助，谢谢！ · Saved: helpful. Thank you!",
    "down": "已记录，我们会改进 · Saved: not helpful. Thank you!",
}


def theme() -> gr.themes.Base:
    # System fonts only: the default theme would fetch web fonts, and these servers may be offline.
    return gr.themes.Soft(
        primary_hue="indigo",
        neutral_hue="slate",
        radius_size="md",
        font=["system-ui", "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", "Segoe UI", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
    )


def _header_html(meetings: Sequence[Any]) -> str:
    paragraphs = sum(m.paragraphs for m in meetings)
    return (
        "<div id='mqa-header'><div><h1>会议记录问答<span class='en'>Meeting Q&amp;A</span></h1>"
        "<div class='tagline'>回答均引用原文段落与句子 · Every answer cites the exact paragraph and sentence</div></div>"
        f"<div id='mqa-status'>已载入 <b>{len(meetings)}</b> 场会议 · <b>{paragraphs}</b> 段"
        f"<br>{len(meetings)} meeting{'' if len(meetings) == 1 else 's'} · {paragraphs} paragraphs</div></div>"
    )


def build_app(engine: Engine, settings: Settings) -> gr.Blocks:
    """The page: chat on the left; evidence and meetings on the right."""
    exts = " ".join(SUPPORTED_EXTENSIONS)

    def refresh(selected: Sequence[str] | None = None) -> tuple[Any, ...]:
        meetings = engine.list_meetings()
        choices = chat.meeting_choices(meetings)
        ids = {m.meeting_id for m in meetings}
        keep = [m for m in (selected or []) if m in ids]
        questions = chat.example_questions(engine, meetings)
        return (
            render.meetings_html(meetings),
            gr.Dropdown(choices=choices, value=keep),
            gr.Dropdown(choices=choices, value=None),
            gr.Dataset(samples=[[q] for q in questions], visible=bool(questions)),
            _header_html(meetings),
            gr.Dropdown(choices=chat.speaker_choices(meetings)),
        )

    # The extractive answerer hands over its whole answer at once, ~0.1 s after the question: a plain
    # function sends it as one message. A generator would add a "searching" placeholder and send the
    # answer twice (as its last update, then as the result), each one more round of gradio work; with
    # several people asking at once, that overhead is what they wait for. An LLM streams token by
    # token, so with one the chat shows the placeholder and the growing text.
    streaming = engine.chat_model is not None

    def to_outputs(
        hist: list[chat.Message], new_turns: list[chat.Turn], before: Sequence[chat.Turn]
    ) -> tuple[Any, ...]:
        if len(new_turns) == len(before) or (turn := new_turns[-1]).answer is None:
            return "", hist, new_turns, *(gr.skip(),) * 4  # nothing asked, or an error notice in the chat
        copy = render.plain_text(turn.answer, turn.index)
        # The copy box and the feedback row appear with the session's first answer; later answers only
        # replace the copy text (a visibility update rebuilds the component's config on every call).
        shown = any(t.answer is not None for t in before)
        return (
            "",
            hist,
            new_turns,
            render.sources_html(turn.answer, len(new_turns) - 1, turn.index),
            render.evidence_hint_html(),
            copy if shown else gr.Textbox(value=copy, visible=True),
            gr.skip() if shown else gr.Row(visible=True),
        )

    def ask_once(
        message: str,
        history: list[chat.Message],
        selected: list[str] | None,
        turns: list[chat.Turn],
        *narrow: Any,
    ) -> tuple[Any, ...]:
        before = turns or []
        *_, (hist, new_turns) = chat.respond(
            message,
            history,
            before,
            selected,
            engine=engine,
            placeholder=False,
            narrow=chat.Narrow.of(*narrow),
            conversation=True,
        )
        return to_outputs(hist, new_turns, before)

    def ask_streaming(
        message: str,
        history: list[chat.Message],
        selected: list[str] | None,
        turns: list[chat.Turn],
        *narrow: Any,
    ) -> Iterator[tuple[Any, ...]]:
        before = turns or []
        for hist, new_turns in chat.respond(
            message, history, before, selected, engine=engine, narrow=chat.Narrow.of(*narrow), conversation=True
        ):
            yield to_outputs(hist, new_turns, before)

    ask = ask_streaming if streaming else ask_once

    def example_once(
        sample: list[str], history: list[chat.Message], selected: list[str] | None, turns: list[chat.Turn], *narrow: Any
    ) -> tuple[Any, ...]:
        return ask_once(sample[0] if sample else "", history, selected, turns, *narrow)

    def example_streaming(
        sample: list[str], history: list[chat.Message], selected: list[str] | None, turns: list[chat.Turn], *narrow: Any
    ) -> Iterator[tuple[Any, ...]]:
        yield from ask_streaming(sample[0] if sample else "", history, selected, turns, *narrow)

    ask_example = example_streaming if streaming else example_once

    def show_evidence(turns: list[chat.Turn], evt: gr.EventData) -> tuple[str, Any]:
        data = evt._data if isinstance(evt._data, dict) else {}
        try:
            turn, kind, n = int(data.get("turn", -1)), str(data.get("kind", "")), int(data.get("n", 0))
        except (TypeError, ValueError):
            return render.evidence_hint_html(), gr.Tabs(selected="evidence")
        return chat.evidence(engine, turns or [], turn, kind, n), gr.Tabs(selected="evidence")

    def feedback(rating: str) -> Any:
        def handler(turns: list[chat.Turn], comment: str, request: gr.Request) -> tuple[str, Any]:
            user = getattr(request, "username", None) if request else None
            saved = chat.record_feedback(settings.feedback_path, turns or [], rating, comment or "", user=user)
            if saved is None:
                return "先提问，再评价 · Ask a question first", gr.skip()
            return FEEDBACK_SAVED[rating], ""

        return handler

    def ingest(paths: list[str] | None, selected: list[str] | None, progress: Any = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        if not paths:
            return (gr.skip(),) * 8
        progress(0, desc="正在读取文件 · Reading files")

        def step(source: str, done: int, total: int) -> None:
            progress((done, total), desc=f"正在导入 · Ingesting {os.path.basename(source)}")

        try:
            report = chat.ingest_uploads(engine, paths, max_mb=settings.max_upload_mb, progress=step)
        except MeetingQAError as e:
            return (render.error_html(str(e)), None, *refresh(selected))
        return (render.ingest_html(report.files), None, *refresh(selected))

    def ask_delete(meeting_id: str | None) -> tuple[Any, str, str]:
        if not meeting_id:
            return gr.Column(visible=False), "", "请先选择一场会议 · Choose a meeting first."
        label = dict((v, k) for k, v in chat.meeting_choices(engine.list_meetings())).get(meeting_id, meeting_id)
        text = (
            f"<div class='mqa-notice mqa-error'><div class='mqa-notice-title'>确定删除「{render.text_html(label)}」吗？</div>"
            "<div>删除后需重新上传才能再查询。 · Delete this meeting? Its records leave the index.</div></div>"
        )
        return gr.Column(visible=True), text, ""

    def do_delete(meeting_id: str | None, selected: list[str] | None) -> tuple[Any, ...]:
        message = chat.delete_meeting(engine, meeting_id)
        return (gr.Column(visible=False), render.text_html(message), *refresh(selected))

    with gr.Blocks(title=TITLE, analytics_enabled=False) as app:
        turns = gr.State([])
        status = gr.HTML(_header_html([]))
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                chatbot = gr.Chatbot(
                    elem_id="mqa-chat",
                    label="对话 · Chat",
                    show_label=False,
                    height=540,
                    # Text is escaped by us; no markdown or LaTeX may reinterpret it, and the sanitizer stays on.
                    render_markdown=False,
                    sanitize_html=True,
                    latex_delimiters=[],
                    buttons=[],
                    feedback_options=None,
                    placeholder=PLACEHOLDER,
                )
                with gr.Row(equal_height=True):
                    msg = gr.Textbox(
                        placeholder="输入问题，回车发送 · Type a question and press Enter",
                        show_label=False,
                        container=False,
                        scale=8,
                        max_length=2000,
                        autofocus=True,
                        elem_id="mqa-input",
                    )
                    send = gr.Button("提问 Ask", variant="primary", scale=0, min_width=110, elem_id="mqa-send")
                    # Follow-up questions lean on the previous answer (its meeting and topic); this starts over.
                    fresh = gr.Button("新话题 New topic", scale=0, min_width=130, elem_id="mqa-new-topic")
                examples = gr.Dataset(
                    components=[msg], samples=[], label="试试这些问题 · Try asking", elem_id="mqa-examples"
                )
                scope = gr.Dropdown(
                    multiselect=True,
                    label="只在这些会议中查找 · Limit to meetings",
                    info="留空即全部会议 · leave empty to search all meetings",
                    elem_id="mqa-scope",
                )
                with gr.Row(equal_height=True, elem_id="mqa-filters"):
                    since = gr.Textbox(
                        label="起始日期 · From",
                        value="",
                        placeholder="2022-01-01",
                        max_length=10,
                        scale=1,
                        elem_id="mqa-since",
                    )
                    until = gr.Textbox(
                        label="截止日期 · To",
                        value="",
                        placeholder="2022-12-31",
                        max_length=10,
                        scale=1,
                        elem_id="mqa-until",
                    )
                    speakers = gr.Dropdown(
                        multiselect=True,
                        label="只看这些发言人 · Speakers",
                        info="转写记录的发言人 · speakers of transcripts",
                        scale=2,
                        elem_id="mqa-speakers",
                    )
                with gr.Row(elem_id="mqa-feedback", equal_height=True, visible=False) as feedback_row:
                    comment = gr.Textbox(
                        placeholder="意见（可选）· Comment (optional)",
                        show_label=False,
                        container=False,
                        scale=6,
                        max_length=1000,
                        elem_id="mqa-comment",
                    )
                    up = gr.Button("有帮助 · Helpful", size="sm", scale=0, min_width=120, elem_id="mqa-up")
                    down = gr.Button("没帮助 · Not helpful", size="sm", scale=0, min_width=140, elem_id="mqa-down")
                feedback_status = gr.HTML("", elem_id="mqa-feedback-status")
            with gr.Column(scale=2, min_width=360), gr.Tabs(selected="evidence", elem_id="mqa-side-tabs") as tabs:
                with gr.Tab("证据 · Evidence", id="evidence"):
                    evidence = gr.HTML(render.evidence_hint_html(), elem_id="mqa-evidence", js_on_load=CHIPS_JS)
                    sources = gr.HTML(render.sources_html(None, 0, {}), elem_id="mqa-sources")
                    copy_box = gr.Textbox(
                        label="复制回答（含引用）· Copy answer with citations",
                        lines=3,
                        max_lines=8,
                        interactive=False,
                        buttons=["copy"],
                        visible=False,
                        elem_id="mqa-copy",
                    )
                with gr.Tab("会议 · Meetings", id="meetings"):
                    meetings_table = gr.HTML("", elem_id="mqa-meetings")
                    upload = gr.File(
                        label="上传会议记录 · Upload records",
                        file_count="multiple",
                        file_types=list(SUPPORTED_EXTENSIONS),
                        elem_id="mqa-upload",
                    )
                    gr.HTML(
                        f"<div class='mqa-hint'>支持 · accepts {exts} · 每个文件 ≤ {settings.max_upload_mb} MB</div>"
                    )
                    ingest_result = gr.HTML("", elem_id="mqa-ingest-result")
                    with gr.Accordion("删除会议 · Delete a meeting", open=False, elem_id="mqa-delete-box"):
                        with gr.Row(equal_height=True):
                            to_delete = gr.Dropdown(show_label=False, container=False, scale=4, elem_id="mqa-delete")
                            delete_btn = gr.Button(
                                "删除 Delete", scale=0, min_width=140, elem_classes=["mqa-danger-outline"]
                            )
                        with gr.Column(visible=False) as confirm:
                            confirm_text = gr.HTML("")
                            with gr.Row():
                                confirm_btn = gr.Button(
                                    "确认删除 Yes, delete", elem_id="mqa-confirm", elem_classes=["mqa-danger"]
                                )
                                cancel_btn = gr.Button("取消 Cancel")
                        delete_status = gr.HTML("")
                items_tab.build(engine, evidence=evidence, tabs=tabs)

        listing = [meetings_table, scope, to_delete, examples, status, speakers]
        answer_outputs = [msg, chatbot, turns, sources, evidence, copy_box, feedback_row]
        app.load(refresh, inputs=[scope], outputs=listing, queue=False)
        chat_event: dict[str, Any] = {
            "inputs": [msg, chatbot, scope, turns, since, until, speakers],
            "outputs": answer_outputs,
            "show_progress": "hidden",
            "concurrency_id": "ask",
            "concurrency_limit": CHAT_CONCURRENCY if streaming else EXTRACTIVE_CONCURRENCY,
        }
        msg.submit(ask, api_name="ask", **chat_event)
        send.click(ask, api_visibility="private", **chat_event)
        examples.click(
            ask_example,
            api_visibility="private",
            **{**chat_event, "inputs": [examples, chatbot, scope, turns, since, until, speakers]},
        )
        fresh.click(
            chat.new_topic, inputs=[chatbot, turns], outputs=[chatbot, turns], queue=False, api_visibility="private"
        )
        evidence.click(show_evidence, inputs=[turns], outputs=[evidence, tabs], api_visibility="private")
        chatbot.clear(
            lambda: (
                [],
                "",
                render.evidence_hint_html(),
                gr.Textbox(value="", visible=False),
                gr.Row(visible=False),
                "",
            ),
            outputs=[turns, sources, evidence, copy_box, feedback_row, feedback_status],
            queue=False,
            api_visibility="private",
        )
        for button, rating in ((up, "up"), (down, "down")):
            button.click(
                feedback(rating),
                inputs=[turns, comment],
                outputs=[feedback_status, comment],
                api_visibility="private",
            )
        upload.upload(
            ingest,
            inputs=[upload, scope],
            outputs=[ingest_result, upload, *listing],
            show_progress_on=[ingest_result],
            concurrency_id="write",
            concurrency_limit=1,
            api_visibility="private",
        )
        delete_btn.click(
            ask_delete, inputs=[to_delete], outputs=[confirm, confirm_text, delete_status], api_visibility="private"
        )
        cancel_btn.click(lambda: gr.Column(visible=False), outputs=[confirm], api_visibility="private")
        confirm_btn.click(
            do_delete,
            inputs=[to_delete, scope],
            outputs=[confirm, delete_status, *listing],
            concurrency_id="write",
            concurrency_limit=1,
            api_visibility="private",
        )
    return app


def launch_options(
    settings: Settings,
    *,
    host: str,
    port: int,
    credentials: tuple[str, str] | None,
    tls: tuple[Path, Path] | None = None,
) -> dict[str, Any]:
    """`Blocks.launch` arguments: never shared, login (throttled) when asked, HTTPS when given a key and
    certificate, upload size capped, no analytics, and no run history (its routes sit outside the login and
    can make the server contact the model hub)."""
    options: dict[str, Any] = {
        "server_name": host,
        "server_port": port,
        "share": False,
        "auth": login_checker(credentials) if credentials else None,
        "auth_message": "请登录 · Please sign in",
        "max_file_size": f"{settings.max_upload_mb}mb",
        "theme": theme(),
        "css": CSS,
        "ssr_mode": False,
        "pwa": False,
        "mcp_server": False,
        "run_history": False,
        "footer_links": [],
        "show_error": False,
        "quiet": True,
    }
    if tls is not None:
        # ssl_verify only governs gradio's check of its own just-started server; with an internal CA or a
        # self-signed certificate that check would fail and stop the launch.
        options.update(ssl_keyfile=str(tls[0]), ssl_certfile=str(tls[1]), ssl_verify=False)
    return options


def _one_thread_per_request() -> None:
    """Parallelism comes from serving several people at once, not from splitting one small query.

    Torch's intra-op threads spin while they wait; with a few requests in flight on a small server
    they fight each other for the cores. Measured on 2 cores: a question costs ~0.07-0.1 s of CPU with one
    thread against ~0.2-0.5 s with two, and is no slower to answer on its own.
    """
    try:
        import torch
    except ImportError:  # an embeddings backend without torch has nothing to tune
        return
    torch.set_num_threads(1)


def _warm_up(engine: Engine) -> None:
    """Search once in Chinese and once in English, so that no visitor pays for a lazy first load.

    Measured on 2 cores: the first Chinese search takes ~1.5 s (tokenizer dictionaries), the first English
    one ~0.7 s more (the English-Chinese lexicon), mostly holding the interpreter lock, so everyone asking
    at that moment would wait too. Retrieval only: no LLM call, nothing is recorded.
    """
    for question in ("会议决定了什么？", "What did the meeting decide?"):
        try:
            engine.search(question, k=1)
        except MeetingQAError as e:  # an empty or unusual store: the first visitor will hear about it
            print(f"warm-up search failed: {e}", file=sys.stderr)


def serve(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    insecure: bool = False,
    tls: tuple[Path, Path] | None = None,
) -> None:
    """Serve the web chat until interrupted: loopback by default, login when `settings.auth` is set."""
    from meeting_qa.qa import engine_for

    credentials = check_bind(host, settings.auth, insecure, tls=tls is not None)
    engine = engine_for(settings)
    engine.store.check_model()
    print(f"loading embedding model ({engine.embeddings.label}) …", file=sys.stderr)
    _one_thread_per_request()
    engine.embeddings.warm()  # once per process, before the first visitor
    # Questions go through the int8 copy; the full model is loaded again only for a web upload (or to measure
    # the model's calibration on a store that has none yet).
    engine.embeddings.release_passage_model()
    engine.lexical.index()
    _warm_up(engine)
    app = build_app(engine, settings)
    app.queue(default_concurrency_limit=CHAT_CONCURRENCY, max_size=QUEUE_MAX)
    scheme = "https" if tls else "http"
    login = " (login required)" if credentials else ""
    print(f"meeting-qa web chat: {scheme}://{host}:{port}/{login}", file=sys.stderr)
    try:
        app.launch(**launch_options(settings, host=host, port=port, credentials=credentials, tls=tls))
    except OSError as e:
        raise ConfigError(f"cannot serve on {host}:{port}: {e}", value=f"{host}:{port}") from e
    print(f"meeting-qa web chat stopped ({host}:{port})", file=sys.stderr)
