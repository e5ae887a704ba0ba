"""Real meetings, measured on a fixed split: choose on the fitting half, report the held-out half.

    .venv/bin/python benchmarks/real.py [--reader DIR] [--json OUT]

Store: the 30 real meeting transcripts of ../shared/eval/real_meetings (built once under BENCH_WORK).
Questions: its 150 questions, split by meeting in benchmarks/data/real_split.json (meetings sharing a
cross-meeting question stay in one half). Every question is asked over the whole store, as a user asks.

Without --reader: today's pipeline (fusion + rule answerer), both halves.
With --reader DIR: the reader scores the top candidates; its blend weight with the fused score and the
abstention rule (the rule answerer's strength, the reader's probability, or both) are chosen on the
fitting half from small grids and then applied unchanged to the held-out half.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from common import SHARED, WORK, built_engine
from meeting_qa.eval import GoldItem, load_gold, metrics, row_for
from meeting_qa.profile import AnswerTuning, default_profile
from meeting_qa.qa import ANSWER_CANDIDATES, Engine
from meeting_qa.reader.judge import ABSTAIN_MODES, READ_FROM, SCOPES, Judge, ReaderTuning, Verdict
from meeting_qa.retrieval import Candidate, Signals

REAL = SHARED / "eval" / "real_meetings"
SPLIT = Path(__file__).resolve().parent / "data" / "real_split.json"
COLS = ["hit@1", "hit@3", "key_coverage", "citation_precision", "abstain_recall", "false_abstain_rate"]
BLEND_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)
FUSE_K = READ_FROM
RULE_GRID = [round(0.10 + 0.01 * i, 2) for i in range(41)]
PROB_GRID = [round(0.02 * i, 2) for i in range(1, 50)]


def build_engine(store: Path | None = None) -> Engine:
    return built_engine(store or WORK / "real", sorted(REAL.glob("*.txt")))


def halves() -> dict[str, set[str]]:
    split = json.loads(SPLIT.read_text(encoding="utf-8"))
    return {name: set(ids) for name, ids in split["questions"].items()}


def print_table(title: str, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    by_lang = {lang: metrics([r for r in rows if r["lang"] == lang]) for lang in sorted({r["lang"] for r in rows})}
    overall = metrics(list(rows))
    print(f"\n== {title} ({len(rows)} questions)")
    print(f"{'':10}" + "".join(f"{c[:12]:>13}" for c in COLS) + f"{'p95 ms':>9}")
    for name, m in [*by_lang.items(), ("overall", overall)]:
        vals = "".join(f"{'-' if m.get(c) is None else format(m[c], '.3f'):>13}" for c in COLS)
        print(f"{name:10}{vals}{m.get('latency_p95_ms', 0):>9.0f}")
    return {"overall": overall, "by_language": by_lang}


@dataclass
class Outcome:
    """One question under one blend: its row when answered, and what each abstention rule needs."""

    row: dict[str, Any]
    strength: float  # the rule answerer's evidence strength (0 when nothing can answer)
    turn: bool  # the best evidence is a transcript turn (the transcript threshold applies)
    reader_p: float | None

    def rule_abstains(self, t: AnswerTuning) -> bool:
        return self.strength < (t.abstain_below_transcript if self.turn else t.abstain_below)


def outcomes(eng: Engine, items: Sequence[GoldItem], sigs: dict[str, Signals], judge: Judge | None) -> list[Outcome]:
    out = []
    for item in items:
        sig = sigs[item.id]
        t0 = time.perf_counter()
        cands: list[Candidate] = eng.searcher.fuse(sig, k=FUSE_K)
        verdict = None
        if judge is not None:
            cands, verdict = judge.read(sig, cands)
        top = cands[:ANSWER_CANDIDATES]
        evidence = eng.answerer.evidence(sig, top)
        strength = eng.answerer.strength(sig, evidence) if evidence else 0.0
        turn = bool(evidence and evidence[0].stored.paragraph.speaker)
        # the answer as it would be if not abstaining; abstention is applied per rule below
        answer = eng.answerer.answer(sig, top, verdict=Verdict(1.0, "reader", 0.0))
        ms = (time.perf_counter() - t0) * 1000
        row = row_for(item, [c.passage() for c in cands], answer, ask_ms=ms)
        row["strength"] = round(strength, 3)
        out.append(Outcome(row, strength, turn, None if verdict is None else verdict.probability))
    return out


def rows_under(
    found: Sequence[Outcome], tuning: ReaderTuning | None, rule: AnswerTuning | None = None
) -> list[dict[str, Any]]:
    """The rows as answered with this abstention rule (no tuning: the rule answerer's, with `rule`'s
    thresholds — by default the profile's)."""
    rule = rule or default_profile().answer
    rows = []
    for o in found:
        by_rule = o.rule_abstains(rule)
        if tuning is None or o.reader_p is None:
            abstain = by_rule
        else:
            doubt = o.reader_p < tuning.abstain_below
            abstain = {"rule": by_rule, "reader": doubt, "any": by_rule or doubt}.get(tuning.abstain, by_rule and doubt)
        row = dict(o.row)
        if o.reader_p is not None:
            row["reader_p"] = round(o.reader_p, 3)
        if abstain:
            row.update(abstained=True, covered=False, citations=0, good_citations=0)
        rows.append(row)
    return rows


def _ranking(rows: Sequence[dict[str, Any]]) -> tuple[float, float]:
    m = metrics(list(rows))
    return (m["hit@1"], m["mrr@10"])


def _balanced_error(rows: Sequence[dict[str, Any]]) -> tuple[float, float]:
    """False-abstain rate + missed-abstain rate (the few unanswerable questions weigh as much as the many
    answerable ones, as the targets ask); ties go to the better key coverage."""
    m = metrics(list(rows))
    return (m["false_abstain_rate"] + 1 - (m["abstain_recall"] or 0.0), -m["key_coverage"])


def fit(eng: Engine, items: Sequence[GoldItem], sigs: dict[str, Signals], judge: Judge) -> ReaderTuning:
    """The blend by hit@1 (ties: MRR), then the abstention rule by balanced error, both on `items`."""
    best_blend: tuple[tuple[float, float], float, list[Outcome]] | None = None
    for scope in SCOPES:
        for blend in BLEND_GRID[1:] if scope == "meeting" else BLEND_GRID:
            judge.tuning = ReaderTuning(blend=blend, scope=scope)
            found = outcomes(eng, items, sigs, judge)
            score = _ranking(rows_under(found, None))
            print(f"# {scope} blend {blend}: hit@1 {score[0]:.3f} mrr {score[1]:.3f}", file=sys.stderr)
            if best_blend is None or score > best_blend[0]:
                best_blend = (score, (blend, scope), found)
    assert best_blend is not None
    _, (blend, scope), found = best_blend
    best: tuple[tuple[float, float], ReaderTuning] | None = None
    for mode in ABSTAIN_MODES:
        for t in [0.0] if mode == "rule" else PROB_GRID:
            tuning = ReaderTuning(blend=blend, abstain=mode, abstain_below=t, scope=scope)
            err = _balanced_error(rows_under(found, tuning))
            if best is None or err < best[0]:
                best = (err, tuning)
    assert best is not None
    return best[1]


def fit_rule(found: Sequence[Outcome]) -> AnswerTuning:
    """The rule answerer's transcript threshold with the lowest balanced error on `found` (real_meetings are
    all transcripts; the reports' threshold stays as fitted on the dev meetings by loo.py)."""
    base = default_profile().answer
    costs = [
        (_balanced_error(rows_under(found, None, replace(base, abstain_below_transcript=t))), t) for t in RULE_GRID
    ]
    low = min(c for c, _ in costs)
    ties = [t for c, t in costs if c == low]
    return replace(base, abstain_below_transcript=round((ties[0] + ties[-1]) / 2, 3))  # the middle of the best interval


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reader", type=Path, help="a reader folder (reader.json + reader.safetensors)")
    ap.add_argument("--store", type=Path)
    ap.add_argument("--json", type=Path)
    ap.add_argument(
        "--fit-rule", action="store_true", help="without --reader: fit the transcript threshold on the fitting half"
    )
    args = ap.parse_args()
    eng = build_engine(args.store)
    items = load_gold(REAL / "questions.jsonl")
    part = halves()
    t0 = time.perf_counter()
    sigs = {it.id: eng.searcher.signals(it.question) for it in items}
    print(f"# {len(items)} questions analysed in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    fitting = [it for it in items if it.id in part["fitting"]]
    held = [it for it in items if it.id in part["held_out"]]
    report: dict[str, Any] = {}
    judge = None
    if args.reader:
        from meeting_qa.reader import load_judge

        judge = load_judge(args.reader, eng.settings.cache_dir)
        t0 = time.perf_counter()
        judge.tuning = fit(eng, fitting, sigs, judge)
        print(f"# fitted on the fitting half in {time.perf_counter() - t0:.0f}s: {judge.tuning}", file=sys.stderr)
        report["tuning"] = judge.tuning.__dict__
    found = {name: outcomes(eng, subset, sigs, judge) for name, subset in (("fitting", fitting), ("held_out", held))}
    rule = default_profile().answer
    if args.fit_rule and judge is None:
        rule = fit_rule(found["fitting"])
        print(f"# transcript threshold fitted on the fitting half: {rule.abstain_below_transcript}", file=sys.stderr)
        report["abstain_below_transcript"] = rule.abstain_below_transcript
    for name, rows_found in found.items():
        rows = rows_under(rows_found, judge.tuning if judge else None, rule)
        report[name] = print_table(f"real_meetings {name} half" + (" + reader" if judge else ""), rows)
        report[name]["rows"] = rows
        print("not first:", " ".join(r["id"] for r in rows if r["answerable"] and r["has_gold"] and r["rank"] != 1))
        print("wrong abstain:", " ".join(r["id"] for r in rows if r["abstained"] != (not r["answerable"])))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
