"""Question analysis: what kind of answer a question expects, and follow-ups rewritten from history."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qa.records import Answer

PERSON = frozenset({"PERSON"})
PLACE = frozenset({"GPE", "LOC", "FAC"})
TIME = frozenset({"DATE", "TIME"})
NUMBER = frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"})
ORGANISATION = frozenset({"ORG", "NORP"})

# Head nouns of "which/what X" questions and the entity labels that answer them.
_HEADS: dict[str, frozenset[str]] = {}
for _labels, _nouns in (
    (
        PLACE,
        "country countries city cities town towns place places region regions state states nation nations "
        "capital capitals province provinces continent location locations area areas island islands republic republics "
        "venue venues county counties district districts village villages",
    ),
    (
        PERSON,
        "person people man woman president minister leader spokesman spokesperson spokeswoman official "
        "officials king queen player players author writer singer actor actress diplomat chancellor governor "
        "mayor premier prime secretary chief director founder ceo",
    ),
    (
        ORGANISATION,
        "organization organisation organizations organisations company companies group groups party "
        "parties agency agencies team teams alliance bloc ministry body institution university newspaper",
    ),
    (TIME, "year years date day days month months time century decade era period"),
    (NUMBER, "number amount percentage percent price cost age population"),
):
    for _noun in _nouns.split():
        _HEADS[_noun] = _labels

CONTEXT_WORDS = 40
_DETERMINERS = frozenset("the a an this that these those his her its their our your my kind type sort".split())
_VERBS = frozenset(
    "is are was were be been do does did has have had will would can could should may might must "
    "of in on at by for from to with".split()
)
_PRONOUNS = re.compile(
    r"\b(he|she|him|his|her|hers|they|them|their|it|its|this|that|these|those|there|the same)\b", re.I
)
_FOLLOWUP_START = re.compile(r"^\s*(and|but|also|so|what about|how about|then)\b", re.I)


@dataclass(frozen=True)
class QuestionType:
    """The wh-word of a question and the entity labels a short answer should carry (empty: any phrase)."""

    wh: str
    labels: frozenset[str]
    plural: bool = False
    head: str | None = None  # the noun of "which/what X": part of the question, yet often of the answer too

    def preference(self, label: str) -> float:
        """How well an entity label fits this question, 0..1."""
        if not self.labels:
            return 0.5 if label in _UNTYPED_LABELS else 0.45 if label == "NP" else 0.2
        if label not in self.labels:
            return 0.0
        return _PREFERENCE.get((self.wh, label), 1.0 if label in _PRIMARY.get(self.wh, self.labels) else 0.6)


_UNTYPED_LABELS = frozenset({"WORK_OF_ART", "LAW", "EVENT", "ORG", "PRODUCT", "FAC"})
_PRIMARY = {"who": PERSON, "where": frozenset({"GPE", "LOC"}), "when": frozenset({"DATE"})}
_PREFERENCE = {
    ("who", "NORP"): 0.2,
    ("who", "ORG"): 0.55,
    ("where", "FAC"): 0.8,
    ("when", "TIME"): 0.8,
    ("which", "NORP"): 0.3,
    ("what", "NORP"): 0.3,
}


def question_type(question: str) -> QuestionType:
    """Classify a question by its wh-word and, for which/what questions, its head noun."""
    q = question.lower()
    words = re.findall(r"[a-z0-9']+", q)
    if not words:
        return QuestionType("other", frozenset())
    if re.search(r"\bhow (many|much)\b", q):
        return QuestionType("how many", NUMBER)
    if re.search(r"\bhow (long|old|far|large|big|tall|high)\b", q):
        return QuestionType("how many", NUMBER | TIME)
    if re.search(r"\bwhat (year|date|day|month|time|century|decade)\b", q) or re.search(r"\bwhen\b", q):
        return QuestionType("when", TIME)
    if re.search(r"\bwho(m|se)?\b", q):
        return QuestionType("who", PERSON | ORGANISATION)
    if re.search(r"\bwhere\b", q):
        return QuestionType("where", PLACE)
    named = re.search(r"\bwhat\s+(?:is|was|are|were)\s+the\s+names?\s+of\s+(?:the\s+|a\s+|an\s+)?(\w+)", q)
    if named and named.group(1) in _HEADS:
        head = named.group(1)
        return QuestionType("what", _HEADS[head], head.endswith("s"), head)
    m = re.search(r"\b(which|what)\s+(?:\w+\s+){0,2}?(\w+)\b", q)
    if m:
        # The head is the last known noun of the phrase after which/what ("what present day county").
        head = None
        for word in re.findall(r"[a-z]+", q[m.end(1) :])[:4]:
            if word in _VERBS:
                break
            if word in _HEADS:
                head = word
        if head:
            plural = head.endswith("s") and head[:-1] in _HEADS or head == "people" or head.endswith("ies")
            return QuestionType(m.group(1), _HEADS[head], plural, head)
        # "What treaty would ...": an unknown noun right after the wh-word still names the answer's kind.
        after = re.match(r"\s+([a-z]+)\s+([a-z]+)", q[m.end(1) :])
        if after and after.group(1) not in _VERBS and after.group(1) not in _DETERMINERS and after.group(2) in _VERBS:
            return QuestionType(m.group(1), frozenset(), False, after.group(1))
        return QuestionType(m.group(1), frozenset())
    if re.search(r"\bwhy\b", q):
        return QuestionType("why", frozenset())
    if re.search(r"\bhow\b", q):
        return QuestionType("how", frozenset())
    return QuestionType("other", frozenset())


def _turn_text(turn: Any) -> tuple[str, str | None]:
    """(question, answer text) of one history turn in any of the accepted shapes."""
    if isinstance(turn, Answer):
        # A follow-up's resolved form carries the topic of the turns before it.
        return turn.resolved_question or turn.question, turn.text
    if isinstance(turn, str):
        return turn, None
    if isinstance(turn, dict):
        if "role" in turn:  # chat message
            return (
                (str(turn.get("content") or ""), None)
                if turn["role"] == "user"
                else ("", str(turn.get("content") or ""))
            )
        return str(turn.get("question") or ""), turn.get("answer")
    if isinstance(turn, (list, tuple)) and turn:
        return str(turn[0] or ""), (str(turn[1]) if len(turn) > 1 and turn[1] else None)
    return "", None


def is_follow_up(question: str) -> bool:
    """True when a question leans on earlier turns: a pronoun, a leading "and ...", or very few words."""
    content = [w for w in re.findall(r"\w+", question.lower()) if len(w) > 2]
    return bool(_PRONOUNS.search(question) or _FOLLOWUP_START.match(question) or len(content) <= 2)


@dataclass(frozen=True)
class Context:
    """What earlier turns contribute to a follow-up: words for retrieval and the last answer."""

    text: str
    last_answer: str | None
    last_question: str | None


def conversation_context(history: Sequence[Any] | None) -> Context | None:
    """The context of the most recent turn that asked something, or None without history."""
    if not history:
        return None
    questions: list[str] = []
    answers: list[str] = []
    for turn in history:
        q, a = _turn_text(turn)
        if q:
            questions.append(q)
        if a:
            answers.append(a)
    if not questions:
        return None
    last_q = questions[-1]
    last_a = answers[-1] if answers else None
    words = " ".join(x for x in (last_q, last_a) if x).replace("(", " ").replace(")", " ").split()
    # The most recent words matter most; a long chain of follow-ups keeps only its tail.
    return Context(text=" ".join(words[-CONTEXT_WORDS:]), last_answer=last_a, last_question=last_q)


def rewrite_follow_up(question: str, history: Sequence[Any] | None) -> str:
    """The question made self-contained with the previous turn's question and answer, when it is a follow-up."""
    context = conversation_context(history)
    if context is None or not is_follow_up(question):
        return question
    return f"{question} ({context.text})"
