"""What a meeting record says about itself: its title, place, body and date read from its own text
(the genre's opening sentence "2024年2月26日下午，望澜县县长褚文远主持召开县政府第21次常务会议…"), and its
speakers. Derived from stored paragraphs at query time, so no re-ingest is needed when this improves."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from meeting_qa.identity import Identity, read_identity
from meeting_qa.profile import Profile
from meeting_qa.store import StoredParagraph
from meeting_qa.text.crosslingual import Lexicon
from meeting_qa.text.fold import s2t, t2s
from meeting_qa.text.rules import HAN
from meeting_qa.text.tokenize import tokenize

_DATE_FULL = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
# Honorifics and titles in a speaker label are not the person's name.
_NOT_NAME = frozenset("mr ms mrs dr prof professor councillor councilor chair cllr sir madam am mp mla".split())


@dataclass(frozen=True)
class MeetingCard:
    meeting_id: str
    title: str  # the stored title (from the file name or the document)
    date: str | None
    heading: str  # the meeting's own name read from its text ("望澜县政府第21次常务会议"), or the title
    places: tuple[str, ...]  # place names the opening names, with and without their suffix (望澜县, 望澜)
    body_terms: tuple[str, ...]  # search tokens of the meeting's name (政府, 常务会议, 党组…)
    title_words: tuple[str, ...]  # lower-case words of an English title ("alder", "creek", "school")
    speakers: tuple[str, ...]
    english: bool  # the record is written in English
    identity: Identity | None = None

    @property
    def is_meeting(self) -> bool:
        """A meeting record by its shape (speaker turns, the genre's opening, minutes), dated or not; a
        reference text otherwise."""
        return self.identity.is_meeting if self.identity is not None else bool(self.date)

    @cached_property
    def speaker_names(self) -> dict[str, frozenset[str]]:
        """Each speaker's name words and role words (lower case), for questions that name a speaker."""
        out: dict[str, frozenset[str]] = {}
        for label in self.speakers:
            words = re.findall(r"[A-Za-z][A-Za-z'-]+|[" + HAN + r"]{2,4}", label)
            out[label] = frozenset(w.lower() for w in words if w.lower() not in _NOT_NAME)
        return out

    @property
    def label(self) -> str:
        """How an answer names the meeting: its own name (in the record's script) and date."""
        ident = self.identity
        return self.label_for("zh-Hant" if ident is not None and ident.traditional else "zh-Hans")

    def name_for(self, language: str) -> str:
        """The meeting's whole name (place, body, number) for an asker of `language` (zh-Hans, zh-Hant, en):
        a Chinese record's own name in the asker's script, or in English (pinyin place, translated body) for an
        English asker; an English record's title as it is."""
        ident = self.identity
        if ident is None or not ident.chinese or not ident.name:
            return self.heading
        if language == "en":
            # No English name (no place to spell): the record's own name in its own script.
            return ident.english or (s2t(ident.name) if ident.traditional else ident.name)
        return s2t(ident.name) if language == "zh-Hant" else ident.name

    def label_for(self, language: str) -> str:
        """The name and date as an answer, the meetings list and the items tab show them."""
        name = self.name_for(language)
        if not self.date:
            return name
        return f"{name} ({self.date})" if language == "en" else f"{name}（{self.date}）"


# Cards by meeting and content: a store change rebuilds the catalog, but only the meetings it changed are read
# again (the first question after an ingest pays for the new meetings, not for the whole store).
_CARDS: dict[tuple[object, ...], MeetingCard] = {}
_CARDS_KEPT = 200_000
_cards_lock = threading.Lock()


def read_card(
    meeting_id: str, paragraphs: Sequence[StoredParagraph], profile: Profile, lexicon: Lexicon | None = None
) -> MeetingCard:
    """A meeting's card from its stored paragraphs (in reading order); `lexicon` reads places in file names."""
    first = paragraphs[0] if paragraphs else None
    key = (
        meeting_id,
        first.title if first else "",
        first.date if first else None,
        lexicon is not None,
        id(profile),
        hash(tuple((p.paragraph.text, p.paragraph.speaker) for p in paragraphs)),
    )
    card = _CARDS.get(key)
    if card is None:
        card = _read_card(meeting_id, paragraphs, profile, lexicon)
        with _cards_lock:
            if len(_CARDS) >= _CARDS_KEPT:
                _CARDS.clear()
            _CARDS[key] = card
    return card


def _read_card(
    meeting_id: str, paragraphs: Sequence[StoredParagraph], profile: Profile, lexicon: Lexicon | None
) -> MeetingCard:
    first = paragraphs[0] if paragraphs else None
    title = first.title if first else meeting_id
    date = first.date if first else None
    speakers = tuple(dict.fromkeys(p.paragraph.speaker for p in paragraphs if p.paragraph.speaker))
    ident = read_identity(
        title or meeting_id, [p.paragraph.text for p in paragraphs], turns=bool(speakers), date=date, lexicon=lexicon
    )
    opening = t2s(first.paragraph.text) if first else ""  # the genre's patterns are written in simplified
    _, _, convenor = _heading(opening, profile)
    heading = ident.name
    english = bool(paragraphs) and _is_english(" ".join(p.paragraph.text for p in paragraphs[:5]))
    title_words = tuple(w.lower() for w in re.findall(r"[A-Za-z]{3,}", title))
    return MeetingCard(
        meeting_id=meeting_id,
        title=title,
        date=date,
        heading=heading or title,
        places=ident.places,
        body_terms=_body_terms(heading, ident.places, convenor),
        title_words=title_words,
        speakers=speakers,
        english=english,
        identity=ident,
    )


def _body_terms(heading: str, places: Sequence[str], convenor: str) -> tuple[str, ...]:
    """Search tokens of the meeting's name (政府, 常务会议, 党组…). Of the organ that convened it only the organ's
    own word counts (鹭原市委 → 市委, 市场监督管理局 → 管理局): the rest of its name (市场, 监督) is the topic
    of many a question about the meeting, not a name for it."""
    if not heading:
        return ()
    name = _without_places(heading, places)
    if convenor and convenor in name:
        before, _, after = name.partition(convenor)
        organ = tokenize(before + convenor)[-1:]
        return tuple(dict.fromkeys([*organ, *tokenize(after)]))
    return tuple(dict.fromkeys(tokenize(name)))


def _without_places(heading: str, places: Sequence[str]) -> str:
    """A meeting's name without the place name it starts with, its level kept (鹭原市委… → 市委…): the place is
    matched whole, as a place, while jieba would cut 鹭原市防汛… into 鹭 + 原市."""
    for place in sorted(places, key=len):
        if heading.startswith(place):
            return heading[len(place) :]
    return heading


def _is_english(text: str) -> bool:
    latin = len(re.findall(r"[A-Za-z]", text))
    han = len(re.findall(f"[{HAN}]", text))
    return latin > 3 * han


# An organ of the genre that convenes a meeting: a party committee (委), government, party group, command or
# bureau, named in at most ten characters.
_CONVENOR = re.compile(rf"[{HAN}]{{0,9}}(?:委|政府|党组|指挥部|委员会|领导小组|办公室|局)")


def _heading(opening: str, profile: Profile) -> tuple[str, tuple[str, ...], str]:
    """The meeting's name, the place names of its opening sentence and the organ that convened it."""
    sentence = re.split(r"[。!！?？]", opening, maxsplit=1)[0]
    suffix = profile.place_suffix
    # Places stand where the genre's opening puts them: after the date or "中共", before the body
    # ("2024年3月12日上午，中共鹭原市委…", "日前，鹭原市云屏区区长…"), possibly one after another.
    anchor = re.compile(rf"(?:^|中共|[上下]午[，,]?|日前[，,]?|日[，,]?)(?=[{HAN}]{{2,3}}(?:{suffix}))")
    one = re.compile(rf"([{HAN}]{{2,3}}?)({suffix})")
    places: list[str] = []
    ends: dict[str, int] = {}
    for m_anchor in anchor.finditer(sentence):
        pos = m_anchor.end()
        while (m_place := one.match(sentence, pos)) is not None:
            places.extend([m_place.group(0), m_place.group(1)])
            ends[m_place.group(0)] = pos = m_place.end()
    m = profile.title_pattern.search(sentence)
    if not m:
        return "", tuple(dict.fromkeys(places)), ""
    body = m.group("body").strip()
    # The organ that convenes, written between the place and 召开 ("中共鹭原市委召开常委会会议", "桐溪市市场监督
    # 管理局召开党组会议"), is part of the meeting's name: 鹭原市委常委会会议.
    convenor = next(
        (
            sentence[end : m.start()]
            for end in sorted(ends.values(), reverse=True)
            if end <= m.start() and _CONVENOR.fullmatch(sentence[end : m.start()])
        ),
        "",
    )
    named = [p for p in places if re.fullmatch(f"(?:{suffix})", p[-1:])]
    if convenor and not body.startswith(convenor):
        place = next((p for p, end in ends.items() if sentence[end : m.start()] == convenor), "")
        return place + convenor + body, tuple(dict.fromkeys(places)), convenor
    # The place whose level the body names (区政府 → 云屏区, not the city it belongs to); else the nearest.
    place = next((p for p in named if p[-1] == body[:1]), named[-1] if named else "")
    if place and not body.startswith(place) and place[:-1] not in body:
        # "望澜县" + "县政府第21次常务会议" share the suffix: 望澜县政府第21次常务会议.
        body = place + body[1:] if body[:1] == place[-1:] else place + body
    return body, tuple(dict.fromkeys(places)), ""


class Catalog:
    """Cards of every meeting in a store (built from the lexical index's paragraphs)."""

    def __init__(self, paragraphs: Iterable[StoredParagraph], profile: Profile, lexicon: Lexicon | None = None) -> None:
        by_meeting: dict[str, list[StoredParagraph]] = {}
        for sp in paragraphs:
            by_meeting.setdefault(sp.meeting_id, []).append(sp)
        self.cards = {
            mid: read_card(mid, sorted(ps, key=lambda p: p.paragraph.number), profile, lexicon)
            for mid, ps in by_meeting.items()
        }
        self._spellings: dict[str, list[str]] | None = None
        # Every place the records name (望澜县, 望澜): kept whole when a question is cut into words.
        self.places = frozenset(p for card in self.cards.values() for p in card.places)
        self.has_english = any(c.english for c in self.cards.values())
        self.names = NameIndex(self.cards.values(), profile.type_words)

    def place_spellings(self, lexicon: Lexicon) -> dict[str, list[str]]:
        """Toneless pinyin of every place the records name → those places (luyuan → 鹭原), built once."""
        if self._spellings is None:
            spelled: dict[str, list[str]] = {}
            # Each distinct place once, in the order the cards name them (an archive names few places often).
            for place in dict.fromkeys(p for card in self.cards.values() for p in card.places):
                for form in lexicon.pinyin_forms(place):
                    if place not in spelled.setdefault(form, []):
                        spelled[form].append(place)
            self._spellings = spelled
        return self._spellings

    def __getitem__(self, meeting_id: str) -> MeetingCard:
        return self.cards[meeting_id]

    def get(self, meeting_id: str) -> MeetingCard | None:
        return self.cards.get(meeting_id)

    @property
    def records(self) -> int:
        """How many meeting records the store holds (reference texts are the rest)."""
        return sum(1 for c in self.cards.values() if c.is_meeting)


class NameIndex:
    """What names each meeting, inverted (place → meetings, body word → meetings, English title word → meetings,
    month → meetings), so a question finds the meetings it names by looking up its own words instead of
    reading every card of the store (10,000 meetings: ~70 ms a question)."""

    GENERIC_TITLE_WORDS = frozenset({"meeting", "committee"})

    def __init__(self, cards: Iterable[MeetingCard], type_words: frozenset[str]) -> None:
        self.places: dict[str, list[str]] = {}
        self.body: dict[str, list[str]] = {}
        self.title_words: dict[str, list[str]] = {}  # English records only; a word as often as its title has it
        self.months: dict[int, list[str]] = {}
        for card in cards:
            mid = card.meeting_id
            for place in dict.fromkeys(p for p in card.places if len(p) >= 2):
                self.places.setdefault(place, []).append(mid)
            for term in dict.fromkeys(card.body_terms):
                if len(term) >= 2 and term not in card.places and term not in type_words:
                    self.body.setdefault(term, []).append(mid)
            if card.english:
                for word in card.title_words:
                    if word not in self.GENERIC_TITLE_WORDS:
                        self.title_words.setdefault(word, []).append(mid)
            if (month := month_of(card.date)) is not None:
                self.months.setdefault(month, []).append(mid)


def month_of(date: str | None) -> int | None:
    """The month of an ISO date (YYYY-MM-…); None for no date or another form."""
    iso = re.match(r"\d{4}-(\d{2})", date or "")
    month = int(iso.group(1)) if iso else 0
    return month if 1 <= month <= 12 else None


def states_date(folded_text: str, date: str | None) -> bool:
    """Whether a text states this ISO date (2022-05-06 as 5月6日, 2022年5月6日 or 2022-05-06)."""
    if not date:
        return False
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", date)
    if m is None:
        return False
    month, day = int(m[2]), int(m[3])
    return date in folded_text or re.search(rf"(?<!\d){month}月{day}日", folded_text) is not None
