"""Helpers shared by the reliability tests: run a meeting-qa worker process, write test corpora."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from tests.conftest import ROOT

WORKER = "tests.reliability.worker"


def worker_cmd(*args: str | bytes) -> list[str | bytes]:
    return [sys.executable, "-m", WORKER, *args]


def worker_env(faults: Sequence[str] = (), **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEETING_QA_")}
    src = str(ROOT / "src")
    # The caller's PYTHONPATH first: the workers run the same meeting_qa as the tests do.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH", ""), src, str(ROOT)) if p)
    env["MQA_FAULT"] = ",".join(faults)
    env["ANONYMIZED_TELEMETRY"] = "False"
    env["HF_HUB_OFFLINE"] = "1"
    env.update(extra)
    return env


def run_worker(
    *args: str | bytes, faults: Sequence[str] = (), timeout: float = 180, **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        worker_cmd(*args),
        cwd=ROOT,
        env=worker_env(faults, **extra),
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
        check=False,
    )


def start_worker(*args: str | bytes, faults: Sequence[str] = (), **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        worker_cmd(*args),
        cwd=ROOT,
        env=worker_env(faults, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
    )


def write_jsonl(path: Path, prefix: str, n: int, *, paragraphs: int = 3) -> list[str]:
    """`n` small meetings with distinct words (so searches for them can be checked); returns their ids."""
    ids = []
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            mid = f"{prefix}-{i:03d}"
            ids.append(mid)
            text = "\n".join(
                f"Item {j} of meeting {prefix} number {i}: the committee reviewed budget line {prefix}{i}x{j}."
                for j in range(paragraphs)
            )
            f.write(json.dumps({"id": mid, "title": f"{prefix} meeting {i}", "text": text}) + "\n")
    return ids
