"""Answers with cited spans: evidence sentences, a short answer inside them, or an abstention."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from qa import entities as ner
from qa.candidates import (
    Span,
    abstain_below,
    best_span,
    entity_spans,
    make_span,
    phrase_span,
    reason_spans,
    window_overlap,
)
from qa.evidence import Sentence, SentenceScorer, content_stems, passage_sentences, stem
from qa.questions import PERSON, QuestionType, conversation_context, is_follow_up, question_type, rewrite_follow_up
from qa.records import Answer, Citation, Passage
from qa.text import split_sentences

if TYPE_CHECKING:
    from qa.index import Index

EVIDENCE_PASSAGES = 4
FOLLOW_UP_BONUS = 0.15
CANDIDATE_SENTENCES = 4

_SUBJECT_PRONOUN = re.compile(
    r"^\W*(he|she|they)\b|[,;]\s*(he|she|they)\s+(said|says|added|told|revealed|noted)\b", re.I
)
_TITLE_WORDS = frozenset(
    "mr mrs ms dr president minister foreign prime spokesman spokeswoman spokesperson secretary general "
    "chancellor king queen prince senator governor mayor chief deputy ambassador official".split()
)


def _scorer(index: Index) -> SentenceScorer:
    store = index.store
    scorer = getattr(store, "_sentence_scorer", None)
    if scorer is None:
        scorer = SentenceScorer(index.embedder.encode, store.term_frequency, store.manifest.chunks)
        store._sentence_scorer = scorer  # one per generation: term counts change with it
    return scorer


# ---------------------------------------------------------------- candidates


def _document_sentences(index: Index, doc_id: str) -> tuple[str, list[tuple[int, int]]]:
    cache = getattr(index.store, "_doc_sentences", None)
    if cache is None:
        cache = {}
        index.store._doc_sentences = cache
    entry = cache.get(doc_id)
    if entry is None:
        # Held locally: another thread may clear the cache between storing and returning.
        text = index.document(doc_id).text
        entry = (text, split_sentences(text))
        if len(cache) > 256:
            cache.clear()
        cache[doc_id] = entry
    return entry


def _sentence_at(index: Index, template: Sentence, start: int, end: int) -> Sentence:
    text, _ = _document_sentences(index, template.doc_id)
    return Sentence(
        template.doc_id,
        template.title,
        template.source,
        template.published,
        start,
        end,
        text[start:end],
        template.passage_rank,
        score=template.score,
    )


def _antecedent(index: Index, sentence: Sentence) -> tuple[Sentence, ner.Entity] | None:
    """Who "he" is: the first person named in the nearest earlier sentence that names one. The small
    recogniser sometimes tags a lone surname as an organisation; the document's fuller mentions decide."""
    text, spans = _document_sentences(index, sentence.doc_id)
    earlier = [(s, e) for s, e in spans if e <= sentence.start][-3:]
    for s, e in reversed(earlier):
        for x in ner.entities([text[s:e]])[0]:
            person = x.label in PERSON
            if not person and x.label == "ORG" and len(x.text.split()) == 1:
                fuller, _ = _fullest_form(index, sentence.doc_id, x.text, sentence)
                person = fuller != x.text
            if person:
                return _sentence_at(index, sentence, s, e), x
    return None


def _fullest_form(index: Index, doc_id: str, name: str, template: Sentence) -> tuple[str, Sentence | None]:
    """The longest name in the document that contains `name` (e.g. "Sergei Lavrov" for "Lavrov")."""
    text, spans = _document_sentences(index, doc_id)
    pattern = re.compile(r"(?<!\w)" + re.escape(name) + r"(?!\w)")
    best, best_sentence = name, None
    holders = [(s, e) for s, e in spans if pattern.search(text[s:e])]
    for (s, e), ents in zip(holders, ner.entities([text[s:e] for s, e in holders])):
        for ent in ents:
            words_ = ent.text.split()
            while words_ and words_[0].lower().strip(".") in _TITLE_WORDS:
                words_ = words_[1:]
            full = " ".join(words_)
            if full.count("(") != full.count(")"):
                full = full[: full.rfind("(")].rstrip()
            if full != name and pattern.search(full) and len(full) > len(best) and len(words_) <= 5:
                best, best_sentence = full, _sentence_at(index, template, s, e)
    return best, best_sentence


def _candidates(
    index: Index, qtype: QuestionType, ranked: list[Sentence], weights: dict[str, float], question_stems: set[str]
) -> tuple[list[Span], dict[int, Sentence]]:
    """Short-answer candidates, and for speaker candidates the earlier sentence that names them (by span id)."""
    top = ranked[:CANDIDATE_SENTENCES]
    spans = entity_spans(top, qtype, weights, question_stems)
    if qtype.wh == "why":
        spans += reason_spans(top, weights, question_stems)
    best_sentence = top[0]
    extra: dict[int, Sentence] = {}
    if qtype.labels & PERSON:
        for position, sentence in enumerate(top[:2]):
            # A sentence whose subject is "he", or a quotation continued from an earlier sentence,
            # names its speaker earlier in the document.
            if not (_SUBJECT_PRONOUN.search(sentence.text) or sentence.text.startswith(("“", '"'))):
                continue
            found = _antecedent(index, sentence)
            if not found:
                continue
            prev, ent = found
            share = sum(1 for w in ent.text.split() if stem(w.lower()) in question_stems) / max(
                1, len(ent.text.split())
            )
            if share < 0.5:
                # "He" in the sentence is the answer: it takes that sentence's evidence.
                base = make_span(sentence, position, 0, 0, ent.label, 1.0, weights, question_stems)
                features = {**base.features, "is_speaker": 1.0, "in_question": share, "length": 0.2, "long": 0.0}
                features["window"] = window_overlap(sentence.text, 0, 3, weights)
                span = Span(sentence, prev.start + ent.start, prev.start + ent.end, ent.text, ent.label, features)
                spans.append(span)
                extra[id(span)] = prev
    if not spans and not qtype.labels:
        phrase = phrase_span(best_sentence, question_stems, weights)
        if phrase:
            spans.append(phrase)
    return spans, extra


# ---------------------------------------------------------------- citations


def _merge(sentences: Sequence[Sentence]) -> list[tuple[str, int, int, Sentence]]:
    """Adjacent sentences of one document become one quote; quotes keep the order of their first sentence
    in `sentences`, so the main evidence stays first."""
    importance = {(s.doc_id, s.start): i for i, s in reversed(list(enumerate(sentences)))}
    ordered = sorted(set(sentences), key=lambda s: (s.doc_id, s.start))
    merged: list[list[Any]] = []
    for s in ordered:
        if merged and merged[-1][0] == s.doc_id and s.start - merged[-1][2] <= 3:
            merged[-1][2] = max(merged[-1][2], s.end)
            merged[-1][4] = min(merged[-1][4], importance[(s.doc_id, s.start)])
        else:
            merged.append([s.doc_id, s.start, s.end, s, importance[(s.doc_id, s.start)]])
    merged.sort(key=lambda m: m[4])
    return [(d, a, b, s) for d, a, b, s, _ in merged]


def _citations(index: Index, support: Sequence[Sentence]) -> tuple[Citation, ...]:
    out = []
    for doc_id, start, end, s in _merge(support):
        text, _ = _document_sentences(index, doc_id)
        out.append(
            Citation(
                doc_id=doc_id,
                title=s.title,
                published=s.published,
                start=start,
                end=end,
                quote=text[start:end],
                source=s.source,
            )
        )
    return tuple(out)


# ---------------------------------------------------------------- entry point


def _near_last_answer(ranked: list[Sentence], history: Sequence[Any] | None) -> list[Sentence]:
    """A follow-up is most likely about what the last answer quoted: its sentences, and their
    neighbours, gain a little."""
    last = next((t for t in reversed(history or []) if isinstance(t, Answer)), None)
    if last is None or not last.citations:
        return ranked
    spans = [(c.doc_id, c.start, c.end) for c in last.citations]
    boosted = []
    for s in ranked:
        near = any(d == s.doc_id and s.start <= e + 300 and s.end >= b - 300 for d, b, e in spans)
        boosted.append(replace(s, score=s.score + FOLLOW_UP_BONUS) if near else s)
    return sorted(boosted, key=lambda s: -s.score)


@dataclass(frozen=True)
class Deliberation:
    """Everything an answer is chosen from: passages, ranked evidence sentences and candidate spans."""

    question: str
    search_text: str
    passages: tuple[Passage, ...]
    sentences: tuple[Sentence, ...]
    candidates: tuple[Span, ...]
    speakers: dict[int, Sentence]


def deliberate(
    index: Index, question: str, history: Sequence[Any] | None = None, k: int = 5, **filters: Any
) -> Deliberation:
    """Retrieve, score the evidence sentences and list the candidate short answers of a question."""
    from qa.index import clean_question

    question = clean_question(question)
    search_text = rewrite_follow_up(question, history)
    passages = tuple(index.retrieve(search_text, k=max(k, EVIDENCE_PASSAGES), **filters))
    if not passages:
        return Deliberation(question, search_text, passages, (), (), {})
    scorer = _scorer(index)
    qvec = index.embed_question(search_text)
    weights = scorer.term_weights(question)
    if search_text != question:
        # Words carried over from earlier turns count, but less than the question's own.
        for term, weight in scorer.term_weights(search_text).items():
            weights.setdefault(term, 0.5 * weight)
    ranked = scorer.score(weights, qvec, passage_sentences(passages[:EVIDENCE_PASSAGES]))
    if search_text != question:
        ranked = _near_last_answer(ranked, history)
    # The question's own words, and a follow-up's earlier question, are not answers.
    qtype = question_type(question)
    question_stems = set(content_stems(question)) - ({stem(qtype.head)} if qtype.head else set())
    context = conversation_context(history) if is_follow_up(question) else None
    if context is not None and context.last_question:
        question_stems |= set(content_stems(context.last_question))
    spans, speakers = _candidates(index, qtype, ranked, weights, question_stems)
    return Deliberation(question, search_text, passages, tuple(ranked), tuple(spans), speakers)


def answer_question(
    index: Index, question: str, history: Sequence[Any] | None = None, k: int = 5, **filters: Any
) -> Answer:
    """Answer `question` from `index`; `history` holds earlier turns (Answers, questions or (q, a) pairs)."""
    d = deliberate(index, question, history, k, **filters)
    shown = d.passages[:k]
    span = best_span(list(d.candidates))
    confidence = span.probability if span is not None else 0.0
    if span is None or confidence < abstain_below():
        return Answer(d.question, None, True, confidence, (), shown, d.search_text)
    support = [span.sentence] + ([d.speakers[id(span)]] if id(span) in d.speakers else [])
    text = span.text
    if span.label in ("PERSON", "ORG"):
        fuller, where = _fullest_form(index, span.sentence.doc_id, text, support[-1])
        if fuller != text and where is not None:
            text = fuller
            if not any(fuller in s.text for s in support):
                support.append(where)
    return Answer(d.question, text, False, confidence, _citations(index, support), shown, d.search_text)
