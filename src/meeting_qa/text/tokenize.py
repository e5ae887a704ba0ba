"""Tokens for lexical search: jieba words over folded Chinese text plus English words and numbers."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import jieba  # type: ignore[import-untyped]

from meeting_qa.text.fold import fold

jieba.setLogLevel(logging.WARNING)

# Function words that carry no topic; single Han characters are kept (names, 会/市) except these.
_STOP = frozenset(
    [
        "的",
        "了",
        "和",
        "与",
        "及",
        "在",
        "是",
        "有",
        "对",
        "把",
        "被",
        "为",
        "等",
        "也",
        "都",
        "又",
        "并",
        "而",
        "或",
        "之",
        "其",
        "这",
        "那",
        "哪",
        "什么",
        "怎么",
        "怎样",
        "如何",
        "哪些",
        "哪个",
        "哪位",
        "谁",
        "吗",
        "呢",
        "吧",
        "啊",
        "一",
        "个",
        "些",
        "上",
        "下",
        "中",
        "要",
        "将",
        "以",
        "于",
        "从",
        "向",
        "让",
        "给",
        "就",
        "还",
        "方面",
        "方",
        "提",
        "次",
        "里",
        "the",
        "a",
        "an",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "and",
        "or",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "by",
        "with",
        "about",
        "what",
        "which",
        "who",
        "whom",
        "when",
        "where",
        "why",
        "how",
        "did",
        "does",
        "do",
        "this",
        "that",
        "these",
        "those",
        "it",
        "its",
        "as",
        "from",
        "according",
    ]
)
_WORD = re.compile(r"[a-z0-9]+(?:[.\-][a-z0-9]+)*|[\u3400-\u4dbf\u4e00-\u9fff]+")
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")


@lru_cache(maxsize=1)
def _tokenizer() -> jieba.Tokenizer:
    tok = jieba.Tokenizer()
    tok.initialize()
    return tok


def tokenize(text: str, *, folded: bool = False) -> list[str]:
    """Search tokens: jieba's search-mode words (so 产业链 also yields 产业) and lower-case English words."""
    if not folded:
        text = fold(text)
    tokens: list[str] = []
    for m in _WORD.finditer(text):
        piece = m.group(0)
        if _HAN_RUN.fullmatch(piece):
            for word in _tokenizer().cut_for_search(piece, HMM=True):
                if word not in _STOP:
                    tokens.append(word)
        elif piece not in _STOP:
            tokens.append(piece)
    return tokens


def words_with_parts(folded: str, skip: frozenset[str] = frozenset()) -> list[tuple[str, list[str]]]:
    """Content words of a (folded) question in reading order, each with its jieba search-mode sub-words
    (`skip`: interrogatives and fillers to leave out)."""
    out: list[tuple[str, list[str]]] = []
    for m in _WORD.finditer(folded):
        piece = m.group(0)
        if not _HAN_RUN.fullmatch(piece):
            if piece not in _STOP:
                out.append((piece, []))
            continue
        for word in _tokenizer().cut(piece, HMM=True):
            if word in _STOP or word in skip:
                continue
            parts = [w for w in _tokenizer().cut_for_search(word, HMM=True) if len(w) >= 2 and w != word]
            out.append((word, parts))
    return out


def is_word(word: str) -> bool:
    """Whether the segmenter's dictionary knows the word (a piece cut across two words is not one)."""
    if not word or word.isascii():
        return True
    tok = _tokenizer()
    return tok.FREQ.get(word, 0) > 0
