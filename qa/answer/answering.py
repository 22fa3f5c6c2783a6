"""Answers with cited spans: retrieve passages, let the reader pick a span, cite the sentences that hold it.

The reader's spans rerank the passages; whether to answer at all is decided by a small model over the
reading (`qa.answer.abstention`). The short answer is always inside the first citation's quote. Two
small rules stay where they help news readers: a sentence next to the span that matches the question
better is cited too (the span's sentence may only name who "he" is), and for who-questions a name is
given in its fullest form in the document ("Sergei Lavrov" for "Lavrov"), cited from the sentence
that gives it. Who "he" or a quotation's speaker is comes from `qa.answer.people`, a name's whole
extent from `qa.answer.names`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol

from qa.answer.abstention import AbstentionModel, abstention_for, content_stems, features
from qa.answer.lists import list_answer
from qa.answer.metadata import answer_about_article
from qa.answer.names import whole_name
from qa.answer.people import (
    ABBREVIATED_TITLES,
    TITLE_WORDS,
    asked_person,
    asks_who_said,
    quote_speaker,
    resolve_pronoun,
)
from qa.answer.questions import (
    clean_question,
    conversation_context,
    is_follow_up,
    reader_question,
    rewrite_follow_up,
    wh_word,
)
from qa.answer.quotes import citation_of
from qa.answer.reader import Reader, ReadSpan
from qa.answer.spelling import corrected_question
from qa.ingest.text import holding_sentences, split_sentences
from qa.records import Answer, Citation, Document, Guess, Passage
from qa.search.retrieval import STOPWORDS


class Index(Protocol):
    """What answering needs of an index (`qa.index.Index` is one): passages, documents and the reader."""

    @property
    def store(self) -> Any: ...

    @property
    def reader(self) -> Reader: ...

    def retrieve(self, question: str, k: int = 5, **filters: Any) -> list[Passage]: ...

    def document(self, doc_id: str) -> Document: ...


# Passages the reader reads: retrieval's top few hold the answer almost always (Recall@5 0.96).
READ_PASSAGES = 5
# When retrieval is unsure (the passage after those few scores within UNSURE_SHARE of the best one), the
# reader reads up to MORE_PASSAGES, all that close, and its reading reranks them.
UNSURE_SHARE = 0.9
MORE_PASSAGES = 8
# The first passages are read alone; the rest only when no span of those beats no-answer by SURE_GAP.
# Most questions are settled by retrieval's top two, and a later passage, ranked lower by retrieval,
# rarely beats a span that sure: reading it costs more time than it adds answers (bench/tune_answers.py).
FIRST_READ = 2
SURE_GAP = 4.0
# How much a passage's fused retrieval score (0..1) adds to a span's reader score when spans of
# different passages are compared; fitted by bench/tune_answers.py on squad2-tune and wikinews-dev
# (it matters little: weights from 0 to 12 move F1 by under 0.01).
RETRIEVAL_WEIGHT = 4.0
# The answer is chosen among the reader's first few spans by their ranking score plus PROBABILITY_WEIGHT times the
# log-odds the abstention model gives each: the reader's margin alone does not see whether the span has the form
# asked for or how retrieval ranked its passage (bench/tune_answers.py).
CANDIDATES = 5
PROBABILITY_WEIGHT = 2.0
# A follow-up's span near what the last answer cited gains this much.
FOLLOW_UP_BONUS = 1.0
# Neighbouring sentences searched for the one that matches the question best.
EVIDENCE_REACH = 2

# Job titles a reader's who-span may start with ("Board Member Jennifer Homendy"): the answer is the person. Titles
# that are part of how a name is cited ("King Charles III", "General Amherst") are not among them.
_JOB_TITLES = frozenset(
    "member manager ceo chairman chairwoman chair director spokesman spokeswoman spokesperson minister secretary "
    "representative senator justice judge professor administrator commissioner superintendent sheriff lady "
    "executive officer chief editor coach ambassador mayor president legislator lawmaker congressman congresswoman "
    "councillor councilor".split()
)
# Words that make a span an office rather than a name: titles and job titles.
_OFFICE_WORDS = TITLE_WORDS | _JOB_TITLES
_NAME_WORD = re.compile(r"[A-Z][\w'’.-]*")
# Words after which capitalised words begin with a place or a body, not a person: "Senator from Vermont Bernie
# Sanders", "President of the United States Joe Biden". There the fullest name is a given name and a surname.
_PLACE_PREPOSITIONS = frozenset("from of in at for".split())
PLACE_NAME_WORDS = 2
_INITIAL = re.compile(r"[A-Z]\.")
# A possessive ending: asked whose, the answer is the owner's name ("Navaratnam" for "Navaratnam's"); asked who,
# "McDonald's" may be the name itself.
_POSSESSIVE = re.compile(r"['’]s?$")


def _document_sentences(index: Index, doc_id: str) -> tuple[Document, list[tuple[int, int]]]:
    """A document and its sentence offsets, cached per generation."""
    cache = getattr(index.store, "_doc_sentences", None)
    if cache is None:
        cache = {}
        index.store._doc_sentences = cache
    entry = cache.get(doc_id)
    if entry is None:
        # Held locally: another thread may clear the cache between storing and returning.
        doc = index.document(doc_id)
        entry = (doc, split_sentences(doc.text))
        if len(cache) > 256:
            cache.clear()
        cache[doc_id] = entry
    return entry


# ---------------------------------------------------------------- choosing a span


def _near_last_answer(passage: Passage, history: Sequence[Any] | None) -> bool:
    """True when the passage lies near what the last answer cited: a follow-up is most likely about it."""
    last = next((t for t in reversed(history or []) if isinstance(t, Answer)), None)
    if last is None:
        return False
    return any(
        c.doc_id == passage.doc_id and passage.start <= c.end + 300 and passage.end >= c.start - 300
        for c in last.citations
    )


def combine_reads(
    first: Sequence[ReadSpan], read_rest: Callable[[], Sequence[ReadSpan]], sure: float
) -> tuple[tuple[ReadSpan, ...], bool]:
    """The spans answering goes on, best first, and whether the later passages were read: the spans of
    the first FIRST_READ passages alone when one beats no-answer by `sure`, else those with `read_rest()`'s."""
    if any(sp.gap >= sure for sp in first):
        return tuple(sorted(first, key=lambda sp: -sp.gap)), False
    return tuple(sorted((*first, *read_rest()), key=lambda sp: -sp.gap)), True


def _read(reader: Reader, question: str, passages: Sequence[Passage]) -> tuple[ReadSpan, ...]:
    """The reader's spans over the passages, best first (the later passages read only when needed)."""

    def read_rest() -> list[ReadSpan]:
        if len(passages) <= FIRST_READ:
            return []
        rest = reader.read(question, [p.text for p in passages[FIRST_READ:]]).spans
        return [replace(sp, passage=sp.passage + FIRST_READ) for sp in rest]

    first = reader.read(question, [p.text for p in passages[:FIRST_READ]]).spans
    return combine_reads(first, read_rest, SURE_GAP)[0]


def rank_spans(
    spans: Sequence[ReadSpan],
    passages: Sequence[Passage],
    follow_up: bool = False,
    history: Sequence[Any] | None = None,
) -> list[tuple[float, ReadSpan]]:
    """Spans with their ranking score, best first: the reader's margin over no-answer, plus retrieval."""
    ranked = []
    for sp in spans:
        p = passages[sp.passage]
        score = sp.gap + RETRIEVAL_WEIGHT * p.score
        if follow_up and _near_last_answer(p, history):
            score += FOLLOW_UP_BONUS
        ranked.append((score, sp))
    ranked.sort(key=lambda x: -x[0])
    return ranked


def choose_span(
    question: str,
    passages: Sequence[Passage],
    spans: Sequence[ReadSpan],
    ranked: Sequence[tuple[float, ReadSpan]],
    abstention: AbstentionModel,
) -> tuple[ReadSpan, float]:
    """The span to answer with among the first CANDIDATES of `ranked` (non-empty), and its probability of being
    right: the one whose ranking score plus PROBABILITY_WEIGHT times its log-odds is highest."""
    best, _, probability = max(judge_spans(question, passages, spans, ranked, abstention), key=_choice_value)
    return best, probability


def judge_spans(
    question: str,
    passages: Sequence[Passage],
    spans: Sequence[ReadSpan],
    ranked: Sequence[tuple[float, ReadSpan]],
    abstention: AbstentionModel,
) -> list[tuple[ReadSpan, float, float]]:
    """(span, ranking score, probability of being right) of the first CANDIDATES of `ranked`."""
    return [
        (sp, score, abstention.probability(features(question, passages, spans, sp)))
        for score, sp in ranked[:CANDIDATES]
    ]


def _choice_value(judged: tuple[ReadSpan, float, float]) -> float:
    return judged[1] + PROBABILITY_WEIGHT * _log_odds(judged[2])


def _log_odds(probability: float) -> float:
    p = min(max(probability, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _reranked(passages: Sequence[Passage], ranked: Sequence[tuple[float, ReadSpan]]) -> list[Passage]:
    """Passages in the order of their best span; those with none keep retrieval's order after them."""
    order: list[int] = []
    for _, sp in ranked:
        if sp.passage not in order:
            order.append(sp.passage)
    order += [i for i in range(len(passages)) if i not in order]
    return [passages[i] for i in order]


# ---------------------------------------------------------------- citations


def _quote_around(sentences: list[tuple[int, int]], start: int, end: int) -> tuple[int, int]:
    """The whole sentences holding [start, end), or the span itself where no sentence covers it."""
    held = holding_sentences(sentences, start, end)
    if held is None:
        return start, end
    return min(start, sentences[held[0]][0]), max(end, sentences[held[1]][1])


# A sentence that names its subject only by pronoun or title ("He revealed …", "“…,” she said"): who did it
# is named in a sentence before, so that sentence and this one are cited together.
_REFERS_BACK = re.compile(r"\b(he|she|they|his|her|their)\b|^\W*the (" + "|".join(sorted(TITLE_WORDS)) + r")\b", re.I)


def _evidence_sentence(question: str, text: str, sentences: list[tuple[int, int]], first: int, last: int) -> int | None:
    """A sentence near the span's that shares clearly more of the question's words, if there is one; a later
    sentence that refers back to the span's by pronoun or title needs only share more."""
    wanted = content_stems(question)
    if not wanted:
        return None
    own = len(wanted & content_stems(text[sentences[first][0] : sentences[last][1]]))
    best, best_overlap = None, own
    for i in range(max(0, first - EVIDENCE_REACH), min(len(sentences), last + EVIDENCE_REACH + 1)):
        if first <= i <= last:
            continue
        sentence = text[sentences[i][0] : sentences[i][1]]
        overlap = len(wanted & content_stems(sentence))
        refers_back = i > last and _REFERS_BACK.search(sentence) is not None
        if (
            overlap > best_overlap + 1
            or (overlap > best_overlap and overlap >= 2 and own == 0)
            or (refers_back and overlap > best_overlap)
        ):
            best, best_overlap = i, overlap
    return best


def _name_words(text: str) -> list[str] | None:
    """The words of `text` when it reads as a proper name (every word capitalised), else None."""
    parts = text.split()
    if not parts or len(parts) > 4 or not all(_NAME_WORD.fullmatch(w) for w in parts):
        return None
    return parts


def fullest_name(text: str, name: str) -> tuple[str, int] | None:
    """The fullest name in `text` that ends with `name`: the capitalised words right before an occurrence,
    up to a title or a common word ("Foreign Minister Sergei Lavrov" gives "Sergei Lavrov"), with where it
    first starts; of several, the one the text gives most often, then the one of most words. None when no
    occurrence has a longer form."""
    forms: dict[str, list[int]] = {}
    for m in re.finditer(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", text):
        window_start = max(0, m.start() - 80)
        before = list(re.finditer(r"\S+", text[window_start : m.start()]))
        start = m.start()
        taken = 0
        for w in reversed(before):
            word = w.group()
            # Only words joined by single spaces, each a capitalised word that is neither title nor filler.
            gap = text[window_start + w.end() : start]
            lowered = word.lower().strip(".")
            # A word ending in a period other than an initial ("George W. Bush") ends the sentence before.
            ends_sentence = word.endswith(".") and not _INITIAL.fullmatch(word)
            if (
                gap != " "
                or ends_sentence
                or not _NAME_WORD.fullmatch(word)
                or lowered in TITLE_WORDS
                or lowered in _JOB_TITLES
                or lowered in STOPWORDS
            ):
                break
            start = window_start + w.start()
            taken += 1
            if taken + len(name.split()) >= 4:
                break
        if taken and _after_place_preposition(text, start):
            # "Senator from Vermont Bernie Sanders": the run's first words are the preposition's place or body, so
            # only a given name is taken from it.
            words = list(re.finditer(r"\S+", text[start : m.start()]))
            given = [w for w in words if not _INITIAL.fullmatch(w.group())]
            keep = max(0, PLACE_NAME_WORDS - len(name.split()))
            kept = given[len(given) - keep :] if keep else []
            start = start + kept[0].start() if kept else m.start()
            taken = len(kept)
        if taken:
            forms.setdefault(text[start : m.end()], []).append(start)
    if not forms:
        return None
    # A person is named in full more than once as a rule; a relative or a title run into the name, once.
    form = max(forms, key=lambda f: (len(forms[f]), len(f.split()), -forms[f][0]))
    return form, forms[form][0]


def _after_place_preposition(text: str, start: int) -> bool:
    """Whether the word before `start` is one that puts a place or a body before a name ("from", "of the")."""
    before = re.findall(r"\S+", text[max(0, start - 20) : start])
    while before and before[-1].lower() == "the":
        before.pop()
    return bool(before) and before[-1].lower() in _PLACE_PREPOSITIONS


def _citation(index: Index, passage: Passage, start: int, end: int) -> Citation:
    return citation_of(_document_sentences(index, passage.doc_id)[0], start, end)


def _cite(
    index: Index,
    question: str,
    passage: Passage,
    span_start: int,
    span_end: int,
    who: bool,
    refers: tuple[int, int] | None = None,
):
    """(short answer text, citations, the answer's own span) for a span at document offsets; `refers` is
    where a pronoun standing for the span was read, whose sentence is cited too."""
    doc, sentences = _document_sentences(index, passage.doc_id)
    text = doc.text
    quotes = [_quote_around(sentences, span_start, span_end)]
    if refers is not None:
        said = _quote_around(sentences, *refers)
        if said[0] >= quotes[0][1] and text[quotes[0][1] : said[0]].strip() == "":
            quotes[0] = (quotes[0][0], said[1])  # the next sentence: one quote of both
        elif not quotes[0][0] <= said[0] < quotes[0][1]:
            quotes.append(said)
    held = holding_sentences(sentences, span_start, span_end)
    extra = _evidence_sentence(question, text, sentences, *held) if held else None
    if extra is not None:
        s, e = sentences[extra]
        # A neighbouring sentence joins the span's quote; a farther one is a quote of its own.
        if extra in (held[0] - 1, held[1] + 1):
            quotes[0] = (min(s, quotes[0][0]), max(e, quotes[0][1]))
        else:
            quotes.append((s, e))
    answer_text = text[span_start:span_end]
    if who and _name_words(answer_text):
        found = fullest_name(text, answer_text)
        if found:
            answer_text, at = found
            if not any(s <= at and at + len(answer_text) <= e for s, e in quotes):
                quotes.append(_quote_around(sentences, at, at + len(answer_text)))
    citations = tuple(_citation(index, passage, s, e) for s, e in quotes)
    return answer_text, citations, _citation(index, passage, span_start, span_end)


# ---------------------------------------------------------------- entry point


_PAIRS = {"(": ")", "[": "]", "“": "”", '"': '"'}


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without surrounding spaces and separators (a final period may end "U.S.", so it stays), nor a
    bracket or quotation mark at its edge whose partner lies outside it ("120 kilometers)" gives "120 kilometers")."""
    while True:
        before = (start, end)
        while start < end and (text[start].isspace() or text[start] in ",;:"):
            start += 1
        while end > start and (text[end - 1].isspace() or text[end - 1] in ",;:"):
            end -= 1
        span = text[start:end]
        if span and span[0] in _PAIRS and _unpaired(span, span[0]):
            start += 1
        elif span and span[-1] in _PAIRS.values() and _unpaired(span, span[-1]):
            end -= 1
        if (start, end) == before:
            return start, end


def _closed(text: str, start: int, end: int) -> tuple[int, int]:
    """The span with the partner of a bracket or quotation mark that it opens inside and leaves unpaired, when the
    partner follows the span at once (after a full stop, comma, "!" or "?" at most): 'a "glider' gives
    'a "glider"'. A partner farther on would bring words the reader left out."""
    for opening, closing in _PAIRS.items():
        span = text[start:end]
        if not _unpaired(span, opening):
            continue
        last = span.rfind(opening)
        if opening == '"':
            opens = last + 1 < len(span) and not span[last + 1].isspace()  # a mark that opens leans on a word
        else:
            opens = last > span.rfind(closing)
        partner = re.match(r"[.,!?]*" + re.escape(closing), text[end : end + 4])
        if opens and partner:
            end += partner.end()
    return start, end


def _unpaired(span: str, mark: str) -> bool:
    """Whether a bracket or quotation mark in `span` misses its partner there."""
    if mark == '"':
        return span.count('"') % 2 == 1
    opening = next((o for o, c in _PAIRS.items() if mark in (o, c)))
    return span.count(opening) != span.count(_PAIRS[opening])


def passages_to_read(passages: Sequence[Passage]) -> int:
    """How many of retrieval's passages (best first) the reader reads: READ_PASSAGES, or up to MORE_PASSAGES
    when those after them score close to the best."""
    if len(passages) <= READ_PASSAGES or passages[0].score <= 0:
        return min(len(passages), READ_PASSAGES)
    close = sum(p.score >= UNSURE_SHARE * passages[0].score for p in passages[:MORE_PASSAGES])
    return max(READ_PASSAGES, close)


def answer_question(
    index: Index, question: str, history: Sequence[Any] | None = None, k: int = 5, **filters: Any
) -> Answer:
    """Answer `question` from `index`; `history` holds earlier turns (Answers, questions or (q, a) pairs). A word
    typed with a slip is read as the indexed word meant, and the answer says how the question was read."""
    typed = clean_question(question)
    read = corrected_question(typed, index.store.term_frequency)
    answer = _answer_read(index, read, history, k, **filters)
    return answer if read == typed else replace(answer, question=typed, read_as=read)


def _answer_read(index: Index, question: str, history: Sequence[Any] | None, k: int, **filters: Any) -> Answer:
    """The answer to a clean, corrected question."""
    about_article = answer_about_article(index, question, history, k, **filters)
    if about_article is not None:
        return about_article
    search_text = rewrite_follow_up(question, history)
    passages = index.retrieve(search_text, k=max(k, MORE_PASSAGES), **filters)
    if not passages:
        return Answer(question, None, True, 0.0, (), (), search_text)
    read = passages[: passages_to_read(passages)]
    follow_up = search_text != question
    asked = reader_question(question, history) if follow_up else question
    spans = _read(index.reader, asked, read)
    ranked = rank_spans(spans, read, follow_up, history)
    if not ranked:
        return Answer(question, None, True, 0.0, (), tuple(passages[:k]), search_text)
    abstention = abstention_for(index.reader.ref.folder)
    judged = judge_spans(asked, read, spans, ranked, abstention)
    best, _, confidence = max(judged, key=_choice_value)
    # The chosen span's passage is shown first, the others in the order of their best span.
    ranked = [r for r in ranked if r[1] is best] + [r for r in ranked if r[1] is not best]
    shown = tuple((_reranked(read, ranked) + list(passages[len(read) :]))[:k])
    context = conversation_context(history) if is_follow_up(question) else None
    who = asks_who(asked) or (context is not None and bool(re.search(r"\bwho\b", question, re.I)))
    cited = {sp: cited_span(index, asked, read[sp.passage], sp.start, sp.end, who) for sp, _, _ in judged}
    person = asked_person(asked, [p.text for p in read])

    def tells(answer: str) -> bool:
        # An answer made only of the question's own words ("Naomi Martisius" for "Who was the statistician on Naomi
        # Martisius's paper?") tells the reader nothing; asked who someone is, neither does another person's name
        # ("Vladimir Putin" for "Who is Alexei Navalny?").
        return not repeats_question(asked, answer) and not (person and names_someone_else(answer, person))

    if cited[best] is not None and not tells(cited[best][0]):
        # The best candidate that tells something answers; with none the question is not answered.
        telling = [j for j in judged if cited[j[0]] is not None and tells(cited[j[0]][0])]
        if not telling:
            return Answer(question, None, True, 0.0, (), shown, search_text)
        best, _, confidence = max(telling, key=_choice_value)
    if cited[best] is None:
        return Answer(question, None, True, confidence, (), shown, search_text)
    text, citations, span = cited[best]
    # Judged again with spans agreeing when they give the same answer once cited (a quotation's speaker, the
    # person "he" is, a name in full), not only when their words match.
    said = {sp: c[0] for sp, c in cited.items() if c is not None}
    confidence = abstention.probability(features(asked, read, spans, best, lambda sp: said.get(sp, sp.text)))
    sure = confidence >= abstention.answer_at
    if not sure and confidence < abstention.guess_at:
        return Answer(question, None, True, confidence, (), shown, search_text)
    if not sure:
        # Cited exactly as an answer would be, so a reader can judge the candidate from its quote.
        guess = Guess(text, confidence, span, citations)
        return Answer(question, None, True, confidence, (), shown, search_text, best_guess=guess)
    return Answer(question, text, False, confidence, citations, shown, search_text, span)


def asks_who(question: str) -> bool:
    """Whether the question asks who (whom, whose) did or said something."""
    return wh_word(question) in ("who", "whom", "whose")


def cited_span(
    index: Index, asked: str, passage: Passage, start: int, end: int, who: bool
) -> tuple[str, tuple[Citation, ...], Citation] | None:
    """(short answer, citations, its span) for the reader's span [start, end) of `passage` (passage offsets),
    the person named before a pronoun (or, asked who, an office) answering; None when the span holds only
    separators."""
    doc, sentences = _document_sentences(index, passage.doc_id)
    start, end = _trimmed(doc.text, passage.start + start, passage.start + end)
    if start >= end:
        return None
    start, end = _closed(doc.text, *_trimmed(doc.text, *list_answer(asked, doc.text, start, end, sentences)))
    end = whole_name(doc.text, start, end)
    read_start, read_end = start, end
    possessive = _POSSESSIVE.search(doc.text, start, end) if wh_word(asked) == "whose" else None
    if possessive and possessive.start() > start:
        start, end = _trimmed(doc.text, start, possessive.start())
    speaker = quote_speaker(doc.text, start, end) if asks_who_said(asked) else None
    if speaker is not None:
        # Asked who said it, a span inside the quotation is what was said: the answer is who says it.
        start, end, refers = *speaker, (start, end)
    else:
        start, end, refers = resolve_pronoun(doc.text, start, end, who)
    if who:
        start = _after_job_title(doc.text, start, end)
        if (start, end) != (read_start, read_end) and content_stems(doc.text[start:end]) & content_stems(asked):
            # Asked who someone the question names is, the office the reader read answers, not that person's name
            # ("ministry spokesman", not "Saeed Khatibzadeh", for "Who is Khatibzadeh?").
            role = _role_of(doc.text, read_start, read_end, asked)
            if role is not None:
                start, end, refers = *role, None
    return _cite(index, asked, passage, start, end, who, refers)


def repeats_question(question: str, answer: str) -> bool:
    """Whether every word of `answer` is one the question holds as written (and the question offers no choice
    between them, as "Is it easier or harder…?" does): such an answer tells nothing the question did not. Words
    are compared whole, not by stem: "Islamism" answers "What is an Islamic revival movement?"."""
    said, asked = set(_lower_words(answer)), set(_lower_words(question))
    return bool(said) and said <= asked and "or" not in asked


def names_someone_else(answer: str, person: str) -> bool:
    """Whether `answer` is written as a name (capitalised words, no office among them) sharing no word with
    `person`'s: "Paula Radcliffe", not "Russian Foreign Minister", for "Who is Brigid Kosgei?"."""
    words = _name_words(answer)
    if not words:
        return False
    lowered = {w.lower().strip(".,") for w in words}
    return not lowered & _OFFICE_WORDS and not lowered & set(_lower_words(person))


def _lower_words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _role_of(text: str, start: int, end: int, question: str) -> tuple[int, int] | None:
    """The reader's who-span [start, end) without the name at its end when the question gives that name ("Russian
    Foreign Ministry spokesperson Maria Zakharova" → "Russian Foreign Ministry spokesperson" for "Who is
    Zakharova?"); None when only a form of address would be left ("Dr")."""
    words = list(re.finditer(r"\S+", text[start:end]))
    kept = len(words)
    while (
        kept > 1
        and _NAME_WORD.fullmatch(words[kept - 1].group())
        and words[kept - 1].group().lower() not in TITLE_WORDS
    ):
        kept -= 1
    name = text[start + words[kept].start() : end] if kept < len(words) else ""
    if name and content_stems(name) & content_stems(question):
        end = start + words[kept - 1].end()
    if all(w.group().lower().strip(".") in ABBREVIATED_TITLES for w in words[:kept]):
        return None
    return _trimmed(text, start, end)


def _after_job_title(text: str, start: int, end: int) -> int:
    """Where the name in a who-span [start, end) starts after the job title before it ("Railway Manager Aparna
    Garg" → "Aparna Garg"), when two or more capitalised words of the name follow; else `start`."""
    words = list(re.finditer(r"\S+", text[start:end]))
    titled = [i for i, w in enumerate(words) if w.group().lower().strip(".,") in _JOB_TITLES]
    if not titled or not _name_words(text[start:end]):
        return start
    rest = words[titled[-1] + 1 :]
    return start + rest[0].start() if len(rest) >= 2 else start
