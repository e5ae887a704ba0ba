"""Lists of documents and reports a report names in one sentence.

The genre packs a meeting's agenda into few sentences: "会议审议通过《A》《B》、《C》和《D》", "听取并讨论《市政府
工作报告》(讨论稿)，书面听取并讨论《关于…的报告》(讨论稿)、市法院工作报告(讨论稿)", "会议讨论了…、听取了…汇报、
研究了…等四项议题，并原则通过". One marker set serves every such verb (profile/items.toml `list_verb`); the
list after it is cut at 、，, and at 和/及/与/以及 where an element ends (》和《, 报告和…); each element that is a
document (《…》) or ends in a report's or document's word is one item: `approved` when the sentence gives a
verdict (通过, 同意, 批准 — on the verb or at its end), `heard` otherwise (a report heard, a document considered).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from meeting_qa.minutes.rules import Rules

_OPEN = "《〈（(“"
_CLOSE = "》〉）)”"


@dataclass(frozen=True)
class Listed:
    kind: str  # "approved" or "heard"
    start: int  # the element's span in the paragraph
    end: int
    subject: str
    verb_start: int  # where its verb starts (the quote runs from there when short enough)


def listed_items(mt: str, start: int, end: int, rules: Rules) -> Iterator[Listed]:
    """Documents and reports listed after the marker verbs of one sentence `mt[start:end]` (simplified form)."""
    depth = _depths(mt, start, end)
    # A verb inside a document's name or a bracket ("(讨论稿)", 《…讨论…》) is part of the name.
    verbs = [v for v in rules.zh["list_verb"].finditer(mt, start, end) if depth[v.start() - start] == 0]
    if not verbs:
        return
    verdict_at_end = rules.zh["list_verdict"].search(mt, start, end)
    for i, v in enumerate(verbs):
        stop = verbs[i + 1].start() if i + 1 < len(verbs) else end
        stop = _list_end(mt, v.end(), stop, rules, depth, start)
        approves = bool(rules.zh["verdict"].search(v.group(0))) or (
            verdict_at_end is not None and not v.group(0).lstrip("书面").startswith("听取")
        )
        pending: list[tuple[int, int]] = []  # elements that name no document or report of their own
        for s, e in _elements(mt, v.end(), stop):
            subject = _subject(mt[s:e], rules)
            if not subject:
                pending.append((s, e))
                continue
            # "市人大、政府、政协、法院和检察院党组工作汇报": short elements before a report share its head noun.
            if pending and all(pe - ps <= 10 for ps, pe in pending):
                s = pending[0][0]
                subject = _subject(mt[s:e], rules) or subject
            pending = []
            kind = "approved" if approves else "heard"
            docs = list(re.finditer(r"《([^《》]+)》", mt[s:e]))
            if len(docs) > 1:  # "《A》《B》等的审议结果报告": documents side by side, one item each
                prev = s
                for d in docs:
                    yield Listed(kind, prev, s + d.end(), d.group(1), v.start())
                    prev = s + d.end()
                continue
            yield Listed(kind, s, e, subject, v.start())


def _depths(mt: str, start: int, end: int) -> list[int]:
    out, depth = [], 0
    for ch in mt[start:end]:
        if ch in _CLOSE:
            depth = max(0, depth - 1)
        out.append(depth)
        if ch in _OPEN:
            depth += 1
    return out


def _list_end(mt: str, start: int, stop: int, rules: Rules, depth: list[int], origin: int) -> int:
    """Where a verb's list ends: at the next lead-in of another statement (强调, 指出, 要求, 并原则通过…) outside
    a document's name (《…的决定(草案)》 is a name)."""
    for m in rules.zh["list_stop"].finditer(mt, start, stop):
        if depth[m.start() - origin] == 0:
            return m.start()
    return stop


def _elements(mt: str, start: int, stop: int) -> Iterator[tuple[int, int]]:
    """Top-level elements of a list (not cut inside 《》 or brackets)."""
    depth = 0
    s = start
    i = start
    while i < stop:
        ch = mt[i]
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        elif depth == 0:
            cut = 0
            if ch in "、，,；;":
                cut = 1
            elif mt.startswith("以及", i):
                cut = 2
            elif ch in "和及与" and (mt[i - 1 : i] in _CLOSE or _ENDS.search(mt, s, i) or mt.startswith("关于", i + 1)):
                cut = 1
            if cut:
                yield s, i
                s = i + cut
                i += cut
                continue
        i += 1
    yield s, stop


_ENDS = re.compile(
    r"(?:报告|汇报|说明|方案|计划|办法|规划|意见|细则|名单|决定|请示|事项|事宜|议案|草案|讨论稿|稿|规则|守则|通知|要点|纲要)$"
)


_OTHER = re.compile(r"^(?:其他|其它)")  # "会议还研究了其他事项": the genre's closing formula, no item


def _subject(element: str, rules: Rules) -> str:
    """The document's name (without 《》) or the report's words; "" when the element is neither."""
    element = element.strip(" 　，,、")
    element = re.sub(r"(?:等[一二三四五六七八九十\d]+项议题|等议题|等)$", "", element)
    doc = re.search(r"《([^《》]+)》", element)
    if doc:
        return doc.group(1)
    bare = re.sub(r"[（(][^（()）]*[)）]$", "", element)  # a trailing "(讨论稿)", "(书面)"
    if not _ENDS.search(bare) or len(bare) < 4 or rules.zh["list_stop"].match(bare) or _OTHER.match(bare):
        return ""
    return bare
