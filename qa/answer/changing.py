"""News that changes: when dated articles answer a question differently, the newest one answers.

A news corpus holds one story many times over (a toll that rises, a bill suspended and then withdrawn).
After the usual answer, the articles of the story are read side by side: retrieval's passages from
different articles that score close to its best one, each article's best passage. When the credible
candidates among them say different things, the newest article answers and the earlier, different
answers are listed with their dates; when they agree, or when the newer answers are read far less surely
than the one given, the answer is the one `answer_question` gave, shown as tentative when the question asks
how things stand now and the answer is unsure and comes from an older article than one of the story that
says something else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from qa.answer.abstention import abstention_for, features
from qa.answer.answering import Index, answer_question, asks_who, cited_span
from qa.answer.questions import clean_question, holds_names, name_words, question_names
from qa.answer.quotes import citation_of
from qa.answer.reader import ReadSpan
from qa.errors import InputError
from qa.ingest.dates import relative_dates, spoken_date
from qa.records import Answer, Citation, Guess, Passage, Report

# Passages retrieved to find a story's articles: enough to reach its older and newer reports, which
# rank below the few that retrieval puts first.
STORY_PASSAGES = 20
# A passage is about the question's story when its fused score is at least this share of the best one.
STORY_SHARE = 0.8
# Passages read side by side, the best scored first, and at most this many of one article (a later report
# often states the new figure below the passage that retrieval ranks first).
STORY_READ = 8
PER_ARTICLE = 2
# Two answers say the same when their word overlap (token F1) reaches this.
SAME_ANSWER = 0.5
# A newer article's answer replaces the one given only when the abstention model finds it at least this share as
# probable: a newer report read with far less confidence is more often a related story's figure than an update
# (on wikinews-dev and the five news-qa folds, 7 of the 8 replacements below this share put a wrong answer
# in the place of a right one).
REPLACE_SHARE = 0.66
# Asked how things stand now, an answer from an older article than another of the story read beside it, which
# says something else, is shown as tentative when it is less likely right than wrong: the newer report may have
# changed it, even where the reader finds nothing credible there (changing-dev's one stale answer; over
# wikinews-dev and the five news-qa folds, 2,871 questions, it holds back 5 answers: 2 right, 1 half right, 2 wrong).
CONTESTED = 0.5


@dataclass(frozen=True)
class StoryCandidate:
    """One article's best span for the question, with the probability that it answers it."""

    passage: Passage
    span: ReadSpan
    probability: float


def as_of_filters(as_of: str | None, filters: dict[str, Any]) -> dict[str, Any]:
    """The retrieval filters with `as_of` (YYYY-MM-DD) as the last publication date allowed."""
    if not as_of:
        return filters
    try:
        day = date.fromisoformat(as_of.strip()).isoformat()
    except ValueError:
        raise InputError(f"as of {as_of!r} is not a date; write it as YYYY-MM-DD") from None
    until = filters.get("published_to")
    return {**filters, "published_to": min(until, day) if until else day}


def answer_as_of(
    index: Index, question: str, history: Sequence[Any] | None = None, k: int = 5, as_of: str | None = None, **filters
) -> Answer:
    """Answer `question` from articles published up to `as_of` (all when None); where the story's dated articles
    answer differently, the newest answers, with `as_of` and the `earlier` different answers."""
    filters = as_of_filters(as_of, filters)
    answer = answer_question(index, question, history, k, **filters)
    asked = answer.read_as or clean_question(question)
    if answer.resolved_question == asked and asks_how_things_stand(asked) and any(p.published for p in answer.passages):
        # A follow-up is answered about the conversation's story as it stands; only a question asked afresh is
        # read across the story's dates.
        answer = newest_report(index, asked, answer, filters)
    return resolved_days(replace(answer, as_of=answer.as_of or _answer_date(answer)))


_AUXILIARY = re.compile(r"\b(is|are|has|have|does|do|can|will|did|was|were|had)\b", re.I)


_PAST = ("did", "was", "were", "had")


def _first_auxiliary(question: str) -> str | None:
    first = _AUXILIARY.search(question)
    return first.group(1).lower() if first else None


def asks_how_things_stand(question: str) -> bool:
    """False for a question about a past event ("On which day did…", "How many had died when…"), whose answer
    later reports do not change; True for one about how things stand ("How many have died?", "Is it…?")."""
    return _first_auxiliary(question) not in _PAST


def asks_about_now(question: str) -> bool:
    """True for a question whose verb says it asks about the present ("How many have died?", "Is a warning in
    force?"); False for one without such a verb ("Who presided over the vote?"), which may ask about an event."""
    return _first_auxiliary(question) not in (None, *_PAST)


def resolved_days(answer: Answer) -> Answer:
    """The answer (or its tentative answer) with `text_with_dates`: a day written relative to its article's
    publication ("Monday") followed by the date it stands for, "Monday (31 December 2018)" (`text` stays the span
    the reader quoted)."""
    if answer.best_guess is not None:
        guess = answer.best_guess
        return replace(answer, best_guess=replace(guess, text_with_dates=with_dates(guess.text, guess.span)))
    return replace(answer, text_with_dates=with_dates(answer.text, answer.span)) if answer.text else answer


def with_dates(text: str, span: Citation | None) -> str | None:
    """`text` followed by the dates of the days it writes relative to its article's publication; None when it
    writes none (or the article has no date)."""
    if span is None or not span.published:
        return None
    days = [iso for s, e, iso in relative_dates(text, span.published)]
    if not days:
        return None
    return f"{text} ({', '.join(spoken_date(d) for d in dict.fromkeys(days))})"


def _answer_span(answer: Answer) -> Citation | None:
    """The span an answer (or tentative answer) quotes."""
    return answer.span or (answer.best_guess.span if answer.best_guess else None)


def _answer_date(answer: Answer) -> str | None:
    """The publication date of the article an answer (or tentative answer) comes from."""
    span = _answer_span(answer)
    return span.published if span else None


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"\w+", text.lower()) if w not in ("a", "an", "the")]


def same_answer(a: str, b: str) -> bool:
    """True when two answers say the same: their words overlap by token F1 >= SAME_ANSWER, and they give the same
    numbers (180 mph and 185 mph share a unit, not a figure)."""
    x, y = _words(a), _words(b)
    numbers_x, numbers_y = ({w for w in words if any(ch.isdigit() for ch in w)} for words in (x, y))
    if numbers_x and numbers_y and numbers_x != numbers_y:
        return False
    common = sum(min(x.count(w), y.count(w)) for w in set(x))
    if not common:
        return False
    precision, recall = common / len(x), common / len(y)
    return 2 * precision * recall / (precision + recall) >= SAME_ANSWER


def story_passages(
    index: Index,
    question: str,
    filters: dict[str, Any],
    per_article: int = PER_ARTICLE,
    most: int = STORY_READ,
    wide: int = STORY_PASSAGES,
) -> list[Passage]:
    """The best passages of the dated articles about the question's story, best first (`per_article` of each,
    `most` in all, among retrieval's first `wide`)."""
    found = index.retrieve(question, k=wide, **filters)
    chosen: list[Passage] = []
    for p in found:
        of_article = sum(c.doc_id == p.doc_id for c in chosen)
        if p.published and p.score >= STORY_SHARE * found[0].score and of_article < per_article:
            chosen.append(p)
    return chosen[:most]


def story_candidates(index: Index, question: str, passages: list[Passage]) -> list[StoryCandidate]:
    """Each article's best span with the probability that it answers, as the abstention model judges it."""
    spans = index.reader.read(question, [p.text for p in passages], top=4 * len(passages)).spans
    abstention = abstention_for(index.reader.ref.folder)
    best: dict[str, StoryCandidate] = {}
    for sp in spans:
        passage = passages[sp.passage]
        probability = abstention.probability(features(question, passages, spans, sp))
        if passage.doc_id not in best or probability > best[passage.doc_id].probability:
            best[passage.doc_id] = StoryCandidate(passage, sp, probability)
    return list(best.values())


def newest_report(index: Index, question: str, answer: Answer, filters: dict[str, Any]) -> Answer:
    """`answer` revised by the story's dated articles: the newest credible candidate read at least REPLACE_SHARE as
    surely as the answer given answers when the candidates disagree, and the earlier different ones are listed;
    asked about now, an answer under CONTESTED from an older article than one of the story that says something
    else becomes tentative, and a tentative answer so contested names that newer report;
    unchanged when they agree."""
    passages = story_passages(index, question, filters)
    given_date = _answer_date(answer)
    if len({p.published for p in passages} | ({given_date} if given_date else set())) < 2:
        return answer
    abstention = abstention_for(index.reader.ref.folder)
    candidates = story_candidates(index, question, passages)
    credible = [c for c in candidates if c.probability >= abstention.answer_at]
    given = answer.text or (answer.best_guess.text if answer.best_guess else None)
    # Only the story's articles may replace, contest or be listed beside the answer given.
    in_story = story_articles(index, question, {c.passage.doc_id for c in candidates} | _doc_ids(_answer_span(answer)))
    contesting = [
        c
        for c in candidates
        if given
        and given_date
        and c.passage.published > given_date
        and not same_answer(c.span.text, given)
        and c.passage.doc_id in in_story
    ]
    if contesting and asks_about_now(question) and not any(c.passage.published > given_date for c in credible):
        passage = max(contesting, key=lambda c: c.passage.published).passage
        newer = citation_of(index.document(passage.doc_id), passage.start, passage.end)
        if answer.text is None:
            # Already tentative: it says which newer report may have changed it.
            answer = replace(answer, newer=newer)
        elif answer.confidence < CONTESTED:
            answer = held_back(answer, newer)
    texts = [c.span.text for c in credible] + ([given] if given else [])
    if not credible or all(same_answer(t, texts[0]) for t in texts):
        return answer
    # A newer article that never names what the question names tells another story, and answers nothing here.
    rivals = [
        c
        for c in credible
        if (not answer.text or c.probability >= REPLACE_SHARE * answer.confidence) and c.passage.doc_id in in_story
    ]
    newest = max(rivals, key=lambda c: (c.passage.published, c.probability)) if rivals else None
    if newest is None or (
        given and given_date and (given_date >= newest.passage.published or same_answer(newest.span.text, given))
    ):
        # The answer given stands (no newer report read as surely, or none newer that says otherwise).
        return (
            replace(answer, earlier=_earlier(index, question, credible, given, given_date, None, in_story))
            if given and given_date
            else answer
        )
    cited = cited_span(index, question, newest.passage, newest.span.start, newest.span.end, asks_who(question))
    if cited is None:
        return answer
    text, citations, span = cited
    earlier = list(_earlier(index, question, credible, text, newest.passage.published, answer, in_story))
    shown = (newest.passage, *(p for p in answer.passages if p.chunk_id != newest.passage.chunk_id))
    return Answer(
        answer.question,
        text,
        False,
        newest.probability,
        citations,
        shown[: max(len(answer.passages), 1)],
        answer.resolved_question,
        span,
        as_of=newest.passage.published,
        earlier=tuple(sorted(earlier, key=lambda r: r.published, reverse=True)),
        read_as=answer.read_as,
    )


def story_articles(index: Index, question: str, doc_ids: set[str]) -> set[str]:
    """Those of the articles `doc_ids` that tell the question's story: they name every name and figure of the
    question (`question_names`) that one of them names, also as the start of a word ("Samoan"), so the death of
    Tonga's prime minister, which never names Samoa, is no report of who Samoa's prime minister is."""
    words = {}
    for doc_id in doc_ids:
        doc = index.document(doc_id)
        words[doc_id] = name_words(f"{doc.title} {doc.text}")
    names = [n for n in question_names(question) if any(holds_names([n], w) for w in words.values())]
    return {d for d, w in words.items() if holds_names(names, w)}


def _doc_ids(span: Citation | None) -> set[str]:
    return {span.doc_id} if span is not None else set()


def held_back(answer: Answer, newer: Citation) -> Answer:
    """`answer` shown as tentative because of the `newer` report: abstained, with its text, confidence, span and
    citations as the best guess."""
    if answer.text is None or answer.span is None:
        return answer
    guess = Guess(answer.text, answer.confidence, answer.span, answer.citations)
    return replace(answer, text=None, abstained=True, best_guess=guess, text_with_dates=None, newer=newer)


def _earlier(
    index: Index,
    question: str,
    credible: list[StoryCandidate],
    text: str,
    day: str,
    replaced: Answer | None,
    in_story: set[str],
) -> tuple[Report, ...]:
    """The credible answers of the story's articles (`in_story`) published before `day` that say something else than
    `text`, newest first, one per different answer (the newest that gave it); `replaced`, the answer given before,
    is one of them when its article is of the story."""
    reports: list[Report] = []
    for c in sorted(credible, key=lambda c: c.passage.published, reverse=True):
        if c.passage.published >= day or same_answer(c.span.text, text) or c.passage.doc_id not in in_story:
            continue
        cited = cited_span(index, question, c.passage, c.span.start, c.span.end, asks_who(question))
        if cited is not None:
            reports.append(Report(cited[0], c.passage.published, cited[1][0]))
    said: Answer | Guess | None = (replaced if replaced.text else replaced.best_guess) if replaced else None
    said_span = _answer_span(replaced) if replaced is not None else None
    if said is not None and said_span is not None and said_span.doc_id in in_story:
        when = said_span.published
        if when and when < day and not same_answer(said.text, text):
            reports.append(Report(said.text, when, said.citations[0]))
    unique: list[Report] = []
    for r in sorted(reports, key=lambda r: r.published, reverse=True):
        if not any(same_answer(r.text, u.text) for u in unique):
            unique.append(r)
    return tuple(unique)
