"""Which meeting a record is and what it is called: read from its own title line, opening and source line,
then from its file name (Chinese names, pinyin slugs, English names), in records composed in the shapes
offices publish."""

from __future__ import annotations

from meeting_qa.identity import read_identity
from meeting_qa.meetings import read_card
from meeting_qa.profile import default_profile
from meeting_qa.store import StoredParagraph
from meeting_qa.text.crosslingual import Lexicon
from meeting_qa.text.fold import fold
from meeting_qa.types import Paragraph, Sentence

LEXICON = Lexicon(
    {},
    glossary={},
    pinyin={"鹤": ["he"], "原": ["yuan"], "石": ["shi"], "岭": ["ling"]},
    places={"heyuan": ["鹤原市"], "wugang": ["武冈市", "舞钢市"], "shiling": ["石岭县"]},
)


def card(title: str, *texts: str, date: str | None = None, speakers: bool = False):  # type: ignore[no-untyped-def]
    paragraphs = [
        StoredParagraph("m", Paragraph(i, t, (Sentence(0, len(t)),), "A" if speakers else None), fold(t), title, date)
        for i, t in enumerate(texts, 1)
    ]
    return read_card("m", paragraphs, default_profile(), LEXICON)


REPORT = (
    "7月18日上午，市委常委会会议召开。市委书记某某主持会议。",
    "会议听取了关于全市防汛工作的汇报。会议强调，要压实责任。",
)


def test_a_pinyin_file_name_gives_the_place_a_report_never_states() -> None:
    c = card("Heyuan Party Committee", *REPORT, date="2023-02-21")
    assert c.identity.place == "鹤原市" and "鹤原" in c.places
    assert c.label_for("zh-Hans") == "鹤原市委常委会会议（2023-02-21）"
    assert c.label_for("zh-Hant") == "鶴原市委常委會會議（2023-02-21）"
    assert c.label_for("en") == "Heyuan Party Standing Committee meeting (2023-02-21)"


def test_a_spelling_of_several_places_takes_the_one_the_record_mentions() -> None:
    c = card("Wugang Party Committee", REPORT[0], "会议讨论了《关于舞钢市2019年财政预算执行情况的报告》。")
    assert c.identity.place == "舞钢市"
    assert c.heading == "舞钢市委常委会会议"


def test_a_chinese_file_name_is_read_like_a_title_line() -> None:
    c = card("石岭县委常委会", "会议听取了全县春耕情况汇报。", date="2023-03-01")
    assert c.identity.place == "石岭县"
    assert c.heading == "石岭县委常委会"


def test_the_records_own_opening_comes_before_its_file_name() -> None:
    c = card(
        "Wugang Party Committee",
        "3月4日，鹤原市委召开常委会会议，研究城市建设等工作。",
        "会议强调，要抓好项目建设。",
    )
    assert c.identity.place == "鹤原市" and c.identity.place_stated
    assert c.heading == "鹤原市委常委会会议"


def test_a_title_line_and_a_meeting_holding_a_session_are_named_whole() -> None:
    c = card(
        "M",
        "市十六届人大常委会第二十七次会议举行第一次全体会议",
        "昨日，市十六届人大常委会第二十七次会议举行第一次全体会议。市人大常委会主任某某主持会议。",
    )
    assert c.heading == "市十六届人大常委会第二十七次会议"
    titled = card("M", "市政府召开第37次常务会议", "2月26日下午，市长某某主持召开市政府第37次常务会议，研究有关工作。")
    assert titled.heading == "市政府第37次常务会议"


def test_a_source_line_states_the_place_and_makes_a_series_key() -> None:
    c = card("x", "来源：鹤原日报", "1月11日，市委书记某某主持召开市委常委会会议，研究市政府工作报告。")
    assert c.identity.place == "鹤原市" and c.identity.place_stated
    assert c.identity.series_key == "鹤原市|市委常委会"


def test_no_series_key_is_made_from_a_passing_phrase_or_a_file_name() -> None:
    passing = card(
        "x",
        "3月5日，市长某某主持召开市政府常务会议。",
        "会议研究了《关于京津冀区域协同发展的实施意见》，要推进普通国省道建设。",
    )
    assert passing.identity.series_key is None
    from_file = card("Heyuan Party Committee", *REPORT)
    assert from_file.identity.place == "鹤原市" and from_file.identity.series_key is None


def test_a_dateless_transcript_of_speaker_turns_is_a_meeting() -> None:
    c = card("Bmr023", "Okay, let's get started.", "Sure, the recogniser results are in.", speakers=True)
    assert c.is_meeting and c.date is None
    assert c.label_for("zh-Hans") == "Bmr023" and c.label_for("en") == "Bmr023"


def test_dateless_english_minutes_are_a_meeting_and_plain_prose_is_a_reference_text() -> None:
    minutes = card("board", "Present: A. Chair, B. Member", "Agenda: 1. Budget", "The motion carried 5 to 0.")
    assert minutes.is_meeting
    prose = card("airport", "鹤原民用机场是一座新建民用机场，新建航站楼一座，可满足年旅客吞吐量50万人次。")
    assert not prose.is_meeting
    dated_prose = card("airport", "The airport has one terminal and two runways.", date="2024-01-01")
    assert not dated_prose.is_meeting


def test_a_dateless_chinese_report_is_a_meeting() -> None:
    c = card("yandu renda 44", "1月19日上午，区十六届人大常委会第44次会议召开。区人大常委会主任某某主持会议。")
    assert c.is_meeting and c.heading == "区十六届人大常委会第44次会议"


def test_a_transcripts_speech_does_not_name_its_meeting() -> None:
    ident = read_identity(
        "moda ministry meeting", ["上次幾次專家會議召開，我們有討論。", "對。"], turns=True, date="2022-09-29"
    )
    assert ident.name == "" and ident.is_meeting


def test_an_english_record_keeps_its_english_title_for_every_asker() -> None:
    c = card("Meeting With British Council", "Hello and welcome.", "Thank you.", speakers=True, date="2017-10-19")
    assert c.label_for("zh-Hans") == "Meeting With British Council（2017-10-19）"
    assert c.label_for("en") == "Meeting With British Council (2017-10-19)"


def test_title_lines_datelines_and_source_lines_are_headers() -> None:
    from meeting_qa.identity import is_header

    assert is_header("市政府召开第37次常务会议")
    assert is_header("发布日期:2020-07-21 来源:融媒体中心 浏览次数:")
    assert not is_header("会议研究了城区停车管理办法，要求抓好落实。")


def test_the_records_own_level_wins_over_the_dictionarys() -> None:
    c = card("Shiling Party Committee", *REPORT)  # the dictionary knows 石岭县; the record says 市委
    assert c.identity.place == "石岭市" and c.heading == "石岭市委常委会会议"


def test_an_english_asker_gets_a_chinese_record_without_a_place_in_its_own_script() -> None:
    c = card("數位發展部第一次部務會議", "主席：開會。", "委員：好。", speakers=True)
    assert c.label_for("en") == "數位發展部第一次部務會議"


def test_an_organ_that_convenes_a_bare_meeting_names_it_with_the_place_of_its_file_name() -> None:
    # "市委常委會暨…領導小組召開會議": the genre's commonest opening, with the place only in a pinyin file name
    c = card(
        "Heyuan Party Committee",
        "5月6日,市委常委會暨市委應對疫情工作領導小組召開會議,研究部署疫情防控工作。市委書記甲乙主持。",
        date="2022-05-06",
    )
    assert c.label == "鶴原市委常委會暨市委應對疫情工作領導小組會議（2022-05-06）"
    assert c.label_for("zh-Hans").startswith("鹤原市委常委会暨")


def test_an_article_on_a_summit_held_somewhere_is_no_meeting_record() -> None:
    # "首届会议在里约热内卢举行" names no particular meeting: the text stays a reference text
    c = card(
        "首脑会议", "欧盟－拉美国家首脑会议是两个地区为增进关系而举行的会议。1999年6月28日，首届会议在里约热内卢举行。"
    )
    assert not c.is_meeting
