"""Questions about an article itself: when it was published, who wrote it, which outlet ran it.

Such a question is known by its form ("When was the article about … published?", "Who wrote the story
…?", "Which newspaper published the piece …?"), never by what it says about a story; the rest of it finds
the article, and the answer is the document's metadata, quoted where the article's text holds it.

A value the text does not state is cited by the article's title line (else its first line): that quote
cannot show the value, but it shows which article the value belongs to, so a reader can check that the
question found the article meant.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from qa.answer.quotes import citation_of
from qa.ingest.dates import find_dates
from qa.ingest.documents import parse_news_header
from qa.ingest.text import holding_sentences, split_sentences
from qa.records import Answer, Document, Passage

# Not fitted: no question set holds questions about articles. What can go wrong is which article the
# rest of the question finds (retrieval's first document is the gold one for 82% of wikinews-dev's
# questions) and, when the value is only in the metadata, the metadata itself (a feed's or a record's
# field that nothing in the text confirms); a value quoted from the article's dateline or byline is the
# one its ingest read.
FOUND_IN_TEXT = 0.9
METADATA_ONLY = 0.6

PUBLISHED, AUTHOR, SOURCE = "published", "author", "source"

# "the article", "this story", "a news report": words that can only mean the article itself. A bare
# "report", "post" or "column" is left out: news tells of reports, posts and columns of its own.
_ARTICLE = r"(?:the|this|that|an?)\s+(?:news\s+(?:article|story|report|item)|article|story|piece)"
_TOPIC = r"(?P<topic>(?:\s+.+?)?)"
_OUTLET = r"(?:news\s+)?(?:outlet|newspaper|paper|publication|site|website|magazine|agency|broadcaster|source)"
_FORMS = {
    PUBLISHED: [
        rf"when\s+(?:was|is)\s+{_ARTICLE}{_TOPIC}\s+(?:first\s+|originally\s+)?"
        r"(?:published|posted|written|released|dated|filed|printed|put\s+(?:out|online))",
        rf"(?:on\s+)?(?:what|which)\s+(?:date|day)\s+(?:was|is)\s+{_ARTICLE}{_TOPIC}\s+"
        r"(?:published|posted|written|released|dated|filed|printed)",
        rf"what\s+(?:is|was)\s+the\s+(?:publication\s+|publishing\s+|release\s+)?date\s+of\s+{_ARTICLE}{_TOPIC}",
        rf"when\s+did\s+{_ARTICLE}{_TOPIC}\s+(?:appear|come\s+out|run|go\s+online)",
    ],
    AUTHOR: [
        rf"who\s+(?:wrote|authored|penned|filed)\s+{_ARTICLE}{_TOPIC}",
        rf"who\s+(?:is|was)\s+the\s+(?:author|writer|reporter|journalist)\s+(?:of|behind)\s+{_ARTICLE}{_TOPIC}",
        rf"(?:who|by\s+whom)\s+(?:was|is)\s+{_ARTICLE}{_TOPIC}\s+(?:written|authored|penned|filed)(?:\s+by)?",
        rf"(?:which|what)\s+(?:journalist|reporter|writer|author|correspondent)\s+"
        rf"(?:wrote|authored|penned|filed)\s+{_ARTICLE}{_TOPIC}",
        rf"whose\s+byline\s+(?:is|was)\s+on\s+{_ARTICLE}{_TOPIC}",
    ],
    SOURCE: [
        # "broke the story of" is left out: which outlet was first with a story is news in itself.
        rf"(?:which|what)\s+{_OUTLET}\s+(?:published|ran|carried|printed|posted|reported)\s+{_ARTICLE}{_TOPIC}",
        rf"(?:in\s+|on\s+)?(?:which|what)\s+{_OUTLET}\s+(?:was|is|did)\s+{_ARTICLE}{_TOPIC}\s+"
        r"(?:published|posted|printed|run|carried|appear|come\s+out)(?:\s+in|\s+on)?",
        rf"where\s+(?:was|is)\s+{_ARTICLE}{_TOPIC}\s+(?:first\s+)?(?:published|posted|printed|run|carried)",
        rf"(?:which|what)\s+{_OUTLET}\s+(?:is|was)\s+{_ARTICLE}{_TOPIC}\s+from",
        rf"who\s+published\s+{_ARTICLE}{_TOPIC}",
        rf"what\s+(?:is|was)\s+the\s+source\s+of\s+{_ARTICLE}{_TOPIC}",
    ],
}
_COMPILED = [
    (field, re.compile(rf"^\s*{form}\s*[?.!]*\s*$", re.I | re.S)) for field, forms in _FORMS.items() for form in forms
]
# Words that only tie the topic to the article ("the article *about* the talks").
_TOPIC_LEAD = re.compile(r"^(?:about|on|regarding|concerning|covering|describing|reporting|of|that|which)\s+", re.I)
# Lines that name what they hold: a dateline, a byline, a credit.
_MARKS = {
    PUBLISHED: re.compile(r"publish|posted|dated|updated|\bdate\b", re.I),
    AUTHOR: re.compile(r"\bby\b|author|written|reporter|correspondent", re.I),
    SOURCE: re.compile(r"source|publish|©|copyright|\bvia\b", re.I),
}


class Index(Protocol):
    """What answering about an article needs of an index: passages and documents."""

    def retrieve(self, question: str, k: int = 5, **filters: Any) -> list[Passage]: ...

    def document(self, doc_id: str) -> Document: ...


@dataclass(frozen=True)
class ArticleQuestion:
    """A question about an article itself: which field it asks for and the words that describe the article."""

    field: str  # PUBLISHED, AUTHOR or SOURCE
    topic: str


def article_question(question: str) -> ArticleQuestion | None:
    """What a question asks about an article itself, or None when it asks about something else."""
    for field, form in _COMPILED:
        m = form.match(question)
        if m:
            return ArticleQuestion(field, _TOPIC_LEAD.sub("", m["topic"].strip()).strip())
    return None


def answer_about_article(
    index: Index, question: str, history: Sequence[Any] | None = None, k: int = 5, **filters: Any
) -> Answer | None:
    """The answer to a question about an article itself from its metadata, cited (see the module's
    docstring); an abstention when the article cannot be told or does not say; None for other questions."""
    asked = article_question(question)
    if asked is None:
        return None
    passages = tuple(index.retrieve(asked.topic or question, k=k, **filters))
    doc_id = _article_meant(asked, passages, history)
    doc = index.document(doc_id) if doc_id is not None else None
    value = _metadata(doc, asked.field) if doc is not None else None
    if doc is None or not value:
        # The article's text may name other people and dates; none of them is its author or its date.
        return Answer(question, None, True, 0.0, (), passages, question)
    found = _in_text(doc, asked.field, value)
    if found is None:
        return Answer(question, value, False, METADATA_ONLY, (citation_of(doc, *_title_line(doc)),), passages, question)
    start, end = found
    line = citation_of(doc, *_sentence_on_line(doc.text, start, end))
    span = citation_of(doc, start, end)
    return Answer(question, span.quote, False, FOUND_IN_TEXT, (line,), passages, question, span)


def _article_meant(asked: ArticleQuestion, passages: Sequence[Passage], history: Sequence[Any] | None) -> str | None:
    """The document the question means: retrieval's first for a described article; for "the article"
    alone, the one the conversation last cited, or the only one retrieval finds."""
    if asked.topic:
        return passages[0].doc_id if passages else None
    for turn in reversed(history or []):
        if isinstance(turn, Answer):
            cited = turn.citations or (turn.best_guess.citations if turn.best_guess else ())
            if cited:
                return cited[0].doc_id
    docs = {p.doc_id for p in passages}
    return docs.pop() if len(docs) == 1 else None


def _metadata(doc: Document, field: str) -> str | None:
    value = {PUBLISHED: doc.published, AUTHOR: doc.meta.get("author"), SOURCE: doc.source}[field]
    return " ".join(str(value).split()) if value else None


def _in_text(doc: Document, field: str, value: str) -> tuple[int, int] | None:
    """Where the text states the value as the article's own: in its header, on its first line, or on a
    line that says what it holds (a dateline, a byline); None when it is written nowhere such."""
    text = doc.text
    if field == PUBLISHED:
        spots = [(s, e) for s, e, iso in find_dates(text) if iso == value]
    else:
        spots = [m.span() for m in re.finditer(rf"(?<!\w){re.escape(value)}(?!\w)", text, re.I)]
    # Where the body starts, as ingest read it from a plain-text article, or read now from a record's text.
    header_end = int(doc.meta.get("body_start") or parse_news_header(text)["body_start"])
    first_line_end = _line(text, len(text) - len(text.lstrip()))[1]
    for start, end in spots:
        lo, hi = _line(text, start)
        if start < header_end or end <= first_line_end or _MARKS[field].search(text[lo:hi]):
            return start, end
    return None


def _line(text: str, at: int) -> tuple[int, int]:
    """The line holding offset `at`, without its line breaks."""
    end = text.find("\n", at)
    return text.rfind("\n", 0, at) + 1, len(text) if end < 0 else end


def _sentence_on_line(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence holding [start, end), kept within its line; header lines are sentences of their own."""
    lo, hi = _line(text, start)
    sentences = [(lo + s, lo + e) for s, e in split_sentences(text[lo:hi])]
    held = holding_sentences(sentences, start, end)
    if held is None:
        return start, end
    return min(start, sentences[held[0]][0]), max(end, sentences[held[1]][1])


def _title_line(doc: Document) -> tuple[int, int]:
    """The line that gives the article's title, else its first line, trimmed."""
    at = doc.text.find(doc.title) if doc.title else -1
    lo, hi = _line(doc.text, at if at >= 0 else len(doc.text) - len(doc.text.lstrip()))
    while lo < hi and doc.text[lo].isspace():
        lo += 1
    while hi > lo and doc.text[hi - 1].isspace():
        hi -= 1
    return lo, hi
