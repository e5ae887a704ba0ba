"""Scoring extracted items against a hand-written gold list (tests/data/items_gold.jsonl, see its .md).

A gold row is found when any returned item of a compatible kind overlaps its quote (or one of its `also`
quotes) in the same paragraph and agrees with its subject, owner and due (recall). An extracted item is
correct when it matches some row; precision counts the items a gold list covers — approved documents,
tasks, commitments and any item with a due date (decisions, reports heard and principles without a date
are outside the list).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meeting_qa.text.fold import fold
from meeting_qa.types import Item

_COMPATIBLE = {"approved": {"approved"}, "task": {"task", "decision"}, "commitment": {"commitment", "task"}}
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Score:
    recall: float
    precision: float
    found: int
    rows: int
    correct: int
    scored_items: int
    missed: tuple[dict[str, Any], ...]
    wrong: tuple[Item, ...]


def load_gold(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def in_scope(item: Item) -> bool:
    return item.kind in {"approved", "task", "commitment"} or item.due is not None


def row_matches(row: Mapping[str, Any], item: Item, texts: Mapping[tuple[str, int], str]) -> bool:
    if item.meeting_id != row["meeting_id"] or item.kind not in _COMPATIBLE[row["kind"]]:
        return False
    evidence = [(row["paragraph"], row["quote"])] + [(a["paragraph"], a["quote"]) for a in row.get("also", [])]
    if not any(_overlaps(item, n, q, texts) for n, q in evidence):
        return False
    if row["kind"] == "approved" and not _either_in(row["subject"], item.subject):
        return False
    if row.get("owner") and not (item.owner and _either_in(row["owner"], item.owner)):
        return False
    due = row.get("due")
    if due:
        if _ISO.match(due):
            return item.due == due
        return fold(due) in fold(item.due or "")
    return True


def score(rows: Iterable[Mapping[str, Any]], items: Iterable[Item], texts: Mapping[tuple[str, int], str]) -> Score:
    rows = list(rows)
    meetings = {r["meeting_id"] for r in rows}
    returned = [i for i in items if i.meeting_id in meetings]
    scored = [i for i in returned if in_scope(i)]
    found = [r for r in rows if any(row_matches(r, i, texts) for i in returned)]
    correct = [i for i in scored if any(row_matches(r, i, texts) for r in rows)]
    return Score(
        recall=len(found) / len(rows) if rows else 1.0,
        precision=len(correct) / len(scored) if scored else 1.0,
        found=len(found),
        rows=len(rows),
        correct=len(correct),
        scored_items=len(scored),
        missed=tuple(dict(r) for r in rows if r not in found),
        wrong=tuple(i for i in scored if i not in correct),
    )


def _overlaps(item: Item, paragraph: int, quote: str, texts: Mapping[tuple[str, int], str]) -> bool:
    if item.paragraph != paragraph:
        return False
    at = texts.get((item.meeting_id, paragraph), "").find(quote)
    return at >= 0 and item.start < at + len(quote) and at < item.end


def _either_in(a: str, b: str) -> bool:
    fa, fb = fold(a), fold(b)
    return bool(fa and fb) and (fa in fb or fb in fa)
