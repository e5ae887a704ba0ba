"""Citation parsing and verification: markers are bounds-checked, claims are checked against their quotes."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meeting_qa.answer.citations import (
    MARKER,
    SupportTuning,
    claim_units,
    parse_numbers,
    span_units,
    strip_markers,
    support,
    verify_answer,
)
from meeting_qa.qa import Engine
from meeting_qa.retrieval import Candidate
from meeting_qa.text.fold import t2s

SAMPLE_ID = "yancheng-party-committee-2022-05-06"
MARKS = re.compile(r"\[(\d+)\]")


def sources(engine: Engine, *numbers: int) -> list[Candidate]:
    """Paragraphs of the sample meeting as prompt sources, numbered from 1 in the order given."""
    stored = engine.store.get_paragraphs([(SAMPLE_ID, n) for n in numbers])
    return [Candidate(stored=stored[(SAMPLE_ID, n)], score=1.0 - i / 10) for i, n in enumerate(numbers)]


def sentence(cand: Candidate, i: int) -> str:
    p = cand.stored.paragraph
    s = p.sentences[i]
    return p.text[s.start : s.end]


def assert_consistent(text: str, citations: tuple, cands: list[Candidate]) -> None:
    texts = {(c.stored.meeting_id, c.stored.paragraph.number): c.stored.paragraph.text for c in cands}
    for c in citations:
        assert c.quote == texts[(c.meeting_id, c.paragraph)][c.start : c.end]
        assert c.quote.strip()
    used = [int(n) for n in MARKS.findall(text)]
    assert all(1 <= n <= len(citations) for n in used)
    assert set(used) == set(range(1, len(citations) + 1))
    assert list(dict.fromkeys(used)) == sorted(set(used))  # numbered in order of first use


# -- parsing -----------------------------------------------------------------------------------------


def test_marker_zero_is_invalid_and_never_means_the_last_source() -> None:
    assert parse_numbers("0", 3) == ((0,), ())


def test_a_marker_past_the_last_source_is_invalid() -> None:
    assert parse_numbers("99", 3) == ((99,), ())


def test_a_range_inside_the_sources_expands_to_every_source_it_names() -> None:
    assert parse_numbers("1-3", 3) == ((1, 2, 3), (0, 1, 2))
    assert parse_numbers("2～3", 3) == ((2, 3), (1, 2))


def test_a_range_reaching_outside_the_sources_or_reversed_is_invalid_as_a_whole() -> None:
    assert parse_numbers("2-9", 3)[1] == ()
    assert parse_numbers("0-2", 3)[1] == ()
    assert parse_numbers("3-1", 3)[1] == ()


def test_lists_adjacent_markers_and_full_width_brackets_are_understood() -> None:
    for written in (
        "x[1,2]。",
        "x[1][2]。",
        "x【1】【2】。",
        "x[1，2]。",
        "x［１］［２］。",
        "x [Source 1][source 2]。",
    ):
        plain, markers = strip_markers(written, 2)
        assert plain == "x。", written
        assert [m.valid for m in markers] == [(0, 1)], written


def test_markers_are_found_only_where_brackets_hold_numbers() -> None:
    assert not MARKER.search("see [a] and [] and [1a]")


# -- support -----------------------------------------------------------------------------------------


def test_a_copied_sentence_is_fully_supported_in_either_script() -> None:
    quote = "市委書記徐纓主持。"
    assert support(claim_units(t2s(quote)), span_units(quote), SupportTuning()) == 1.0


def test_a_wrong_number_gets_no_support_however_much_else_matches() -> None:
    quote = "5月6日,市委常委會暨市委應對疫情工作領導小組召開會議"
    assert support(claim_units(quote.replace("6日", "8日")), span_units(quote), SupportTuning()) == 0.0


def test_an_invented_name_gets_no_support() -> None:
    quote = "市委書記徐纓主持。"
    assert support(claim_units("市长王明辉主持。"), span_units(quote), SupportTuning()) < 0.7


# -- verification ------------------------------------------------------------------------------------


def test_a_cited_copied_sentence_is_kept_with_its_exact_quote_and_offsets(sample_engine: Engine) -> None:
    cands = sources(sample_engine, 1, 2)
    v = verify_answer("会议由市委书记徐缨主持[1]。", cands)
    assert v.text == "会议由市委书记徐缨主持[1]。"
    (c,) = v.citations
    assert (c.meeting_id, c.paragraph, c.quote) == (SAMPLE_ID, 1, "市委書記徐纓主持。")
    assert cands[0].stored.paragraph.text[c.start : c.end] == c.quote
    assert v.dropped == 0


def test_marker_zero_citing_the_last_sources_words_is_dropped(sample_engine: Engine) -> None:
    cands = sources(sample_engine, 2, 1)
    v = verify_answer("市委書記徐纓主持[0]。", cands)
    assert v.citations == ()
    assert v.invalid_markers == 1
    assert v.dropped == 1


def test_a_marker_past_the_sources_is_dropped(sample_engine: Engine) -> None:
    v = verify_answer("市委書記徐纓主持[99]。", sources(sample_engine, 1))
    assert (v.citations, v.invalid_markers, v.dropped) == ((), 1, 1)


def test_a_range_cites_only_the_sources_in_it_that_support_the_claim(sample_engine: Engine) -> None:
    cands = sources(sample_engine, 2, 6, 1)
    v = verify_answer("市委書記徐纓主持[1-3]。", cands)
    assert v.text == "市委書記徐纓主持[1]。"
    assert [c.paragraph for c in v.citations] == [1]


def test_a_range_past_the_sources_cites_nothing(sample_engine: Engine) -> None:
    v = verify_answer("市委書記徐纓主持[1-9]。", sources(sample_engine, 1, 2))
    assert v.citations == ()


def test_a_claim_its_cited_source_does_not_support_is_dropped(sample_engine: Engine) -> None:
    cands = sources(sample_engine, 2, 1)
    v = verify_answer("市委書記徐纓主持[1]。", cands)  # true, but source 1 is ¶2
    assert v.citations == ()
    assert v.dropped == 1


def test_an_invented_sentence_with_a_marker_is_dropped(sample_engine: Engine) -> None:
    cands = sources(sample_engine, 1)
    v = verify_answer("会议由市长王明主持[1]。会议决定明年修建新机场[1]。The mayor approved a new airport [1].", cands)
    assert v.citations == ()
    assert v.dropped == 3


def test_a_sentence_without_a_marker_is_dropped(sample_engine: Engine) -> None:
    cands = sources(sample_engine, 1)
    v = verify_answer("根据会议记录。市委书记徐缨主持[1]。", cands)
    assert v.text == "市委书记徐缨主持[1]。"
    assert v.dropped == 1


def test_markers_are_renumbered_in_order_of_first_use(sample_engine: Engine) -> None:
    cands = sources(sample_engine, 2, 6, 1)
    v = verify_answer(f"{sentence(cands[2], 1)}[3] {sentence(cands[0], 0)}[1]", cands)
    assert [c.paragraph for c in v.citations] == [1, 2]
    assert v.text.index("[1]") < v.text.index("[2]")
    assert_consistent(v.text, v.citations, cands)


def test_the_same_quote_cited_twice_gets_one_number(sample_engine: Engine) -> None:
    cands = sources(sample_engine, 1)
    v = verify_answer("市委书记徐缨主持[1]。徐缨主持了会议[1]。", cands)
    assert len(v.citations) == 1
    assert v.text.count("[1]") == 2


def test_a_marker_after_the_full_stop_cites_the_sentence_before_it(sample_engine: Engine) -> None:
    v = verify_answer("市委书记徐缨主持。[1]", sources(sample_engine, 1))
    assert v.text == "市委书记徐缨主持[1]。"


def test_markers_at_several_places_split_a_sentence_into_claims(sample_engine: Engine) -> None:
    cands = sources(sample_engine, 1, 9)
    v = verify_answer("市委书记徐缨主持[1]，会议研究通过了今年“5·18”经贸活动总体工作方案[2]。", cands)
    assert [c.paragraph for c in v.citations] == [1, 9]
    assert v.text == "市委书记徐缨主持[1]，会议研究通过了今年“5·18”经贸活动总体工作方案[2]。"


def test_a_claim_about_part_of_a_long_sentence_quotes_only_the_supporting_clauses(sample_engine: Engine) -> None:
    cands = sources(sample_engine, 3)
    v = verify_answer("会议强调坚持人民至上、生命至上[1]。", cands)
    (c,) = v.citations
    assert "人民至上" in c.quote
    assert len(c.quote) < 40
    assert_consistent(v.text, v.citations, cands)


def test_a_claim_may_quote_two_consecutive_sentences(sample_engine: Engine) -> None:
    cands = sources(sample_engine, 9)
    claim = "会议研究通过了“5·18”经贸活动总体工作方案，指出“5·18”经贸活动是我市精心打造的品牌"
    v = verify_answer(claim + "[1]。", cands)
    (c,) = v.citations
    assert c.quote.startswith("會議研究通過") and "品牌" in c.quote


@pytest.mark.parametrize("answer", ["", "   ", "[1]", "。", "[0][99]"])
def test_an_answer_with_nothing_to_verify_cites_nothing(sample_engine: Engine, answer: str) -> None:
    v = verify_answer(answer, sources(sample_engine, 1))
    assert v.citations == ()
    assert v.text == ""


_ANSWER_PIECES = st.one_of(
    st.tuples(st.integers(1, 11), st.integers(0, 10), st.lists(st.integers(-1, 8), max_size=3)),
    st.text(alphabet="会议市委徐缨主持HACKED 5月8日。,.[]【】0123-", max_size=12),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(_ANSWER_PIECES, max_size=6), order=st.permutations(list(range(1, 12))))
def test_every_citation_quotes_its_paragraph_exactly_and_every_marker_is_in_range(
    sample_engine: Engine, pieces: list, order: list[int]
) -> None:
    cands = sources(sample_engine, *order[:5])
    parts: list[str] = []
    for piece in pieces:
        if isinstance(piece, str):
            parts.append(piece)
            continue
        para, i, marks = piece
        stored = sample_engine.store.get_paragraphs([(SAMPLE_ID, para)])[(SAMPLE_ID, para)].paragraph
        s = stored.sentences[i % len(stored.sentences)]
        parts.append(stored.text[s.start : s.end] + "".join(f"[{m}]" for m in marks))
    v = verify_answer("".join(parts), cands)
    assert_consistent(v.text, v.citations, cands)
    assert "hacked" not in v.text.lower()


def test_a_lone_word_copied_from_a_source_is_not_a_claim(sample_engine: Engine) -> None:
    cands = sources(sample_engine, 1)
    assert verify_answer("徐纓[1]。", cands).citations == ()
    assert verify_answer("徐纓主持[1]。", cands).citations != ()
