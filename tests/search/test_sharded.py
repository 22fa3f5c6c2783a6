"""Sharded indexes read as one: same ranking as an unsharded index, damage named by shard."""

import gc
import json
import shutil
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import TIED_TEXT, shared_path, write_tied_corpus

from qa.errors import IndexCorruptError, InputError
from qa.index import load_index
from qa.indexing.build import build_index
from qa.indexing.shard_build import build_sharded_index, reshard_index
from qa.search.retrieval import hybrid_search
from qa.search.sharded import ShardedStore
from qa.store.generations import current_generation
from qa.store.lexical import LexicalIndex
from qa.store.shards import SHARDS_FILE, shard_name, shard_of

SQUAD_QUESTIONS = 300


@pytest.fixture(scope="module")
def squad_indexes(tmp_path_factory):
    """The squad2-tune corpus built unsharded, and the same documents, chunks and vectors in three shards."""
    corpus = shared_path("eval", "squad2-tune", "corpus.jsonl")
    root = tmp_path_factory.mktemp("squad")
    build_index([corpus], root / "one")
    shutil.copytree(root / "one", root / "three")
    reshard_index(root / "three", 3)
    return load_index(root / "one"), load_index(root / "three"), corpus


def test_a_sharded_index_ranks_as_the_unsharded_one(squad_indexes):
    one, three, corpus = squad_indexes
    assert isinstance(three.store, ShardedStore) and three.stats()["shards"] == 3
    assert (three.manifest.documents, three.manifest.chunks) == (one.manifest.documents, one.manifest.chunks)
    questions = [json.loads(line)["question"] for line in corpus.with_name("questions.jsonl").read_text().splitlines()]
    step = max(1, len(questions) // SQUAD_QUESTIONS)
    differ = []
    for q in questions[::step][:SQUAD_QUESTIONS]:
        a, b = one.retrieve(q, k=10), three.retrieve(q, k=10)
        if [p.doc_id for p in a] != [p.doc_id for p in b]:
            differ.append(q)
        # BM25 uses the whole index's statistics, and the vectors are the same: scores are equal.
        assert [p.score for p in b] == [p.score for p in a]
    assert not differ, f"{len(differ)} of {SQUAD_QUESTIONS} top-10 document lists differ, e.g. {differ[:3]}"


def test_sharded_store_reads_like_one_store(squad_indexes):
    one, three, _ = squad_indexes
    assert three.documents() == one.documents()
    assert three.store.sources() == one.store.sources()
    assert three.store.document_hashes() == one.store.document_hashes()
    for term in ("normans", "abbey", "oxygen", "nothing-like-this"):
        assert three.store.term_frequency(term) == one.store.term_frequency(term)
    doc = one.documents()[5]["id"]
    assert three.document(doc) == one.document(doc)
    with pytest.raises(InputError, match="no document"):
        three.document("no/such/doc")


def test_filters_apply_across_shards(tmp_path):
    topics = ["harbour", "railway", "vaccine", "election", "drought", "museum", "satellite", "strike"]
    records = [
        {
            "id": f"n{i}",
            "title": f"News about the {t}",
            "text": f"Officials spoke about the {t} on Monday. The {t} was in the news across the region.",
            "source": "north.example" if i % 2 else "south.example",
            "published": f"2024-0{1 + i % 4}-15",
        }
        for i, t in enumerate(topics)
    ]
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in records))
    build_index([corpus], tmp_path / "one")
    build_sharded_index([corpus], tmp_path / "three", shards=3, workers=1)
    one, three = load_index(tmp_path / "one"), load_index(tmp_path / "three")
    assert three.store.sources() == ["north.example", "south.example"]
    for filters in (
        {"source": "north.example"},
        {"published_from": "2024-03-01"},
        {"source": "south.example", "published_to": "2024-02-28"},
    ):
        a, b = one.retrieve("news in the region", k=8, **filters), three.retrieve("news in the region", k=8, **filters)
        assert a and [p.doc_id for p in b] == [p.doc_id for p in a]
        assert all(p.source == filters.get("source", p.source) for p in b)
        assert all(p.published >= filters.get("published_from", "") for p in b)


@pytest.mark.parametrize("recorded_order", [True, False], ids=["order-in-lexical-file", "order-from-sqlite"])
def test_exact_ties_are_cut_by_document_in_every_layout(tmp_path, monkeypatch, recorded_order):
    """Twelve copies of one text tie exactly on BM25. Searched with a vector opposite to theirs, they are
    not among the dense candidates, so they tie on the fused score too: the cut between them must follow
    their document ids, not chunk ids or shards, in one store and in three; read from the document order
    the lexical file records, or from SQLite for files written before it did."""
    if not recorded_order:
        monkeypatch.setattr(LexicalIndex, "first_in_order", lambda self, ids, limit: None)
    corpus, copies = write_tied_corpus(tmp_path)
    build_index([corpus], tmp_path / "one")
    build_sharded_index([corpus], tmp_path / "three", shards=3, workers=1)
    one, three = load_index(tmp_path / "one"), load_index(tmp_path / "three")
    assert len({shard_of(i, 3) for i in sorted(copies)[:5]}) > 1
    away = -one.embed_question(TIED_TEXT)
    for k in (1, 3, 5):
        a = hybrid_search(one.store, "zephyrine lighthouse", away, k, candidates=1)
        b = hybrid_search(three.store, "zephyrine lighthouse", away, k, candidates=1)
        assert [p.doc_id for p in a] == sorted(copies)[:k]
        assert len({p.score for p in a}) == 1  # the cut falls inside the ties
        assert [(p.doc_id, p.start, p.end, p.score, p.rank) for p in b] == [
            (p.doc_id, p.start, p.end, p.score, p.rank) for p in a
        ]


def test_answers_and_citations_match(squad_indexes):
    one, three, _ = squad_indexes
    # The last is typed with a slip: read as "Normandy" across the shards too.
    questions = ("In what country is Normandy located?", "Who were the two abbots at Fécamp Abbey?")
    for q in (*questions, "In what country is Normnady located?"):
        a, b = one.answer(q), three.answer(q)
        assert (b.text, b.read_as, [(c.doc_id, c.start, c.end) for c in b.citations]) == (
            a.text,
            a.read_as,
            [(c.doc_id, c.start, c.end) for c in a.citations],
        )
        for c in b.citations:
            assert three.document(c.doc_id).text[c.start : c.end] == c.quote
    assert b.read_as == "In what country is Normandy located?"


@pytest.fixture()
def sharded_copy(tmp_path):
    """A small three-shard index that a test may damage (the default corpus: one article, so two empty shards)."""
    from conftest import CORPUS

    build_sharded_index(CORPUS, tmp_path / "ix", shards=3, workers=1)
    return tmp_path / "ix"


def test_a_damaged_shard_file_is_named_at_load(sharded_copy):
    gen = current_generation(sharded_copy)
    holder = shard_name(shard_of("000_670c52a8f442eec9.txt", 3))
    path = gen / holder / "vectors.faiss"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match=f"shard {holder}.*vectors.faiss.*checksum"):
        load_index(sharded_copy)


def test_a_missing_or_replaced_shard_is_named(sharded_copy):
    gen = current_generation(sharded_copy)
    (gen / "shard-002" / "manifest.json").write_text("{}")
    with pytest.raises(IndexCorruptError, match="shard shard-002 .* not the one published"):
        load_index(sharded_copy)
    (gen / SHARDS_FILE).write_text("{not json")
    with pytest.raises(IndexCorruptError, match="shards.json is unreadable"):
        load_index(sharded_copy)


def test_ray_needs_a_sharded_index(default_index_dir):
    with pytest.raises(InputError, match="no shards"):
        load_index(default_index_dir, ray="local")


# At least this many loads of an 8-shard index, from LOADERS threads at once: with the failure rate seen before the
# fix (1 load in 40), all 500 passing by chance has a probability of about 3e-6.
LOADS, LOADERS = 500, 4


class _Cycle:
    """Garbage that only the cycle collector frees, running Python code as it goes."""

    def __del__(self) -> None:
        sum(range(20))


def test_loading_from_many_threads_never_reads_a_healthy_index_as_damaged(tmp_path):
    """numpy parses .npy headers with `ast.literal_eval`, which on Python 3.11 fails ("AST constructor recursion
    depth mismatch") when a thread switch falls inside it and another thread parses too. Frequent switches and
    finalizers run by the collector make that switch likely: with numpy's parser, ~1 load in 40 failed here."""
    corpus, _ = write_tied_corpus(tmp_path)
    build_sharded_index([corpus], tmp_path / "ix", shards=8, workers=1)
    gen = current_generation(tmp_path / "ix")
    stop = threading.Event()

    def litter() -> None:
        while not stop.is_set():
            cycle = _Cycle()
            cycle.me = cycle
            del cycle
            time.sleep(0)  # lets the loaders run between cycles

    def load(_: int) -> str:
        try:
            ShardedStore(gen).close()
            return "ok"
        except IndexCorruptError as exc:
            return str(exc)

    def load_many(count: int) -> list[str]:
        with ThreadPoolExecutor(LOADERS) as pool:
            return list(pool.map(load, range(count)))

    interval, threshold = sys.getswitchinterval(), gc.get_threshold()
    sys.setswitchinterval(1e-6)
    gc.set_threshold(100)
    littering = threading.Thread(target=litter, daemon=True)
    littering.start()
    try:
        healthy = load_many(LOADS)
        damaged = gen / "shard-005" / "lexical.npz"
        data = bytearray(damaged.read_bytes())
        data[len(data) // 2] ^= 0xFF
        damaged.write_bytes(bytes(data))
        broken = load_many(40)
    finally:
        stop.set()
        littering.join()
        sys.setswitchinterval(interval)
        gc.set_threshold(*threshold)
    failures = [r for r in healthy if r != "ok"]
    assert not failures, f"{len(failures)} of {LOADS} loads failed, e.g. {failures[0]}"
    assert all(r.startswith("shard shard-005 is damaged") and "lexical.npz" in r for r in broken), set(broken)
