"""`meeting-qa eval GOLD.jsonl`: retrieval and answer metrics per language and overall.

Accepts the dev-set schema of ../shared/eval/README.md (`q`, `lang`, `gold` paragraph numbers, `keys`,
`answerable`) and CMRC-2018-style queries (`question`, `answers`, `gold_pids` = document ids). A line may
also carry the API's filters (`meeting_ids`, `since`, `until`, `speakers`): that question is then searched
and answered within them (e.g. VCSum's headlines, each asked within its own meeting).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meeting_qa.config import Settings
from meeting_qa.errors import InputError
from meeting_qa.qa import Engine, engine_for
from meeting_qa.text.fold import detect_language, fold
from meeting_qa.types import Answer, Passage

K = 10
FILTER_FIELDS = ("meeting_ids", "since", "until", "speakers")


@dataclass(frozen=True)
class GoldItem:
    id: str
    question: str
    lang: str
    gold: tuple[tuple[str | None, int | None], ...]  # (meeting_id or None, paragraph or None)
    keys: tuple[tuple[str, ...], ...]
    answerable: bool
    filters: tuple[tuple[str, Any], ...] = ()  # keyword arguments of search()/ask(), e.g. ("meeting_ids", (...))


def _norm(text: str) -> str:
    return fold(text).replace(" ", "")


def load_gold(path: Path, *, meeting_id: str | None = None) -> list[GoldItem]:
    """Read a gold file; every problem names the file and line."""
    if not path.is_file():
        raise InputError(f"{path}: no such gold file", path=str(path))
    items: list[GoldItem] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"{where}: invalid JSON ({e.msg})", path=where) from None
        if not isinstance(obj, dict):
            raise InputError(f"{where}: expected a JSON object", path=where)
        question = obj.get("q") or obj.get("question")
        if not isinstance(question, str) or not question.strip():
            raise InputError(f"{where}: missing question (field q or question)", path=where)
        gold: list[tuple[str | None, int | None]] = []
        scope = obj.get("meeting_id") or meeting_id
        for g in obj.get("gold", []) or []:
            if isinstance(g, int) and not isinstance(g, bool):
                gold.append((scope, g))
            elif isinstance(g, str):
                mid, _, para = g.partition("#")
                gold.append((mid, int(para) if para.isdigit() else None))
            else:
                raise InputError(f"{where}: gold entries must be paragraph numbers or ids, got {g!r}", path=where)
        for pid in obj.get("gold_pids", []) or []:
            gold.append((str(pid), None))
        if "keys" in obj:
            keys = tuple(tuple(str(a) for a in group) for group in obj["keys"])
        elif obj.get("answers"):
            keys = (tuple(str(a) for a in obj["answers"]),)
        else:
            keys = ()
        answerable = bool(obj.get("answerable", True))
        lang = obj.get("lang") or detect_language(question)
        filters = tuple(
            (name, tuple(obj[name]) if isinstance(obj[name], list) else obj[name])
            for name in FILTER_FIELDS
            if obj.get(name) is not None
        )
        items.append(
            GoldItem(
                str(obj.get("id") or obj.get("qid") or lineno), question, lang, tuple(gold), keys, answerable, filters
            )
        )
    if not items:
        raise InputError(f"{path}: no questions in the gold file", path=str(path))
    return items


def _matches(gold: Sequence[tuple[str | None, int | None]], meeting_id: str, paragraph: int) -> bool:
    return any((m is None or m == meeting_id) and (p is None or p == paragraph) for m, p in gold)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def row_for(
    item: GoldItem, passages: Sequence[Passage], answer: Answer | None, *, search_ms: float = 0.0, ask_ms: float = 0.0
) -> dict[str, Any]:
    """One question's outcome: the rank of its first gold paragraph, and how the answer did."""
    ranks = [i for i, p in enumerate(passages[:K], 1) if _matches(item.gold, p.meeting_id, p.paragraph)]
    row: dict[str, Any] = {
        "id": item.id,
        "lang": item.lang,
        "answerable": item.answerable,
        "has_gold": bool(item.gold),
        "rank": ranks[0] if ranks else None,
        "search_ms": search_ms,
    }
    if answer is not None:
        text = _norm(answer.text)
        row["ask_ms"] = ask_ms
        row["abstained"] = answer.abstained
        row["covered"] = (not answer.abstained) and all(any(_norm(a) in text for a in g) for g in item.keys)
        row["citations"] = len(answer.citations)
        row["good_citations"] = sum(1 for c in answer.citations if _matches(item.gold, c.meeting_id, c.paragraph))
        row["answer"] = answer.text
    return row


def evaluate(
    engine: Engine, items: list[GoldItem], *, answers: bool = True, meeting_ids: Sequence[str] | None = None
) -> dict[str, Any]:
    """Run every question through search (and ask) and compute the metrics of ../shared/eval/README.md.
    `meeting_ids` restricts retrieval (and so the answers) to those meetings."""
    rows: list[dict[str, Any]] = []
    for item in items:
        t0 = time.perf_counter()
        # A line's own filters (e.g. its meeting) take precedence over the run's restriction.
        scope: dict[str, Any] = {"meeting_ids": meeting_ids} if meeting_ids is not None else {}
        scope.update(item.filters)
        passages = engine.search(item.question, k=K, **scope)
        search_ms = (time.perf_counter() - t0) * 1000
        answer = None
        ask_ms = 0.0
        if answers:
            t0 = time.perf_counter()
            answer = engine.ask(item.question, **scope)
            ask_ms = (time.perf_counter() - t0) * 1000
        rows.append(row_for(item, passages, answer, search_ms=search_ms, ask_ms=ask_ms))
    langs = sorted({r["lang"] for r in rows})
    report: dict[str, Any] = {"questions": len(rows), "overall": metrics(rows, answers)}
    report["by_language"] = {lang: metrics([r for r in rows if r["lang"] == lang], answers) for lang in langs}
    report["rows"] = rows
    return report


def metrics(rows: list[dict[str, Any]], answers: bool = True) -> dict[str, Any]:
    """The metrics of a set of rows (see `row_for`)."""
    ranked = [r for r in rows if r["answerable"] and r["has_gold"]]
    n = len(ranked) or 1
    m: dict[str, Any] = {
        "questions": len(rows),
        "hit@1": sum(1 for r in ranked if r["rank"] == 1) / n,
        "hit@3": sum(1 for r in ranked if r["rank"] and r["rank"] <= 3) / n,
        "mrr@10": sum(1 / r["rank"] for r in ranked if r["rank"]) / n,
        "search_p50_ms": _pct([r["search_ms"] for r in rows], 0.5),
        "search_p95_ms": _pct([r["search_ms"] for r in rows], 0.95),
    }
    if answers:
        answerable = [r for r in rows if r["answerable"]]
        unanswerable = [r for r in rows if not r["answerable"]]
        cites = sum(r["citations"] for r in rows)
        m.update(
            {
                "key_coverage": sum(1 for r in answerable if r["covered"]) / (len(answerable) or 1),
                "citation_precision": sum(r["good_citations"] for r in rows) / cites if cites else 1.0,
                "abstain_recall": (
                    sum(1 for r in unanswerable if r["abstained"]) / len(unanswerable) if unanswerable else None
                ),
                "false_abstain_rate": sum(1 for r in answerable if r["abstained"]) / (len(answerable) or 1),
                "latency_p50_ms": _pct([r.get("ask_ms", 0.0) for r in rows], 0.5),
                "latency_p95_ms": _pct([r.get("ask_ms", 0.0) for r in rows], 0.95),
            }
        )
    return m


def run_eval(path: Path, *, settings: Settings | None = None, meeting_id: str | None = None) -> dict[str, Any]:
    engine = engine_for(settings)
    items = load_gold(path, meeting_id=meeting_id)
    if any(m is None and p is not None for it in items for m, p in it.gold):
        # Paragraph numbers without a meeting: they refer to the only meeting, or we cannot tell.
        meetings = engine.list_meetings()
        if len(meetings) != 1:
            raise InputError(
                f"{path}: gold paragraph numbers need a meeting, and the store has {len(meetings)} meetings; "
                "pass --meeting ID (or add meeting_id to each line)",
                path=str(path),
            )
        items = load_gold(path, meeting_id=meetings[0].meeting_id)
    if meeting_id is not None:
        engine.filters(meeting_ids=[meeting_id])  # an unknown id is refused before the model loads
    engine.embeddings.warm()
    return evaluate(engine, items, meeting_ids=[meeting_id] if meeting_id else None)


def format_report(report: dict[str, Any]) -> str:
    """A table: one row per language plus overall."""
    cols = [
        "hit@1",
        "hit@3",
        "mrr@10",
        "key_coverage",
        "citation_precision",
        "abstain_recall",
        "false_abstain_rate",
        "latency_p50_ms",
        "latency_p95_ms",
    ]
    lines = ["set        n  " + "  ".join(f"{c:>9.9}" for c in cols)]

    def fmt(v: Any) -> str:
        if v is None:
            return f"{'-':>9}"
        return f"{v:9.1f}" if isinstance(v, float) and v > 1.5 else f"{v:9.3f}"

    for name, m in [*report["by_language"].items(), ("overall", report["overall"])]:
        lines.append(f"{name:<9} {m['questions']:3d}  " + "  ".join(fmt(m.get(c)) for c in cols))
    misses = [r for r in report["rows"] if r["answerable"] and r["has_gold"] and r["rank"] != 1]
    if misses:
        lines.append("not first: " + ", ".join(f"{r['id']}(rank {r['rank']})" for r in misses))
    uncovered = [r["id"] for r in report["rows"] if r["answerable"] and not r.get("covered", True)]
    if uncovered:
        lines.append("keys missing: " + ", ".join(uncovered))
    return "\n".join(lines)
