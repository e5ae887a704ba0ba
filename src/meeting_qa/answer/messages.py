"""User-facing phrases in the question's language."""

from __future__ import annotations

from collections.abc import Sequence

from meeting_qa.text.fold import Language, to_script
from meeting_qa.types import Passage

_LEAD = {
    "zh-Hans": "根据会议记录：",
    "zh-Hant": "根據會議記錄：",
    "en": "The records say: ",
}
_LEAD_NAMED = {
    "zh-Hans": "据{name}记录：",
    "zh-Hant": "據{name}記錄：",
    "en": "According to the record of {name}: ",
}
_LEAD_REFERENCE = {
    "zh-Hans": "会议记录中没有直接说明；参考资料《{name}》写道：",
    "zh-Hant": "會議記錄中沒有直接說明；參考資料《{name}》寫道：",
    "en": "Not from a meeting record — the reference text “{name}” says: ",
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
_SEPARATOR = {"zh-Hans": "；", "zh-Hant": "；", "en": "; "}
_EARLIER = {"zh-Hans": "（此前{name}的说法：", "zh-Hant": "（此前{name}的說法：", "en": " (earlier, {name}: "}
_EARLIER_END = {"zh-Hans": "）", "zh-Hant": "）", "en": ")"}


def lead(language: Language, *, name: str | None = None, chinese_quote: bool = True, reference: bool = False) -> str:
    """The lead-in of an answer: names the meeting when the store holds several, says when the source is a
    reference text rather than a meeting record, and says when an English question gets a Chinese quote."""
    if name:
        name = to_script(name, language)
    if reference and name:
        text = _LEAD_REFERENCE[language].format(name=name)
    elif name:
        text = _LEAD_NAMED[language].format(name=name)
    else:
        text = _LEAD[language]
    if language == "en" and chinese_quote and not reference:
        text = text.rstrip(": ") + " (quoted in the original Chinese; no translation is available offline): "
    return text


def separator(language: Language) -> str:
    return _SEPARATOR[language]


def earlier(language: Language, name: str) -> tuple[str, str]:
    """Brackets around what a value was before a later meeting changed it."""
    return _EARLIER[language].format(name=name), _EARLIER_END[language]


def passage_label(p: Passage, language: Language) -> str:
    """How a "possibly related" passage is named: title, date and paragraph, so two look different."""
    title = p.title or p.meeting_id
    date = f"（{p.date}）" if p.date and language != "en" else (f" ({p.date})" if p.date else "")
    return f"{title}{date} {_PARAGRAPH[language].format(n=p.paragraph)}"


def not_found(language: Language, related: Sequence[Passage]) -> str:
    """The abstain message; names the closest passages as "possibly related"."""
    text = _NOT_FOUND[language]
    if related:
        sep = "; " if language == "en" else "；"
        places = sep.join(passage_label(p, language) for p in related)
        text += ("\n" if language != "en" else " ") + _RELATED[language] + places
    return text


def fallback_note(language: Language) -> str:
    return {
        "zh-Hans": "（大模型的回答没有可核实的引用，以下为摘录式回答。）",
        "zh-Hant": "（大模型的回答沒有可核實的引用，以下為摘錄式回答。）",
        "en": "(The LLM answer had no verifiable citation; showing the extractive answer instead.)",
    }[language]
