"""The article inside a web page: main text without menus, banners and teasers, plus its metadata (trafilatura)."""

from __future__ import annotations

import logging
import re
import warnings
from urllib.parse import urlsplit

from qa.ingest.dates import parse_date
from qa.records import Document

log = logging.getLogger(__name__)
# trafilatura logs its own view of odd markup ("discarding data: None"); the load report says what matters
# to the user, once per file.
logging.getLogger("trafilatura").setLevel(logging.ERROR)
logging.getLogger("htmldate").setLevel(logging.ERROR)

# <html lang="en-GB"> or <meta http-equiv="content-language" content="en">: trafilatura leaves language unset
# unless it runs a language detector, and the page usually says it.
_HTML_LANG = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*)", re.I)
_META_LANG = re.compile(
    r"<meta\b[^>]*?http-equiv\s*=\s*[\"']?content-language[\"']?[^>]*?content\s*=\s*[\"']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*)",
    re.I,
)


def page_language(raw: str) -> str | None:
    """The language a page declares (`<html lang>` or a content-language meta tag), lower-cased, or None."""
    head = raw[:20000]
    m = _HTML_LANG.search(head) or _META_LANG.search(head)
    return m.group(1).replace("_", "-").lower() if m else None


def _paragraphs(text: str) -> str:
    # trafilatura ends each block with one newline; the project's text keeps paragraphs apart with a blank line,
    # which the sentence splitter and chunker treat as a hard break.
    lines = (" ".join(line.split()) for line in text.replace("\r", "\n").split("\n"))
    return "\n\n".join(line for line in lines if line)


def extract_article(raw: str, doc_id: str, url: str | None = None) -> Document | None:
    """The page's article as a Document (text with paragraph breaks; title, date, author, site, URL, language),
    or None when no article text is found. `url`, when the page was fetched, is kept if the page names none."""
    import trafilatura

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = trafilatura.bare_extraction(
                raw, url=url, with_metadata=True, include_comments=False, include_images=False
            )
        except Exception as exc:  # trafilatura and lxml raise many types on hostile markup; the caller falls back
            log.debug("trafilatura failed on %s: %s", doc_id, exc)
            return None
    if result is None or not (result.text or "").strip():
        return None
    text = _paragraphs(result.text)
    if not text:
        return None
    canonical = result.url or url
    hostname = result.hostname or (urlsplit(canonical).hostname if canonical else None)
    meta = {
        k: v
        for k, v in {
            "author": result.author,
            "site": result.sitename,
            "hostname": hostname,
            "language": page_language(raw),
            "description": result.description,
            "extractor": "trafilatura",
        }.items()
        if v
    }
    title = " ".join((result.title or "").split()) or text.split("\n", 1)[0][:120]
    return Document(
        id=doc_id,
        title=title,
        text=text,
        # The site's own name when it gives one, else its host: the value the source filter matches.
        source=result.sitename or hostname,
        published=parse_date(result.date),
        url=canonical,
        meta=meta,
    )
