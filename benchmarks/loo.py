"""Leave-one-meeting-out fitting and scoring of the fitted weights and thresholds.

    .venv/bin/python benchmarks/loo.py [--cmrc] [--json OUT]

Store: the 10 dev meetings + the 4 dev transcripts + the sample (+ the 848 cmrc2018 paragraphs with
--cmrc), built once under BENCH_WORK. Questions: ../shared/eval/dev_meetings, dev_transcripts and
seed_dev. Each question belongs to the meeting of its first gold paragraph (an unanswerable one to the
meeting it names, else to a meeting in turn). For every meeting: the fusion weights and the abstention
threshold are chosen on the questions of all *other* meetings, then that meeting's questions are
answered with them. The figures printed are those held-out answers only; the last lines print the
values fitted on everything (what genre.toml should carry).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import SAMPLE, SAMPLE_ID, SEED_DEV, SHARED, WORK, cmrc_documents
from meeting_qa.config import Settings
from meeting_qa.embeddings import SentenceEmbeddings
from meeting_qa.eval import GoldItem, load_gold, metrics, row_for
from meeting_qa.qa import ANSWER_CANDIDATES, Engine
from meeting_qa.retrieval import Signals, meeting_view
from meeting_qa.types import Filters

DEV_MEETINGS = SHARED / "eval" / "dev_meetings"
DEV_TRANSCRIPTS = SHARED / "eval" / "dev_transcripts"
# The fitted values and their grids: few, round, so that fitting cannot memorise questions.
FUSION_GRID = {
    "named_meeting": (0.3,),  # every fold chose 0.3 of (0.3, 0.5, 0.8) in the run of 2026-11-29
    "meeting_coverage": (0.1, 0.2),
    "opening_penalty": (0.0, 0.15, 0.3),
}
ABSTAIN_GRID = [round(0.10 + 0.01 * i, 2) for i in range(41)]


@dataclass
class Prepared:
    set_name: str
    item: GoldItem
    fold: str
    sig: Signals


def build_engine(with_cmrc: bool, store: Path | None = None) -> Engine:
    name = "loo+cmrc" if with_cmrc else "loo"
    settings = Settings(store_dir=store or WORK / name, cache_dir=Settings.from_env().cache_dir)
    eng = Engine.build(settings, embeddings=SentenceEmbeddings(None))
    paths: list[Path] = [*sorted(DEV_MEETINGS.glob("*.txt")), *sorted(DEV_TRANSCRIPTS.glob("*.txt")), SAMPLE]
    if with_cmrc:
        paths.append(cmrc_documents())
    t0 = time.perf_counter()
    report = eng.ingest(paths)
    if report.count("added") or report.count("updated"):
        print(f"# store {name}: {len(report.files)} documents in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    eng.embeddings.warm()
    return eng


def prepare(eng: Engine) -> list[Prepared]:
    sets = [
        ("dev_meetings", load_gold(DEV_MEETINGS / "questions.jsonl")),
        ("dev_transcripts", load_gold(DEV_TRANSCRIPTS / "questions.jsonl")),
        ("seed_dev", load_gold(SEED_DEV, meeting_id=SAMPLE_ID)),
    ]
    # seed_dev asks about "the meeting" as the only one: it is scoped to the sample, as `eval --meeting` does.
    scope = {"seed_dev": Filters(meeting_ids=(SAMPLE_ID,))}
    out: list[Prepared] = []
    for set_name, items in sets:
        turn = 0
        meetings = sorted({m for it in items for m, _ in it.gold if m})
        for item in items:
            sig = eng.searcher.signals(item.question, filters=scope.get(set_name))
            if item.gold and item.gold[0][0]:
                fold = str(item.gold[0][0])
            else:
                named = sig.question.named_meetings
                fold = max(named, key=lambda m: named[m]) if named else meetings[turn % len(meetings)]
                turn += 1
            out.append(Prepared(set_name, item, fold, sig))
    return out


def settings_grid() -> list[dict[str, float]]:
    keys = list(FUSION_GRID)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*FUSION_GRID.values())]


def evaluate(
    eng: Engine, prepared: Sequence[Prepared], fusion: dict[str, float], abstain: float
) -> list[dict[str, Any]]:
    base = eng.searcher.profile
    profile = base.with_(fusion=fusion, answer={"abstain_below": abstain})
    eng.searcher.profile = profile
    eng.answerer.profile = profile
    try:
        rows = []
        for p in prepared:
            cands = eng.searcher.fuse(p.sig, k=max(10, ANSWER_CANDIDATES))
            answer = eng.answerer.answer(p.sig, cands[:ANSWER_CANDIDATES])
            uncovered = [
                c.alternatives[0]
                for c in p.sig.concepts
                if c.core and cands and not c.covered_by(meeting_view(p.sig.index, cands[0].stored.meeting_id))
            ]
            extra = {
                "set": p.set_name,
                "fold": p.fold,
                "strength": round(eng.answerer.strength(p.sig, cands[:ANSWER_CANDIDATES]), 3),
                "uncovered": uncovered,
            }
            rows.append(row_for(p.item, [c.passage() for c in cands], answer) | extra)
        return rows
    finally:
        eng.searcher.profile = base
        eng.answerer.profile = base


def strengths(eng: Engine, prepared: Sequence[Prepared], fusion: dict[str, float]) -> list[tuple[float, int]]:
    """(rank of the first gold paragraph or 99, strength) per question under these fusion weights."""
    base = eng.searcher.profile
    eng.searcher.profile = base.with_(fusion=fusion)
    try:
        out = []
        for p in prepared:
            cands = eng.searcher.fuse(p.sig, k=10)
            ranks = [
                i
                for i, c in enumerate(cands, 1)
                if any(
                    (m is None or m == c.stored.meeting_id) and (n is None or n == c.stored.paragraph.number)
                    for m, n in p.item.gold
                )
            ]
            out.append((eng.answerer.strength(p.sig, cands[:ANSWER_CANDIDATES]), ranks[0] if ranks else 99))
        return out
    finally:
        eng.searcher.profile = base


def fit(
    eng: Engine, train: Sequence[Prepared], cache: dict[tuple[Any, ...], list[tuple[float, int]]]
) -> tuple[dict[str, float], float]:
    """Fusion weights by hit@1 on the training questions, then the threshold with the lowest balanced error
    (false-abstain rate + missed-abstain rate: the few unanswerable questions weigh as much as the many
    answerable ones, as the targets for both rates ask)."""
    ids = tuple(id(p) for p in train)
    best: tuple[float, dict[str, float]] | None = None
    results: dict[tuple[float, ...], list[tuple[float, int]]] = {}
    for fusion in settings_grid():
        key = (tuple(fusion.values()), ids)
        if key not in cache:
            cache[key] = strengths(eng, train, fusion)
        res = cache[key]
        results[tuple(fusion.values())] = res
        answerable = [r for (s, r), p in zip(res, train, strict=True) if p.item.answerable and p.item.gold]
        hit1 = sum(1 for r in answerable if r == 1) / max(1, len(answerable))
        if best is None or hit1 > best[0] + 1e-9:
            best = (hit1, fusion)
    assert best is not None
    fusion = best[1]
    res = results[tuple(fusion.values())]
    pos = [s for (s, _), p in zip(res, train, strict=True) if p.item.answerable]
    neg = [s for (s, _), p in zip(res, train, strict=True) if not p.item.answerable]
    costs = [
        (sum(1 for s in pos if s < t) / max(1, len(pos)) + sum(1 for s in neg if s >= t) / max(1, len(neg)), t)
        for t in ABSTAIN_GRID
    ]
    low = min(c for c, _ in costs)
    ties = [t for c, t in costs if c == low]
    return fusion, round((ties[0] + ties[-1]) / 2, 3)  # the middle of the best interval


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cmrc", action="store_true", help="add the 848 cmrc2018 paragraphs as distractors")
    ap.add_argument("--json", type=Path, help="write rows and fitted values here")
    ap.add_argument("--store", type=Path, help="the store to use (default: built under BENCH_WORK)")
    args = ap.parse_args()
    eng = build_engine(args.cmrc, args.store)
    t0 = time.perf_counter()
    prepared = prepare(eng)
    print(f"# {len(prepared)} questions analysed in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    folds = sorted({p.fold for p in prepared})
    cache: dict[tuple[Any, ...], list[tuple[float, int]]] = {}
    held_out: list[dict[str, Any]] = []
    fitted: dict[str, Any] = {}
    for fold in folds:
        train = [p for p in prepared if p.fold != fold]
        test = [p for p in prepared if p.fold == fold]
        fusion, abstain = fit(eng, train, cache)
        fitted[fold] = {"fusion": fusion, "abstain_below": abstain}
        held_out.extend(evaluate(eng, test, fusion, abstain))
        print(f"# fold {fold}: {len(test)} q, fusion {fusion}, abstain_below {abstain}", file=sys.stderr)
    report: dict[str, Any] = {"held_out": {}, "fitted_per_fold": fitted}
    for set_name in ("dev_meetings", "dev_transcripts", "seed_dev"):
        rows = [r for r in held_out if r["set"] == set_name]
        by_lang = {lang: metrics([r for r in rows if r["lang"] == lang]) for lang in sorted({r["lang"] for r in rows})}
        report["held_out"][set_name] = {"overall": metrics(rows), "by_language": by_lang}
        print(f"\n== {set_name} (held-out folds, {len(rows)} questions)")
        cols = ["hit@1", "hit@3", "key_coverage", "citation_precision", "abstain_recall", "false_abstain_rate"]
        print(f"{'':10}" + "".join(f"{c[:12]:>13}" for c in cols))
        for name, m in [*by_lang.items(), ("overall", metrics(rows))]:
            print(f"{name:10}" + "".join(f"{'-' if m.get(c) is None else format(m[c], '.3f'):>13}" for c in cols))
        misses = [r["id"] for r in rows if r["answerable"] and r["has_gold"] and r["rank"] != 1]
        print("not first:", " ".join(misses))
        print("keys missing:", " ".join(r["id"] for r in rows if r["answerable"] and not r["covered"]))
        print("wrong abstain:", " ".join(r["id"] for r in rows if r["abstained"] != (not r["answerable"])))
    fusion, abstain = fit(eng, prepared, cache)
    print(f"\nfitted on all questions: fusion {fusion}, abstain_below {abstain}")
    report["fitted_all"] = {"fusion": fusion, "abstain_below": abstain}
    if args.json:
        args.json.write_text(json.dumps(report | {"rows": held_out}, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
