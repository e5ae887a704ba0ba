"""One bad file or line is reported; the good ones still ingest (issue 13, "Also": per-file failures)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from meeting_qa.config import Settings
from meeting_qa.qa import Engine
from tests.conftest import FakeEmbeddings
from tests.reliability.harness import run_worker


def _ingest(tmp_path: Path, *paths: Path, faults: tuple[str, ...] = ()) -> tuple[int, list[dict[str, object]], str]:
    proc = run_worker(
        "cli",
        "ingest",
        "--json",
        "--store",
        str(tmp_path / "store"),
        *map(str, paths),
        faults=faults,
        MEETING_QA_CACHE=str(tmp_path / "cache"),
    )
    files = json.loads(proc.stdout)["files"] if proc.stdout.strip().startswith("{") else []
    return proc.returncode, files, proc.stderr


def _good(tmp_path: Path, name: str = "good.txt") -> Path:
    path = tmp_path / name
    path.write_text("The board approved the river plan.\nThe next meeting is in May.\n", encoding="utf-8")
    return path


def _listed(tmp_path: Path) -> set[str]:
    engine = Engine.build(
        Settings(store_dir=tmp_path / "store", cache_dir=tmp_path / "cache"), embeddings=FakeEmbeddings()
    )
    return {m.meeting_id for m in engine.list_meetings()}


def test_deeply_nested_json_fails_alone_and_the_other_files_ingest(tmp_path: Path) -> None:
    nested = tmp_path / "nested.json"
    nested.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    code, files, err = _ingest(tmp_path, nested, _good(tmp_path))
    assert code == 2, err
    by_status = {f["status"]: f for f in files}
    assert "nested too deeply" in str(by_status["failed"]["error"]) and "nested.json" in str(
        by_status["failed"]["error"]
    )
    assert by_status["added"]["meeting_id"] == "good"
    assert _listed(tmp_path) == {"good"}


def test_a_lone_surrogate_escape_fails_only_its_own_jsonl_line(tmp_path: Path) -> None:
    bulk = tmp_path / "bulk.jsonl"
    lines = [
        {"id": "m1", "text": "The council approved the budget."},
        {"id": "m2", "text": "Bad \ud800 character here."},
        {"id": "m3", "text": "The council rejected the tunnel."},
    ]
    bulk.write_text("\n".join(json.dumps(obj) for obj in lines), encoding="utf-8")  # json.dumps escapes \ud800
    code, files, err = _ingest(tmp_path, bulk)
    assert code == 2, err
    failed = [f for f in files if f["status"] == "failed"]
    assert len(failed) == 1 and "bulk.jsonl:2" in str(failed[0]["error"]) and "\\ud800" in str(failed[0]["error"])
    assert _listed(tmp_path) == {"m1", "m3"}


def test_a_file_that_cannot_be_read_fails_alone_and_the_rest_of_its_folder_ingests(tmp_path: Path) -> None:
    folder = tmp_path / "minutes"
    folder.mkdir()
    _good(folder, "a.txt")
    _good(folder, "broken.txt")
    _good(folder, "c.txt")
    code, files, err = _ingest(tmp_path, folder, faults=("eio-on:broken.txt",))
    assert code == 2, err
    failed = [f for f in files if f["status"] == "failed"]
    assert (
        len(failed) == 1 and "broken.txt" in str(failed[0]["error"]) and "Input/output error" in str(failed[0]["error"])
    )
    assert _listed(tmp_path) == {"a", "c"}


def test_a_missing_path_among_several_is_reported_and_the_others_ingest(tmp_path: Path) -> None:
    code, files, err = _ingest(tmp_path, tmp_path / "no-such.txt", _good(tmp_path))
    assert code == 2, err
    assert [f["status"] for f in files] == ["failed", "added"]
    assert "no-such.txt: no such file" in str(files[0]["error"])


def test_invalid_json_and_a_non_object_line_fail_per_line(tmp_path: Path) -> None:
    bulk = tmp_path / "bulk.jsonl"
    bulk.write_text(
        '{"id": "ok1", "text": "Fine."}\n{"id": broken\n[1, 2]\n{"id": "ok2", "text": "Also fine."}\n', encoding="utf-8"
    )
    code, files, _ = _ingest(tmp_path, bulk)
    assert code == 2
    assert sorted(str(f["error"]).split(":")[1] for f in files if f["status"] == "failed") == ["2", "3"]
    assert _listed(tmp_path) == {"ok1", "ok2"}


def test_a_file_whose_name_is_not_utf8_fails_alone_and_its_folder_still_ingests(tmp_path: Path) -> None:
    folder = tmp_path / "minutes"
    folder.mkdir()
    _good(folder, "a.txt")
    bad_name = os.fsdecode(b"caf\xe9-minutes.txt")  # a Latin-1 name on a UTF-8 system
    _good(folder, bad_name)
    code, files, err = _ingest(tmp_path, folder)
    assert code == 2, err
    failed = [f for f in files if f["status"] == "failed"]
    assert len(failed) == 1 and "caf\\udce9-minutes.txt: the file name is not UTF-8" in str(failed[0]["error"])
    assert _listed(tmp_path) == {"a"}
