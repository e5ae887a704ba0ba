"""The reader against BM25 and e5 cosine on the held-out slices of its own training sets.

    .venv/bin/python benchmarks/reader_slices.py --reader runs/reader/step821 [--train ../shared/data/train]

The validation groups are those `reader.data.build_groups(val=True)` cuts by article (DRCD, CMRC 2018 trial)
and by meeting (QMSum): one answering passage and three that do not (two from the same article or meeting,
one the answering passage with its answer sentences removed). Per scorer: top-1 (the answering passage
scores first) and AUC (answering against not answering), per source and overall.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from common import SHARED
from meeting_qa.embeddings import SentenceEmbeddings
from meeting_qa.reader import load_judge
from meeting_qa.reader.data import Group, build_groups
from meeting_qa.text.fold import fold
from meeting_qa.text.tokenize import tokenize

Scorer = Callable[[Group], list[float]]


def bm25_scorer(groups: Sequence[Group]) -> Scorer:
    import bm25s

    def score(g: Group) -> list[float]:
        docs = [tokenize(fold(p)) for p in g.passages]
        model = bm25s.BM25()
        model.index([list(d) for d in docs], show_progress=False)
        q = list(tokenize(fold(g.question)))
        return [float(x) for x in model.get_scores(q)]

    return score


def cosine_scorer(emb: SentenceEmbeddings) -> Scorer:
    def score(g: Group) -> list[float]:
        q = emb.encode_query(g.question)
        return [float(x) for x in np.asarray(emb.encode_passages(list(g.passages))) @ q]

    return score


def report(name: str, groups: Sequence[Group], scorer: Scorer) -> None:
    by_source: dict[str, list[list[float]]] = {}
    for g in groups:
        by_source.setdefault(g.source, []).append(scorer(g))
    by_source["all"] = [s for k, v in by_source.items() for s in v]
    cells = []
    for source, scores in by_source.items():
        top1 = sum(1 for s in scores if int(np.argmax(s)) == 0) / len(scores)
        pos = [s[0] for s in scores]
        neg = [x for s in scores for x in s[1:]]
        auc = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))
        cells.append(f"{source} ({len(scores)}): top1 {top1:.3f} AUC {auc:.3f}")
    print(f"{name:10} " + " | ".join(cells))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reader", type=Path, required=True)
    ap.add_argument("--train", type=Path, default=SHARED / "data" / "train")
    args = ap.parse_args()
    groups = build_groups(args.train, val=True)
    emb = SentenceEmbeddings(None)
    emb.warm()
    judge = load_judge(args.reader, emb.cache_dir)
    report("BM25", groups, bm25_scorer(groups))
    report("e5 cosine", groups, cosine_scorer(emb))
    report("reader", groups, lambda g: judge.reader.scores([(g.question, p) for p in g.passages]).tolist())


if __name__ == "__main__":
    main()
