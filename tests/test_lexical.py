"""The bm25s lexical index: incremental by meeting, exact BM25 over live paragraphs, files shared by processes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from meeting_qa.config import Settings
from meeting_qa.lexical import BM25
from meeting_qa.loaders import load_text
from meeting_qa.qa import Engine
from meeting_qa.segments import Segment
from meeting_qa.store import StoredParagraph
from meeting_qa.text.fold import fold
from meeting_qa.types import Filters, Paragraph, Sentence
from tests.conftest import SAMPLE, SAMPLE_ID, FakeEmbeddings


def para(meeting: str, n: int, text: str) -> StoredParagraph:
    return StoredParagraph(meeting, Paragraph(n, text, (Sentence(0, len(text)),)), fold(text), meeting, None)


def write(folder: Path, name: str, *paragraphs: str) -> Path:
    path = folder / f"{name}.txt"
    path.write_text("\n".join(paragraphs), encoding="utf-8")
    return path


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    settings = Settings(store_dir=tmp_path / "store", cache_dir=tmp_path / "cache")
    return Engine.build(settings, embeddings=FakeEmbeddings())


def spy_reads(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    calls: list[Any] = []
    original = engine.store.paragraphs

    def paragraphs(meeting_ids: Any = None) -> list[StoredParagraph]:
        calls.append(None if meeting_ids is None else sorted(meeting_ids))
        return original(meeting_ids)

    monkeypatch.setattr(engine.store, "paragraphs", paragraphs)
    return calls


def test_a_new_meeting_is_read_and_indexed_alone_not_the_whole_store(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.ingest([SAMPLE])
    path = write(tmp_path, "harbour", "临川新港二期码头工程追加投资3.2亿元。", "会议由韩嘉树主持。")
    list(engine.store.upsert_meetings([load_text(path)]))  # a write by any process
    reads = spy_reads(engine, monkeypatch)
    index = engine.lexical.index()
    assert reads == [["harbour"]]
    assert len(index) == 13 and len(index.segments) == 2
    assert max(index.scores({"韩嘉树": 1.0}), key=index.scores({"韩嘉树": 1.0}).get) == ("harbour", 2)


def test_scores_after_adds_and_deletes_equal_a_fresh_build_of_the_live_paragraphs(
    engine: Engine, tmp_path: Path
) -> None:
    engine.ingest([SAMPLE])
    engine.ingest([write(tmp_path, "a", "港口建设投资扩大。", "港口码头由韩嘉树负责。")])
    engine.ingest([write(tmp_path, "b", "城市防汛工作部署。", "会议要求港口做好防汛。")])
    engine.delete("a")
    index = engine.lexical.index()
    fresh = BM25.build(engine.store.paragraphs())
    assert len(index) == len(fresh) == 13
    terms = {"港口": 1.0, "防汛": 0.5, "会议": 2.0}
    got, want = index.scores(terms), fresh.scores(terms)
    assert set(got) == set(want) and ("a", 2) not in got
    assert all(got[k] == pytest.approx(want[k], rel=1e-5) for k in want)
    assert index.idf("港口") == pytest.approx(fresh.idf("港口"))
    assert index.substring_idf("韩嘉树") == index.max_idf  # only in the deleted meeting
    assert "a" not in index.meeting_texts and "防汛" in index.meeting_tokens["b"]


def test_a_replaced_meeting_keeps_only_its_new_paragraphs(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path, "m", "旧的内容提到图书馆。", "第二段。")
    engine.ingest([path])
    write(tmp_path, "m", "新的内容提到体育馆。", "第二段。")
    engine.ingest([path])
    index = engine.lexical.index()
    assert index.scores({"图书馆": 1.0}) == {} and ("m", 1) in index.scores({"体育馆": 1.0})
    assert index.paragraphs[("m", 1)].paragraph.text == "新的内容提到体育馆。"


def test_many_small_updates_are_merged_into_one_segment(engine: Engine, tmp_path: Path) -> None:
    engine.ingest([SAMPLE])
    for i in range(10):
        engine.ingest([write(tmp_path, f"m{i}", f"第{i}次会议研究港口建设。")])
    index = engine.lexical.index()
    assert len(index.segments) <= 4 and len(index) == 21  # 11 without merging
    assert set(index.scores({"港口": 1.0})) == {(f"m{i}", 1) for i in range(10)}


def test_weights_scale_each_terms_contribution() -> None:
    index = BM25.build([para("m", 1, "港口建设"), para("m", 2, "城市防汛"), para("m", 3, "会议")])
    one, two = index.scores({"港口": 1.0, "防汛": 1.0}), index.scores({"港口": 2.0, "防汛": 1.0})
    assert two[("m", 1)] == pytest.approx(2 * one[("m", 1)]) and two[("m", 2)] == pytest.approx(one[("m", 2)])
    assert index.scores({"港口": 1.0}, Filters(meeting_ids=("other",))) == {}


def test_segment_files_are_bm25s_arrays_loaded_memory_mapped(tmp_path: Path) -> None:
    seg = Segment.build("seg-x", [para("m", 1, "港口建设投资"), para("m", 2, "城市防汛工作")])
    seg.save(tmp_path / "seg-x")
    again = Segment.load(tmp_path / "seg-x")
    assert isinstance(again.retriever.scores["data"], np.memmap) and isinstance(again.doc_terms, np.memmap)
    assert again.paragraph(1) == seg.paragraph(1) and again.keys == [("m", 1), ("m", 2)]
    assert again.terms_of(range(0, 1)) == seg.terms_of(range(0, 1))


def test_a_words_documents_come_from_bigram_postings_exactly_as_a_scan_of_the_texts_finds_them(
    tmp_path: Path,
) -> None:
    import random

    random.seed(7)
    texts = [
        "会议研究了港口建设投资工作。",
        "城市防汛工作要抓早抓小。",
        "港口建设",
        "the board approved the harbour plan",
        "Harbour plan: the meeting approved it.",
        "港港港口口",
        "a",
        "防汛",
        "建设投资和港口",
    ] + ["".join(random.choice("港口建设投资防汛工作会议") for _ in range(random.randint(1, 30))) for _ in range(200)]
    seg = Segment.build("seg-b", [para("m", i + 1, t) for i, t in enumerate(texts)])
    seg.save(tmp_path / "seg-b")
    loaded = Segment.load(tmp_path / "seg-b")
    assert isinstance(loaded.bigrams, np.memmap)
    words = ["港口", "港口建设", "口口", "harbour plan", "approved", "不存在", "设投", "投资和港", "口\x00城"]
    words += [t[i : i + n] for t in texts[:60] for n in (2, 3, 5) for i in range(0, max(1, len(t) - n), 4)]
    for s in (seg, loaded):
        for w in words:
            assert sorted(s.substring_docs(w).tolist()) == sorted(s._scan_docs(w).tolist()), w
    # A segment saved before the postings existed is scanned, with the same answer.
    (tmp_path / "seg-b" / "bigrams.npy").unlink()
    old = Segment.load(tmp_path / "seg-b")
    assert old.bigrams is None
    assert old.substring_docs("港口建设").tolist() == seg.substring_docs("港口建设").tolist()


def test_an_interrupted_segment_save_is_not_loaded(tmp_path: Path) -> None:
    seg = Segment.build("seg-y", [para("m", 1, "港口建设")])
    seg.save(tmp_path / "seg-y")
    (tmp_path / "seg-y" / "complete").unlink()
    with pytest.raises(FileNotFoundError):
        Segment.load(tmp_path / "seg-y")


def test_another_process_maps_the_saved_generation_instead_of_reading_the_store(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.ingest([SAMPLE])
    other = Engine.build(engine.settings, embeddings=FakeEmbeddings())
    reads = spy_reads(other, monkeypatch)
    assert len(other.lexical.index()) == 11 and reads == []
    assert other.search("徐纓主持", k=1)[0].meeting_id == SAMPLE_ID
