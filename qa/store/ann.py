"""The approximate (HNSW) vector index kept beside the exact one once an index is large.

The exact `IDMap2,Flat` file stays the source of truth (it supports removal and filtered search);
above MIN_VECTORS a generation also holds an HNSW graph over the same vectors, used for unfiltered
searches. Updates extend the previous graph with the new vectors; vectors of removed chunks stay in
the graph, skipped at search time, until they exceed MAX_DEAD of it and the graph is rebuilt.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from qa.errors import IndexCorruptError

ANN_FILE = "ann.faiss"
# An exact scan of 384-dim vectors on one thread costs ~21 ms at 100,000 vectors on this class of
# machine, so past ~50,000 it exceeds the 10 ms a search may spend; HNSW answers in well under 1 ms.
MIN_VECTORS = 50_000
HNSW_M = 32
EF_CONSTRUCTION = 80
# Candidates examined per search; a search for more hits than this examines that many.
EF_SEARCH = 128
MAX_DEAD = 0.10


def wanted(n_vectors: int) -> bool:
    """True when an index of this many vectors should carry an HNSW graph."""
    return n_vectors >= MIN_VECTORS


def exact_contents(exact) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) of an IDMap2,Flat index, in storage order."""
    import faiss

    ids = mapped_ids(exact)
    inner = faiss.downcast_index(exact.index)
    vectors = inner.reconstruct_n(0, inner.ntotal) if inner.ntotal else np.zeros((0, exact.d), dtype="float32")
    return ids, vectors


def mapped_ids(index) -> np.ndarray:
    """Chunk ids held by an IDMap index: the exact vectors, or a graph (live or removed since)."""
    import faiss

    return faiss.vector_to_array(index.id_map).astype("int64")


def _new_graph(dimension: int):
    import faiss

    graph = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = EF_CONSTRUCTION
    return faiss.IndexIDMap(graph)


def update(folder: Path, exact) -> bool:
    """Bring folder/ann.faiss in line with `exact` (extend, rebuild or delete it); True if it exists after."""
    import faiss

    path = folder / ANN_FILE
    if not wanted(exact.ntotal):
        path.unlink(missing_ok=True)
        return False
    ids, vectors = exact_contents(exact)
    graph = None
    if path.is_file():
        try:
            graph = faiss.read_index(str(path))
        except Exception:  # noqa: BLE001 - a damaged graph is simply rebuilt
            graph = None
    if graph is not None:
        held = mapped_ids(graph)
        dead = np.setdiff1d(held, ids, assume_unique=True).size
        if graph.d != exact.d or dead > MAX_DEAD * max(1, graph.ntotal):
            graph = None
        else:
            new = ~np.isin(ids, held, assume_unique=True)
            ids, vectors = ids[new], vectors[new]
    if graph is None:
        graph = _new_graph(exact.d)
    before = faiss.omp_get_max_threads()
    # Readers keep FAISS on one thread; building the graph is batch work that wants every core.
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        if len(ids):
            graph.add_with_ids(np.ascontiguousarray(vectors, dtype="float32"), ids)
    finally:
        faiss.omp_set_num_threads(before)
    tmp = path.with_suffix(".tmp")
    faiss.write_index(graph, str(tmp))
    os.replace(tmp, path)
    return True


def read(path: Path, exact) -> tuple[object, object | None]:
    """The graph at `path` and a selector that skips chunks removed since it was built (None if none)."""
    import faiss

    try:
        graph = faiss.read_index(str(path))
    except Exception as exc:  # noqa: BLE001 - FAISS raises RuntimeError with C++ text
        raise IndexCorruptError(f"{path} is damaged ({str(exc).splitlines()[0][:120]}); rebuild the index") from exc
    if graph.d != exact.d:
        raise IndexCorruptError(f"{path} holds {graph.d}-dimensional vectors, not {exact.d}; rebuild the index")
    dead = np.setdiff1d(mapped_ids(graph), mapped_ids(exact), assume_unique=True)
    skip = faiss.IDSelectorNot(faiss.IDSelectorBatch(dead)) if dead.size else None
    if skip is not None:
        skip.referenced = dead  # keep the id array alive as long as the selector
    return graph, skip


def search(graph, skip, vector: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """(scores, ids) rows of the approximate nearest vectors, removed chunks skipped."""
    import faiss

    params = faiss.SearchParametersHNSW(efSearch=max(EF_SEARCH, limit))
    if skip is not None:
        params.sel = skip
    return graph.search(vector.reshape(1, -1).astype("float32"), limit, params=params)
