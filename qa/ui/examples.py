"""Example questions made from the indexed articles themselves, kept only when the index can answer them."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from qa.errors import QAError
from qa.ingest.text import split_sentences
from qa.records import Document

log = logging.getLogger(__name__)

# "Shanghai Cooperation Organization (SCO)" -> "What is the SCO?"
_ACRONYM = re.compile(r"\b[A-Z][a-z]+(?: (?:[A-Z][a-z]+|of|for|and|the)){1,6} \(([A-Z]{2,6})\)")
# "Amir-Abdollahian then sat down with ..." -> "Who then sat down with ...?"
_SUBJECT_VERB = re.compile(
    r"^(?P<subject>(?:[A-Z][\w’'.-]+ ){1,4})(?P<adverb>(?:then|also|later|formally|recently) )?"
    r"(?P<verb>[a-z]{3,}ed|said|told|met|sat|led|won|made|took|gave|held|sent|signed|wrote)\b"
    r"(?P<rest>[^,;:“”\"()]{12,})"
)
# "Russian Foreign Minister Sergei Lavrov" -> "Who is the Russian Foreign Minister?"
_ROLE = re.compile(
    r"\b((?:[A-Z][a-z]+ |[a-z]+ ){0,3}(?:[Ss]pokes(?:man|woman|person)|[Mm]inister|[Pp]resident|[Ss]ecretary|"
    r"[Cc]hancellor|[Gg]overnor|[Mm]ayor|[Aa]mbassador|[Dd]irector|[Cc]hairman|[Cc]hief [Ee]xecutive)) "
    r"[A-Z][a-z]+(?: [A-Z][\w-]+){1,2}"
)
_NOT_NAMES = frozenset(
    "The A An In On At By For From Last This That These Those Earlier Later But And Or He She They It We I You "
    "His Her Their Its Our After Before When While Since If As Upon Meanwhile However".split()
)
MAX_WORDS = 14
# Clauses are cut before these words once the question is long enough to make sense.
_CLAUSE_BREAKS = frozenset({"to", "including", "along", "which", "who", "that", "after", "before", "while", "as"})
# Lower-case words that belong to a role's name ("deputy director", "incumbent President"); any other lower-case
# word before the role ends the clause it came from ("weeks before Indonesian President").
_ROLE_WORDS = frozenset(
    "deputy vice acting incumbent interim prime foreign interior finance health defence defense chief executive "
    "general assistant senior regional state federal national".split()
)
# Capitalised words that start a sentence or name a day, not a role: "Only President …", "This Wednesday …".
_NOT_ROLES = _NOT_NAMES | frozenset("Only Per Late Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split())
_ROLE_SKIP = frozenset(
    "said says told by with and of former the a an its his her their was is were are has had as for to on in at "
    "from into onto than about over under against between among like via within without".split()
)


def _who_question(sentence: str) -> str | None:
    m = _SUBJECT_VERB.match(sentence)
    if not m or m["subject"].split()[0] in _NOT_NAMES:
        return None
    words = (m["adverb"] or "").split() + [m["verb"]] + m["rest"].split()
    for i, word in enumerate(words[:MAX_WORDS]):
        if i >= 6 and word in _CLAUSE_BREAKS:
            words = words[:i]
            break
    words = words[:MAX_WORDS]
    # Questions that stop on a function word read badly.
    while words and words[-1].lower() in {"a", "an", "the", "of", "to", "and", "in", "on", "with", "for", "at", "by"}:
        words.pop()
    return "Who " + " ".join(words).rstrip(".") + "?" if len(words) >= 4 else None


def candidate_questions(doc: Document, max_chars: int = 4000) -> Iterator[str]:
    """Questions the article's own sentences suggest, in reading order."""
    text = doc.text[:max_chars]
    for m in _ACRONYM.finditer(text):
        yield f"What is the {m[1]}?"
    for m in _ROLE.finditer(text):
        words = m[1].split()
        # Keep only the role itself: drop what precedes its last function word, verb or other lower-case word
        # that names no role ("weeks before Indonesian President" -> "Indonesian President"), while a name in
        # capitals stays whole ("United States President").
        cut = max(
            (
                i
                for i, w in enumerate(words[:-1])
                if w.lower() in _ROLE_SKIP or w in _NOT_ROLES or (w.islower() and w not in _ROLE_WORDS)
            ),
            default=-1,
        )
        words = words[cut + 1 :]
        if words:
            yield f"Who is the {' '.join(words)}?"
    for start, end in split_sentences(text):
        question = _who_question(text[start:end].strip())
        if question:
            yield question


def _interleave(docs: list[Document]) -> Iterator[str]:
    """Candidates taken in turn from each article, so one long article does not fill the row."""
    streams = [candidate_questions(d) for d in docs]
    while streams:
        for stream in list(streams):
            question = next(stream, None)
            if question is None:
                streams.remove(stream)
            else:
                yield question


def example_questions(index, n: int = 4, max_docs: int = 12, max_tries: int = 16) -> list[str]:
    """Up to `n` questions from the `max_docs` newest articles that the index answers without abstaining.

    Only those articles are read and at most `max_tries` questions asked, so the cost does not grow with the
    index, and the same index always gives the same questions."""
    docs = []
    for meta in index.documents_page(limit=max_docs)[0]:
        try:
            docs.append(index.document(meta["id"]))
        except QAError:
            continue  # removed since the page was read
    found: list[str] = []
    seen: set[str] = set()
    for question in _interleave(docs):
        if len(found) >= n or len(seen) >= max_tries:
            break
        if question.lower() in seen:
            continue
        seen.add(question.lower())
        try:
            if not index.answer(question).abstained:
                found.append(question)
        except Exception as exc:  # examples are optional: a failing answer must not stop the app starting
            log.debug("example %r not usable: %s", question, exc)
    return found
