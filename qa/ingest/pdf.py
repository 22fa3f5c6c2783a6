"""PDF press releases and reports: the text layer, page by page, with where each page starts (pypdf)."""

from __future__ import annotations

import bisect
import io
import logging
import re
from typing import Any

from qa.ingest.dates import parse_date
from qa.records import Document

log = logging.getLogger(__name__)
# pypdf warns about every repaired cross-reference table; a file it cannot read is reported once, as skipped.
logging.getLogger("pypdf").setLevel(logging.ERROR)
PAGE_BREAK = "\n\n"


def _page_text(text: str) -> str:
    # pypdf ends every visual line with a newline; runs of spaces come from justified text. Blank lines stay
    # paragraph breaks, control characters become spaces so offsets are unaffected later.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", " ", text)
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def page_at(meta: dict[str, Any], offset: int) -> int | None:
    """The 1-based page of a PDF document holding text offset `offset`, from `meta["page_starts"]`; None otherwise."""
    starts = meta.get("page_starts") if meta else None
    if not starts:
        return None
    return bisect.bisect_right(starts, offset)


def _info(reader) -> dict[str, str]:  # noqa: ANN001 (pypdf's reader)
    try:
        info = reader.metadata or {}
    except Exception:  # damaged info dictionaries are common and never worth losing the text for
        return {}
    out = {}
    for key, name in (
        ("/Title", "title"),
        ("/Author", "author"),
        ("/CreationDate", "created"),
        ("/Subject", "subject"),
    ):
        value = info.get(key)
        if value:
            out[name] = " ".join(str(value).split())
    return out


def pdf_document(raw: bytes, doc_id: str) -> Document:
    """A Document from a PDF's text layer; `meta["page_starts"]` holds each page's start offset in the text.
    Raises ValueError with a one-line reason for encrypted, broken or scanned (text-less) files."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            # Many PDFs are encrypted only to set permissions, with an empty password to open them.
            try:
                opened = reader.decrypt("")
            except Exception:  # pypdf needs the cryptography package for AES; either way it cannot be read
                opened = 0
            if not opened:
                raise ValueError("encrypted PDF that needs a password; save a copy without one")
        texts = []
        for page in reader.pages:
            try:
                texts.append(_page_text(page.extract_text() or ""))
            except Exception as exc:  # one damaged page should not lose the rest
                log.warning("%s: a page could not be read: %s", doc_id, exc)
                texts.append("")
    except ValueError:
        raise
    except (PdfReadError, OSError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise ValueError(f"broken PDF ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    if not texts:
        raise ValueError("PDF without pages")
    if not any(texts):
        raise ValueError(f"no text layer in {len(texts)} page(s): a scanned PDF needs OCR before it can be indexed")
    parts, starts, pos = [], [], 0
    for text in texts:
        if parts:
            parts.append(PAGE_BREAK)
            pos += len(PAGE_BREAK)
        starts.append(pos)
        parts.append(text)
        pos += len(text)
    text = "".join(parts)
    info = _info(reader)
    meta: dict[str, Any] = {"pages": len(texts), "page_starts": starts}
    if info.get("author"):
        meta["author"] = info["author"]
    if info.get("subject"):
        meta["description"] = info["subject"]
    first = next(line for line in text.split("\n") if line.strip())
    title = info.get("title") or (first if len(first) <= 120 else first[:120].rsplit(" ", 1)[0] + "…")
    created = info.get("created", "")
    # PDF dates read D:YYYYMMDDHHmmSS.
    m = re.match(r"D:(\d{4})(\d{2})(\d{2})", created)
    published = parse_date(f"{m[1]}-{m[2]}-{m[3]}") if m else None
    return Document(id=doc_id, title=title, text=text, published=published, meta=meta)
