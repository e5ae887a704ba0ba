"""Latency of search() and ask() with the default extractive answerer, model warm, plus ingest speed.

    .venv/bin/python benchmarks/latency.py

Questions: seed_dev (all 26) repeated 3 times, on the sample store and on the sample + cmrc2018 store.
"""

from __future__ import annotations

import statistics
import time

from common import SEED_DEV, WORK, engine
from meeting_qa.embeddings import SentenceEmbeddings
from meeting_qa.eval import load_gold
from meeting_qa.qa import Engine


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def timed(fn: object, questions: list[str], repeat: int = 3) -> list[float]:
    out = []
    for _ in range(repeat):
        for q in questions:
            t0 = time.perf_counter()
            fn(q)  # type: ignore[operator]
            out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    emb = SentenceEmbeddings(None)
    t0 = time.perf_counter()
    emb.warm()
    print(f"model load: {time.perf_counter() - t0:.1f}s")
    questions = [i.question for i in load_gold(SEED_DEV, meeting_id="x")]
    # Ingest speed on a fresh store (sample meeting: 11 paragraphs + their sentences).
    import shutil

    shutil.rmtree(WORK / "ingest-speed", ignore_errors=True)
    t0 = time.perf_counter()
    engine("ingest-speed", emb)
    print(f"ingest of the sample meeting into a new store: {time.perf_counter() - t0:.2f}s")
    print("| store | operation | n | p50 ms | p95 ms | mean ms |")
    print("|---|---|---|---|---|---|")
    for name, with_cmrc in (("sample", False), ("sample+cmrc", True)):
        eng: Engine = engine(name, emb, with_cmrc=with_cmrc)
        for q in questions[:3]:
            eng.ask(q)  # warm: lexical index, dictionary, caches
        for op, fn in (("search", lambda q, e=eng: e.search(q, k=5)), ("ask", lambda q, e=eng: e.ask(q))):
            ms = timed(fn, questions)
            print(
                f"| {name} | {op} | {len(ms)} | {pct(ms, 0.5):.1f} | {pct(ms, 0.95):.1f} | {statistics.mean(ms):.1f} |"
            )


if __name__ == "__main__":
    main()
