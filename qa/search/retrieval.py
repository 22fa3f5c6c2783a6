"""Hybrid retrieval: dense (FAISS) and lexical (BM25) scores fused by a weighted sum."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np

from qa.ingest.text import lexical_terms
from qa.records import Passage
from qa.store import ann
from qa.store.generations import Store

CANDIDATES = 50
# Share of the dense similarity in the fused score; BM25, scaled to the best lexical hit, has the rest.
# Measured on squad2-tune (2,910 answerable questions): weighted scores reach Recall@1 0.842 / @5 0.969
# against 0.776 / 0.963 for reciprocal rank fusion, which throws away how far ahead the leaders are.
DENSE_WEIGHT = 0.6

# Words that carry no topic: question words and the commonest function words.
STOPWORDS = frozenset(
    """
    a an the and or but if of to in on at by for with from as into about over after before between
    is are was were be been being am do does did done have has had having will would shall should can could
    may might must this that these those it its it's he she they them his her their him we us our you your i me my
    who whom whose what which when where why how whats who's
    there here than then so such not no nor too very just also only
    say said tell told please according
    """.split()
)


@dataclass(frozen=True)
class Filters:
    """Restrictions on which documents a search may return."""

    source: str | None = None
    published_from: str | None = None
    published_to: str | None = None
    author: str | None = None  # a name inside the byline, any case
    site: str | None = None  # the site's name or web host

    @property
    def active(self) -> bool:
        return bool(self.source or self.published_from or self.published_to or self.author or self.site)


def resolved(vector: np.ndarray | Future[np.ndarray]) -> np.ndarray:
    """The question's vector, waiting for it if it is still being computed."""
    return vector.result() if isinstance(vector, Future) else vector


def query_terms(question: str) -> list[str]:
    """The distinct content terms of a question, in order."""
    terms = [t for t in lexical_terms(question) if t not in STOPWORDS]
    return list(dict.fromkeys(terms))


def dense_search(store: Store, vector: np.ndarray, limit: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
    """(chunk id, cosine similarity) of the nearest chunks, optionally only among `allowed` ids.

    Large indexes answer unfiltered searches from their HNSW graph (approximate, about a millisecond),
    whose candidates are re-scored with the exact vectors.
    """
    import faiss

    total = store.vectors.ntotal
    if total == 0 or (allowed is not None and len(allowed) == 0):
        return []
    limit = min(limit, total)
    if allowed is None and store.ann is not None:
        scores, ids = ann.search(store.ann, store.ann_skip, store.vectors, vector, limit)
    else:
        # Filtered searches stay exact: a graph walk that must skip most nodes loses its recall.
        params = None if allowed is None else faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))
        scores, ids = store.vectors.search(vector.reshape(1, -1).astype("float32"), limit, params=params)
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]


def search_candidates(
    store: Store, vector: np.ndarray | Future[np.ndarray], terms: list[str], depth: int, filters: Filters = Filters()
) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    """The `depth` best (chunk id, score) of one store by meaning and by BM25, within the filters.

    BM25 goes first, so a question's vector still being computed on another thread is waited for only after it.
    """
    allowed = (
        store.chunk_ids_where(
            filters.source, filters.published_from, filters.published_to, author=filters.author, site=filters.site
        )
        if filters.active
        else None
    )
    lexical = store.lexical_search(terms, depth, allowed)
    return dense_search(store, resolved(vector), depth, allowed), lexical


@dataclass(frozen=True)
class Fused:
    """A question's candidates (sorted chunk ids) with their fused scores and cosine similarities (-1 for chunks
    dense search did not return), as arrays: with hundreds of tied copies of one text at the cut, per-chunk
    Python objects cost milliseconds."""

    ids: np.ndarray
    scores: np.ndarray
    similarity: np.ndarray

    def of(self, chunk_id: int) -> tuple[float, float]:
        """(fused score, similarity) of one candidate."""
        at = int(np.searchsorted(self.ids, chunk_id))
        return float(self.scores[at]), float(self.similarity[at])


def fuse(dense: list[tuple[int, float]], lexical: list[tuple[int, float]], dense_weight: float = DENSE_WEIGHT) -> Fused:
    """Weighted sum of cosine similarity and BM25 divided by the best BM25 of the question, per chunk id.

    A chunk missing from the dense list gets the lowest similarity seen; one missing from the lexical
    list gets 0, so neither list alone can push an unseen chunk to the top.
    """
    dense_ids, sims = _columns(dense)
    lexical_ids, bm25 = _columns(lexical)
    ids = np.union1d(dense_ids, lexical_ids)
    found = np.searchsorted(ids, dense_ids)
    similarity = np.full(len(ids), -1.0)
    similarity[found] = sims
    near = np.full(len(ids), sims.min() if len(sims) else 0.0)
    near[found] = sims
    lex = np.zeros(len(ids))
    best = bm25.max(initial=0.0)
    if best > 0:
        lex[np.searchsorted(ids, lexical_ids)] = bm25 / best
    return Fused(ids, dense_weight * near + (1.0 - dense_weight) * lex, similarity)


def _columns(pairs: list[tuple[int, float]]) -> tuple[np.ndarray, np.ndarray]:
    """(ids, scores) of a list of (chunk id, score) pairs."""
    if not pairs:
        return np.zeros(0, np.int64), np.zeros(0)
    ids, scores = zip(*pairs)
    return np.array(ids, np.int64), np.array(scores, np.float64)


def _top(store: Store, fused: Fused, k: int) -> list[int]:
    """The ids of the `k` best chunks by fused score, then closer meaning, then earlier document id and offset,
    in no particular order.

    Only chunks tied on both scores with the k-th are ordered by document here: their ids and offsets are
    read from the store (copies of one text tie exactly, and a question can have hundreds of them at the cut).
    """
    order = np.lexsort((-fused.similarity, -fused.scores))
    ids = fused.ids[order]
    if len(order) <= k:
        return ids.tolist()
    scores, similarity = fused.scores[order], fused.similarity[order]
    # Sorted by both keys, the chunks tied with the k-th lie together around it.
    tied = np.flatnonzero((scores == scores[k - 1]) & (similarity == similarity[k - 1]))
    ahead = ids[: tied[0]].tolist()
    if tied[-1] + 1 == k:
        return ahead + ids[tied].tolist()
    return ahead + [i for _, _, i in store.first_chunks(ids[tied].tolist(), k - len(ahead))]


def hybrid_search(
    store: Store,
    question: str,
    vector: np.ndarray | Future[np.ndarray],
    k: int,
    filters: Filters = Filters(),
    candidates: int = CANDIDATES,
) -> list[Passage]:
    """The top `k` passages for a question by fused dense and lexical score; `vector` may be a future."""
    depth = max(candidates, 4 * k)
    terms = query_terms(question)
    gather = getattr(store, "candidates", None)
    if gather is None:
        dense, lexical = search_candidates(store, vector, terms, depth, filters)
    else:  # a sharded store sends the vector to every shard and merges their candidates (qa.search.sharded)
        dense, lexical = gather(resolved(vector), terms, depth, filters)
    fused = fuse(dense, lexical)
    rows = store.chunks(_top(store, fused, k))
    score = {i: fused.of(i) for i in rows}
    # Ties in fused rank go to the closer meaning, then to the earlier document id and offset, which
    # unlike chunk ids are the same however the index is laid out (sharded or not).
    top = sorted(rows, key=lambda i: (-score[i][0], -score[i][1], rows[i][0].doc_id, rows[i][0].start))
    passages = []
    for rank, chunk_id in enumerate(top, start=1):
        chunk, doc = rows[chunk_id]
        passages.append(
            Passage(
                chunk_id=chunk.id,
                doc_id=chunk.doc_id,
                title=doc["title"],
                source=doc["source"],
                published=doc["published"],
                start=chunk.start,
                end=chunk.end,
                text=chunk.text,
                score=score[chunk_id][0],
                rank=rank,
                author=doc.get("author"),
            )
        )
    return passages
