"""Several people asking at once: time to full answer through the web chat's own API.

Starts `meeting-qa serve` (real default model, the sample meeting ingested into a temp store) unless
`--url` points at a running server, then lets N users (one gradio_client session each) ask different
questions at the same moment, for a few rounds. Every user must get its own answer: each question has a
key string that its answer must contain. Prints p50/p95/max seconds to the full answer.

    .venv/bin/python benchmarks/web_concurrency.py            # 8 users x 3 rounds
    .venv/bin/python benchmarks/web_concurrency.py --users 16 --rounds 5
    .venv/bin/python benchmarks/web_concurrency.py --ssl-per-request   # gradio_client's costly default

The clients run on the same cores as the server, so client work counts against the answers' latency:
gradio_client builds a new TLS context for every request unless handed one, which is the one thing
about it this benchmark changes (see `run`). gradio_client also polls for new messages every 0.05 s,
so each time includes up to 0.05 s of client-side waiting.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# (question, a string its answer must contain): different questions with different answers.
QUESTIONS: list[tuple[str, str]] = [
    ("谁主持了会议？", "徐"),
    ("会议研究通过了什么方案？", "5·18"),
    ("要大力发展哪些新能源？", "风电"),
    ("疫情防控要坚持什么？", "动态清零"),
    ("会议听取了什么汇报？", "社会稳定和安全生产"),
    ("这篇报道的来源是哪里？", "盐阜大众报"),
    ("会议传达学习了哪些会议精神？", "巡视动员部署会"),
    ("Who chaired the meeting?", "徐纓"),
]


def _cli() -> str:
    here = Path(sys.executable).with_name("meeting-qa")
    return str(here if here.exists() else ROOT / ".venv" / "bin" / "meeting-qa")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served() -> Iterator[str]:
    """A fresh `meeting-qa serve` over a temp store holding the sample meeting."""
    with tempfile.TemporaryDirectory(prefix="mqa-bench-") as tmp:
        store = Path(tmp) / "store"
        env = dict(os.environ, HF_HUB_OFFLINE="1", MEETING_QA_FEEDBACK=str(Path(tmp) / "feedback.jsonl"))
        samples = sorted(str(p) for p in (ROOT / "ingest").glob("*.txt"))
        subprocess.run([_cli(), "ingest", "--store", str(store), *samples], env=env, check=True, capture_output=True)
        port = _free_port()
        url = f"http://127.0.0.1:{port}/"
        log = (Path(tmp) / "serve.log").open("wb")
        proc = subprocess.Popen(
            [_cli(), "serve", "--port", str(port), "--store", str(store)], env=env, stdout=log, stderr=log
        )
        try:
            started = time.monotonic()
            while True:
                if proc.poll() is not None:
                    raise SystemExit(f"serve exited with {proc.returncode}: {(Path(tmp) / 'serve.log').read_text()}")
                try:
                    with urllib.request.urlopen(url, timeout=5):
                        break
                except OSError:
                    if time.monotonic() - started > 300:
                        raise SystemExit("serve did not come up in 300 s") from None
                    time.sleep(1)
            print(f"server up in {time.monotonic() - started:.1f} s at {url}", file=sys.stderr)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()


def _ask(client: Any, question: str) -> str:
    result = client.predict(question, [], [], api_name="/ask")
    return json.dumps(result, ensure_ascii=False)


def run(url: str, users: int, rounds: int, *, ssl_per_request: bool = False) -> dict[str, Any]:
    from gradio_client import Client

    # gradio_client opens two new httpx clients per request, and each builds a TLS context from the CA
    # bundle (~0.05 s of CPU each, even for http://): 8 users would spend ~0.9 s of CPU per round on the
    # very cores the server answers on, work a browser user's machine never does. One context, built
    # once and shared, verifies exactly as the default does. `--ssl-per-request` keeps the default.
    ssl_verify: Any = True if ssl_per_request else ssl.create_default_context()
    clients = [Client(url, verbose=False, ssl_verify=ssl_verify) for _ in range(users)]
    _ask(clients[0], QUESTIONS[0][0])  # warm-up: the first query pays for lazy caches, not for users
    times: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    for r in range(rounds):
        barrier = threading.Barrier(users)

        def user(i: int, round_no: int = r, barrier: threading.Barrier = barrier) -> None:
            question, key = QUESTIONS[(i + round_no) % len(QUESTIONS)]
            barrier.wait()
            t0 = time.perf_counter()
            try:
                out = _ask(clients[i], question)
            except Exception as e:
                with lock:
                    failures.append(f"user {i}: {question}: {type(e).__name__}: {e}")
                return
            elapsed = time.perf_counter() - t0
            with lock:
                times.append(elapsed)
                if key not in out or question not in out:  # its own answer, in its own conversation
                    failures.append(f"user {i}: {question}: answer lacks {key!r}: {out[:300]}")

        threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    times.sort()
    return {
        "users": users,
        "rounds": rounds,
        "answers": len(times),
        "p50_s": round(statistics.median(times), 3) if times else None,
        "p95_s": round(times[max(0, round(0.95 * len(times)) - 1)], 3) if times else None,
        "max_s": round(times[-1], 3) if times else None,
        "client_tls": "per request" if ssl_per_request else "shared",
        "failures": failures,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--url", help="a running `meeting-qa serve` with the sample meeting (default: start one)")
    parser.add_argument(
        "--ssl-per-request",
        action="store_true",
        help="let gradio_client build a TLS context per request, as it does by default (client CPU, not server)",
    )
    args = parser.parse_args()
    if args.url:
        report = run(args.url, args.users, args.rounds, ssl_per_request=args.ssl_per_request)
    else:
        with served() as url:
            report = run(url, args.users, args.rounds, ssl_per_request=args.ssl_per_request)
    print(json.dumps(report, ensure_ascii=False, indent=2))
    print(
        f"{report['users']} concurrent users x {report['rounds']} rounds: time to full answer "
        f"p50 {report['p50_s']} s, p95 {report['p95_s']} s, max {report['max_s']} s; "
        f"{len(report['failures'])} wrong or failed answers (cpus: {os.cpu_count()}, client TLS context: "
        f"{report['client_tls']})"
    )
    return 1 if report["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
