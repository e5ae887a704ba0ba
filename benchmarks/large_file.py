"""A very large record: a 12 MB file of one line (a page whose line breaks were lost) is refused at once with
the limit named; the same text with its paragraphs is timed through loading (everything before embedding),
then through `meeting-qa ingest` as a user runs it (default settings: refused by the record-length limit).

    .venv/bin/python benchmarks/large_file.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import SAMPLE, WORK
from meeting_qa.loaders import load_path
from meeting_qa.types import Meeting

TARGET = 12 * 1024 * 1024


def main() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    text = SAMPLE.read_text(encoding="utf-8")
    copies = TARGET // len(text.encode()) + 1
    one_line = WORK / "one-line-12mb.txt"
    one_line.write_text(text.replace("\n", "") * copies, encoding="utf-8")
    paragraphs = WORK / "paragraphs-12mb.txt"
    paragraphs.write_text(text * copies, encoding="utf-8")
    for path in (one_line, paragraphs):
        t0 = time.perf_counter()
        results = list(load_path(path))
        took = time.perf_counter() - t0
        size = path.stat().st_size / 2**20
        for r in results:
            if isinstance(r, Meeting):
                sentences = sum(len(p.sentences) for p in r.paragraphs)
                print(
                    f"{path.name} ({size:.1f} MiB): loaded in {took:.1f}s, {len(r.paragraphs)} paragraphs, {sentences} sentences"
                )
            else:
                print(f"{path.name} ({size:.1f} MiB): refused in {took:.1f}s: {r}")
    # The whole command, process start included, with the default settings.
    cli = Path(sys.executable).with_name("meeting-qa")
    with tempfile.TemporaryDirectory() as store:
        t0 = time.perf_counter()
        done = subprocess.run(
            [str(cli), "ingest", "--store", store, str(paragraphs)], capture_output=True, text=True, check=False
        )
        took = time.perf_counter() - t0
    last = (done.stdout + done.stderr).strip().splitlines()
    print(f"meeting-qa ingest {paragraphs.name}: exit {done.returncode} after {took:.1f}s")
    for line in last[-3:]:
        print(f"    {line}")


if __name__ == "__main__":
    main()
