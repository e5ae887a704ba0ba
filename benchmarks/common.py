"""Shared helpers for benchmarks: stores built once with the real default model, gold loading."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHARED_DIR") or ROOT.parent / "shared")  # beside the checkout unless told
SAMPLE = ROOT / "ingest" / "yancheng-party-committee-2022-05-06.txt"
SAMPLE_ID = "yancheng-party-committee-2022-05-06"
SEED_DEV = SHARED / "eval" / "seed_dev.jsonl"
CMRC = SHARED / "data" / "cmrc2018"
WORK = Path(os.environ.get("BENCH_WORK", "/tmp/meeting-qa-bench"))

sys.path.insert(0, str(ROOT / "src"))

from meeting_qa.config import Settings  # noqa: E402
from meeting_qa.embeddings import SentenceEmbeddings  # noqa: E402
from meeting_qa.qa import Engine  # noqa: E402


def cmrc_documents() -> Path:
    """cmrc2018 passages as a bulk JSON Lines file of documents (`id`, `title`, `text`)."""
    out = WORK / "cmrc-docs.jsonl"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8") as f:
            for line in (CMRC / "passages.jsonl").open(encoding="utf-8"):
                p = json.loads(line)
                f.write(json.dumps({"id": p["pid"], "title": p["title"], "text": p["text"]}, ensure_ascii=False) + "\n")
    return out


def cmrc_gold() -> Path:
    return CMRC / "queries.jsonl"


def engine(name: str, embeddings: SentenceEmbeddings, *, with_cmrc: bool = False) -> Engine:
    """An engine over a store kept under WORK (ingest is a no-op when it is already there)."""
    settings = Settings(
        store_dir=WORK / name, cache_dir=Settings.from_env().cache_dir, reader=Settings.from_env().reader
    )
    eng = Engine.build(settings, embeddings=embeddings)
    t0 = time.perf_counter()
    paths = [SAMPLE, cmrc_documents()] if with_cmrc else [SAMPLE]
    report = eng.ingest(paths)
    took = time.perf_counter() - t0
    if report.count("added"):
        print(f"# ingested {report.count('added')} meetings into {name} in {took:.1f}s", file=sys.stderr)
    return eng


def built_engine(store: Path, paths: list[Path]) -> Engine:
    """An engine over `store` holding `paths` (ingested once: a rerun finds them unchanged), the model warm.
    The reader follows MEETING_QA_READER like the rest of the settings."""
    env = Settings.from_env()
    eng = Engine.build(
        Settings(store_dir=store, cache_dir=env.cache_dir, reader=env.reader), embeddings=SentenceEmbeddings(None)
    )
    t0 = time.perf_counter()
    report = eng.ingest(paths)
    if report.count("added") or report.count("updated"):
        print(
            f"# store {store.name}: {len(report.files)} documents in {time.perf_counter() - t0:.0f}s", file=sys.stderr
        )
    eng.embeddings.warm()
    return eng
