"""Meeting series: meetings of the same body (and place) in date order, so "上次会议" / "the previous meeting"
can be resolved.

The body is read from the record's opening line ("…，中共鹭原市委召开常委会会议", "望澜县县长褚文远主持召开县政府
第21次常务会议"): the place named there (or, when the opening names none, the place the record names most) and
the meeting's kind with its number and "(扩大)" removed. Records without such a line (transcripts, minutes
in other forms) fall back to their title, which the loaders take from the file name with the date removed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from meeting_qa.minutes.rules import Rules
from meeting_qa.minutes.zh import match_form
from meeting_qa.types import Series, SeriesMeeting

_DIGITS = re.compile(r"[\d\s_\-]+")
_LEADING_TIME = re.compile(r"^[^，,。]{0,20}?(?:日|日前|上午|下午|晚上|近日)[，,]")


def series_key(title: str, opening: str, text: str, rules: Rules) -> str:
    """The series a meeting belongs to: "place|body" from the opening line, else its title without numbers."""
    conf = rules.series
    opening_s = _LEADING_TIME.sub("", match_form(opening))
    m = re.search(conf["convene"], opening_s)
    if m:
        convener, body = m.group("convener"), m.group("body")
        for word in conf["strip"]:
            convener, body = convener.replace(word, ""), body.replace(word, "")
        body = re.sub(conf["ordinal"], "", body)
        places = [p.group("place") for p in re.finditer(conf["place"], convener)]
        if not places:
            places = [p.group("place") for p in re.finditer(conf["place"], match_form(text))]
            places = [Counter(places).most_common(1)[0][0]] if places else []
        if places:
            place = places[-1]  # the most specific: "鹭原市云屏区" → 云屏区
            unit = convener.split(place, 1)[1] if place in convener else ""
            if re.search(conf["person_marker"], unit):  # "县长褚文远主持": a person convened, the body is enough
                unit = ""
            body = re.sub(r"会议$", "", body) or body
            return f"{place}|{unit}{body}"
    return _DIGITS.sub(" ", title.lower()).strip() or title


def build_series(
    meetings: Iterable[tuple[str, str | None, str, str]],
    rules: Rules,
    texts: dict[str, str],
    keys: dict[str, str] | None = None,
) -> list[Series]:
    """Series of meetings given as (meeting_id, date, title, opening paragraph); `texts` holds each meeting's
    full text (for the place a record names most); `keys` the series keys already read (meeting identity).
    Every meeting is in exactly one series."""
    groups: dict[str, list[SeriesMeeting]] = {}
    keys = keys or {}
    for mid, when, title, opening in meetings:
        key = keys.get(mid) or series_key(title, opening, texts.get(mid, opening), rules)
        groups.setdefault(key, []).append(SeriesMeeting(mid, when, title))
    return [
        Series(key, tuple(sorted(ms, key=lambda m: (m.date or "", m.meeting_id)))) for key, ms in sorted(groups.items())
    ]


def neighbour(series: Sequence[Series], meeting_id: str, step: int) -> SeriesMeeting | None:
    """The meeting `step` places away in its series (-1 previous, +1 next), or None."""
    for s in series:
        ids = [m.meeting_id for m in s.meetings]
        if meeting_id in ids:
            k = ids.index(meeting_id) + step
            return s.meetings[k] if 0 <= k < len(ids) else None
    return None
