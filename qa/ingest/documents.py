"""Loading articles from files and URLs: txt/md (with scraped news headers), html, json, jsonl, feeds and pdf."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from qa.ingest.dates import parse_date, parse_time
from qa.records import Document

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SkippedFile:
    """A file or record left out of a build, and why."""

    path: str
    reason: str


class LoadReport:
    """Collects what was skipped while loading, so callers can show it."""

    def __init__(self) -> None:
        self.skipped: list[SkippedFile] = []
        self.warned: list[SkippedFile] = []

    def skip(self, path: str | Path, reason: str) -> None:
        self.skipped.append(SkippedFile(str(path), reason))
        log.warning("skipped %s: %s", path, reason)

    def warn(self, path: str | Path, reason: str) -> None:
        """A file that was read, but not as well as it should have been."""
        self.warned.append(SkippedFile(str(path), reason))
        log.warning("%s: %s", path, reason)


def content_hash(doc: Document) -> str:
    """A fingerprint of what the index stores of a document, to skip unchanged ones on `add`."""
    payload = json.dumps(
        [doc.title, doc.text, doc.source, doc.published, doc.url, doc.meta], sort_keys=True, default=str
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------- decoding


def decode_bytes(raw: bytes) -> tuple[str, str | None]:
    """Decode file bytes; returns (text, warning). Tries UTF-8, then cp1252, then UTF-8 with replacement."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "not UTF-8; decoded as Windows-1252"
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace"), "not UTF-8; undecodable bytes replaced"


def looks_binary(raw: bytes) -> bool:
    head = raw[:8192]
    if b"\x00" in head:
        return True
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return len(head) > 0 and control / len(head) > 0.05


def clean_text(text: str) -> str:
    # Line endings are normalised so offsets are stable across platforms; control characters
    # other than tab/newline are replaced by spaces to keep offsets unchanged.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", " ", text)


# ---------------------------------------------------------------- news header

_SITE = re.compile(r"^(?:www\.)?[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)+$", re.I)
_FIELD = re.compile(r"^\s*(?P<key>[A-Za-z][A-Za-z ]{1,30}?)\s*:\s*(?P<value>.+?)\s*$")
_DATE_KEYS = {"publish date", "published", "date", "publication date", "posted", "updated", "published on"}


def parse_news_header(text: str) -> dict[str, Any]:
    """Read the header scraped news pages start with: site, `Key: value` lines, title, subtitle.

    Returns the fields found (title, subtitle, source, published, meta entries) and `body_start`,
    the offset where the article body begins. Nothing is removed from the text.
    """
    fields: dict[str, Any] = {"meta": {}}
    lines = []
    pos = 0
    for line in text.split("\n"):
        lines.append((pos, line))
        pos += len(line) + 1
    header_lines: list[tuple[int, str]] = []
    body_start = 0
    for offset, line in lines:
        stripped = line.strip()
        if not stripped:
            continue
        # The body starts at the first long line or at a line that reads as prose.
        if len(stripped) > 160 or (len(stripped) > 60 and stripped[-1] in '.!?”"' and " " in stripped):
            body_start = offset
            break
        header_lines.append((offset, stripped))
        if len(header_lines) > 8:
            return {"meta": {}, "body_start": 0}
    else:
        body_start = 0
    titles: list[str] = []
    for _, stripped in header_lines:
        m = _FIELD.match(stripped)
        if m and len(stripped) < 80:
            key = m["key"].strip().lower()
            value = m["value"].strip()
            if key in _DATE_KEYS and parse_date(value):
                fields["published"] = parse_date(value)
                time = parse_time(value)
                if time:
                    fields["meta"]["published_time"] = time
            else:
                fields["meta"][key.replace(" ", "_")] = value
            continue
        if not titles and "source" not in fields and _SITE.match(stripped):
            fields["source"] = stripped
            continue
        if "published" not in fields and parse_date(stripped) and len(stripped) < 40:
            fields["published"] = parse_date(stripped)
            continue
        titles.append(stripped.lstrip("#").strip())
    if titles:
        fields["title"] = titles[0]
    if len(titles) > 1:
        fields["meta"]["subtitle"] = " ".join(titles[1:])
    fields["body_start"] = body_start
    return fields


# ---------------------------------------------------------------- html


class _HTMLText(HTMLParser):
    """Collects visible text with paragraph breaks at block elements, plus title and dates."""

    BLOCK = {
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
        "article",
        "header",
        "footer",
        "tr",
        "table",
        "blockquote",
        "pre",
        "figcaption",
        "hr",
    }
    SKIP = {"script", "style", "noscript", "template", "svg", "head", "nav", "iframe", "object"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self.h1 = ""
        self.meta: dict[str, str] = {}
        self._skip = 0
        self._in_title = False
        self._in_h1 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            key = (a.get("property") or a.get("name") or a.get("itemprop") or "").lower()
            if key and a.get("content"):
                self.meta[key] = a["content"]
        elif tag == "time" and a.get("datetime"):
            self.meta.setdefault("time", a["datetime"])
        if tag == "title":
            self._in_title = True
        if tag in self.SKIP and tag != "head":
            self._skip += 1
        if tag == "h1":
            self._in_h1 = True
        if tag in self.BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in self.SKIP and tag != "head" and self._skip:
            self._skip -= 1
        if tag == "h1":
            self._in_h1 = False
        if tag in self.BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
            return
        if self._skip:
            return
        if self._in_h1:
            self.h1 += data
        self.parts.append(data)

    def text(self) -> str:
        raw = "".join(self.parts)
        raw = re.sub(r"[ \t\r\f\v]+", " ", raw)
        raw = re.sub(r" *\n[\n ]*", "\n", raw)
        # Block boundaries become paragraph breaks; single spaces stay inside paragraphs.
        paragraphs = [p.strip() for p in raw.split("\n")]
        return "\n\n".join(p for p in paragraphs if p)


def parse_html(raw: str, doc_id: str) -> Document | None:
    """A Document from an HTML page: visible text, title, source and date from the markup."""
    parser = _HTMLText()
    parser.feed(raw)
    parser.close()
    text = parser.text()
    if not text.strip():
        return None
    meta = parser.meta
    title = (meta.get("og:title") or parser.h1 or parser.title).strip()
    published = parse_date(
        meta.get("article:published_time") or meta.get("date") or meta.get("datepublished") or meta.get("time")
    )
    source = meta.get("og:site_name")
    url = meta.get("og:url")
    if not title:
        title = _first_line(text)
    return Document(id=doc_id, title=" ".join(title.split()), text=text, source=source, published=published, url=url)


def html_to_text(fragment: str) -> str:
    """The visible text of an HTML fragment (a feed entry's content), paragraphs apart by blank lines."""
    parser = _HTMLText()
    parser.feed(fragment)
    parser.close()
    return parser.text()


def read_html_page(
    raw: str, doc_id: str, path: str | Path, report: LoadReport, url: str | None = None
) -> Document | None:
    """A web page's article through trafilatura; pages it finds no article in fall back to all visible
    text (`parse_html`), with a warning in `report`."""
    from qa.ingest.html_extract import extract_article

    doc = extract_article(raw, doc_id, url=url)
    if doc is not None:
        return doc
    doc = parse_html(raw, doc_id)
    if doc is not None:
        report.warn(path, "no article found by the extractor; all visible text kept")
        if url and not doc.url:
            doc = replace(doc, url=url)
    return doc


def _first_line(text: str, limit: int = 120) -> str:
    line = text.strip().split("\n", 1)[0].strip()
    return line if len(line) <= limit else line[:limit].rsplit(" ", 1)[0] + "…"


# ---------------------------------------------------------------- plain text


def parse_text(text: str, doc_id: str) -> Document | None:
    """A Document from a txt/md article, reading the news header into metadata."""
    if not text.strip():
        return None
    header = parse_news_header(text)
    title = header.get("title") or Path(doc_id).stem.replace("_", " ")
    return Document(
        id=doc_id,
        title=title,
        text=text,
        source=header.get("source"),
        published=header.get("published"),
        meta={**header["meta"], "body_start": header["body_start"]},
    )


# ---------------------------------------------------------------- json records

_ID_KEYS = ("id", "doc_id", "_id", "uuid")
_DATE_FIELDS = ("published", "date", "published_at", "publish_date", "pubdate", "datetime")
_KNOWN = set(_ID_KEYS) | set(_DATE_FIELDS) | {"title", "text", "body", "content", "source", "url", "link", "site"}


def document_from_record(record: Any, fallback_id: str) -> Document:
    """A Document from a json record; raises ValueError naming what is wrong."""
    if not isinstance(record, dict):
        raise ValueError(f"expected an object, got {type(record).__name__}")
    text = next((record[k] for k in ("text", "body", "content") if isinstance(record.get(k), str)), None)
    if text is None:
        raise ValueError("no 'text' field")
    text = clean_text(text)
    if not text.strip():
        raise ValueError("empty 'text'")
    doc_id = next((str(record[k]) for k in _ID_KEYS if record.get(k) not in (None, "")), fallback_id)
    raw_date = next((record[k] for k in _DATE_FIELDS if record.get(k)), None)
    published = parse_date(str(raw_date)) if raw_date is not None else None
    title = record.get("title")
    title = " ".join(str(title).split()) if title else _first_line(text)
    meta = {k: v for k, v in record.items() if k not in _KNOWN and isinstance(v, (str, int, float, bool))}
    source = record.get("source") or record.get("site")
    url = record.get("url") or record.get("link")
    return Document(
        id=doc_id,
        title=title,
        text=text,
        source=str(source) if source else None,
        published=published,
        url=str(url) if url else None,
        meta=meta,
    )


def jsonl_documents(text: str, path: Path, doc_id: str, report: LoadReport) -> Iterator[Document]:
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            yield document_from_record(record, f"{doc_id}#{lineno}")
        except (json.JSONDecodeError, ValueError) as exc:
            report.skip(f"{path}:{lineno}", str(exc).split("\n")[0])


def json_documents(text: str, path: Path, doc_id: str, report: LoadReport) -> Iterator[Document]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        report.skip(path, f"invalid JSON at line {exc.lineno}: {exc.msg}")
        return
    if isinstance(data, dict):
        for key in ("documents", "articles", "records", "data", "items"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
    records = data if isinstance(data, list) else [data]
    for i, record in enumerate(records):
        try:
            yield document_from_record(record, doc_id if len(records) == 1 else f"{doc_id}#{i}")
        except ValueError as exc:
            report.skip(f"{path}[{i}]", str(exc))
