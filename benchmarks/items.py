"""Meeting items: recall/precision against the hand-written gold list, and `items` latency.

    PYTHONPATH=src .venv/bin/python benchmarks/items.py [--gate]

Store: the 10 dev meetings + the sample + the 4 dev transcripts, ingested with the real default model into
a persistent Chroma store under $BENCH_WORK. Quality is scored on every item `Engine.items()` returns
(see src/meeting_qa/minutes/gold.py for the matching rule), per corpus and overall. Latency: 12 typical
queries (all items, by kind, topic, owner, meeting date, due window, meeting) × 20 rounds, the first call
after a store change (which rebuilds the items) timed separately. `--gate` exits 1 below 0.90 recall or
precision, or above 50 ms p95.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

from common import ROOT, SAMPLE, SHARED, WORK, Settings
from meeting_qa.embeddings import SentenceEmbeddings
from meeting_qa.minutes.gold import load_gold, score
from meeting_qa.qa import Engine

GOLD = ROOT / "tests" / "data" / "items_gold.jsonl"
DEV = SHARED / "eval" / "dev_meetings"
TX = SHARED / "eval" / "dev_transcripts"
QUERIES: list[dict[str, Any]] = [
    {},
    {"kind": "task"},
    {"kind": "approved"},
    {"kind": "commitment"},
    {"topic": "防汛"},
    {"topic": "養老服務", "kind": "task"},
    {"owner": "应急管理局"},
    {"owner": "Halvorsen"},
    {"since": "2024-03-01", "until": "2024-06-30"},
    {"kind": "task", "due_after": "2024-06-01", "due_before": "2024-06-30"},
    {"meeting_ids": ["wanglan-county-government-2024-03-28"]},
    {"topic": "医院", "kind": "decision,task"},
]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gate", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    emb = SentenceEmbeddings(None)
    settings = Settings(store_dir=WORK / "items", cache_dir=Settings.from_env().cache_dir)
    engine = Engine.build(settings, embeddings=emb)
    records = sorted(DEV.glob("*.txt")) + sorted(TX.glob("*.txt")) + [SAMPLE]
    t0 = time.perf_counter()
    report = engine.ingest(records)
    print(f"store: {len(records)} records ({report.count('added')} newly ingested in {time.perf_counter() - t0:.1f}s)")

    items = engine.items()
    texts = {(sp.meeting_id, sp.paragraph.number): sp.paragraph.text for sp in engine.store.paragraphs()}
    bad = [i for i in items if i.quote != texts[(i.meeting_id, i.paragraph)][i.start : i.end]]
    print(f"items: {len(items)}; quote == text[start:end] for all: {not bad}")
    rows = load_gold(GOLD)
    groups = {
        "dev meetings": {p.stem for p in DEV.glob("*.txt")},
        "sample": {SAMPLE.stem},
        "dev transcripts": {p.stem for p in TX.glob("*.txt")},
    }
    print("| corpus | gold rows | recall | items scored | precision |\n|---|---:|---:|---:|---:|")
    for name, ids in [*groups.items(), ("all", set().union(*groups.values()))]:
        s = score([r for r in rows if r["meeting_id"] in ids], [i for i in items if i.meeting_id in ids], texts)
        print(
            f"| {name} | {s.rows} | {s.recall:.3f} ({s.found}) | {s.scored_items} | {s.precision:.3f} ({s.correct}) |"
        )
    overall = score(rows, items, texts)
    for r in overall.missed:
        print(f"  missed: {r['meeting_id']} ¶{r['paragraph']} {r['kind']} {r['quote'][:40]}")
    for i in overall.wrong:
        print(f"  not in gold: {i.meeting_id} ¶{i.paragraph} {i.kind} owner={i.owner} due={i.due} {i.quote[:40]}")

    # Latency: the first call after a store change rebuilds the items; the rest read the held snapshot.
    with engine.store.lock.hold():  # a new generation token, as any write from any process would leave
        engine.store._end_write()
    t0 = time.perf_counter()
    engine.items(kind="task")
    rebuild = (time.perf_counter() - t0) * 1000
    times = []
    for _ in range(20):
        for q in QUERIES:
            t0 = time.perf_counter()
            engine.items(**q)
            times.append((time.perf_counter() - t0) * 1000)
    p50, p95 = statistics.median(times), pct(times, 0.95)
    print(f"items latency over {len(times)} calls: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(times):.1f} ms")
    print(f"first call after a store change (rebuild): {rebuild:.0f} ms")
    ok = overall.recall >= 0.9 and overall.precision >= 0.9 and p95 <= 50 and not bad
    return 0 if ok or not args.gate else 1


if __name__ == "__main__":
    sys.exit(main())
