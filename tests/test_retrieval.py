"""Fusion: the fitted priors of the genre, and signals that stay as measured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


TRANSCRIPT = """Maya Chen: Okay, next item. Omar, where did you land on the casing material for the handset?
Omar Reyes: Honestly, brushed aluminium. It feels solid and it photographs well.
Maya Chen: Fine. And the battery?
Omar Reyes: Two AAA cells, same as last year.
"""


def test_a_reply_turn_is_read_with_the_question_turn_before_it(fake_engine: Engine, tmp_path: Path) -> None:
    f = tmp_path / "handset-design-2025-01-10.txt"
    f.write_text(TRANSCRIPT, encoding="utf-8")
    fake_engine.ingest([f])
    question = "Which casing material was chosen for the handset?"

    def reply_score(share: float) -> float:
        weights = fake_engine.searcher.profile.with_(fusion={"turn_context": share}).fusion
        cands = fake_engine.searcher.fuse(fake_engine.searcher.signals(question), k=4, weights=weights)
        return {c.stored.paragraph.number: c.lexical for c in cands}.get(2, 0.0)

    # The reply ("brushed aluminium") shares no word with the question; the turn it answers does.
    assert reply_score(0.0) == 0.0
    assert reply_score(0.5) > 0.1


def test_transcript_evidence_is_judged_against_the_transcript_threshold(fake_engine: Engine, tmp_path: Path) -> None:
    f = tmp_path / "handset-design-2025-01-10.txt"
    f.write_text(TRANSCRIPT, encoding="utf-8")
    fake_engine.ingest([f])
    cands = fake_engine.searcher.candidates("Which casing material was chosen for the handset?", k=3)
    answerer = fake_engine.answerer
    answerer.profile = answerer.profile.with_(answer={"abstain_below": 0.1, "abstain_below_transcript": 0.9})
    assert cands[0].stored.paragraph.speaker
    assert answerer.threshold(cands) == 0.9


def test_bigram_counts_cut_han_runs_into_overlapping_pairs_and_keep_latin_words_whole() -> None:
    from meeting_qa.lexical import bigram_counts

    assert bigram_counts("星空财经 defi 2021年，好") == {
        "星空": 1, "空财": 1, "财经": 1, "defi": 1, "2021": 1, "年": 1, "好": 1
    }  # fmt: skip
    assert bigram_counts("") == {}


def meeting_terms(lengths: list[float], counts: dict[str, list[float]], turns: list[bool] | None = None) -> Any:
    import numpy as np

    from meeting_qa.lexical import MeetingTerms

    n = len(lengths)
    rows = [{t: c[i] for t, c in counts.items() if c[i]} for i in range(n)]
    mt = MeetingTerms.build("m", list(range(1, n + 1)), turns if turns is not None else [True] * n, rows)
    # a paragraph's length is more than its query terms
    return MeetingTerms(mt.meeting_id, mt.numbers, mt.turns, np.asarray(lengths, dtype=float), mt.postings)


def test_window_bm25_weighs_a_term_every_turn_holds_less_than_a_rare_one() -> None:
    from meeting_qa.retrieval import window_bm25

    mt = meeting_terms([4, 4, 4, 4], {"defi": [1, 1, 1, 1], "计划": [0, 0, 1, 0]})
    scores = window_bm25(mt, {"defi": 1.0, "计划": 1.0}, 0, 0.5)
    assert scores.argmax() == 2
    assert scores[0] == scores[1] == scores[3] > 0
    assert scores[2] - scores[0] > 5 * scores[0]  # the rare term decides


def test_window_bm25_reads_a_turn_with_the_turns_before_it_and_skips_paragraphs_without_a_speaker() -> None:
    from meeting_qa.retrieval import window_bm25

    mt = meeting_terms([4, 4, 4, 4], {"计划": [0, 1, 0, 0]}, turns=[True, True, True, False])
    alone = window_bm25(mt, {"计划": 1.0}, 0, 0.5)
    assert alone[1] > 0 and alone[0] == alone[2] == 0
    back = window_bm25(mt, {"计划": 1.0}, 1, 0.5)
    assert back[1] > back[2] > 0  # the turn after gets half of the count, never the turn before
    assert back[0] == 0 and back[3] == 0


def test_meeting_bigrams_follow_the_reading_order(fake_engine: Engine, tmp_path: Path) -> None:
    f = tmp_path / "roundtable-2025-01-10.txt"
    f.write_text(ASR_TRANSCRIPT, encoding="utf-8")
    fake_engine.ingest([f])
    index = fake_engine.lexical.index()
    mid = next(iter(index.meeting_texts))
    grams = index.meeting_bigrams(mid)
    assert grams.numbers.tolist() == [1, 2, 3]
    assert grams.turns.all()
    assert grams.counts("才经").tolist() == [0, 1, 0]
    assert grams.counts("no such bigram") is None
    assert index.meeting_bigrams("no such meeting") is None


ASR_TRANSCRIPT = """发言人1：下面有请各位嘉宾上台，我们开始今天的圆桌。
发言人2：大家好，我是星空才经的创始人杨淼，很高兴来到这里。
发言人3：财务方面的问题我们以后再说。
"""


def test_character_bigrams_find_a_turn_through_an_asr_variant_and_touch_only_turns(
    fake_engine: Engine, tmp_path: Path
) -> None:
    turns = tmp_path / "roundtable-2025-01-10.txt"
    turns.write_text(ASR_TRANSCRIPT, encoding="utf-8")
    engine = engine_with_record(fake_engine, tmp_path)
    engine.ingest([turns])
    question = "星空财经的创始人是谁？"

    def by_key(**fusion: float) -> dict[tuple[str, int], Any]:
        weights = engine.searcher.profile.with_(fusion=fusion).fusion
        return {c.key: c for c in engine.searcher.fuse(engine.searcher.signals(question), k=20, weights=weights)}

    off, on = by_key(turn_bigram=0.0), by_key(turn_bigram=0.7)
    founder = next(key for key in on if key[0].startswith("roundtable") and key[1] == 2)
    assert on[founder].stored.paragraph.speaker
    # 才经 is 财经 misheard: the bigram 星空 and 创始/始人 still match, and the turn stays on top.
    assert on[founder].score >= max(c.score for c in on.values())
    others = [k for k in on if k[0] == founder[0] and k != founder and k in off]
    assert others
    for other in others:  # the misheard name still sets the founder's turn apart from the others
        assert on[founder].score - on[other].score > off[founder].score - off[other].score
    for key, cand in on.items():
        if not cand.stored.paragraph.speaker and key in off:
            assert cand.score == off[key].score  # a paragraph of a report is scored as before


ENGLISH_TRANSCRIPT = """Chair: Let's turn to the library roof. Ben, where are we on the repair quote?
Ben Okafor: The contractor quoted forty thousand pounds and can start in June.
Chair: Thank you. Any questions on the budget?
"""


def test_english_turns_keep_their_word_scores_whatever_the_bigram_share(fake_engine: Engine, tmp_path: Path) -> None:
    """Character bigrams are for text without spaces: an English turn is scored by its words alone, for an
    English question and for a Chinese one."""
    f = tmp_path / "library-board-2025-02-03.txt"
    f.write_text(ENGLISH_TRANSCRIPT, encoding="utf-8")
    engine = engine_with_record(fake_engine, tmp_path)
    engine.ingest([f])

    def by_key(question: str, share: float) -> dict[tuple[str, int], float]:
        weights = engine.searcher.profile.with_(fusion={"turn_bigram": share}).fusion
        return {c.key: c.score for c in engine.searcher.fuse(engine.searcher.signals(question), k=20, weights=weights)}

    for question in ("How much did the contractor quote for the roof repair?", "屋顶维修的报价是多少？"):
        off, on = by_key(question, 0.0), by_key(question, 0.7)
        turns = [k for k in on if k[0].startswith("library")]
        assert turns
        assert all(on[k] == off[k] for k in turns if k in off), question
