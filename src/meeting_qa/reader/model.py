"""The reader: a small cross-encoder over the bundled multilingual-e5-small.

It reads a question and a passage together and gives the probability that the passage answers the
question. Its layers are the first `layers` transformer layers of e5-small, fine-tuned; the embedding
matrix (96 of e5-small's 118M parameters) stays the bundled one, frozen, so the shipped file holds only
the trained layers and a one-unit head (fp16).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from meeting_qa.errors import ModelError

WEIGHTS = "reader.safetensors"
CONFIG = "reader.json"


def _torch() -> Any:
    import torch

    return torch


class CrossEncoderNet:
    """The network (a torch module built lazily so importing this file costs nothing)."""

    @staticmethod
    def build(base_dir: Path, layers: int) -> Any:
        torch = _torch()
        from transformers import AutoModel

        class Net(torch.nn.Module):  # type: ignore[misc,name-defined]
            def __init__(self) -> None:
                super().__init__()
                enc = AutoModel.from_pretrained(str(base_dir))
                enc.encoder.layer = enc.encoder.layer[:layers]
                enc.config.num_hidden_layers = layers
                if getattr(enc, "pooler", None) is not None:
                    enc.pooler = None
                self.enc = enc
                self.head = torch.nn.Linear(enc.config.hidden_size, 1)

            def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any | None = None) -> Any:
                kw = {"input_ids": input_ids, "attention_mask": attention_mask}
                if token_type_ids is not None:
                    kw["token_type_ids"] = token_type_ids
                h = self.enc(**kw).last_hidden_state
                m = attention_mask.unsqueeze(-1).to(h.dtype)
                pooled = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
                return self.head(pooled).squeeze(-1)

        return Net()

    @staticmethod
    def trainable_state(net: Any) -> dict[str, Any]:
        """What we ship: everything but the frozen embeddings."""
        return {k: v for k, v in net.state_dict().items() if not k.startswith("enc.embeddings.")}


class Reader:
    """Scores (question, passage) pairs; loads the model on first use."""

    def __init__(self, folder: Path, base_dir: Path, *, threads: int | None = None) -> None:
        self.folder = Path(folder)
        self.base_dir = Path(base_dir)
        self.threads = threads
        self._net: Any = None
        self._tok: Any = None
        self._lock = threading.Lock()
        cfg_path = self.folder / CONFIG
        try:
            self.config = json.loads(cfg_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ModelError(f"cannot read the reader's config {cfg_path}: {e}", path=str(cfg_path)) from e
        # the length it was trained at: windows are cut to fit it
        self.max_length = int(self.config.get("max_length", 192))

    @property
    def label(self) -> str:
        return str(self.config.get("name", self.folder.name))

    def _load(self) -> None:
        with self._lock:
            if self._net is not None:
                return
            torch = _torch()
            from safetensors.torch import load_file
            from transformers import AutoTokenizer

            weights = self.folder / WEIGHTS
            try:
                state = load_file(str(weights))
            except Exception as e:  # a missing or damaged file fails in several ways inside safetensors
                raise ModelError(f"cannot load the reader's weights {weights}: {e}", path=str(weights)) from e
            net = CrossEncoderNet.build(self.base_dir, int(self.config["layers"]))
            missing = net.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
            unexpected = [k for k in missing.unexpected_keys]
            absent = [k for k in missing.missing_keys if not k.startswith("enc.embeddings.")]
            if unexpected or absent:
                raise ModelError(
                    f"the reader's weights {weights} do not fit its config (missing {absent[:3]}, "
                    f"unexpected {unexpected[:3]})",
                    path=str(weights),
                )
            net.eval()
            if self.config.get("int8", False):  # dynamic int8 flattened its scores (p 0.3–0.5 for all) in a trial
                net = torch.ao.quantization.quantize_dynamic(net, {torch.nn.Linear}, dtype=torch.qint8)
            self._tok = AutoTokenizer.from_pretrained(str(self.base_dir))
            self._net = net

    def scores(self, pairs: Sequence[tuple[str, str]], *, batch_size: int = 16) -> np.ndarray:
        """The logit that each passage answers its question (higher: more likely)."""
        if not pairs:
            return np.zeros(0, dtype=np.float32)
        self._load()
        torch = _torch()
        if self.threads:
            torch.set_num_threads(self.threads)
        out: list[np.ndarray] = []
        with torch.inference_mode():
            for i in range(0, len(pairs), batch_size):
                chunk = pairs[i : i + batch_size]
                enc = encode(self._tok, chunk, self.max_length)
                out.append(self._net(**enc).float().numpy())
        return np.concatenate(out)

    def probabilities(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.scores(pairs)))


def encode(tokenizer: Any, pairs: Sequence[tuple[str, str]], max_length: int) -> dict[str, Any]:
    """The e5 prompts on both sides; only the passage is cut when the pair is too long."""
    qs = [f"query: {q}" for q, _ in pairs]
    ps = [f"passage: {p}" for _, p in pairs]
    return dict(tokenizer(qs, ps, truncation="only_second", max_length=max_length, padding=True, return_tensors="pt"))
