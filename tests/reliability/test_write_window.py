"""A process killed inside a write never hides a meeting (issue 13, case 3)."""

from __future__ import annotations

import signal
from pathlib import Path

from meeting_qa.config import Settings
from meeting_qa.qa import Engine
from tests.conftest import FakeEmbeddings
from tests.reliability.harness import run_worker

VERBATIM = "The harbour authority will repaint the lighthouse in cobalt blue before the festival."


def _engine(store: Path, cache: Path) -> Engine:
    return Engine.build(Settings(store_dir=store, cache_dir=cache), embeddings=FakeEmbeddings())


def _ingest(store: Path, cache: Path, path: Path, *faults: str) -> int:
    proc = run_worker("cli", "ingest", "--store", str(store), str(path), faults=faults, MEETING_QA_CACHE=str(cache))
    return proc.returncode


def _corpus(tmp_path: Path) -> tuple[Path, Path]:
    first = tmp_path / "budget.txt"
    first.write_text(
        "\n".join(f"Paragraph {i}: the council discussed road budget item {i}." for i in range(30)), encoding="utf-8"
    )
    second = tmp_path / "harbour.txt"
    second.write_text(f"The harbour board met on Monday.\n{VERBATIM}\nThe next meeting is in June.\n", encoding="utf-8")
    return first, second


def test_a_meeting_written_by_a_process_killed_before_its_write_finished_is_found_by_the_next_run(
    tmp_path: Path,
) -> None:
    store, cache = tmp_path / "store", tmp_path / "cache"
    first, second = _corpus(tmp_path)
    assert _ingest(store, cache, first) == 0
    # A search builds (and saves) the lexical index for the store as it is now.
    assert _engine(store, cache).search("road budget item 7", k=3)

    # Killed right after the new meeting's records are in, before the write is marked finished.
    assert _ingest(store, cache, second, "kill-after-meeting-record") == -signal.SIGKILL

    engine = _engine(store, cache)
    assert "harbour" in {m.meeting_id for m in engine.list_meetings()}
    index = engine.lexical.index()
    assert ("harbour", 2) in index.paragraphs  # the derived index was rebuilt, not trusted
    hits = engine.search(VERBATIM, k=3)
    assert hits[0].meeting_id == "harbour" and hits[0].paragraph == 2


def test_after_a_killed_write_the_store_heals_its_change_marker_and_reingest_is_idempotent(tmp_path: Path) -> None:
    store, cache = tmp_path / "store", tmp_path / "cache"
    first, second = _corpus(tmp_path)
    assert _ingest(store, cache, first) == 0
    assert _ingest(store, cache, second, "kill-after-meeting-record") == -signal.SIGKILL

    engine = _engine(store, cache)
    healed = engine.store.generation()
    assert not healed.startswith("writing-")  # no writer alive: the marker was made clean again
    assert engine.store.generation() == healed  # and stays put, so derived indexes are trusted again
    proc = run_worker("cli", "ingest", "--store", str(store), str(second), MEETING_QA_CACHE=str(cache))
    assert proc.returncode == 0 and "unchanged" in proc.stdout
    assert _engine(store, cache).search(VERBATIM, k=1)[0].meeting_id == "harbour"


def test_a_meeting_killed_halfway_is_not_listed_and_the_next_ingest_completes_it(tmp_path: Path) -> None:
    store, cache = tmp_path / "store", tmp_path / "cache"
    # Killed before any meeting record is written: with both files in one call, neither is complete yet.
    big = tmp_path / "many.jsonl"
    big.write_text(
        "\n".join(f'{{"id": "m{i}", "text": "Meeting {i} approved the plan for district {i}."}}' for i in range(600)),
        encoding="utf-8",
    )
    assert _ingest(store, cache, big, "kill-after-meeting-record") == -signal.SIGKILL
    listed = {m.meeting_id for m in _engine(store, cache).list_meetings()}
    assert len(listed) < 600
    assert _ingest(store, cache, big) == 0
    engine = _engine(store, cache)
    assert len(engine.list_meetings()) == 600
    assert engine.search("district 599", k=1)
