"""What a meeting record says about itself: its name, place and date read from its opening."""

from __future__ import annotations

from meeting_qa.meetings import Catalog, read_card, states_date
from meeting_qa.profile import default_profile
from meeting_qa.store import StoredParagraph
from meeting_qa.text.fold import fold
from meeting_qa.types import Paragraph, Sentence

PROFILE = default_profile()


def card_of(opening: str, *rest: str, date: str | None = "2024-02-26"):  # type: ignore[no-untyped-def]
    texts = [opening, *rest]
    paragraphs = [
        StoredParagraph("m", Paragraph(i, t, (Sentence(0, len(t)),)), fold(t), "M", date)
        for i, t in enumerate(texts, 1)
    ]
    return read_card("m", paragraphs, PROFILE)


def test_the_opening_sentence_gives_the_meetings_name_and_place() -> None:
    card = card_of("2024年2月26日下午，石岭县县长某某主持召开县政府第5次常务会议，研究春季农业生产等工作。")
    assert card.heading == "石岭县政府第5次常务会议"
    assert "石岭" in card.places and "石岭县" in card.places
    assert card.label == "石岭县政府第5次常务会议（2024-02-26）"


def test_a_party_committee_opening_in_traditional_characters_is_read_too() -> None:
    card = card_of("2024年1月16日上午，中共松川縣委召開常委會（擴大）會議，傳達學習上級會議精神。")
    assert card.heading.startswith("松川县") and card.heading.endswith("会议")


def test_a_district_meeting_is_named_after_the_district_not_its_city() -> None:
    card = card_of("日前，东江市北湖区区长某某主持召开区政府第9次常务会议，研究城市更新等工作。")
    assert card.heading == "北湖区政府第9次常务会议"
    assert {"东江", "北湖"} <= set(card.places)


def test_an_opening_without_a_place_takes_it_from_the_documents_the_meeting_names() -> None:
    card = card_of(
        "4月18日上午，市长某某主持召开市政府第3次常务会议。", "会议审议通过了《西渡市城镇老旧小区改造方案》。"
    )
    assert card.places[:2] == ("西渡市", "西渡")
    assert card.heading == "西渡市政府第3次常务会议"


def test_words_in_the_middle_of_a_sentence_are_not_taken_for_places() -> None:
    card = card_of("3月1日，中共南溪市委召开常委会会议，听取全市防汛工作汇报，研究中心城区改造。")
    assert set(card.places) == {"南溪市", "南溪"}


def test_an_english_transcript_is_recognised_with_its_speakers() -> None:
    t = "Thanks everyone, let's start with the budget."
    sp = StoredParagraph(
        "x", Paragraph(1, t, (Sentence(0, len(t)),), "Dr. Ines Halvorsen (Director)"), fold(t), "X Board", None
    )
    card = Catalog([sp], PROFILE)["x"]
    assert card.english and card.speakers == ("Dr. Ines Halvorsen (Director)",)
    assert {"ines", "halvorsen", "director"} <= card.speaker_names["Dr. Ines Halvorsen (Director)"]


def test_a_meeting_date_is_recognised_in_the_forms_records_write_it() -> None:
    assert states_date("5月6日,市委常委会召开会议", "2022-05-06")
    assert states_date("会议于2022-05-06召开", "2022-05-06")
    assert not states_date("15月6日", "2022-05-06") and not states_date("5月16日召开", "2022-05-06")
    assert not states_date("5月6日", None) and not states_date("5月6日", "May 6")


def test_the_organ_that_convenes_is_part_of_the_meetings_name() -> None:
    card = card_of("3月1日，中共南溪市委召开常委会会议，听取全市防汛工作汇报。")
    assert card.heading == "南溪市委常委会会议"
    assert {"市委", "常委会"} <= set(card.body_terms)
    bureau = card_of("9月10日，桐溪市市场监督管理局召开党组会议，研究部署食品安全工作。")
    assert bureau.heading == "桐溪市市场监督管理局党组会议"
    # Of the convenor only the organ's own word names the meeting: 市场 stays a topic a question may ask about.
    assert {"管理局", "党组"} <= set(bureau.body_terms) and "市场" not in bureau.body_terms


def test_a_store_change_reads_only_the_meetings_it_changed(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import meeting_qa.meetings as meetings

    def paragraphs(mid: str, text: str) -> list[StoredParagraph]:
        return [StoredParagraph(mid, Paragraph(1, text, (Sentence(0, len(text)),)), fold(text), mid, None)]

    read: list[str] = []
    real = meetings._read_card
    monkeypatch.setattr(meetings, "_read_card", lambda mid, *a: read.append(mid) or real(mid, *a))
    a = paragraphs("cache-a", "会议研究了停车管理。")
    b = paragraphs("cache-b", "会议研究了垃圾分类。")
    Catalog([*a, *b], PROFILE)
    assert sorted(read) == ["cache-a", "cache-b"]
    read.clear()
    changed = paragraphs("cache-b", "会议研究了垃圾分类和停车。")
    catalog = Catalog([*a, *changed], PROFILE)
    assert read == ["cache-b"]
    assert catalog.records == 2  # dateless reports are meeting records
