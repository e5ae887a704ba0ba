"""The shared text rules: one definition each, and every module that needs one uses it."""

from __future__ import annotations

import re
from pathlib import Path

from meeting_qa.answer.citations import claim_units, span_units
from meeting_qa.loaders import meeting_id_for
from meeting_qa.text.crosslingual import Lexicon
from meeting_qa.text.fold import detect_language
from meeting_qa.text.rules import HAN_RUN, base_forms, stem
from meeting_qa.text.segment import split_sentences
from meeting_qa.text.tokenize import tokenize

SRC = Path(__file__).resolve().parents[1] / "src" / "meeting_qa"


def test_han_covers_extension_a_the_unified_block_and_compatibility_ideographs_but_not_punctuation() -> None:
    assert HAN_RUN.fullmatch("㐀会議鿿豈﨎")
    assert HAN_RUN.search("，。「」（）") is None


def test_every_module_tells_han_the_same_way() -> None:
    # A compatibility ideograph (U+FA0E) used to be Han to the cleaner but not to the tokenizer or ids.
    word = "\ufa0e\ufa0f"
    assert detect_language(word) == "zh-Hans"
    assert "".join(tokenize(word)) == word  # jieba cuts the unknown characters apart; none is lost
    assert meeting_id_for(Path(f"{word}.txt")) == word
    assert claim_units(f"{word}会议").han == ((word, word[1] + "会", "会议"),)


def test_inflected_english_words_share_one_stem() -> None:
    assert stem("policies") == stem("policy") == "policy"
    assert stem("reported") == stem("reports") == stem("report") == "report"
    assert stem("held") == "hold" and stem("is") == "is" and stem("uses") == "use"


def test_base_forms_offer_the_dictionary_forms_of_a_word() -> None:
    assert base_forms("decided")[0] == "decided" and "decide" in base_forms("decided")
    assert "case" in base_forms("cases") and "hold" in base_forms("held")
    assert base_forms("bus") == ["bus"]  # a base keeps three letters


def test_a_claim_and_its_source_match_across_inflections() -> None:
    claim = claim_units("The committee approved two policies")
    assert set(claim.words) <= span_units("The committee approves the policy on two counts")


def test_the_tokenizer_the_translator_and_the_citation_check_share_one_english_stop_list() -> None:
    assert tokenize("We would report the budget") == ["report", "budget"]
    lexicon = Lexicon({"she": ["她"], "budget": ["预算"]}, glossary={})
    assert [t.heads for t in lexicon.translate("What did she say about the budget?")] == [["预算"]]
    assert claim_units("she would report the budget").words == ("report", "budget")


def test_closing_quotes_stay_with_the_sentence_they_close() -> None:
    text = "会议强调：“要抓好落实。”随后部署了工作。"
    first, second = split_sentences(text)
    assert text[first.start : first.end].endswith("。”")
    assert text[second.start : second.end] == "随后部署了工作。"


def test_no_module_but_rules_writes_a_han_range_a_stop_list_or_a_closing_quote_set() -> None:
    rules = SRC / "text" / "rules.py"
    written_again = re.compile(r"\\u4e00|\\u3400|\u4e00-|\u3400-|frozenset\(\s*\"的|\"”’|'”’|\b(?:the|a) an the\b")
    offenders = [
        f"{path.relative_to(SRC)}:{n}"
        for path in SRC.rglob("*.py")
        if path != rules
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if written_again.search(line)
    ]
    assert offenders == []
