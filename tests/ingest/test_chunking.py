import pytest
from conftest import shared_path

from qa.ingest.chunking import DEFAULT_MAX_TOKENS, ChunkerSettings, chunk_text, count_tokens
from qa.ingest.corpus import load_corpus
from qa.ingest.text import split_sentences


def test_chunks_are_whole_sentences_with_overlap(default_text):
    chunks = chunk_text(default_text)
    starts = {s for s, _ in split_sentences(default_text)}
    ends = {e for _, e in split_sentences(default_text)}
    assert len(chunks) > 3
    for c in chunks:
        assert c.start in starts and c.end in ends
        assert c.n_tokens == count_tokens(default_text[c.start : c.end])
        assert c.n_tokens <= DEFAULT_MAX_TOKENS + 5
    for a, b in zip(chunks, chunks[1:]):
        assert b.start < a.end, "consecutive chunks share a sentence"
        assert b.start > a.start
    assert chunks[0].start == 0 and chunks[-1].end == len(default_text.rstrip())


def test_sentence_longer_than_budget_is_split_on_tokens():
    text = "word " * 500 + "end."
    chunks = chunk_text(text, ChunkerSettings(max_tokens=50))
    assert len(chunks) >= 10
    assert all(c.n_tokens <= 52 for c in chunks)
    assert chunks[0].start == 0 and chunks[-1].end == len(text)


def test_token_counts_use_cl100k():
    # "hello 3+3" in cl100k_base is [15339, 220, 18, 10, 18].
    assert count_tokens("hello 3+3") == 5


def test_no_chunk_exceeds_the_embedding_window():
    """Chunks as embedded (title included) fit the model's own word-piece window on every corpus at hand,
    Cyrillic passages of the Wikinews set included."""
    from qa.encoders.embedding import Embedder
    from qa.indexing.steps import plan_chunks

    paths = ["corpus"]
    for parts in (("corpus-extra",), ("eval", "squad2-tune", "corpus.jsonl")):
        try:
            paths.append(shared_path(*parts))
        except pytest.skip.Exception:
            pass
    embedder = Embedder()
    tokenizer = embedder.model.tokenizer
    docs = load_corpus(paths)
    plans, texts = plan_chunks(docs, ChunkerSettings(), embedder)
    assert len(texts) == sum(len(spans) for _, spans in plans) > len(docs)
    longest = max(len(tokenizer(t)["input_ids"]) for t in texts)
    assert longest <= embedder.max_seq_length, f"a chunk of {longest} word pieces would be truncated"
    for doc, spans in plans:
        for start, end, _n_tokens, _ in spans:
            assert 0 <= start < end <= len(doc.text)


def test_refit_cuts_chunks_the_model_would_truncate(default_text):
    from qa.ingest.chunking import chunk_document
    from qa.records import Document

    doc = Document(id="d", title="t", text=default_text)
    chunks = chunk_document(doc, fits=lambda text: len(text) < 300)
    assert all(c.end - c.start < 300 or c.n_tokens <= 8 for c in chunks)
    assert len(chunks) > len(chunk_text(default_text))
