"""Client/server mode: a Chroma server orders the writes of several meeting-qa processes itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from meeting_qa.config import Settings
from meeting_qa.qa import Engine
from tests.conftest import FakeEmbeddings
from tests.reliability.harness import start_worker, write_jsonl


@pytest.mark.server
def test_two_writers_through_a_chroma_server_lose_nothing(tmp_path: Path, chroma_server: str) -> None:
    chroma_url = chroma_server
    a_ids = write_jsonl(tmp_path / "a.jsonl", "alpha", 150, paragraphs=4)
    b_ids = write_jsonl(tmp_path / "b.jsonl", "beta", 150, paragraphs=4)
    procs = [
        start_worker("cli", "ingest", "--chroma-url", chroma_url, str(tmp_path / f"{name}.jsonl"))
        for name in ("a", "b")
    ]
    results = [(p.wait(timeout=600), p.stderr.read() if p.stderr else "") for p in procs]
    assert [rc for rc, _ in results] == [0, 0], results

    engine = Engine.build(Settings(chroma_url=chroma_url, cache_dir=tmp_path / "cache"), embeddings=FakeEmbeddings())
    assert {m.meeting_id for m in engine.list_meetings()} == set(a_ids) | set(b_ids)
    failures = []
    for mid in [m for pair in zip(a_ids, b_ids, strict=True) for m in pair][:100]:
        prefix, n = mid.split("-")
        try:
            if not engine.store.dense(
                engine.embeddings.embed_query(f"budget line {prefix}{int(n)}x1"), k=3, kinds=("paragraph",)
            ):
                failures.append(f"search {mid}: nothing")
            if not engine.delete(mid):
                failures.append(f"delete {mid}: not found")
        except Exception as e:
            failures.append(f"{mid}: {e}")
    assert failures == []
    assert len(engine.list_meetings()) == 200
