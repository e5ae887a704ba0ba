"""The item markers of profile/items.toml, compiled once, and deadline resolution against a meeting's date."""

from __future__ import annotations

import calendar
import re
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from meeting_qa.text.fold import t2s

PROFILE = Path(__file__).resolve().parents[1] / "profile" / "items.toml"
_MONTHS = ("january february march april may june july august september october november december").split()
_WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
_ORDINAL = r"(?P<day>\d{1,2})(?:st|nd|rd|th)"


@dataclass(frozen=True)
class Rules:
    zh: dict[str, re.Pattern[str]]
    owner_suffix: tuple[str, ...]
    generic_owners: frozenset[str]
    generic_prefixes: tuple[str, ...]
    owner_stopchars: frozenset[str]
    figures_zh: re.Pattern[str]
    figures_en: re.Pattern[str]
    en: dict[str, re.Pattern[str]]
    en_date: re.Pattern[str]  # a calendar date or weekday ("Monday the 17th", "the 4th of April", "June 10th")
    en_month_event: re.Pattern[str]  # "the September hearing", "the October meeting"
    not_names: frozenset[str]
    series: dict[str, Any]


@lru_cache(maxsize=4)
def load_rules(path: Path = PROFILE) -> Rules:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    zh_raw = data["zh"]
    zh = {k: re.compile(v) for k, v in zh_raw.items() if isinstance(v, str)}
    en_raw = data["en"]
    flags = re.IGNORECASE
    en = {
        k: re.compile(v, 0 if k in {"vocative", "assign"} else flags) for k, v in en_raw.items() if isinstance(v, str)
    }
    wd, mo = en_raw["weekday"], en_raw["month"]
    en_date = re.compile(
        rf"(?:(?P<wd>{wd})(?:,?\s+the\s+{_ORDINAL}(?:\s+of\s+(?P<mo1>{mo}))?)?"
        rf"|(?:the\s+)?{_ORDINAL.replace('day', 'day2')}(?:\s+of\s+(?P<mo2>{mo}))?"
        rf"|(?P<mo3>{mo})\s+(?P<day3>\d{{1,2}})(?:st|nd|rd|th)?"
        rf"|(?P<day4>\d{{1,2}})\s+(?P<mo4>{mo}))\b",
    )
    month_event = re.compile(rf"\bthe\s+(?P<mo>{mo})\s+(?:meeting|hearing|session|board)\b", re.IGNORECASE)
    return Rules(
        zh=zh,
        owner_suffix=tuple(zh_raw["owner_suffix"]),
        generic_owners=frozenset(t2s(g) for g in zh_raw["generic_owners"]),
        generic_prefixes=tuple(t2s(g) for g in zh_raw["generic_prefixes"]),
        owner_stopchars=frozenset(zh_raw["owner_stopchars"]),
        figures_zh=re.compile(data["figures"]["zh"]),
        figures_en=re.compile(data["figures"]["en"], re.IGNORECASE),
        en=en,
        en_date=en_date,
        en_month_event=month_event,
        not_names=frozenset(en_raw["not_names"]),
        series=data["series"],
    )


def parse_iso(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def zh_due(m: re.Match[str], meeting_date: date | None) -> str:
    """ISO date of a Chinese date match (`Rules.zh['date']`) when the meeting's date anchors it, else its text.

    A date with no year takes the meeting's year (a month already well past rolls into the next year);
    "…底/末" is the month's last day, "年底/年内" the year's; 上旬/中旬/下旬 stay text (the record is vague)."""
    text = m.group(0)
    year: int | None = int(m.group("year")) if m.group("year") else None
    rel = m.group("rel")
    if year is None and meeting_date is not None:
        year = meeting_date.year + (1 if rel == "明年" else 0)
    if m.group("yend") or (rel == "年内" and not m.group("month")):
        return f"{year:04d}-12-31" if year else text
    if year is None or not m.group("month"):
        return text
    month = int(m.group("month"))
    part = m.group("part")
    if not 1 <= month <= 12 or part in {"上旬", "中旬", "下旬"}:
        return text
    if (
        not m.group("year")
        and rel is None
        and meeting_date is not None
        and month < meeting_date.month - 1  # a month long past: next year's
    ):
        year += 1
    day = int(m.group("day")) if m.group("day") else calendar.monthrange(year, month)[1]
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return text


def en_due(text: str, meeting_date: date | None, rules: Rules) -> str | None:
    """The first deadline said in an English sentence: ISO when the meeting's date resolves it, else text."""
    best: tuple[int, str] | None = None
    for m in rules.en_date.finditer(text):
        resolved = _resolve_en(m, meeting_date)
        if resolved:
            best = (m.start(), resolved)
            break
    rel = rules.en["relative_day"].search(text)
    if rel and (best is None or rel.start() < best[0]):
        word = rel.group(0).lower()
        if meeting_date is None or word == "next week":
            best = (rel.start(), word)
        elif "month" in word:
            last = calendar.monthrange(meeting_date.year, meeting_date.month)[1]
            best = (rel.start(), meeting_date.replace(day=last).isoformat())
        else:
            best = (rel.start(), (meeting_date + timedelta(days=1 if "tomorrow" in word else 0)).isoformat())
    ev = rules.en_month_event.search(text)
    if ev and (best is None or ev.start() < best[0]):
        best = (ev.start(), ev.group(0)[4:])
    return best[1] if best else None


def _resolve_en(m: re.Match[str], meeting_date: date | None) -> str | None:
    month_name = m.group("mo1") or m.group("mo2") or m.group("mo3") or m.group("mo4")
    day_s = m.group("day") or m.group("day2") or m.group("day3") or m.group("day4")
    weekday = m.group("wd")
    if day_s is None and weekday is None:
        return None
    if meeting_date is None:
        return m.group(0)
    if day_s is None:  # a bare weekday: the next one after the meeting
        ahead = (_WEEKDAYS.index(weekday.lower()) - meeting_date.weekday() - 1) % 7 + 1
        return (meeting_date + timedelta(days=ahead)).isoformat()
    day = int(day_s)
    year, month = meeting_date.year, meeting_date.month
    if month_name:
        month = _MONTHS.index(month_name.lower()) + 1
        if month < meeting_date.month - 1:
            year += 1
    elif day < meeting_date.day:  # "the 9th" said on the 19th: next month's
        month = month % 12 + 1
        year += month == 1
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


_ZH_WEEKDAYS = "一二三四五六日"


def zh_weekday_due(m: re.Match[str], meeting_date: date | None) -> str:
    """ "周五前" said at a meeting: the next such weekday after it ("下周五": the one in the following week)."""
    if meeting_date is None:
        return m.group(0)
    wd = _ZH_WEEKDAYS.index(m.group("wd").replace("天", "日"))
    ahead = (wd - meeting_date.weekday() - 1) % 7 + 1
    if m.group("next"):
        ahead = wd - meeting_date.weekday() + 7
    return (meeting_date + timedelta(days=ahead)).isoformat()


def zh_month_end_due(m: re.Match[str], meeting_date: date | None) -> str:
    """ "本月底前" / "下月底前": the last day of the meeting's (or the next) month."""
    if meeting_date is None:
        return m.group(0)
    year, month = meeting_date.year, meeting_date.month
    if m.group("which") == "下":
        year, month = year + (month == 12), month % 12 + 1
    return date(year, month, calendar.monthrange(year, month)[1]).isoformat()


def zh_quarter_due(m: re.Match[str], meeting_date: date | None) -> str:
    """ "二季度末前": the quarter's last day in the meeting's year."""
    if meeting_date is None:
        return m.group(0)
    q = "一二三四".find(m.group("q")) + 1 or int(m.group("q"))
    month = 3 * q
    return date(meeting_date.year, month, calendar.monthrange(meeting_date.year, month)[1]).isoformat()
