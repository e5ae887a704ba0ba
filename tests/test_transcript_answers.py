"""Transcripts: a question that sets its meeting in an opening clause, turns whose neighbours add to their
word score, a spoken answer quoted to the end of its turn, and the procedural kinds of question a meeting
that votes and parks items is asked (how did the vote go, was it settled)."""

from __future__ import annotations

from pathlib import Path

import pytest

from meeting_qa.profile import default_profile
from meeting_qa.qa import Engine
from meeting_qa.text.fold import fold

TRANSCRIPT = """Ana Ruiz (Chair): Good evening, I'm calling this meeting of the Millbrook library board to order. Tonight we have the roof and the opening hours.
Ben Okafor: On the roof, the survey found water coming in over the reading room. The repair will cost forty thousand pounds. The contractor can start in June — weather permitting, and once the scaffolding permit from the council has come through, which usually takes a few weeks.
Ana Ruiz (Chair): Thank you, Ben, so the roof over the reading room comes first. Opening hours next. Cara?
Cara Lim: I'd like Sunday opening, but we have no staff for it yet, so I suggest we park it until the autumn.
Ana Ruiz (Chair): Fine, we'll park Sunday opening. All in favour of the roof repair? That's carried, four to one.
Dev Patel: For the record, I voted no because the reserve is too low.
"""
MEETING = "millbrook-library-board-2025-03-04"


@pytest.fixture
def engine(fake_engine: Engine, tmp_path: Path) -> Engine:
    f = tmp_path / f"{MEETING}.txt"
    f.write_text(TRANSCRIPT, encoding="utf-8")
    other = tmp_path / "harwick-parks-committee-2025-02-01.txt"
    other.write_text("Jo Marsh (Chair): The parks committee agreed the new playground.\n", encoding="utf-8")
    fake_engine.ingest([f, other])
    return fake_engine


def test_the_clause_that_sets_a_named_meeting_is_left_out_of_the_dense_query(engine: Engine) -> None:
    q = engine.searcher.analyze("At the Millbrook library board meeting, when can the contractor start?")
    assert dict(q.meetings).get(MEETING) == 1.0
    assert q.search_text == "when can the contractor start?"
    # A question that names no meeting of the store is embedded whole.
    loose = engine.searcher.analyze("At the budget meeting, when can the contractor start?")
    assert loose.search_text == loose.folded


def test_a_chinese_question_sets_its_meeting_with_zai_shang() -> None:
    profile = default_profile()
    text = fold("在Millbrook图书馆董事会会议上，屋顶维修要花多少钱？")
    assert profile.meeting_setting.sub("", text, count=1) == "屋顶维修要花多少钱?"


def test_turn_scores_are_scaled_by_the_best_turn_so_that_they_stay_apart(engine: Engine) -> None:
    sig = engine.searcher.signals("What did the survey find about the roof over the reading room?")
    # Scaled by the best match itself (a large archive's BM25 scores pass the saturation floor).
    weights = engine.searcher.profile.with_(fusion={"lexical_saturation": 0.01}).fusion
    lexical = {c.stored.paragraph.number: c.lexical for c in engine.searcher.fuse(sig, k=6, weights=weights)}
    # Turns 2 and 3 both match and each adds a share of the other: the better one stays the better one
    # (capped at the best single match, both read 1.0).
    assert lexical[2] == max(lexical.values())
    assert lexical[1] < lexical[2] and lexical[3] < lexical[2]


def test_a_spoken_answer_is_quoted_to_the_end_of_its_turn(engine: Engine) -> None:
    engine.answerer.profile = engine.answerer.profile.with_(answer={"abstain_below_transcript": 0.0})
    answer = engine.ask("How much will the repair over the reading room cost?")
    quote = answer.citations[0].quote
    assert "forty thousand pounds" in quote and "start in June" in quote, quote
    # An English turn stays English with a dash in it: the English limit applies, not the Chinese one.
    assert "scaffolding permit" in quote, quote
    # Within the limit only: a short limit keeps the sentence alone.
    engine.answerer.profile = engine.answerer.profile.with_(answer={"turn_quote": 10})
    short = engine.ask("How much will the repair over the reading room cost?")
    assert "start in June" not in short.citations[0].quote


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How did the vote on the roof go?", "vote"),
        ("屋顶维修的表决结果如何？", "vote"),
        ("Was Sunday opening settled?", "open_item"),
        ("周日开放的事定下来了吗？", "open_item"),
    ],
)
def test_procedural_questions_have_their_kinds(question: str, kind: str) -> None:
    assert kind in default_profile().question_kinds(fold(question))


def test_the_turn_with_the_procedures_words_answers_a_procedural_question(engine: Engine) -> None:
    profile = default_profile()
    assert profile.answers_kind("vote", fold("That's carried, four to one."))
    assert profile.answers_kind("open_item", fold("so I suggest we park it until the autumn."))
    assert not profile.answers_kind("vote", fold("The contractor can start in June."))
    sig = engine.searcher.signals("How did the vote on the roof go?")

    def score_of_vote_turn(answer_type: float) -> float:
        weights = engine.searcher.profile.with_(fusion={"answer_type": answer_type}).fusion
        return {c.stored.paragraph.number: c.score for c in engine.searcher.fuse(sig, k=6, weights=weights)}[5]

    # The turn that says "carried, four to one" is typed as the answer a vote question wants.
    assert score_of_vote_turn(0.2) == pytest.approx(score_of_vote_turn(0.0) + 0.2)
