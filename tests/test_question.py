"""Question analysis: kinds, concepts, translations, and the meetings and speakers a question names."""

from __future__ import annotations

from meeting_qa.lexical import BM25
from meeting_qa.meetings import Catalog
from meeting_qa.profile import default_profile
from meeting_qa.question import TextView, analyze, coverage, names_in
from meeting_qa.store import StoredParagraph
from meeting_qa.text.crosslingual import Lexicon
from meeting_qa.text.fold import fold
from meeting_qa.types import Paragraph, Sentence

PROFILE = default_profile()


def para(
    mid: str, n: int, text: str, *, date: str | None = "2024-03-12", speaker: str | None = None
) -> StoredParagraph:
    return StoredParagraph(mid, Paragraph(n, text, (Sentence(0, len(text)),), speaker), fold(text), mid, date)


# Two invented meetings of the genre and one English transcript.
RECORDS = [
    para("qingshan-2024-03-12", 1, "2024年3月12日上午，中共青山市委召开常委会会议，市委书记甲乙丙主持会议。"),
    para("qingshan-2024-03-12", 2, "会议听取了市水利局关于防汛工作的汇报，要求5月底前完成堤防加固。"),
    para(
        "baihe-2024-06-01",
        1,
        "6月1日下午，白河县县长丁戊己主持召开县政府第8次常务会议，研究学校建设等工作。",
        date="2024-06-01",
    ),
    para("baihe-2024-06-01", 2, "会议原则同意《白河县学校建设三年行动方案》，总投资2.3亿元。", date="2024-06-01"),
    para(
        "riverside-2025-01-10",
        1,
        "Welcome everyone. The first item is the library roof.",
        date="2025-01-10",
        speaker="Anna Marsh (Chair)",
    ),
    para(
        "riverside-2025-01-10",
        2,
        "I think the roof repair should wait until spring.",
        date="2025-01-10",
        speaker="Councillor Tom Reed",
    ),
]
INDEX = BM25.build(RECORDS)
CATALOG = Catalog(RECORDS, PROFILE)
LEXICON = Lexicon(
    {"school": ["学校"], "investment": ["投资"], "flood": ["防汛"]},
    pinyin={"青": ["qing"], "山": ["shan"], "白": ["bai"], "河": ["he"]},
    reverse={"屋顶": ["roof"], "图书馆": ["library"]},
)


def ask(text: str):  # type: ignore[no-untyped-def]
    return analyze(text, stats=INDEX, profile=PROFILE, lexicon=LEXICON, catalog=CATALOG)


def test_english_names_are_told_from_ordinary_words() -> None:
    assert names_in("What did the meeting say about RCEP and COVID-19 in Yancheng?") == {"rcep", "covid-19", "yancheng"}
    assert names_in("What did the meeting say about the business environment?") == set()


def test_kinds_of_question_are_recognised_in_both_languages() -> None:
    assert "who" in ask("青山市委常委会由谁主持？").kinds
    assert "quantity" in ask("新建学校多少所？").kinds
    # An amount of money is the narrower kind: a rate or a count does not answer it.
    assert ask("学校建设总投资多少？").kinds == {"money"}
    assert ask("How much will the roof repair cost?").kinds == {"money"}
    assert "when" in ask("When is the roof repair due?").kinds
    assert "department" in ask("防汛工作由哪个部门牵头？").kinds


def test_a_question_that_names_a_place_prefers_that_meeting() -> None:
    q = ask("青山市委3月那次常委会听取了什么汇报？")
    assert max(q.named_meetings, key=lambda m: q.named_meetings[m]) == "qingshan-2024-03-12"
    assert "baihe-2024-06-01" not in q.named_meetings


def test_an_english_question_names_a_chinese_place_by_its_pinyin() -> None:
    q = ask("What did the Baihe county government approve for schools?")
    assert max(q.named_meetings, key=lambda m: q.named_meetings[m]) == "baihe-2024-06-01"


def test_a_question_that_names_no_meeting_searches_all() -> None:
    assert ask("防汛工作有什么要求？").named_meetings == {}


def test_words_that_name_the_meeting_do_not_count_inside_it() -> None:
    q = ask("青山市委常委会对防汛提出了什么要求？")
    naming = [c for c in q.concepts if c.names_meeting]
    assert naming and all(not c.names_meeting for c in q.concepts if "防汛" in c.alternatives)
    opening = TextView(RECORDS[0].folded)
    flood = TextView(RECORDS[1].folded)
    # Inside the named meeting, the paragraph about flood control covers the question better than the opening.
    assert coverage(q.concepts, flood, within_meeting=True) > coverage(q.concepts, opening, within_meeting=True)


def test_a_question_that_names_a_speaker_is_matched_to_that_speakers_turns() -> None:
    q = ask("In the Riverside meeting, what did Councillor Reed think about the roof?")
    assert ("riverside-2025-01-10", "Councillor Tom Reed") in q.speakers


def test_an_english_question_is_judged_on_english_records_own_words() -> None:
    q = ask("What did they say about the library roof?")
    view = TextView(RECORDS[4].folded)
    assert view.is_english
    assert coverage(q.concepts, view) == 1.0


def test_a_chinese_question_reaches_english_records_through_the_dictionary_in_reverse() -> None:
    q = ask("关于图书馆屋顶说了什么？")
    assert coverage(q.concepts, TextView(RECORDS[4].folded)) > 0.5


def test_a_topic_absent_from_every_record_is_marked_absent() -> None:
    q = ask("青山市委常委会对房地产市场有什么部署？")
    assert any(c.absent and c.core for c in q.concepts if "房地产" in c.alternatives)


def test_a_source_question_also_searches_for_the_words_that_mark_a_source() -> None:
    records = [para("m", 1, "（来源：青山日报）"), para("m", 2, "会议研究了其他事项。")]
    index = BM25.build(records)
    q = analyze("这篇报道由哪家媒体发布？", stats=index, profile=PROFILE)
    assert q.term_weights.get("来源", 0) > 0
    assert index.scores(q.term_weights).get(("m", 1), 0) > index.scores(q.term_weights).get(("m", 2), 0)
    assert "来源" not in analyze("会议研究了什么？", stats=index, profile=PROFILE).term_weights


def test_questions_across_meetings_and_about_latest_values_are_recognised() -> None:
    assert ask("哪些会议讨论了防汛？").which_meeting
    assert ask("历次会议对防汛提出了哪些要求？").across
    assert ask("What is the latest total investment?").latest


def test_the_records_place_names_are_kept_whole_where_the_segmenter_would_cut_them() -> None:
    # jieba alone cuts 鹤原市历次 into 鹤 / 原市 / 历次: no concept would name the place.
    records = [
        para("heyuan-2024-03-01", 1, "2024年3月1日，中共鹤原市委召开常委会会议，研究防汛工作。", date="2024-03-01"),
        para("heyuan-2024-03-01", 2, "会议要求，5月底前完成堤防加固。", date="2024-03-01"),
        *RECORDS[:2],
    ]
    index, catalog = BM25.build(records), Catalog(records, PROFILE)
    q = analyze("鹤原市历次会议对防汛提出了哪些要求？", stats=index, profile=PROFILE, lexicon=LEXICON, catalog=catalog)
    words = {c.alternatives[0] for c in q.concepts}
    assert "原市" not in words and ("鹤原" in words or "鹤原市" in words)
    assert q.across and set(q.named_meetings) == {"heyuan-2024-03-01"}


def test_a_hyphenated_english_compound_is_translated_as_the_phrase_it_spells() -> None:
    q = ask("How many work-safety accidents were recorded?")
    alternatives = [c.alternatives for c in q.concepts]
    assert any("安全生产" in a for a in alternatives), alternatives
    assert not any(a == ("work-safety",) for a in alternatives)  # no untranslatable English-only leftover


def test_a_month_written_with_yuefen_is_no_topic_of_the_question() -> None:
    q = ask("青山市委8月份的常委会由谁主持？")
    assert not any(c.core and "月份" in c.alternatives for c in q.concepts)


def test_the_month_of_a_named_meeting_names_it_and_is_no_topic_inside_it() -> None:
    q = ask("青山市委3月那次常委会听取了什么汇报？")
    months = [c for c in q.concepts if "3" in c.alternatives or "月" in c.alternatives]
    assert months and all(c.names_meeting for c in months)
    # A month that is not the named meeting's stays a word of the question.
    other = ask("青山市委常委会提出5月底前完成什么？")
    assert not any(c.names_meeting for c in other.concepts if "5" in c.alternatives)


def test_a_gloss_names_an_english_records_title_but_not_a_chinese_records_file_name() -> None:
    records = [
        para("tingyang-city-government", 1, "4月18日上午，汀阳市市长甲乙主持召开市政府第37次常务会议。"),
        para("tingyang-city-government", 2, "全市共有中小学212所。"),
        para("harbour-transport-committee", 1, "Welcome to the Transport Committee.", speaker="Ann Lee (Chair)"),
        para("harbour-transport-committee", 2, "The bus lanes go to consultation.", speaker="Bo Tan"),
    ]
    records[2] = StoredParagraph(
        records[2].meeting_id, records[2].paragraph, records[2].folded, "Harbour Transport Committee", "2025-03-19"
    )
    records[3] = StoredParagraph(
        records[3].meeting_id, records[3].paragraph, records[3].folded, "Harbour Transport Committee", "2025-03-19"
    )
    index, catalog = BM25.build(records), Catalog(records, PROFILE)
    lexicon = Lexicon({}, reverse={"全市": ["city"], "委员会": ["committee"], "学校": ["school"]})

    def concepts(text: str) -> dict[str, bool]:
        q = analyze(text, stats=index, profile=PROFILE, lexicon=lexicon, catalog=catalog)
        return {c.alternatives[0]: c.names_meeting for c in q.concepts}

    # The Chinese record's title words come from its file name: 全市's gloss "city" does not name it.
    assert concepts("汀阳市政府常务会议上，全市有多少学校？").get("全市") is False
    # The English record is named "… Committee": 委员会 names it through its gloss.
    assert concepts("在Harbour交通委员会听证会上，公交专用道怎么处理？").get("委员会") is True


def test_a_kind_of_plan_is_matched_under_the_genres_other_names_for_it() -> None:
    q = ask("白河县学校建设有什么计划？")
    plan = next(c for c in q.concepts if "计划" in c.alternatives)
    # The record adopted 《白河县学校建设三年行动方案》: asked as a 计划, it is found as a 方案.
    assert "方案" in plan.alternatives and plan.covered_by(TextView(RECORDS[3].folded))


def test_months_are_read_whole_from_the_question_and_from_iso_dates_only() -> None:
    from meeting_qa.meetings import month_of
    from meeting_qa.question import _months_in

    assert _months_in("青山市委12月那次常委会") == {12}  # not 2月 inside 12月
    assert _months_in("the march meeting and 3月") == {3}
    assert month_of("2024-02-26") == 2 and month_of("May 6") is None and month_of(None) is None
