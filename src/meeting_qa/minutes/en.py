"""Items of meeting transcripts (one speaker turn a paragraph): commitments with their owner and due date, and
the decisions a chair states.

A commitment is either said in the first person with a date ("I'll send you the breakdown by Friday"), or
assigned — a request or a named assignment ("Tomasz, can you get quotes by Monday the 17th?", "Clara, the
related work section by the 24th.") — whose owner is the person addressed, with the date taken from the
request or from that person's reply ("Give me till Monday.").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from meeting_qa.minutes.paragraph import ParagraphIn
from meeting_qa.minutes.rules import Rules, en_due
from meeting_qa.types import Item

# Sentence ends, not the dot of a title ("Dr. Halvorsen", "Mr. Tiernan").
_SENTENCE = re.compile(r"(?<!\bDr\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bMrs\.)(?<!\bSt\.)(?<=[.?!])\s+")
_TITLE_PAREN = re.compile(r"\s*\([^)]*\)\s*$")
_REPLY_SENTENCES = 4  # a reply's answer comes first; later sentences move on to other business
# A turn whose label the loader did not take apart ("[10:04:54] Dr. Ines Halvorsen (Director of …): …").
_LABEL = re.compile(r"^\s*(?:\[\d{1,2}:\d{2}(?::\d{2})?\]\s*)?(?P<label>[A-Z][^:\n]{1,80}?):\s+")


def sentences(text: str, pos: int = 0) -> list[tuple[int, int]]:
    out = []
    for m in _SENTENCE.finditer(text, pos):
        out.append((pos, m.start()))
        pos = m.end()
    if pos < len(text):
        out.append((pos, len(text)))
    return [(s, e) for s, e in out if e > s]


def owner_name(label: str) -> str:
    """A speaker label without its role: "Dr. Ines Halvorsen (Director of Transit Planning)" → "Dr. Ines Halvorsen"."""
    return _TITLE_PAREN.sub("", label).strip()


def with_speakers(paragraphs: Sequence[ParagraphIn]) -> list[tuple[ParagraphIn, int]]:
    """Each turn with its speaker and where its speech starts (after a label left in the text)."""
    out = []
    for p in paragraphs:
        if p.speaker is None and (m := _LABEL.match(p.text)):
            out.append((replace(p, speaker=m.group("label")), m.end()))
        else:
            out.append((p, 0))
    return out


def extract_transcript(turns: Sequence[ParagraphIn], rules: Rules, meeting_date: date | None) -> list[Item]:
    labelled = with_speakers(turns)
    paragraphs = [p for p, _ in labelled]
    speakers = sorted({p.speaker for p in paragraphs if p.speaker})
    items: list[Item] = []
    handled_replies: set[int] = set()  # turns whose commitment an assignment item already stands for
    for i, p in enumerate(paragraphs):
        addressee: str | None = None
        for s, e in sentences(p.text, labelled[i][1]):
            sentence = p.text[s:e]
            named = _vocative(sentence, speakers, p.speaker, rules)
            addressee = named or addressee
            due = en_due(sentence, meeting_date, rules)
            if rules.en["decision"].search(sentence):
                items.append(_item(p, "decision", s, e, rules=rules))
                continue
            if rules.en["commit"].search(sentence) and due and i not in handled_replies:
                items.append(_item(p, "commitment", s, e, owner=_owner_of(p), due=due, rules=rules))
                continue
            assigned = _assigned(sentence, due, speakers, rules)
            if assigned is not None:
                items.append(_item(p, "commitment", s, e, owner=assigned, due=due, rules=rules))
                continue
            cond = rules.en["condition"].search(sentence) if named and not due else None
            if named and (due or cond):
                reply = _reply(paragraphs, i, named)
                if reply is not None:
                    handled_replies.add(reply)
                due = due or (cond.group(0) if cond else None)
                items.append(_item(p, "commitment", s, e, owner=owner_name(named), due=due, rules=rules))
                continue
            if not rules.en["request"].search(sentence):
                continue
            reply = _reply(paragraphs, i, addressee)
            if reply is None:
                continue
            answer = _answer(paragraphs[reply], rules, meeting_date, speakers)
            if answer is None:  # neither a date nor an acceptance: a question, not an assignment
                continue
            reply_due, reply_commits = answer
            if reply_commits and not due:  # the reply's own "I'll … by …" is the better evidence
                continue
            handled_replies.add(reply)
            owner = _owner_of(paragraphs[reply])
            items.append(_item(p, "commitment", s, e, owner=owner, due=due or reply_due, rules=rules))
    return items


def _assigned(sentence: str, due: str | None, speakers: list[str], rules: Rules) -> str | None:
    """The owner an action line names ("Action: Sam to send …", "Priya will circulate it by the 14th"), when it
    has a date or is marked as an action; a participant's name resolves to their label."""
    m = rules.en["assign"].match(sentence)
    if m is None or m.group("name").split()[0] in rules.not_names:
        return None
    if not due and not rules.en["action_prefix"].match(sentence):
        return None
    name = m.group("name")
    last = name.split()[-1]
    for label in speakers:
        if last in owner_name(label).split():
            return owner_name(label)
    return name


def _owner_of(p: ParagraphIn) -> str | None:
    return owner_name(p.speaker) if p.speaker else None


def _vocative(sentence: str, speakers: list[str], current: str | None, rules: Rules) -> str | None:
    """The participant a sentence opens by addressing ("And Dr. Halvorsen, could you…"), if any."""
    for m in rules.en["vocative"].finditer(sentence[:40]):
        last = m.group("name").split()[-1]
        for label in speakers:
            if label != current and last in owner_name(label).split():
                return label
    return None


def _reply(paragraphs: Sequence[ParagraphIn], i: int, addressee: str | None) -> int | None:
    """The turn answering turn i: the addressee's next turn within two, else the next other speaker's."""
    speaker = paragraphs[i].speaker
    for j in range(i + 1, min(i + 3, len(paragraphs))):
        other = paragraphs[j].speaker
        if other == speaker:
            continue
        if addressee is None or other == addressee:
            return j
    return None


def _answer(
    reply: ParagraphIn, rules: Rules, meeting_date: date | None, speakers: list[str]
) -> tuple[str | None, bool] | None:
    """(the date the reply gives, whether it commits in its own words "I'll … by …"), or None when the reply
    neither gives a date nor accepts ("Yes, Chair.", "Will do.")."""
    due: str | None = None
    commits = False
    accepted = False
    body = _LABEL.match(reply.text) if reply.speaker and reply.text.startswith(("[", reply.speaker)) else None
    for k, (s, e) in enumerate(sentences(reply.text, body.end() if body else 0)[:_REPLY_SENTENCES]):
        sentence = reply.text[s:e]
        if _vocative(sentence, speakers, reply.speaker, rules) or rules.en["request"].search(sentence):
            break  # the reply has moved on to someone else
        d = en_due(sentence, meeting_date, rules)
        due = due or d
        commits = commits or bool(d and rules.en["commit"].search(sentence))
        accepted = accepted or (k == 0 and bool(rules.en["accept"].search(sentence)))
    if due is None and not accepted:
        return None
    return due, commits


def _item(
    p: ParagraphIn,
    kind: str,
    start: int,
    end: int,
    *,
    rules: Rules,
    owner: str | None = None,
    due: str | None = None,
) -> Item:
    figures = tuple(m.group(0) for m in rules.figures_en.finditer(p.text, start, end))
    return p.item(kind, start, end, owner=owner, due=due, figures=figures)
