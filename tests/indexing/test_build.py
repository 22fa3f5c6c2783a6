import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest
from conftest import CORPUS, ROOT

from qa.errors import CorpusError, IndexMismatchError, InputError
from qa.index import load_index
from qa.indexing.build import add_documents, build_index, remove_documents
from qa.store.generations import CURRENT, current_generation


def test_build_writes_manifest_store_and_vectors(default_index_dir):
    gen = current_generation(default_index_dir)
    manifest = json.loads((gen / "manifest.json").read_text())
    assert manifest["model_id"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert manifest["dimension"] == 384 and manifest["documents"] == 1 and manifest["chunks"] >= 5
    assert manifest["chunker"]["encoding"] == "cl100k_base"
    assert {p.name for p in gen.iterdir()} == {"manifest.json", "store.sqlite", "vectors.faiss", "lexical.npz"}


def test_every_chunk_offset_points_into_its_document(default_index):
    store = default_index.store
    ids = [r[0] for r in store.connection().execute("SELECT id FROM chunks")]
    for chunk, _ in store.chunks(ids).values():
        assert default_index.document(chunk.doc_id).text[chunk.start : chunk.end] == chunk.text


def test_add_update_remove_without_rebuild(index_copy, tmp_path):
    news = tmp_path / "news"
    news.mkdir()
    (news / "bridge.txt").write_text("Bridge opens\n\nThe mayor of Springfield opened the Blue River bridge on Friday.")
    before = load_index(index_copy).stats()
    r = add_documents([news], index_copy)
    assert (r.added, r.updated, r.documents) == (1, 0, before["documents"] + 1)
    assert r.embedded_chunks == 1, "only the new article is embedded"
    idx = load_index(index_copy)
    assert idx.retrieve("Who opened the Blue River bridge?", k=1)[0].doc_id == "bridge.txt"

    # Same content again: nothing is embedded.
    assert add_documents([news], index_copy).unchanged == 1
    # Changed content replaces the old chunks.
    (news / "bridge.txt").write_text("Bridge closes\n\nThe Blue River bridge was closed for repairs on Sunday.")
    r = add_documents([news], index_copy)
    assert (r.updated, r.embedded_chunks) == (1, 1)
    assert "closed for repairs" in idx.retrieve("Blue River bridge", k=1)[0].text  # the open Index sees the update

    r = remove_documents(["bridge.txt"], index_copy)
    assert r.removed == 1 and r.documents == before["documents"]
    assert all(p.doc_id != "bridge.txt" for p in idx.retrieve("Blue River bridge", k=5))
    with pytest.raises(InputError, match="not in the index"):
        remove_documents(["nope.txt"], index_copy)


def test_model_mismatch_is_refused(default_index_dir):
    from qa.encoders.model_choice import resolve_model

    other = str(resolve_model(None).path)  # same weights, but a different model id
    with pytest.raises(IndexMismatchError, match="built with sentence-transformers/all-MiniLM-L6-v2"):
        load_index(default_index_dir, model=other)


def test_index_records_its_encoder_and_embeds_questions_with_it(default_index):
    from qa.encoders.embedding import DEFAULT_ENCODER

    m = default_index.manifest
    assert m.encoder == DEFAULT_ENCODER == "onnx-int8"
    assert default_index.embedder.encoder == m.encoder
    # A chunk's own text, asked as a question, gets the very vector stored for it.
    conn = default_index.store.connection()
    chunk_id, doc_id = conn.execute("SELECT id, doc_id FROM chunks ORDER BY id LIMIT 1").fetchone()
    chunk, _ = default_index.store.chunks([chunk_id])[chunk_id]
    from qa.indexing.steps import embedding_input

    text = embedding_input(default_index.document(doc_id).title, chunk.text)
    stored = default_index.store.vectors.reconstruct(int(chunk_id))
    assert float(default_index.embedder.encode_query(text)[0] @ stored) > 0.99999


def test_manifest_without_encoder_keeps_the_torch_encoder(index_copy, tmp_path):
    # Indexes written before the encoder was recorded were embedded with torch float32.
    manifest = current_generation(index_copy) / "manifest.json"
    data = json.loads(manifest.read_text())
    del data["encoder"]
    manifest.write_text(json.dumps(data))
    idx = load_index(index_copy)
    assert idx.manifest.encoder == "torch" and idx.embedder.encoder == "torch"
    assert idx.retrieve("Who opened the bridge?", k=2)
    news = tmp_path / "news"
    news.mkdir()
    (news / "bridge.txt").write_text("Bridge opens\n\nThe mayor of Springfield opened the Blue River bridge on Friday.")
    add_documents([news], index_copy)
    after = json.loads((current_generation(index_copy) / "manifest.json").read_text())
    assert after["encoder"] == "torch", "an add keeps the index's encoder"


def test_add_with_an_embedder_of_another_encoder_uses_the_index_encoder(index_copy, tmp_path):
    from qa.encoders.embedding import Embedder

    news = tmp_path / "news"
    news.mkdir()
    text = "The mayor of Springfield opened the Blue River bridge on Friday."
    (news / "bridge.txt").write_text("Bridge opens\n\n" + text)
    add_documents([news], index_copy, embedder=Embedder(encoder="torch"))
    idx = load_index(index_copy)
    assert idx.manifest.encoder == "onnx-int8"
    hit = idx.retrieve("Who opened the Blue River bridge?", k=1)[0]
    assert hit.doc_id == "bridge.txt"
    stored = idx.store.vectors.reconstruct(int(hit.chunk_id))
    from qa.indexing.steps import embedding_input

    assert float(idx.embedder.encode_query(embedding_input("Bridge opens", hit.text))[0] @ stored) > 0.99999


def test_format_version_mismatch_is_refused(index_copy):
    manifest = current_generation(index_copy) / "manifest.json"
    data = json.loads(manifest.read_text())
    data["format_version"] = 99
    manifest.write_text(json.dumps(data))
    with pytest.raises(IndexMismatchError, match="rebuild"):
        load_index(index_copy)


def test_empty_corpus_and_non_index_target(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="no readable articles"):
        build_index(tmp_path / "empty", tmp_path / "ix")
    target = tmp_path / "notes"
    target.mkdir()
    (target / "mine.txt").write_text("keep me")
    with pytest.raises(InputError, match="not an index folder"):
        build_index(CORPUS, target)
    assert (target / "mine.txt").read_text() == "keep me"


def test_killed_build_leaves_previous_index_usable(index_copy, tmp_path):
    """SIGKILL a rebuild while it embeds; the old generation stays live and the next build works."""
    big = tmp_path / "big"
    big.mkdir()
    for i in range(400):
        (big / f"a{i}.txt").write_text(f"Story {i}\n\n" + "The council met again to discuss the budget. " * 40)
    before = load_index(index_copy).stats()
    script = textwrap.dedent(
        f"""
        import sys
        from qa.indexing.build import build_index
        build_index([{str(big)!r}], {str(index_copy)!r}, progress=True)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    # Wait until embedding has visibly started, then kill.
    seen = ""
    while "embedding" not in seen:
        line = proc.stderr.read(64)
        if not line:
            break
        seen += line
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert "embedding" in seen
    idx = load_index(index_copy)
    assert idx.stats()["documents"] == before["documents"]
    assert idx.stats()["generation"] == before["generation"]
    assert idx.retrieve("strategic partnership", k=1)
    assert (index_copy / CURRENT).read_text().strip() == before["generation"]
    build_index(CORPUS, index_copy)
    assert not list(index_copy.glob("tmp-*")), "the next build clears what the killed one left"
    assert load_index(index_copy).stats()["documents"] == 1
