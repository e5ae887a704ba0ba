"""Fusion: the fitted priors of the genre, and signals that stay as measured."""

from __future__ import annotations

from pathlib import Path

from meeting_qa.qa import Engine

OPENING = "2024年3月1日，中共南溪市委召开常委会会议，研究防汛和招商引资工作。市委书记甲乙主持会议。"
FLOOD = "会议要求，防汛工作要压实责任，5月底前完成堤防加固，落实抢险物资储备。"
INVEST = "会议强调，招商引资要聚焦主导产业，年内签约亿元以上项目20个。"


def engine_with_record(fake_engine: Engine, tmp_path: Path) -> Engine:
    f = tmp_path / "nanxi-2024-03-01.txt"
    f.write_text("\n".join([OPENING, FLOOD, INVEST]) + "\n", encoding="utf-8")
    other = tmp_path / "beiling-2024-04-01.txt"
    other.write_text(
        "2024年4月1日，中共北岭县委召开常委会会议，研究教育工作。\n会议要求办好义务教育。\n", encoding="utf-8"
    )
    fake_engine.ingest([f, other])
    return fake_engine


def scores(engine: Engine, question: str, penalty: float) -> dict[int, float]:
    weights = engine.searcher.profile.with_(fusion={"opening_penalty": penalty}).fusion
    cands = engine.searcher.fuse(engine.searcher.signals(question), k=6, weights=weights)
    return {c.paragraph: c.score for c in (c.passage() for c in cands) if c.meeting_id == "nanxi-2024-03-01"}


def test_the_opening_paragraph_counts_less_for_a_topic_question(fake_engine: Engine, tmp_path: Path) -> None:
    engine = engine_with_record(fake_engine, tmp_path)
    plain, penalised = (
        scores(engine, "南溪市委常委会对防汛工作提出了什么要求？", 0.0),
        scores(engine, "南溪市委常委会对防汛工作提出了什么要求？", 0.3),
    )
    assert penalised[1] < plain[1] - 0.29  # the opening lists the topic; paragraph 2 answers it
    assert abs(penalised[2] - plain[2]) < 1e-3


def test_the_opening_paragraph_keeps_its_weight_for_who_chaired(fake_engine: Engine, tmp_path: Path) -> None:
    engine = engine_with_record(fake_engine, tmp_path)
    question = "南溪市委常委会由谁主持？"
    assert abs(scores(engine, question, 0.0)[1] - scores(engine, question, 0.3)[1]) < 1e-3
    assert engine.search(question, k=1)[0].paragraph == 1


def test_a_question_that_names_a_place_prefers_that_meeting(fake_engine: Engine, tmp_path: Path) -> None:
    engine = engine_with_record(fake_engine, tmp_path)
    assert engine.search("北岭县委常委会提出了什么要求？", k=1)[0].meeting_id == "beiling-2024-04-01"


def test_fusion_returns_new_values_and_leaves_the_signals_as_measured(fake_engine: Engine, tmp_path: Path) -> None:
    engine = engine_with_record(fake_engine, tmp_path)
    sig = engine.searcher.signals("防汛工作有什么要求？")
    before = (dict(sig.paragraph_sims), {k: dict(v) for k, v in sig.sentence_sims.items()}, dict(sig.bm25))
    first = engine.searcher.fuse(sig, k=3)
    heavier = engine.searcher.profile.fusion.__class__(lexical=2.0)
    second = engine.searcher.fuse(sig, k=3, weights=heavier)
    assert (dict(sig.paragraph_sims), {k: dict(v) for k, v in sig.sentence_sims.items()}, dict(sig.bm25)) == before
    assert first != second and all(c.score > 0 for c in first)
