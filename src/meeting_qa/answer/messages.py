"""User-facing phrases in the question's language."""

from __future__ import annotations

from meeting_qa.text.fold import Language
from meeting_qa.types import Passage

_LEAD = {
    "zh-Hans": "根据会议记录：",
    "zh-Hant": "根據會議記錄：",
    "en": "The records say (quoted in the original Chinese; no translation is available offline): ",
}
_NOT_FOUND = {
    "zh-Hans": "会议记录中没有找到能回答这个问题的内容。",
    "zh-Hant": "會議記錄中沒有找到能回答這個問題的內容。",
    "en": "The meeting records don't say.",
}
_RELATED = {
    "zh-Hans": "可能相关：",
    "zh-Hant": "可能相關：",
    "en": "Possibly related: ",
}
_PARAGRAPH = {"zh-Hans": "第{n}段", "zh-Hant": "第{n}段", "en": "¶{n}"}


def lead(language: Language) -> str:
    return _LEAD[language]


def not_found(language: Language, related: list[Passage]) -> str:
    """The abstain message; names the closest passages as "possibly related"."""
    text = _NOT_FOUND[language]
    if related:
        sep = "; " if language == "en" else "；"
        places = sep.join(f"{p.title or p.meeting_id} {_PARAGRAPH[language].format(n=p.paragraph)}" for p in related)
        text += ("\n" if language != "en" else " ") + _RELATED[language] + places
    return text


def fallback_note(language: Language) -> str:
    return {
        "zh-Hans": "（大模型的回答没有可核实的引用，以下为摘录式回答。）",
        "zh-Hant": "（大模型的回答沒有可核實的引用，以下為摘錄式回答。）",
        "en": "(The LLM answer had no verifiable citation; showing the extractive answer instead.)",
    }[language]
