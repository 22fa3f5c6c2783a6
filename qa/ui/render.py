"""HTML for the web app: chat replies, cited sources with highlighted quotes, articles, the corpus list.

Every piece of article or user text goes through `escape`, so markup inside articles is shown, never run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qa.ingest.dates import spoken_date
from qa.records import Answer, Citation, Document, TimelineEntry

# Beyond HTML's specials, characters that Markdown or LaTeX rendering in the chat would treat as syntax
# are written as numeric entities: the browser shows them as typed and no renderer sees markup.
_ENTITIES = {ord(c): f"&#{ord(c)};" for c in "&<>\"'`*_[]()#!|~\\{}$=:"}
EXCERPT_CHARS = 700


def escape(text: str | None) -> str:
    """Text made inert for HTML and Markdown: shown character for character."""
    return (text or "").translate(_ENTITIES)


def _meta_line(source: str | None, published: str | None, author: str | None = None, page: int | None = None) -> str:
    parts = [
        f"By {escape(author)}" if author else "",
        escape(source) if source else "",
        escape(published) if published else "undated",
        f"page {int(page)}" if page else "",
    ]
    return " · ".join(p for p in parts if p)


def highlight(text: str, start: int, end: int, lo: int = 0, hi: int | None = None, tentative: bool = False) -> str:
    """`text[lo:hi]` escaped, with `text[start:end]` wrapped in <mark> (styled as not sure when `tentative`)."""
    hi = len(text) if hi is None else hi
    mark = '<mark class="qa-tentative">' if tentative else "<mark>"
    return f"{escape(text[lo:start])}{mark}{escape(text[start:end])}</mark>{escape(text[end:hi])}"


def paragraph_bounds(text: str, start: int, end: int, limit: int = EXCERPT_CHARS) -> tuple[int, int]:
    """The paragraph (lines) around `text[start:end]`, cut to about `limit` characters at word boundaries."""
    lo = text.rfind("\n", 0, start) + 1
    hi = text.find("\n", end)
    hi = len(text) if hi < 0 else hi
    spare = max(0, limit - (end - start))
    if start - lo > spare // 2:
        cut = text.find(" ", start - spare // 2, start)
        lo = cut + 1 if cut >= 0 else start
    if hi - end > spare - (start - lo):
        cut = text.rfind(" ", end, end + max(0, spare - (start - lo)))
        hi = cut if cut >= 0 else end
    return lo, hi


def excerpt(doc: Document, start: int, end: int, tentative: bool = False) -> str:
    """The quote highlighted inside its surrounding paragraph, with ellipses where the paragraph was cut."""
    lo, hi = paragraph_bounds(doc.text, start, end)
    before = "…" if lo > 0 and doc.text[lo - 1] != "\n" else ""
    after = "…" if hi < len(doc.text) and doc.text[hi] != "\n" else ""
    return f"{before}{highlight(doc.text, start, end, lo, hi, tentative)}{after}"


def shown_citations(answer: Answer) -> tuple[Citation, ...]:
    """The citations a reply shows: the answer's, or those of its tentative answer when it is not sure."""
    return answer.best_guess.citations if answer.best_guess else answer.citations


def _cited_list(citations: Sequence[Citation]) -> tuple[str, str]:
    """The [n] markers after a short answer, and the list of the articles they stand for."""
    markers = "".join(f'<sup class="qa-ref">&#91;{i}&#93;</sup>' for i in range(1, len(citations) + 1))
    cites = "".join(
        f'<li><span class="qa-ref">&#91;{i}&#93;</span> {escape(c.title)} '
        f'<span class="qa-date">{escape(c.published or "undated")}</span></li>'
        for i, c in enumerate(citations, start=1)
    )
    return markers, f'<ul class="qa-cites">{cites}</ul>'


def read_as_line(answer: Answer) -> str:
    """ "Read as: …" when a word of the question was read as another (a slip corrected), else nothing."""
    if not answer.read_as:
        return ""
    keep = "Put a word in quotation marks to keep it as typed"
    return f'<div class="qa-read-as" title="{keep}">Read as: {escape(answer.read_as)}</div>'


def chat_reply(answer: Answer) -> str:
    """The chat bubble for an answer: the short answer with [n] markers, a tentative answer marked as not
    sure, or a visibly different abstention; how the question was read first when a slip was corrected."""
    return read_as_line(answer) + _reply(answer)


def _reply(answer: Answer) -> str:
    guess = answer.best_guess
    if guess is not None:
        markers, cites = _cited_list(guess.citations)
        return (
            '<div class="qa-guess">'
            f'<div class="qa-short">Not sure — perhaps <span class="qa-guess-text">{escape(guess.shown_text)}</span> '
            f"{markers}</div>{cites}{newer_line(answer)}"
            f'<div class="qa-conf">confidence {guess.confidence:.0%}: check the quote before relying on it</div></div>'
        )
    if answer.abstained:
        hint = ""
        if answer.passages:
            hint = f'<div class="qa-hint">Closest article: {escape(answer.passages[0].title)}</div>'
        return (
            '<div class="qa-abstain"><strong>I don\'t know.</strong> '
            "The articles don't say, so there is nothing to cite."
            f"{hint}</div>"
        )
    markers, cites = _cited_list(answer.citations)
    as_of = ""
    if answer.as_of and answer.earlier:
        as_of = f' <span class="qa-as-of">(as of {escape(spoken_date(answer.as_of))})</span>'
    return (
        f'<div class="qa-answer"><div class="qa-short">{escape(answer.shown_text)}{as_of} {markers}</div>'
        f"{cites}{earlier_line(answer)}"
        f'<div class="qa-conf">confidence {answer.confidence:.0%}</div></div>'
    )


def earlier_line(answer: Answer) -> str:
    """What earlier articles said instead, newest first: "Earlier: 1,124 on 20 March 2020 · 54 on 2 March 2020"."""
    if not answer.earlier:
        return ""
    said = " · ".join(
        f'<span class="qa-earlier-item" title="{escape(one_line(r.citation.quote))}">'
        f"{escape(r.text)} on {escape(spoken_date(r.published))}</span>"
        for r in answer.earlier
    )
    return f'<div class="qa-earlier">Earlier: {said}</div>'


def one_line(text: str) -> str:
    """A quote as one line: an article's paragraph breaks and runs of spaces read as single spaces."""
    return " ".join(text.split())


def newer_report_note(answer: Answer) -> str:
    """Why a tentative answer from an older report is unsure, in words: "From the report of 7 December 2019;
    a newer one, of 1 January 2020 (Title), may say otherwise." Empty when no newer report contests it."""
    if answer.newer is None or not answer.newer.published:
        return ""
    said = f"From the report of {spoken_date(answer.as_of)}; a newer one" if answer.as_of else "A newer report"
    return f"{said}, of {spoken_date(answer.newer.published)} ({answer.newer.title}), may say otherwise."


def newer_line(answer: Answer) -> str:
    """Why a tentative answer from an older report is not sure: a newer report of the story may say otherwise."""
    note = newer_report_note(answer)
    return f'<div class="qa-newer">{escape(note)}</div>' if note else ""


def error_reply(message: str) -> str:
    """The chat bubble for a question that could not be handled."""
    return f'<div class="qa-error"><strong>Cannot answer:</strong> {escape(message)}</div>'


def source_card(number: int, citation: Citation, doc: Document, tentative: bool = False) -> str:
    """One cited source: title, source and date, the highlighted quote in context; a click opens the article.
    A tentative answer's quote is highlighted in a style of its own."""
    article = highlight(doc.text, citation.start, citation.end, tentative=tentative)
    return (
        f'<details class="qa-source" data-number="{number}">'
        f'<summary><div class="qa-source-head"><span class="qa-ref">&#91;{number}&#93;</span> '
        f'<span class="qa-title">{escape(doc.title)}</span></div>'
        f'<div class="qa-meta">{_meta_line(doc.source, doc.published, doc.meta.get("author"), citation.page)}</div>'
        f'<div class="qa-excerpt">{excerpt(doc, citation.start, citation.end, tentative)}</div>'
        '<div class="qa-open">Show the whole article</div></summary>'
        f'<div class="qa-article">{article}</div></details>'
    )


def sources_panel(answer: Answer | None, documents: dict[str, Document]) -> str:
    """The sources of the latest answer (or of its tentative answer), or a note saying why there are none."""
    if answer is None:
        return '<div class="qa-empty">Ask a question: the passages each answer quotes appear here.</div>'
    head = f'<div class="qa-for">Sources for “{escape(answer.question)}”</div>'
    tentative = answer.best_guess is not None
    citations = shown_citations(answer)
    if not citations or (answer.abstained and not tentative):
        return head + '<div class="qa-empty">No source supports an answer to this question.</div>'
    if tentative:
        head += (
            '<div class="qa-guess-note"><span class="qa-guess-label">Not sure</span> '
            "These quotes hold the most likely answer, not a sure one.</div>"
        )
    cards = [
        source_card(i, c, documents[c.doc_id], tentative)
        for i, c in enumerate(citations, start=1)
        if c.doc_id in documents
    ]
    newer = answer.newer
    if newer is not None and newer.doc_id in documents:
        # The report that may have changed the tentative answer, read beside it.
        cards.append('<div class="qa-for qa-newer-head">Newer report</div>')
        cards.append(source_card(len(citations) + 1, newer, documents[newer.doc_id]))
    if answer.earlier and not answer.abstained:
        # Newest first, as the answer lists them: the story's earlier states, each in its own article.
        cards.append('<div class="qa-for qa-earlier-head">Earlier reports</div>')
        cards += [
            source_card(i, r.citation, documents[r.citation.doc_id])
            for i, r in enumerate(answer.earlier, start=len(citations) + 1)
            if r.citation.doc_id in documents
        ]
    return head + "".join(cards)


def timeline_panel(query: str, entries: Sequence[TimelineEntry], chart: str = "") -> str:
    """The Timeline tab: a chart of the numbers (when given, as SVG), then each article's sentence, oldest first,
    with the reader's answer in it highlighted."""
    if not query:
        return '<div class="qa-empty">Name a subject or ask a question: what each dated article says of it appears here, oldest first.</div>'
    head = f'<div class="qa-for">Timeline of “{escape(query)}”</div>'
    if not entries:
        return head + '<div class="qa-empty">No dated article speaks of this.</div>'
    items = []
    for e in entries:
        c = e.citation
        quote = escape(c.quote)
        if e.text and e.text in c.quote:
            at = c.quote.index(e.text)
            quote = highlight(c.quote, at, at + len(e.text))
        items.append(
            f'<li class="qa-timeline-entry" data-date="{escape(e.published)}">'
            f'<div class="qa-timeline-date">{escape(spoken_date(e.published))}</div>'
            f'<div class="qa-title">{escape(c.title)}</div>'
            f'<div class="qa-excerpt">{quote}</div></li>'
        )
    return head + chart + f'<ol class="qa-timeline">{"".join(items)}</ol>'


def corpus_panel(documents: Sequence[dict[str, Any]], total: int, offset: int = 0, query: str = "") -> str:
    """One page of the article list, starting at `offset` of the `total` articles that match `query`."""
    matching = f" matching “{escape(query)}”" if query else ""
    if documents:
        noun = "article" if total == 1 else "articles"
        note = f"{offset + 1}–{offset + len(documents)} of {total} {noun}{matching}"
    elif query:
        note = f"No article matches “{escape(query)}”."
    else:
        note = "No articles on this page." if total else "No articles are indexed yet."
    rows = "".join(
        f'<tr><td class="qa-title">{escape(d["title"])}</td><td>{escape(d.get("source") or "")}</td>'
        f'<td class="qa-date">{escape(d.get("published") or "")}</td><td class="qa-num">{d.get("chunks") or 0}</td></tr>'
        for d in documents
    )
    table = (
        '<table class="qa-corpus"><thead><tr><th>Title</th><th>Source</th><th>Date</th><th>Passages</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
        if documents
        else ""
    )
    return f'<div class="qa-note" id="corpus-range">{note}</div>{table}'


def header(documents: int, chunks: int) -> str:
    """The page title and what the app holds."""
    return (
        '<div class="qa-header"><h1>News QA</h1>'
        f"<p>Ask about {documents} indexed articles ({chunks} passages). "
        "Every answer quotes the sentences it rests on: check them in the sources panel.</p></div>"
    )


CSS = """
.gradio-container { max-width: 1360px !important; margin: 0 auto; font-size: 15px; }
.qa-header h1 { font-size: 1.6rem; margin: 0.2rem 0 0.1rem; }
.qa-header p { margin: 0 0 0.4rem; color: var(--body-text-color-subdued); }
.qa-ref { color: #1d4ed8; font-weight: 600; margin-right: 0.15em; }
.qa-short { font-size: 1.05rem; font-weight: 600; }
.qa-cites { margin: 0.35rem 0 0; padding-left: 0; list-style: none; font-size: 0.88rem; }
.qa-cites li { margin: 0.1rem 0; }
.qa-date, .qa-conf, .qa-hint, .qa-note, .qa-meta { color: var(--body-text-color-subdued); font-size: 0.85rem; }
.qa-abstain { color: #92400e; background: #fffbeb; border-left: 4px solid #f59e0b; padding: 0.4rem 0.6rem;
  border-radius: 4px; font-style: italic; }
.qa-guess { color: #78350f; background: #fffdf5; border: 1px dashed #d97706; padding: 0.4rem 0.6rem;
  border-radius: 4px; }
.qa-guess-label { display: inline-block; font-size: 0.72rem; font-weight: 700; letter-spacing: 0.04em;
  text-transform: uppercase; color: #fff; background: #d97706; border-radius: 3px; padding: 0 0.35em; }
.qa-guess .qa-short { font-weight: 500; }
.qa-guess-text { font-weight: 700; border-bottom: 2px dashed #d97706; }
.qa-guess-note { color: #78350f; font-size: 0.88rem; margin-bottom: 0.5rem; }
mark.qa-tentative { background: #fff7e6; outline: 1px dashed #d97706; }
.qa-error { color: #991b1b; background: #fef2f2; border-left: 4px solid #ef4444; padding: 0.4rem 0.6rem;
  border-radius: 4px; }
.qa-for { font-weight: 600; margin-bottom: 0.5rem; }
.qa-as-of { font-weight: 500; color: var(--body-text-color-subdued); }
.qa-timeline { list-style: none; padding-left: 0; margin: 0.4rem 0 0; }
.qa-timeline-entry { border-left: 3px solid #93c5fd; padding: 0.2rem 0 0.5rem 0.7rem; margin: 0; }
.qa-timeline-date { font-weight: 600; font-size: 0.85rem; color: #1d4ed8; }
.qa-chart-box svg { max-width: 100%; height: auto; }
.qa-chart-value, .qa-chart-date { fill: var(--body-text-color); }
.qa-read-as { font-size: 0.85rem; font-style: italic; margin-bottom: 0.3rem; color: var(--body-text-color-subdued); }
.qa-earlier { font-size: 0.88rem; margin-top: 0.3rem; color: var(--body-text-color-subdued); }
.qa-newer { font-size: 0.88rem; margin-top: 0.3rem; }
.qa-empty { color: var(--body-text-color-subdued); padding: 1rem 0.2rem; }
.qa-source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.6rem 0.8rem;
  margin-bottom: 0.6rem; background: var(--background-fill-primary); }
.qa-source summary { cursor: pointer; list-style: none; }
.qa-source summary::-webkit-details-marker { display: none; }
.qa-source-head { font-weight: 600; }
.qa-excerpt { margin-top: 0.35rem; line-height: 1.55; white-space: pre-line; }
.qa-open { margin-top: 0.3rem; font-size: 0.82rem; color: #1d4ed8; }
.qa-source[open] .qa-open, .qa-source[open] .qa-excerpt { display: none; }
.qa-article { margin-top: 0.6rem; padding-top: 0.6rem; border-top: 1px dashed var(--border-color-primary);
  max-height: 420px; overflow-y: auto; white-space: pre-wrap; line-height: 1.6; }
mark { background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px; }
.qa-corpus { width: 100%; border-collapse: collapse; font-size: 0.88rem; }
.qa-corpus th, .qa-corpus td { text-align: left; padding: 0.3rem 0.4rem; border: none !important;
  border-bottom: 1px solid var(--border-color-primary) !important; vertical-align: top; }
.qa-corpus .qa-date { white-space: nowrap; }
.qa-corpus .qa-num { text-align: right; }
#examples { align-items: center; gap: 0.5rem; flex-wrap: wrap; }
#examples > * { flex: 0 1 auto !important; width: auto !important; min-width: 0 !important; }
#examples button { white-space: nowrap; }
.qa-try { color: var(--body-text-color-subdued); font-size: 0.9rem; }
#sources, #corpus { max-height: 640px; overflow-y: auto; }
#article-nav { align-items: center; gap: 0.4rem; }
"""

# When a source card opens, scroll its article so the highlighted span is in view.
SOURCES_JS = """
element.addEventListener('toggle', (event) => {
  const card = event.target;
  if (!card.open) return;
  const box = card.querySelector('.qa-article');
  const mark = box && box.querySelector('mark');
  if (mark) box.scrollTop = Math.max(0, mark.offsetTop - box.offsetTop - 60);
}, true);
"""
