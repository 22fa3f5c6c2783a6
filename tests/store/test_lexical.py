import math
import mmap
import sqlite3

import numpy as np
import pytest

from qa.errors import IndexCorruptError
from qa.store import lexical
from qa.store.lexical import LEXICAL_FILE, LexicalIndex, chunk_stems, stem
from qa.store.npz import map_npz, write_npz

TEXTS = [
    "lavrov proposed a 3_3 3 format for talks",
    "the talks in moscow covered trade and talks about trade",
    "iran and russia signed a treaty on trade",
    "the ministry said the proposal was welcome",
]


def _db(texts, doc_ids=None):
    """Chunks of `texts`, each its own document (ids doc-0001... unless given), starting at offset 0."""
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE chunks (id INTEGER PRIMARY KEY AUTOINCREMENT, doc_id TEXT NOT NULL, start INTEGER NOT NULL, "
        "terms TEXT NOT NULL)"
    )
    for i, t in enumerate(texts):
        doc_id = doc_ids[i] if doc_ids else f"doc-{i + 1:04d}"
        conn.execute("INSERT INTO chunks(doc_id, start, terms) VALUES (?, 0, ?)", (doc_id, t))
    return conn


def _reference_bm25(texts, query):
    """Textbook BM25 (k1 1.2, b 0.75, idf floored like FTS5) over stemmed terms."""
    docs = [chunk_stems(t) for t in texts]
    n, avg = len(docs), sum(sum(d.values()) for d in docs) / len(docs)
    out = {}
    for i, d in enumerate(docs, start=1):
        length, score = sum(d.values()), 0.0
        for q in {stem(t) for t in query}:
            df = sum(q in e for e in docs)
            if q in d:
                idf = max(math.log((n - df + 0.5) / (df + 0.5)), 1e-6)
                tf = d[q]
                score += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / avg))
        if score > 0:
            out[i] = score
    return out


def test_scores_match_textbook_bm25(tmp_path):
    lexical.update(tmp_path, _db(TEXTS))
    index = LexicalIndex(tmp_path / LEXICAL_FILE)
    query = ["proposals", "trade", "3_3"]
    got = dict(index.search(query, 10))
    want = _reference_bm25(TEXTS, query)
    assert got.keys() == want.keys()
    for k in want:
        assert got[k] == pytest.approx(want[k], rel=1e-5)
    ranked = [i for i, _ in index.search(query, 10)]
    assert ranked == sorted(want, key=lambda i: -want[i])
    assert index.search(query, 1) == index.search(query, 10)[:1]


def test_stems_unknown_terms_filters_and_frequency(tmp_path):
    lexical.update(tmp_path, _db(TEXTS))
    index = LexicalIndex(tmp_path / LEXICAL_FILE)
    assert sorted(i for i, _ in index.search(["proposal"], 5)) == [1, 4]  # "proposed" and "proposal" share a stem
    assert index.search(["zebra"], 5) == [] and index.search([], 5) == []
    assert [i for i, _ in index.search(["trade"], 5, allowed=np.array([3, 4]))] == [3]
    assert index.search(["trade"], 5, allowed=np.array([], dtype=np.int64)) == []
    assert index.frequency("talks") == 2 and index.frequency("zebra") == 0


def test_updates_count_only_new_chunks_and_drop_removed_ones(tmp_path):
    conn = _db(TEXTS)
    lexical.update(tmp_path, conn)
    conn.execute("DELETE FROM chunks WHERE id = 2")
    conn.execute("INSERT INTO chunks(doc_id, start, terms) VALUES ('doc-0005', 0, 'moscow hosted the talks')")
    lexical.update(tmp_path, conn)
    index = LexicalIndex(tmp_path / LEXICAL_FILE)
    assert list(index.ids) == [1, 3, 4, 5]
    assert [i for i, _ in index.search(["moscow"], 5)] == [5]
    # The result equals a fresh count of the same chunks.
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    lexical.update(fresh, conn)
    again = LexicalIndex(fresh / LEXICAL_FILE)
    for q in (["talks"], ["trade", "treaty"], ["proposal", "moscow"]):
        assert index.search(q, 5) == again.search(q, 5)


def test_damaged_file_is_reported(tmp_path):
    (tmp_path / LEXICAL_FILE).write_bytes(b"not a zip")
    with pytest.raises(IndexCorruptError, match="rebuild"):
        LexicalIndex(tmp_path / LEXICAL_FILE)
    (tmp_path / LEXICAL_FILE).unlink()
    lexical.update(tmp_path, _db(TEXTS))
    arrays = map_npz(tmp_path / LEXICAL_FILE)
    lacking = tmp_path / "lacking.npz"
    write_npz(lacking, {k: v for k, v in arrays.items() if k not in ("rows", "colptr")})
    with pytest.raises(IndexCorruptError, match="damaged .it lacks rows, colptr.; rebuild"):
        LexicalIndex(lacking)


def test_empty_store(tmp_path):
    lexical.update(tmp_path, _db([]))
    assert LexicalIndex(tmp_path / LEXICAL_FILE).search(["anything"], 5) == []


def test_shards_weighted_by_merged_stats_score_as_one_index(tmp_path):
    texts = TEXTS + ["trade talks resumed in tehran", "a treaty on the caspian sea", "lavrov and trade"]
    whole, parts = tmp_path / "whole", [tmp_path / "a", tmp_path / "b"]
    for folder in (whole, *parts):
        folder.mkdir()
    lexical.update(whole, _db(texts))
    halves = [texts[::2], texts[1::2]]
    for folder, half in zip(parts, halves):
        lexical.update(folder, _db(half))
    one = LexicalIndex(whole / LEXICAL_FILE)
    shards = [LexicalIndex(p / LEXICAL_FILE) for p in parts]
    merged = lexical.LexicalStats.merge([s.stats() for s in shards])
    assert (merged.chunks, merged.terms, merged.df) == (one.stats().chunks, one.stats().terms, one.stats().df)
    for s in shards:
        s.use_stats(merged)
    query = ["trade", "talks", "treaty", "lavrov"]
    # Chunk i of the whole index is chunk i // 2 + 1 of shard i % 2 (ids count from 1).
    by_text = {texts[i - 1]: score for i, score in one.search(query, 10)}
    for half, s in zip(halves, shards):
        for i, score in s.search(query, 10):
            assert score == by_text[half[i - 1]]
    assert s.frequency("trade") == one.frequency("trade") == merged.df[stem("trade")]


def test_a_cut_keeps_every_chunk_tied_with_the_last(tmp_path):
    lexical.update(tmp_path, _db(["trade"] * 5 + ["trade trade"]))
    hits = LexicalIndex(tmp_path / LEXICAL_FILE).search(["trade"], 2)
    assert hits[0][0] == 6 and len(hits) == 6, "the five equal chunks after the best are all kept"


def test_ties_are_ordered_by_document_not_by_chunk_id_through_updates(tmp_path):
    # Chunk ids 1..6 belong to documents f, e, d, c, b, a: document order is the reverse of id order.
    conn = _db(["trade"] * 6, doc_ids=list("fedcba"))
    conn.execute("INSERT INTO chunks(doc_id, start, terms) VALUES ('a', 50, 'trade')")  # a's second chunk, id 7
    lexical.update(tmp_path, conn)
    index = LexicalIndex(tmp_path / LEXICAL_FILE)
    ids = np.array([i for i, _ in index.search(["trade"], 1)])
    assert len(ids) == 7
    assert sorted(index.first_in_order(ids, 3).tolist()) == [5, 6, 7]  # b, a@0, a@50
    conn.execute("DELETE FROM chunks WHERE id = 6")
    conn.execute("INSERT INTO chunks(doc_id, start, terms) VALUES ('0', 9, 'trade')")  # sorts before every letter
    lexical.update(tmp_path, conn)
    index = LexicalIndex(tmp_path / LEXICAL_FILE)
    ids = np.array([i for i, _ in index.search(["trade"], 1)])
    assert sorted(index.first_in_order(ids, 2).tolist()) == [7, 8]  # 0@9, a@50
    assert sorted(index.first_in_order(ids[:2], 5).tolist()) == sorted(ids[:2].tolist())


def test_a_reader_maps_the_arrays_aligned_and_numpy_still_reads_the_file(tmp_path):
    lexical.update(tmp_path, _db(TEXTS))
    index = LexicalIndex(tmp_path / LEXICAL_FILE)
    for array in (index.ids, index._counts, index._rows, index._colptr, index._weights):
        assert isinstance(getattr(array.base, "obj", None), mmap.mmap) and not array.flags.writeable
        assert array.ctypes.data % 64 == 0
    with np.load(tmp_path / LEXICAL_FILE) as z:
        assert z["ids"].tolist() == index.ids.tolist() and np.array_equal(z["weights"], index._weights)


def test_a_file_written_before_weights_were_stored_scores_the_same(tmp_path):
    new, old = tmp_path / "new", tmp_path / "old"
    new.mkdir(), old.mkdir()
    lexical.update(new, _db(TEXTS))
    with np.load(new / LEXICAL_FILE) as z:
        arrays = {k: z[k] for k in z.files if k not in ("weights", "total_terms", "order")}
    np.savez(old / LEXICAL_FILE, **arrays)  # how files were written before
    query = ["proposals", "trade", "3_3", "talks"]
    before, now = LexicalIndex(old / LEXICAL_FILE), LexicalIndex(new / LEXICAL_FILE)
    assert before.search(query, 10) == now.search(query, 10)
    assert before.first_in_order(before.ids, 2) is None  # the store then asks SQLite for the order
    assert before.total_terms == now.total_terms == sum(len(t.split()) for t in TEXTS)


def test_pruned_search_equals_scoring_every_chunk(tmp_path):
    """Pruning common terms (MaxScore) returns what scoring every chunk returns, scores equal to the bit and
    ties at the cut kept, on a corpus of Zipf-distributed words where each text has copies that tie."""
    rng = np.random.default_rng(7)
    vocab = [f"w{i}x" for i in range(2000)]
    zipf = 1.0 / np.arange(1, len(vocab) + 1)
    zipf /= zipf.sum()
    texts = [" ".join(rng.choice(vocab, size=int(rng.integers(3, 60)), p=zipf)) for _ in range(600)]
    lexical.update(tmp_path, _db([t for t in texts for _ in range(8)]))
    index = LexicalIndex(tmp_path / LEXICAL_FILE)
    pruned = 0
    for _ in range(100):
        query = [str(w) for w in rng.choice(vocab, size=int(rng.integers(1, 9)), p=zipf)]
        query.append(vocab[int(rng.integers(0, len(vocab)))])  # most questions hold a rarer word too
        for limit in (1, 10, 50):
            # Allowing every chunk takes the path that scores them all in one array.
            assert index.search(query, limit) == index.search(query, limit, allowed=index.ids), (query, limit)
            cols = [index.column[s] for s in {stem(t) for t in query} if s in index.column]
            pruned += index._pruned(sorted(cols, key=lambda c: index.vocab[c]), limit) is not None
    assert pruned > 150  # most searches took the pruned path, so the comparison above tested it
