"""Errors of the machine, the terminal or a server end in one line and exit 2, never a traceback or exit 1
(issue 13, "Also": CLI errors, unknown ids, a mistyped store, control characters)."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, start_chroma_server, stop_process
from tests.reliability.harness import run_worker, worker_cmd, worker_env, write_jsonl


@pytest.fixture
def store(tmp_path: Path) -> Path:
    store = tmp_path / "store"
    write_jsonl(tmp_path / "a.jsonl", "alpha", 3)
    proc = run_worker("cli", "ingest", "--store", str(store), str(tmp_path / "a.jsonl"), MEETING_QA_CACHE=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    return store


def _error_lines(stderr: str) -> list[str]:
    # Not errors: the model line, and progress lines of chunks written before the failure.
    return [
        ln
        for ln in stderr.splitlines()
        if ln.strip() and not ln.startswith("loading embedding model") and not ln.startswith("ingest: ")
    ]


def test_undecodable_argument_bytes_are_refused_in_one_line(store: Path, tmp_path: Path) -> None:
    proc = run_worker("cli", "ask", "--store", str(store), b"budget \xff\xfe line", MEETING_QA_CACHE=str(tmp_path))
    assert proc.returncode == 2
    assert _error_lines(proc.stderr) == ["error: argument 4 (budget \\xff\\xfe line) is not valid UTF-8 text"]


def test_undecodable_standard_input_is_refused_in_one_line(store: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        worker_cmd("cli", "ask", "--store", str(store), "-"),
        cwd=ROOT,
        env=worker_env(MEETING_QA_CACHE=str(tmp_path)),
        input=b"budget \xff line",
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 2
    [line] = _error_lines(proc.stderr.decode())
    assert line.startswith("error: standard input is not UTF-8 text")


def test_a_reader_that_closes_the_pipe_early_gets_exit_2_and_one_line(store: Path, tmp_path: Path) -> None:
    # `meeting-qa ask … | head -1`: the reader is gone before the answer is written.
    proc = subprocess.Popen(
        worker_cmd("cli", "search", "--store", str(store), "budget line", "-k", "3"),
        cwd=ROOT,
        env=worker_env(MEETING_QA_CACHE=str(tmp_path)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 2
    assert _error_lines(err) == ["error: output closed before everything was written (broken pipe)"]


def test_an_unknown_meeting_id_is_named_instead_of_answering_not_in_the_records(store: Path, tmp_path: Path) -> None:
    proc = run_worker(
        "cli", "ask", "--store", str(store), "--meeting", "alpha-9", "budget line", MEETING_QA_CACHE=str(tmp_path)
    )
    assert proc.returncode == 2
    assert _error_lines(proc.stderr) == ["error: unknown meeting id 'alpha-9' (see `meeting-qa list` for the ids)"]


@pytest.mark.parametrize("command", ["ask", "search", "list"])
def test_a_mistyped_store_path_is_an_error_and_is_not_created(store: Path, tmp_path: Path, command: str) -> None:
    typo = tmp_path / "stroe"
    args = ["cli", command, "--store", str(typo)] + (["budget line"] if command != "list" else [])
    proc = run_worker(*args, MEETING_QA_CACHE=str(tmp_path))
    assert proc.returncode == 2
    [line] = _error_lines(proc.stderr)
    assert f"no meeting store at {typo}" in line
    assert not typo.exists()


def test_terminal_escape_codes_in_file_names_are_shown_escaped(tmp_path: Path) -> None:
    evil = tmp_path / "evil\x1b]0;pwned\x07\x1b[31mred\u202e.txt"
    evil.write_text("The board approved the river plan.\n", encoding="utf-8")
    proc = run_worker("cli", "ingest", "--store", str(tmp_path / "store"), str(evil), MEETING_QA_CACHE=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout and "\u202e" not in proc.stdout
    assert "evil\\x1b]0;pwned\\x07\\x1b[31mred\\u202e.txt" in proc.stdout
    listing = run_worker("cli", "list", "--store", str(tmp_path / "store"), MEETING_QA_CACHE=str(tmp_path))
    assert "\x1b" not in listing.stdout and "\\x1b" in listing.stdout


def test_a_store_write_failing_with_no_space_left_exits_2_in_one_line(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "a.jsonl", "alpha", 3)
    proc = run_worker(
        "cli",
        "ingest",
        "--store",
        str(tmp_path / "store"),
        str(tmp_path / "a.jsonl"),
        faults=("enospc-on-write",),
        MEETING_QA_CACHE=str(tmp_path),
    )
    assert proc.returncode == 2
    [line] = _error_lines(proc.stderr)
    assert line.startswith("error: No space left on device")


@contextlib.contextmanager
def _small_disk(where: Path, size_mb: int) -> Iterator[Path]:
    where.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(where)], check=False).returncode:
        pytest.skip("cannot mount a small file system here (needs root)")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_really_full_disk_exits_2_in_one_line_and_keeps_the_meetings_written_before(tmp_path: Path) -> None:
    small = write_jsonl(tmp_path / "small.jsonl", "small", 2)
    write_jsonl(tmp_path / "big.jsonl", "big", 600, paragraphs=4)
    with _small_disk(tmp_path / "disk", 3) as disk:
        store = disk / "store"

        def ingest(name: str) -> subprocess.CompletedProcess[str]:
            return run_worker(
                "cli", "ingest", "--store", str(store), str(tmp_path / name), MEETING_QA_CACHE=str(tmp_path)
            )

        assert ingest("small.jsonl").returncode == 0
        full = ingest("big.jsonl")
        assert full.returncode == 2
        [line] = _error_lines(full.stderr)
        assert line.startswith(f"error: the disk holding the store {store} is full")

        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
        listing = run_worker("cli", "list", "--store", str(store), MEETING_QA_CACHE=str(tmp_path))
        assert all(mid in listing.stdout for mid in small)
        again = ingest("big.jsonl")
        assert again.returncode == 0, again.stderr
        assert "big-599" in run_worker("cli", "list", "--store", str(store), MEETING_QA_CACHE=str(tmp_path)).stdout


def test_a_chroma_server_that_dies_mid_ingest_gives_exit_2_and_one_line(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "big.jsonl", "big", 300, paragraphs=4)
    server, url = start_chroma_server(tmp_path / "server-data")
    try:
        proc = run_worker(
            "cli",
            "ingest",
            "--chroma-url",
            url,
            str(tmp_path / "big.jsonl"),
            faults=(f"kill-pid-after-write:{server.pid}",),
            MEETING_QA_CACHE=str(tmp_path),
        )
    finally:
        stop_process(server)
    assert proc.returncode == 2, proc.stderr
    [line] = _error_lines(proc.stderr)
    assert line.startswith(f"error: lost the connection to the Chroma server at {url}")
