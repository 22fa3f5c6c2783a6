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


def parse_time(text: str | None) -> str | None:
    """The first HH:MM time found in `text`, or None."""
    m = _TIME.search(text or "")
    return f"{int(m['h']):02d}:{m['m']}" if m else None
