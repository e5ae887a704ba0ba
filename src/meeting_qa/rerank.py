"""Optional cross-encoder reranking (MEETING_QA_RERANKER names a sentence-transformers CrossEncoder).

Off by default: no multilingual cross-encoder ships inside a PyPI package, and the default install
must not reach a model hub.
"""

from __future__ import annotations

from typing import Any

from meeting_qa.errors import ModelError


def load_reranker(name: str) -> Any:
    """A `sentence_transformers.CrossEncoder` (anything with `predict(pairs) -> scores` works as a reranker)."""
    try:
        from sentence_transformers import CrossEncoder

        return CrossEncoder(name, device="cpu")
    except Exception as e:  # a bad name or folder fails in many ways inside sentence-transformers
        raise ModelError(
            f"cannot load reranker {name!r}: {e}. Set MEETING_QA_RERANKER to a CrossEncoder name or folder, "
            "or unset it.",
            value=name,
        ) from e
