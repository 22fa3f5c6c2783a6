"""Who a passage means: the person named by title or before a verb of saying, the person a pronoun or an office
stands for, and who speaks a quotation.

News names a person once and then says "he", "the minister", or quotes them for a paragraph with only "he adds"
between the quotations. Asked who did or said something, the answer is the name, found here by the patterns
news is written in, not by a model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.answer.questions import wh_word
from qa.ingest.dates import MONTHS, WEEKDAYS

TITLE_WORDS = frozenset(
    "mr mrs ms dr president minister foreign prime spokesman spokeswoman spokesperson secretary general "
    "chancellor king queen prince senator governor mayor chief deputy ambassador official".split()
)
_PRONOUNS = frozenset("he she him her they them".split())
# Words that may stand before an office in a span that names nobody ("the former prime minister").
_ROLE_QUALIFIERS = frozenset("former new acting then current incumbent outgoing top vice interim".split())
# How far back the person a pronoun stands for is looked for: a few sentences.
PRONOUN_REACH = 600
# Verbs that attribute words to a speaker, as news writes them.
_SAYING = (
    "said|says|say|told|tells|added|adds|stated|states|announced|announces|revealed|reveals|explained|explains|"
    "noted|notes|wrote|writes|argued|argues|warned|warns|proposed|claimed|claims|insisted|insists|stressed|"
    "stresses|declared|declares|tweeted|tweets|commented|remarked|continued|continues|replied|replies|asked|asks|"
    "concluded|acknowledged|admitted|urged|urges"
)
_NAME = r"[A-Z][\w'’-]+(?: [A-Z][\w'’-]+){0,2}"
# A person named as one: after a title ("spokesman Saeed Khatibzadeh") or before what people do in news
# ("Lavrov, for his part, said", "Putin told").
_PERSON = re.compile(
    r"(?:\b(?i:" + "|".join(sorted(TITLE_WORDS)) + r")\s+)+(?P<titled>" + _NAME + ")"
    r"|(?P<acting>" + _NAME + r")(?=,? (?:for (?:his|her) part,? )?"
    r"(?:said|says|told|added|adds|stated|announced|revealed|explained|noted|wrote|argued|warned|proposed)\b)"
)
# A question whose subject is who spoke: "Who said that …?", "Who warned on Twitter …?", "Who has described …?"
# (not "Who did Graham say won?", whose answer is what was said).
_WHO_SAID = re.compile(
    r"\bwho\s+(?:(?:has|had|first|also|publicly|reportedly|then|later)\s+)*(?:" + _SAYING + r"|described|describes"
    r"|called|calls|quoted|spoke|speaks)\b",
    re.I,
)
# A quotation within one paragraph, its marks included; one left open runs to the paragraph's end.
_QUOTATION = re.compile(r"“[^”\n]*(?:”|$)|\"[^\"\n]*(?:\"|$)", re.M)
_SPEAKER = (
    r"(?P<who>(?i:he|she|they)\b|(?i:the\s+(?:[a-z]+\s+){0,2}?(?:"
    + "|".join(sorted(TITLE_WORDS))
    + r"))\b|"
    + _NAME
    + ")"
)
# Who speaks, written after the quotation ("”, he adds", "” Lavrov said", "”, said spokesman Saeed Khatibzadeh") or
# before it ("He told reporters: “", "Putin said Russia was ready. “").
_SAID_AFTER = re.compile(
    r"\A[\s,]*(?:" + _SPEAKER + r"(?:,[^,“”\"]{0,40},)?\s+(?:" + _SAYING + r")\b"
    r"|(?:" + _SAYING + r")\s+(?:(?:the\s+|a\s+)?[a-z][\w'’-]*\s+){0,3}?(?P<named>" + _NAME + "))"
)
_SAID_BEFORE = re.compile(
    _SPEAKER + r"(?:,[^,“”\"]{0,40},)?\s+(?:" + _SAYING + r")\b[^“”\".]{0,60}?[,:.]?\s*\Z"
    r"|(?:" + _SAYING + r")\s+(?P<named>" + _NAME + r")[,:.]?\s*\Z"
)
# Capitalised words after a verb of saying that name a time, not a speaker ("said Monday").
_NOT_SPEAKERS = frozenset(MONTHS) | frozenset(WEEKDAYS) | {"today", "yesterday"}


def named_before(text: str, at: int) -> tuple[int, int] | None:
    """Where the last person named before offset `at` stands (after a title, or before a verb of saying),
    within PRONOUN_REACH characters; None when there is none."""
    window_start = max(0, at - PRONOUN_REACH)
    found = None
    for m in _PERSON.finditer(text, window_start, at):
        found = m.span("titled" if m.group("titled") else "acting")
    return found


# The person a title stands before: "Dr. Naomi Martisius", "the president, Joe Biden", "Senator from New York Hillary
# Clinton" (after a place, a given name and a surname; the name ends where capitalised words do).
_TITLED_NEXT = re.compile(
    r",?[ \t]+(?:(?:(?:from|of)[ \t]+(?:the[ \t]+)?(?:[A-Z][\w'’-]*[ \t]+){1,3}?)"
    r"(?P<placed>[A-Z][\w'’-]+(?: [A-Z][\w'’-]+)?)|(?P<name>" + _NAME + r"))(?![\w'’-]| [A-Z])"
)
# Titles written short, whose full stop does not end the sentence ("Dr. Naomi Martisius").
ABBREVIATED_TITLES = frozenset("dr mr mrs ms".split())
# Capitalised words that begin a clause, not a name.
_NOT_NAMES = frozenset("he she they it we i the a an this that his her their its".split())


def named_after(text: str, end: int) -> tuple[int, int] | None:
    """Where the person stands whom a title ending at `end` titles ("Dr" → "Naomi Martisius"); None when no name
    follows it."""
    after = end
    if text[end : end + 1] == ".":
        title = re.search(r"\w+\Z", text[max(0, end - 12) : end])
        if title is None or title.group().lower() not in ABBREVIATED_TITLES:
            return None  # a full stop after a whole word ends the sentence: what follows names someone else
        after += 1
    m = _TITLED_NEXT.match(text, after)
    if m is None:
        return None
    start, stop = m.span("placed" if m.group("placed") else "name")
    return None if text[start:stop].split()[0].lower() in _NOT_NAMES else (start, stop)


def ends_in_title(span: str) -> bool:
    """Whether a span ends in a title or office ("Dr", "former United States Senator")."""
    words = span.lower().rstrip(".").split()
    return bool(words) and words[-1] in TITLE_WORDS


def is_role(span: str) -> bool:
    """Whether a span names a person only by their office: "the president", "The foreign minister"."""
    words = span.lower().split()
    if words[:1] == ["the"]:
        words = words[1:]
    return bool(words) and all(w in TITLE_WORDS or w in _ROLE_QUALIFIERS for w in words) and words[-1] in TITLE_WORDS


def resolve_pronoun(text: str, start: int, end: int, who: bool = False) -> tuple[int, int, tuple[int, int] | None]:
    """The answer the reader's span [start, end) of `text` stands for: asked who, for a title followed by a name,
    that name; for a pronoun (or, asked who, an office such as "the president"), the person named before it; with
    where the span was read. Else the span, with None."""
    span = text[start:end]
    if who and ends_in_title(span):
        # An office before a name titles that name: the person is the one named next.
        named = named_after(text, end)
        if named is not None:
            return named[0], named[1], (start, end)
    if span.lower() in _PRONOUNS or (who and is_role(span)):
        # The reader found who did it only as "he" or "the president": the answer is the person the article named
        # before.
        named = named_before(text, start)
        if named is not None:
            return named[0], named[1], (start, end)
    return start, end, None


def asks_who_said(question: str) -> bool:
    """Whether the question asks who said (told, warned, described …) something: its answer is a speaker."""
    return wh_word(question) == "who" and _WHO_SAID.search(question) is not None


_WHO_IS = re.compile(r"\W*who(?:\s+(?:is|was)|['’]s)\s+(?P<name>[^?]+?)[\s?.!]*$", re.I)
# Most words of a person's name asked about: given names and a surname.
ASKED_NAME_WORDS = 4


def asked_person(question: str, texts: Sequence[str]) -> str | None:
    """The person "Who is Sergei Lavrov?" (or "who was qaboos", "who's lavrov") asks about, as one of `texts`
    writes the name: the question asks what that person is, not for a name. None for any other question, and for
    "who is" followed by an office or a description ("the spokesman", "foreign minister", "Iran's …")."""
    m = _WHO_IS.match(question)
    if m is None:
        return None
    words = m.group("name").split()
    lowered = [w.lower() for w in words]
    if (
        not 1 <= len(words) <= ASKED_NAME_WORDS
        or lowered[0] in _NOT_NAMES
        or any(w in TITLE_WORDS or w in _ROLE_QUALIFIERS or "'" in w or "’" in w for w in lowered)
    ):
        return None
    pattern = re.compile(r"(?<![\w-])" + r"\s+".join(map(re.escape, words)) + r"(?![\w-])", re.I)
    for text in texts:
        for found in pattern.finditer(text):
            if all(w[:1].isupper() for w in found.group().split()):
                return found.group()
    return None


def _paragraph(text: str, at: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    return start, len(text) if end < 0 else end


def _speaker_at(text: str, match: re.Match, offset: int) -> tuple[int, int] | None:
    """The speaker an attribution names: the name itself, or the person a pronoun stands for."""
    group = "who" if match.group("who") else "named"
    start, end = match.start(group) + offset, match.end(group) + offset
    said = text[start:end]
    if said.lower() in _PRONOUNS or is_role(said):
        return named_before(text, start)
    if said.split()[0].lower() in _NOT_SPEAKERS:
        return None
    return start, end


def quote_speaker(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Who speaks the quotation that holds [start, end) of `text`: the speaker named (or the person "he" stands for)
    next to it, or next to an earlier quotation of the same paragraph, which the same person goes on speaking;
    None when the span is not quoted or no speaker is named."""
    para_start, para_end = _paragraph(text, start)
    quotations = [m.span() for m in _QUOTATION.finditer(text, para_start, para_end)]
    holding = [i for i, (s, e) in enumerate(quotations) if s < start and end <= e]
    if not holding:
        return None
    for i in range(holding[0], -1, -1):
        q_start, q_end = quotations[i]
        after_end = quotations[i + 1][0] if i + 1 < len(quotations) else para_end
        before_start = quotations[i - 1][1] if i > 0 else para_start
        for found, offset in (
            (_SAID_AFTER.search(text[q_end:after_end]), q_end),
            (_SAID_BEFORE.search(text[before_start:q_start]), before_start),
        ):
            if found:
                return _speaker_at(text, found, offset)
    return None
