"""Question kinds (who / when / how many / source / requirements / principles) and the cues in a text that
answer them — classic answer-type matching, used by retrieval and by the extractive answerer."""

from __future__ import annotations

import re

# Question kinds and the cues that make a sentence a likely answer to them (folded, simplified).
KIND_PATTERNS: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "who": (
        re.compile(r"谁|哪位|何人|主持人|\bwho\b|\bwhom\b|chair|host|preside"),
        re.compile(r"主持|书记|主任|市长|部长|主席|出席|发言|讲话"),
    ),
    "when": (
        re.compile(r"什么时候|何时|哪天|哪一天|日期|时间|几月|几号|\bwhen\b|\bdate\b|what day"),
        re.compile(r"\d{1,2}月\d{1,2}日|\d{4}年\d{1,2}月|\d{4}-\d{2}-\d{2}|\d{1,2}[:：]\d{2}"),
    ),
    "decision": (
        re.compile(r"通过|决定|批准|审议|方案|决议|decid|approv|adopt|pass"),
        re.compile(r"通过|决定|批准|审议|决议|同意"),
    ),
    "requirement": (
        re.compile(
            r"要求|怎么做|怎样|如何|需要|措施|举措|做法|部署|\bshould\b|\brequire|\bmust\b|\bhow (?:to|should|do|does|can|will)\b"
        ),
        re.compile(r"^(?:要|必须|务必|坚持|确保)|,要|,必须|各地各部门要"),
    ),
    "principle": (
        re.compile(r"原则|方针|理念|\bprinciple|\bguideline"),
        re.compile(r"坚持|方针|原则|至上"),
    ),
    "quantity": (
        re.compile(r"多少|几个|几位|几项|几次|数量|数字|\bhow many\b|\bhow much\b|\bnumber of\b|\bamount\b"),
        re.compile(
            r"(?:\d+(?:\.\d+)?|[一二三四五六七八九十百千万亿两]+)\s*(?:%|％|个|位|项|次|例|人|名|家|元|亿|万|倍|所|条|座|批|户|吨|公里)"
        ),
    ),
    "source": (
        re.compile(r"媒体|来源|出处|哪家报|报道由|发布的|\bsource\b|newspaper|\bpublish|\bmedia\b|\boutlet\b"),
        re.compile(r"来源|出处|报业|日报|晚报|新闻|通讯社|集团"),
    ),
}


# Words that mark where an answer of a kind is stated: searched for beside the question's own words, since
# a source line "(来源:盐阜大众报报业集团)" shares no word with "这篇报道由哪家媒体发布？".
KIND_TERMS: dict[str, tuple[str, ...]] = {"source": ("来源", "出处", "报业")}


# A question about the meeting itself ("when was the meeting held?"), not about something it discussed.
MEETING_REFERENCE = re.compile(r"会议|会上|本次会|这次会|此次会|\bmeeting\b")


def states_date(folded_text: str, date: str | None) -> bool:
    """Whether a text states this ISO date (2022-05-06 as 5月6日, 2022年5月6日 or 2022-05-06)."""
    if not date:
        return False
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", date)
    if m is None:
        return False
    month, day = int(m[2]), int(m[3])
    return date in folded_text or re.search(rf"(?<!\d){month}月{day}日", folded_text) is not None


# Kinds that expect a type of answer: evidence without anything of that type does not answer them.
ANSWER_TYPES = frozenset({"who", "when", "quantity", "source"})
LIST_KINDS = frozenset({"requirement"})


def question_kinds(folded_question: str) -> set[str]:
    """The kinds of a (folded) question."""
    return {kind for kind, (q, _) in KIND_PATTERNS.items() if q.search(folded_question)}


def answers_kind(kind: str, folded_text: str) -> bool:
    """Whether a (folded) text holds the kind of answer a question of this kind wants."""
    return bool(KIND_PATTERNS[kind][1].search(folded_text))
