"""A corpus read into documents: folders walked, each file read by its format, web pages fetched."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from qa.errors import CorpusError, describe_os_error
from qa.ingest.documents import (
    LoadReport,
    clean_text,
    decode_bytes,
    json_documents,
    jsonl_documents,
    looks_binary,
    parse_text,
    read_html_page,
)
from qa.ingest.feeds import feed_documents
from qa.ingest.fetch import FetchError, fetch_html
from qa.ingest.pdf import pdf_document
from qa.records import Document

log = logging.getLogger(__name__)


SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl", ".rss", ".atom", ".xml", ".pdf")


FEED_SUFFIXES = (".rss", ".atom", ".xml")


MAX_FILE_BYTES = 50 * 1024 * 1024


def load_file(path: Path, doc_id: str, report: LoadReport) -> Iterator[Document]:
    """The documents one file holds; problems are recorded in `report`, never raised."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            report.skip(path, f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
            return
        raw = path.read_bytes()
    except OSError as exc:
        report.skip(path, f"cannot read: {exc.strerror or exc}")
        return
    if not raw.strip():
        report.skip(path, "empty file")
        return
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        try:
            yield pdf_document(raw, doc_id)
        except ValueError as exc:
            report.skip(path, str(exc))
        return
    if looks_binary(raw):
        report.skip(path, "binary file, not text")
        return
    text, warning = decode_bytes(raw)
    if warning:
        log.warning("%s: %s", path, warning)
    text = clean_text(text)
    if suffix == ".jsonl":
        yield from jsonl_documents(text, path, doc_id, report)
    elif suffix == ".json":
        yield from json_documents(text, path, doc_id, report)
    elif suffix in FEED_SUFFIXES:
        yield from feed_documents(raw, path, doc_id, report)
    else:
        doc = read_html_page(text, doc_id, path, report) if suffix in (".html", ".htm") else parse_text(text, doc_id)
        if doc is None:
            report.skip(path, "no text")
        else:
            yield doc


def iter_corpus_files(paths: Iterable[str | Path]) -> Iterator[tuple[Path, str]]:
    """(file, document id) for every article file under `paths`; ids are paths relative to each root."""
    for given in paths:
        root = Path(given)
        if not root.exists():
            raise CorpusError(f"corpus path not found: {root}")
        if root.is_file():
            yield root, root.name
            continue
        try:
            os.listdir(root)  # rglob would pass over a folder it cannot read without a word
        except OSError as exc:
            raise CorpusError(f"cannot read the corpus folder {describe_os_error(exc)}") from None
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root)
            if any(part.startswith(".") for part in rel.parts):
                continue
            if path.is_file() and path.suffix.lower() in SUFFIXES:
                yield path, rel.as_posix()


def is_url(item: str | Path) -> bool:
    """Whether a corpus item names a web page rather than a file."""
    return isinstance(item, str) and item.lower().startswith(("http://", "https://"))


def _url_documents(urls: list[str], report: LoadReport) -> Iterator[Document]:
    for url in urls:
        try:
            page = fetch_html(url)
        except FetchError as exc:
            report.skip(url, exc.reason)
            continue
        doc = read_html_page(page.text, page.requested, url, report, url=page.url)
        if doc is None:
            report.skip(url, "no text")
            continue
        # The address the page was fetched from is what a reader can open again; a canonical URL the page
        # declares is kept beside it.
        meta = dict(doc.meta)
        if doc.url and doc.url != page.url:
            meta["canonical_url"] = doc.url
        yield replace(doc, url=page.url, meta=meta)


def load_corpus(paths: Iterable[str | Path], report: LoadReport | None = None) -> list[Document]:
    """All documents under `paths` (folders, files or http(s) URLs of web pages);
    a later document with the same id replaces an earlier one."""
    report = report or LoadReport()
    items = list(paths)
    urls = [str(i) for i in items if is_url(i)]
    files = [i for i in items if not is_url(i)]
    docs: dict[str, Document] = {}
    for doc in _url_documents(urls, report):
        docs[doc.id] = doc
    for path, doc_id in iter_corpus_files(files):
        for doc in load_file(path, doc_id, report):
            if doc.id in docs:
                log.warning("duplicate document id %r in %s: the later one is kept", doc.id, path)
            docs[doc.id] = doc
    return list(docs.values())
