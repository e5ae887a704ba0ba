"""Follow-up detection as data and rules, without an LLM: the cues of profile/conversation.toml, the words
that name a question's own topic (as the user wrote them), whether a question points back, and the note an
answer opens with. `meeting_qa.conversation` decides with these what a question inherits."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from itertools import pairwise

from meeting_qa.profile import Profile
from meeting_qa.question import FUNCTION_CLASSES, Concept, Question, TextView
from meeting_qa.text.fold import Language, to_script
from meeting_qa.text.tokenize import is_word, tokenize, word_class, words_with_parts


@dataclass(frozen=True)
class Cues:
    anaphors_zh: frozenset[str]
    persons_zh: frozenset[str]
    anaphors_en: re.Pattern[str]
    persons_en: re.Pattern[str]
    ellipsis: re.Pattern[str]
    previous: re.Pattern[str]
    meeting_facts: re.Pattern[str]
    interrogatives: tuple[str, ...]
    max_topic_words: int


@lru_cache(maxsize=1)
def cues() -> Cues:
    """The shipped cues (package data)."""
    data = tomllib.loads(files("meeting_qa.profile").joinpath("conversation.toml").read_text(encoding="utf-8"))["cues"]
    return Cues(
        anaphors_zh=frozenset(data["anaphors_zh"].split()),
        persons_zh=frozenset(data["persons_zh"].split()),
        anaphors_en=re.compile(data["anaphors_en"]),
        persons_en=re.compile(data["persons_en"]),
        ellipsis=re.compile(data["ellipsis"]),
        previous=re.compile(data["previous"]),
        meeting_facts=re.compile(data["meeting_facts"]),
        interrogatives=tuple(data["interrogatives"].split()),
        max_topic_words=int(data["max_topic_words"]),
    )


def topic_concepts(q: Question, limit: int) -> list[Concept]:
    """The concepts that name what the question is about (not the meeting, not the kind of answer), less the
    noun an anaphor governs ("该项目": 项目 is the thing pointed back at, not a new topic)."""
    pointed = _pointed_at(q)
    own = [
        c
        for c in q.concepts
        if c.core
        and not c.names_meeting
        and not c.frame
        and not c.place
        and c.alternatives[0] not in pointed
        and _names_a_topic(c.alternatives[0])
    ]
    own.sort(key=lambda c: -c.weight)
    return own[:limit]


def _names_a_topic(word: str) -> bool:
    """A word that can be a topic: not a number, not a piece the segmenter cut across words (提了, 前要, 巷有:
    two characters the dictionary does not know as a word, one a particle, localiser, verb or the like) nor
    one holding an interrogative (由谁来)."""
    if len(word) < 2 or word.replace(".", "").isdigit():
        return False
    if word.isascii():
        return True
    if any(i in word for i in cues().interrogatives):
        return False
    if is_word(word) or len(word) >= 3:
        return True
    return not any(word_class(ch).startswith(FUNCTION_CLASSES) or word_class(ch) == "v" for ch in word)


def _pointed_at(q: Question) -> set[str]:
    """Words right after an anaphor that determines them ("这个方案", "that plan")."""
    c = cues()
    out: set[str] = set()
    words = [w for w, _ in words_with_parts(q.folded)]
    for a, b in pairwise(words):
        if a in c.anaphors_zh and a not in c.persons_zh:
            out.add(b)
    for m in re.finditer(r"\b(?:this|that|these|those|the same|its|their)\s+([a-z][a-z-]+)", q.folded):
        out.add(m.group(1))
    return out


def topic_phrases(q: Question, concepts: Sequence[Concept], profile: Profile) -> list[tuple[str, ...]]:
    """The topic as the user wrote it: a Chinese topic word joined with the content words around it (老旧 +
    小区 + 改造 → 老旧小区改造), then any English spellings; heaviest first."""
    if q.language == "en" or not concepts:
        return [c.alternatives for c in concepts]
    heads = {c.alternatives[0]: c for c in concepts}
    naming = {a for c in q.concepts if c.names_meeting or c.frame for a in c.alternatives}
    spans: list[tuple[int, int, str]] = []
    at = 0
    for word, _ in words_with_parts(q.folded, profile.question_words):
        start = q.folded.find(word, at)
        if start < 0:
            continue
        at = start + len(word)
        content = _names_a_topic(word) and word not in naming and word not in profile.type_words
        if word in heads or (content and word_class(word)[:1] in ("n", "v", "a", "")):
            spans.append((start, at, word))
    phrases: list[tuple[float, tuple[str, ...]]] = []
    run: list[tuple[int, int, str]] = []
    for span in [*spans, (-1, -1, "")]:
        if run and span[0] != run[-1][1]:
            members = [heads[w] for _, _, w in run if w in heads]
            if members:
                english = [next((a for a in c.alternatives if a.isascii()), "") for c in members]
                phrase = q.folded[run[0][0] : run[-1][1]]
                english_phrase = " ".join(e for e in english if e)
                alts = (phrase, *dict.fromkeys(a for c in members for a in c.alternatives if a != phrase))
                alts = (phrase, english_phrase, *alts[1:]) if english_phrase else alts
                phrases.append((sum(c.weight for c in members), tuple(dict.fromkeys(alts))))
            run = []
        if span[2]:
            run.append(span)
    phrases.sort(key=lambda p: -p[0])
    return [p for _, p in phrases]


def has_anaphor(q: Question) -> bool:
    c = cues()
    return bool(set(tokenize(q.folded, folded=True)) & c.anaphors_zh) or bool(c.anaphors_en.search(q.folded))


def points_at_person(q: Question) -> bool:
    c = cues()
    return bool(set(tokenize(q.folded, folded=True)) & c.persons_zh) or bool(c.persons_en.search(q.folded))


def spelled(alternatives: Sequence[str], language: Language) -> str:
    """A topic word as a question in `language` would write it (English when it has an English spelling)."""
    want_ascii = language == "en"
    for a in alternatives:
        if a.isascii() == want_ascii:
            return a
    return alternatives[0]


def aspect_of(own: Sequence[tuple[str, ...]], topic: Sequence[tuple[str, ...]], views: Sequence[TextView]) -> bool:
    """Whether the question's own words ask about a side of the inherited topic ("那投资多少？" after the
    renovation project): most paragraphs of the meeting in focus that hold them hold the topic too. Otherwise
    they name another subject of the same meeting (an opening paragraph listing every subject is one
    voice among several), and the old topic would only pull the search away from it."""
    holding = [v for v in views if all(any(v.mentions(a) for a in alts) for alts in own)]
    with_topic = [v for v in holding if any(v.mentions(a) for alts in topic for a in alts)]
    return 2 * len(with_topic) > len(holding)


def carry_note(language: Language, labels: Sequence[str], topic: Sequence[str], reason: str) -> str:
    """The answer's prefix saying what it took from the conversation, in the question's language and script."""
    if language == "en":
        what = "; ".join(x for x in (", ".join(labels), ", ".join(topic)) if x)
        lead = "the meeting before" if reason == "previous" else "following on"
        return f"({lead}: {what}) "
    lead = "上一次会议" if reason == "previous" else "接上题"
    note = f"（{lead}：{'，'.join(x for x in ('、'.join(labels), '、'.join(topic)) if x)}）"
    return to_script(note, language)
