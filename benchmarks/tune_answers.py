"""Calibrate the extractive answerer (abstention threshold, evidence mix) on the dev set.

    .venv/bin/python benchmarks/tune_answers.py [GOLD.jsonl ...]
Prints each question's evidence strength and the metrics for a range of thresholds.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from common import SAMPLE_ID, SEED_DEV, engine
from meeting_qa.answer.extractive import AnswerTuning
from meeting_qa.embeddings import SentenceEmbeddings
from meeting_qa.eval import _norm, load_gold


def main() -> None:
    golds = [Path(a) for a in sys.argv[1:]] or [SEED_DEV]
    eng = engine("sample", SentenceEmbeddings(None))
    items = [i for g in golds for i in load_gold(g, meeting_id=SAMPLE_ID)]
    prepared = []
    for item in items:
        sig = eng.searcher.signals(item.question)
        prepared.append((item, sig, eng.searcher.fuse(sig, k=5)))
    base = eng.answerer.tuning
    for share in (0.5, 0.6, 0.7, 0.8):
        eng.answerer.tuning = replace(base, coverage_share=share)
        rows = [(item, eng.answerer.strength(sig, cands)) for item, sig, cands in prepared]
        ans = sorted(s for i, s in rows if i.answerable)
        una = sorted(s for i, s in rows if not i.answerable)
        print(f"share {share}: answerable min {ans[:4]}  unanswerable max {una[-4:]}")
    eng.answerer.tuning = base
    print()
    for item, sig, cands in prepared:
        s = eng.answerer.strength(sig, cands)
        a = eng.answerer.answer(sig, cands)
        text = _norm(a.text)
        covered = all(any(_norm(k) in text for k in g) for g in item.keys)
        gold = {p for _, p in item.gold}
        prec = [c.paragraph in gold for c in a.citations]
        flag = "" if (a.abstained != item.answerable and (covered or not item.answerable) and all(prec)) else "  <-- "
        print(
            f"{item.id} {item.lang:7} ans={item.answerable!s:5} strength={s:.3f} abst={a.abstained!s:5} keys={covered!s:5} cites={[c.paragraph for c in a.citations]}{flag}"
        )
        if flag:
            print("      ", a.text[:160].replace("\n", " "))


if __name__ == "__main__":
    AnswerTuning()
    main()
