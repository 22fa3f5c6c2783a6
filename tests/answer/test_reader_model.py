"""Reader models on disk: the shipped one, Hugging Face question-answering folders, and wrong folders."""

import json

import pytest

from qa.answer.reader import get_reader
from qa.answer.reader_model import DEFAULT_READER, SHIPPED_READER, assemble_shipped, converted, resolve_reader
from qa.encoders.models import bundled_model_path
from qa.errors import ModelError


def test_shipped_reader_holds_only_what_training_changed():
    ref = resolve_reader(None)
    assert ref.shipped and ref.id.startswith(DEFAULT_READER + "@")
    assert resolve_reader(DEFAULT_READER) == ref
    from safetensors import safe_open

    with safe_open(str(SHIPPED_READER / "weights.safetensors"), "np") as f:
        names = set(f.keys())
    assert "qa_outputs.weight" in names
    assert "bert.embeddings.word_embeddings.weight" not in names, "taken from the bundled base model"
    assert (SHIPPED_READER / "README.md").is_file(), "the model card ships with the weights"


def test_converted_once_and_cached():
    folder = converted(resolve_reader(None))
    assert (folder / "model-int8.onnx").is_file() and (folder / "tokenizer.json").is_file()
    stamp = (folder / "model-int8.onnx").stat().st_mtime_ns
    assert converted(resolve_reader(None)) == folder
    assert (folder / "model-int8.onnx").stat().st_mtime_ns == stamp


def test_a_hugging_face_folder_loads_and_reads_alike(tmp_path):
    hf = assemble_shipped(tmp_path / "my-reader")
    assert json.loads((hf / "config.json").read_text())["architectures"] == ["BertForQuestionAnswering"]
    ref = resolve_reader(hf)
    assert not ref.shipped and ref.id.startswith("my-reader@")
    text = ["Sergei Lavrov proposed the 3+3 format at the meeting in Moscow on Wednesday."]
    theirs = get_reader(str(hf), "fp32").read("Where was the meeting?", text).best
    ours = get_reader(None, "fp32").read("Where was the meeting?", text).best
    assert (theirs.start, theirs.end) == (ours.start, ours.end) == (text[0].index("Moscow"), text[0].index(" on Wed"))


def test_folder_that_is_not_a_reader(tmp_path):
    with pytest.raises(ModelError, match="not a question-answering model"):
        resolve_reader(bundled_model_path())  # a sentence embedding model
    with pytest.raises(ModelError, match="not a folder"):
        resolve_reader(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="cannot read config.json"):
        resolve_reader(tmp_path / "empty")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "config.json").write_text("{not json")
    with pytest.raises(ModelError, match="cannot read config.json"):
        resolve_reader(tmp_path / "bad")


def test_a_folder_reader_id_ignores_its_abstention_model(tmp_path):
    """Refitting the abstention model beside a reader must not make the reader convert again; new config does."""
    folder = tmp_path / "reader"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"architectures": ["BertForQuestionAnswering"]}))
    (folder / "model.safetensors").write_bytes(b"weights")
    first = resolve_reader(folder).id
    (folder / "abstention.json").write_text("{}")
    assert resolve_reader(folder).id == first
    (folder / "config.json").write_text(json.dumps({"architectures": ["BertForQuestionAnswering"], "x": 1}))
    assert resolve_reader(folder).id != first


def test_unknown_variant():
    with pytest.raises(ModelError, match="unknown reader variant"):
        converted(resolve_reader(None), "int4")
