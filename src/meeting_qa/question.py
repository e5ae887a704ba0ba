"""One frozen `Question` per question: language, kinds, weighted concepts and search terms, translations,
and the meetings and speakers it names. Built once; retrieval and every answerer read it."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Protocol

from meeting_qa.meetings import Catalog, MeetingCard, month_of
from meeting_qa.profile import Profile
from meeting_qa.text.crosslingual import Lexicon, Translation
from meeting_qa.text.fold import Language, detect_language, fold
from meeting_qa.text.rules import ENGLISH_STOP_WORDS, HAN, base_forms
from meeting_qa.text.tokenize import is_word, tokenize, word_class, words_with_parts

_ENGLISH_WORD = re.compile(r"[a-z][a-z0-9-]*(?:'(?!s\b)[a-z]+)?")
_MONTHS = "january february march april may june july august september october november december".split()
ENGLISH_ABSENT_SCALE = 0.5
# Parts of speech (jieba's dictionary tags) that never name a question's topic: adverbs, numerals and
# measure words, pronouns, prepositions, conjunctions, particles, localisers (还有, 历次, 一步, 几座, 上).
FUNCTION_CLASSES = ("d", "m", "q", "r", "p", "c", "u", "f", "y", "e", "o")
# Verbs, adjectives and time words may carry the question but do not name a topic a record must mention
# to answer it (目前, 下辖, 原有, 增加): their absence from a record is no sign the record is silent.
NON_TOPIC_CLASSES = ("v", "a", "t", "z")


class TermStats(Protocol):
    """What question analysis needs from the lexical index."""

    def idf(self, term: str) -> float: ...
    def substring_idf(self, term: str) -> float: ...
    @property
    def max_idf(self) -> float: ...


class TextView:
    """A folded text with its search tokens. Two-character terms must be whole tokens (本地产业 does not
    mention 地产); longer terms may also match as substrings (jieba may cut question and record apart
    differently); English terms match by lemma (casings ~ casing ~ case)."""

    def __init__(self, folded: str, tokens: set[str] | None = None) -> None:
        self.folded = folded
        self.tokens = tokens if tokens is not None else set(tokenize(folded, folded=True))

    @cached_property
    def is_english(self) -> bool:
        latin = sum(1 for ch in self.folded[:2000] if "a" <= ch <= "z")
        han = len(re.findall(f"[{HAN}]", self.folded[:2000]))
        return latin > 3 * han

    @cached_property
    def english(self) -> frozenset[str]:
        return frozenset(form for t in self.tokens if t.isascii() for form in base_forms(t))

    def mentions(self, term: str) -> bool:
        if term.isascii():
            if " " in term:
                return term in self.folded
            return term in self.tokens or any(form in self.english for form in base_forms(term))
        return term in self.tokens or (len(term) >= 3 and term in self.folded)


@dataclass(frozen=True)
class Concept:
    """One thing the question asks about: alternative spellings (jieba sub-words, translations either way)
    and a weight. A concept absent from every record weighs the most: that is what makes abstention work."""

    alternatives: tuple[str, ...]
    weight: float
    absent: bool = False  # found in no record at all
    core: bool = True  # names a topic (not an answer-type word like 原则/要求, not a loose translation)
    english_only: bool = False  # an English word with no translation: says nothing about a Chinese text
    names_meeting: bool = False  # names the meeting (its place, body, title): chooses the meeting, not a sentence
    loose: bool = False  # a proper name (a place): matches inside longer words (望澜 in 望澜县)
    place: bool = False  # the place a named meeting was held (not a topic even when it names the meeting)
    frame: bool = False  # a word of the genre that frames the question (主持, 牵头, 审议, 要求): says which sentence

    def applies_to(self, text: TextView) -> bool:
        return not self.english_only or text.is_english

    def covered_by(self, text: TextView) -> bool:
        if self.loose:
            return any(a in text.folded if not a.isascii() else text.mentions(a) for a in self.alternatives)
        return any(text.mentions(a) for a in self.alternatives)

    def held_by(self, text: TextView) -> bool:
        """Stricter than `covered_by`: the word whole (or a translation, a synonym), or else all of its parts —
        安全生产 covers 食品安全 through its part 安全, it does not hold it."""
        head, others = self.alternatives[0], self.alternatives[1:]
        parts = [a for a in others if a != head and a in head]
        whole = [head, *(a for a in others if a not in parts)]
        return any(text.mentions(a) for a in whole) or (bool(parts) and all(text.mentions(a) for a in parts))


def coverage(concepts: Sequence[Concept], text: TextView, *, within_meeting: bool = False) -> float:
    """Weighted share of the question's concepts that a text mentions. `within_meeting`: the text is part of
    the meeting the question names, so the words that name that meeting say nothing about which part."""
    relevant = [c for c in concepts if c.applies_to(text)]
    if within_meeting and any(not c.names_meeting for c in relevant):
        inner = [c for c in relevant if not c.names_meeting]
        # "鹤原市历次防汛会议…": when every topic word also names the meeting (防汛 in 防汛工作专题会议), the
        # topic still tells its paragraphs apart; only the place does not.
        relevant = inner if any(c.core for c in inner) else [c for c in relevant if not c.place]
    total = sum(c.weight for c in relevant)
    if total <= 0:
        return 0.0
    return sum(c.weight for c in relevant if c.covered_by(text)) / total


@dataclass(frozen=True)
class Question:
    text: str
    folded: str
    language: Language
    kinds: frozenset[str]
    concepts: tuple[Concept, ...]
    terms: tuple[tuple[str, float], ...]  # weighted search terms for the lexical index
    translations: tuple[Translation, ...]
    names: frozenset[str]  # English words written as names (RCEP, Kestrel, Luyuan), lower case
    meetings: tuple[tuple[str, float], ...]  # meetings the question names, with how clearly (0..1)
    speakers: tuple[tuple[str, str], ...]  # (meeting_id, speaker label) the question names
    about_meeting: bool  # refers to "the meeting" itself
    which_meeting: bool  # asks which meeting(s)
    across: bool  # spans meetings ("历次会议", "which meetings", "各地")
    latest: bool  # asks for a value as it stands now ("latest", "现在定在")
    search_text: str = ""  # what the dense search embeds: the folded text without a clause setting a named meeting

    @property
    def term_weights(self) -> dict[str, float]:
        return dict(self.terms)

    @property
    def named_meetings(self) -> dict[str, float]:
        return dict(self.meetings)


def names_in(question: str) -> set[str]:
    """English words a question writes as names (RCEP, COVID-19, 5G, a capitalised word after the first),
    lower-cased like folded text."""
    words = re.findall(r"[A-Za-z0-9][A-Za-z0-9+-]*", question)
    return {
        w.lower()
        for i, w in enumerate(words)
        if any(ch.isdigit() for ch in w) or any(ch.isupper() for ch in w[1:]) or (i > 0 and w[0].isupper())
    }


def analyze(
    text: str,
    *,
    stats: TermStats,
    profile: Profile,
    lexicon: Lexicon | None = None,
    catalog: Catalog | None = None,
) -> Question:
    """Everything meeting-qa needs to know about a question, computed once."""
    folded = fold(text)
    language = detect_language(text)
    kinds = profile.question_kinds(folded)
    translated = tuple(lexicon.translate(text)) if (lexicon is not None and language == "en") else ()
    names = frozenset(names_in(text))
    has_english_records = catalog is not None and catalog.has_english
    places = catalog.places if catalog is not None else frozenset()
    concepts = _concepts(folded, language, translated, names, stats, profile, lexicon, has_english_records, places)
    spelled_places = _place_concepts(names, lexicon, catalog, stats)
    concepts = concepts + spelled_places
    terms = _terms(folded, kinds, concepts, translated, stats, profile)
    spelled = {c.alternatives[0] for c in spelled_places}  # Chinese places the question spells in pinyin
    meetings = _named_meetings(folded, spelled, terms, catalog)
    if meetings and catalog is not None:
        concepts, terms = _mark_meeting_names(folded, concepts, terms, [catalog[m] for m in meetings], profile)
    speakers = _named_speakers(folded, catalog, dict(meetings))
    return Question(
        text=text,
        folded=folded,
        language=language,
        kinds=kinds,
        concepts=tuple(concepts),
        terms=tuple(terms.items()),
        translations=translated,
        names=names,
        meetings=tuple(sorted(meetings.items())),
        speakers=tuple(speakers),
        about_meeting=profile.meeting_reference.search(folded) is not None,
        which_meeting=profile.which_meeting.search(folded) is not None,
        across=profile.across_meetings.search(folded) is not None,
        latest=profile.latest_value.search(folded) is not None,
        search_text=_search_text(folded, bool(meetings), profile),
    )


def _search_text(folded: str, names_meeting: bool, profile: Profile) -> str:
    """The question as the dense search reads it: without its opening clause that sets the meeting ("In the
    Kestrel remote design meeting, …") when that clause names a meeting of the store — it chose the meeting
    already, and inside it would only favour the turn or paragraph that names the meeting."""
    if not names_meeting:
        return folded
    rest = profile.meeting_setting.sub("", folded, count=1).strip()
    return rest if len(rest) >= 4 else folded


def _weight(alternatives: Sequence[str], stats: TermStats) -> tuple[float, bool]:
    idfs = [stats.idf(a) if (len(a) < 3 and not a.isascii()) else stats.substring_idf(a) for a in alternatives]
    ceiling = stats.max_idf
    idfs = [i if i > 0 else ceiling for i in idfs]
    present = [i for i in idfs if i < ceiling]
    return (max(present) if present else ceiling), not present


def _concepts(
    folded: str,
    language: Language,
    translated: Sequence[Translation],
    names: frozenset[str],
    stats: TermStats,
    profile: Profile,
    lexicon: Lexicon | None,
    english_records: bool,
    places: frozenset[str] = frozenset(),
) -> list[Concept]:
    concepts: list[Concept] = []

    def add(
        alternatives: Sequence[str],
        scale: float = 1.0,
        absent_scale: float = 1.0,
        core: bool = True,
        english_only: bool = False,
        frame: bool = False,
    ) -> None:
        alts = tuple(dict.fromkeys(a for a in alternatives if a))
        if not alts or any(c.alternatives == alts for c in concepts):
            return
        weight, absent = _weight(alts, stats)
        weight = scale * (absent_scale * weight if absent else weight)
        # Only words of two or more characters name a topic; a stray single character proves nothing.
        core = core and scale == 1.0 and len(alts[0]) >= 2
        concepts.append(Concept(alts, weight, absent=absent, core=core, english_only=english_only, frame=frame))

    if language == "en":
        covered: set[str] = set()
        for tr in translated:
            # One concept per English word or phrase: the English words themselves (English records) and
            # their Chinese translations (Chinese records). A dictionary sense absent from the records may be
            # the wrong sense; a glossary translation is trusted like a Chinese word.
            covered.update(tr.english)
            english = [" ".join(tr.english)] if len(tr.english) > 1 else list(tr.english)
            add(
                [*english, *tr.heads],
                scale=min(1.0, tr.weight),
                absent_scale=1.0 if tr.curated else ENGLISH_ABSENT_SCALE,
                core=tr.curated and not tr.framing,
                frame=tr.framing,
            )
        for word in _ENGLISH_WORD.findall(folded):
            if word in covered or word in profile.framing_en or word in ENGLISH_STOP_WORDS or len(word) < 3:
                continue
            if "-" in word and all(part in covered for part in word.split("-")):
                continue  # a hyphenated compound translated as the phrase it spells
            # Words the dictionary does not know (names: Kestrel, Calloway) speak for themselves.
            add([word], english_only=True)
        return concepts
    for word, parts in words_with_parts(folded, profile.question_words, keep=places):
        frame = _type_word(word, profile.type_words)
        scale = profile.type_word_weight if frame else 1.0
        if scale == 1.0 and not is_word(word) and stats.substring_idf(word) >= stats.max_idf:
            # A piece the segmenter cut across words ("哪天开的" → 天开) and no record contains: not a topic.
            scale = profile.type_word_weight
        tag = word_class(word)
        if scale == 1.0 and tag.startswith(FUNCTION_CLASSES):
            scale = profile.type_word_weight
        english = lexicon.english_for(word) if (lexicon is not None and english_records and not word.isascii()) else []
        add(
            [word, *parts, *profile.synonyms.get(word, ()), *english],
            scale,
            core=not tag.startswith(NON_TOPIC_CLASSES) or tag.startswith("vn"),
            frame=frame,
        )
    return concepts


def _type_word(word: str, type_words: frozenset[str]) -> bool:
    """An answer-type word, alone or after one measure character (哪份文件 → 份文件, 几项措施 → 项措施)."""
    return word in type_words or (len(word) >= 3 and word[1:] in type_words)


def _place_concepts(
    names: frozenset[str],
    lexicon: Lexicon | None,
    catalog: Catalog | None,
    stats: TermStats,
) -> list[Concept]:
    """English spellings of Chinese place names (Luyuan → 鹭原) join the concept of that name."""
    if lexicon is None or catalog is None or not names:
        return []
    spelled = catalog.place_spellings(lexicon)
    out: list[Concept] = []
    for name in names:
        for place in spelled.get(name.replace("-", ""), ()):
            weight, absent = _weight([place], stats)
            out.append(Concept((place, name), weight, absent=absent, loose=True, place=True))
    return out


def _terms(
    folded: str,
    kinds: frozenset[str],
    concepts: Sequence[Concept],
    translated: Sequence[Translation],
    stats: TermStats,
    profile: Profile,
) -> dict[str, float]:
    """Weighted search terms: the question's own tokens, translations either way, place spellings, and the
    words that mark the kind of answer it wants."""
    terms: dict[str, float] = {}
    for kind in kinds:
        for term in profile.kind_terms.get(kind, ()):
            if stats.idf(term) > 0:
                terms[term] = profile.fusion.kind_terms
    for token, count in Counter(tokenize(folded, folded=True)).items():
        # Interrogatives say nothing; answer-type words ("which principles") say little.
        if token not in profile.question_words and token not in ENGLISH_STOP_WORDS:
            weight = profile.type_word_weight if (token in profile.type_words or token in profile.framing_en) else 1.0
            terms[token] = count * weight
    for tr in translated:
        present: list[str] = []
        for head in tr.heads:
            # A headword the index does not hold as one token may still match through its parts.
            present.extend(
                [head] if stats.idf(head) > 0 else [t for t in tokenize(head, folded=True) if stats.idf(t) > 0]
            )
        for term in dict.fromkeys(present):
            terms[term] = terms.get(term, 0.0) + tr.weight / len(set(present))
    for concept in concepts:
        extra = [a for a in concept.alternatives if a not in terms and stats.idf(a) > 0]
        for a in extra:
            # Translations of a Chinese question (English records) and place spellings share the concept's say.
            terms[a] = terms.get(a, 0.0) + (1.0 if concept.core else 0.25) / len(extra)
    return terms


def _named_meetings(
    folded: str,
    spelled: set[str],
    terms: Mapping[str, float],
    catalog: Catalog | None,
) -> dict[str, float]:
    """Meetings the question names by place, body, month or title words — 0..1, relative to the best."""
    if catalog is None or len(catalog.cards) < 2:
        return {}
    words = set(_ENGLISH_WORD.findall(folded))
    tokens = set(tokenize(folded, folded=True)) | set(terms)
    names = catalog.names
    scores: dict[str, float] = {}
    for place, mids in names.places.items():
        if place in folded or place in spelled:
            for mid in mids:  # a meeting once per place it names
                scores[mid] = 0.6
    title_hits: dict[str, int] = {}
    for word in words & names.title_words.keys():
        for mid in names.title_words[word]:
            title_hits[mid] = title_hits.get(mid, 0) + 1
    for mid, hits in title_hits.items():
        scores[mid] = scores.get(mid, 0.0) + min(0.6, 0.3 * hits)
    body = {mid for term in tokens & names.body.keys() for mid in names.body[term]}
    for mid in body:
        scores[mid] = scores.get(mid, 0.0) + 0.25
    for month in _months_in(folded):
        for mid in names.months.get(month, ()):
            scores[mid] = scores.get(mid, 0.0) + 0.15
    best = max(scores.values(), default=0.0)
    if best < 0.3:  # a body word alone ("常委会") does not name one meeting
        return {}
    return {mid: s / best for mid, s in scores.items() if s >= 0.5 * best}


def _months_in(folded: str) -> set[int]:
    """The months a question names: "3月", "March"."""
    words = set(_ENGLISH_WORD.findall(folded))
    named = {i + 1 for i, m in enumerate(_MONTHS) if m in words}
    return named | {int(m) for m in re.findall(r"(?<!\d)(\d{1,2})月", folded)}


def _mark_meeting_names(
    folded: str,
    concepts: Sequence[Concept],
    terms: Mapping[str, float],
    cards: Sequence[MeetingCard],
    profile: Profile,
) -> tuple[list[Concept], dict[str, float]]:
    """Concepts and terms that name the meeting (鹭原, 常委会, Harbourgate, "3月" for a meeting held in March)
    pick the meeting, which the fusion does through its named-meeting weight; inside it they would favour the
    opening paragraph that names it."""
    names: set[str] = set()
    places: set[str] = set()
    words = set(_ENGLISH_WORD.findall(folded))
    months = _months_in(folded)
    for card in cards:
        places.update(card.places)
        names.update(card.places)
        names.update(t for t in card.body_terms if len(t) >= 2 and t not in profile.type_words)
        # An English record's title words name it, in the question's words or through a Chinese word's gloss
        # (委员会 → committee: "Harbourgate Transport Committee"); a Chinese record's title words come from its
        # file name and name it only where the question writes them ("the Tingyang city government meeting"),
        # not where a gloss happens to spell one (全市 → city).
        names.update(w for w in card.title_words if card.english or w in words)
        if (month := month_of(card.date)) in months:
            names.update({str(month), "月", f"{month}月", _MONTHS[month - 1]})
    marked = [
        replace(c, names_meeting=True, loose=True, place=any(a in places for a in c.alternatives))
        if any(a in names for a in c.alternatives)
        else c
        for c in concepts
    ]
    weighted = {t: (w * profile.type_word_weight if t in names else w) for t, w in terms.items()}
    return marked, weighted


def _named_speakers(folded: str, catalog: Catalog | None, named: Mapping[str, float]) -> list[tuple[str, str]]:
    """Speakers of the (named) meetings whose name or role the question uses."""
    if catalog is None:
        return []
    words = set(re.findall(rf"[a-z][a-z'-]+|[{HAN}]{{2,4}}", folded))
    out: list[tuple[str, str]] = []
    for card in catalog.cards.values():
        if not card.speakers or (named and card.meeting_id not in named):
            continue
        for label, label_words in card.speaker_names.items():
            if any(len(w) >= 3 and w in words and w not in card.title_words for w in label_words):
                out.append((card.meeting_id, label))
    return out
