import numpy as np

from qa.evidence import SentenceScorer, content_stems, passage_sentences, stem
from qa.records import Passage


def test_stem_joins_word_forms():
    assert stem("proposed") == stem("proposal") == "propos"
    assert stem("talks") == stem("talk")
    assert content_stems("Who proposed the format?") == ["propos", "format"]


def test_passage_sentences_have_document_offsets_and_no_repeats():
    text = "Alpha beta. Gamma delta."
    p1 = Passage(1, "d", "T", None, None, 100, 100 + len(text), text, 1.0, 1)
    p2 = Passage(2, "d", "T", None, None, 112, 112 + 12, "Gamma delta.", 0.5, 2)
    sentences = passage_sentences([p1, p2])
    assert [(s.start, s.end, s.text) for s in sentences] == [(100, 111, "Alpha beta."), (112, 124, "Gamma delta.")]


def test_scorer_prefers_meaning_and_rare_shared_words():
    from qa.embedding import Embedder

    embedder = Embedder()
    frequency = {"bridge": 1, "mayor": 1, "opened": 5}
    scorer = SentenceScorer(embedder.encode, lambda term: frequency.get(term, 10), total_chunks=10)
    text = "The weather was cold. The mayor opened the bridge on Friday."
    p = Passage(1, "d", "T", None, None, 0, len(text), text, 1.0, 1)
    question = "Who opened the bridge?"
    weights = scorer.term_weights(question)
    assert weights["bridge"] > weights["opened"] > 0, "rarer words weigh more"
    ranked = scorer.score(weights, embedder.encode([question])[0], passage_sentences([p]))
    assert ranked[0].text.startswith("The mayor")
    assert ranked[0].lexical == 1.0 and ranked[1].lexical == 0.0
    assert np.isclose(
        ranked[0].dense, float(embedder.encode([ranked[0].text])[0] @ embedder.encode([question])[0]), atol=1e-4
    )
