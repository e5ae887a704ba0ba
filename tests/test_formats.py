"""Records as they arrive: Word, PDF, web pages, subtitles and legacy encodings, each written in the test by
the library a user's software would use, then read back through `load_path`."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

import pytest

from meeting_qa.config import Settings
from meeting_qa.embeddings import SentenceEmbeddings
from meeting_qa.errors import LoaderError
from meeting_qa.loaders import load_path, load_text
from meeting_qa.qa import Engine
from meeting_qa.types import Answer, Meeting
from tests.conftest import REAL_CACHE, SAMPLE, SAMPLE_ID
from tests.formats import cjk_font, write_docx, write_html, write_pdf

SAMPLE_LINES = [ln for ln in SAMPLE.read_text(encoding="utf-8").splitlines() if ln.strip()]


def _one(path: Path) -> Meeting:
    items = list(load_path(path))
    assert len(items) == 1
    if isinstance(items[0], LoaderError):
        raise items[0]
    return items[0]


def _texts(m: Meeting) -> list[str]:
    return [p.text for p in m.paragraphs]


@pytest.fixture(scope="module")
def original() -> Meeting:
    return load_text(SAMPLE)


# -- Word ---------------------------------------------------------------------------------------------------


def test_a_word_rendering_of_the_sample_gives_its_eleven_paragraphs(tmp_path: Path, original: Meeting) -> None:
    m = _one(write_docx(SAMPLE_LINES, tmp_path / f"{SAMPLE_ID}.docx"))
    assert m.meeting_id == SAMPLE_ID and m.date == "2022-05-06"
    assert _texts(m) == _texts(original)
    assert m.warnings == original.warnings and m.cleaned == original.cleaned


def test_word_headings_tables_and_core_properties_are_read(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = "预算委员会会议纪要"
    document.core_properties.created = datetime(2024, 3, 15, 9, 30)
    document.add_heading("一、预算执行情况", level=2)
    document.add_paragraph("会议听取了上半年预算执行情况汇报。")
    table = document.add_table(rows=2, cols=3)
    for row, cells in zip(table.rows, [("项目", "预算", "执行"), ("教育", "120万", "95%")], strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    document.add_paragraph("会议决定追加教育经费。")
    path = tmp_path / "budget.docx"
    document.save(str(path))
    m = _one(path)
    assert m.title == "预算委员会会议纪要" and m.date == "2024-03-15"
    assert _texts(m) == [
        "一、预算执行情况",
        "会议听取了上半年预算执行情况汇报。",
        "项目 | 预算 | 执行",
        "教育 | 120万 | 95%",
        "会议决定追加教育经费。",
    ]


def test_a_word_transcript_becomes_speaker_turns_and_a_leading_title_heading_names_it(tmp_path: Path) -> None:
    path = write_docx(
        ["张主任：今天讨论预算。", "李会计：预算已经编好了。"], tmp_path / "call.docx", title="预算讨论会"
    )
    m = _one(path)
    assert m.title == "预算讨论会"
    assert [(p.speaker, p.text) for p in m.paragraphs] == [("张主任", "今天讨论预算。"), ("李会计", "预算已经编好了。")]


def test_a_file_named_docx_that_is_not_one_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "minutes.docx"
    path.write_bytes(b"not a zip file")
    with pytest.raises(LoaderError, match=r"minutes\.docx: not a readable Word"):
        _one(path)


# -- PDF ----------------------------------------------------------------------------------------------------

needs_font = pytest.mark.skipif(cjk_font() is None, reason="no Noto CJK font (make browser-deps installs it)")


@needs_font
def test_a_pdf_rendering_of_the_sample_gives_its_eleven_paragraphs(tmp_path: Path, original: Meeting) -> None:
    font = cjk_font()
    assert font is not None
    m = _one(write_pdf(SAMPLE_LINES, tmp_path / f"{SAMPLE_ID}.pdf", font))
    assert m.meeting_id == SAMPLE_ID and m.date == "2022-05-06"
    # Lines wrapped inside words and inside pinyin annotations are joined back exactly.
    assert _texts(m) == _texts(original)
    assert m.cleaned == original.cleaned


@needs_font
def test_pdf_paragraphs_continue_across_pages_and_page_numbers_are_dropped(tmp_path: Path) -> None:
    from fpdf import FPDF

    class Numbered(FPDF):
        def footer(self) -> None:
            self.set_y(-10)
            self.cell(0, 5, f"- {self.page_no()} -", align="C")

    font = cjk_font()
    pdf = Numbered(format=(105, 148))
    pdf.add_font("cjk", fname=str(font))
    pdf.set_font("cjk", size=10)
    pdf.set_auto_page_break(True, margin=15)
    long = "会议要求各部门落实安全生产责任，" * 60 + "确保不发生重大事故。"
    pdf.add_page()
    pdf.multi_cell(0, 5, "第一段：会议由王主任主持。")
    pdf.ln(4)
    pdf.multi_cell(0, 5, long)
    path = tmp_path / "safety.pdf"
    pdf.output(str(path))
    assert pdf.page_no() >= 2
    m = _one(path)
    assert _texts(m) == ["第一段：会议由王主任主持。", long]


def test_a_pdf_without_a_text_layer_is_refused_with_a_message_that_says_so(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")  # a scanned page is a picture: no text at all
    path = tmp_path / "scan.pdf"
    pdf.output(str(path))
    with pytest.raises(LoaderError, match=r"scan\.pdf: the PDF has no text layer"):
        _one(path)


# -- web pages ----------------------------------------------------------------------------------------------


def test_a_saved_web_page_keeps_the_article_and_drops_navigation_and_scripts(tmp_path: Path, original: Meeting) -> None:
    m = _one(write_html(SAMPLE_LINES, tmp_path / f"{SAMPLE_ID}.html", title="盐城市委常委会召开会议"))
    assert m.title == "盐城市委常委会召开会议" and m.date == "2022-05-06"
    assert _texts(m) == _texts(original)
    everything = "".join(_texts(m))
    assert not any(junk in everything for junk in ("首页", "新闻中心", "tracking", "相关新闻", "版权所有"))


def test_br_and_block_elements_make_paragraphs_in_a_page_without_main(tmp_path: Path) -> None:
    path = tmp_path / "notice.htm"
    path.write_text(
        "<html><head><title>通知</title><style>.x{}</style></head><body>"
        "<div role='navigation'><a>返回</a></div>"
        "<h1>关于召开预算会议的通知</h1>"
        "<div>各位委员：<br>定于下周一召开会议。<br/>请准时参加。</div>"
        "<ul><li>议程一：预算</li><li>议程二：人事</li></ul>"
        "<p>办公室<b>2024年</b>3月1日</p><script>alert(1)</script></body></html>",
        encoding="gbk",
    )
    m = _one(path)
    assert m.title == "关于召开预算会议的通知" and m.encoding == "GB18030"
    assert _texts(m) == [
        "各位委员：",
        "定于下周一召开会议。",
        "请准时参加。",
        "议程一：预算",
        "议程二：人事",
        "办公室2024年3月1日",
    ]


# -- subtitles ----------------------------------------------------------------------------------------------


def test_webvtt_voices_become_speaker_turns_and_one_speakers_cues_are_joined(tmp_path: Path) -> None:
    path = tmp_path / "call-2024-05-01.vtt"
    path.write_text(
        "WEBVTT\n\nNOTE recorded by the meeting room\n\n"
        "1\n00:00:01.000 --> 00:00:03.000\n<v 王五>预算<b>通过</b>了。\n\n"
        "00:00:03.500 --> 00:00:05.000\n<v 王五>下周执行。</v>\n\n"
        "00:01:04.000 --> 00:01:06.000 align:start\n<v.loud 赵六>好的，\n我来安排。\n",
        encoding="utf-8",
    )
    m = _one(path)
    assert m.date == "2024-05-01"
    assert [(p.speaker, p.text, p.timestamp) for p in m.paragraphs] == [
        ("王五", "预算通过了。下周执行。", "00:00:01"),
        ("赵六", "好的，我来安排。", "00:01:04"),
    ]


def test_srt_cues_with_name_prefixes_become_speaker_turns(tmp_path: Path) -> None:
    path = tmp_path / "board.srt"
    path.write_text(
        "1\n00:00:01,000 --> 00:00:02,500\n主持人：会议开始。\n\n"
        "2\n00:00:03,000 --> 00:00:04,000\n<i>财务处：</i>预算已编制完成。\n\n"
        "3\n01:02:03,000 --> 01:02:04,000\n没有说话人的一句。\n",
        encoding="utf-8",
    )
    m = _one(path)
    assert [(p.speaker, p.text, p.timestamp) for p in m.paragraphs] == [
        ("主持人", "会议开始。", "00:00:01"),
        ("财务处", "预算已编制完成。", "00:00:03"),
        (None, "没有说话人的一句。", "01:02:03"),
    ]


def test_a_broken_subtitle_file_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "bad.srt"
    path.write_text("1\nnot a time line\nhello\n\n2\n00:00:01,000 --> nonsense\n", encoding="utf-8")
    with pytest.raises(LoaderError, match=r"bad\.srt"):
        _one(path)


# -- encodings ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codec", "reported"),
    [
        ("gbk", "GB18030"),
        ("big5hkscs", "Big5"),
        ("utf-16", "UTF-16 (BOM)"),
        ("utf-8-sig", "UTF-8 (BOM)"),
        ("utf-32", "UTF-32 (BOM)"),
    ],
)
def test_legacy_and_utf16_copies_of_the_sample_give_exactly_its_paragraphs(
    tmp_path: Path, original: Meeting, codec: str, reported: str
) -> None:
    path = tmp_path / SAMPLE.name
    path.write_bytes(SAMPLE.read_text(encoding="utf-8").encode(codec))
    m = _one(path)
    assert m.encoding == reported
    assert m.paragraphs == original.paragraphs
    assert m.content_hash == original.content_hash and m.warnings == original.warnings


def test_big5_traditional_text_is_not_read_as_gb18030(tmp_path: Path) -> None:
    # GB18030 decodes these bytes too, into wrong characters: the detector must prefer Big5.
    path = tmp_path / "taipei.txt"
    path.write_bytes("會議決定：預算照案通過，由財政局執行。\n".encode("big5"))
    m = _one(path)
    assert m.encoding == "Big5" and m.paragraphs[0].text == "會議決定：預算照案通過，由財政局執行。"


def test_a_line_too_short_for_a_language_to_show_is_read_as_chinese_first(tmp_path: Path) -> None:
    # One Big5 line is also "clean" Shift-JIS (half-width kana), one GBK line clean EUC-KR.
    for codec, text in (("big5", "會議決定：預算照案通過。"), ("gbk", "会议通过了方案。")):
        path = tmp_path / f"short-{codec}.txt"
        path.write_bytes(text.encode(codec))
        assert _one(path).paragraphs[0].text == text


def test_a_cp1252_file_keeps_its_accents(tmp_path: Path) -> None:
    path = tmp_path / "berlin.txt"
    path.write_bytes("Herr Müller eröffnete die Sitzung. Das Budget für 2024 wurde genehmigt.\n".encode("cp1252"))
    m = _one(path)
    assert m.encoding == "cp1252" and "Müller" in m.paragraphs[0].text


def test_random_latin1_bytes_are_refused_naming_the_file_and_the_encodings_tried(tmp_path: Path) -> None:
    rng = random.Random(11)
    path = tmp_path / "noise.txt"
    path.write_bytes(bytes(rng.choice([*range(0x20, 0x7F), *range(0xA0, 0x100)]) for _ in range(4000)))
    with pytest.raises(LoaderError) as e:
        _one(path)
    message = str(e.value)
    assert "noise.txt" in message and "cannot tell its text encoding" in message
    assert all(name in message for name in ("UTF-8", "GB18030", "Big5", "UTF-16", "cp1252"))


def test_one_undecodable_file_fails_alone_and_the_report_names_each_encoding(fake_engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "noise.txt").write_bytes(bytes(random.Random(3).randrange(0x80, 0x100) for _ in range(3000)))
    (tmp_path / "big5-2024-01-02.txt").write_bytes("會議由陳主任主持。\n會議通過預算。\n".encode("big5"))
    (tmp_path / "utf16.txt").write_bytes("会议由王主任主持。\n".encode("utf-16"))
    report = fake_engine.ingest([tmp_path])
    by_name = {Path(f.path).name: f for f in report.files}
    assert by_name["noise.txt"].status == "failed" and "noise.txt" in (by_name["noise.txt"].error or "")
    assert by_name["big5-2024-01-02.txt"].status == "added" and by_name["big5-2024-01-02.txt"].encoding == "Big5"
    assert by_name["utf16.txt"].status == "added" and by_name["utf16.txt"].encoding == "UTF-16 (BOM)"


# -- end to end with the real default model ------------------------------------------------------------------

QUESTIONS = (
    "这次会议的主持人是谁？",
    "會議是哪一天召開的？",
    "复工复产要畅通哪些环节？",
    "What did the meeting say about new energy such as wind and solar power?",
    "會議要求嚴厲打擊什麼行為？",
    "这篇报道由哪家媒体发布？",
    "会议宣布了哪些人事任免？",  # not covered: every rendering must abstain alike
)


def _answers(engine: Engine) -> list[tuple[bool, tuple[tuple[int, str, int, int], ...], tuple[int, ...]]]:
    """What each question gets: abstained or not, the citations (paragraph, quote, offsets), related paragraphs.
    (Not the answer's wording: an abstention names the meeting's title, which a web page or Word file has
    of its own.)"""
    out = []
    for q in QUESTIONS:
        a = engine.ask(q)
        cites = tuple((c.paragraph, c.quote, c.start, c.end) for c in a.citations)
        out.append((a.abstained, cites, tuple(p.paragraph for p in a.related)))
    return out


@pytest.mark.parametrize("codec", ["gbk", "big5hkscs", "utf-16"])
def test_gbk_big5_and_utf16_copies_answer_exactly_like_the_original(
    sample_engine: Engine, settings: Settings, tmp_path: Path, codec: str
) -> None:
    expected = [(sample_engine.ask(q).text, _cites(sample_engine.ask(q))) for q in QUESTIONS]
    sample_engine.delete(SAMPLE_ID)
    copy = tmp_path / codec / SAMPLE.name
    copy.parent.mkdir()
    copy.write_bytes(SAMPLE.read_text(encoding="utf-8").encode(codec))
    assert sample_engine.ingest([copy]).files[0].status == "added"
    assert [(sample_engine.ask(q).text, _cites(sample_engine.ask(q))) for q in QUESTIONS] == expected


def _cites(answer: Answer) -> tuple[tuple[int, str], ...]:
    return tuple((c.paragraph, c.quote) for c in answer.citations)


@pytest.mark.e2e
def test_word_pdf_and_web_renderings_of_the_sample_cite_what_the_original_cites(
    tmp_path: Path, real_engine: Engine, real_embeddings: SentenceEmbeddings
) -> None:
    expected = _answers(real_engine)  # the .txt original, ingested by the session's real store
    assert any(cites for _, cites, _ in expected) and expected[-1][0]  # the questions do find, and abstain
    renderings = [
        write_docx(SAMPLE_LINES, tmp_path / f"{SAMPLE_ID}.docx"),
        write_html(SAMPLE_LINES, tmp_path / f"{SAMPLE_ID}.html"),
    ]
    font = cjk_font()
    if font is not None:
        renderings.append(write_pdf(SAMPLE_LINES, tmp_path / f"{SAMPLE_ID}.pdf", font))
    for path in renderings:
        engine = Engine.build(
            Settings(store_dir=tmp_path / f"store{path.suffix}", cache_dir=REAL_CACHE), embeddings=real_embeddings
        )
        report = engine.ingest([path])
        assert report.ok and report.files[0].paragraphs == 11, (path.suffix, report)
        assert _answers(engine) == expected, path.suffix
