"""Sentence splitting with character offsets, and the normalisation used for lexical matching."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Words that end with a period without ending a sentence.
ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sr jr st mt ft gen col lt sgt capt cmdr adm gov sen rep pres rev hon
    messrs mme mlle no nos vol vs etc al approx dept est fig inc ltd co corp bros univ assn
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat sun
    u.s u.k u.n e.g i.e a.m p.m d.c u.s.a u.s.s.r ph.d
    """.split()
)

_TERMINALS = ".!?…"
_CLOSERS = "\"'”’)]»"
# A candidate boundary: terminal punctuation, then closing quotes/brackets, then whitespace.
# Matches start only at the first mark of a run and never backtrack, so a page of "......" stays linear.
_BOUNDARY = re.compile(r"(?<![.!?…])[.!?…]++[\"'”’)\]»]*+(?=\s)")
_PARAGRAPH = re.compile(r"\n[ \t\r\f\v]*\n?\s*")


def _word_before(text: str, end: int) -> str:
    """The word (letters, digits and inner periods) that ends at `end`, lowercased."""
    start = end
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "."):
        start -= 1
    return text[start:end].lower().strip(".")


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the period at `dot` ends an abbreviation or an initial rather than a sentence."""
    word = _word_before(text, dot)
    if not word:
        return False
    if word in ABBREVIATIONS:
        return True
    # A single capital letter ("J. K. Rowling") or a dotted acronym ("U.S.").
    if len(word) == 1 and word.isalpha():
        return True
    return "." in word and all(len(part) <= 2 for part in word.split("."))


def _next_visible(text: str, pos: int) -> int:
    """Index of the first non-space character at or after `pos` (len(text) if none)."""
    n = len(text)
    while pos < n and text[pos].isspace():
        pos += 1
    return pos


def _starts_sentence(ch: str) -> bool:
    return ch.isupper() or ch.isdigit() or ch in "\"'“‘([«-–—•*#"


def _line_breaks(text: str) -> list[int]:
    """Offsets where a line break ends a sentence: the line before it has no terminal punctuation
    but the next line starts like a new sentence or block (headers, titles, list items)."""
    cuts = []
    # One cut per run of whitespace holding line breaks: further breaks in the run would only cut
    # empty spans, and looking at each one's surroundings is quadratic on long blank runs.
    for run in re.finditer(r"\s+", text):
        if run.start() == 0 or run.end() >= len(text) or "\n" not in run.group():
            continue
        cut, nxt = text.index("\n", run.start()), run.end()
        last = text[run.start() - 1]
        if last in _TERMINALS or last in _CLOSERS:
            cuts.append(cut)
            continue
        # "said Russia\n\nwas supportive": a break before a lowercase word is mid-sentence.
        if text[nxt].islower() or text[nxt] in ",;:)]":
            continue
        if last in ",;:(-–—":
            continue
        cuts.append(cut)
    return cuts


def holding_sentences(sentences: list[tuple[int, int]], start: int, end: int) -> tuple[int, int] | None:
    """Indexes of the first and last of `sentences` that overlap [start, end), or None when none does."""
    hits = [i for i, (s, e) in enumerate(sentences) if s < end and e > start]
    return (hits[0], hits[-1]) if hits else None


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Split `text` into sentences; returns (start, end) offsets with surrounding whitespace trimmed."""
    cuts: set[int] = set(_line_breaks(text))
    for m in _BOUNDARY.finditer(text):
        end = m.end()
        nxt = _next_visible(text, end)
        if nxt >= len(text):
            continue
        first_dot = m.start()
        if text[first_dot] == "." and m.group().rstrip(_CLOSERS) == "." and _is_abbreviation(text, first_dot):
            # An abbreviation ends a sentence only when the next word clearly starts one
            # after a line break; inside a line we keep going.
            continue
        if not _starts_sentence(text[nxt]):
            continue
        cuts.add(end)
    spans = []
    start = 0
    for cut in sorted(cuts) + [len(text)]:
        span = _trim(text, start, cut)
        if span:
            spans.append(span)
        start = cut
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


_QUOTE_MAP = str.maketrans(
    {
        "“": '"',
        "”": '"',
        "„": '"',
        "«": '"',
        "»": '"',
        "‘": "'",
        "’": "'",
        "‚": "'",
        "–": "-",
        "—": "-",
        "‐": "-",
        "‑": "-",
        "−": "-",
    }
)
# A word, possibly joined by inner + - ' & . / into a compound such as 3+3, COVID-19, Amir-Abdollahian.
_WORD = re.compile(r"\w+(?:[+\-'&./]\w+)*")


def normalize(text: str) -> str:
    """Unicode-normalise, lowercase and straighten quotes and dashes."""
    return unicodedata.normalize("NFKC", text).translate(_QUOTE_MAP).lower()


@lru_cache(maxsize=4096)
def _expand(word: str) -> tuple[str, ...]:
    parts = [p for p in re.split(r"[+\-'&./]", word) if p]
    if len(parts) <= 1:
        return (word,)
    # The compound keeps its identity ("3_3" is not "33"); its parts still match alone.
    # A possessive ("russia's") is the word itself.
    if word.endswith("'s") and len(parts) == 2:
        return (parts[0],)
    return ("_".join(parts), *parts)


def lexical_terms(text: str) -> list[str]:
    """Terms for full-text search: lowercase words, with compounds kept whole and also split."""
    terms: list[str] = []
    for m in _WORD.finditer(normalize(text)):
        terms.extend(_expand(m.group().strip("_")))
    return [t for t in terms if t]


def words(text: str) -> list[str]:
    """Plain lowercase words of `text` (compounds split), for overlap measures."""
    return [t for t in lexical_terms(text) if "_" not in t]
