"""A city's archive: stores of 1k, 10k and 100k paragraphs, embedded and server mode, in one run.

    .venv/bin/python benchmarks/scale.py                     # 1k, 10k, 100k
    .venv/bin/python benchmarks/scale.py --sizes 1000 10000  # a shorter run

Text: real Chinese sentences — cmrc2018's Wikipedia paragraphs and VCSum's meeting utterances
(../shared/data), cut by the project's own sentence splitter — recombined into meetings of 10 paragraphs of
2–4 sentences each (seeded, so every run builds the same stores).

Vectors: embedding 100k paragraphs and their sentences takes hours on this machine, so the real model embeds
the sentence pool once (timed: the raw encode limit, in paragraphs/s of the pool) and every record reuses
measured vectors with a documented perturbation: a sentence record gets its pool sentence's vector, a
paragraph record the normalized mean of its sentences' vectors, each plus Gaussian noise of norm ~0.25
(cosine ~0.97 to the measured vector) so no two records share a vector; a title gets a noisy copy of one of
the pool vectors. Questions are embedded for real (int8 query path, as in production). Search cost at size
depends on the number and spread of vectors and on the lexical index, which this keeps realistic; answer
quality at size is not measured here (see benchmarks/retrieval.py).

Per size, in one run: store write paragraphs/s (vectors given: everything ingest does but the forward
pass), full lexical build, incremental ingest of one new meeting (store write + lexical update, and that
meeting's real encode time beside it), delete + lexical update, search and ask p50/p95 (model warm,
default extractive answerer) in embedded mode and against a `chroma run` server on the same data, peak RSS
of `meeting-qa serve` in both modes. Results: BENCH_WORK/scale/results.json and scale.png.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from common import SEED_DEV, SHARED, WORK
from meeting_qa.config import Settings
from meeting_qa.embeddings import SentenceEmbeddings
from meeting_qa.loaders import build_meeting
from meeting_qa.qa import Engine
from meeting_qa.records import records_for
from meeting_qa.text.fold import fold
from meeting_qa.text.segment import split_sentences
from meeting_qa.types import Meeting

OUT = WORK / "scale"
PARAS_PER_MEETING = 10
NOISE = 0.25  # norm of the perturbation relative to a unit vector: cosine ~ 1/sqrt(1 + 0.25²) ≈ 0.97
POOL = int(os.environ.get("SCALE_POOL", "1500"))  # real sentences embedded by the model


def sentence_pool(limit: int = POOL) -> list[str]:
    """Real sentences of cmrc2018 paragraphs and VCSum utterances, alternating, 8–120 characters."""
    cmrc = [json.loads(line)["text"] for line in (SHARED / "data" / "cmrc2018" / "passages.jsonl").open()]
    vcsum = [
        u for line in (SHARED / "data" / "vcsum" / "segments.jsonl").open() for u in json.loads(line)["utterances"]
    ]
    out: list[str] = []
    seen: set[str] = set()
    for a, b in zip(cmrc, vcsum[: len(cmrc)] + [""] * max(0, len(cmrc) - len(vcsum)), strict=True):
        for text in (a, b):
            for s in split_sentences(text):
                sentence = text[s.start : s.end].strip()
                if 8 <= len(sentence) <= 120 and sentence not in seen:
                    seen.add(sentence)
                    out.append(sentence)
    rng = np.random.default_rng(0)
    rng.shuffle(out)  # type: ignore[arg-type]
    return out[:limit]


def synthetic_meetings(count: int, pool: list[str], *, first: int = 0, seed: int = 1) -> Iterator[Meeting]:
    """`count` meetings of PARAS_PER_MEETING recombined paragraphs each."""
    rng = np.random.default_rng(seed + first)
    for k in range(first, first + count):
        paragraphs = []
        for _ in range(PARAS_PER_MEETING):
            picks = rng.choice(len(pool), size=int(rng.integers(2, 5)), replace=False)
            paragraphs.append(("".join(pool[i] for i in picks), None, None))
        day = 1 + k % 28
        yield build_meeting(
            f"city-{k:06d}",
            f"临川市第{k}次政务会议",
            paragraphs,
            source=f"synthetic/city-{k:06d}.txt",
            date=f"20{10 + k % 15:02d}-{1 + k % 12:02d}-{day:02d}",
        )


class ReplayEmbeddings(SentenceEmbeddings):
    """Measured pool vectors reused with perturbation for passages; the real model for questions."""

    def __init__(self, real: SentenceEmbeddings, pool: list[str], vectors: np.ndarray) -> None:
        super().__init__(real.model_name, cache_dir=real.cache_dir)
        self.real = real
        self.vectors = vectors
        self.by_text = {fold(s): i for i, s in enumerate(pool)}
        self.rng = np.random.default_rng(2)
        self.fallbacks = 0

    @property
    def label(self) -> str:
        return self.real.label  # the store must look built by the real model, so `serve` opens it

    def _noisy(self, v: np.ndarray) -> np.ndarray:
        out = v + self.rng.normal(size=v.shape).astype(np.float32) * (NOISE / np.sqrt(v.shape[-1]))
        return out / np.linalg.norm(out, axis=-1, keepdims=True)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        base = np.empty((len(texts), self.vectors.shape[1]), dtype=np.float32)
        for i, text in enumerate(texts):
            j = self.by_text.get(text)
            if j is not None:
                base[i] = self.vectors[j]
                continue
            found = [self.by_text.get(fold(text[s.start : s.end])) for s in split_sentences(text)]
            parts = [p for p in found if p is not None]
            if parts:
                m = self.vectors[parts].mean(axis=0)
                base[i] = m / np.linalg.norm(m)
            else:
                self.fallbacks += 1
                base[i] = self.vectors[hash(text) % len(self.vectors)]
        return self._noisy(base)

    def encode_query(self, text: str) -> np.ndarray:
        return self.real.encode_query(text)

    def warm(self) -> None:
        self.real.warm()


# -- phases (each in its own process, so clients, caches and peak RSS do not leak between them) -------------


def real_embeddings() -> SentenceEmbeddings:
    emb = SentenceEmbeddings(None, cache_dir=Settings.from_env().cache_dir)
    emb.warm()
    return emb


def pool_vectors(real: SentenceEmbeddings) -> tuple[list[str], np.ndarray, dict[str, float]]:
    pool = sentence_pool()
    path = OUT / f"pool-{len(pool)}.npy"
    stats_path = OUT / "pool.json"
    if path.exists() and stats_path.exists():
        return pool, np.load(path), json.loads(stats_path.read_text())
    texts = [fold(s) for s in pool]
    t0 = time.perf_counter()
    vectors = real.encode_passages(texts)
    took = time.perf_counter() - t0
    OUT.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    stats = {"pool_sentences": len(pool), "pool_encode_s": took, "pool_sentences_per_s": len(pool) / took}
    stats_path.write_text(json.dumps(stats))
    return pool, vectors, stats


def settings_for(size: int, chroma_url: str | None = None) -> Settings:
    return Settings(store_dir=OUT / f"store-{size}", cache_dir=Settings.from_env().cache_dir, chroma_url=chroma_url)


def phase_ratio(_: argparse.Namespace) -> dict[str, Any]:
    """Real ingest of 10 synthetic meetings against the raw encode of the same texts (benchmarks/ingest.py)."""
    from ingest import measure

    meetings = list(synthetic_meetings(10, sentence_pool(), first=10_000_000))
    return measure(real_embeddings(), _write_meetings(meetings, OUT / "ratio-docs"), OUT / "store-ratio")


def _write_meetings(meetings: list[Meeting], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for m in meetings:
        path = folder / f"{m.meeting_id}.txt"
        path.write_text("\n".join(p.text for p in m.paragraphs), encoding="utf-8")
        paths.append(path)
    return paths


class SentenceTokens:
    """jieba once per distinct sentence: a recombined paragraph's tokens are its sentences' tokens. Only for
    building the benchmark's large lexical indexes in reasonable time; the real per-paragraph cost is
    measured beside it (`jieba_seconds_per_paragraph`) and added to the reported build time."""

    def __init__(self, tokenize: Any) -> None:
        self.tokenize = tokenize
        self.cache: dict[str, list[str]] = {}

    def __call__(self, text: str, *, folded: bool = False) -> list[str]:
        out: list[str] = []
        for s in split_sentences(text):
            part = text[s.start : s.end]
            got = self.cache.get(part)
            if got is None:
                got = self.cache[part] = list(self.tokenize(part, folded=folded))
            out += got
        return out


@contextmanager
def cached_tokens() -> Iterator[None]:
    import meeting_qa.segments as segments

    original = segments.tokenize
    segments.tokenize = SentenceTokens(original)  # type: ignore[assignment]
    try:
        yield
    finally:
        segments.tokenize = original


def jieba_seconds_per_paragraph(pool: list[str], n: int = 300) -> float:
    """Real tokenization time of synthetic paragraphs (jieba's dictionary loaded first)."""
    from meeting_qa.text.tokenize import tokenize

    texts = [
        fold(p.text) for m in synthetic_meetings(n // PARAS_PER_MEETING, pool, first=20_000_000) for p in m.paragraphs
    ]
    tokenize(texts[0], folded=True)
    t0 = time.perf_counter()
    for t in texts:
        tokenize(t, folded=True)
    return (time.perf_counter() - t0) / len(texts)


def phase_build(args: argparse.Namespace) -> dict[str, Any]:
    done = OUT / f"store-{args.size}.json"
    if done.exists():
        return dict(json.loads(done.read_text()), reused=True)
    real = SentenceEmbeddings(None, cache_dir=Settings.from_env().cache_dir)
    pool, vectors, _ = pool_vectors(real_embeddings())
    replay = ReplayEmbeddings(real, pool, vectors)
    engine = Engine.build(settings_for(args.size), embeddings=replay)
    t0 = time.perf_counter()
    written = sum(1 for _ in engine.store.upsert_meetings(synthetic_meetings(args.size // PARAS_PER_MEETING, pool)))
    write_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    with cached_tokens():
        index = engine.lexical.index()
    lexical_s = time.perf_counter() - t0
    per_paragraph = jieba_seconds_per_paragraph(pool)
    result = {
        "size": args.size,
        "meetings": written,
        "paragraphs": len(index),
        "store_write_s": write_s,
        "store_write_paragraphs_per_s": len(index) / write_s,
        "lexical_build_cached_tokens_s": lexical_s,
        "jieba_s_per_paragraph": per_paragraph,
        "lexical_build_s": lexical_s + per_paragraph * len(index),  # estimate: cached build + real jieba
        "lexical_tokens": "cached",
        "vector_fallbacks": replay.fallbacks,
    }
    done.write_text(json.dumps(result))
    return result


def questions() -> list[str]:
    seed = [json.loads(line)["q"] for line in SEED_DEV.open(encoding="utf-8")]
    cmrc = [json.loads(line)["question"] for line in (SHARED / "data" / "cmrc2018" / "queries.jsonl").open()]
    return seed[:16] + cmrc[:14]  # 30: zh-Hans, zh-Hant and English meeting questions, Wikipedia questions


def _pct(values: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(values, n=20, method="inclusive")
    return statistics.median(values), q[18]


def phase_measure(args: argparse.Namespace) -> dict[str, Any]:
    import resource

    real = real_embeddings()
    pool, vectors, _ = pool_vectors(real)
    replay = ReplayEmbeddings(real, pool, vectors)
    engine = Engine.build(settings_for(args.size, args.chroma_url), embeddings=replay)
    t0 = time.perf_counter()
    with cached_tokens():  # a build in server mode (the index is per Chroma address), a load in embedded mode
        engine.lexical.index()
    lexical_open_s = time.perf_counter() - t0
    qs = questions()
    for q in qs[:3]:  # warm: dictionaries, lexicon, caches
        engine.ask(q)
    # Wall time, and this process's CPU time (all threads): on a shared machine the wall time also holds
    # the waits for a core; the CPU time does not (it misses the Chroma server's own work in server mode).
    times: dict[str, list[float]] = {"search": [], "ask": [], "search_cpu": [], "ask_cpu": []}
    for q in qs:
        for op, call in (("search", engine.search), ("ask", engine.ask)):
            t0, c0 = time.perf_counter(), time.process_time()
            call(q)
            times[op].append(1000 * (time.perf_counter() - t0))
            times[op + "_cpu"].append(1000 * (time.process_time() - c0))
    result: dict[str, Any] = {"size": args.size, "mode": "server" if args.chroma_url else "embedded"}
    result["lexical_open_s"] = lexical_open_s
    result["load_average"] = os.getloadavg()[0]
    for name, values in times.items():
        result[f"{name}_p50_ms"], result[f"{name}_p95_ms"] = _pct(values)
    # One new meeting: its real encode, then everything else ingest does (write + lexical update).
    meeting = next(synthetic_meetings(1, pool, first=9_000_000 + args.size))
    t0 = time.perf_counter()
    real.encode_passages(records_for(meeting).texts)
    result["new_meeting_encode_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    list(engine.store.upsert_meetings([meeting]))
    result["new_meeting_write_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    engine.lexical.index()
    result["lexical_update_s"] = time.perf_counter() - t0
    found = engine.search(meeting.paragraphs[0].text[:40], k=3)
    result["new_meeting_found"] = any(p.meeting_id == meeting.meeting_id for p in found)
    t0 = time.perf_counter()
    engine.delete(meeting.meeting_id)
    engine.lexical.index()
    result["delete_and_lexical_update_s"] = time.perf_counter() - t0
    # The same meeting through `Engine.ingest` from its file, as a user ingests it: write, lexical update,
    # and whatever else ingest does after a change (the model's calibration on the store).
    path = _write_meetings([meeting], OUT / "new-meeting")[0]
    t0 = time.perf_counter()
    engine.ingest([path])
    result["new_meeting_engine_ingest_s"] = time.perf_counter() - t0
    engine.delete(meeting.meeting_id)
    result["measure_process_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


PHASES = {"ratio": phase_ratio, "build": phase_build, "measure": phase_measure}


def run_phase(name: str, *extra: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--phase", name, *extra], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"phase {name} {extra} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"# {name} {' '.join(extra)}: {result}", file=sys.stderr, flush=True)
    return result


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(1)
    raise SystemExit(f"{url} did not come up")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def serve_peak_rss_mb(size: int, chroma_url: str | None, tries: int = 3) -> float | None:
    """Peak RSS of `serve`; gradio gives up at start when its own 3 s check of the local URL times out
    (seen on this machine at load ~18), so a failed start is retried."""
    for _ in range(tries):
        try:
            return _serve_peak_rss_mb(size, chroma_url)
        except SystemExit as e:
            print(f"# serve failed, retrying: {e}", file=sys.stderr, flush=True)
    return None


def _serve_peak_rss_mb(size: int, chroma_url: str | None) -> float:
    """Peak RSS (VmHWM) of `meeting-qa serve` over the store after it answered a few questions."""
    from gradio_client import Client

    env = {k: v for k, v in os.environ.items() if not k.startswith("MEETING_QA_")}
    env.update(HF_HUB_OFFLINE="1", MEETING_QA_FEEDBACK=str(OUT / "feedback.jsonl"))
    if chroma_url:
        env["MEETING_QA_CHROMA_URL"] = chroma_url
    else:
        env["MEETING_QA_STORE"] = str(OUT / f"store-{size}")
    port = _free_port()
    cli = str(Path(sys.executable).parent / "meeting-qa")
    with (OUT / f"serve-{size}.log").open("wb") as log:
        proc = subprocess.Popen([cli, "serve", "--port", str(port)], env=env, stdout=log, stderr=log)
        try:
            url = f"http://127.0.0.1:{port}/"
            _wait(url, proc)
            client = Client(url, verbose=False)
            for q in questions()[:5]:
                client.predict(q, [], [], api_name="/ask")
            status = Path(f"/proc/{proc.pid}/status").read_text()
            return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))) / 1024
        finally:
            _stop(proc)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for mode, style in (("embedded", "-"), ("server", "--")):
        pts = sorted((r["size"], r) for r in rows if r["mode"] == mode)
        if not pts:
            continue
        sizes = [p[0] for p in pts]
        metrics = (
            ("search_p95_ms", "tab:blue"),
            ("ask_p95_ms", "tab:orange"),
            ("search_cpu_p95_ms", "tab:green"),
            ("ask_cpu_p95_ms", "tab:red"),
        )
        for metric, colour in metrics:
            if all(metric in p[1] for p in pts):
                ax.plot(sizes, [p[1][metric] for p in pts], style, color=colour, marker="o", label=f"{metric} ({mode})")
    ax.axhline(100, color="grey", linewidth=0.8, linestyle=":")
    ax.axhline(200, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("paragraphs in the store")
    ax.set_ylabel("ms per question, model warm (wall; CPU)")
    ax.set_title("meeting-qa search/ask latency against store size")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--no-server", action="store_true", help="embedded mode only")
    parser.add_argument("--skip-ratio", action="store_true", help="keep an earlier run's ingest/encode ratio")
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--chroma-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(PHASES[args.phase](args)))
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    saved = OUT / "results.json"
    # A run for some sizes adds to (or replaces) those sizes in an earlier run's results.
    results: dict[str, Any] = json.loads(saved.read_text()) if saved.exists() else {"builds": [], "rows": []}
    results["builds"] = [b for b in results["builds"] if b["size"] not in args.sizes]
    results["rows"] = [r for r in results["rows"] if r["size"] not in args.sizes]
    if not args.skip_ratio or "ratio" not in results:
        results["ratio"] = run_phase("ratio")
    for size in args.sizes:
        results["builds"].append(run_phase("build", "--size", str(size)))
        row = run_phase("measure", "--size", str(size))
        row["serve_peak_rss_mb"] = serve_peak_rss_mb(size, None)
        results["rows"].append(row)
        if not args.no_server:
            port = _free_port()
            chroma = str(Path(sys.executable).parent / "chroma")
            env = dict(os.environ, ANONYMIZED_TELEMETRY="False")
            with (OUT / f"chroma-{size}.log").open("wb") as log:
                proc = subprocess.Popen(
                    [chroma, "run", "--path", str(OUT / f"store-{size}"), "--port", str(port)],
                    env=env,
                    stdout=log,
                    stderr=log,
                )
                try:
                    url = f"http://127.0.0.1:{port}"
                    _wait(url + "/api/v2/heartbeat", proc)
                    row = run_phase("measure", "--size", str(size), "--chroma-url", url)
                    row["serve_peak_rss_mb"] = serve_peak_rss_mb(size, url)
                    results["rows"].append(row)
                finally:
                    _stop(proc)
        saved.write_text(json.dumps(results, indent=1))
        plot(results["rows"], OUT / "scale.png")
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
