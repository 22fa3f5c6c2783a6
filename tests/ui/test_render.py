"""HTML of the web app: escaping, highlighted quotes in context, answers and abstentions."""

import html
import re
from dataclasses import replace

from qa.records import Answer, Citation, Document, Guess
from qa.ui.render import (
    chat_reply,
    corpus_panel,
    error_reply,
    escape,
    excerpt,
    highlight,
    paragraph_bounds,
    sources_panel,
)

HOSTILE = (
    "Intro line.\n"
    "The mayor said <script>alert(1)</script> and <img src=x onerror=alert(2)> were typed "
    "[here](javascript:alert(3)) with **bold** and $x$ in it.\n"
    "Last line."
)


def _unescape(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def test_escape_leaves_no_markup_and_round_trips():
    out = escape(HOSTILE)
    assert "<" not in out and ">" not in out and "](" not in out and "**" not in out and "$" not in out
    assert html.unescape(out) == HOSTILE


def test_highlight_marks_exactly_the_span():
    start = HOSTILE.index("<script>")
    end = HOSTILE.index("</script>") + len("</script>")
    out = highlight(HOSTILE, start, end)
    marked = re.search(r"<mark>(.*?)</mark>", out, re.S).group(1)
    assert html.unescape(marked) == "<script>alert(1)</script>"
    assert "<script" not in out
    assert _unescape(out) == HOSTILE


def test_excerpt_is_the_paragraph_around_the_quote(default_text):
    start = default_text.index("Lavrov, for his part")
    end = default_text.index("Turkey.") + len("Turkey.")
    doc = Document("d", "t", default_text)
    lo, hi = paragraph_bounds(default_text, start, end)
    assert lo <= start and end <= hi
    shown = _unescape(excerpt(doc, start, end)).strip("…")
    assert default_text[start:end] in shown


def test_long_paragraphs_are_cut_around_the_quote():
    text = " ".join(f"word{i}" for i in range(2000))
    start = text.index("word1000")
    end = start + len("word1000")
    lo, hi = paragraph_bounds(text, start, end, limit=300)
    assert lo <= start < end <= hi and hi - lo <= 300
    out = excerpt(Document("d", "t", text), start, end)
    assert out.startswith("…") and out.endswith("…")


def test_answers_and_abstentions_look_different():
    cite = Citation("d", "Title <b>", "2021-01-02", 0, 4, "Some", source="src")
    answer = Answer("q?", "Some <i>answer</i>", False, 0.8, citations=(cite, cite))
    reply = chat_reply(answer)
    assert "qa-answer" in reply and "qa-abstain" not in reply
    assert "[1]" in html.unescape(reply) and "[2]" in html.unescape(reply)
    assert "<i>" not in reply and "<b>" not in reply
    abstain = chat_reply(Answer("q?", None, True, 0.1))
    assert "qa-abstain" in abstain and "I don't know" in abstain
    assert "qa-error" in error_reply("<script>x</script>") and "<script>" not in error_reply("<script>")


def test_a_question_read_with_a_slip_corrected_says_how_it_was_read():
    typed = "Who proposed the <b>3+3</b> dicsussions?"
    read = "Who proposed the <b>3+3</b> discussions?"
    reply = chat_reply(Answer(typed, None, True, 0.1, read_as=read))
    assert "qa-read-as" in reply and _unescape(reply).startswith("Read as: " + read)
    assert "<b>" not in reply, "the question is escaped"
    assert "Read as" not in chat_reply(Answer(typed, None, True, 0.1))


def test_a_tentative_answer_looks_like_neither_an_answer_nor_i_dont_know(default_text):
    doc = Document("d", "Talks <b>", default_text, published="2021-10-11")
    start = default_text.index("Lavrov, for his part")
    end = default_text.index("Turkey.") + len("Turkey.")
    span = Citation(doc.id, doc.title, doc.published, start, start + 6, default_text[start : start + 6])
    cite = Citation(doc.id, doc.title, doc.published, start, end, default_text[start:end])
    answer = Answer("q?", None, True, 0.2, best_guess=Guess("Sergei <i>Lavrov</i>", 0.2, span, (cite,)))
    reply = chat_reply(answer)
    assert "qa-guess" in reply and "qa-answer" not in reply and "qa-abstain" not in reply
    assert "Not sure — perhaps" in reply and "<i>" not in reply and "[1]" in html.unescape(reply)
    assert "Sergei <i>Lavrov</i>" in _unescape(reply) and "20%" in reply
    panel = sources_panel(answer, {doc.id: doc})
    marks = re.findall(r'<mark class="qa-tentative">(.*?)</mark>', panel, re.S)
    # The excerpt and the whole article mark the quote, both in the tentative style only.
    assert len(marks) == 2 and all(html.unescape(m) == cite.quote for m in marks)
    assert "<mark>" not in panel and "Not sure" in panel and "No source" not in panel


def test_a_tentative_answer_held_back_by_a_newer_report_says_so(default_text):
    doc = Document("d", "Talks", default_text, published="2021-10-11")
    start = default_text.index("Lavrov, for his part")
    span = Citation(doc.id, doc.title, doc.published, start, start + 6, default_text[start : start + 6])
    guess = Guess("Lavrov", 0.4, span, (span,))
    newer = Citation("d2", "Talks <b>resume</b>", "2021-11-02", 0, 40, "…")
    answer = Answer("q?", None, True, 0.4, best_guess=guess, as_of="2021-10-11", newer=newer)
    text = _unescape(chat_reply(answer))
    assert "From the report of 11 October 2021; a newer one, of 2 November 2021 (Talks <b>resume</b>)" in text
    assert "<b>" not in chat_reply(answer)
    assert answer.to_dict()["newer_report"] == {"date": "2021-11-02", "doc_id": "d2", "title": "Talks <b>resume</b>"}
    plain = Answer("q?", None, True, 0.4, best_guess=guess, as_of="2021-10-11")
    assert "newer" not in _unescape(chat_reply(plain)) and plain.to_dict()["newer_report"] is None
    # The sources panel shows the newer report's passage after the tentative answer's own quote.
    newer_doc = Document(
        "d2", "Talks <b>resume</b>", "Talks resumed on Tuesday in Moscow, officials said.", published="2021-11-02"
    )
    newer = replace(newer, start=0, end=len(newer_doc.text), quote=newer_doc.text)
    panel = sources_panel(replace(answer, newer=newer), {doc.id: doc, newer_doc.id: newer_doc})
    assert "Newer report" in panel and _unescape(panel).index("Newer report") > _unescape(panel).index("Lavrov")
    assert "Talks resumed on Tuesday in Moscow" in _unescape(panel) and "<b>resume" not in panel
    assert "Newer report" not in sources_panel(plain, {doc.id: doc})


def test_sources_panel_from_a_real_answer(default_index):
    answer = default_index.retrieve("who proposed the 3+3 format?", k=1)[0]
    doc = default_index.document(answer.doc_id)
    sentence_start = doc.text.index("He revealed")
    sentence_end = doc.text.index(".", sentence_start) + 1
    cite = Citation(
        doc.id, doc.title, doc.published, sentence_start, sentence_end, doc.text[sentence_start:sentence_end]
    )
    panel = sources_panel(Answer("q", "x", False, 0.9, citations=(cite,)), {doc.id: doc})
    marks = re.findall(r"<mark>(.*?)</mark>", panel, re.S)
    # One mark in the excerpt, one in the whole article a click opens; both are exactly the quote.
    assert len(marks) == 2 and all(html.unescape(m) == cite.quote for m in marks)
    assert escape(doc.title) in panel and doc.published in panel
    assert "<details" in panel and 'class="qa-article"' in panel
    assert "No source" in sources_panel(Answer("q", None, True, 0.1), {})


def test_corpus_panel_shows_its_place_in_the_list_and_escapes():
    docs = [{"id": "a", "title": "<script>t</script>", "source": "s", "published": None, "chunks": 3}] * 3
    out = corpus_panel(docs, 293, offset=50)
    assert "51–53 of 293 articles" in out and out.count("<tr>") == 4 and "<script>" not in out
    found = corpus_panel(docs[:1], 1, query="<b>x</b>")
    assert f"1–1 of 1 article matching “{escape('<b>x</b>')}”" in found and "<b>" not in found
    assert "No article matches “zz”" in corpus_panel([], 0, query="zz") and "<table" not in corpus_panel([], 0)
    assert "No articles are indexed" in corpus_panel([], 0)


def test_source_card_shows_author_site_and_page():
    text = "Page one text.\n\nThe cabinet agreed the funding on Wednesday."
    doc = Document(
        "r.pdf",
        "Libraries funded",
        text,
        source="Westshire <Post>",
        published="2021-06-30",
        meta={"author": "Tom *Hale*"},
    )
    start = text.index("The cabinet")
    cite = Citation(doc.id, doc.title, doc.published, start, len(text), text[start:], source=doc.source, page=2)
    panel = sources_panel(Answer("q", "Wednesday", False, 0.9, citations=(cite,)), {doc.id: doc})
    meta = re.search(r'<div class="qa-meta">(.*?)</div>', panel).group(1)
    assert _unescape(meta) == "By Tom *Hale* · Westshire <Post> · 2021-06-30 · page 2"
    assert "<Post>" not in meta and "*Hale*" not in meta, "metadata is escaped like article text"


def _story_answer():
    from qa.records import Report

    docs = {}
    for doc_id, day, toll in (("d3", "2020-04-07", "1,217"), ("d2", "2020-03-20", "1,124"), ("d1", "2020-03-02", "54")):
        docs[doc_id] = Document(doc_id, f"Toll on {day}", f"Officials said the toll is {toll} now.", published=day)
    cites = {
        d: Citation(d, docs[d].title, docs[d].published, 0, len(docs[d].text), docs[d].text) for d in ("d3", "d2", "d1")
    }
    earlier = (Report("1,124", "2020-03-20", cites["d2"]), Report("54", "2020-03-02", cites["d1"]))
    answer = Answer("What is the toll?", "1,217", False, 0.8, (cites["d3"],), as_of="2020-04-07", earlier=earlier)
    return answer, docs


def test_a_changed_answer_says_as_of_and_lists_earlier_reports_newest_first():
    answer, docs = _story_answer()
    text = _unescape(chat_reply(answer))
    assert "1,217 (as of 7 April 2020)" in text
    assert "Earlier: 1,124 on 20 March 2020 · 54 on 2 March 2020" in text
    panel = sources_panel(answer, docs)
    assert "Earlier reports" in panel
    titles = re.findall(r'<span class="qa-title">(.*?)</span>', panel)
    assert [html.unescape(t) for t in titles] == ["Toll on 2020-04-07", "Toll on 2020-03-20", "Toll on 2020-03-02"]


def test_an_unchanged_answer_shows_no_as_of():
    answer, _ = _story_answer()
    text = _unescape(chat_reply(replace(answer, earlier=())))
    assert "as of" not in text and "Earlier" not in text


def test_the_timeline_panel_lists_dates_oldest_first_with_answers_marked():
    from qa.records import TimelineEntry
    from qa.ui.render import timeline_panel

    answer, docs = _story_answer()
    cites = [answer.citations[0], *(r.citation for r in answer.earlier)]
    entries = [
        TimelineEntry(c.published, c, c.quote.split()[-2], None) for c in sorted(cites, key=lambda c: c.published)
    ]
    entries[0] = TimelineEntry(entries[0].published, entries[0].citation, None)  # no answer read in this one
    html_text = timeline_panel("What is <the> toll?", entries, '<svg class="qa-chart"></svg>')
    assert [d for d in re.findall(r'data-date="([^"]+)"', html_text)] == ["2020-03-02", "2020-03-20", "2020-04-07"]
    assert html_text.count("<mark>") == 2 and "<mark>1,217</mark>" in html_text
    assert "2 March 2020" in html_text and '<svg class="qa-chart">' in html_text and "<the>" not in html_text
    assert "No dated article" in timeline_panel("toll", [])
    assert "Name a subject" in timeline_panel("", [])


def test_a_tentative_answer_shows_the_date_its_relative_day_stands_for():
    text = "Officials said the storm reached the coast earlier today."
    doc = Document("d", "Storm", text, published="2019-09-01")
    start = text.index("earlier today")
    span = Citation(doc.id, doc.title, doc.published, start, start + 13, "earlier today")
    cite = Citation(doc.id, doc.title, doc.published, 0, len(text), text)
    guess = Guess("earlier today", 0.3, span, (cite,), text_with_dates="earlier today (1 September 2019)")
    reply = _unescape(chat_reply(Answer("When did it reach the coast?", None, True, 0.3, best_guess=guess)))
    assert "Not sure — perhaps earlier today (1 September 2019)" in reply
