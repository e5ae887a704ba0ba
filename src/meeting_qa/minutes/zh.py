"""Items of Chinese meeting reports (新闻通稿): reports heard, documents approved, tasks with their owner and
deadline, decisions and principles — each with the exact span of the paragraph it came from."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

from meeting_qa.minutes.lists import Listed, listed_items
from meeting_qa.minutes.paragraph import ParagraphIn
from meeting_qa.minutes.rules import (
    Rules,
    parse_iso,
    zh_due,
    zh_month_end_due,
    zh_quarter_due,
    zh_weekday_due,
)
from meeting_qa.text.fold import t2s
from meeting_qa.types import Item

_SENTENCE_END = re.compile(r"[。！？!?]")
_TRIM = "，,、；;：: \u3000"
_LEADING_YEAR = re.compile(r"^(?:今年|本年度?|明年)")
_PAREN_TAIL = re.compile(r"[（(][^（()）]*[)）]$")


def match_form(text: str) -> str:
    """The paragraph in simplified script with the same offsets (markers are written once, in simplified)."""
    folded = t2s(text)
    if len(folded) == len(text):
        return folded
    return "".join(c if len(f := t2s(c)) != 1 else f for c in text)


def is_opening(p: ParagraphIn, mt: str) -> bool:
    """The report's first paragraph: when, who convened, the agenda — it announces items, it doesn't state them."""
    return p.number == 1 and "召开" in mt[:120]


def agenda_of(opening: ParagraphIn, rules: Rules) -> str:
    """What the opening line says the meeting is about (empty when there is no such line)."""
    mt = match_form(opening.text)
    m = rules.zh["agenda"].search(mt) if is_opening(opening, mt) else None
    return opening.text[m.start("agenda") : m.end("agenda")] if m else ""


def extract_zh(p: ParagraphIn, rules: Rules, meeting_date: date | None, agenda: str = "") -> list[Item]:
    """Items of one paragraph; `agenda` is the topic of paragraphs that name none of their own."""
    mt = match_form(p.text)
    # The opening sentence announces the agenda: of it, only the reports it says were heard are items. A report
    # written as one paragraph goes on after it with what the meeting did.
    body = next((e for _, e in _spans(mt, _SENTENCE_END, 0, len(mt))), len(mt)) if is_opening(p, mt) else 0
    items: list[Item] = []
    listed: list[tuple[int, int]] = []  # spans of the elements of lists read whole
    for s_start, s_end in _spans(mt, _SENTENCE_END, 0, len(mt)):
        for li in listed_items(mt, s_start, s_end, rules):
            if li.start < body and li.kind != "heard":
                continue
            verb = li.verb_start - 2 if mt[max(0, li.verb_start - 2) : li.verb_start] == "会议" else li.verb_start
            q_start = verb if li.end - verb <= 120 else li.start
            items.append(_item(p, li.kind, q_start, li.end, subject=_list_subject(p.text, li, mt), rules=rules))
            listed.append((li.start, li.end))
    if body >= len(mt.rstrip()):
        return items

    def in_list(at: int) -> bool:
        return any(s <= at < e for s, e in listed)

    topic = next((i.subject for i in items), "")
    for m in rules.zh["heard"].finditer(mt, body):
        if in_list(m.start("subject")) or in_list(m.end("subject") - 1):
            continue
        start = m.start() - 2 if mt[max(0, m.start() - 2) : m.start()] == "会议" else m.start()
        subject = _topic_of(p.text[m.start("subject") : m.end("subject")])
        items.append(_item(p, "heard", start, m.end(), subject=subject, rules=rules))
        topic = topic or subject
    for name in ("approved_named", "approved_plain"):
        for m in rules.zh[name].finditer(mt, body):
            if in_list(m.start("doc")) or any(
                i.kind == "approved" and i.start <= m.start("doc") < i.end for i in items
            ):
                continue
            doc = p.text[m.start("doc") : m.end("doc")].strip("《》")
            doc = _LEADING_YEAR.sub("", doc)
            start = m.start() - 2 if mt[max(0, m.start() - 2) : m.start()] == "会议" else m.start()
            items.append(_item(p, "approved", start, m.end(), subject=doc, rules=rules))
            topic = topic or doc
    if not topic and (m2 := rules.zh["studied"].search(mt, body)):
        topic = p.text[m2.start("subject") : m2.end("subject")]
    for s_start, s_end in _spans(mt, _SENTENCE_END, body, len(mt)):
        items.extend(_sentence_items(p, mt, s_start, s_end, rules, meeting_date))
    out = [_with_topic(i, topic or agenda) for i in items]
    return sorted(out, key=lambda i: (i.start, i.end))


def _list_subject(text: str, li: Listed, mt: str) -> str:
    """A listed element's subject in the record's own script (the simplified form found it)."""
    at = mt.find(li.subject, li.start, li.end)
    subject = text[at : at + len(li.subject)] if at >= 0 else li.subject
    if li.kind == "approved":
        return _LEADING_YEAR.sub("", subject)
    return subject if "《" in mt[li.start : li.end] else _topic_of(subject)


def _sentence_items(p: ParagraphIn, mt: str, start: int, end: int, rules: Rules, when: date | None) -> Iterator[Item]:
    sentence = mt[start:end]
    if p.speaker and rules.zh["commit"].search(sentence):
        yield from _commitment(p, mt, start, end, rules, when)
        return
    decision = bool(rules.zh["decision_lead"].search(sentence))
    principle = bool(rules.zh["principle_lead"].search(sentence))
    found_any = False
    clause_end = rules.zh["clause_end"]
    for c_start, c_end in _spans(mt, clause_end, start, end):
        lead = rules.zh["lead_in"].match(mt, c_start)
        if lead:
            c_start = lead.end()
        for sub_start, sub_end, owner, due in _sub_items(mt, c_start, c_end, rules, when):
            if owner is None and due is None:
                if decision:
                    yield _item(p, "decision", sub_start, sub_end, rules=rules)
                    found_any = True
                continue
            kind = "decision" if decision else "task"
            yield _item(p, kind, sub_start, sub_end, owner=owner, due=due, rules=rules)
            found_any = True
    if principle and not found_any:
        lead = rules.zh["lead_in"].match(mt, start)
        body = lead.end() if lead else start
        m = rules.zh["principle"].search(mt, body, end)
        subject = p.text[m.start("subject") : m.end("subject")] if m else ""
        s, e = _trim(p.text, body, end)
        if e > s:
            yield _item(p, "principle", s, e, subject=subject, rules=rules)


def _commitment(p: ParagraphIn, mt: str, start: int, end: int, rules: Rules, when: date | None) -> Iterator[Item]:
    """A speaker's own commitment in a transcript turn, kept when it names a time or says who is responsible."""
    due, _ = _deadline(mt, start, end, rules, when)
    m = rules.zh["weekday"].search(mt, start, end)
    if due is None and m and (m.group("next") or m.group(0).endswith("前")):
        due = zh_weekday_due(m, when)
    if due is None and "来负责" not in mt[start:end]:  # no date: only an explicit "我来负责" takes a task on
        return
    yield _item(p, "commitment", start, end, owner=p.speaker, due=due, rules=rules)


def _sub_items(
    mt: str, start: int, end: int, rules: Rules, when: date | None
) -> Iterator[tuple[int, int, str | None, str | None]]:
    """Comma segments grouped into items: a segment with another deadline, or opening with another owner,
    starts a new item once the current one has its own (so "…于4月上旬开工,9月底前封顶" is two items, while
    "市民政局要…，于12月底前印发" stays one)."""
    cur_start: int | None = None
    cur_end = start
    owner: str | None = None
    due: str | None = None
    for s, e in _spans(mt, rules.zh["comma"], start, end):
        s, e = _trim(mt, s, e)
        if e <= s:
            continue
        seg_due, body = _deadline(mt, s, e, rules, when)
        seg_owner = _owner(mt, body, e, rules)
        new = cur_start is not None and (
            (seg_due is not None and due is not None) or (seg_owner is not None and (owner or due) is not None)
        )
        if new:
            assert cur_start is not None
            yield cur_start, cur_end, owner, due
            cur_start, owner, due = None, None, None
        if cur_start is None:
            cur_start = s
        cur_end = e
        owner = owner or seg_owner
        due = due or seg_due
    if cur_start is not None:
        yield cur_start, cur_end, owner, due


def _deadline(mt: str, s: int, e: int, rules: Rules, when: date | None) -> tuple[str | None, int]:
    """(the segment's first deadline, where its body starts after a leading one). A date before the meeting
    sets no deadline ("改造2000年底前建成的小区")."""
    first: tuple[int, int, str] | None = None
    for m in rules.zh["date"].finditer(mt, s, e):
        if not m.group(0):
            continue
        after = rules.zh["deadline_after"].match(mt, m.end())
        before = rules.zh["deadline_before"].search(mt[max(0, m.start() - 4) : m.start()])
        due = zh_due(m, when)
        d = parse_iso(due)
        if after and not (when and d and d < when):
            first = (m.start(), after.end(), due)
            break
        if before and when and not (d and d < when):
            first = (m.start(), m.end(), due)
            break
    for pattern in ("event_deadline", "within_year", "month_end", "quarter_end"):
        m2 = rules.zh[pattern].search(mt, s, e)
        if m2 and (first is None or m2.start() < first[0]):
            first = (m2.start(), m2.end(), _relative_due(pattern, m2, when))
    if first is None:
        return None, s
    return first[2], (first[1] if first[0] == s else s)


def _relative_due(pattern: str, m: re.Match[str], when: date | None) -> str:
    if pattern == "event_deadline":
        return m.group("event") + "前"
    if pattern == "within_year":
        return f"{when.year}-12-31" if when else m.group(0)
    return zh_month_end_due(m, when) if pattern == "month_end" else zh_quarter_due(m, when)


def _owner(mt: str, s: int, e: int, rules: Rules) -> str | None:
    m = rules.zh["owner_by"].search(mt, s, e)
    if m:
        return _clean_owner(m.group("owner"), rules, strict=False)
    m = rules.zh["owner_lead"].match(mt, s, e)
    return _clean_owner(m.group("owner"), rules, strict=True) if m else None


def _clean_owner(owner: str, rules: Rules, *, strict: bool) -> str | None:
    owner = re.sub(r"^[一二三四五六七八九十]+要", "", owner).strip(_TRIM)
    if not owner or owner in rules.generic_owners:
        return None
    if any(owner.startswith(g) for g in rules.generic_prefixes):
        return None
    head = _PAREN_TAIL.sub("", owner)
    if strict and not head.endswith(rules.owner_suffix):
        return None
    if rules.owner_stopchars.intersection(owner):
        return None
    return owner


def _spans(text: str, sep: re.Pattern[str], start: int, end: int) -> Iterator[tuple[int, int]]:
    pos = start
    for m in sep.finditer(text, start, end):
        yield pos, m.start()
        pos = m.end()
    if pos < end:
        yield pos, end


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s] in _TRIM:
        s += 1
    while e > s and text[e - 1] in _TRIM:
        e -= 1
    return s, e


def _topic_of(subject: str) -> str:
    for sep in ("关于", "關於"):
        if sep in subject:
            subject = subject.split(sep, 1)[1]
    return re.sub(r"(?:工作)?情况$", "", subject) or subject


def _item(
    p: ParagraphIn,
    kind: str,
    start: int,
    end: int,
    *,
    subject: str = "",
    owner: str | None = None,
    due: str | None = None,
    rules: Rules,
) -> Item:
    start, end = _trim(p.text, start, end)
    quote = p.text[start:end]
    figures = tuple(m.group(0) for m in rules.figures_zh.finditer(quote))
    if owner is not None:  # the owner in the record's own script
        at = match_form(quote).find(owner)
        owner = quote[at : at + len(owner)] if at >= 0 else owner
    return p.item(kind, start, end, subject=subject, owner=owner, due=due, figures=figures)


def _with_topic(item: Item, topic: str) -> Item:
    return replace(item, topic=topic, subject=item.subject or topic)
