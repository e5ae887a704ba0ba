from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from meeting_qa.config import Settings
from meeting_qa.errors import ModelMismatchError
from meeting_qa.qa import Engine
from meeting_qa.store import make_client
from tests.conftest import SAMPLE, SAMPLE_ID, FakeEmbeddings


def test_ingesting_an_unchanged_file_changes_nothing(sample_engine: Engine) -> None:
    before = sample_engine.list_meetings()
    generation = sample_engine.store.generation()
    report = sample_engine.ingest([SAMPLE])
    assert [f.status for f in report.files] == ["unchanged"]
    assert sample_engine.list_meetings() == before
    assert sample_engine.store.generation() == generation


def test_a_changed_file_replaces_exactly_its_own_entries(sample_engine: Engine, tmp_path: Path) -> None:
    other = tmp_path / "other.txt"
    other.write_text("第一段。\n第二段。\n", encoding="utf-8")
    sample_engine.ingest([other])
    edited = tmp_path / SAMPLE.name
    text = SAMPLE.read_text(encoding="utf-8").splitlines()
    text[9] = "會議還研究了新機場的預算。"
    edited.write_text("\n".join(text), encoding="utf-8")
    count_before = sample_engine.store.collection.count()

    # A copy in another folder is another file: replacing the stored meeting with it takes --replace.
    report = sample_engine.ingest([edited], replace=True)

    assert [f.status for f in report.files] == ["updated"]
    assert sample_engine.store.collection.count() == count_before  # same number of entries: no stale, no duplicate
    paragraphs = {(p.meeting_id, p.paragraph.number): p.paragraph.text for p in sample_engine.store.paragraphs()}
    assert paragraphs[(SAMPLE_ID, 10)] == "會議還研究了新機場的預算。"
    assert paragraphs[("other", 2)] == "第二段。"
    assert len([k for k in paragraphs if k[0] == SAMPLE_ID]) == 11


def test_delete_removes_a_meeting_and_reports_unknown_ones(sample_engine: Engine) -> None:
    assert sample_engine.delete(SAMPLE_ID) is True
    assert sample_engine.list_meetings() == []
    assert sample_engine.store.collection.count() == 0
    assert sample_engine.delete(SAMPLE_ID) is False


def test_list_reports_title_date_and_paragraph_count(sample_engine: Engine) -> None:
    [info] = sample_engine.list_meetings()
    assert (info.meeting_id, info.date, info.paragraphs) == (SAMPLE_ID, "2022-05-06", 11)


def test_a_store_built_with_another_model_is_refused_with_advice(tmp_path: Path) -> None:
    settings = Settings(store_dir=tmp_path / "store", cache_dir=tmp_path / "cache")
    Engine.build(settings, embeddings=FakeEmbeddings()).ingest([SAMPLE])

    class Other(FakeEmbeddings):
        @property
        def label(self) -> str:
            return "some-other-model"

    engine = Engine.build(settings, embeddings=Other())
    with pytest.raises(ModelMismatchError, match="re-ingest"):
        engine.search("谁主持了会议？")


def test_the_lexical_index_notices_writes_by_another_process(tmp_path: Path) -> None:
    settings = Settings(store_dir=tmp_path / "store", cache_dir=tmp_path / "cache")
    reader = Engine.build(settings, embeddings=FakeEmbeddings())
    writer = Engine.build(settings, embeddings=FakeEmbeddings(), client=make_client(tmp_path / "store"))
    writer.ingest([SAMPLE])
    assert reader.search("徐纓主持", k=1)[0].paragraph == 1
    writer.delete(SAMPLE_ID)
    assert reader.search("徐纓主持", k=1) == []


def test_the_lexical_index_is_persisted_and_reloaded(tmp_path: Path) -> None:
    settings = Settings(store_dir=tmp_path / "store", cache_dir=tmp_path / "cache")
    engine = Engine.build(settings, embeddings=FakeEmbeddings())
    engine.ingest([SAMPLE])
    engine.search("徐纓", k=1)
    # bm25s's own files (sparse matrix as .npy, vocabulary as JSON), no pickles
    assert list((tmp_path / "cache" / "lexical").glob("*/seg-*/data.csc.index.npy"))
    assert not list((tmp_path / "cache" / "lexical").rglob("*.pkl"))
    again = Engine.build(settings, embeddings=FakeEmbeddings())
    folder = again.lexical.folder
    assert folder is not None
    loaded = again.lexical._load(folder, again.store.generation())
    assert loaded is not None and len(loaded) == 11
    assert loaded.paragraphs == engine.lexical.index().paragraphs
    assert loaded.scores({"徐纓": 1.0}) == engine.lexical.index().scores({"徐纓": 1.0})


def test_two_files_with_one_name_do_not_overwrite_each_other(fake_engine: Engine, tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "minutes.txt").write_text(f"{folder}会议。", encoding="utf-8")
    report = fake_engine.ingest([tmp_path])
    assert [f.status for f in report.files] == ["failed", "added"]
    assert "also used by" in (report.files[0].error or "") and "rename" in (report.files[0].error or "")


def test_ingest_reports_progress_per_meeting(fake_engine: Engine, tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"m{i}.txt").write_text("第一段。\n第二段。", encoding="utf-8")
    seen: list[tuple[int, int]] = []
    fake_engine.ingest([tmp_path], progress=lambda source, done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_ingest_streams_meetings_into_the_store_before_later_files_are_parsed(
    fake_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import meeting_qa.qa as qa
    import meeting_qa.store as store

    for i in range(3):
        (tmp_path / f"m{i}.txt").write_text(f"第{i}段。\n第二段。", encoding="utf-8")
    events: list[str] = []
    load = qa.load_path

    def loading(path: Path) -> Any:
        events.append(f"load {path.name}")
        yield from load(path)

    monkeypatch.setattr(qa, "load_path", loading)
    monkeypatch.setattr(store, "EMBED_GROUP", 1)  # every meeting is a group of its own
    files: list[str] = []
    fake_engine.ingest(
        [tmp_path],
        progress=lambda source, done, total: events.append(f"stored {Path(source).name}"),
        on_file=lambda f: files.append(f.status),
    )
    assert events.index("stored m0.txt") < events.index("load m2.txt")
    assert files == ["added"] * 3


def test_a_group_is_written_in_the_clients_largest_batches(
    fake_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes: list[int] = []
    collection = fake_engine.store.collection
    upsert = collection.upsert
    monkeypatch.setattr(fake_engine.store.client, "get_max_batch_size", lambda: 7)
    monkeypatch.setattr(collection, "upsert", lambda **kw: (sizes.append(len(kw["ids"])), upsert(**kw)))
    fake_engine.ingest([SAMPLE])
    # 46 paragraph and sentence records in batches of 7, then the meeting record on its own, last
    assert sizes == [7] * 6 + [4, 1]


def test_opening_a_store_waits_out_another_process_creating_it_and_gives_up_on_real_errors() -> None:
    # Two processes opening one new store at once race on creating its tables; SQLite answers "already exists"
    # or "database is locked" to the loser, which must wait and retry, forgetting its half-started view.
    from meeting_qa.chroma_client import retry_transient

    calls, undone = [], []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("error returned from database: (code: 5) database is locked")
        return "open"

    assert retry_transient(flaky, undo=lambda: undone.append(1)) == "open"
    assert len(calls) == 3 and len(undone) == 2

    def broken() -> str:
        calls.append(1)
        raise RuntimeError("no such file: chroma.sqlite3 is not a database")

    calls.clear()
    with pytest.raises(RuntimeError, match="not a database"):
        retry_transient(broken)
    assert len(calls) == 1

    def always_locked() -> str:
        raise RuntimeError("database is locked")

    with pytest.raises(RuntimeError, match="locked"):
        retry_transient(always_locked, wait_s=0.2)
