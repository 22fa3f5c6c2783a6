"""Whole lists: asked for several things ("Which towns…?"), a span that names some items of a list in its
sentence is widened to all of them ("Cantilan" → "Carrascal, Cantilan, Madrid and Cortes").

An item is a short run of words between list separators (a comma, "and", "or", "as well as"); a list ends
with the item after its coordinator, as English writes it. Without a parser the extent of the first item is
not known: it reaches back over at most as many words as the longest other item, and not past a word that
introduces a list ("including", "such as", "in", "of", a verb of being).
"""

from __future__ import annotations

import re

from qa.answer.abstention import content_stems
from qa.ingest.text import holding_sentences
from qa.search.retrieval import STOPWORDS

# Longest item taken into a list, in words: longer runs between commas are clauses, not items.
MAX_ITEM_WORDS = 7
# Words a span grows leftwards to the start of its item.
LEFT_GROWTH = 2
# Auxiliaries: the question's subject ends before one ("Which towns were…").
_AUXILIARIES = frozenset(
    "did do does were was are is have has had would will can could should may might must cannot can't won't".split()
)
# Verbs in -s that often follow a question's subject ("What problem makes…", "What happens to…").
_VERBS_IN_S = frozenset(
    "happens makes causes means remains occurs lies comes goes gives keeps says takes seems needs allows prevents "
    "prohibits helps leads shows holds contains includes requires".split()
)
# Plurals without an -s, and words in -s that are not plurals.
_PLURALS = frozenset("people children men women police staff media data criteria".split())
_NOT_PLURAL = frozenset(
    "news series species means headquarters status bus gas lens thesis crisis basis analysis process business "
    "address access class glass press success chaos bias campus census virus".split()
)
_WORD = re.compile(r"[\w'’-]+")
# Before an item: a comma, or a coordinator with or without one.
_COORDINATOR = r"(?:and|or|as well as)"
_AFTER_ITEM = re.compile(rf",?\s+(?P<coordinator>{_COORDINATOR})\s+|,\s+")
_BEFORE_ITEM = re.compile(rf"(?:,?\s+{_COORDINATOR}|,)\s+$")
# A coordinator inside a run of text.
_INNER_COORDINATOR = re.compile(rf"\s{_COORDINATOR}\s")
# What no item holds: clause punctuation, brackets, quotation marks and dashes.
_ITEM_BREAK = re.compile(r"[,;:()\[\]\"“”—–]|\s-\s")
# Where an item may end, looking for the item a span is part of: any break or separator.
_ITEM_EDGE = re.compile(rf"{_ITEM_BREAK.pattern}|,?\s+{_COORDINATOR}\s+")
_DETERMINERS = frozenset("a an the his her its their our your my this that these those".split())
_PERSONAL = frozenset("i you he she it we they".split())
# Words no item reaches past: they introduce a list, a clause or a phrase about the item.
_INTRODUCERS = frozenset(
    """include includes included including such as like namely among between are were is was be been being
    to from of by with for on at in into onto about around over under against through during within without
    across toward towards than via per after before since until that which who whom said says and or""".split()
)


def asks_for_list(question: str) -> bool:
    """Whether the question asks for several things: "Which towns were…", "What kinds of…", "Who were…". A word in
    -s is a verb, not a plural, when an object follows it: "What prohibits atoms…", "Which republic borders Iran",
    "Which professor says a…", "What happens to…" ask for one thing."""
    if re.search(r"\bwho\s+(?:were|are)\b", question, re.I):
        return True
    asking = re.search(r"\b(?:which|what|whose)\b", question, re.I)
    if asking is None:
        return False
    words = _WORD.findall(question[asking.end() :])
    for i, word in enumerate(words[:4]):
        if word.lower().endswith(("s'", "s’")):
            return True  # "Which presidents' hearings…"
        lowered = re.sub(r"['’]s?$", "", word.lower())
        if lowered in _AUXILIARIES or lowered == "of" or (lowered.endswith("ed") and "-" not in lowered):
            # The subject ends at its verb, and "What share of voters" asks for one share.
            return False
        if lowered in _VERBS_IN_S:
            return False
        following = words[i + 1] if i + 1 < len(words) else ""
        verb_follows = following.lower() in _AUXILIARIES or following.lower().endswith("ed")
        plural = lowered in _PLURALS or (
            len(lowered) > 3
            and lowered.endswith("s")
            and not lowered.endswith(("ss", "us", "is"))
            and lowered not in _NOT_PLURAL
        )
        if word[0].isupper():
            if plural and verb_follows and i <= 1:
                return True  # "Which two Democrats voted…"; "Which Texas city…" is a name
            continue
        if plural:
            object_follows = not verb_follows and (
                following.lower() in _DETERMINERS | _PERSONAL | {"to"}
                or following[:1].isupper()
                or (following.endswith("s") and following.islower())
            )
            return not object_follows
    return False


def _word_count(text: str) -> int:
    return len(_WORD.findall(text))


def _is_name(text: str) -> bool:
    """Whether every word is capitalised: a name ends where its capitals do, so it is not widened to an item."""
    return all(w[0].isupper() or w[0].isdigit() for w in _WORD.findall(text))


def _has_coordinator(text: str) -> bool:
    return _INNER_COORDINATOR.search(text) is not None


def _item_after(text: str, at: int, limit: int, last: bool) -> int | None:
    """Where the item starting at `at` ends (before `limit`), or None when no short item starts there: an item
    does not start with a word that introduces a clause or a list, and one before the list's last holds none."""
    stop = _ITEM_BREAK.search(text, at, limit)
    end = stop.start() if stop else limit
    nested = _INNER_COORDINATOR.search(text, at, end)
    if nested is not None:
        end = nested.start()
    # The last item ends where a clause or a phrase about it starts ("Bala on Sunday", "an infection which…").
    after = next((w for w in _WORD.finditer(text, at, end) if w.group().lower() in _INTRODUCERS), None)
    if last and after is not None and after.start() > at:
        end = after.start()
    end = len(text[:end].rstrip().rstrip(".!?").rstrip())
    words = [w.group().lower() for w in _WORD.finditer(text, at, end)]
    if (
        not words
        or len(words) > MAX_ITEM_WORDS
        or words[0] in _INTRODUCERS
        or words[0] in _AUXILIARIES
        or (words[0].endswith("ed") and text[at].islower())  # "and killed three people": a clause, not an item
    ):
        return None
    if _has_verb(text[at:end]) or any(w in _AUXILIARIES for w in words) or all(w in STOPWORDS for w in words):
        return None
    if not last and any(w in _INTRODUCERS for w in words):
        return None
    return end


def _item_before(text: str, at: int, floor: int, most_words: int) -> tuple[int, bool] | None:
    """(where the item ending at `at` starts, whether a comma stands before it), or None when no item ends there.
    The item reaches back to the comma or coordinator before it, but not past a word that introduces a list:
    there the list starts, and its first item is at most `most_words` words."""
    stops = list(_ITEM_BREAK.finditer(text, floor, at))
    stop = stops[-1] if stops else None
    start = stop.end() if stop else floor
    bounded = stop is not None and stop.group() == ","
    coordinators = list(_INNER_COORDINATOR.finditer(text, start, at))
    if coordinators:
        start, bounded = coordinators[-1].end(), True
    words = list(_WORD.finditer(text, start, at))
    taken = []
    for w in reversed(words):
        if w.group().lower() in _INTRODUCERS:
            bounded = False
            break
        taken.append(w)
    if not bounded:
        taken = taken[:most_words]
    if not taken or len(taken) > MAX_ITEM_WORDS or _has_verb(text[taken[-1].start() : at]):
        return None
    if any(w.group().lower() in _AUXILIARIES for w in taken):
        return None
    return taken[-1].start(), bounded


def _whole_item(text: str, start: int, end: int, floor: int, ceiling: int) -> tuple[int, int]:
    """The span widened to the list item it is part of ("minimum wage" → "raising the minimum wage"): to the
    separator on each side, within MAX_ITEM_WORDS words and over no verb or preposition, else not on that side."""
    found = _ITEM_EDGE.search(text, end, ceiling)
    right = found.start() if found else len(text[:ceiling].rstrip(" .!?"))
    # An item grows over words of its own, not past a preposition into what it is about ("flies around zebras").
    if _word_count(text[start:right]) > MAX_ITEM_WORDS or _introduces(text[end:right]) or _has_verb(text[start:right]):
        right = end
    left = start
    for m in _ITEM_EDGE.finditer(text, floor, start):
        left = m.end()
    # Leftwards only a word or two ("raising the"): more may be the verb and subject before the item.
    if _word_count(text[left:start]) > LEFT_GROWTH or _introduces(text[left:start]) or _has_verb(text[left:end]):
        left = start
    return left, max(end, right)


def _has_verb(text: str) -> bool:
    """Whether a word in -ed follows a word that is not its determiner: "the event featured", not "a detailed plan"."""
    words = _WORD.findall(text)
    return any(
        w.endswith("ed") and w.islower() and words[i - 1].lower() not in _DETERMINERS for i, w in enumerate(words) if i
    )


def _introduces(text: str) -> bool:
    return any(w.lower() in _INTRODUCERS for w in _WORD.findall(text))


def whole_list(text: str, start: int, end: int, floor: int, ceiling: int) -> tuple[int, int]:
    """The span [start, end) of `text` widened to the whole list it names items of, within [floor, ceiling) (its
    sentence); the span itself where it is not part of a list."""
    span_start, span_end, span = start, end, text[start:end]
    if _has_coordinator(span):
        # The reader took a coordinated span ("Robert Smith and Ruth Jones", "A, B and C"): it is the whole list.
        return start, end
    if not _is_name(span):
        start, end = _whole_item(text, start, end, floor, ceiling)
    new_start, new_end = start, end
    longest = _word_count(text[start:end])  # words of the longest item: the first item is no longer
    complete = False
    at = end
    while at < ceiling:
        sep = _AFTER_ITEM.match(text, at, ceiling)
        if sep is None:
            break
        last = sep.group("coordinator") is not None
        item_end = _item_after(text, sep.end(), ceiling, last)
        if item_end is None:
            break
        longest = max(longest, _word_count(text[sep.end() : item_end]))
        at = item_end
        if last:
            new_end, complete = at, True
            break
    at = start
    while at > floor:
        sep = _BEFORE_ITEM.search(text, floor, at)
        # A span after a bare comma is a list's middle item only when its coordinator follows; otherwise the comma
        # may close a clause or an appositive ("…realms, Jorgensen").
        if sep is None or not (complete or _has_coordinator(sep.group())):
            break
        found = _item_before(text, sep.start(), floor, longest)
        if found is None:
            break
        item_start, more = found
        longest = max(longest, _word_count(text[item_start : sep.start()]))
        complete = True
        at = new_start = item_start
        if not more:
            break
    if not complete:
        return span_start, span_end
    while text[new_start].isspace():
        new_start += 1
    return new_start, new_end


def list_answer(question: str, text: str, start: int, end: int, sentences: list[tuple[int, int]]) -> tuple[int, int]:
    """The answer span [start, end) of `text`, widened to its whole list within its sentence (`sentences`: the
    text's sentence offsets) when the question asks for several things and does not name the items added itself
    ("Along with wear, what…" asks for the item that is not wear)."""
    held = holding_sentences(sentences, start, end) if asks_for_list(question) else None
    if held is None:
        return start, end
    new_start, new_end = whole_list(text, start, end, sentences[held[0]][0], sentences[held[1]][1])
    added = content_stems(text[new_start:start] + " " + text[end:new_end])
    if added and len(added & content_stems(question)) * 2 >= len(added):
        return start, end
    return new_start, new_end
