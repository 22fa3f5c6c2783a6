"""BM25 over a sparse term matrix, kept on disk beside each generation's vectors and mapped from there.

SQLite's FTS5 scores every matching row through a callback: at 100,000 chunks a question matches
~17,000 of them and ranking took ~24 ms. Here the term counts of every chunk live in a sparse matrix
stored by column (`lexical.npz`) with their BM25 weights, so a question costs one column slice per
term and a top-k selection (well under a millisecond at that size), and a reader never imports scipy.
A reader maps the arrays from the file: loading costs no time and only the columns of asked terms
take memory (the file holds ~640 MB at a million chunks). At a million chunks a question's terms have
~200,000 postings: summing them all into one array took ~11 ms, so the columns of common terms are
only read for the chunks that could still rank (MaxScore), with the same scores to the bit.
"""

from __future__ import annotations

import os
import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa.errors import IndexCorruptError
from qa.store.npz import damaged, map_npz, write_npz

LEXICAL_FILE = "lexical.npz"
# The usual BM25 constants (those of Lucene and FTS5).
K1 = 1.2
B = 0.75
# Pruning stops paying once the chunks to score are this share of the index (1/8): one dense array is cheaper.
PRUNED_SHARE = 8
# Sums of float32 weights, added in any order, are within a factor (1 + 2**-24)**n of the exact sum of their
# n terms: 1 + 1e-3 covers 16,000 terms, far more than a question (cut to 2,000 characters) holds.
ROUNDING = 1.0 + 1e-3
# A term's weights are added to every chunk rather than looked up for each candidate when the candidates are
# more than 1/16 of its chunks: a binary search per candidate costs more than a pass over its column.
LOOKUP_SHARE = 16
# The floor of pruning is raised after each of the first terms joins the candidates (each costs a lookup of
# a sample of them in every term's column).
FLOOR_UPDATES = 3


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("porter")


@lru_cache(maxsize=200_000)
def stem(term: str) -> str:
    """The Porter stem of a lowercase term (compounds such as 3_3 are kept whole)."""
    return _stemmer().stemWord(term)


def chunk_stems(terms: str) -> Counter[str]:
    """Stem counts of a chunk's space-separated lexical terms."""
    return Counter(stem(t) for t in terms.split())


def _pack(vocab: list[str]) -> np.ndarray:
    return np.frombuffer("\n".join(vocab).encode("utf-8"), dtype=np.uint8)


def _unpack(packed: np.ndarray) -> list[str]:
    text = packed.tobytes().decode("utf-8")
    return text.split("\n") if text else []


def _read(path: Path) -> dict[str, np.ndarray]:
    """The file's arrays, mapped: chunk ids, vocabulary, the column-major term counts (counts, row positions,
    column pointers) and, in files written since, their BM25 weights."""
    z = map_npz(path)
    missing = [k for k in ("ids", "vocab", "counts", "rows", "colptr") if k not in z]
    if missing:
        raise damaged(path, f"it lacks {', '.join(missing)}")
    try:
        z["vocab"] = _unpack(z["vocab"])
    except UnicodeDecodeError as exc:
        raise damaged(path, f"its vocabulary is not UTF-8: {exc}") from exc
    ids, vocab, counts, rows, colptr = (z[k] for k in ("ids", "vocab", "counts", "rows", "colptr"))
    # Rows are checked against the chunk count by writers (a scan of every term of every chunk); a reader
    # relies on the checksum the manifest recorded for the file that writer checked.
    consistent = len(colptr) == len(vocab) + 1 and colptr[-1] == len(counts) == len(rows)
    if not consistent or len(z.get("weights", counts)) != len(counts):
        raise IndexCorruptError(f"{path} is inconsistent; rebuild the index with `qa index build`")
    return z


def _distinct(parts: list[np.ndarray]) -> np.ndarray:
    """The sorted distinct values of some arrays (np.unique hashes, several times slower on row numbers)."""
    rows = np.sort(np.concatenate(parts))
    return rows[np.concatenate(([True], rows[1:] != rows[:-1]))] if len(rows) else rows


def bm25_weights(counts: np.ndarray, rows: np.ndarray, colptr: np.ndarray, n: int, avg: float, df: np.ndarray):
    """The BM25 weight of every (term, chunk) count, column-major like `counts`."""
    tf = counts.astype(np.float32)
    lengths = np.bincount(rows, weights=tf).astype(np.float32)
    idf = np.maximum(np.log((n - df + 0.5) / (df + 0.5)), 1e-6).astype(np.float32)
    norm = K1 * (1.0 - B + B * lengths[rows] / max(avg, 1e-9))
    return np.repeat(idf, np.diff(colptr)) * tf * np.float32(K1 + 1.0) / (tf + norm)


def update(folder: Path, conn: sqlite3.Connection) -> None:
    """Bring folder/lexical.npz in line with the chunks table: drop removed chunks, count new ones."""
    from scipy.sparse import csc_matrix, csr_matrix, vstack

    path = folder / LEXICAL_FILE
    live = np.array([r[0] for r in conn.execute("SELECT id FROM chunks ORDER BY id")], dtype=np.int64)
    if path.is_file():
        z = _read(path)
        ids, vocab, rows = z["ids"], z["vocab"], z["rows"]
        if len(rows) and (rows.min() < 0 or rows.max() >= len(ids)):
            raise IndexCorruptError(f"{path} is inconsistent; rebuild the index with `qa index build`")
        matrix = csc_matrix((z["counts"], rows, z["colptr"]), shape=(len(ids), len(vocab))).tocsr()
        keep = np.isin(ids, live, assume_unique=True)
        ids, matrix = ids[keep], matrix[keep]
    else:
        ids, vocab, matrix = np.zeros(0, np.int64), [], csr_matrix((0, 0), dtype=np.uint16)
    # Chunk ids only grow (AUTOINCREMENT), so everything past the last counted id is new.
    last = int(ids[-1]) if len(ids) else -1
    column = {t: i for i, t in enumerate(vocab)}
    new_ids, indptr, indices, data = [], [0], [], []
    for chunk_id, terms in conn.execute("SELECT id, terms FROM chunks WHERE id > ? ORDER BY id", (last,)):
        for term, n in chunk_stems(terms).items():
            indices.append(column.setdefault(term, len(column)))
            data.append(min(n, 65535))
        new_ids.append(chunk_id)
        indptr.append(len(indices))
    vocab = list(column)
    matrix.resize((matrix.shape[0], len(vocab)))
    added = csr_matrix(
        (np.array(data, np.uint16), np.array(indices, np.int32), np.array(indptr, np.int64)),
        shape=(len(new_ids), len(vocab)),
    )
    by_column = vstack([matrix, added], format="csc", dtype=np.uint16)
    by_column.sort_indices()
    ids = np.concatenate([ids, np.array(new_ids, np.int64)])
    counts = by_column.data.astype(np.uint16)
    rows = by_column.indices.astype(_position_type(len(ids)))
    colptr = by_column.indptr.astype(np.int64)
    total = int(counts.sum(dtype=np.int64))
    # The weights with this index's own figures are stored, so a reader maps them instead of computing them.
    weights = bm25_weights(counts, rows, colptr, len(ids), total / len(ids) if len(ids) else 1.0, np.diff(colptr))
    tmp = path.with_name(path.stem + ".tmp.npz")
    arrays = {"ids": ids, "vocab": _pack(vocab), "counts": counts, "rows": rows, "colptr": colptr, "weights": weights}
    arrays["total_terms"] = np.array([total], np.int64)
    arrays["order"] = document_order(conn, ids)
    write_npz(tmp, arrays)
    os.replace(tmp, path)


def _position_type(n: int) -> type:
    """The integer type of positions among `n` chunks: 32 bits while they fit, halving those arrays."""
    return np.int32 if n < 2**31 else np.int64


def document_order(conn: sqlite3.Connection, ids: np.ndarray) -> np.ndarray:
    """The place of each chunk of `ids` (sorted) in document order (doc_id, then offset), by which ties between
    equal scores are broken: a search reads it for hundreds of tied copies of one text in microseconds, where
    SQLite took milliseconds. Stored with the lexical arrays, which are kept per chunk id."""
    ordered = np.array([r[0] for r in conn.execute("SELECT id FROM chunks ORDER BY doc_id, start")], np.int64)
    order = np.empty(len(ids), _position_type(len(ids)))
    order[np.searchsorted(ids, ordered)] = np.arange(len(ordered))
    return order


@dataclass(frozen=True)
class LexicalStats:
    """The corpus figures BM25 weights depend on: chunk count, total term count and document frequencies."""

    chunks: int
    terms: int
    df: dict[str, int]

    @property
    def average_length(self) -> float:
        return self.terms / self.chunks if self.chunks else 1.0

    @classmethod
    def merge(cls, parts: Sequence[LexicalStats]) -> LexicalStats:
        """The figures of the union of disjoint chunk sets (the shards of one index)."""
        df: Counter[str] = Counter()
        for part in parts:
            df.update(part.df)
        return cls(sum(p.chunks for p in parts), sum(p.terms for p in parts), dict(df))


class LexicalIndex:
    """BM25 search over the chunks of one generation (or one shard, weighted with the whole index's figures)."""

    def __init__(self, path: Path) -> None:
        z = _read(path)
        self.ids, self.vocab = z["ids"], z["vocab"]
        self.column = {t: i for i, t in enumerate(self.vocab)}
        self._counts, self._rows, self._colptr = z["counts"], z["rows"], z["colptr"]
        self.df = self._own_df = np.diff(self._colptr)
        # The exact integer total, so that shards summing theirs get the same average length; stored, so that
        # opening the file does not read every count.
        total = z.get("total_terms")
        self.total_terms = int(total[0]) if total is not None else int(self._counts.sum(dtype=np.int64))
        self._weights = z.get("weights")
        # Written since ties are broken from it; None in older files (they gain it with the next update).
        self.order: np.ndarray | None = z.get("order")
        if self.order is not None and len(self.order) != len(self.ids):
            raise IndexCorruptError(f"{path} is inconsistent; rebuild the index with `qa index build`")
        self._largest_weight: dict[int, float] = {}
        if self._weights is None:  # written before weights were stored
            self._weigh(len(self.ids), self.total_terms / len(self.ids) if len(self.ids) else 1.0, self.df)

    def stats(self) -> LexicalStats:
        """This index's own BM25 figures, to merge with other shards'."""
        return LexicalStats(len(self.ids), self.total_terms, dict(zip(self.vocab, self._own_df.tolist())))

    def use_stats(self, stats: LexicalStats) -> None:
        """Weigh terms by the figures of a whole sharded index, so scores equal those of one unsharded index."""
        df = np.array([stats.df.get(t, 0) for t in self.vocab], dtype=np.int64)
        self._weigh(stats.chunks, stats.average_length, df)
        self.df = df

    def _weigh(self, n: int, avg: float, df: np.ndarray) -> None:
        self._weights = bm25_weights(self._counts, self._rows, self._colptr, n, avg, df)
        self._largest_weight = {}

    def first_in_order(self, ids: np.ndarray, limit: int) -> np.ndarray | None:
        """The first `limit` of the chunks `ids` (all indexed here) in document order, in no particular order;
        None if this file does not record the order."""
        if self.order is None:
            return None
        ranks = self.order[np.searchsorted(self.ids, ids)]
        if len(ids) > limit:
            return ids[np.argpartition(ranks, limit - 1)[:limit]]
        return ids

    def frequency(self, term: str) -> int:
        """How many chunks hold `term` (after stemming)."""
        col = self.column.get(stem(term))
        return 0 if col is None else int(self.df[col])

    def search(self, terms: Iterable[str], limit: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(chunk id, BM25 score) of the best chunks holding any of `terms`, optionally only `allowed` ids."""
        # Terms are added in the order of their stems, not of their columns, so that every shard of a
        # sharded index sums a chunk's float32 scores in the same order as one unsharded index.
        cols = [self.column[s] for s in sorted({s for s in map(stem, terms) if s in self.column})]
        # A term whose every chunk was removed keeps its column, empty.
        cols = [c for c in cols if self._colptr[c + 1] > self._colptr[c]]
        if not cols or limit < 1:
            return []
        found = self._pruned(cols, limit) if allowed is None else None
        rows, scores = found if found is not None else self._scored(cols, allowed)
        if len(rows) > limit:
            # Chunks tied with the last one kept are kept too: which of them a cut would drop depends on
            # how chunks are numbered, and so would differ between a sharded and an unsharded index.
            last = np.partition(-scores, limit - 1)[limit - 1]
            keep = -scores <= last
            rows, scores = rows[keep], scores[keep]
        ids = self.ids[rows]
        order = np.lexsort((ids, -scores))
        return list(zip(ids[order].tolist(), scores[order].tolist()))

    def _scored(self, cols: list[int], allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(rows, scores) of every chunk holding a term of `cols` (and `allowed`), scored in one dense array."""
        scores = np.zeros(len(self.ids), dtype=np.float32)
        ptr, rows, data = self._colptr, self._rows, self._weights
        for c in cols:
            # Rows are distinct within a column, so plain fancy-index addition is exact.
            scores[rows[ptr[c] : ptr[c + 1]]] += data[ptr[c] : ptr[c + 1]]
        if allowed is not None:
            mask = np.zeros(len(self.ids), dtype=bool)
            pos = np.searchsorted(self.ids, allowed)
            pos = pos[(pos < len(self.ids)) & (self.ids[np.minimum(pos, len(self.ids) - 1)] == allowed)]
            mask[pos] = True
            scores[~mask] = 0.0
        hits = np.flatnonzero(scores)
        return hits, scores[hits]

    def _pruned(self, cols: list[int], limit: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(rows, scores) of a set of chunks that holds the best `limit` and all tied with them, found
        without reading most postings of common terms; None when pruning would not pay.

        MaxScore, a term at a time, terms taken by their largest weight, highest first. While the largest
        weights of the terms left add up to a floor that the `limit`-th best score reaches, a chunk holding
        only those terms could still rank, so each term's chunks join the candidates; after that a term's
        weights are only added to the candidates, and a candidate whose score so far plus the largest
        weights of the terms left falls below the floor is dropped. The floor is the `limit`-th best full
        score of the candidates leading so far. The survivors are scored as `_scored` scores them.
        """
        ptr, postings, weights = self._colptr, self._rows, self._weights
        order = sorted(cols, key=lambda c: (-self._largest(c), c))
        left = sum(self._largest(c) for c in order)
        partial = np.zeros(len(self.ids), dtype=np.float32)
        joined: list[int] = []
        leaders = postings[:0]
        floor, size = 0.0, 0
        for c in order:
            if left * ROUNDING < floor:
                break
            column = postings[ptr[c] : ptr[c + 1]]
            partial[column] += weights[ptr[c] : ptr[c + 1]]
            joined.append(c)
            left -= self._largest(c)
            size += len(column)
            if size > len(self.ids) // PRUNED_SHARE:
                return None
            if len(joined) <= FLOOR_UPDATES and len(joined) < len(order):
                leaders, floor = self._floor(cols, column, leaders, partial, limit, floor)
        rows = self._rows_above(joined, partial, floor / ROUNDING - left)
        for c in order[len(joined) :]:
            column = postings[ptr[c] : ptr[c + 1]]
            if len(rows) * LOOKUP_SHARE > len(column):
                partial[column] += weights[ptr[c] : ptr[c + 1]]  # cheaper than a binary search per candidate
            else:
                at = np.minimum(np.searchsorted(column, rows), len(column) - 1)
                held = column[at] == rows
                partial[rows[held]] += weights[ptr[c] + at[held]]
            left -= self._largest(c)
            rows = rows[partial[rows] >= floor / ROUNDING - left]
        return rows, self._scores_of(cols, rows)

    def _floor(
        self, cols: list[int], column: np.ndarray, leaders: np.ndarray, partial: np.ndarray, limit: int, floor: float
    ) -> tuple[np.ndarray, float]:
        """The chunks leading on the terms joined so far, and a floor that the `limit`-th best score reaches:
        the `limit`-th best full score of those chunks, or `floor` if higher.

        A chunk that leads after a term joined holds that term (its `column`) or led before: one that
        holds it not has the score so far it had, below that of as many leaders as are kept."""
        keep = 2 * limit
        if len(column) > keep:
            column = column[np.argpartition(-partial[column], keep - 1)[:keep]]
        rows = _distinct([leaders, column])
        if len(rows) > keep:
            rows = rows[np.argpartition(-partial[rows], keep - 1)[:keep]]
        if len(rows) < limit:
            return rows, floor
        best = float(-np.partition(-self._scores_of(cols, rows), limit - 1)[limit - 1])
        return rows, max(floor, best)

    def _rows_above(self, cols: list[int], partial: np.ndarray, reach: float) -> np.ndarray:
        """The distinct rows of `cols` whose `partial` score reaches `reach`, in no particular order."""
        ptr, postings = self._colptr, self._rows
        picked, values = [], []
        for c in cols:
            column = postings[ptr[c] : ptr[c + 1]]
            rows = column[partial[column] >= reach]
            picked.append(rows)
            values.append(partial[rows])
            partial[rows] = -np.inf  # taken: the next columns must not pick a chunk again
        rows = np.concatenate(picked)
        partial[rows] = np.concatenate(values)
        return rows

    def _scores_of(self, cols: list[int], rows: np.ndarray) -> np.ndarray:
        """The BM25 scores of the chunks at `rows`, summed over `cols` in their order as `_scored` sums them."""
        scores = np.zeros(len(rows), dtype=np.float32)
        ptr = self._colptr
        for c in cols:
            column = self._rows[ptr[c] : ptr[c + 1]]
            at = np.minimum(np.searchsorted(column, rows), len(column) - 1)
            held = column[at] == rows
            # Adding 0 leaves a float32 unchanged, so skipping absent terms sums exactly as the dense array does.
            scores[held] += self._weights[ptr[c] + at[held]]
        return scores

    def _largest(self, col: int) -> float:
        """The largest weight of a term's column (cached: a column is read once)."""
        top = self._largest_weight.get(col)
        if top is None:
            top = self._largest_weight[col] = float(self._weights[self._colptr[col] : self._colptr[col + 1]].max())
        return top
