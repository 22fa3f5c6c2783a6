"""Questions as asked: checked and tidied, and for follow-ups what earlier turns contribute to retrieval
and to the reader."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qa.errors import InputError
from qa.records import Answer

MAX_QUESTION_CHARS = 2000
CONTEXT_WORDS = 40
_PRONOUNS = re.compile(
    r"\b(he|she|him|his|her|hers|they|them|their|it|its|this|that|these|those|there|the same)\b", re.I
)
# The words a question asks with; one alternation for every pattern below that looks for them.
_WH = r"(?:who|whom|whose|what|which|when|where|why|how)"
_WH_WORD = re.compile(rf"\b({_WH})\b", re.I)
_FOLLOWUP_START = re.compile(r"^\s*(and|but|also|so|what about|how about|then)\b", re.I)
# A request wrapped around a question ("Can you tell me who…", "I'd like to know when…"): the reader and retrieval
# read the question inside it.
_WRAPPED = re.compile(
    r"^\W*(?:please\s+)?(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?(?:tell|show)\s+me|tell\s+me|"
    r"do\s+you\s+know|i(?:\s+want|\s+would\s+like|['’]d\s+like)\s+to\s+know|i\s+wonder)\s*,?\s+"
    rf"(?={_WH}\b)",
    re.I,
)
# A person or thing a question may name only by pointing back to what was typed before it.
_REFERS_BACK = re.compile(r"\b(he|she|him|his|her|hers|they|them|their|it|its)\b", re.I)
# The last question mark with text after it that holds none.
_LAST_MARK = re.compile(r"\?+(?=\s+[^?]*[^?\s][^?]*$)")
# A greeting before a question, which a comma may end ("Hello, who…").
_GREETING = re.compile(
    r"^\W*(?:(?:hi|hello|hey|hiya|ok|okay|thanks|thank you|sorry|excuse me|btw|question|quick question|"
    r"one more (?:question|thing))\b[\s,.!:;-]*)+",
    re.I,
)
# Where a lead-in typed before the question may end: a statement's or a greeting's stop, not a question mark.
_LEAD_IN_STOP = re.compile(r"[.!:;]+\s+")
# A full stop after a word, not one that ends an abbreviation such as "U.S.".
_FULL_STOP = re.compile(r"\w\w\.$")
# How a question starts; one typed without its question mark, or with a full stop, gets one.
_ASKING_START = re.compile(
    r"^\W*(?:(?:in|on|at|by|for|from|to|until|since|under|with|within|after|before|during|of|about|over|"
    rf"through|according to)\s+)?{_WH}\b"
    r"|^\W*(?:is|are|was|were|do|does|did|can|could|will|would|has|have|had|should|shall|may|might|must)\b",
    re.I,
)


_NAME_TOKEN = re.compile(r"\w[\w'’.&-]*")


def _parts(word: str) -> list[str]:
    """A word's parts between hyphens, without dots and a possessive: "U.S." as "US", "Samoa's" as "Samoa",
    "Trump-Biden" as "Trump" and "Biden"."""
    bare = re.sub(r"['’]s?$", "", word.replace(".", ""))
    return [part for part in bare.split("-") if part]


def question_names(question: str) -> list[str]:
    """The names and figures a question gives, lower case: its capitalised words after the first ("Samoa",
    "World", "Cup") and its words with digits ("2018"), hyphenated words taken apart, without dots or a possessive
    "'s"."""
    names = []
    for i, m in enumerate(_NAME_TOKEN.finditer(question)):
        for word in _parts(m.group()):
            if (i > 0 and word[0].isupper() and word != "I") or any(c.isdigit() for c in word):
                names.append(word.lower())
    return list(dict.fromkeys(names))


def name_words(text: str) -> set[str]:
    """The words of `text` as `question_names` reads names, lower case: what `holds_names` looks in."""
    return {part for w in _NAME_TOKEN.findall(text.lower()) for part in _parts(w)}


def holds_names(names: Sequence[str], words: set[str]) -> bool:
    """Whether a text's `name_words` hold every one of `names` (lower case, from `question_names`) as a word, or a
    name of four letters or more as the start of one ("Samoa" in "Samoan")."""
    return all(n in words or (len(n) >= 4 and any(w.startswith(n) for w in words)) for n in names)


def wh_word(question: str) -> str | None:
    """The question's first wh-word, lower case: "whom" for "From whom did…" and for "It was proposed by whom?"."""
    found = _WH_WORD.search(question)
    return found.group(1).lower() if found else None


def asked_part(question: str) -> str:
    """The question from its first wh-word on ("how many …" for "In 2001, how many …"), or all of it."""
    found = _WH_WORD.search(question)
    return question[found.start() :] if found else question


def clean_question(question: Any) -> str:
    """A question fit to search with, or InputError saying why not: what was typed before it ("Hi!", "Quick
    question:") or after its mark ("Thanks!") left out, the question inside a request ("Can you tell me who…")
    taken out of it, and one typed without its question mark, or with a full stop, given one."""
    if not isinstance(question, str):
        raise InputError("the question must be text")
    # Control characters carry nothing a search can use.
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in question)
    text = " ".join(text.split())
    if not text:
        raise InputError("the question is empty; type a question about the articles")
    if len(text) > MAX_QUESTION_CHARS:
        # Long pastes are cut at a word boundary rather than refused.
        text = text[:MAX_QUESTION_CHARS].rsplit(" ", 1)[0]
    text = _without_trailer(_without_lead_in(text))
    wrapped = _WRAPPED.match(text)
    if wrapped and len(text) > wrapped.end():
        text = text[wrapped.end()].upper() + text[wrapped.end() + 1 :]
    if _ASKING_START.match(text):
        # Retrieval's embedding and the reader read questions as they were trained on them, with the mark: news
        # questions typed without it were answered with F1 0.726 against 0.754 with it, ending in a full stop 0.744.
        if text[-1].isalnum():
            text += "?"
        elif _FULL_STOP.search(text):
            text = text[:-1] + "?"
    return text


def _without_lead_in(text: str) -> str:
    """The question without what was typed before it ("Hi!", "Hello,", "Quick question:", "I read about the
    talks."): cut at the first greeting, or statement-ending stop, after which the text starts like a question.
    Kept whole when the question points back with a pronoun before naming anyone to a statement before it ("Smith
    resigned. Why did he go?"), when what comes before is itself a question, and when the question would be under
    three words."""
    if _starts_asking(text):
        return text
    greeting = _GREETING.match(text)
    for stop in (greeting, *_LEAD_IN_STOP.finditer(text)):
        if stop is None:
            continue
        rest = text[stop.end() :]
        if _starts_asking(rest):
            # A greeting names nobody a pronoun could point back to; a statement may.
            if len(rest.split()) < 3 or (stop is not greeting and _refers_back(rest)):
                return text
            return rest[0].upper() + rest[1:]
    return text


def _without_trailer(text: str) -> str:
    """The question without what was typed after its question mark ("Thanks!", "I could not find it."), unless
    that is another question."""
    mark = _LAST_MARK.search(text)
    if mark is None:
        return text
    after = text[mark.end() :]
    if _starts_asking(after):
        return text
    return text[: mark.end()].rstrip()


def _starts_asking(text: str) -> bool:
    """Whether the text starts like a question, or like a request wrapped around one."""
    return bool(_ASKING_START.match(text) or _WRAPPED.match(text))


def _refers_back(question: str) -> bool:
    """Whether a pronoun of the question comes before any name in it (its first word aside)."""
    pronoun = _REFERS_BACK.search(question)
    if pronoun is None:
        return False
    name = re.search(r"(?<=\s)[A-Z]", question)
    return name is None or pronoun.start() < name.start()


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


_PERSONAL = re.compile(r"\b(he|she|him|her|his|hers|they|them|their)\b", re.I)
_POSSESSIVE = frozenset({"his", "her", "hers", "their"})


def reader_question(question: str, history: Sequence[Any] | None) -> str:
    """A follow-up as the reader should read it: its first personal pronoun replaced by the last answer
    ("Where did he travel?" after "Hossein Amir-Abdollahian" reads "Where did Hossein Amir-Abdollahian travel?")."""
    context = conversation_context(history)
    if context is None or not context.last_answer:
        return question
    m = _PERSONAL.search(question)
    if not m:
        return question
    name = context.last_answer + ("'s" if m.group(1).lower() in _POSSESSIVE else "")
    return question[: m.start()] + name + question[m.end() :]
