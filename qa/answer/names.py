"""Names in full: the reader often stops a name at its head ("the Global Agreement", "Max Planck Institute")
where the article goes on naming it ("… for Cooperation between Iran and Russia", "… for Evolutionary
Anthropology"). A span ending in the head noun of an institution's, a document's or a place's name is widened
over what the name's own capitalised words and joining words still say.
"""

from __future__ import annotations

import re

from qa.ingest.dates import MONTHS, WEEKDAYS

# Words that head the name of an institution, a document or a place, which a name goes on after ("Ministry of
# Foreign Affairs", "Treaty on the Non-Proliferation of Nuclear Weapons"). Offices are not among them: asked who,
# "the President" of "the President of Russia" is resolved to a person elsewhere.
NAME_HEADS = frozenset(
    """agreement treaty convention accord accords act declaration pact charter protocol plan programme program
    strategy initiative institute institution university college school academy ministry department office bureau
    agency authority commission committee council court tribunal bank fund foundation organization organisation
    association society union federation league party movement front alliance coalition centre center museum
    library hospital festival games championship championships cup award prize corporation company board service
    republic kingdom province state county district region island islands gulf bay lake river strait cape""".split()
)
_CAPITALISED = r"[A-Z][\w'’-]*"
# After the head: a joining word and the name's next capitalised words, themselves joined by "of" or "the"; "between"
# takes two names, joined by "and".
_CONTINUATION = re.compile(
    rf" (?:of|for|on) (?:the )?(?P<words>{_CAPITALISED}(?: (?:of |the |of the )?{_CAPITALISED})*)"
    rf"| between {_CAPITALISED}(?: {_CAPITALISED})* and {_CAPITALISED}(?: {_CAPITALISED})*"
)
# Heads of a place's name, which goes on with "of" only: "the Toronto Congress Centre for Anime North" names what
# the place hosted.
_PLACE_HEADS = frozenset(
    "centre center museum library hospital republic kingdom province state county district region "
    "island islands gulf bay lake river strait cape".split()
)
# Capitalised words that say when, not what ("the Council on Monday").
_TIMES = frozenset(MONTHS) | frozenset(WEEKDAYS)
_LAST_WORD = re.compile(rf"({_CAPITALISED})\W*$")


def whole_name(text: str, start: int, end: int) -> int:
    """Where the name that the span [start, end) of `text` begins really ends: past "of Foreign Affairs" or
    "for Cooperation between Iran and Russia" when the span ends at a capitalised head word; else `end`."""
    last = _LAST_WORD.search(text, start, end)
    head = last.group(1).lower() if last else None
    if last is None or last.end(1) != end or head not in NAME_HEADS:
        return end
    while True:
        more = _CONTINUATION.match(text, end)
        words = more.group("words") if more else None
        if more is None or (words and words.split()[0].lower() in _TIMES):
            return end
        if head in _PLACE_HEADS and not more.group().startswith(" of "):
            return end
        end = more.end()
