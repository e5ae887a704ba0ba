"""Dense-similarity calibration per embedding model, measured on the store's own texts.

Cosine similarities mean different things for different models (multilingual-e5 puts unrelated texts
near 0.75, all-MiniLM near 0.1), so fixed thresholds break when `MEETING_QA_EMBEDDING_MODEL` changes.
At ingest (and lazily for an older store) pieces of stored sentences serve as pseudo-questions: their
similarity to their own paragraph gives the ceiling, their similarity to unrelated texts (other meetings'
paragraphs and a fixed set of off-topic sentences shipped in the profile) gives the floor. The result is
kept in the collection's metadata beside the model's name.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import Any, TypeVar

import numpy as np

from meeting_qa.store import Store, StoredParagraph, paragraph_id

T = TypeVar("T")
SAMPLE = 48
PSEUDO_QUESTION_CHARS = 28  # about the length of a short question; longer pieces inflate the ceiling
MIN_SPAN = 0.05
REMEASURE_CHANGE = 0.25  # a store that grew or shrank by this share since its calibration is measured again


@dataclass(frozen=True)
class Calibration:
    """Maps a cosine similarity of this model to 0..1: `floor` says nothing, `ceiling` is a clear match."""

    floor: float = 0.72
    ceiling: float = 0.92
    samples: int = 0  # 0: the multilingual-e5 defaults, not measured

    def scale(self, similarity: float) -> float:
        span = max(self.ceiling - self.floor, MIN_SPAN)
        return float(min(1.0, max(0.0, (similarity - self.floor) / span)))

    def as_metadata(self) -> dict[str, float | int]:
        return {"calibration_floor": self.floor, "calibration_ceiling": self.ceiling, "calibration_n": self.samples}

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> Calibration | None:
        try:
            return cls(float(meta["calibration_floor"]), float(meta["calibration_ceiling"]), int(meta["calibration_n"]))
        except (KeyError, TypeError, ValueError):
            return None


def off_topic_texts() -> list[str]:
    text = files("meeting_qa.profile").joinpath("off_topic.txt").read_text(encoding="utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def _pseudo_question(sp: StoredParagraph) -> str:
    p = sp.paragraph
    longest = max(p.sentences, key=lambda s: s.end - s.start) if p.sentences else None
    text = p.text[longest.start : longest.end] if longest else p.text
    if sp.folded.isascii():
        return " ".join(text.split()[:10])
    return text[:PSEUDO_QUESTION_CHARS]


def measure(
    embeddings: object,
    paragraphs: Sequence[StoredParagraph],
    paragraph_vectors: np.ndarray,
) -> Calibration:
    """Calibrate from stored paragraphs and their vectors (rows in the same order)."""
    if len(paragraphs) == 0:
        return Calibration()
    chosen = _spread(range(len(paragraphs)), SAMPLE)
    queries = np.asarray(
        [embeddings.encode_query(_pseudo_question(paragraphs[i])) for i in chosen],  # type: ignore[attr-defined]
        dtype=np.float32,
    )
    off = np.asarray(embeddings.encode_passages(off_topic_texts()), dtype=np.float32)  # type: ignore[attr-defined]
    positives = [float(queries[j] @ paragraph_vectors[i]) for j, i in enumerate(chosen)]
    # Only texts surely unrelated count as negatives: other meetings of the same genre share its vocabulary.
    negatives = (queries @ off.T).ravel()
    floor = float(np.percentile(negatives, 90))
    ceiling = float(np.median(positives))
    if ceiling - floor < MIN_SPAN:
        ceiling = floor + MIN_SPAN
    return Calibration(round(floor, 4), round(ceiling, 4), len(chosen))


def calibration_for(
    store: Store,
    embeddings: object,
    *,
    refresh: bool = False,
    paragraphs: Mapping[tuple[str, int], StoredParagraph] | None = None,
) -> Calibration:
    """The store's calibration for its model: read from the collection, or measured now and kept there.
    `refresh` (after an ingest) measures again only when the store has grown or shrunk by a quarter since
    the last measurement: one more meeting in a large archive does not move the model's scale.
    `paragraphs` (the lexical index's, by key) lets the sample be drawn without reading the whole store,
    which a store of 100k paragraphs cannot answer in one query."""
    meta = store.metadata()
    held = Calibration.from_metadata(meta)
    size = store.collection.count()
    if held is not None and meta.get("calibration_model") == store.model_label:
        measured_at = int(meta.get("calibration_records", 0) or 0)
        if not refresh or (measured_at and abs(size - measured_at) < REMEASURE_CHANGE * measured_at):
            return held
    if paragraphs is not None:
        sample = [paragraphs[k] for k in _spread(sorted(paragraphs), SAMPLE * 4)]
    else:
        sample = _spread(store.paragraphs(), SAMPLE * 4)
    if not sample:
        return Calibration()
    vectors = store.vectors([paragraph_id(sp.meeting_id, sp.paragraph.number) for sp in sample])
    kept = [sp for sp in sample if paragraph_id(sp.meeting_id, sp.paragraph.number) in vectors]
    if not kept:
        return Calibration()
    matrix = np.stack([vectors[paragraph_id(sp.meeting_id, sp.paragraph.number)] for sp in kept])
    calibration = measure(embeddings, kept, matrix)
    # A read-only server or a race with a writer: use it now, measure again later.
    with contextlib.suppress(Exception):
        store.update_metadata(
            {**calibration.as_metadata(), "calibration_model": store.model_label, "calibration_records": size}
        )
    return calibration


def _spread(items: Sequence[T], n: int) -> list[T]:
    """At most `n` items, evenly spread over the sequence (the same ones for the same sequence)."""
    step = max(1, len(items) // n)
    return list(items[::step][:n])
