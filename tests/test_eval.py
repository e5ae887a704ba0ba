"""The eval metrics themselves, on rows whose right answers are known."""

from __future__ import annotations

from meeting_qa.eval import GoldItem, metrics, row_for
from meeting_qa.types import Answer, Citation, Passage


def item(
    gold: tuple[tuple[str | None, int | None], ...], keys: tuple[tuple[str, ...], ...], answerable: bool = True
) -> GoldItem:
    return GoldItem("q", "问题", "zh-Hans", gold, keys, answerable)


def passage(mid: str, n: int) -> Passage:
    return Passage(mid, n, "text", 1.0)


def cite(mid: str, n: int) -> Citation:
    return Citation(mid, n, "quote", 0, 5, 1.0)


def test_rank_key_coverage_and_citations_are_counted_per_question() -> None:
    it = item((("a", 2),), (("42项",), ("29项", "二十九项")))
    answer = Answer("共42项，已整改29項[1][2]", False, (cite("a", 2), cite("b", 1)))
    row = row_for(it, [passage("b", 1), passage("a", 2)], answer)
    assert row["rank"] == 2 and row["covered"]  # traditional 項 folds to 项
    assert row["citations"] == 2 and row["good_citations"] == 1


def test_an_answer_missing_one_key_group_does_not_cover() -> None:
    it = item((("a", 2),), (("42项",), ("29项",)))
    assert not row_for(it, [passage("a", 2)], Answer("共42项[1]", False, (cite("a", 2),)))["covered"]


def test_metrics_over_rows() -> None:
    good = row_for(item((("a", 1),), (("x",),)), [passage("a", 1)], Answer("x[1]", False, (cite("a", 1),)))
    missed = row_for(item((("a", 2),), (("y",),)), [passage("a", 1), passage("a", 2)], Answer("no", True))
    abstained = row_for(item((), (), answerable=False), [passage("a", 1)], Answer("no", True))
    wrongly = row_for(item((), (), answerable=False), [passage("a", 1)], Answer("z[1]", False, (cite("a", 1),)))
    m = metrics([good, missed, abstained, wrongly])
    assert m["hit@1"] == 0.5 and m["hit@3"] == 1.0 and m["mrr@10"] == 0.75
    assert m["key_coverage"] == 0.5 and m["false_abstain_rate"] == 0.5 and m["abstain_recall"] == 0.5
    assert m["citation_precision"] == 0.5  # the unanswerable question's citation points at no gold paragraph
