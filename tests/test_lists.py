"""Lists of documents and reports named in one sentence of a report become one item each."""

from __future__ import annotations

from meeting_qa.minutes.index import meeting_items
from meeting_qa.minutes.paragraph import ParagraphIn

OPENING = "3月3日，某市市长主持召开市政府第9次常务会议，研究有关工作。"


def items_of(*texts: str):  # type: ignore[no-untyped-def]
    ps = [ParagraphIn("m", i, t, "2025-03-03") for i, t in enumerate((OPENING, *texts), 1)]
    found = meeting_items(ps)
    for i in found:
        assert ps[i.paragraph - 1].text[i.start : i.end] == i.quote
    return found


def subjects(items, kind: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [i.subject for i in items if i.kind == kind]


def test_four_documents_approved_in_one_sentence_are_four_items() -> None:
    found = items_of("会议审议通过了《甲区停车管理办法》《乙镇供水方案》、《丙村道路规划》和《丁河治理意见》。")
    assert subjects(found, "approved") == ["甲区停车管理办法", "乙镇供水方案", "丙村道路规划", "丁河治理意见"]


def test_a_verdict_at_the_end_of_the_sentence_approves_every_item_considered() -> None:
    found = items_of(
        "会议讨论了全会工作报告（讨论稿）和全会建议方案、听取了关于监察体制改革试点工作有关汇报、"
        "讨论了《学习规则实施细则》、研究了关于命名教育基地事宜等四项议题，并原则通过。"
    )
    assert subjects(found, "approved") == ["全会工作报告", "全会建议方案", "学习规则实施细则", "关于命名教育基地事宜"]
    assert len(subjects(found, "heard")) == 1


def test_reports_heard_and_discussed_are_named_whole() -> None:
    found = items_of(
        "会议听取人大、政协会议筹备情况报告；听取并讨论《市政府工作报告》（讨论稿），书面听取并讨论"
        "《关于2024年财政预算执行情况的报告》（讨论稿）、市法院工作报告（讨论稿）、市检察院工作报告（讨论稿）。"
    )
    heard = subjects(found, "heard")
    assert "市政府工作报告" in heard and "关于2024年财政预算执行情况的报告" in heard
    assert "市法院工作报告" in heard and "市检察院工作报告" in heard
    assert not any(s.startswith("并讨论") or s.endswith("《市政府") for s in heard)


def test_short_names_before_a_report_share_its_head_noun() -> None:
    found = items_of("会议听取市人大、政府、政协党组工作汇报。")
    assert subjects(found, "heard") == ["市人大、政府、政协党组工作汇报"]


def test_documents_studied_without_a_verdict_are_considered_not_approved() -> None:
    found = items_of("会议研究了《城区停车管理办法》和《老年食堂运营方案》。强调，要加快落实。")
    assert subjects(found, "heard") == ["城区停车管理办法", "老年食堂运营方案"]
    assert subjects(found, "approved") == []


def test_other_matters_and_names_inside_documents_make_no_items() -> None:
    found = items_of("会议还研究了其他事项。", "会议听取了关于《关于讨论稿的决定（草案）》的说明。")
    assert subjects(found, "heard") == ["关于讨论稿的决定（草案）"]


def test_reports_heard_in_the_opening_line_are_items() -> None:
    ps = [
        ParagraphIn(
            "m",
            1,
            "1月11日，市委书记某某主持召开市委常委会会议，听取市人大常委会党组关于“两会”筹备情况的汇报，讨论研究市政府工作报告。",
            "2025-01-11",
        )
    ]
    found = meeting_items(ps)
    assert [i.kind for i in found] == ["heard", "heard"]
    assert subjects(found, "heard")[1] == "市政府工作报告"
