"""The gate on meetings not used for fitting: leave-one-meeting-out over ../shared/eval/dev_meetings with the
real default model. For every dev meeting the fusion weights and thresholds are fitted (benchmarks/loo.py)
on the questions of the other meetings, and its own questions are answered with them; the floors below
apply to those held-out answers only.

The floors are regression floors a little under the held-out figures measured when they were set (see
BENCHMARKS.md), not the targets of the issue, which are not all met yet."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from meeting_qa.config import Settings
from meeting_qa.embeddings import SentenceEmbeddings
from meeting_qa.eval import metrics
from meeting_qa.qa import Engine
from tests.conftest import REAL_CACHE, SAMPLE
from tests.test_e2e import SHARED_EVAL

pytestmark = pytest.mark.e2e
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

DEV_MEETINGS = SHARED_EVAL / "dev_meetings"


@pytest.fixture(scope="module")
def held_out(tmp_path_factory: pytest.TempPathFactory, real_embeddings: SentenceEmbeddings) -> list[dict[str, Any]]:
    if not (DEV_MEETINGS / "questions.jsonl").exists():
        pytest.skip(f"{DEV_MEETINGS} is not here (set SHARED_DIR)")
    import loo  # benchmarks/loo.py: the same fitting that produced genre.toml's values

    store = tmp_path_factory.mktemp("heldout") / "store"
    engine = Engine.build(Settings(store_dir=store, cache_dir=REAL_CACHE), embeddings=real_embeddings)
    report = engine.ingest([*sorted(DEV_MEETINGS.glob("*.txt")), SAMPLE])
    assert report.ok, report.files
    prepared = loo.prepare(engine, ["dev_meetings"])
    rows, _ = loo.leave_one_meeting_out(engine, prepared, {})
    assert len(rows) == len(prepared) == 90
    return rows


def test_held_out_dev_meetings_are_answered_and_cited(held_out: list[dict[str, Any]]) -> None:
    m = metrics(held_out)
    # Measured 2026-11-30, second session (store: the 10 dev meetings + the sample): hit@1 0.949, hit@3 0.987,
    # key coverage 0.859, citation precision 0.908.
    assert m["hit@1"] >= 0.92 and m["hit@3"] >= 0.97
    assert m["key_coverage"] >= 0.83
    assert m["citation_precision"] >= 0.88


def test_held_out_dev_meetings_abstain_only_when_the_records_do_not_say(held_out: list[dict[str, Any]]) -> None:
    m = metrics(held_out)
    # Measured: false-abstain 0.038, abstain recall 0.750.
    assert m["false_abstain_rate"] <= 0.06
    assert m["abstain_recall"] >= 0.66


def test_held_out_questions_across_meetings_cite_every_meeting(held_out: list[dict[str, Any]]) -> None:
    import loo

    across = loo.across_meetings(held_out)
    assert across is not None and across["questions"] == 12
    # Measured: gold meetings cited 0.962, cited meetings that are gold 0.962.
    assert across["gold_recall"] >= 0.9 and across["cited_precision"] >= 0.9
