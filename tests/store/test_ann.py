import faiss
import numpy as np
import pytest

from qa.build.indexing import add_documents, remove_documents
from qa.index import load_index
from qa.records import Document
from qa.store import ann


def _exact(n, d=32, start=0, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype("float32")
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(d))
    index.add_with_ids(x, np.arange(start, start + n, dtype="int64"))
    return index, x


@pytest.fixture()
def small_threshold(monkeypatch):
    monkeypatch.setattr(ann, "MIN_VECTORS", 100)


def _recall(graph, skip, exact, queries, k=10):
    hits = 0
    for q in queries:
        want = set(exact.search(q[None, :], k)[1][0])
        got = set(ann.search(graph, skip, q, k)[1][0])
        hits += len(want & got)
    return hits / (k * len(queries))


def test_graph_only_above_the_threshold(tmp_path, small_threshold):
    exact, _ = _exact(50)
    assert not ann.update(tmp_path, exact) and not (tmp_path / ann.ANN_FILE).exists()
    exact, x = _exact(2000)
    assert ann.update(tmp_path, exact)
    graph, skip = ann.read(tmp_path / ann.ANN_FILE, exact)
    assert skip is None and graph.ntotal == 2000
    assert _recall(graph, skip, exact, x[:50]) >= 0.95
    scores, ids = ann.search(graph, skip, x[7], 3)
    assert ids[0][0] == 7 and scores[0][0] == pytest.approx(1.0, abs=1e-5)


def test_removed_vectors_are_skipped_then_rebuilt(tmp_path, small_threshold):
    exact, x = _exact(2000)
    ann.update(tmp_path, exact)
    exact.remove_ids(np.array([7, 8], dtype="int64"))
    graph, skip = ann.read(tmp_path / ann.ANN_FILE, exact)
    assert skip is not None
    assert not {7, 8} & set(ann.search(graph, skip, x[7], 20)[1][0])
    # New vectors extend the graph; removed ones stay in it until they pass MAX_DEAD.
    more, y = _exact(10, start=5000, seed=1)
    exact.add_with_ids(y, np.arange(5000, 5010, dtype="int64"))
    ann.update(tmp_path, exact)
    graph, skip = ann.read(tmp_path / ann.ANN_FILE, exact)
    assert graph.ntotal == 2010 and ann.search(graph, skip, y[3], 1)[1][0][0] == 5003
    exact.remove_ids(np.arange(0, 400, dtype="int64"))
    ann.update(tmp_path, exact)
    graph, skip = ann.read(tmp_path / ann.ANN_FILE, exact)
    assert graph.ntotal == exact.ntotal and skip is None


def test_large_index_searches_the_graph(default_index_dir, tmp_path, monkeypatch, default_text):
    import shutil

    ix = tmp_path / "ix"
    shutil.copytree(default_index_dir, ix)
    idx = load_index(ix)
    exact_top = [p.chunk_id for p in idx.retrieve("Who proposed the 3+3 format?", k=5)]
    assert idx.store.ann is None
    monkeypatch.setattr(ann, "MIN_VECTORS", 5)
    add_documents([Document(id="extra", title="Extra", text=default_text[:2000])], ix)
    idx = load_index(ix)
    assert idx.store.ann is not None and "HNSW" in idx.manifest.faiss_index
    assert "ann.faiss" in idx.manifest.files
    top = [p.chunk_id for p in idx.retrieve("Who proposed the 3+3 format?", k=5)]
    assert top[0] == exact_top[0]
    remove_documents(["extra"], ix)
    idx = load_index(ix)
    # Most of this small graph was removed, so it was rebuilt without the removed vectors.
    assert idx.store.ann is not None and idx.store.ann.ntotal == idx.store.vectors.ntotal
    assert all(p.doc_id != "extra" for p in idx.retrieve("Lavrov", k=20))
