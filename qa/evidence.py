"""Evidence: the sentences of retrieved passages, scored against the question."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.records import Passage
from qa.retrieval import STOPWORDS, query_terms
from qa.text import split_sentences, words

# Weights of the sentence score: meaning, shared rare words, and the passage's retrieval rank.
W_DENSE = 0.5
W_LEXICAL = 0.5
W_RANK = 0.1


@dataclass(frozen=True)
class Sentence:
    """One sentence of a retrieved passage, with offsets into its document and its evidence scores."""

    doc_id: str
    title: str
    source: str | None
    published: str | None
    start: int
    end: int
    text: str
    passage_rank: int
    dense: float = 0.0
    lexical: float = 0.0
    score: float = 0.0


def stem(word: str) -> str:
    """A crude stem: plural -s dropped and long words cut to six letters ("proposed", "proposal" -> "propos")."""
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word[:6] if len(word) > 6 else word


def content_stems(text: str) -> list[str]:
    """Stems of the words of `text` that carry meaning."""
    return [stem(w) for w in words(text) if w not in STOPWORDS]


def passage_sentences(passages: Sequence[Passage]) -> list[Sentence]:
    """The distinct sentences of `passages`, in rank order, with document offsets."""
    seen: set[tuple[str, int]] = set()
    out: list[Sentence] = []
    for p in passages:
        for s, e in split_sentences(p.text):
            key = (p.doc_id, p.start + s)
            if key in seen:
                continue
            seen.add(key)
            out.append(
                Sentence(p.doc_id, p.title, p.source, p.published, p.start + s, p.start + e, p.text[s:e], p.rank)
            )
    return out


class SentenceScorer:
    """Scores sentences against a question; caches sentence vectors and term weights across questions."""

    def __init__(self, embed, document_frequency, total_chunks: int) -> None:
        self._embed = embed  # list[str] -> np.ndarray of unit vectors
        self._df = document_frequency  # term -> number of chunks holding it
        self._total = max(1, total_chunks)
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._idf: dict[str, float] = {}
        self._lock = threading.Lock()

    def idf(self, term: str) -> float:
        with self._lock:
            if term in self._idf:
                return self._idf[term]
        df = self._df(term)
        value = math.log(1 + (self._total - df + 0.5) / (df + 0.5))
        with self._lock:
            self._idf[term] = value
        return value

    def vectors(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            fresh = self._embed(missing)
            with self._lock:
                for t, v in zip(missing, fresh):
                    self._vectors[t] = v
                while len(self._vectors) > 50000:
                    self._vectors.popitem(last=False)
        with self._lock:
            return np.stack([self._vectors[t] for t in texts]) if texts else np.zeros((0, 1), "float32")

    def term_weights(self, question: str) -> dict[str, float]:
        """Stem -> weight (idf) of the question's content words."""
        weights: dict[str, float] = {}
        for term in query_terms(question):
            if "_" in term:
                continue
            weights[stem(term)] = max(weights.get(stem(term), 0.0), self.idf(term))
        return weights

    def score(self, weights: dict[str, float], qvec: np.ndarray, sentences: list[Sentence]) -> list[Sentence]:
        """`sentences` with dense, lexical (share of the question's term `weights`) and combined scores, best first."""
        if not sentences:
            return []
        total = sum(weights.values()) or 1.0
        dense = self.vectors([s.text for s in sentences]) @ qvec
        scored = []
        for s, d in zip(sentences, dense):
            stems = set(content_stems(s.text))
            lexical = sum(w for t, w in weights.items() if t in stems) / total
            combined = W_DENSE * float(d) + W_LEXICAL * lexical + W_RANK / s.passage_rank
            scored.append(
                Sentence(
                    s.doc_id,
                    s.title,
                    s.source,
                    s.published,
                    s.start,
                    s.end,
                    s.text,
                    s.passage_rank,
                    float(d),
                    lexical,
                    combined,
                )
            )
        scored.sort(key=lambda s: -s.score)
        return scored
