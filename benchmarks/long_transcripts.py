"""Search and ask latency on a store of long transcripts, and the first question after an ingest.

    SHARED_DIR=../shared .venv/bin/python benchmarks/long_transcripts.py [--fresh] [--profile]

The store: three long transcripts of real_meetings (≥ 300 speaker turns each; two are two real
transcripts joined, to reach the length of the long English transcripts the issue measured). Questions:
real_meetings' questions about those meetings, asked over the whole store (no meeting filter), 2 rounds.
Beside them, in the same run: the ten dev_meetings reports and their questions (the ratio of the two p95s is
the figure; absolute times move with the machine's load). "First question after an ingest": a report is ingested into the warm store, then the next questions
are timed one by one against the warm p50.
"""

from __future__ import annotations

import cProfile
import json
import pstats
import shutil
import statistics
import sys
import time
from pathlib import Path

from common import SHARED, WORK
from meeting_qa.config import Settings
from meeting_qa.embeddings import SentenceEmbeddings
from meeting_qa.qa import Engine

REAL = SHARED / "eval" / "real_meetings"
DEV = SHARED / "eval" / "dev_meetings"
PARTS = {
    "meeting-british-council-2017-10-19.txt": ["meeting-british-council-2017-10-19.txt"],
    "meeting-plouffe-hrf-2016-11-04.txt": [
        "meeting-david-plouffe-2016-11-04.txt",
        "meeting-human-rights-foundation-2019-07-04.txt",
    ],
    "youth-advisory-salt-2017-06-13.txt": [
        "youth-advisory-committee-3-prep-2017-06-13.txt",
        "opengov-collab-salt-potassium40-2019-12-12.txt",
    ],
}


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def build(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, parts in PARTS.items():
        text = "".join((REAL / p).read_text(encoding="utf-8") for p in parts)
        (folder / name).write_text(text, encoding="utf-8")


def main() -> None:
    profile = "--profile" in sys.argv
    files = WORK / "long-transcripts"
    build(files)
    wanted = {p.removesuffix(".txt") for parts in PARTS.values() for p in parts}
    questions = [
        q["q"]
        for line in (REAL / "questions.jsonl").open(encoding="utf-8")
        if (q := json.loads(line)) and any(g.split("#")[0] in wanted for g in q.get("gold", []))
    ]
    emb = SentenceEmbeddings(None)
    emb.warm()
    store = WORK / "long-store"
    if "--fresh" in sys.argv:
        shutil.rmtree(store, ignore_errors=True)
    eng = Engine.build(Settings(store_dir=store, cache_dir=Settings.from_env().cache_dir), embeddings=emb)
    t0 = time.perf_counter()
    report = eng.ingest([files])
    turns = sum(f.paragraphs for f in report.files)
    print(f"# {len(report.files)} transcripts, {turns} turns, ingested in {time.perf_counter() - t0:.1f}s")
    first = []
    for q in questions[:3]:
        t0 = time.perf_counter()
        eng.search(q, k=5)
        first.append((time.perf_counter() - t0) * 1000)
    print(f"# first 3 searches in this process (ms): {', '.join(f'{x:.0f}' for x in first)}")
    prof = cProfile.Profile() if profile else None
    # Reports beside them, in the same process and the same minutes (a ratio, not two runs on noisy cores):
    # the ten dev_meetings reports and their questions, also over their whole store.
    reports = Engine.build(
        Settings(store_dir=WORK / "reports-store", cache_dir=Settings.from_env().cache_dir), embeddings=emb
    )
    reports.ingest(sorted(DEV.glob("*.txt")))
    report_questions = [json.loads(line)["q"] for line in (DEV / "questions.jsonl").open(encoding="utf-8")]
    reports.search(report_questions[0], k=5)
    print("| store | operation | n | p50 ms | p95 ms | mean ms |")
    print("|---|---|---|---|---|---|")
    p95 = {}
    for name, engine, qs in (("long transcripts", eng, questions), ("reports", reports, report_questions)):
        for op, fn in (("search", lambda q, e=engine: e.search(q, k=5)), ("ask", lambda q, e=engine: e.ask(q))):
            ms = []
            for _ in range(2):
                for q in qs:
                    t0 = time.perf_counter()
                    if prof:
                        prof.enable()
                    fn(q)
                    if prof:
                        prof.disable()
                    ms.append((time.perf_counter() - t0) * 1000)
            p95[name, op] = pct(ms, 0.95)
            print(
                f"| {name} | {op} | {len(ms)} | {pct(ms, 0.5):.1f} | {pct(ms, 0.95):.1f} | {statistics.mean(ms):.1f} |"
            )
            if name == "long transcripts" and op == "ask":
                warm = pct(ms, 0.5)
    print(
        f"# p95 long transcripts / reports: search {p95['long transcripts', 'search'] / p95['reports', 'search']:.2f}x, "
        f"ask {p95['long transcripts', 'ask'] / p95['reports', 'ask']:.2f}x"
    )
    # The same searches with each question's vector already computed: what the store and the per-question
    # work cost beside the model's forward pass (which a loaded machine slows most).
    memo: dict[str, object] = {}
    encode = emb.encode_query
    emb.encode_query = lambda text: memo[text] if text in memo else memo.setdefault(text, encode(text))  # type: ignore[method-assign,assignment,return-value]
    for q in questions:
        eng.search(q, k=5)
    rest = []
    for q in questions:
        t0 = time.perf_counter()
        eng.search(q, k=5)
        rest.append((time.perf_counter() - t0) * 1000)
    emb.encode_query = encode  # type: ignore[method-assign]
    print(
        f"| search, question vectors given | {len(rest)} | {pct(rest, 0.5):.1f} | {pct(rest, 0.95):.1f} | {statistics.mean(rest):.1f} |"
    )
    # A report ingested into the warm store: the next questions pay for whatever the store change rebuilt.
    report_file = WORK / "after-ingest-report.txt"
    report_file.write_text(
        "3月5日，某市市长主持召开市政府第9次常务会议。\n会议审议通过了《城区停车管理办法》。\n", encoding="utf-8"
    )
    eng.ingest([report_file])
    after = []
    for q in questions[:5]:
        t0 = time.perf_counter()
        eng.ask(q)
        after.append((time.perf_counter() - t0) * 1000)
    print(f"# asks right after ingesting a report (ms): {', '.join(f'{x:.0f}' for x in after)}; warm p50 {warm:.0f}")
    if prof:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(35)


if __name__ == "__main__":
    main()
