"""Which model embeds questions: the shipped question encoder for bundled-model indexes, else the index's own."""

import numpy as np
import pytest

from qa.encoders import question_model as qm
from qa.encoders.model_choice import resolve_model
from qa.encoders.models import DEFAULT_MODEL, bundled_model_path
from qa.errors import ModelError


@pytest.fixture()
def no_shipped_encoder(monkeypatch, tmp_path):
    monkeypatch.setattr(qm, "SHIPPED_QUESTION_ENCODER", tmp_path / "absent")
    monkeypatch.delenv("QA_QUESTION_MODEL", raising=False)


@pytest.fixture()
def shipped_base_copy(monkeypatch, tmp_path):
    """A question encoder shipped from the bundled model's own weights, put together in a fresh cache."""
    from bench.ship_encoder import ship

    target = tmp_path / "question-encoder"
    ship(bundled_model_path(), target)
    monkeypatch.setattr(qm, "SHIPPED_QUESTION_ENCODER", target)
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("QA_QUESTION_MODEL", raising=False)
    return target


def test_without_a_shipped_encoder_questions_use_the_index_model(no_shipped_encoder):
    bundled = resolve_model(None)
    assert qm.question_model(bundled) == bundled


def test_a_shipped_encoder_is_put_together_and_embeds_like_its_weights(shipped_base_copy, tmp_path):
    from qa.encoders.embedding import Embedder

    bundled = resolve_model(None)
    ref = qm.question_model(bundled)
    assert ref.id.startswith(qm.QUESTION_ENCODER + "@") and ref.path.is_relative_to(tmp_path / "cache")
    for name in ("model.safetensors", "modules.json", "tokenizer.json", "1_Pooling"):
        assert (ref.path / name).exists(), name
    # Its weights are the base model's in float16, so its vectors match the base model's closely.
    question = "Who proposed the 3+3 format?"
    ours = Embedder(ref, "torch").encode([question])[0]
    base = Embedder(bundled, "torch").encode([question])[0]
    assert float(ours @ base) > 0.9999
    assert qm.question_model(bundled) == ref  # assembled once, then found in the cache


def test_other_index_models_embed_their_own_questions(shipped_base_copy, tmp_path):
    other = resolve_model(str(bundled_model_path()))
    assert other.id != DEFAULT_MODEL
    assert qm.question_model(other) == other


def test_the_choice_overrides_the_default(shipped_base_copy, monkeypatch):
    bundled = resolve_model(None)
    assert qm.question_model(bundled, qm.SAME_AS_INDEX) == bundled
    folder = str(bundled_model_path())
    assert qm.question_model(bundled, folder).path == bundled_model_path()
    monkeypatch.setenv("QA_QUESTION_MODEL", qm.SAME_AS_INDEX)
    assert qm.question_model(bundled) == bundled
    with pytest.raises(ModelError, match="not a folder"):
        qm.question_model(bundled, "/no/such/model")


def test_a_card_for_other_passages_is_refused(shipped_base_copy):
    card = shipped_base_copy / qm.CARD
    card.write_text(card.read_text().replace(DEFAULT_MODEL, "someone/else"))
    with pytest.raises(ModelError, match="pairs with someone/else"):
        qm.question_model(resolve_model(None))


def test_an_index_embeds_questions_with_its_question_model(default_index_dir, shipped_base_copy, monkeypatch):
    from qa.index import load_index

    monkeypatch.setenv("QA_QUESTION_MODEL", qm.SAME_AS_INDEX)
    same = load_index(default_index_dir)
    assert same.question_embedder is same.embedder
    monkeypatch.delenv("QA_QUESTION_MODEL")
    shipped = load_index(default_index_dir)
    assert shipped.question_embedder.ref.id.startswith(qm.QUESTION_ENCODER)
    assert shipped.stats()["question_model"] == shipped.question_embedder.ref.id
    question = "Who proposed the 3+3 format?"
    assert np.allclose(shipped.embed_question(question), same.embed_question(question), atol=0.02)
