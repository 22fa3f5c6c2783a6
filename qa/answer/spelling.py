"""Typing slips in questions: a word no indexed chunk holds, and no known word, is read as the indexed word one
slip away (a letter left out, added or changed, or two letters swapped), the one the most chunks hold.

People type questions fast. A slip in a name ("Karantaka") costs the question its BM25 match and blurs its
embedding: with one slip each, news questions were answered with F1 0.619 against 0.695. A word an English
dictionary holds (pyspellchecker's, 160,000 words with their inflections) or the embedding model's vocabulary
holds whole is taken as meant, even when no article holds it: correcting it would turn a question about
something the articles do not cover into one they seem to answer, and "marchers" is not "marches".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from qa.encoders.models import bundled_model_path
from qa.errors import ModelError
from qa.search.retrieval import STOPWORDS

# Shorter words are left as typed: one slip away from a short word lie many other words.
MIN_LETTERS = 4
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# Plain words of letters only: numbers, compounds' parts and names with other scripts are left alone.
_PLAIN_WORD = re.compile(r"(?<![\w'’-])[A-Za-z]+(?![\w'’-])")
_QUOTED = re.compile(r"(\"[^\"]*\"|“[^”]*”)")


@lru_cache(maxsize=1)
def _model_words() -> frozenset[str]:
    """The bundled embedding model's whole words (names among them), read in milliseconds."""
    try:
        pieces = (bundled_model_path() / "vocab.txt").read_text(encoding="utf-8").split()
    except (ModelError, OSError):
        return frozenset()
    return frozenset(p for p in pieces if p.isascii() and p.isalpha())


@lru_cache(maxsize=1)
def _dictionary_words() -> frozenset[str]:
    """The English dictionary's words with their inflections, loaded on first need (0.2 s)."""
    from spellchecker import SpellChecker

    return frozenset(SpellChecker(language="en", distance=1).word_frequency.keys())


def is_known(word: str) -> bool:
    """Whether a lowercase word is English or a whole word of the embedding model. The model's words are looked at
    first: most words meant are among them, and then the dictionary is never loaded."""
    return word in _model_words() or word in _dictionary_words()


def one_slip_away(word: str) -> set[str]:
    """Every string one typing slip away from the lowercase `word`."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    left_out = {a + b[1:] for a, b in splits if b}
    swapped = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    changed = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    added = {a + c + b for a, b in splits for c in _LETTERS}
    return (left_out | swapped | changed | added) - {word}


def _as_typed(typed: str, word: str) -> str:
    """`word` capitalised when `typed` was (words typed in capitals are acronyms, never corrected)."""
    return word.capitalize() if typed[0].isupper() else word


def corrected_word(word: str, frequency: Callable[[str], int]) -> str:
    """`word` as meant: itself when indexed chunks or the dictionary hold it (or it is an acronym), else the indexed
    word one slip away, an English word before a name or an inflection (the stem "ultim" is indexed for both
    "ultimately" and "ultimably"), then the one the most chunks hold; else itself."""
    lower = word.lower()
    if len(lower) < MIN_LETTERS or word.isupper() or lower in STOPWORDS or frequency(lower) > 0:
        return word
    held = [(c, n) for c in one_slip_away(lower) if (n := frequency(c)) > 0]
    # The dictionary is only opened when there is something to correct to.
    if not held:
        return word
    if is_known(lower):
        return word
    best = max((is_known(c), n, c) for c, n in held)
    return _as_typed(word, best[2])


def corrected_question(question: str, frequency: Callable[[str], int]) -> str:
    """The question with each slipped word corrected; `frequency(term)` says how many indexed chunks hold a term.
    Words inside quotation marks are left as typed: quoting is how a user insists on a spelling."""
    parts = _QUOTED.split(question)
    # split() with one group alternates unquoted text and quoted passages.
    return "".join(
        part if i % 2 else _PLAIN_WORD.sub(lambda m: corrected_word(m.group(), frequency), part)
        for i, part in enumerate(parts)
    )
