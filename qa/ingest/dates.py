"""Reading the dates news articles carry into ISO 8601."""

from __future__ import annotations

import re
from datetime import date, timedelta

_MONTH_LIST = [
    ("january", "jan"),
    ("february", "feb"),
    ("march", "mar"),
    ("april", "apr"),
    ("may",),
    ("june", "jun"),
    ("july", "jul"),
    ("august", "aug"),
    ("september", "sep", "sept"),
    ("october", "oct"),
    ("november", "nov"),
    ("december", "dec"),
]
MONTHS = {name: i for i, names in enumerate(_MONTH_LIST, start=1) for name in names}
_MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
_PATTERNS = [
    re.compile(r"(?P<year>\d{4})-(?P<mnum>\d{1,2})-(?P<day>\d{1,2})"),
    re.compile(rf"(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH},?\s+(?P<year>\d{{4}})"),
    re.compile(rf"{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})"),
    re.compile(r"(?P<year>\d{4})/(?P<mnum>\d{1,2})/(?P<day>\d{1,2})"),
]
# A weekday written before a date ("Friday, January 4, 2019") belongs to it.
_WEEKDAY_BEFORE = re.compile(r"(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?\.?,?\s+$", re.I)
_TIME = re.compile(r"\b(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)\b")


def parse_date(text: str | None) -> str | None:
    """The first calendar date found in `text` as YYYY-MM-DD, or None."""
    if not text:
        return None
    for pattern in _PATTERNS:
        for m in pattern.finditer(text):
            parts = m.groupdict()
            month = int(parts["mnum"]) if parts.get("mnum") else MONTHS.get(parts["month"].lower())
            if not month:
                continue
            try:
                return date(int(parts["year"]), month, int(parts["day"])).isoformat()
            except ValueError:
                continue
    return None


def find_dates(text: str) -> list[tuple[int, int, str]]:
    """Every calendar date written in `text` as (start, end, YYYY-MM-DD), in text order; a weekday
    written just before a date is part of its span."""
    found: list[tuple[int, int, str]] = []
    for pattern in _PATTERNS:
        for m in pattern.finditer(text):
            start, end, iso = m.start(), m.end(), parse_date(m.group())
            inside_a_word = start > 0 and text[start - 1].isalnum()
            if iso is None or inside_a_word or any(s < end and start < e for s, e, _ in found):
                continue
            weekday = _WEEKDAY_BEFORE.search(text, max(0, start - 12), start)
            if weekday and (weekday.start() == 0 or not text[weekday.start() - 1].isalnum()):
                start = weekday.start()
            found.append((start, end, iso))
    return sorted(found)


def parse_time(text: str | None) -> str | None:
    """The first HH:MM time found in `text`, or None."""
    m = _TIME.search(text or "")
    return f"{int(m['h']):02d}:{m['m']}" if m else None


_MONTH_NAMES = [names[0].capitalize() for names in _MONTH_LIST]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Days written relative to the day an article was published. A bare weekday in news means the last one
# on or before publication ("on Monday" in a Wednesday's report); "next" and "last" are said of weeks.
_RELATIVE = re.compile(
    r"\b(?P<word>today|yesterday|tomorrow|tonight"
    r"|(?:(?P<which>last|next|this) )?(?P<weekday>monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
    r"|(?P<span>last|next|this) (?P<unit>week|month|year))\b",
    re.I,
)


def relative_dates(text: str, published: str | None) -> list[tuple[int, int, str]]:
    """Days written relative to publication in `text` ("on Monday", "yesterday", "last week") as
    (start, end, what they stand for), resolved against `published` (YYYY-MM-DD): a day is YYYY-MM-DD,
    a week "week of YYYY-MM-DD" (its Monday), a month YYYY-MM, a year YYYY. Empty without a publication date."""
    try:
        day = date.fromisoformat(published or "")
    except ValueError:
        return []
    written = find_dates(text)
    found = []
    for m in _RELATIVE.finditer(text):
        # A weekday written as part of a date ("Monday, 31 December 2018") is dated already.
        if any(s <= m.start() < e for s, e, _ in written):
            continue
        word = (m["word"] or "").lower()
        if word in ("today", "tonight"):
            iso = day.isoformat()
        elif word in ("yesterday", "tomorrow"):
            iso = (day + timedelta(days=-1 if word == "yesterday" else 1)).isoformat()
        elif m["weekday"]:
            target = WEEKDAYS.index(m["weekday"].lower())
            which = (m["which"] or "").lower()
            if which == "next":
                iso = (day + timedelta(days=(target - day.weekday() - 1) % 7 + 1)).isoformat()
            else:
                back = (day.weekday() - target) % 7
                iso = (day - timedelta(days=back + (7 if which == "last" and back == 0 else 0))).isoformat()
        else:
            step = {"last": -1, "this": 0, "next": 1}[m["span"].lower()]
            unit = m["unit"].lower()
            if unit == "week":
                monday = day - timedelta(days=day.weekday()) + timedelta(weeks=step)
                iso = f"week of {monday.isoformat()}"
            elif unit == "month":
                months = day.year * 12 + day.month - 1 + step
                iso = f"{months // 12:04d}-{months % 12 + 1:02d}"
            else:
                iso = str(day.year + step)
        found.append((m.start(), m.end(), iso))
    return found


def spoken_date(iso: str) -> str:
    """A resolved date as a reader writes it: "31 December 2018", "week of 24 December 2018", "December 2018"."""
    prefix = ""
    if iso.startswith("week of "):
        prefix, iso = "week of ", iso[len("week of ") :]
    parts = iso.split("-")
    if len(parts) == 3:
        return f"{prefix}{int(parts[2])} {_MONTH_NAMES[int(parts[1]) - 1]} {parts[0]}"
    if len(parts) == 2:
        return f"{_MONTH_NAMES[int(parts[1]) - 1]} {parts[0]}"
    return iso
