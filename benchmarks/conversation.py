"""Follow-up questions: the last turn of each conversation, answered in its conversation, against the same
question asked standalone with its meeting and topic spelled out.

    PYTHONPATH=src nice -n 10 .venv/bin/python benchmarks/conversation.py [--json OUT] [--show] [--as-written]

Store: the 10 dev meetings and the 30 real transcripts of ../shared/eval (built once under BENCH_WORK with the
real default model). Conversations: benchmarks/data/conversations.jsonl — two- and three-turn conversations
written for this benchmark; each names the shared question (`from`) whose gold turns and keys score its last
turn, and its `standalone` form: the last turn itself with its meeting and topic spelled out. Where the last
turn asks one of the two things its source question asks (the first turn asked the other: "签了多少个项目？" then
"那协议投资一共多少？"), `key_groups` names the key groups it asks for and `standalone_was` keeps the first
version's standalone (the source question as written); `--as-written` scores that first version. `inherit: false` marks a follow-up that names another meeting or brings a
topic of its own: leaning on the previous turn there is a wrong carry-over.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from common import ROOT, SHARED, WORK, built_engine
from meeting_qa.conversation import Conversation
from meeting_qa.eval import GoldItem, row_for
from meeting_qa.qa import Engine

SETS = ("dev_meetings", "real_meetings")
CONVERSATIONS = ROOT / "benchmarks" / "data" / "conversations.jsonl"


def build_engine() -> Engine:
    return built_engine(WORK / "conversation", [p for s in SETS for p in sorted((SHARED / "eval" / s).glob("*.txt"))])


def gold_items() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for s in SETS:
        for line in (SHARED / "eval" / s / "questions.jsonl").read_text(encoding="utf-8").splitlines():
            obj = json.loads(line)
            out[f"{s}/{obj['id']}"] = obj
    return out


def item(conv: dict[str, Any], source: dict[str, Any], question: str, *, as_written: bool = False) -> GoldItem:
    """The last turn's gold: the source question's turns, and the key groups the last turn asks for (a follow-up
    that asks one of the source's two things is scored on that one, `key_groups`; `--as-written` scores it on
    all of them, as the set's first version did)."""
    gold = tuple((g.partition("#")[0], int(g.partition("#")[2])) for g in source["gold"])
    groups = (
        source["keys"]
        if as_written
        else [source["keys"][i] for i in conv.get("key_groups", range(len(source["keys"])))]
    )
    keys = tuple(tuple(group) for group in groups)
    return GoldItem(conv["id"], question, conv["lang"], gold, keys, True)


def run(eng: Engine, *, as_written: bool = False) -> list[dict[str, Any]]:
    sources = gold_items()
    rows: list[dict[str, Any]] = []
    for line in CONVERSATIONS.read_text(encoding="utf-8").splitlines():
        conv = json.loads(line)
        source = sources[conv["from"]]
        chat = Conversation()
        for turn in conv["turns"][:-1]:
            chat.ask(turn, eng)
        last = conv["turns"][-1]
        t0 = time.perf_counter()
        answer = chat.ask(last, eng)
        ms = (time.perf_counter() - t0) * 1000
        res = chat.last  # how it was asked in the end (a fresh question may have fallen back to the focus)
        assert res is not None
        passages = eng.search(res.text, k=10, meeting_ids=res.meeting_ids, speakers=res.speakers)
        followed = row_for(item(conv, source, last, as_written=as_written), passages, answer, ask_ms=ms)
        standalone = conv.get("standalone_was", conv["standalone"]) if as_written else conv["standalone"]
        alone_passages = eng.search(standalone, k=10)
        alone = row_for(item(conv, source, standalone, as_written=as_written), alone_passages, eng.ask(standalone))
        rows.append(
            {
                "id": conv["id"],
                "lang": conv["lang"],
                "kind": conv["kind"],
                "turns": len(conv["turns"]),
                "inherit": conv["inherit"],
                "inherited": res.inherited,
                "reason": res.reason,
                "meeting_ids": list(res.meeting_ids or ()),
                "right_meeting": bool(res.meeting_ids) and source["gold"][0].partition("#")[0] in res.meeting_ids,
                "hit1": followed["rank"] == 1,
                "covered": bool(followed["covered"]),
                "alone_hit1": alone["rank"] == 1,
                "alone_covered": bool(alone["covered"]),
                "answer": followed["answer"],
                "asked": res.text,
            }
        )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    def line(name: str, rs: list[dict[str, Any]]) -> str:
        n = len(rs)

        def share(key: str) -> float:
            return sum(1 for r in rs if r[key]) / n if n else 0.0

        return (
            f"| {name} | {n} | {share('hit1'):.3f} | {share('alone_hit1'):.3f} | "
            f"{share('covered'):.3f} | {share('alone_covered'):.3f} |"
        )

    out = [
        "| last turns | n | hit@1 in conversation | hit@1 standalone | key coverage in conversation | "
        "key coverage standalone |",
        "|---|---:|---:|---:|---:|---:|",
        line("all", rows),
        line("follow-ups (must inherit)", [r for r in rows if r["inherit"]]),
        line("new topic or meeting (must not)", [r for r in rows if not r["inherit"]]),
    ]
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[f"lang {r['lang']}"].append(r)
        groups[f"kind {r['kind']}"].append(r)
        groups[f"{r['turns']} turns"].append(r)
    out += [line(name, groups[name]) for name in sorted(groups)]
    must_not = [r for r in rows if not r["inherit"]]
    must = [r for r in rows if r["inherit"]]
    wrong = sum(1 for r in must_not if r["inherited"])
    missed = sum(1 for r in must if not r["inherited"])
    wrong_meeting = sum(1 for r in must if r["inherited"] and not r["right_meeting"])
    out.append("")
    out.append(
        f"wrong carry-overs on must-not-inherit follow-ups: {wrong}/{len(must_not)} = {wrong / len(must_not):.3f}"
    )
    out.append(f"follow-ups that did not inherit: {missed}/{len(must)}; inherited the wrong meeting: {wrong_meeting}")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", type=Path, help="write the per-conversation rows here")
    parser.add_argument("--show", action="store_true", help="print each last turn's outcome")
    parser.add_argument(
        "--as-written",
        action="store_true",
        help="the set's first version: standalone = the source question as written, scored on all its keys",
    )
    args = parser.parse_args()
    eng = build_engine()
    t0 = time.perf_counter()
    rows = run(eng, as_written=args.as_written)
    print(f"# {len(rows)} conversations in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    if args.show:
        for r in rows:
            flags = f"{'H' if r['hit1'] else '-'}{'K' if r['covered'] else '-'}/{'H' if r['alone_hit1'] else '-'}"
            flags += f"{'K' if r['alone_covered'] else '-'}"
            print(f"{r['id']} {flags} inherit={r['inherit']} got={r['inherited']}({r['reason']}) {r['meeting_ids']}")
            print(f"    asked: {r['asked']}\n    answer: {r['answer'][:160]}")
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
