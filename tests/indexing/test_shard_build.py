"""Sharded builds in local processes, and additions and removals routed to the shard of each id."""

import os

import pytest
from conftest import CORPUS

from qa.errors import InputError
from qa.index import load_index
from qa.indexing.build import add_documents, remove_documents
from qa.indexing.shard_build import build_sharded_index, split_documents
from qa.store.generations import Store, current_generation
from qa.store.shards import ShardSet, shard_name, shard_of


@pytest.fixture()
def sharded(tmp_path):
    report = build_sharded_index(CORPUS, tmp_path / "ix", shards=3, workers=2, progress=True)
    assert (report.documents, report.added) == (1, 1) and report.chunks == report.embedded_chunks >= 5
    return tmp_path / "ix"


def test_a_process_built_index_answers_as_the_unsharded_one(sharded, default_index):
    idx = load_index(sharded)
    assert idx.manifest.chunks == default_index.manifest.chunks
    q = "Who joined the talks via video conference?"
    assert [(p.doc_id, p.start, p.end) for p in idx.retrieve(q, k=5)] == [
        (p.doc_id, p.start, p.end) for p in default_index.retrieve(q, k=5)
    ]
    a, b = default_index.answer(q), idx.answer(q)
    assert b.text == a.text and not a.abstained
    assert [(c.doc_id, c.start, c.end) for c in b.citations] == [(c.doc_id, c.start, c.end) for c in a.citations]


def test_documents_are_routed_by_their_id(tmp_path):
    from qa.records import Document

    docs = [Document(id=f"d{i}", title="t", text="x") for i in range(50)]
    groups = split_documents(docs, 4)
    assert sum(len(g) for g in groups) == 50
    assert all(shard_of(d.id, 4) == i for i, g in enumerate(groups) for d in g)


def test_add_and_remove_touch_only_the_shard_of_the_id(sharded, tmp_path):
    news = tmp_path / "news"
    news.mkdir()
    (news / "bridge.txt").write_text("Bridge opens\n\nThe mayor of Springfield opened the Blue River bridge on Friday.")
    target = shard_of("bridge.txt", 3)
    old = current_generation(sharded)
    idx = load_index(sharded)
    r = add_documents([news], sharded)
    assert (r.added, r.documents, r.embedded_chunks) == (1, 2, 1)
    new = current_generation(sharded)
    assert new != old and ShardSet.read(new).shards == 3
    for i in range(3):
        same_file = (
            os.stat(old / shard_name(i) / "vectors.faiss").st_ino
            == os.stat(new / shard_name(i) / "vectors.faiss").st_ino
        )
        assert same_file == (i != target), f"shard {i}: only the shard of bridge.txt is rewritten"
    held = Store(new / shard_name(target))
    assert "bridge.txt" in held.document_hashes()
    held.close()
    assert idx.retrieve("Who opened the Blue River bridge?", k=1)[0].doc_id == "bridge.txt"  # the open index sees it

    assert add_documents([news], sharded).unchanged == 1
    assert remove_documents(["bridge.txt"], sharded).removed == 1
    assert all(p.doc_id != "bridge.txt" for p in idx.retrieve("Blue River bridge", k=5))
    live = current_generation(sharded)
    with pytest.raises(InputError, match="not in the index: nope.txt"):
        remove_documents(["nope.txt", "000_670c52a8f442eec9.txt"], sharded)
    assert current_generation(sharded) == live, "a refused removal publishes nothing"
    assert load_index(sharded).manifest.documents == 1
    assert not list(sharded.glob("tmp-*"))


def test_a_killed_sharded_build_leaves_the_live_index(sharded):
    import signal
    import subprocess
    import sys
    import time

    from conftest import ROOT

    live = current_generation(sharded)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "-q", "index", "build", str(CORPUS), "--index", str(sharded), "--shards", "2"],
        cwd=ROOT,
        env=env,
        start_new_session=True,  # its worker processes die with it
    )
    deadline = time.monotonic() + 120
    while not list(sharded.glob("tmp-*")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the build ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert current_generation(sharded) == live
    assert load_index(sharded).retrieve("Who proposed the 3+3 format?", k=1)[0].doc_id == "000_670c52a8f442eec9.txt"
    build_sharded_index(CORPUS, sharded, shards=2, workers=1)  # the next build clears what was left
    assert load_index(sharded).stats()["shards"] == 2 and not list(sharded.glob("tmp-*"))


def test_reshard_splits_and_joins_without_embedding(index_copy, default_index):
    from qa.indexing.shard_build import reshard_index
    from qa.store.shards import is_sharded

    q = "Who proposed the 3+3 format?"
    before = [(p.doc_id, p.start, p.end, p.score) for p in default_index.retrieve(q, k=5)]
    r = reshard_index(index_copy, 2)
    assert (r.documents, r.chunks, r.embedded_chunks) == (1, default_index.manifest.chunks, 0)
    assert is_sharded(current_generation(index_copy))
    split = load_index(index_copy)
    assert [(p.doc_id, p.start, p.end, p.score) for p in split.retrieve(q, k=5)] == before
    assert split.document("000_670c52a8f442eec9.txt") == default_index.document("000_670c52a8f442eec9.txt")
    reshard_index(index_copy, 1)
    assert not is_sharded(current_generation(index_copy))
    joined = load_index(index_copy)
    assert [(p.doc_id, p.start, p.end, p.score) for p in joined.retrieve(q, k=5)] == before
    assert joined.answer(q).text == default_index.answer(q).text
