"""Several writers on one embedded store: nothing corrupted (issue 13, case 1)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import chromadb
from chromadb.config import Settings as ChromaSettings

from meeting_qa.config import Settings
from meeting_qa.qa import Engine
from tests.conftest import FakeEmbeddings
from tests.reliability.harness import run_worker, start_worker, write_jsonl


def _engine(store: Path, cache: Path) -> Engine:
    settings = Settings(store_dir=store, cache_dir=cache)
    return Engine.build(settings, embeddings=FakeEmbeddings())


def test_two_cli_ingests_and_a_web_upload_at_once_leave_a_store_where_every_delete_and_search_works(
    tmp_path: Path,
) -> None:
    # Each writer adds over 1000 records, past the point where Chroma persists its vector index: on the old
    # code the writers overwrote each other's index files and about half of the later searches failed.
    store, cache = tmp_path / "store", tmp_path / "cache"
    a_ids = write_jsonl(tmp_path / "a.jsonl", "alpha", 300, paragraphs=4)
    b_ids = write_jsonl(tmp_path / "b.jsonl", "beta", 300, paragraphs=4)
    uploads = []
    for i in range(4):
        up = tmp_path / f"upload-{i}.txt"
        up.write_text(f"Upload {i}: the board approved the gamma{i} plan.\nIt meets again in May.\n", encoding="utf-8")
        uploads.append(str(up))

    cache_env = {"MEETING_QA_CACHE": str(cache)}
    procs = [
        start_worker("cli", "ingest", "--store", str(store), str(tmp_path / "a.jsonl"), **cache_env),
        start_worker("cli", "ingest", "--store", str(store), str(tmp_path / "b.jsonl"), **cache_env),
        start_worker("upload", str(store), str(cache), *uploads),
    ]
    results = [(p.wait(timeout=600), p.stderr.read() if p.stderr else "") for p in procs]
    assert [rc for rc, _ in results] == [0, 0, 0], results

    engine = _engine(store, cache)
    listed = {m.meeting_id for m in engine.list_meetings()}
    assert set(a_ids) | set(b_ids) <= listed
    assert len(listed) == 604

    failures = []
    # Alternate the two writers' meetings, so both halves of the store are exercised.
    order = [m for pair in zip(a_ids, b_ids, strict=True) for m in pair]
    for round_ in range(3):
        for mid in order[round_ * 100 : (round_ + 1) * 100]:
            prefix, n = mid.split("-")
            query = engine.embeddings.embed_query(f"budget line {prefix}{int(n)}x1")
            try:  # the vector search of every question; a corrupted store fails it with "Error getting embedding"
                if not engine.store.dense(query, k=3, kinds=("paragraph",)):
                    failures.append(f"search for {mid}: nothing")
            except Exception as e:
                failures.append(f"search for {mid}: {e}")
            try:
                if not engine.delete(mid):
                    failures.append(f"delete {mid}: not found")
            except Exception as e:
                failures.append(f"delete {mid}: {e}")
        # The whole question path still answers at the end of each round.
        assert engine.search("the board approved the gamma2 plan", k=3)
    assert failures == []
    assert len(engine.list_meetings()) == 304
    # A fresh client sees the same, intact store.
    client = chromadb.PersistentClient(path=str(store), settings=ChromaSettings(anonymized_telemetry=False))
    assert client.get_collection("meetings").count() == engine.store.collection.count()


def _wait_until_busy(proc: subprocess.Popen[str]) -> list[str]:
    """stderr lines up to the writer's "busy, waiting" line (it cannot finish before it: the lock is held)."""
    assert proc.stderr is not None
    lines = []
    while line := proc.stderr.readline():
        lines.append(line)
        if "busy" in line:
            break
    return lines


def test_a_second_writer_says_the_store_is_busy_and_waits_for_the_first(tmp_path: Path) -> None:
    store, cache = tmp_path / "store", tmp_path / "cache"
    write_jsonl(tmp_path / "a.jsonl", "alpha", 3)
    from meeting_qa.storelock import StoreLock

    with StoreLock(store).hold():  # another writer, holding the store
        proc = start_worker(
            "cli", "ingest", "--store", str(store), str(tmp_path / "a.jsonl"), MEETING_QA_CACHE=str(cache)
        )
        said = _wait_until_busy(proc)
        assert proc.poll() is None, said  # still waiting while the lock is held
        assert said[-1].strip().endswith("is busy (another meeting-qa process is writing), waiting…")
        assert not (store / "chroma.sqlite3").exists() or _engine(store, cache).list_meetings() == []
    assert proc.wait(timeout=300) == 0
    assert len(_engine(store, cache).list_meetings()) == 3


def test_deletes_wait_for_the_lock_too(tmp_path: Path) -> None:
    store, cache = tmp_path / "store", tmp_path / "cache"
    write_jsonl(tmp_path / "a.jsonl", "alpha", 2)
    ingest = run_worker("cli", "ingest", "--store", str(store), str(tmp_path / "a.jsonl"), MEETING_QA_CACHE=str(cache))
    assert ingest.returncode == 0
    from meeting_qa.storelock import StoreLock

    with StoreLock(store).hold():
        proc = start_worker("cli", "delete", "--store", str(store), "alpha-000", MEETING_QA_CACHE=str(cache))
        said = _wait_until_busy(proc)
        assert proc.poll() is None and "busy" in said[-1]
        assert len(_engine(store, cache).list_meetings()) == 2
    assert proc.wait(timeout=300) == 0
    assert [m.meeting_id for m in _engine(store, cache).list_meetings()] == ["alpha-001"]


def test_a_long_running_reader_finds_meetings_another_process_wrote_and_writes_after_it_safely(
    tmp_path: Path,
) -> None:
    """The web chat's process stays up while a script ingests: it must read the script's meetings, and its
    own upload afterwards must not overwrite them."""
    store, cache = tmp_path / "store", tmp_path / "cache"
    write_jsonl(tmp_path / "a.jsonl", "alpha", 5)
    write_jsonl(tmp_path / "b.jsonl", "beta", 5)
    cache_env = {"MEETING_QA_CACHE": str(cache)}
    assert run_worker("cli", "ingest", "--store", str(store), str(tmp_path / "a.jsonl"), **cache_env).returncode == 0
    server = _engine(store, cache)
    assert server.search("budget line alpha3x1", k=1)[0].meeting_id == "alpha-003"

    assert run_worker("cli", "ingest", "--store", str(store), str(tmp_path / "b.jsonl"), **cache_env).returncode == 0

    assert server.search("budget line beta3x1", k=1)[0].meeting_id == "beta-003"
    upload = tmp_path / "upload.txt"
    upload.write_text("The board approved the gamma plan.\n", encoding="utf-8")
    assert server.ingest([upload]).ok
    fresh = _engine(store, cache)
    assert len(fresh.list_meetings()) == 11
    for mid, words in (("alpha-001", "budget line alpha1x1"), ("beta-004", "budget line beta4x2"), ("upload", "gamma")):
        assert fresh.search(words, k=1)[0].meeting_id == mid
        assert fresh.delete(mid)
