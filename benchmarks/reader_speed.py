"""What the reader costs a question: ask() and search() latency with the reader off and on, side by side.

    .venv/bin/python benchmarks/reader_speed.py [--reader DIR] [--repeat 2]

Stores (built by benchmarks/real.py and benchmarks/loo.py under BENCH_WORK): `real` — the 30 real meeting
transcripts (3,528 turns, up to 313 a meeting) — and `loo` — the 10 dev meetings, 4 dev transcripts and
the sample. Questions: the real_meetings questions on `real`, the dev_meetings questions on `loo`. Each
question is asked with the reader off, then on, in turn, so both see the same machine load; the figures
are p50/p95 per setting and the on/off ratio. The process's peak RSS is printed at the end (both models
loaded, as a server holds them).
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from common import SHARED, WORK
from meeting_qa.config import Settings
from meeting_qa.embeddings import SentenceEmbeddings
from meeting_qa.eval import load_gold
from meeting_qa.qa import Engine
from meeting_qa.reader import SHIPPED, load_judge


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reader", type=Path, default=SHIPPED)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    emb = SentenceEmbeddings(None)
    emb.warm()
    cache = Settings.from_env().cache_dir
    sets = [
        ("real", SHARED / "eval" / "real_meetings" / "questions.jsonl"),
        ("loo", SHARED / "eval" / "dev_meetings" / "questions.jsonl"),
    ]
    for store, gold in sets:
        if not (WORK / store).exists():
            print(f"{store}: no store under {WORK} (run benchmarks/real.py / loo.py first)")
            continue
        eng = Engine.build(Settings(store_dir=WORK / store, cache_dir=cache, reader="none"), embeddings=emb)
        judge = load_judge(args.reader, cache)
        questions = [i.question for i in load_gold(gold)]
        eng.ask(questions[0])
        eng.judge = judge
        eng.ask(questions[0])  # loads the reader
        times: dict[tuple[str, bool], list[float]] = {}
        for _ in range(args.repeat):
            judge._cache.clear()  # a repeated question must not be read from the cache
            for q in questions:
                for on in (False, True):
                    eng.judge = judge if on else None
                    for what, fn in (("ask", eng.ask), ("search", eng.search)):
                        t0 = time.perf_counter()
                        fn(q)
                        times.setdefault((what, on), []).append((time.perf_counter() - t0) * 1000)
        print(f"\n== store {store}: {len(questions)} questions x {args.repeat}")
        for what in ("ask", "search"):
            off, on_ = times[(what, False)], times[(what, True)]
            print(
                f"{what:7} reader off p50 {pct(off, 0.5):6.0f} ms  p95 {pct(off, 0.95):6.0f} ms | "
                f"on p50 {pct(on_, 0.5):6.0f} ms  p95 {pct(on_, 0.95):6.0f} ms | "
                f"ratio p95 {pct(on_, 0.95) / pct(off, 0.95):.2f}"
            )
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
