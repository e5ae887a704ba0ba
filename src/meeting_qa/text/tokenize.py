"""Tokens for lexical search: jieba words over folded Chinese text plus English words and numbers."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import jieba  # type: ignore[import-untyped]

from meeting_qa.text.fold import fold
from meeting_qa.text.rules import CHINESE_STOP_WORDS, ENGLISH_STOP_WORDS, HAN, HAN_RUN

jieba.setLogLevel(logging.WARNING)

# Words that carry no topic; single Han characters are kept (names, 会/市) except these.
_STOP = CHINESE_STOP_WORDS | ENGLISH_STOP_WORDS
_WORD = re.compile(rf"[a-z0-9]+(?:[.\-][a-z0-9]+)*|[{HAN}]+")


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
        if HAN_RUN.fullmatch(piece):
            for word in _tokenizer().cut_for_search(piece, HMM=True):
                if word not in _STOP:
                    tokens.append(word)
        elif piece not in _STOP:
            tokens.append(piece)
    return tokens


def words_with_parts(
    folded: str, skip: frozenset[str] = frozenset(), keep: frozenset[str] = frozenset()
) -> list[tuple[str, list[str]]]:
    """Content words of a (folded) question in reading order, each with its jieba search-mode sub-words
    (`skip`: interrogatives and fillers to leave out; `keep`: words known to the records, such as their
    place names, kept whole where jieba would cut them apart: 鹭原市历次 → 鹭原, not 鹭 + 原市)."""
    out: list[tuple[str, list[str]]] = []
    split = _splitter(keep)
    for m in _WORD.finditer(folded):
        piece = m.group(0)
        if not HAN_RUN.fullmatch(piece):
            if piece not in _STOP:
                out.append((piece, []))
            continue
        previous = ""
        for chunk in split.split(piece) if split is not None else [piece]:
            if chunk in keep:
                out.append((chunk, []))
            elif chunk:
                words = _content_words(chunk, skip)
                # A place kept whole leaves its body word cut: 鹭原市委 → 鹭原市 + 委. The place's last
                # character joins a lone following character when the two make a dictionary word (市委, 县委).
                if previous and words and len(words[0][0]) == 1 and chunk.startswith(words[0][0]):
                    joined = previous[-1] + words[0][0]
                    if is_word(joined):
                        words[0] = (joined, [])
                out.extend(words)
            previous = chunk if chunk in keep else ""
    return out


@lru_cache(maxsize=4)
def _splitter(keep: frozenset[str]) -> re.Pattern[str] | None:
    """A pattern cutting a Han run around the kept words, longest first (compiled once per set of words:
    the same catalog serves every question until the store changes)."""
    known = sorted((w for w in keep if len(w) >= 2 and not w.isascii()), key=len, reverse=True)
    return re.compile("(" + "|".join(re.escape(w) for w in known) + ")") if known else None


def _content_words(piece: str, skip: frozenset[str]) -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
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


@lru_cache(maxsize=1)
def _word_tags() -> dict[str, str]:
    import jieba.posseg  # type: ignore[import-untyped]  # loads the tags of jieba's own dictionary once

    tags: dict[str, str] = jieba.posseg.dt.word_tag_tab
    return tags


def word_class(word: str) -> str:
    """The part of speech jieba's dictionary gives a word ('' when it has none: names, new terms)."""
    return _word_tags().get(word, "") if not word.isascii() else ""
