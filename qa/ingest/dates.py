"""Reading the dates news articles carry into ISO 8601."""

from __future__ import annotations

import re
from datetime import date

MONTHS = {
    name: i
    for i, names in enumerate(
        [
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
        ],
        start=1,
    )
    for name in names
}
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
