"""A different file never silently replaces a meeting (issue 13, case 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meeting_qa.config import Settings
from meeting_qa.qa import Engine
from tests.conftest import FakeEmbeddings
from tests.reliability.harness import run_worker


def _engine(store: Path, cache: Path) -> Engine:
    return Engine.build(Settings(store_dir=store, cache_dir=cache), embeddings=FakeEmbeddings())


def _ingest(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    proc = run_worker(
        "cli", "ingest", "--store", str(tmp_path / "store"), *args, MEETING_QA_CACHE=str(tmp_path / "cache")
    )
    return proc.returncode, proc.stdout, proc.stderr


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("first_name", "second_name"),
    [
        ("dup1/minutes.txt", "dup2/minutes.txt"),
        ("Board Minutes.txt", "board-minutes.txt"),
    ],
)
def test_a_second_file_with_the_same_meeting_id_is_refused_naming_both_files(
    tmp_path: Path, first_name: str, second_name: str
) -> None:
    first = _write(tmp_path / first_name, "The first board approved the river plan.\n")
    second = _write(tmp_path / second_name, "The second board rejected the tunnel plan.\n")
    assert _ingest(tmp_path, str(first))[0] == 0

    code, out, _ = _ingest(tmp_path, str(second))

    assert code == 2
    assert str(second) in out and str(first) in out and "--replace" in out
    engine = _engine(tmp_path / "store", tmp_path / "cache")
    [meeting] = engine.list_meetings()
    assert meeting.source == str(first)
    assert "river" in engine.store.paragraphs([meeting.meeting_id])[0].paragraph.text


def test_replace_lets_a_different_file_take_over_a_meeting(tmp_path: Path) -> None:
    first = _write(tmp_path / "dup1" / "minutes.txt", "The first board approved the river plan.\n")
    second = _write(tmp_path / "dup2" / "minutes.txt", "The second board rejected the tunnel plan.\n")
    assert _ingest(tmp_path, str(first))[0] == 0
    code, out, _ = _ingest(tmp_path, "--replace", str(second))
    assert code == 0 and "updated" in out
    [meeting] = _engine(tmp_path / "store", tmp_path / "cache").list_meetings()
    assert meeting.source == str(second)


def test_the_same_file_named_by_another_path_still_updates_its_own_meeting(tmp_path: Path) -> None:
    path = _write(tmp_path / "minutes.txt", "The board approved the river plan.\n")
    (tmp_path / "sub").mkdir()
    assert _ingest(tmp_path, str(path))[0] == 0
    path.write_text("The board approved the river plan and the bridge.\n", encoding="utf-8")
    code, out, _ = _ingest(tmp_path, str(tmp_path / "sub" / ".." / "minutes.txt"))
    assert code == 0 and "updated" in out


def test_files_named_in_kana_and_in_hangul_become_two_meetings_with_their_own_letters(tmp_path: Path) -> None:
    kana = _write(tmp_path / "ぎじろく.txt", "取締役会は予算を承認した。\n")
    hangul = _write(tmp_path / "회의록.txt", "이사회는 예산을 승인했다.\n")
    code, out, _ = _ingest(tmp_path, str(kana), str(hangul))
    assert code == 0, out
    ids = {m.meeting_id for m in _engine(tmp_path / "store", tmp_path / "cache").list_meetings()}
    assert ids == {"ぎじろく", "회의록"}


def test_two_staff_uploading_their_own_minutes_txt_both_keep_their_meeting(tmp_path: Path) -> None:
    store, cache = tmp_path / "store", tmp_path / "cache"
    first = _write(tmp_path / "upload-a" / "minutes.txt", "Team A approved the river plan.\n")
    second = _write(tmp_path / "upload-b" / "minutes.txt", "Team B rejected the tunnel plan.\n")
    proc_a = run_worker("upload", str(store), str(cache), str(first))
    proc_b = run_worker("upload", str(store), str(cache), str(second))
    assert proc_a.returncode == 0 and proc_b.returncode == 0, proc_b.stdout + proc_b.stderr
    [[_, status_b, id_b, _]] = json.loads(proc_b.stdout)
    assert status_b == "added" and id_b == "minutes-2"
    engine = _engine(store, cache)
    texts = {sp.meeting_id: sp.paragraph.text for sp in engine.store.paragraphs()}
    assert texts == {"minutes": "Team A approved the river plan.", "minutes-2": "Team B rejected the tunnel plan."}
