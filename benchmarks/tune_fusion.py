"""Grid-search the fusion weights on the dev set (signals computed once per question).

.venv/bin/python benchmarks/tune_fusion.py [--cmrc]
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import replace

from common import SAMPLE_ID, SEED_DEV, engine
from meeting_qa.embeddings import SentenceEmbeddings
from meeting_qa.eval import load_gold
from meeting_qa.retrieval import FusionWeights


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cmrc", action="store_true", help="with the cmrc2018 distractors in the store")
    args = ap.parse_args()
    emb = SentenceEmbeddings(None)
    eng = engine("sample+cmrc" if args.cmrc else "sample", emb, with_cmrc=args.cmrc)
    items = [i for i in load_gold(SEED_DEV, meeting_id=SAMPLE_ID) if i.answerable]
    signals = [(i, eng.searcher.signals(i.question)) for i in items]
    base = FusionWeights()
    results = []
    for lex, share, atype, mcov, sat in itertools.product(
        [0.4, 0.5, 0.6, 0.7], [0.5, 0.7, 1.0], [0.0, 0.1, 0.2, 0.3], [0.0, 0.1, 0.2, 0.3], [4.0, 8.0]
    ):
        w = replace(
            base,
            lexical=lex,
            dense=1 - lex,
            sentence_share=share,
            answer_type=atype,
            meeting_coverage=mcov,
            lexical_saturation=sat,
        )
        per_lang: dict[str, list[int]] = {}
        for item, sig in signals:
            cands = eng.searcher.fuse(sig, k=3, weights=w)
            gold = {p for _, p in item.gold}
            rank = next(
                (
                    r
                    for r, c in enumerate(cands, 1)
                    if c.stored.meeting_id == SAMPLE_ID and c.stored.paragraph.number in gold
                ),
                99,
            )
            per_lang.setdefault(item.lang, []).append(rank)
        h1 = {lang: sum(r == 1 for r in ranks) / len(ranks) for lang, ranks in per_lang.items()}
        h3 = {lang: sum(r <= 3 for r in ranks) / len(ranks) for lang, ranks in per_lang.items()}
        total = sum(sum(r == 1 for r in ranks) for ranks in per_lang.values()) / len(signals)
        results.append((total, min(h1.values()), h1, h3, w))
    results.sort(key=lambda r: (-r[0], -r[1]))
    for total, worst, h1, h3, w in results[: int(__import__("os").environ.get("TUNE_TOP", "12"))]:
        print(
            f"hit@1 {total:.3f} worst-lang {worst:.2f} {h1} hit@3 {h3} lex={w.lexical} share={w.sentence_share} "
            f"atype={w.answer_type} mcov={w.meeting_coverage} sat={w.lexical_saturation}"
        )


if __name__ == "__main__":
    main()
