"""The reader's model on disk: the one the package ships, or any Hugging Face question-answering folder,
converted once to ONNX and cached.

Conversion is the standard one: ``torch.onnx.export`` of ``AutoModelForQuestionAnswering``, then
``onnxruntime.quantization.quantize_dynamic`` for int8. It needs torch and transformers once per
model and version; afterwards a reader loads from the cache with onnxruntime and `tokenizers` alone.

The shipped reader (``qa/models/reader``) holds only the weights its training changed: its word
embeddings were frozen, so they are taken from the bundled all-MiniLM-L6-v2 package, and the full
Hugging Face folder is put together in the cache the first time it is used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

from qa.encoders.models import TORCH_IMPORT_LOCK, cache_root, fingerprint, force_offline
from qa.encoders.shipped import assemble_layers, shipped_digest
from qa.errors import ModelError

log = logging.getLogger(__name__)

SHIPPED_READER = Path(__file__).resolve().parents[1] / "models" / "reader"
DEFAULT_READER = "qa-news-reader"
VARIANTS = ("fp32", "int8")
DEFAULT_VARIANT = "int8"
# The abstention model fitted for a reader, kept in its folder (qa.answer.abstention). Refitting it changes
# nothing the ONNX files are made from, so it is no part of a reader's id.
ABSTENTION_FILE = "abstention.json"
# Bump when the export below changes, so files converted by an older one are not reused.
EXPORT_VERSION = 1
_BUILD_LOCK = threading.Lock()


@dataclass(frozen=True)
class ReaderRef:
    """A question-answering model: the id shown to users and the Hugging Face folder it comes from."""

    id: str
    folder: Path
    shipped: bool = False


def resolve_reader(name_or_path: str | os.PathLike | None = None) -> ReaderRef:
    """The shipped reader for None or its name; otherwise a local Hugging Face question-answering folder."""
    if name_or_path in (None, "", DEFAULT_READER):
        if not (SHIPPED_READER / "reader.json").is_file():
            raise ModelError(f"the shipped reader is missing from {SHIPPED_READER}; reinstall the package")
        # reader.json records the weights' digest, so the id changes with every model shipped (and not
        # with ABSTENTION_FILE beside it).
        return ReaderRef(
            f"{DEFAULT_READER}@{shipped_digest(SHIPPED_READER, 'reader.json')}", SHIPPED_READER, shipped=True
        )
    path = Path(name_or_path).expanduser()
    if not path.is_dir():
        raise ModelError(
            f"reader not found: {str(name_or_path)!r} is not a folder. Give a local Hugging Face "
            "question-answering model folder, or leave --reader out to use the shipped reader."
        )
    config = path / "config.json"
    try:
        architectures = json.loads(config.read_text()).get("architectures") or []
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path} is not a Hugging Face model folder: cannot read config.json ({exc})") from None
    if not any(str(a).endswith("ForQuestionAnswering") for a in architectures):
        found = ", ".join(map(str, architectures)) or "none"
        raise ModelError(
            f"{path} is not a question-answering model (architectures: {found}); "
            "a reader needs an extractive QA model such as deepset/roberta-base-squad2"
        )
    return ReaderRef(f"{path.resolve().name}@{_folder_key(path)}", path.resolve())


def _folder_key(path: Path) -> str:
    """The folder's fingerprint plus its weight files' sizes and times: retrained weights of the same
    shape must not reuse the cached conversion of the old ones."""

    h = hashlib.sha256(fingerprint(path, ignore=(ABSTENTION_FILE,)).encode())
    for f in sorted(path.iterdir()):
        if f.is_file() and f.suffix in {".safetensors", ".bin", ".pt", ".h5", ".msgpack"}:
            st = f.stat()
            h.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:12]


def converted_folder(ref: ReaderRef) -> Path:
    """The cache folder that holds the reader's ONNX files and tokenizer (it may not exist yet)."""
    return cache_root() / "readers" / f"{ref.id.replace('@', '-')}-e{EXPORT_VERSION}"


def _write_atomic(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def assemble_shipped(target: Path) -> Path:
    """A full Hugging Face folder of the shipped reader: its trained weights plus the base model's
    frozen word embeddings (and tokenizer)."""
    return assemble_layers(SHIPPED_READER, "reader.json", target)


def export_onnx(folder: Path, target: Path) -> None:
    """float32 ONNX of a Hugging Face question-answering folder, plus its tokenizer.json, into `target`."""
    force_offline()
    try:
        with TORCH_IMPORT_LOCK:
            import torch
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer
    except ImportError as exc:
        raise ModelError(f"converting a reader to ONNX needs torch and transformers: {exc}") from None
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
        model = AutoModelForQuestionAnswering.from_pretrained(str(folder), attn_implementation="eager").eval()
    except Exception as exc:  # noqa: BLE001 - any loading failure is the folder's fault
        raise ModelError(f"cannot load the reader in {folder}: {exc}") from None
    if not getattr(tokenizer, "is_fast", False):
        raise ModelError(f"the reader in {folder} has no fast tokenizer (tokenizer.json); it cannot be used")
    # A padded dummy batch, so the traced graph keeps its attention mask.
    enc = tokenizer(["who?", "what is it?"], ["a short text", "a much longer text than the other"], padding=True)
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in enc]
    inputs = tuple(torch.tensor(enc[n]) for n in names)
    axes = {n: {0: "batch", 1: "seq"} for n in [*names, "start_logits", "end_logits"]}
    target.mkdir(parents=True, exist_ok=True)
    tmp = target / "model-fp32.onnx.tmp"
    # The tracer's warnings are about Python branches on shapes, which the dynamic axes cover.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            inputs,
            str(tmp),
            input_names=names,
            output_names=["start_logits", "end_logits"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    os.replace(tmp, target / "model-fp32.onnx")
    tokenizer.backend_tokenizer.save(str(target / "tokenizer.json"))
    meta = {"max_length": int(min(getattr(tokenizer, "model_max_length", 512) or 512, 512))}
    _write_atomic(target / "reader.json", json.dumps(meta).encode())


def quantize(target: Path) -> None:
    """int8 weights of the float32 file's matrix products, per output channel."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(max(logging.getLogger().level, logging.ERROR))
    tmp = target / "model-int8.onnx.tmp"
    quantize_dynamic(
        str(target / "model-fp32.onnx"),
        str(tmp),
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul"],
    )
    os.replace(tmp, target / "model-int8.onnx")


def converted(ref: ReaderRef, variant: str = DEFAULT_VARIANT) -> Path:
    """The cache folder of `ref` with its `variant` ONNX file, converting on first use."""
    if variant not in VARIANTS:
        raise ModelError(f"unknown reader variant {variant!r}; one of {', '.join(VARIANTS)}")
    target = converted_folder(ref)
    onnx_file = target / f"model-{variant}.onnx"
    if onnx_file.is_file() and (target / "tokenizer.json").is_file():
        return target
    with _BUILD_LOCK:
        if onnx_file.is_file() and (target / "tokenizer.json").is_file():
            return target
        log.warning("preparing the reader %s for ONNX Runtime (once per model)", ref.id)
        try:
            if not (target / "model-fp32.onnx").is_file():
                with tempfile.TemporaryDirectory(prefix="qa-reader-") as scratch:
                    folder = assemble_shipped(Path(scratch)) if ref.shipped else ref.folder
                    export_onnx(folder, target)
            if variant == "int8":
                quantize(target)
        except OSError as exc:
            raise ModelError(f"cannot write the reader's ONNX files to {target}: {exc}") from None
    return target
