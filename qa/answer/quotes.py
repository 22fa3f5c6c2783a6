"""Citations: an exact quote of a document at its offsets, with the document's metadata."""

from __future__ import annotations

from qa.ingest.pdf import page_at
from qa.records import Citation, Document


def citation_of(doc: Document, start: int, end: int) -> Citation:
    """The citation of `doc.text[start:end]`, with the page of a PDF the quote starts on."""
    return Citation(
        doc_id=doc.id,
        title=doc.title,
        published=doc.published,
        start=start,
        end=end,
        quote=doc.text[start:end],
        source=doc.source,
        author=doc.meta.get("author") or None,
        page=page_at(doc.meta, start),
    )
