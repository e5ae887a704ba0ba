"""A meeting-qa process for the reliability tests: the real CLI (or the web upload handler) over a real
persistent Chroma store, with deterministic fake embeddings (no model to load) and optional injected faults.

    python -m tests.reliability.worker cli ingest --store S a.jsonl
    python -m tests.reliability.worker upload STORE CACHE FILE...

Faults (environment `MQA_FAULT`, comma-separated):
- `kill-after-meeting-record`: SIGKILL this process right after it writes its first meeting record, i.e.
  after a meeting's records are in but before the write is finished (the write window);
- `kill-pid-after-write:<pid>`: SIGKILL process <pid> (a Chroma server) after the first write;
- `eio-on:<name>`: reading a file named <name> fails with EIO;
- `enospc-on-write`: every write to the store fails with "No space left on device".
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from meeting_qa import cli, qa
from meeting_qa.config import Settings
from meeting_qa.qa import Engine
from tests.conftest import FakeEmbeddings


def _install_faults(faults: list[str]) -> None:
    from chromadb.api.models.Collection import Collection

    def wrap_write(name: str) -> None:
        original = getattr(Collection, name)

        def write(self: Any, *args: Any, **kwargs: Any) -> Any:
            if "enospc-on-write" in faults:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            result = original(self, *args, **kwargs)
            ids = kwargs.get("ids") or (args[0] if args else [])
            if "kill-after-meeting-record" in faults and any(str(i).startswith("m::") for i in ids):
                os.kill(os.getpid(), signal.SIGKILL)
            for fault in faults:
                if fault.startswith("kill-pid-after-write:"):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(fault.split(":", 1)[1]), signal.SIGKILL)
            return result

        setattr(Collection, name, write)

    for name in ("add", "upsert"):
        wrap_write(name)

    for fault in faults:
        if fault.startswith("eio-on:"):
            bad = fault.split(":", 1)[1]
            original_read = Path.read_bytes

            def read_bytes(self: Path, _bad: str = bad, _orig: Any = original_read) -> bytes:
                if self.name == _bad:
                    raise OSError(errno.EIO, os.strerror(errno.EIO), str(self))
                return bytes(_orig(self))

            Path.read_bytes = read_bytes  # type: ignore[method-assign]


def fake_engine_for(settings: Settings | None = None) -> Engine:
    settings = settings or Settings.from_env()
    if settings not in qa._engines:
        qa._engines[settings] = Engine.build(settings, embeddings=FakeEmbeddings())
    return qa._engines[settings]


def main(argv: list[str]) -> int:
    faults = [f for f in os.environ.get("MQA_FAULT", "").split(",") if f]
    _install_faults(faults)
    qa.engine_for = fake_engine_for  # type: ignore[assignment]
    if argv[0] == "cli":
        return cli.main(argv[1:])
    if argv[0] == "upload":
        from meeting_qa.web.chat import ingest_uploads

        store, cache, *files = argv[1:]
        engine = fake_engine_for(Settings(store_dir=Path(store), cache_dir=Path(cache)))
        report = ingest_uploads(engine, files, max_mb=20)
        print(json.dumps([[f.path, f.status, f.meeting_id, f.error] for f in report.files], ensure_ascii=False))
        return 0 if report.ok else 2
    raise SystemExit(f"unknown mode {argv[0]!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
