"""Learned judgement: a cross-encoder reader trained from the bundled e5-small (see model.py, train.py)
and the judge that fits it into the answer path (judge.py). The shipped model lives in `shipped/` with
its card; `MEETING_QA_READER` names another folder, or `none` for the rule answerer alone."""

from __future__ import annotations

from pathlib import Path

from meeting_qa.config import Settings
from meeting_qa.errors import ConfigError
from meeting_qa.reader.judge import Judge, ReaderTuning, Verdict
from meeting_qa.reader.model import CONFIG, Reader

SHIPPED = Path(__file__).resolve().parent / "shipped"

__all__ = ["SHIPPED", "Judge", "Reader", "ReaderTuning", "Verdict", "judge_for", "load_judge"]


def judge_for(settings: Settings) -> Judge | None:
    """The judge the settings ask for: the shipped reader by default (if this install ships one), none for
    `MEETING_QA_READER=none`, else the named folder."""
    choice = settings.reader
    if choice is not None and choice.strip().lower() in ("none", "off", "0"):
        return None
    folder = SHIPPED if choice is None else Path(choice).expanduser()
    if choice is None and not (folder / CONFIG).exists():
        return None
    if not (folder / CONFIG).exists():
        raise ConfigError(
            f"MEETING_QA_READER={choice!r}: no reader there (expected {CONFIG} and the weights); "
            "use a reader folder, or none to turn the reader off",
            value=str(choice),
        )
    return load_judge(folder, settings.cache_dir)


def load_judge(folder: Path | str, cache_dir: Path) -> Judge:
    """A judge over the reader in `folder`, with the tuning its config carries (loads weights lazily)."""
    from meeting_qa.modelprep import ensure_default_model

    folder = Path(folder)
    reader = Reader(folder, ensure_default_model(cache_dir))
    tuning = reader.config.get("tuning")
    return Judge(reader, ReaderTuning(**tuning) if isinstance(tuning, dict) else None)
