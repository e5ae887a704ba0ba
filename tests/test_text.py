from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meeting_qa.text import clean_paragraph, detect_language, fold, split_clauses, split_sentences, to_script, tokenize
from meeting_qa.text.clean import normalize_whitespace
from tests.conftest import SAMPLE


def test_pinyin_after_han_characters_is_removed() -> None:
    assert clean_paragraph("會(huì)議(yì)召開").text == "會議召開"


def test_real_parentheses_are_kept() -> None:
    text = "搶抓RCEP(RCEP)機遇(來(lái)源:鹽阜大眾報(bào))"
    cleaned = clean_paragraph(text).text
    assert "(RCEP)" in cleaned
    assert "(來源:鹽阜大眾報)" in cleaned


def test_the_sample_loses_all_388_annotations_and_flags_the_corrupted_span() -> None:
    raw = SAMPLE.read_text(encoding="utf-8")
    results = [clean_paragraph(line) for line in raw.splitlines()]
    assert sum(r.annotations_removed for r in results) == 388  # 387 after Han + 1 inside the corrupted span
    assert all("(huì)" not in r.text for r in results)
    assert [s for r in results for s in r.suspicious] == ["?shù)拳h"]
    assert "交通運輸?shù)拳h節" in results[3].text


def test_a_question_mark_ending_a_sentence_of_a_transcript_is_not_called_corruption() -> None:
    # VCSum's real ASR transcripts: every "？" is followed by the next sentence (517 false warnings before).
    for text in ("那我们怎么看待这个问题？我觉得还是要看数据。", "你觉得呢？？对，就是这样。", "Is it done? Yes."):
        assert clean_paragraph(text).suspicious == ()


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("交通運輸?shù)拳h節", "?shù)拳h"),  # a character lost before its own pinyin annotation
        ("市委??記主持", "委??記"),  # characters an encoding could not hold, one "?" each
        ("預算\ufffd方案", "算\ufffd方"),  # replacement character from a bad decode
    ],
)
def test_real_corruption_is_still_flagged(text: str, span: str) -> None:
    assert clean_paragraph(text).suspicious == (span,)


def test_folding_maps_traditional_and_full_width_to_one_form() -> None:
    assert fold("會議通過了ＲＣＥＰ方案，") == "会议通过了rcep方案,"
    assert fold("会议通过") == fold("會議通過")


def test_language_detection_tells_scripts_and_english_apart() -> None:
    assert detect_language("谁主持了会议？") == "zh-Hans"
    assert detect_language("會議通過了什麼方案？") == "zh-Hant"
    assert detect_language("What did the meeting decide about new energy?") == "en"


def test_to_script_converts_quotes_to_the_question_script() -> None:
    assert to_script("會議通過", "zh-Hans") == "会议通过"
    assert to_script("会议通过", "zh-Hant") == "會議通過"
    assert to_script("會議通過", "en") == "會議通過"


def test_sentences_split_on_chinese_and_english_terminators_with_offsets() -> None:
    text = "会议指出,要稳住经济。要扩大内需！Is it done? Yes."
    spans = split_sentences(text)
    assert [text[s.start : s.end] for s in spans] == ["会议指出,要稳住经济。", "要扩大内需！", "Is it done?", "Yes."]


def test_closing_quotes_stay_with_their_sentence() -> None:
    text = "他说：“好。”然后走了。"
    assert [text[s.start : s.end] for s in split_sentences(text)] == ["他说：“好。”", "然后走了。"]


def test_clauses_split_at_commas_within_a_sentence() -> None:
    text = "要加快建设,做好服务,改善环境。"
    sentence = split_sentences(text)[0]
    assert [text[c.start : c.end] for c in split_clauses(text, sentence)] == ["要加快建设,", "做好服务,", "改善环境。"]


def test_tokens_are_folded_jieba_words_and_english_words() -> None:
    tokens = tokenize("會議討論新能源和RCEP")
    assert "新能源" in tokens and "rcep" in tokens and "会议" in tokens
    assert "的" not in tokenize("会议的要求")


def test_whitespace_is_normalized() -> None:
    assert normalize_whitespace("  a \t b\u3000c\n d ") == "a b c d"


@given(st.text(min_size=0, max_size=200))
def test_sentence_spans_are_ordered_non_overlapping_and_trimmed(text: str) -> None:
    spans = split_sentences(text)
    last = 0
    for s in spans:
        assert last <= s.start < s.end <= len(text)
        assert not text[s.start].isspace() and not text[s.end - 1].isspace()
        last = s.end
    # Nothing but whitespace is ever left out.
    covered = "".join(text[s.start : s.end] for s in spans)
    assert "".join(text.split()) == "".join(covered.split())


def test_a_chinese_word_glossed_in_a_few_words_gets_the_head_word_for_english_records(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from meeting_qa.text.crosslingual import read_cedict

    cedict = tmp_path / "cedict.u8"
    cedict.write_text(
        "# CC-CEDICT excerpt\n"
        "公交 公交 [gong1 jiao1] /public transportation/mass transit/abbr. for 公共交通[gong1 gong4 jiao1 tong1]/\n"
        "開工 开工 [kai1 gong1] /to start work (of a factory, engineering project etc)/\n"
        "材料 材料 [cai2 liao4] /material/data/\n",
        encoding="utf-8",
    )
    _, reverse, _ = read_cedict(cedict)
    assert {"transportation", "transit"} <= set(reverse["公交"])  # the noun of a noun phrase
    assert reverse["开工"] == ["start"]  # the verb of a verb phrase
    assert reverse["材料"] == ["material", "data"]


def test_a_quote_cut_inside_a_title_mark_is_grown_to_close_it() -> None:
    from meeting_qa.text.segment import balanced
    from meeting_qa.types import Sentence

    text = "会议审议通过了《鹤原市城区停车管理办法》，要求抓好落实。"
    cut = Sentence(0, text.index("停车"))
    grown = balanced(text, cut)
    assert text[grown.start : grown.end] == "会议审议通过了《鹤原市城区停车管理办法》"
    whole = Sentence(0, len(text))
    assert balanced(text, whole) == whole


def test_a_quote_that_runs_into_a_pages_truncation_is_marked_cut_off() -> None:
    from meeting_qa.text.segment import cut_off
    from meeting_qa.types import Sentence

    truncated = "會議學習了《中國共產黨重大事項請示"
    assert cut_off(truncated, Sentence(0, len(truncated)))
    ended = "會議學習了有關文件。"
    assert not cut_off(ended, Sentence(0, len(ended)))
    assert not cut_off(truncated, Sentence(0, 5))  # the paragraph goes on after the quote
