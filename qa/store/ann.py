"""The approximate (HNSW) vector index kept beside the exact one once an index is large.

The exact `IDMap2,Flat` file stays the source of truth (it supports removal and filtered search);
above MIN_VECTORS a generation also holds an HNSW graph over compressed (SQ8) copies of the same
vectors, used for unfiltered searches. The graph only proposes
candidates: they are re-scored with the exact vectors, so the scores it returns are exact cosines.
Updates extend the previous graph with the new vectors; vectors of removed chunks stay in the graph,
skipped at search time, until they exceed MAX_DEAD of it or the graph is an older float32 one: then
it is rebuilt.
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
# Candidates the graph proposes and the exact vectors re-score; the compressed codes misorder close
# neighbours, rarely drop one from a list this long.
RESCORED = 100
MAX_DEAD = 0.10
# The graph stores 8-bit scalar codes of the vectors (a quarter of float32; re-scored, they keep the
# exact top 10). Product codes (PQ48, PQ96) would shrink it further, but HNSW over them kept only
# 0.88-0.91 of the exact top 10 on real chunks.
SQ8 = "SQ8"
# Codes trained on at most this many vectors (SQ8 learns each dimension's range).
TRAIN_SAMPLE = 100_000


def wanted(n_vectors: int) -> bool:
    """True when an index of this many vectors should carry an HNSW graph."""
    return n_vectors >= MIN_VECTORS


def codes_of(graph) -> str:
    """The codes an existing graph stores: SQ8, or Flat for the float32 graphs written before codes."""
    import faiss

    inner = faiss.downcast_index(graph.index)
    storage = faiss.downcast_index(inner.storage)
    if isinstance(storage, faiss.IndexScalarQuantizer) and storage.sq.qtype == faiss.ScalarQuantizer.QT_8bit:
        return SQ8
    return "Flat"


def describe(graph) -> str:
    """The graph's kind in the manifest, e.g. IDMap,HNSW32_SQ8."""
    import faiss

    inner = faiss.downcast_index(graph.index)
    return f"IDMap,HNSW{inner.hnsw.nb_neighbors(1)}_{codes_of(graph)}"


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


def _new_graph(dimension: int, vectors: np.ndarray):
    import faiss

    graph = faiss.IndexHNSWSQ(dimension, faiss.ScalarQuantizer.QT_8bit, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = EF_CONSTRUCTION
    rng = np.random.default_rng(0)
    sample = vectors if len(vectors) <= TRAIN_SAMPLE else vectors[np.sort(rng.choice(len(vectors), TRAIN_SAMPLE))]
    graph.train(np.ascontiguousarray(sample, dtype="float32"))
    return faiss.IndexIDMap(graph)


def update(folder: Path, exact) -> str | None:
    """Bring folder/ann.faiss in line with `exact` (extend, rebuild or delete it); the graph's kind, None if none."""
    import faiss

    path = folder / ANN_FILE
    if not wanted(exact.ntotal):
        path.unlink(missing_ok=True)
        return None
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
        if graph.d != exact.d or codes_of(graph) != SQ8 or dead > MAX_DEAD * max(1, graph.ntotal):
            graph = None
        else:
            new = ~np.isin(ids, held, assume_unique=True)
            ids, vectors = ids[new], vectors[new]
    before = faiss.omp_get_max_threads()
    # Readers keep FAISS on one thread; building the graph is batch work that wants every core.
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        if graph is None:
            graph = _new_graph(exact.d, vectors)
        if len(ids):
            graph.add_with_ids(np.ascontiguousarray(vectors, dtype="float32"), ids)
    finally:
        faiss.omp_set_num_threads(before)
    tmp = path.with_suffix(".tmp")
    faiss.write_index(graph, str(tmp))
    os.replace(tmp, path)
    return describe(graph)


def read(path: Path, exact, mapped: bool = False) -> tuple[object, object | None]:
    """The graph at `path` and a selector that skips chunks removed since it was built (None if none).

    `mapped` maps the graph's codes from the file instead of reading them (only for an index never written to).
    """
    import faiss

    try:
        graph = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC if mapped else 0)
    except Exception as exc:  # noqa: BLE001 - FAISS raises RuntimeError with C++ text
        raise IndexCorruptError(f"{path} is damaged ({str(exc).splitlines()[0][:120]}); rebuild the index") from exc
    if graph.d != exact.d:
        raise IndexCorruptError(f"{path} holds {graph.d}-dimensional vectors, not {exact.d}; rebuild the index")
    dead = np.setdiff1d(mapped_ids(graph), mapped_ids(exact), assume_unique=True)
    skip = faiss.IDSelectorNot(faiss.IDSelectorBatch(dead)) if dead.size else None
    if skip is not None:
        skip.referenced = dead  # keep the id array alive as long as the selector
    return graph, skip


def search(graph, skip, exact, vector: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """(scores, ids) rows of the nearest vectors: candidates from the graph, removed chunks skipped, ranked
    by their exact inner product with `vector`."""
    import faiss

    query = vector.reshape(1, -1).astype("float32")
    wide = max(limit, RESCORED)
    params = faiss.SearchParametersHNSW(efSearch=max(EF_SEARCH, wide))
    if skip is not None:
        params.sel = skip
    _, ids = graph.search(query, wide, params=params)
    ids = ids[0][ids[0] >= 0]
    # FAISS computes the scores, with the kernel of an exact scan, so they equal that scan's to the bit.
    candidates = faiss.IndexFlatIP(exact.d)
    if len(ids):
        candidates.add(exact.reconstruct_batch(ids))
    scores, at = candidates.search(query, min(limit, len(ids)) or 1)
    keep = at[0] >= 0
    return scores[:, keep], ids[at[0][keep]][None, :]
