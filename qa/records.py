"""Records that cross module boundaries. Every offset points into `Document.text`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Document:
    """One article as stored in the index."""

    id: str
    title: str
    text: str
    source: str | None = None
    published: str | None = None  # ISO 8601 date (YYYY-MM-DD)
    url: str | None = None
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences of one document; `text == document.text[start:end]`."""

    id: int
    doc_id: str
    start: int
    end: int
    text: str
    n_tokens: int


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its document's metadata and its fused retrieval score."""

    chunk_id: int
    doc_id: str
    title: str
    source: str | None
    published: str | None
    start: int
    end: int
    text: str
    score: float
    rank: int = 0
    author: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class Citation:
    """An exact quote from a document: `document.text[start:end] == quote`."""

    doc_id: str
    title: str
    published: str | None
    start: int
    end: int
    quote: str
    source: str | None = None
    author: str | None = None
    page: int | None = None  # 1-based page of a PDF the quote starts on

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class Guess:
    """A tentative answer: the reader's best candidate when it is not sure enough to answer."""

    text: str
    confidence: float
    # The candidate's span, inside the first citation's quote.
    span: Citation
    citations: tuple[Citation, ...]
    # As for an answer: the candidate with the date a day written relative to its article stands for.
    text_with_dates: str | None = None

    @property
    def shown_text(self) -> str:
        """The candidate as people read it: with the dates of its relative days when it has them."""
        return self.text_with_dates or self.text

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form, keyed as an answer is."""
        return {
            "text": self.text,
            "answer_with_dates": self.text_with_dates,
            "confidence": round(self.confidence, 4),
            "answer_span": self.span.to_dict(),
            "citations": [c.to_dict() for c in self.citations],
        }


@dataclass(frozen=True)
class Report:
    """What an earlier article said to the same question, when it said something else than the answer."""

    text: str
    published: str  # the article's date (YYYY-MM-DD)
    # The sentence that says it, at exact offsets of its article.
    citation: Citation

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {"text": self.text, "date": self.published, "citation": self.citation.to_dict()}


@dataclass(frozen=True)
class TimelineEntry:
    """One dated article's sentence about a subject, with the reader's short answer in it and its number."""

    published: str  # the article's date (YYYY-MM-DD)
    # The sentence, at exact offsets of its article.
    citation: Citation
    text: str | None  # the reader's answer in the sentence; None when it reads none worth showing
    value: float | None = None  # the number the answer gives, when it gives one

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {"date": self.published, "text": self.text, "value": self.value, "citation": self.citation.to_dict()}


@dataclass(frozen=True)
class Answer:
    """A short answer (or an abstention) with the citations that support it."""

    question: str
    text: str | None
    abstained: bool
    confidence: float
    citations: tuple[Citation, ...] = ()
    passages: tuple[Passage, ...] = ()
    resolved_question: str | None = None
    # Where the reader found the answer: inside the first citation's quote.
    span: Citation | None = None
    # When abstaining with a candidate worth showing: it, shown as "not sure", never as an answer.
    best_guess: Guess | None = None
    # The publication date of the article the answer (or tentative answer) comes from: it holds as of then.
    as_of: str | None = None
    # Earlier articles that answered otherwise, newest first.
    earlier: tuple[Report, ...] = ()
    # The answer as shown, with the date a day written relative to its article stands for:
    # "Monday (31 December 2018)"; None when the answer names no such day. `text` stays the quoted span.
    text_with_dates: str | None = None
    # The question as read when a word typed with a slip was read as the indexed word meant ("Karantaka" as
    # "Karnataka"); None when it was read as typed.
    read_as: str | None = None
    # For a tentative answer from an older article, the best passage of a newer article of the story that says
    # something else (qa.answer.changing), cited.
    newer: Citation | None = None

    @property
    def shown_text(self) -> str | None:
        """The answer as people read it: with the dates of its relative days when it has them."""
        return self.text_with_dates or self.text

    def to_dict(self) -> dict[str, Any]:
        """The object `qa ask --json` prints."""
        return {
            "question": self.question,
            "read_as": self.read_as,
            "answer": self.text,
            "answer_with_dates": self.text_with_dates,
            "abstained": self.abstained,
            "confidence": round(self.confidence, 4),
            "answer_span": self.span.to_dict() if self.span else None,
            "citations": [c.to_dict() for c in self.citations],
            "best_guess": self.best_guess.to_dict() if self.best_guess else None,
            "as_of": self.as_of,
            "earlier": [r.to_dict() for r in self.earlier],
            "newer_report": (
                {"date": self.newer.published, "doc_id": self.newer.doc_id, "title": self.newer.title}
                if self.newer
                else None
            ),
            "passages": [
                {
                    "doc_id": p.doc_id,
                    "title": p.title,
                    "start": p.start,
                    "end": p.end,
                    "score": round(p.score, 6),
                    "text": p.text,
                }
                for p in self.passages
            ],
        }
