"""Models the package ships as only the weights their training changed (float16, word embeddings left out),
put together with the bundled all-MiniLM-L6-v2's frozen word embeddings and files when first used."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from qa.encoders.models import bundled_model_path, cache_root
from qa.errors import ModelError

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")
# A sentence-transformers folder besides the layers: the base model's tokenizer, pooling and normalising.
SENTENCE_MODEL_FILES = (
    *TOKENIZER_FILES,
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling",
    "2_Normalize",
)


def shipped_digest(folder: Path, card: str) -> str:
    """A short digest of a shipped model's config and card (the card records its weights' sha256)."""
    digest = hashlib.sha256()
    for name in ("config.json", card):
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()[:12]


def assemble_layers(
    folder: Path, card: str, target: Path, base_files: tuple[str, ...] = TOKENIZER_FILES, base: Path | None = None
) -> Path:
    """A full model folder in `target`: `folder`'s weights in float32 plus the base tensors its `card` names
    under `from_base`, its config.json, and `base_files` (files or folders) copied from the base model folder
    (`base`, by default the bundled all-MiniLM-L6-v2)."""
    import numpy as np
    from safetensors.numpy import load_file, save_file

    base = base or bundled_model_path()
    meta = json.loads((folder / card).read_text())
    tensors = {k: v.astype(np.float32) for k, v in load_file(str(folder / "weights.safetensors")).items()}
    base_tensors = load_file(str(base / "model.safetensors"))
    for name, base_name in meta["from_base"].items():
        tensors[name] = base_tensors[base_name].astype(np.float32)
    target.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(target / "model.safetensors"), metadata={"format": "pt"})
    shutil.copy(folder / "config.json", target / "config.json")
    for name in base_files:
        source = base / name
        if source.is_dir():
            shutil.copytree(source, target / name, dirs_exist_ok=True)
        elif source.is_file():
            shutil.copy(source, target / name)
    return target


def assembled(folder: Path, card: str, name: str, base_files: tuple[str, ...]) -> Path:
    """The cached full folder of a shipped model (cache_root()/models/NAME-DIGEST), put together once."""
    target = cache_root() / "models" / f"{name}-{shipped_digest(folder, card)}"
    if (target / "model.safetensors").is_file():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
        try:
            assemble_layers(folder, card, scratch, base_files)
            os.replace(scratch, target)
        except OSError:
            if not (target / "model.safetensors").is_file():  # else another process finished first
                raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    except OSError as exc:
        raise ModelError(f"cannot put the model {name} together in {target}: {exc}") from None
    return target
