import dataclasses
import json
import os
from pathlib import Path

import faiss
import numpy as np
import pytest
from conftest import shared_path

from qa.evaluation import open_set_index
from qa.index import load_index
from qa.indexing.build import add_documents, remove_documents
from qa.records import Document
from qa.store import ann
from qa.store.generations import MANIFEST, Manifest, current_generation, file_digest


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
        got = set(ann.search(graph, skip, exact, q, k)[1][0])
        hits += len(want & got)
    return hits / (k * len(queries))


def test_graph_only_above_the_threshold(tmp_path, small_threshold):
    exact, _ = _exact(50)
    assert not ann.update(tmp_path, exact) and not (tmp_path / ann.ANN_FILE).exists()
    exact, x = _exact(2000)
    assert ann.update(tmp_path, exact) == "IDMap,HNSW32_SQ8"
    graph, skip = ann.read(tmp_path / ann.ANN_FILE, exact)
    assert skip is None and graph.ntotal == 2000 and ann.codes_of(graph) == "SQ8"
    assert _recall(graph, skip, exact, x[:50]) >= 0.95
    # The graph's candidates are re-scored with the exact vectors: the scores are those of an exact scan.
    scores, ids = ann.search(graph, skip, exact, x[7], 5)
    want_scores, want_ids = exact.search(x[7][None, :], 5)
    assert ids[0][0] == 7 and scores.tolist() == want_scores.tolist() and ids.tolist() == want_ids.tolist()


def test_removed_vectors_are_skipped_then_rebuilt(tmp_path, small_threshold):
    exact, x = _exact(2000)
    ann.update(tmp_path, exact)
    exact.remove_ids(np.array([7, 8], dtype="int64"))
    graph, skip = ann.read(tmp_path / ann.ANN_FILE, exact)
    assert skip is not None
    assert not {7, 8} & set(ann.search(graph, skip, exact, x[7], 20)[1][0])
    # New vectors extend the graph; removed ones stay in it until they pass MAX_DEAD.
    more, y = _exact(10, start=5000, seed=1)
    exact.add_with_ids(y, np.arange(5000, 5010, dtype="int64"))
    ann.update(tmp_path, exact)
    graph, skip = ann.read(tmp_path / ann.ANN_FILE, exact)
    assert graph.ntotal == 2010 and ann.search(graph, skip, exact, y[3], 1)[1][0][0] == 5003
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
    assert idx.store.ann is not None and "HNSW32_SQ8" in idx.manifest.faiss_index
    assert "ann.faiss" in idx.manifest.files
    top = [p.chunk_id for p in idx.retrieve("Who proposed the 3+3 format?", k=5)]
    assert top[0] == exact_top[0]
    remove_documents(["extra"], ix)
    idx = load_index(ix)
    # Most of this small graph was removed, so it was rebuilt without the removed vectors.
    assert idx.store.ann is not None and idx.store.ann.ntotal == idx.store.vectors.ntotal
    assert all(p.doc_id != "extra" for p in idx.retrieve("Lavrov", k=20))


@pytest.fixture(scope="module")
def squad_vectors():
    """The exact vectors of the squad2-tune index (real news and encyclopedia chunks) and 100 real questions."""
    set_dir = shared_path("eval", "squad2-tune")
    idx = open_set_index(set_dir, None, progress=False)
    ids, vectors = ann.exact_contents(idx.store.vectors)
    exact = faiss.IndexIDMap2(faiss.IndexFlatIP(idx.store.vectors.d))
    exact.add_with_ids(vectors, ids)
    lines = (set_dir / "questions.jsonl").read_text(encoding="utf-8").splitlines()[::20][:100]
    questions = np.concatenate([idx.embedder.encode_query(json.loads(line)["question"]) for line in lines])
    return exact, questions


def test_the_compressed_graph_keeps_the_exact_top_10_on_real_vectors(tmp_path, monkeypatch, squad_vectors):
    exact, questions = squad_vectors
    monkeypatch.setattr(ann, "MIN_VECTORS", 1000)
    assert ann.update(tmp_path, exact) == "IDMap,HNSW32_SQ8"
    graph, skip = ann.read(tmp_path / ann.ANN_FILE, exact)
    assert _recall(graph, skip, exact, questions) >= 0.95


def test_readers_map_the_files_and_a_writer_still_changes_them(index_copy, monkeypatch, default_text):
    if not Path("/proc/self/maps").is_file():
        pytest.skip("needs Linux /proc to see mapped files")
    monkeypatch.setattr(ann, "MIN_VECTORS", 5)
    add_documents([Document(id="extra", title="Extra", text=default_text[:2000])], index_copy)
    idx = load_index(index_copy)
    store = idx.store
    assert not faiss.downcast_index(store.vectors.index).codes.is_owned
    assert not faiss.downcast_index(faiss.downcast_index(store.ann.index).storage).codes.is_owned
    maps = Path("/proc/self/maps").read_text()
    assert os.path.realpath(store.folder / "vectors.faiss") in maps
    assert os.path.realpath(store.folder / ann.ANN_FILE) in maps
    # A writer on the folder while this reader holds its files mapped: it reads them into memory and changes them.
    add_documents([Document(id="more", title="Sequel", text=default_text[2000:4000])], index_copy)
    remove_documents(["extra"], index_copy)
    assert store.vectors.ntotal == store.manifest.chunks  # the reader's generation is as it was
    assert idx.store is not store and idx.store.ann is not None
    docs = {p.doc_id for p in idx.retrieve(default_text[2000:2300], k=20)}
    assert "more" in docs and "extra" not in docs
    assert idx.store.vectors.ntotal == idx.manifest.chunks == ann.mapped_ids(idx.store.vectors).size


def test_a_float32_graph_of_an_older_index_answers_then_is_rebuilt_compressed(index_copy, monkeypatch, default_text):
    idx = load_index(index_copy)
    question = "Who proposed the 3+3 format?"
    exact_top = [(p.chunk_id, p.score) for p in idx.retrieve(question, k=5)]
    # The graph as indexes wrote it before compressed codes: float32 vectors, listed in the manifest.
    gen = current_generation(index_copy)
    ids, vectors = ann.exact_contents(idx.store.vectors)
    old = faiss.IndexIDMap(faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT))
    old.add_with_ids(vectors, ids)
    faiss.write_index(old, str(gen / ann.ANN_FILE))
    m = Manifest.read(gen / MANIFEST)
    files = {**m.files, ann.ANN_FILE: file_digest(gen / ann.ANN_FILE)}
    m = dataclasses.replace(m, files=files, faiss_index="IDMap2,Flat + IDMap,HNSW32,Flat")
    (gen / MANIFEST).write_text(m.to_json(), encoding="utf-8")
    idx = load_index(index_copy)
    assert ann.codes_of(idx.store.ann) == "Flat"
    assert [(p.chunk_id, p.score) for p in idx.retrieve(question, k=5)] == exact_top
    monkeypatch.setattr(ann, "MIN_VECTORS", 5)
    add_documents([Document(id="extra", title="Extra", text=default_text[:2000])], index_copy)
    idx = load_index(index_copy)
    assert ann.codes_of(idx.store.ann) == "SQ8" and idx.manifest.faiss_index.endswith("HNSW32_SQ8")
    assert [p.chunk_id for p in idx.retrieve(question, k=1)] == [exact_top[0][0]]
