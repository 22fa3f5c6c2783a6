"""A subject across articles: each dated article's sentence about it, oldest first, with the number it gives.

The story's articles are found as for changing news (`qa.answer.changing.story_passages`, one passage an
article); the reader reads the subject as a question in each, and the sentence holding its best span is
the article's entry. The span is shown as the entry's answer when the abstention model gives it at least
the tentative-answer probability, and its number (1,217; 81; 4.5) becomes a point of the chart.
"""

from __future__ import annotations

import re
from typing import Any

from qa.answer.abstention import abstention_for
from qa.answer.answering import Index, asks_who, cited_span
from qa.answer.changing import as_of_filters, story_candidates, story_passages
from qa.answer.questions import clean_question
from qa.records import TimelineEntry

# Articles on a timeline at most, and retrieval's passages looked through to find them.
TIMELINE_ARTICLES = 12
TIMELINE_PASSAGES = 40
_NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w,])|(?<![\w.,])\d+(?:\.\d+)?(?![\w,])")


def number_in(text: str | None) -> float | None:
    """The first number an answer gives ("at least 1,217 people" -> 1217.0), or None."""
    found = _NUMBER.search(text or "")
    return float(found.group().replace(",", "")) if found else None


def timeline(index: Index, query: str, as_of: str | None = None, **filters: Any) -> tuple[TimelineEntry, ...]:
    """The dated articles about `query`, oldest first, each with its sentence about it and the reader's answer."""
    query = clean_question(query)  # an empty query is an InputError there
    filters = as_of_filters(as_of, filters)
    passages = story_passages(index, query, filters, per_article=1, most=TIMELINE_ARTICLES, wide=TIMELINE_PASSAGES)
    if not passages:
        return ()
    shown_from = abstention_for(index.reader.ref.folder).guess_at
    entries = []
    for c in story_candidates(index, query, passages):
        cited = cited_span(index, query, c.passage, c.span.start, c.span.end, asks_who(query))
        if cited is None:
            continue
        text, citations, _ = cited
        answer = text if c.probability >= shown_from else None
        value = number_in(answer)
        entries.append(TimelineEntry(c.passage.published or "", citations[0], answer, value))
    return tuple(sorted(entries, key=lambda e: (e.published, e.citation.doc_id)))
