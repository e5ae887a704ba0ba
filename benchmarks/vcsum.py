"""VCSum as meeting transcripts: each headline asked within its own meeting, scored with `meeting-qa eval`.

../shared/data/vcsum holds 136 topic segments of 26 real Chinese meetings (ASR utterances with speaker
numbers) and, per segment, its annotated headline. This script writes each meeting as a transcript
(`发言人N：utterance` lines, so every utterance becomes a numbered speaker turn) and a gold file whose lines
ask a headline within its meeting (`meeting_ids`) with the segment's turns as gold paragraphs. The corpus
itself is not committed; rebuild it with:

    python benchmarks/vcsum.py build /tmp/vcsum
    meeting-qa ingest /tmp/vcsum/transcripts --store /tmp/vcsum/store
    meeting-qa eval /tmp/vcsum/gold.jsonl --store /tmp/vcsum/store --json > /tmp/vcsum/eval.json
    python benchmarks/vcsum.py summarize /tmp/vcsum/eval.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VCSUM = ROOT.parent / "shared" / "data" / "vcsum"
sys.path.insert(0, str(ROOT / "src"))

from meeting_qa.loaders import load_text  # noqa: E402


def meeting_id(raw: str) -> str:
    return f"vcsum-{int(raw):02d}"


def build(out: Path, source: Path = VCSUM) -> tuple[int, int]:
    """Write transcripts and gold.jsonl under `out`; returns (meetings, questions)."""
    segments = [json.loads(line) for line in (source / "segments.jsonl").open(encoding="utf-8")]
    queries = [json.loads(line) for line in (source / "queries.jsonl").open(encoding="utf-8")]
    by_meeting: dict[str, list[dict]] = defaultdict(list)
    for seg in segments:
        by_meeting[seg["meeting_id"]].append(seg)
    (out / "transcripts").mkdir(parents=True, exist_ok=True)
    turns_of: dict[str, list[int]] = {}  # segment pid -> its paragraph numbers
    for raw_id, segs in sorted(by_meeting.items(), key=lambda kv: int(kv[0])):
        lines: list[str] = []
        for seg in sorted(segs, key=lambda s: s["seg_idx"]):
            numbers = []
            for speaker, utterance in zip(seg["speakers"], seg["utterances"], strict=True):
                text = " ".join(utterance.split())
                if text:
                    lines.append(f"发言人{speaker}：{text}")
                    numbers.append(len(lines))
            turns_of[seg["pid"]] = numbers
        path = out / "transcripts" / f"{meeting_id(raw_id)}.txt"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        # The gold numbers are only right if the loader reads every line as one speaker turn.
        meeting = load_text(path)
        assert len(meeting.paragraphs) == len(lines), f"{path}: {len(meeting.paragraphs)} turns for {len(lines)} lines"
        assert all(p.speaker for p in meeting.paragraphs), f"{path}: a turn without a speaker"
    with (out / "gold.jsonl").open("w", encoding="utf-8") as f:
        for q in queries:
            mid = meeting_id(q["meeting_id"])
            gold = [n for pid in q["gold_pids"] for n in turns_of[pid]]
            line = {
                "id": q["qid"],
                "q": q["query"],
                "lang": "zh",
                "gold": gold,
                "meeting_id": mid,
                "meeting_ids": [mid],
            }
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    return len(by_meeting), len(queries)


def summarize(result: Path) -> str:
    """hit@3 per meeting and overall from `meeting-qa eval --json` output, and the misses."""
    report = json.loads(result.read_text(encoding="utf-8"))
    rows = [r for r in report["rows"] if r["answerable"] and r["has_gold"]]
    per: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        per[r["id"].split("_")[0]].append(r)
    out = ["meeting  questions  hit@1  hit@3"]
    for mid, rs in sorted(per.items(), key=lambda kv: int(kv[0])):
        hit1 = sum(1 for r in rs if r["rank"] == 1) / len(rs)
        hit3 = sum(1 for r in rs if r["rank"] and r["rank"] <= 3) / len(rs)
        out.append(f"{meeting_id(mid):<9}{len(rs):>9}  {hit1:5.3f}  {hit3:5.3f}")
    below = [mid for mid, rs in per.items() if sum(1 for r in rs if r["rank"] and r["rank"] <= 3) / len(rs) < 0.95]
    overall = report["overall"]
    out.append(f"overall  {len(rows):>9}  {overall['hit@1']:5.3f}  {overall['hit@3']:5.3f}")
    out.append(f"meetings with hit@3 < 0.95: {len(below)} of {len(per)}")
    misses = [f"{r['id']}(rank {r['rank']})" for r in rows if not (r["rank"] and r["rank"] <= 3)]
    out.append("outside the top 3: " + (", ".join(misses) or "none"))
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="write transcripts/ and gold.jsonl")
    b.add_argument("out", type=Path)
    s = sub.add_parser("summarize", help="hit@3 per meeting from `meeting-qa eval --json`")
    s.add_argument("result", type=Path)
    args = parser.parse_args()
    if args.command == "build":
        meetings, questions = build(args.out)
        print(f"{meetings} meetings, {questions} questions in {args.out}")
    else:
        print(summarize(args.result))


if __name__ == "__main__":
    main()
