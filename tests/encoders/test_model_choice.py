"""The model indexes are built with by default: the package's own encoder once one ships, else the bundled one;
an index keeps the model it was built with and is told how to move to the default."""

import logging

import pytest
from conftest import DEFAULT_ARTICLE

from qa.encoders import model_choice as dm
from qa.encoders.model_choice import recorded_model, resolve_model
from qa.encoders.models import DEFAULT_MODEL, bundled_model_path
from qa.errors import IndexMismatchError


@pytest.fixture()
def no_shipped_encoder(monkeypatch, tmp_path):
    monkeypatch.setattr(dm, "SHIPPED_ENCODER", tmp_path / "absent")


@pytest.fixture()
def shipped_encoder(monkeypatch, tmp_path):
    """An encoder shipped (as `bench/ship_encoder.py --both-sides` ships one) from the bundled model's weights,
    put together in a fresh cache."""
    from bench.ship_encoder import ship_both_sides

    target = tmp_path / "encoder"
    ship_both_sides(bundled_model_path(), target)
    monkeypatch.setattr(dm, "SHIPPED_ENCODER", target)
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    return target


def test_without_a_shipped_encoder_the_bundled_model_is_the_default(no_shipped_encoder):
    assert resolve_model(None) == dm.bundled_model()
    assert resolve_model(None).id == DEFAULT_MODEL
    assert dm.rebuild_hint(DEFAULT_MODEL) is None


def test_a_shipped_encoder_is_the_default_and_the_bundled_model_stays_by_name(shipped_encoder, tmp_path):
    default = resolve_model(None)
    assert default.id.startswith(dm.ENCODER + "@") and default.path.is_relative_to(tmp_path / "cache")
    for name in ("model.safetensors", "modules.json", "tokenizer.json", "1_Pooling"):
        assert (default.path / name).exists(), name
    assert resolve_model("all-MiniLM-L6-v2").id == DEFAULT_MODEL
    assert recorded_model(DEFAULT_MODEL, "") == dm.bundled_model()
    assert recorded_model(default.id, str(default.path)) == default
    assert dm.rebuild_hint(default.id) is None
    assert dm.rebuild_hint(resolve_model(str(bundled_model_path())).id) is None  # a model given by folder


def test_an_index_of_the_bundled_model_keeps_working_and_says_how_to_rebuild(
    default_index_dir, shipped_encoder, caplog, capsys
):
    from qa.cli import main
    from qa.index import load_index

    with caplog.at_level(logging.WARNING):
        index = load_index(default_index_dir)
    assert index.embedder.ref == dm.bundled_model()
    assert "rebuild the index with `qa index build`" in index.rebuild_hint
    assert index.rebuild_hint in caplog.text
    assert index.answer("Who proposed the 3+3 format?").text in ("Lavrov", "Sergei Lavrov")
    assert main(["index", "stats", "--index", str(default_index_dir)]) == 0
    assert "note       this index was built with sentence-transformers/all-MiniLM-L6-v2" in capsys.readouterr().out


def test_a_new_index_records_the_shipped_encoder_and_one_it_no_longer_holds_is_refused(shipped_encoder, tmp_path):
    from qa.index import load_index
    from qa.indexing.build import build_index

    build_index([DEFAULT_ARTICLE], tmp_path / "index")
    index = load_index(tmp_path / "index")
    assert index.embedder.ref == resolve_model(None) and index.rebuild_hint is None
    assert index.retrieve("Who proposed the 3+3 format?")[0].doc_id == DEFAULT_ARTICLE.name
    # Another version of the package ships another encoder: the index names the one it no longer holds.
    card = shipped_encoder / dm.CARD
    card.write_text(card.read_text().replace("{", '{\n  "version": 2,', 1))
    with pytest.raises(IndexMismatchError, match="no longer holds .*rebuild it with `qa index build`"):
        load_index(tmp_path / "index")
