"""Two `meeting-qa ingest` processes and a web upload at once into one embedded store, with the real
default model; then 3 rounds of 100 deletes and 100 searches. Counts failures (issue 13: 0 expected).

    .venv/bin/python benchmarks/concurrent_writers.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

from common import ROOT, SAMPLE, WORK, cmrc_documents, cmrc_gold
from meeting_qa.config import Settings
from meeting_qa.qa import Engine

UPLOAD = """\
import sys
from pathlib import Path
from meeting_qa.config import Settings
from meeting_qa.qa import engine_for
from meeting_qa.web.chat import ingest_uploads
report = ingest_uploads(engine_for(Settings.from_env()), sys.argv[1:], max_mb=20)
sys.exit(0 if report.ok else 2)
"""


def main() -> int:
    work = WORK / "concurrent"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    store = work / "store"
    docs = cmrc_documents().read_text(encoding="utf-8").splitlines()
    halves = [work / "a.jsonl", work / "b.jsonl"]
    halves[0].write_text("\n".join(docs[::2]) + "\n", encoding="utf-8")
    halves[1].write_text("\n".join(docs[1::2]) + "\n", encoding="utf-8")
    uploads = []
    for i in range(3):
        up = work / "uploads" / str(i) / f"upload-{i}-{SAMPLE.name}"
        up.parent.mkdir(parents=True)
        shutil.copy(SAMPLE, up)
        uploads.append(str(up))

    env = {"MEETING_QA_STORE": str(store), "PYTHONPATH": str(ROOT / "src")}
    cli = [sys.executable, "-m", "meeting_qa.cli"]
    t0 = time.perf_counter()
    procs = [
        subprocess.Popen([*cli, "ingest", str(h)], env={**_environ(), **env}, stderr=subprocess.PIPE, text=True)
        for h in halves
    ]
    procs.append(
        subprocess.Popen(
            [sys.executable, "-c", UPLOAD, *uploads], env={**_environ(), **env}, stderr=subprocess.PIPE, text=True
        )
    )
    codes = [p.wait() for p in procs]
    ingest_s = time.perf_counter() - t0
    waited = sum("is busy" in (p.stderr.read() if p.stderr else "") for p in procs)

    engine = Engine.build(Settings.from_env().with_(store_dir=store))
    meetings = [m.meeting_id for m in engine.list_meetings()]
    questions = [json.loads(line)["question"] for line in cmrc_gold().open(encoding="utf-8")]
    failed_deletes = failed_searches = 0
    t1 = time.perf_counter()
    for round_ in range(3):
        for mid in meetings[round_ * 100 : (round_ + 1) * 100]:
            try:
                failed_deletes += not engine.delete(mid)
            except Exception as e:
                failed_deletes += 1
                print(f"delete {mid}: {e}", file=sys.stderr)
        for q in questions[round_ * 100 : (round_ + 1) * 100]:
            try:
                engine.search(q, k=5)
            except Exception as e:
                failed_searches += 1
                print(f"search {q[:20]}: {e}", file=sys.stderr)
    result = {
        "exit_codes": codes,
        "writers_that_waited": waited,
        "meetings_after_ingest": len(meetings),
        "ingest_s": round(ingest_s, 1),
        "deletes": 300,
        "failed_deletes": failed_deletes,
        "searches": 300,
        "failed_searches": failed_searches,
        "meetings_left": len(engine.list_meetings()),
        "rounds_s": round(time.perf_counter() - t1, 1),
    }
    print(json.dumps(result))
    return 0 if not failed_deletes and not failed_searches and codes == [0, 0, 0] else 1


def _environ() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "MEETING_QA_STORE"}


if __name__ == "__main__":
    sys.exit(main())
