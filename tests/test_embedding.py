import numpy as np
import pytest

from qa.embedding import Embedder
from qa.errors import ModelError
from qa.models import DEFAULT_MODEL, resolve_model


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
    from qa.bert_numpy import NumpyBert, supported
    from qa.embedding import Embedder

    embedder = Embedder()
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
        "from qa.embedding import Embedder\n"
        "texts = ['The mayor opened the bridge.', 'Lavrov proposed talks in the 3+3 format.']\n"
        "e = Embedder(); e.small_batches_without_torch = True\n"
        "light = e.encode(texts)\n"
        "assert e._model is None, 'the torch model stayed unloaded'\n"
        "e.small_batches_without_torch = False\n"
        "full = e.encode(texts)\n"
        "print(float(np.abs(light - full).max()))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    assert float(out.stdout.strip()) < 1e-4
