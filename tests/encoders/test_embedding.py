import numpy as np
import pytest

from qa.encoders.embedding import Embedder
from qa.encoders.model_choice import resolve_model
from qa.encoders.models import DEFAULT_MODEL
from qa.errors import ModelError


def test_bundled_model_embeds_normalised_vectors_in_input_order():
    e = Embedder()
    assert e.ref.id == DEFAULT_MODEL
    texts = ["The mayor opened a bridge.", "x", "A much longer sentence about a storm hitting the coast on Monday."]
    v = e.encode(texts)
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    # Order is the input order even though batches are sorted by length.
    single = e.encode([texts[2]])
    assert np.allclose(v[2], single[0], atol=1e-5)
    related = e.encode(["A bridge was opened by the mayor."])[0]
    assert related @ v[0] > related @ v[2]


def test_model_path_that_is_not_a_model(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        resolve_model(str(tmp_path / "missing"))
    with pytest.raises(ModelError, match="not a sentence-transformers model"):
        resolve_model(str(tmp_path))


def test_local_model_folder_gets_its_own_id():
    bundled = resolve_model(None)
    by_path = resolve_model(str(bundled.path))
    assert by_path.path == bundled.path
    assert by_path.id != DEFAULT_MODEL and by_path.id.startswith(bundled.path.name + "@")


def test_torch_free_question_vectors_match_sentence_transformers():
    from qa.encoders.bert_numpy import NumpyBert, supported
    from qa.encoders.embedding import Embedder

    embedder = Embedder(encoder="torch")
    assert supported(embedder.ref.path)
    texts = ["who proposed the 3+3 format?", "The ministers met in Tehran on Monday to discuss the talks in detail."]
    light = NumpyBert(embedder.ref.path).encode(texts)
    assert np.abs(light - embedder.encode(texts)).max() < 1e-5


def test_small_batches_without_torch_match_the_torch_vectors():
    import subprocess
    import sys

    # A fresh process, so that no model is loaded yet; torch itself may be imported by other packages.
    script = (
        "import numpy as np\n"
        "from qa.encoders.embedding import Embedder\n"
        "texts = ['The mayor opened the bridge.', 'Lavrov proposed talks in the 3+3 format.']\n"
        "e = Embedder(encoder='torch'); e.small_batches_without_torch = True\n"
        "light = e.encode(texts)\n"
        "assert e._model is None, 'the torch model stayed unloaded'\n"
        "e.small_batches_without_torch = False\n"
        "full = e.encode(texts)\n"
        "print(float(np.abs(light - full).max()))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    assert float(out.stdout.strip()) < 1e-4


# ---------------------------------------------------------------- the ONNX Runtime encoders

VARIED = [
    "The mayor opened a bridge.",
    "x",
    "",
    "Who proposed the 3+3 format in Tehran on Monday?",
    "Émile Zola écrivit « J'accuse » en 1898 ; 東京 is Japan's capital — prices rose 4.5% to $1,200.",
    "A storm hit the coast. " * 80,  # past the 256-piece window: truncated like sentence-transformers
    "Apple's quarterly revenue rose 8% as iPhone sales in China recovered, analysts said on Thursday.",
]


# int8 products round differently by instruction set: with VNNI every text reached 0.99; on a CPU
# without it (AVX2 kernels) the one-letter text "x" gives 0.987 and the empty text 0.974.
@pytest.mark.parametrize("variant,floor", [("onnx-fp32", 0.99999), ("onnx-int8", 0.985)])
def test_onnx_vectors_match_the_torch_vectors(variant, floor):
    torch_vecs = Embedder(encoder="torch").encode(VARIED)
    e = Embedder(encoder=variant)
    assert e.encoder == variant
    vecs = e.encode(VARIED)
    assert vecs.shape == torch_vecs.shape and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    cos = (vecs * torch_vecs).sum(axis=1)
    # The empty text is only [CLS] [SEP], the two pieces int8 rounds worst (0.974-0.986); nothing embeds it
    # in practice (chunks and questions are never empty), so it is held to a looser bound.
    empty = VARIED.index("")
    assert np.delete(cos, empty).min() >= floor, cos
    assert cos[empty] >= min(floor, 0.97), cos
    # The window agrees with the torch tokenizer's, so chunk plans are the same with either encoder.
    torch_e = Embedder(encoder="torch")
    assert [e.fits_window(t) for t in VARIED] == [torch_e.fits_window(t) for t in VARIED]
    assert (e.dimension, e.max_seq_length) == (torch_e.dimension, torch_e.max_seq_length)


def test_onnx_vector_of_a_text_does_not_depend_on_its_batch():
    e = Embedder(encoder="onnx-int8")
    many = e.encode(VARIED * 12)  # a large call: batches of equal lengths on every core
    alone = np.stack([e.encode([t])[0] for t in VARIED])
    assert np.abs(many[: len(VARIED)] - alone).max() < 1e-5
    assert np.abs(many[-len(VARIED) :] - alone).max() < 1e-5
    assert np.abs(e.encode_query(VARIED[0])[0] - alone[0]).max() < 1e-5
    # A build checks each chunk's window first, and the pieces counted then are the ones embedded.
    fresh = ["Checked first: the council met on Tuesday.", "Then embedded, with another text."]
    assert e.fits_window(fresh[0]) and fresh[0] in e.onnx._pieces
    checked_first = e.encode(fresh)
    assert fresh[0] not in e.onnx._pieces
    assert np.abs(checked_first - e.encode(fresh)).max() < 1e-6


def test_onnx_model_is_cached_and_reused(tmp_path, monkeypatch):
    from qa.encoders.onnx_encoder import cached_model_path, load_session

    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path))
    folder = resolve_model(None).path
    path = cached_model_path(folder, "onnx-int8")
    assert path.parent == tmp_path / "onnx" and not path.exists()
    _, built = load_session(folder, "onnx-int8")
    assert built == path and path.is_file()
    first = path.stat()
    _, again = load_session(folder, "onnx-int8")
    second = path.stat()
    assert again == path
    assert (second.st_ino, second.st_mtime_ns) == (first.st_ino, first.st_mtime_ns), "the cached file was rewritten"
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no temporary file is left behind"


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_damaged_onnx_cache_is_rebuilt(tmp_path, monkeypatch, damage):
    from qa.encoders.onnx_encoder import load_session

    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path))
    folder = resolve_model(None).path
    _, path = load_session(folder, "onnx-int8")
    size = path.stat().st_size
    data = path.read_bytes()
    path.write_bytes({"truncate": data[: size // 2], "garbage": b"\x00not onnx" * 100, "empty": b""}[damage])
    session, rebuilt = load_session(folder, "onnx-int8")
    assert rebuilt == path and path.stat().st_size == size
    ids = np.array([[101, 7592, 102]], dtype=np.int64)
    out = session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0]
    assert out.shape == (1, 384) and abs(float(np.linalg.norm(out)) - 1.0) < 1e-5


def test_unwritable_cache_builds_the_model_in_memory(tmp_path, monkeypatch):
    from qa.encoders.onnx_encoder import load_session

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv("QA_CACHE_DIR", str(blocker))
    session, path = load_session(resolve_model(None).path, "onnx-int8")
    assert path is None and blocker.read_text().startswith("a file")
    ids = np.array([[101, 7592, 102]], dtype=np.int64)
    assert session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0].shape == (1, 384)


def test_without_onnxruntime_the_torch_encoder_is_used_and_recorded(tmp_path):
    import json
    import subprocess
    import sys

    corpus = tmp_path / "news"
    corpus.mkdir()
    (corpus / "bridge.txt").write_text(
        "Bridge opens\n\nThe mayor of Springfield opened the Blue River bridge on Friday."
    )
    script = (
        "import sys\n"
        "sys.modules['onnxruntime'] = None  # as if it were not installed\n"
        "from qa.indexing.build import build_index\n"
        "from qa.index import load_index\n"
        f"build_index({str(corpus)!r}, {str(tmp_path / 'index')!r})\n"
        f"idx = load_index({str(tmp_path / 'index')!r})\n"
        "print(idx.embedder.encoder, idx.retrieve('Who opened the bridge?', k=1)[0].doc_id)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["torch", "bridge.txt"]
    assert "Traceback" not in out.stderr and "onnxruntime is not installed" in out.stderr
    from qa.store.generations import current_generation

    manifest = json.loads((current_generation(tmp_path / "index") / "manifest.json").read_text())
    assert manifest["encoder"] == "torch"


def test_a_question_against_an_onnx_index_does_not_import_torch(default_index_dir):
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from qa.index import load_index\n"
        f"idx = load_index({str(default_index_dir)!r})\n"
        "idx.retrieve('Who opened the bridge?', k=3)\n"
        "print(idx.embedder.encoder, 'torch' in sys.modules and sys.modules['torch'] is not None)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.split() == ["onnx-int8", "False"]
