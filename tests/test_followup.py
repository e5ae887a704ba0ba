"""Follow-up cues and topic words (pure functions; the decisions over records are in test_conversation.py)."""

from __future__ import annotations

import pytest

from meeting_qa.followup import _names_a_topic, carry_note, cues


@pytest.mark.parametrize(
    ("question", "ellipsis"),
    [
        ("那投资多少？", True),
        ("资金呢？", True),
        ("what about the deadline?", True),
        ("and who leads it?", True),
        ("那次会议是谁主持的？", True),  # an anaphor in any case; the ellipsis cue is only the opening word
        ("投资多少？", False),
        ("who leads the renovation?", False),
        ("呢喃", False),
    ],
)
def test_an_ellipsis_is_recognised_by_how_the_question_opens_or_ends(question: str, ellipsis: bool) -> None:
    assert bool(cues().ellipsis.search(question)) is ellipsis


@pytest.mark.parametrize(
    ("question", "previous"),
    [
        ("上一次会议是怎么定的？", True),
        ("上次怎么说的？", True),
        ("what did the previous meeting decide?", True),
        ("and the meeting before?", True),
        ("这次会议怎么定的？", False),
        ("what did they decide last?", False),
    ],
)
def test_the_meeting_before_is_recognised_in_both_languages(question: str, previous: bool) -> None:
    assert bool(cues().previous.search(question)) is previous


@pytest.mark.parametrize(
    ("word", "topic"),
    [
        ("老旧", True),
        ("医共体", True),
        ("招商引资", True),
        ("kestrel", True),
        ("提了", False),
        ("前要", False),
        ("由谁来", False),
        ("2024", False),
        ("钾", False),
    ],
)
def test_a_topic_word_is_a_word_not_a_piece_cut_across_words(word: str, topic: bool) -> None:
    assert _names_a_topic(word) is topic


def test_the_carry_over_note_is_written_in_the_questions_language_and_script() -> None:
    assert carry_note("zh-Hans", ["鹭原市委常委会会议（2024-03-12）"], ["乡村振兴"], "ellipsis") == (
        "（接上题：鹭原市委常委会会议（2024-03-12），乡村振兴）"
    )
    assert carry_note("zh-Hant", ["鹭原市委常委会会议（2024-03-12）"], [], "anaphor").startswith("（接上題：鷺原")
    assert carry_note("zh-Hans", ["A"], ["b"], "previous") == "（上一次会议：A，b）"
    assert carry_note("en", ["A"], ["b"], "previous") == "(the meeting before: A; b) "
    assert carry_note("en", ["A", "B"], [], "no topic") == "(following on: A, B) "
