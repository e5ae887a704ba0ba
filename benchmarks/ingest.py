"""Ingest throughput against the model's own limit, measured side by side in one process.

The limit: `SentenceTransformer.encode` over exactly the texts ingest embeds (paragraphs, the sentences of
multi-sentence paragraphs, titles), in one call (batched, length-sorted by sentence-transformers). Then the
same corpus is ingested into a new store through `Engine.ingest` (parse, fold, embed, write to Chroma).
The ratio ingest/raw says how much ingest adds on top of the forward passes.

    .venv/bin/python benchmarks/ingest.py                 # sample + cmrc2018 (849 documents)
    .venv/bin/python benchmarks/ingest.py --dev            # sample + the 10 dev meetings
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from common import SAMPLE, SHARED, WORK, cmrc_documents
from meeting_qa.config import Settings
from meeting_qa.embeddings import SentenceEmbeddings
from meeting_qa.loaders import find_files, load_path
from meeting_qa.qa import Engine
from meeting_qa.records import records_for
from meeting_qa.types import Meeting


def corpus_texts(paths: list[Path]) -> tuple[list[str], int, int]:
    """The texts ingest embeds for these files, with the number of documents and paragraphs."""
    texts: list[str] = []
    docs = paragraphs = 0
    for path in find_files(paths):
        for item in load_path(path):
            if isinstance(item, Meeting):
                texts += records_for(item).texts
                docs += 1
                paragraphs += len(item.paragraphs)
    return texts, docs, paragraphs


def raw_encode_seconds(embeddings: SentenceEmbeddings, texts: list[str]) -> tuple[float, float]:
    """Wall and CPU time of the model alone on these texts, in one batched, length-sorted call."""
    t0, c0 = time.perf_counter(), time.process_time()
    embeddings.encode_passages(texts)
    return time.perf_counter() - t0, time.process_time() - c0


def ingest_seconds(embeddings: SentenceEmbeddings, paths: list[Path], store: Path) -> tuple[float, float]:
    """Wall and CPU time of `Engine.ingest` into a new store (parse, fold, embed, write, lexical index)."""
    shutil.rmtree(store, ignore_errors=True)
    engine = Engine.build(Settings(store_dir=store, cache_dir=Settings.from_env().cache_dir), embeddings=embeddings)
    t0, c0 = time.perf_counter(), time.process_time()
    report = engine.ingest(paths)
    took = time.perf_counter() - t0, time.process_time() - c0
    assert report.ok, [f.error for f in report.files if f.error]
    return took


def measure(embeddings: SentenceEmbeddings, paths: list[Path], store: Path) -> dict[str, float]:
    texts, docs, paragraphs = corpus_texts(paths)
    embeddings.encode_passages(texts[:64])  # warm: first-call allocations are not the model's limit
    load0 = os.getloadavg()[0]
    raw, raw_cpu = raw_encode_seconds(embeddings, texts)
    ingest, ingest_cpu = ingest_seconds(embeddings, paths, store)
    return {
        "documents": docs,
        "paragraphs": paragraphs,
        "texts": len(texts),
        "raw_s": raw,
        "ingest_s": ingest,
        "ratio": ingest / raw,
        # CPU seconds of this process (all its threads): on a shared machine, wall time also counts the
        # time other jobs held the cores, which differs between the two runs.
        "raw_cpu_s": raw_cpu,
        "ingest_cpu_s": ingest_cpu,
        "cpu_ratio": ingest_cpu / raw_cpu,
        "raw_paragraphs_per_s": paragraphs / raw,
        "ingest_paragraphs_per_s": paragraphs / ingest,
        "load_before": load0,
        "load_after": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dev", action="store_true", help="sample + ../shared/eval/dev_meetings instead of cmrc2018")
    args = parser.parse_args()
    if args.dev:
        name, paths = "ingest-dev", [SAMPLE, *sorted((SHARED / "eval" / "dev_meetings").glob("*.txt"))]
    else:
        name, paths = "ingest-cmrc", [SAMPLE, cmrc_documents()]
    embeddings = SentenceEmbeddings(None, cache_dir=Settings.from_env().cache_dir)
    embeddings.warm()
    r = measure(embeddings, paths, WORK / name)
    print(
        f"{name}: {r['documents']:.0f} documents, {r['paragraphs']:.0f} paragraphs, {r['texts']:.0f} texts | "
        f"raw encode {r['raw_s']:.1f} s ({r['raw_paragraphs_per_s']:.1f} ¶/s) | "
        f"ingest {r['ingest_s']:.1f} s ({r['ingest_paragraphs_per_s']:.1f} ¶/s) | ratio {r['ratio']:.2f} | "
        f"CPU raw {r['raw_cpu_s']:.1f} s, ingest {r['ingest_cpu_s']:.1f} s, ratio {r['cpu_ratio']:.2f} | "
        f"load {r['load_before']:.1f}→{r['load_after']:.1f}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
