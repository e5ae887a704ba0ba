"""Which meeting a record is, and what it is called, from every source a real archive offers.

The record's own words come first: the meeting's name in its opening sentence or title line
("7月18日上午，市委常委会会议召开", "…市长陈飞主持召开市政府第60次常务会议", "石家莊市政協召開十二屆十二次常委會議"),
and the place its title line, opening, dateline or source line states ("来源：石家庄日报", "中国菏泽网消息"). The file
name only fills what the text lacks: a Chinese name is read like a title line (`石家庄市委常委会2023-02-21.docx`),
an ASCII pinyin slug or an English name through the place names of the shipped CC-CEDICT (shijiazhuang → 石家庄市,
wugang → 舞钢市 or 武冈市, whichever the record mentions). A place named only after a document the meeting
discussed (《烟台市…方案》) comes last: the genre names documents after the city above as often as after itself.

A record is a meeting by its shape — speaker turns, the genre's opening, a report's "会议听取/研究/审议…"
sentences, minutes' headings — not by a date in its file name; what is left is a reference text.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from meeting_qa.text.crosslingual import Lexicon
from meeting_qa.text.fold import t2s
from meeting_qa.text.rules import HAN

PROFILE = Path(__file__).resolve().parent / "profile" / "identity.toml"
_SUFFIX = "省市县区州盟旗镇乡"
_HAN = re.compile(f"[{HAN}]")
_LATIN = re.compile(r"[A-Za-z]")
# Characters that never occur in a place name of the genre's openings: ordinals (二届市委, 第37次), function words.
_NOT_IN_PLACE = set("届次第了的在和与及对为是将要把等全各本我该其召开主持会议关于听取研究审议常委书记")


@dataclass(frozen=True)
class Identity:
    is_meeting: bool
    chinese: bool  # the record is written in Chinese
    traditional: bool  # …in traditional characters
    name: str  # the meeting's name in simplified Chinese, its place included (舞钢市委常委会会议), or ""
    name_stated: bool  # the name was read from the record's own text (not its file name)
    place: str  # the meeting's place, full name in simplified (石家庄市), or ""
    place_stated: bool  # the record states its place itself (title line, opening, dateline, source line)
    places: tuple[str, ...]  # every place that names the meeting, full and without suffix (石家庄市, 石家庄)
    english: str  # its English name for English askers (place in pinyin, body translated), or ""

    @property
    def series_key(self) -> str | None:
        """ "place|body" when the record states both about itself; None otherwise (no key is guessed)."""
        if not (self.name_stated and self.place_stated and self.place):
            return None
        return f"{self.place}|{body_kind(self.name, self.place)}"


@lru_cache(maxsize=1)
def _profile() -> dict[str, Any]:
    return tomllib.loads(PROFILE.read_text(encoding="utf-8"))


def _rx(name: str) -> re.Pattern[str]:
    return _compiled()[name]


@lru_cache(maxsize=1)
def _compiled() -> dict[str, re.Pattern[str]]:
    return {k: re.compile(v) for k, v in _profile()["patterns"].items()}


def read_identity(
    title: str,
    texts: Sequence[str],
    *,
    turns: bool,
    date: str | None,
    lexicon: Lexicon | None = None,
) -> Identity:
    """A record's identity from its paragraphs (`texts`, reading order), its stored title (the file name without
    its date) and whether its paragraphs are speaker turns."""
    # Read once per meeting and store state (cards are kept per content, meetings.py): the opening paragraphs
    # only, the whole text just when the opening states no place.
    head = [t2s(t[:400]) for t in texts[:4]]
    sample = " ".join(texts[:8])[:2000]
    han = len(_HAN.findall(sample))
    chinese = han > 0 and han * 3 >= len(_LATIN.findall(sample))
    traditional = chinese and t2s(sample) != sample
    # A transcript's turns are speech: a meeting named in them is often another one ("上次的幾次專家會議").
    name, stated_places = _name_in_text(head) if chinese and not turns else ("", [])
    # Of several places stated ("鹭原市云屏区区长…主持召开区政府…"), the one whose level the name has (区政府 → 云屏区).
    level = [p for p in stated_places if p[-1:] == name[:1]]
    place, place_stated = ((level or stated_places)[0], True) if stated_places else ("", False)
    whole = t2s("\n".join(texts)) if chinese and (not place or place[-1] not in _SUFFIX) else ""
    if chinese and not place:
        place = _place_from_file(title, whole, bool(name), lexicon)
        if place and name[:1] and name[:1] in _SUFFIX and name[:1] != place[-1] and place not in whole:
            # The dictionary's level is not the record's (香格里拉县 became 香格里拉市): the record's own name wins.
            place = place[:-1] + name[:1]
    if chinese and not place:
        place = _place_from_documents(whole)
    if place and place[-1] not in _SUFFIX:
        # A source line's outlet ("阜城宣传") names the place without its level: the text gives it (阜城县).
        # Else the level the meeting's own name starts with (菏泽 + 市委常委会会议 → 菏泽市).
        full = re.search(f"{re.escape(place)}[{_SUFFIX}]", whole)
        name_level = name[:1] if name[:1] in _SUFFIX else ""
        place = full.group(0) if full else place + name_level
    name_stated = bool(name)
    if chinese and not name:
        han_title = t2s(title) if re.search(f"[{HAN}]", title) else ""
        name = han_title if _rx("meeting_word").search(han_title) else ""
    if name and place:
        name = _with_place(name, place)
    places = _forms(place, stated_places)
    is_meeting = turns or name_stated or _reads_as_meeting(texts, chinese, date)
    english = _english(name, place, lexicon) if chinese and name else ""
    return Identity(is_meeting, chinese, traditional, name, name_stated, place, place_stated, places, english)


# -- the meeting's name in its own text ---------------------------------------------------------------------


def _name_in_text(paragraphs: Sequence[str]) -> tuple[str, list[str]]:
    """The meeting's name from the first title line or opening sentence that states it, and the places the
    title line, opening and source line state (most specific last is not assumed: first stated first)."""
    name = ""
    places: list[str] = []
    for text in paragraphs[:4]:
        for sentence in re.split(r"(?<=[。！？!?])", text)[:2]:
            if not name:
                found = _meeting_name(sentence)
                if found:
                    name = found
                    places.extend(_leading_places(found))
                    places.extend(_anchored_places(sentence))
            places.extend(_source_places(sentence))
        if _is_title_line(text):
            places.extend(_leading_places(text))
    return name, list(dict.fromkeys(places))


def _meeting_name(sentence: str) -> str:
    """The name of the meeting a sentence says was held: "X会议召开/举行" or "(organ)召开/举行X会议"."""
    if "召开" not in sentence and "举行" not in sentence:
        return ""
    for clause in re.split(r"[，,；;]", sentence):
        clause = _rx("lead").sub("", clause.strip())
        m = _rx("held").match(clause)
        if m:
            return _clean_name(m.group("name"))
        m = _rx("convened").search(clause)
        if m and not m.group("body").startswith(("的", "了")):
            organ = _rx("time_words").sub("", m.group("by") or "")
            organ = re.sub(r"^(?:[一二三四五六七八九十\d]+届)", "", organ)
            if organ.endswith("会议"):  # a meeting holding one of its sessions: the meeting is the name
                return _clean_name(organ)
            if organ and _rx("organ").search(organ) and not organ.endswith(m.group("body")):
                return _clean_name(organ + m.group("body"))
            return _clean_name(m.group("body"))
    return ""


def _clean_name(name: str) -> str:
    # "中共鹭原市委" is the party committee of 鹭原市: the genre's own short name is 鹭原市委.
    name = re.sub(r"^中共", "", re.sub(r"\s+", "", name).strip("，,。 "))
    # "首届会议在里约热内卢举行" (an article on a summit) names no particular meeting: an ordinal or a
    # demonstrative with 会议 alone is no meeting's name.
    return "" if _GENERIC_NAME.fullmatch(name) else name


_GENERIC_NAME = re.compile(r"(?:首届|首次|第[一二三四五六七八九十百\d]+[届次]|本次|此次|这次|该次|那次|上次|下次)?会议")


def _is_title_line(text: str) -> bool:
    """A page's headline: short, no sentence or clause punctuation."""
    return len(text) <= 80 and not re.search(r"[。！？，,；;]", text)


def is_header(text: str) -> bool:
    """A page's title line, dateline or source line: the record's header, not a statement of its meeting."""
    return _is_title_line(text) or bool(_rx("dateline").search(t2s(text)) and len(text) <= 120)


def _place_ok(base: str) -> bool:
    return 2 <= len(base) <= 4 and not (set(base) & _NOT_IN_PLACE) and not base.startswith("中共")


def _leading_places(text: str) -> list[str]:
    """A place that opens a title line or a meeting's name: "石家莊市委召開…", "中共临河区第十四届委员会…"."""
    m = re.match(rf"^\s*(?:中共)?([{HAN}]{{2,4}}?)([{_SUFFIX}])", t2s(text))
    return [m.group(1) + m.group(2)] if m and _place_ok(m.group(1)) else []


def _anchored_places(sentence: str) -> list[str]:
    """Places where the genre's opening puts them: after its date or 中共 ("7月18日，石家庄市人大常委会…")."""
    out = []
    one = re.compile(rf"([{HAN}]{{2,4}}?)([{_SUFFIX}])")
    for m in _rx("anchored_place").finditer(sentence):
        if not _place_ok(m.group("base")):
            continue
        out.append(m.group("base") + m.group("suffix"))
        pos = m.end()
        # One place after another, the larger first ("东江市北湖区区长…").
        while (more := one.match(sentence, pos)) is not None and _place_ok(more.group(1)):
            out.append(more.group(0))
            pos = more.end()
    return out


def _source_places(sentence: str) -> list[str]:
    """The place of a source line or dateline: "来源：石家庄日报", "中国菏泽网消息", "图片来源:明光市新闻中心"."""
    out = []
    for m in _rx("source_place").finditer(sentence):
        if _place_ok(m.group("base")):
            out.append(m.group("base") + (m.group("suffix") or ""))
    return out


# -- the file name, then documents ------------------------------------------------------------------------


def _place_from_file(title: str, text: str, opening: bool, lexicon: Lexicon | None) -> str:
    """The place a file name gives: a Chinese name is read like a title line; pinyin or English words through
    the dictionary's place names — for a record whose text never names a place, only when it is a report of
    the genre (a transcript's file name is often the topic: "salt-potassium40") or mentions the place."""
    if re.search(f"[{HAN}]", title):
        found = _leading_places(title)
        return found[0] if found else ""
    if lexicon is None:
        return ""
    words = re.findall(r"[A-Za-z]+", title)
    for n in (3, 2, 1):
        for i in range(len(words) - n + 1):
            candidates = lexicon.places_named("".join(words[i : i + n]))
            if not candidates:
                continue
            mentioned = [c for c in candidates if c[:-1] in text]
            if mentioned:
                return mentioned[0]
            if opening:
                return candidates[0]
    return ""


def _place_from_documents(text: str) -> str:
    """The place the record's documents are named after (《汀阳市城镇老旧小区改造三年行动方案》), most often named."""
    found = [
        m.group(1) + m.group(2)
        for m in re.finditer(rf"《([{HAN}]{{2,3}}?)([{_SUFFIX}])", text)
        if _place_ok(m.group(1)) and not m.group(1).startswith(("关于", "中华", "中国"))
    ]
    return max(set(found), key=found.count) if found else ""


def _forms(place: str, stated: Sequence[str]) -> tuple[str, ...]:
    out: list[str] = []
    for p in (place, *stated):
        if not p:
            continue
        out.append(p)
        if p[-1] in _SUFFIX and len(p) > 2:
            out.append(p[:-1])
    return tuple(dict.fromkeys(out))


def _with_place(name: str, place: str) -> str:
    """The meeting's name with its place: 市委常委会会议 at 舞钢市 → 舞钢市委常委会会议 (the name's own level kept)."""
    base = place[:-1] if place[-1] in _SUFFIX and len(place) > 2 else place
    if base in name:
        return name
    if name[:1] in _SUFFIX:
        return base + name
    return place + name


def body_kind(name: str, place: str) -> str:
    """A meeting's body and kind without place, number or session (鹭原市委常委会第5次会议 → 市委常委会)."""
    base = place[:-1] if place and place[-1] in _SUFFIX and len(place) > 2 else place
    body = name.split(base, 1)[1] if base and base in name else name
    body = re.sub(r"^中共", "", body)
    body = _rx("ordinal").sub("", body)
    body = re.sub(r"[（(]扩大[)）]", "", body)
    body = re.sub(r"会议$", "", body) or body
    return body


# -- whether it is a meeting ------------------------------------------------------------------------------


def _reads_as_meeting(texts: Sequence[str], chinese: bool, date: str | None) -> bool:
    """A report's "会议听取/研究/审议…" sentences, minutes' structure (Present:, Agenda, Action items, motion
    carried), or a dated record that speaks of its meeting."""
    sample = "\n".join(texts[:40])[:20000]
    if chinese:
        folded = t2s(sample)
        return bool(_rx("report_verbs").search(folded)) or bool(date and _rx("meeting_word").search(folded))
    hits = {m.group(0).lower() for m in _rx("minutes").finditer(sample)}
    return len(hits) >= 2 or bool(date and re.search(r"\bmeeting\b", sample, re.IGNORECASE))


# -- English names ----------------------------------------------------------------------------------------


def _english(name: str, place: str, lexicon: Lexicon | None) -> str:
    """ "Shijiazhuang Party Standing Committee meeting": the place in pinyin, the body translated by the genre's
    table (profile/identity.toml), the meeting's number kept."""
    if lexicon is None or not place:
        return ""
    body = name.split(place[:-1], 1)[1] if place[:-1] and place[:-1] in name else name
    parts: list[str] = []
    rest = body
    for zh, en in _profile()["english"]["organs"]:
        if zh in rest:
            parts.append(en)
            rest = rest.replace(zh, " ", 1)
            break
    kind = next((en for zh, en in _profile()["english"]["kinds"] if zh in rest), "meeting")
    number = re.search(r"第([\d零〇一二三四五六七八九十百]+)次", body)
    label = " ".join([lexicon.place_english(place), *parts, kind])
    if number:
        label += f" no. {_number(number.group(1))}"
    return label


def _number(text: str) -> str:
    if text.isdigit():
        return text
    digits = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0}
    total, current = 0, 0
    for ch in text:
        if ch in digits:
            current = digits[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
    return str(total + current)
