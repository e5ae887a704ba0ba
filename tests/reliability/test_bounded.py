"""Outputs and inputs have bounds: quotes and answers, progress for large files, a size limit
(issue 13, "Also" and Build 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meeting_qa import store as store_module
from meeting_qa.config import Settings
from meeting_qa.loaders import MAX_FILE_BYTES
from meeting_qa.qa import Engine
from tests.conftest import FakeEmbeddings
from tests.reliability.harness import run_worker

QUOTE_LIMIT = 600  # MAX_SENTENCE_CHARS: one quote is at most one (capped) sentence


def test_a_2_mb_line_without_a_sentence_end_gives_bounded_quotes_and_answer(tmp_path: Path) -> None:
    words = " ".join(f"clause{i} of the endless resolution, approved" for i in range(50_000))
    assert len(words) > 2_000_000
    path = tmp_path / "endless.txt"
    path.write_text("The council met on Monday.\n" + words + "\n", encoding="utf-8")
    store = tmp_path / "store"
    # Over the default length of one record (refused, tests/test_qa.py): taken here to bound what it gives.
    taken = run_worker(
        "cli",
        "ingest",
        "--store",
        str(store),
        str(path),
        MEETING_QA_CACHE=str(tmp_path),
        MEETING_QA_MAX_RECORD_CHARS="0",
    )
    assert taken.returncode == 0, taken.stderr

    proc = run_worker(
        "cli",
        "ask",
        "--json",
        "--store",
        str(store),
        "clause4711 of the endless resolution",
        MEETING_QA_CACHE=str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert all(len(c["quote"]) <= QUOTE_LIMIT for c in answer["citations"])
    assert len(answer["answer"]) <= 4 * QUOTE_LIMIT
    assert len(proc.stdout) < 200_000  # not the 4 MB of the old code


def test_a_large_file_is_written_in_chunks_with_progress_lines_when_output_is_not_a_terminal(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text("\n".join(f"Item {i}: the committee noted report {i}." for i in range(3000)), encoding="utf-8")
    proc = run_worker("cli", "ingest", "--store", str(tmp_path / "store"), str(path), MEETING_QA_CACHE=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    progress = [ln for ln in proc.stderr.splitlines() if ln.startswith("ingest: long.txt:")]
    # one line per chunk of EMBED_GROUP (2,048) passages
    assert progress == [
        "ingest: long.txt: 2048/3001 passages embedded and written",
        "ingest: long.txt: 3001/3001 passages embedded and written",
    ]


def test_the_store_holds_a_large_meeting_written_in_chunks_completely(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "EMBED_GROUP", 512)  # chunks of 512 passages instead of 2,048: a smaller file
    path = tmp_path / "long.txt"
    path.write_text("\n".join(f"Item {i}: the committee noted report {i}." for i in range(1500)), encoding="utf-8")
    engine = Engine.build(Settings(store_dir=tmp_path / "store", cache_dir=tmp_path), embeddings=FakeEmbeddings())
    chunks: list[tuple[int, int]] = []
    report = engine.ingest([path], on_chunk=lambda source, done, total: chunks.append((done, total)))
    assert report.ok and [f.paragraphs for f in report.files] == [1500]
    assert chunks == [(512, 1501), (1024, 1501), (1501, 1501)]
    assert engine.store.collection.count() == 1501


def test_a_file_over_the_documented_size_limit_is_refused_by_name(tmp_path: Path) -> None:
    big = tmp_path / "huge.txt"
    with big.open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert f"{MAX_FILE_BYTES // 2**20} MB per file" in readme
    proc = run_worker("cli", "ingest", "--store", str(tmp_path / "store"), str(big), MEETING_QA_CACHE=str(tmp_path))
    assert proc.returncode == 2
    assert f"huge.txt: file is {MAX_FILE_BYTES // 2**20} MiB, over the" in proc.stdout
