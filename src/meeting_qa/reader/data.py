"""Training groups for the reader, built from the public sets in ../shared/data/train.

Each group is one real question with one passage that answers it and three that do not:
- two hard negatives: passages of the same article/meeting (or, where an article has one paragraph, the
  passages of the whole set that share most character bigrams with the question),
- one "the detail is not given" negative: the answering passage with the sentences holding the answer
  removed (the topic is there, the asked value is not) — the case a retriever alone cannot tell apart.

Questions and passages are mixed across scripts (a traditional question becomes simplified, a simplified
passage traditional) because staff ask in either script over records in the other. Splits are by article
or meeting, never by question, so no passage is seen both in training and in validation.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_SENT_END = re.compile(r"(?<=[。！？!?；;])|(?<=\.)\s+")
WINDOW_CHARS = 220  # a passage window the reader sees (≈ 150–200 tokens of Chinese)
WINDOW_WORDS = 120  # the same for English turns


@dataclass(frozen=True)
class Group:
    question: str
    passages: tuple[str, ...]  # passages[0] answers, the rest do not
    source: str


def _held_out(key: str, share: float) -> bool:
    h = int(hashlib.sha1(key.encode()).hexdigest()[:8], 16)
    return (h % 1000) / 1000 < share


def _sentences(text: str) -> list[str]:
    parts = [p for p in _SENT_END.split(text) if p and p.strip()]
    return parts or [text]


def _bigrams(text: str) -> set[str]:
    t = re.sub(r"\s+", "", text)
    return {t[i : i + 2] for i in range(len(t) - 1)}


def _window(text: str, rng: random.Random, *, around: int | None = None, chars: int = WINDOW_CHARS) -> str:
    """A window of `chars` characters; when `around` is given the window holds that offset."""
    if len(text) <= chars:
        return text
    if around is None:
        start = rng.randrange(0, len(text) - chars + 1)
    else:
        lo = max(0, around - chars + 40)
        hi = min(around - 20, len(text) - chars)
        start = rng.randint(lo, max(lo, hi)) if hi >= lo else max(0, min(around - chars // 2, len(text) - chars))
    return text[start : start + chars]


def _without_answer(context: str, answers: list[str]) -> str | None:
    kept = [s for s in _sentences(context) if not any(a and a in s for a in answers)]
    rest = "".join(kept)
    if not kept or any(a and a in rest for a in answers) or len(rest) < 40:
        return None
    return rest


def _squad_groups(path: Path, name: str, rng: random.Random, *, val_share: float, val: bool) -> Iterator[Group]:
    from meeting_qa.text.fold import s2t, t2s

    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    articles = [a for a in data if _held_out(f"{name}:{a.get('title', '')}", val_share) == val]
    all_paragraphs = [p["context"] for a in articles for p in a["paragraphs"]]
    grams = [_bigrams(c) for c in all_paragraphs]
    traditional = name == "drcd"
    for a in articles:
        paras = [p["context"] for p in a["paragraphs"]]
        for p in a["paragraphs"]:
            ctx = p["context"]
            for qa in p["qas"]:
                answers = [x["text"] for x in qa.get("answers", []) if x.get("text")]
                if not answers:
                    continue
                q = qa["question"]
                start = qa["answers"][0].get("answer_start", ctx.find(answers[0]))
                pos = _window(ctx, rng, around=max(0, int(start)))
                if answers[0] not in pos:
                    continue
                others = [c for c in paras if c != ctx and not any(x in c for x in answers)]
                if len(others) < 2:
                    qg = _bigrams(q)
                    ranked = sorted(range(len(all_paragraphs)), key=lambda i: -len(qg & grams[i]))
                    others += [
                        all_paragraphs[i]
                        for i in ranked[:12]
                        if all_paragraphs[i] != ctx and not any(x in all_paragraphs[i] for x in answers)
                    ]
                rng.shuffle(others)
                negs = [_window(c, rng) for c in others[:2]]
                removed = _without_answer(ctx, answers)
                negs.append(_window(removed, rng) if removed else _window(others[2 % len(others)], rng))
                if len(negs) < 3:
                    continue
                passages = [pos, *negs]
                # script mixing: staff ask in either script over records in the other
                if rng.random() < 0.3:
                    if traditional:
                        q = t2s(q)
                    else:
                        passages = [s2t(x) for x in passages]
                yield Group(q, tuple(passages), name)


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9']+", text.lower()) if len(w) > 2}


_STOP = set(
    "the and was what were that this with for from about did they their them have has had not but are "
    "which when who whom how why discuss discussed discussion said says meeting group".split()
)


def _turn_text(t: dict[str, str]) -> str:
    return f"{t['speaker']}: {t['content']}"


def _clip_words(text: str, rng: random.Random) -> str:
    words = text.split()
    if len(words) <= WINDOW_WORDS:
        return text
    start = rng.randrange(0, len(words) - WINDOW_WORDS + 1)
    return " ".join(words[start : start + WINDOW_WORDS])


def _qmsum_groups(path: Path, rng: random.Random, *, val_share: float, val: bool) -> Iterator[Group]:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        m = json.loads(line)
        if _held_out(f"qmsum:{n}", val_share) != val:
            continue
        turns = [_turn_text(t) for t in m["meeting_transcripts"]]
        turn_words = [_words(t) - _STOP for t in turns]
        for sq in m.get("specific_query_list", []):
            inside: set[int] = set()
            for a, b in sq.get("relevant_text_span", []):
                inside.update(range(int(a), min(int(b), len(turns) - 1) + 1))
            if not inside:
                continue
            ans = _words(sq.get("answer", "")) - _STOP
            qw = _words(sq["query"]) - _STOP
            # the turns of the span that say most of the reference answer stand for "the answering turn"
            ranked_in = sorted(
                (i for i in inside if len(turns[i].split()) >= 12), key=lambda i: -len(ans & turn_words[i])
            )
            outside = [i for i in range(len(turns)) if i not in inside and len(turns[i].split()) >= 12]
            if not ranked_in or len(outside) < 3:
                continue
            hard = sorted(outside, key=lambda i: -len((qw | ans) & turn_words[i]))[:10]
            for pos_i in ranked_in[:2]:
                two_hard = rng.sample(hard, 2)
                one_random = rng.choice(outside)
                passages = [_clip_words(turns[i], rng) for i in (pos_i, *two_hard, one_random)]
                yield Group(sq["query"], tuple(passages), "qmsum")


def build_groups(train_dir: Path, *, seed: int = 13, val: bool = False, val_share: float = 0.08) -> list[Group]:
    """Every training (or validation) group of the three sets, in a seeded shuffled order."""
    rng = random.Random(seed + (1 if val else 0))
    groups = [
        *_squad_groups(train_dir / "drcd_dev.json", "drcd", rng, val_share=val_share, val=val),
        *_squad_groups(train_dir / "cmrc2018_trial.json", "cmrc", rng, val_share=val_share, val=val),
        *_qmsum_groups(train_dir / "qmsum_val.jsonl", rng, val_share=max(val_share, 0.1), val=val),
    ]
    rng.shuffle(groups)
    return groups
