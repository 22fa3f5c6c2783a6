"""RSS and Atom feeds: one document per entry, with its title, date, link, author and content (feedparser)."""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from qa.ingest.documents import LoadReport, clean_text, html_to_text
from qa.records import Document


def _date(entry) -> str | None:  # noqa: ANN001 (feedparser's dict)
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            # feedparser gives UTC struct_time; round-trip through a timestamp to get a calendar date.
            return time.strftime("%Y-%m-%d", time.gmtime(calendar.timegm(value)))
    return None


def _content(entry) -> str:  # noqa: ANN001
    # Full content beats the summary; both are usually HTML fragments.
    for item in entry.get("content") or []:
        value = item.get("value") or ""
        if value.strip():
            return value
    return entry.get("summary") or entry.get("description") or ""


def feed_documents(raw: bytes, path: str | Path, doc_id: str, report: LoadReport) -> Iterator[Document]:
    """The entries of an RSS or Atom feed as Documents with ids `FILE#entry-id`; a file that is no feed,
    a feed without entries or an entry without text is recorded in `report`."""
    import feedparser

    parsed = feedparser.parse(raw)
    if not parsed.entries:
        if parsed.version:
            report.skip(path, "feed has no entries")
        elif parsed.bozo:
            report.skip(path, f"not a readable RSS or Atom feed ({str(parsed.bozo_exception).splitlines()[0]})")
        else:
            report.skip(path, "not an RSS or Atom feed")
        return
    feed = parsed.feed
    site = feed.get("title")
    feed_link = feed.get("link")
    seen: set[str] = set()
    for n, entry in enumerate(parsed.entries, start=1):
        key = entry.get("id") or entry.get("link") or str(n)
        entry_id = f"{doc_id}#{key}" if key not in seen else f"{doc_id}#{n}"
        seen.add(key)
        text = clean_text(html_to_text(_content(entry)))
        title = " ".join((entry.get("title") or "").split())
        if not text.strip():
            if not title:
                report.skip(f"{path}#{n}", "entry has no title and no text")
                continue
            # A headline-only entry still says something, and its link leads to the article.
            text = title
        link = entry.get("link") or None
        hostname = urlsplit(link or feed_link or "").hostname
        meta = {
            k: v
            for k, v in {
                "author": entry.get("author"),
                "site": site,
                "hostname": hostname[4:] if hostname and hostname.startswith("www.") else hostname,
                "language": parsed.feed.get("language"),
                "feed": str(path),
            }.items()
            if v
        }
        yield Document(
            id=entry_id,
            title=title or text.split("\n", 1)[0][:120],
            text=text,
            source=site or meta.get("hostname"),
            published=_date(entry),
            url=link,
            meta=meta,
        )
