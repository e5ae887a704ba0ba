"""Script folding and language detection.

Indexing and queries use one folded form (NFKC widths, lower case, traditional→simplified) so that a
simplified question finds traditional text and vice versa. Display text keeps its original script.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Literal

import opencc  # type: ignore[import-untyped]

from meeting_qa.text.rules import HAN

Language = Literal["zh-Hans", "zh-Hant", "en"]

_HAN = re.compile(f"[{HAN}]")
_LATIN = re.compile(r"[A-Za-z]")
_WS = re.compile(r"\s+")


@lru_cache(maxsize=4)
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def t2s(text: str) -> str:
    return str(_converter("t2s").convert(text))


def s2t(text: str) -> str:
    return str(_converter("s2t").convert(text))


def fold(text: str) -> str:
    """The search form of a text: NFKC (full-width → half-width), lower case, simplified, single spaces."""
    text = unicodedata.normalize("NFKC", text)
    return _WS.sub(" ", t2s(text).lower()).strip()


def detect_language(text: str) -> Language:
    """Guess the question's language/script: English, simplified or traditional Chinese."""
    han = len(_HAN.findall(text))
    latin_words = len(re.findall(r"[A-Za-z]+", text))
    if han == 0 or (latin_words >= 3 and han < 2):
        return "en"
    simplified = t2s(text)
    if simplified != text:
        return "zh-Hant"
    return "zh-Hans"


def to_script(text: str, language: Language) -> str:
    """Show Chinese text in the script of the question (English questions keep the source script)."""
    if language == "zh-Hans":
        return t2s(text)
    if language == "zh-Hant":
        return s2t(text)
    return text
