"""Shipped models put together from their changed layers and the bundled model's word embeddings."""

import numpy as np

from qa.encoders.models import bundled_model_path
from qa.encoders.shipped import assemble_layers, assembled, shipped_digest


def _shipped_copy(tmp_path):
    from bench.ship_reader import ship_layers

    folder = tmp_path / "shipped"
    word = {"embeddings.word_embeddings.weight": "embeddings.word_embeddings.weight"}
    sizes = ship_layers(bundled_model_path(), folder, "card.json", word)
    return folder, sizes


def test_the_layers_ship_in_half_precision_without_the_word_embeddings(tmp_path):
    from safetensors.numpy import load_file

    folder, sizes = _shipped_copy(tmp_path)
    kept = load_file(str(folder / "weights.safetensors"))
    assert "embeddings.word_embeddings.weight" not in kept
    assert all(v.dtype == np.float16 for v in kept.values())
    assert sizes["weights.safetensors"] < 0.6 * (bundled_model_path() / "model.safetensors").stat().st_size


def test_assembled_weights_are_the_base_models(tmp_path):
    from safetensors.numpy import load_file

    folder, _ = _shipped_copy(tmp_path)
    target = assemble_layers(folder, "card.json", tmp_path / "full", ("vocab.txt", "1_Pooling"))
    full = load_file(str(target / "model.safetensors"))
    base = load_file(str(bundled_model_path() / "model.safetensors"))
    assert set(full) == set(base)
    assert np.array_equal(full["embeddings.word_embeddings.weight"], base["embeddings.word_embeddings.weight"])
    layer = "encoder.layer.0.attention.self.query.weight"
    assert np.allclose(full[layer], base[layer], atol=1e-3) and full[layer].dtype == np.float32
    assert (target / "vocab.txt").is_file() and (target / "1_Pooling" / "config.json").is_file()


def test_a_shipped_model_is_put_together_once_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    folder, _ = _shipped_copy(tmp_path)
    first = assembled(folder, "card.json", "demo", ("vocab.txt",))
    assert first.name == f"demo-{shipped_digest(folder, 'card.json')}"
    stamp = (first / "model.safetensors").stat().st_mtime_ns
    assert assembled(folder, "card.json", "demo", ("vocab.txt",)) == first
    assert (first / "model.safetensors").stat().st_mtime_ns == stamp
    assert [p.name for p in first.parent.iterdir()] == [first.name]  # no scratch folder left behind
