"""Whole answers: a list answered with all its items, a reason with its whole clause.

An extractive reader picks a start and an end token; on a list ("Armenia, Azerbaijan and Georgia") or a
reason ("to prevent ISIS from gaining ground again") it often stops one item or a few words short. These
rules only ever extend a span to the right, within its sentence, and only when the question asks for
several things or for a reason.
"""

from __future__ import annotations

import re

# "Which countries …", "What crimes …", "Who were …", "Name the …": a question asking for several things.
_ASKS_LIST = re.compile(r"\W*(?:who|what|which)\s+(?:are|were)\b|\W*(?:list|name)\s+(?:the|all)\b", re.I)
_WHICH = re.compile(r"\W*(?:which|what)\s+([\w-]+)(?:\s+([\w-]+))?", re.I)
_AUXILIARIES = frozenset("is was does do did has have had will would can could should may might".split())
_ASKS_REASON = re.compile(r"\W*(?:why\b|what\s+(?:caused|led|prompted|sparked)\b|for\s+what\s+reason\b)", re.I)
# Between two items: ", ", ", and ", " and ", " or ".
_SEPARATOR = re.compile(r",\s+(?:and\s+|or\s+)?|\s+(?:and|or)\s+")
# Where a reason's clause ends: a clause mark, or a sentence's end.
_CLAUSE_END = re.compile(r"[,;:.!?()\"“”]|\s[-–—]\s|\n")
# A reason's tail longer than this is another clause, not the rest of this one.
REASON_TAIL_WORDS = 12
ITEM_WORDS = 5
MAX_ITEMS = 12


def asks_list(question: str) -> bool:
    """True when the question asks for several things (a plural "which/what", "who were", "name the")."""
    if _ASKS_LIST.match(question):
        return True
    m = _WHICH.match(question)
    if m is None or m.group(1).lower() in _AUXILIARIES:
        return False
    # The thing asked for is plural: "which countries", "what other results", not "which country", "what status".
    return any(
        w
        and len(w) > 3
        and w.lower() not in _AUXILIARIES
        and w.lower().endswith("s")
        and not w.lower().endswith(("ss", "us", "is"))
        for w in m.groups()
    )


def asks_reason(question: str) -> bool:
    """True when the question asks why."""
    return _ASKS_REASON.match(question) is not None


def _item(text: str, at: int, stop: int, capitalised: bool) -> int | None:
    """The end of the list item starting at `at`, or None when what follows is not one: the same form as the
    span's items (capitalised words after capitalised items), at most ITEM_WORDS words."""
    end = at
    words = 0
    for m in re.finditer(r"[^\s,;:.!?()\"“”]+", text[at:stop]):
        if at + m.start() != end + (1 if words else 0) and words:
            break  # not separated by one space: another phrase starts
        word = m.group()
        if words and word.lower() in ("and", "or", "as", "but", "while", "which", "who", "that"):
            break
        if capitalised and not (word[:1].isupper() or word[:1].isdigit() or word.lower() in ("of", "the", "de")):
            break
        end = at + m.end()
        words += 1
        if words > ITEM_WORDS:
            return None
    return end if words else None


def complete_list(text: str, start: int, end: int, stop: int) -> int:
    """A new end for the span [start, end) of `text` taking in the rest of the list it ends in, up to `stop`
    (its sentence's end); `end` itself when no list follows."""
    capitalised = all(w[:1].isupper() or w[:1].isdigit() for w in re.findall(r"[^\s,]+", text[start:end])[-1:])
    new_end = end
    for _ in range(MAX_ITEMS):
        sep = _SEPARATOR.match(text, new_end, stop)
        if sep is None:
            break
        item_end = _item(text, sep.end(), stop, capitalised)
        if item_end is None:
            break
        new_end = item_end
        if "and" in sep.group() or "or" in sep.group():
            break  # the last item
    return new_end


def complete_reason(text: str, start: int, end: int, stop: int) -> int:
    """A new end for the span [start, end) taking in the rest of its clause up to `stop` (its sentence's end)
    when the rest is short; `end` itself otherwise."""
    mark = _CLAUSE_END.search(text, end, stop)
    clause_end = mark.start() if mark else stop
    tail = text[end:clause_end]
    if not tail.strip() or len(tail.split()) > REASON_TAIL_WORDS:
        return end
    return end + len(tail.rstrip())


def completed(question: str, text: str, start: int, end: int, stop: int) -> int:
    """The end of the whole answer for a span [start, end) of `text` whose sentence ends at `stop`."""
    if asks_reason(question):
        return complete_reason(text, start, end, stop)
    if asks_list(question):
        return complete_list(text, start, end, stop)
    return end
