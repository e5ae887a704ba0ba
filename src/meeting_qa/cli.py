"""`meeting-qa` command line: a thin edge over `qa.py`. Exit 0 ok, 2 bad input or usage, 1 unexpected."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from meeting_qa.config import LLM_BACKENDS, Settings
from meeting_qa.errors import InputError, MeetingQAError, StoreError
from meeting_qa.terminal import bad_argument, environment_problem, safe_text, say
from meeting_qa.types import Answer, Citation, FileReport, IngestReport, Item, Passage

EMBED_PROGRESS_MIN = 512  # passages: smaller writes finish before a progress line would help

EPILOG = """\
settings (environment):
  MEETING_QA_STORE            Chroma directory (default ./vectorstore)
  MEETING_QA_CHROMA_URL       use a Chroma server instead, e.g. http://127.0.0.1:8000
  MEETING_QA_EMBEDDING_MODEL  any sentence-transformers name or folder (default: offline multilingual-e5-small)
  MEETING_QA_LLM              extractive (default), openai or llamacpp
  MEETING_QA_LLM_BASE_URL, MEETING_QA_LLM_MODEL, MEETING_QA_LLM_API_KEY   for the LLM backends
  MEETING_QA_RERANKER         a sentence-transformers CrossEncoder to rerank with (off by default)
  MEETING_QA_MAX_RECORD_CHARS longest meeting record ingested (default 1000000 characters; 0 = no limit)

examples:
  meeting-qa ingest ingest/
  meeting-qa ask "谁主持了会议？"
  meeting-qa ask --json "What did the meeting decide about new energy?"
  meeting-qa chat            (one question per line; follow-ups lean on the previous answer; /new)
  meeting-qa search "预算" --since 2022-01-01 --until 2022-06-30 --speaker 李主任
  echo "會議通過了什麼方案？" | meeting-qa ask -
  meeting-qa items --kind task --due-before 2024-06-30
  meeting-qa items --kind approved --json
"""


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", type=Path, help="Chroma directory (overrides MEETING_QA_STORE)")
    common.add_argument("--chroma-url", help="Chroma server URL (overrides MEETING_QA_CHROMA_URL)")
    common.add_argument("--embedding-model", help="sentence-transformers model name or folder")

    parser = argparse.ArgumentParser(
        prog="meeting-qa",
        description="Ask questions about meeting records and get answers that cite the exact paragraph and sentence.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("ingest", parents=[common], help="add or update meetings from files or folders")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders (walked recursively)")
    p.add_argument("--json", action="store_true", help="print the ingest report as JSON")
    p.add_argument(
        "--replace",
        action="store_true",
        help="let a file replace a stored meeting of the same id that came from a different file",
    )

    p = sub.add_parser("ask", parents=[common], help="answer a question with citations")
    p.add_argument("question", metavar="QUESTION", help="the question; - reads it from standard input")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    _filter_args(p)
    p.add_argument("--llm", choices=LLM_BACKENDS, help="answer backend (overrides MEETING_QA_LLM)")

    p = sub.add_parser(
        "chat", parents=[common], help="a conversation on standard input: follow-ups lean on the previous answer"
    )
    p.add_argument("--json", action="store_true", help="one JSON object per answer, one per line")
    _filter_args(p)
    p.add_argument("--llm", choices=LLM_BACKENDS, help="answer backend (overrides MEETING_QA_LLM)")

    p = sub.add_parser("search", parents=[common], help="show the paragraphs that best match a question")
    p.add_argument("question", metavar="QUESTION", help="the question; - reads it from standard input")
    p.add_argument("-k", type=int, default=5, help="how many paragraphs (default 5)")
    p.add_argument("--json", action="store_true")
    _filter_args(p)

    p = sub.add_parser("list", parents=[common], help="list ingested meetings")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("delete", parents=[common], help="remove a meeting from the store")
    p.add_argument("meeting_id", metavar="MEETING_ID")

    p = sub.add_parser("serve", parents=[common], help="serve the web chat")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--auth", help="user:password login (or MEETING_QA_AUTH)")
    p.add_argument(
        "--insecure",
        action="store_true",
        help="allow a non-loopback address without --auth or without TLS (a trusted network, or a TLS proxy in front)",
    )
    p.add_argument("--ssl-keyfile", type=Path, help="TLS private key: serve HTTPS (needed off loopback)")
    p.add_argument("--ssl-certfile", type=Path, help="TLS certificate that goes with --ssl-keyfile")
    p.add_argument("--llm", choices=LLM_BACKENDS, help="answer backend (overrides MEETING_QA_LLM)")

    p = sub.add_parser("items", parents=[common], help="decisions, tasks and approved documents, with evidence")
    p.add_argument("--kind", help="heard, approved, decision, task, principle, commitment (comma-separated)")
    p.add_argument("--topic", help="words the item or its agenda topic contains (either Chinese script)")
    p.add_argument("--owner", help="responsible party or person (substring)")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="meetings on or after this date")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="meetings on or before this date")
    p.add_argument("--due-after", metavar="YYYY-MM-DD", help="items due on or after this date")
    p.add_argument("--due-before", metavar="YYYY-MM-DD", help="items due on or before this date")
    p.add_argument("--meeting", action="append", dest="meetings", metavar="ID", help="only these meetings")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("series", parents=[common], help="meetings of the same body in date order")
    p.add_argument("meeting_id", nargs="?", metavar="MEETING_ID", help="only the series of this meeting")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("eval", parents=[common], help="score retrieval and answers on a gold JSON Lines file")
    p.add_argument("gold", type=Path, metavar="GOLD.jsonl")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--meeting",
        help="search and answer within this meeting only; bare gold paragraph numbers refer to it "
        "(default: the whole store, and bare numbers need a store of one meeting)",
    )
    p.add_argument("--llm", choices=LLM_BACKENDS, help="answer backend (overrides MEETING_QA_LLM)")
    return parser


def _filter_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--meeting", action="append", dest="meetings", metavar="ID", help="only these meetings (repeatable)")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="only meetings held on or after this date")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="only meetings held on or before this date")
    p.add_argument(
        "--speaker", action="append", dest="speakers", metavar="NAME", help="only this speaker's turns (repeatable)"
    )


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    return {"meeting_ids": args.meetings, "since": args.since, "until": args.until, "speakers": args.speakers}


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    changes: dict[str, Any] = {}
    if args.store is not None:
        changes["store_dir"] = args.store
    if args.chroma_url:
        changes["chroma_url"] = args.chroma_url
    if args.embedding_model:
        changes["embedding_model"] = args.embedding_model
    if getattr(args, "llm", None):
        changes["llm"] = args.llm
    if getattr(args, "auth", None):
        changes["auth"] = args.auth
    return settings.with_(**changes) if changes else settings


def _question(value: str) -> str:
    if value != "-":
        return value
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(
            f"standard input is not UTF-8 text (byte {e.start}: {data[e.start : e.start + 1]!r})"
        ) from None


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def answer_json(answer: Answer) -> dict[str, Any]:
    """The `ask --json` shape of DESIGN.md (speaker/timestamp only when the source has them)."""

    def cite(c: Citation) -> dict[str, Any]:
        d: dict[str, Any] = {
            "meeting_id": c.meeting_id,
            "paragraph": c.paragraph,
            "quote": c.quote,
            "start": c.start,
            "end": c.end,
            "score": c.score,
        }
        if c.speaker:
            d["speaker"] = c.speaker
        if c.timestamp:
            d["timestamp"] = c.timestamp
        return d

    out: dict[str, Any] = {
        "answer": answer.text,
        "abstained": answer.abstained,
        "citations": [cite(c) for c in answer.citations],
    }
    if answer.related:
        # Pointers, not the records themselves: a 2 MB paragraph must not make a 2 MB answer.
        out["related"] = [passage_json(p, limit=RELATED_CHARS) for p in answer.related]
    if answer.notes:
        out["notes"] = list(answer.notes)
    return out


def passage_json(p: Passage, *, limit: int | None = None) -> dict[str, Any]:
    text = p.text if limit is None or len(p.text) <= limit else p.text[:limit] + "…"
    return {"meeting_id": p.meeting_id, "paragraph": p.paragraph, "text": text, "score": p.score}


def _cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from meeting_qa.qa import engine_for

    engine = engine_for(settings)
    bar = None
    if sys.stderr.isatty() and not args.json:
        from tqdm import tqdm

        bar = tqdm(total=0, unit="doc", file=sys.stderr, desc="ingest")
    paragraphs = 0
    start = time.perf_counter()

    def on_file(f: FileReport) -> None:
        nonlocal paragraphs
        paragraphs += f.paragraphs if f.status != "unchanged" else 0

    def progress(path: str, done: int, total: int) -> None:
        if bar is not None:
            rate = paragraphs / max(time.perf_counter() - start, 1e-9)
            bar.total = total
            bar.n = done
            bar.set_postfix_str(f"{paragraphs} ¶ embedded, {rate:.1f} ¶/s, {safe_text(Path(path).name[-24:])}")
            bar.refresh()

    def on_chunk(source: str, done: int, total: int) -> None:
        # Embedding a large file takes minutes: say how far it got, also into a log file or a pipe.
        if bar is not None:
            bar.set_postfix_str(f"{safe_text(Path(source).name[-24:])} {done}/{total} passages")
            bar.refresh()
        elif total > EMBED_PROGRESS_MIN:
            say(f"ingest: {Path(source).name}: {done}/{total} passages embedded and written", file=sys.stderr)

    say(f"loading embedding model ({engine.embeddings.label}) …", file=sys.stderr)
    report = engine.ingest(args.paths, progress=progress, replace=args.replace, on_chunk=on_chunk, on_file=on_file)
    if bar is not None:
        bar.close()
    if args.json:
        _print_json({"files": [asdict(f) for f in report.files]})
    else:
        _print_report(report)
    return 0 if report.ok else 2


def _print_report(report: IngestReport) -> None:
    for f in report.files:
        if f.status == "failed":
            say(f"FAILED     {f.path}: {f.error}")
            continue
        encoding = f"  [{f.encoding_note}]" if f.encoding_note else ""
        say(f"{f.status:<10} {f.meeting_id}  ({f.paragraphs} paragraphs)  {f.path}{encoding}")
        for note in f.cleaned:
            say(f"           cleaned: {note}")
        for w in f.warnings:
            say(f"           warning: {w}")
    counts = ", ".join(f"{report.count(s)} {s}" for s in ("added", "updated", "unchanged", "failed"))
    say(f"done: {counts}")


def _cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from meeting_qa.qa import engine_for

    engine = engine_for(settings)
    question = _question(args.question)
    if args.json:
        _print_json(answer_json(engine.ask(question, **_filters(args))))
        return 0
    final: Answer | None = None
    # An LLM's draft streams to stderr as it is written; only the verified answer goes to stdout.
    draft = sys.stderr if settings.llm != "extractive" else None
    for event in engine.ask_stream(question, **_filters(args)):
        if isinstance(event, Answer):
            final = event
        elif draft is not None:
            say(event, end="", flush=True, file=draft)
    assert final is not None
    if draft is not None:
        say("\n--- verified answer ---", file=draft)
    _print_answer(final)
    return 0


def _print_answer(answer: Answer) -> None:
    """An answer as text: its body, its notes, then one line per citation."""
    say(answer.text)
    for note in answer.notes:
        say(note)
    for i, c in enumerate(answer.citations, 1):
        who = f" {c.speaker}" if c.speaker else ""
        say(f"[{i}] {c.meeting_id} ¶{c.paragraph}{who}: {c.quote}")


CHAT_NEW = ("/new", "/reset", "新话题", "新話題")
CHAT_QUIT = ("/quit", "/exit")


def _cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """A REPL: one question per line; `/new` starts a new topic; end of input (or `/quit`) ends it.
    A bad question is reported and the conversation goes on."""
    from meeting_qa.conversation import Conversation
    from meeting_qa.qa import engine_for

    engine = engine_for(settings)
    conversation = Conversation()
    interactive = sys.stdin.isatty()
    if interactive and not args.json:
        say("meeting-qa chat: ask away; /new starts a new topic, /quit (or Ctrl-D) ends", file=sys.stderr)
    while True:
        if interactive:
            say("> ", end="", flush=True, file=sys.stderr)
        line = sys.stdin.readline()
        if not line:
            return 0
        question = line.strip()
        if question in CHAT_QUIT:
            return 0
        if question in CHAT_NEW:
            conversation.reset()
            if args.json:
                print(json.dumps({"new_topic": True}), flush=True)
            else:
                say("-- new topic --")
            continue
        if not question:
            continue
        try:
            answer = conversation.ask(question, engine, **_filters(args))
        except InputError as e:
            if args.json:
                print(json.dumps({"error": str(e)}, ensure_ascii=False), flush=True)
            else:
                say(f"error: {e}", file=sys.stderr)
            continue
        if args.json:
            out = answer_json(answer)
            res = conversation.last
            out["following"] = (
                {"meeting_ids": list(res.meeting_ids or ()), "reason": res.reason, "note": res.note.strip()}
                if res is not None and res.inherited
                else None
            )
            print(json.dumps(out, ensure_ascii=False), flush=True)
            continue
        _print_answer(answer)
        say("", flush=True)


def _cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from meeting_qa.qa import engine_for

    passages = engine_for(settings).search(_question(args.question), k=args.k, **_filters(args))
    if args.json:
        _print_json({"passages": [passage_json(p) for p in passages]})
    else:
        for p in passages:
            say(f"{p.score:.3f}  {p.meeting_id} ¶{p.paragraph}  {p.text[:120]}")
    return 0


def _cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    from meeting_qa.qa import engine_for

    meetings = engine_for(settings).list_meetings()
    if args.json:
        _print_json({"meetings": [asdict(m) for m in meetings]})
    elif not meetings:
        say("no meetings yet: run `meeting-qa ingest PATH`")
    else:
        for m in meetings:
            kind = "  (reference text)" if m.reference else ""
            say(f"{m.meeting_id}  {m.date or '':10}  {m.paragraphs:4d} ¶  {m.label or m.title}{kind}")
    return 0


def _cmd_delete(args: argparse.Namespace, settings: Settings) -> int:
    from meeting_qa.qa import engine_for

    if not engine_for(settings).delete(args.meeting_id):
        say(f"error: no meeting {args.meeting_id!r} in the store (see `meeting-qa list`)", file=sys.stderr)
        return 2
    say(f"deleted {args.meeting_id}")
    return 0


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from meeting_qa.web import serve

    if (args.ssl_keyfile is None) != (args.ssl_certfile is None):
        raise InputError("--ssl-keyfile and --ssl-certfile go together: give both or neither")
    tls = (args.ssl_keyfile, args.ssl_certfile) if args.ssl_keyfile and args.ssl_certfile else None
    serve(settings, host=args.host, port=args.port, insecure=args.insecure, tls=tls)
    return 0


def _cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from meeting_qa.eval import format_report, run_eval

    report = run_eval(args.gold, settings=settings, meeting_id=args.meeting)
    if args.json:
        _print_json(report)
    else:
        say(format_report(report))
    return 0


def item_json(item: Item) -> dict[str, Any]:
    """An item as `items --json` prints it (speaker/timestamp only when the source has them)."""
    d = asdict(item)
    d["figures"] = list(item.figures)
    for key in ("speaker", "timestamp"):
        if d[key] is None:
            del d[key]
    return d


def _cmd_items(args: argparse.Namespace, settings: Settings) -> int:
    from meeting_qa.qa import engine_for

    found = engine_for(settings).items(
        kind=args.kind,
        topic=args.topic,
        owner=args.owner,
        since=args.since,
        until=args.until,
        due_after=args.due_after,
        due_before=args.due_before,
        meeting_ids=args.meetings,
    )
    if args.json:
        _print_json({"items": [item_json(i) for i in found]})
        return 0
    if not found:
        say("no items match (see `meeting-qa list` for what is ingested)")
    for i in found:
        extra = "".join(f"  {k}: {v}" for k, v in (("owner", i.owner), ("due", i.due)) if v)
        say(f"{i.date or '':10}  {i.kind:<10} {i.meeting_id} ¶{i.paragraph}{extra}")
        say(f"            {i.quote}")
    return 0


def _cmd_series(args: argparse.Namespace, settings: Settings) -> int:
    from meeting_qa.qa import engine_for

    engine = engine_for(settings)
    series = (
        [engine.series_of(args.meeting_id)] if args.meeting_id else engine.minutes.series(engine.store.check_model())
    )
    if args.json:
        _print_json({"series": [asdict(s) for s in series]})
        return 0
    for s in series:
        say(s.key)
        for m in s.meetings:
            say(f"  {m.date or '':10}  {m.meeting_id}")
    return 0


COMMANDS = {
    "ingest": _cmd_ingest,
    "ask": _cmd_ask,
    "chat": _cmd_chat,
    "search": _cmd_search,
    "list": _cmd_list,
    "delete": _cmd_delete,
    "serve": _cmd_serve,
    "eval": _cmd_eval,
    "items": _cmd_items,
    "series": _cmd_series,
}


RELATED_CHARS = 300  # of each "possibly related" paragraph in `ask --json`
READ_COMMANDS = ("ask", "chat", "search", "list", "delete", "eval", "items", "series")


def _require_store(settings: Settings) -> None:
    """Commands that only read must not create a store: a mistyped `--store` would answer "not in the
    records" from a new empty store instead of saying where it looked."""
    if settings.chroma_url:
        return
    folder = Path(settings.store_dir)
    hint = "check --store / MEETING_QA_STORE, or run `meeting-qa ingest PATH` first"
    if not folder.is_dir():
        raise StoreError(f"no meeting store at {folder}: the folder does not exist ({hint})", value=str(folder))
    contents = [p for p in folder.iterdir() if not p.name.startswith(".")]
    if contents and not (folder / "chroma.sqlite3").exists():
        raise StoreError(f"{folder} is not a meeting store: it has other files but no Chroma database ({hint})")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if problem := bad_argument(argv):
        say(problem, file=sys.stderr)
        return 2
    args = _parser().parse_args(argv)
    settings: Settings | None = None
    try:
        settings = _settings(args)
        if args.command in READ_COMMANDS:
            _require_store(settings)
        code = COMMANDS[args.command](args, settings)
        sys.stdout.flush()  # a closed pipe is found here, while it can still be reported
        return code
    except BrokenPipeError:
        # `meeting-qa ask … | head -1`: the reader has gone. Nothing more can reach it; say so once.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        say("error: output closed before everything was written (broken pipe)", file=sys.stderr)
        return 2
    except MeetingQAError as e:
        say(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        say("interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # the last line of defence: say what broke, without a traceback wall
        if problem := environment_problem(
            e, store_dir=settings.store_dir if settings else None, chroma_url=settings.chroma_url if settings else None
        ):
            say(f"error: {problem}", file=sys.stderr)
            return 2
        say(f"unexpected error: {type(e).__name__}: {e}", file=sys.stderr)
        if "--debug" in argv:
            raise
        return 1


if __name__ == "__main__":
    sys.exit(main())
