"""Sentence embeddings: normalised float32 vectors, length-sorted batches, offline.

Two encoders run the same model folder: ONNX Runtime (`qa.encoders.onnx_encoder`, int8 by default, several
times faster on CPU and without torch) and sentence-transformers on torch float32. An index records
the encoder its vectors were made with, and every later embedding for it uses that one.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from contextlib import contextmanager

import numpy as np

from qa.encoders.model_choice import resolve_model
from qa.encoders.models import TORCH_IMPORT_LOCK, ModelRef, force_offline
from qa.errors import InputError, ModelError
from qa.progress import progress_bar

log = logging.getLogger(__name__)

BATCH_SIZE = 64
TORCH = "torch"
ENCODERS = (TORCH, "onnx-fp32", "onnx-int8")
# int8 keeps Recall@5 of the float32 model on squad2-tune within a point and embeds about 2.4x faster.
DEFAULT_ENCODER = "onnx-int8"
# One loaded model per folder and process: loading costs seconds, and every Embedder may share it.
_LOADED: dict[str, object] = {}
_LOAD_LOCK = threading.Lock()
# Torch already uses every core for one batch; concurrent calls would only contend.
_ENCODE_LOCK = threading.Lock()
# Calls of at most this many texts (a question, an answer's sentences) run on one thread: they are
# latency-bound, and when other processes keep the cores busy, OpenMP workers spin-waiting for a
# core made a one-question call 40x slower (490 ms against 12 ms). Builds keep every core.
SINGLE_THREAD_TEXTS = BATCH_SIZE


def _known_encoder(name: str, where: str = "") -> str:
    """`name` if it is one of ENCODERS, else InputError (saying `where` it came from)."""
    if name not in ENCODERS:
        raise InputError(f"unknown encoder {name!r}{where}; one of {', '.join(ENCODERS)}")
    return name


def default_encoder() -> str:
    """The encoder new indexes are built with: $QA_ENCODER if set, else DEFAULT_ENCODER."""
    return _known_encoder(os.environ.get("QA_ENCODER") or DEFAULT_ENCODER, " in QA_ENCODER")


_ONNX: dict[tuple[str, str], object] = {}


def _onnx_encoder(path, variant: str):
    """The process's ONNX encoder of a model folder, or None (with a warning) when it cannot run."""
    key = (str(path), variant)
    with _LOAD_LOCK:
        if key not in _ONNX:
            try:
                from qa.encoders.onnx_encoder import OnnxEncoder

                _ONNX[key] = OnnxEncoder(path, variant)
            except Exception as exc:  # noqa: BLE001 - any failure falls back to torch, never a traceback
                log.warning("the %s encoder is not available (%s); using torch float32 instead", variant, exc)
                _ONNX[key] = None
        return _ONNX[key]


@contextmanager
def _threads(n: int | None):
    """Run torch on `n` threads inside the block (unchanged for None)."""
    if n is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class Embedder:
    """Loads a sentence-transformers model once and embeds texts with it."""

    def __init__(self, model: ModelRef | str | None = None, encoder: str | None = None) -> None:
        self.ref = model if isinstance(model, ModelRef) else resolve_model(model)
        # What was asked for; `encoder` says what runs (torch when ONNX Runtime cannot).
        self.requested_encoder = _known_encoder(encoder) if encoder else default_encoder()
        self._model = None
        # A one-shot process (one `qa ask`) embeds a few texts and exits: the numpy encoder is slower
        # per text but spares the seconds of importing torch. Long-lived processes keep torch.
        self.small_batches_without_torch = False

    @property
    def onnx(self):
        """The ONNX encoder in use, or None for torch."""
        if self.requested_encoder == TORCH:
            return None
        return _onnx_encoder(self.ref.path, self.requested_encoder)

    @property
    def encoder(self) -> str:
        """The encoder that embeds: the one asked for, or torch when ONNX Runtime cannot run it here."""
        return self.requested_encoder if self.onnx is not None else TORCH

    def load(self) -> Embedder:
        """Load the encoder now rather than on the first call (for timing, or a server's start)."""
        if self.onnx is None:
            self.model  # noqa: B018
        return self

    @property
    def model(self):
        """The loaded SentenceTransformer (loaded on first use)."""
        if self._model is None:
            with _LOAD_LOCK:
                key = str(self.ref.path)
                if key not in _LOADED:
                    _LOADED[key] = self._load()
                self._model = _LOADED[key]
        return self._model

    def _load(self):
        force_offline()
        try:
            with TORCH_IMPORT_LOCK:
                import torch
                import transformers
                from sentence_transformers import SentenceTransformer

            # The weight-loading bar is noise next to our own progress bars.
            transformers.utils.logging.disable_progress_bar()
            transformers.utils.logging.set_verbosity_error()

            torch.set_num_threads(max(1, torch.get_num_threads()))
            return SentenceTransformer(str(self.ref.path), device="cpu", local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - any load failure is reported the same way
            raise ModelError(f"cannot load embedding model from {self.ref.path}: {exc}") from exc

    @property
    def dimension(self) -> int:
        """Length of the vectors this model produces."""
        if self.onnx is not None:
            return self.onnx.dimension
        model = self.model
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get_dim())

    @property
    def max_seq_length(self) -> int:
        """Word pieces the model reads before truncating."""
        if self.onnx is not None:
            return self.onnx.max_seq_length
        return int(self.model.max_seq_length)

    def fits_window(self, text: str) -> bool:
        """True when the model reads all of `text` without truncating it."""
        if self.onnx is not None:
            return self.onnx.token_count(text) <= self.max_seq_length
        tokenizer = self.model.tokenizer
        return len(tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"]) <= self.max_seq_length

    def encode(self, texts: Sequence[str], progress: bool = False, desc: str = "embedding") -> np.ndarray:
        """Unit-length float32 vectors, one row per text, in input order."""
        if not texts:
            return np.zeros((0, self.dimension), dtype="float32")
        if self.onnx is not None:
            return self._encode_onnx(texts, progress, desc)
        if self.small_batches_without_torch and len(texts) <= SINGLE_THREAD_TEXTS and not progress:
            light = self._light_if_torch_unloaded()
            if light is not None:
                return light.encode(list(texts))
        model = self.model
        # Sorting by length keeps padding, and so wasted compute, small in each batch.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), self.dimension), dtype="float32")
        threads = 1 if len(texts) <= SINGLE_THREAD_TEXTS else None
        bar = progress_bar(total=len(texts), desc=desc, unit="chunk") if progress else None
        try:
            for i in range(0, len(texts), BATCH_SIZE):
                idx = order[i : i + BATCH_SIZE]
                with _ENCODE_LOCK, _threads(threads):
                    vecs = model.encode(
                        [texts[j] for j in idx],
                        batch_size=BATCH_SIZE,
                        convert_to_numpy=True,
                        normalize_embeddings=True,
                        show_progress_bar=False,
                    )
                out[idx] = vecs
                if bar is not None:
                    bar.update(len(idx))
        finally:
            if bar is not None:
                bar.close()
        return out

    def _encode_onnx(self, texts: Sequence[str], progress: bool, desc: str) -> np.ndarray:
        # Batches (one per token count) run one per core, each on one ORT thread without spinning, so
        # a busy machine only shares time. An answer's ~25 sentences form ~12 small batches: spread
        # over both cores its answer p50 went from 121 to 99-111 ms on squad2-tune. A question is one
        # batch and stays on the calling thread.
        if not progress:
            return self.onnx.encode(list(texts), BATCH_SIZE, parallel=True)
        with progress_bar(total=len(texts), desc=desc, unit="chunk") as bar:
            return self.onnx.encode(list(texts), BATCH_SIZE, parallel=True, on_batch=bar.update)

    def encode_query(self, text: str) -> np.ndarray:
        """One normalised vector for a question, shaped (1, dim)."""
        if self.onnx is not None:
            return self.onnx.encode([text], parallel=False)
        # Without torch loaded yet, a question is embedded torch-free (same vectors to 1e-7),
        # sparing a cold process the seconds of importing torch and sentence-transformers.
        light = self._light_if_torch_unloaded()
        return light.encode([text]) if light is not None else self.encode([text])

    def _light_if_torch_unloaded(self):
        if self._model is None and str(self.ref.path) not in _LOADED:
            return _light_encoder(self.ref.path)
        return None


_LIGHT: dict[str, object] = {}


def _light_encoder(path):
    """The numpy encoder of a model folder, or None when the folder is not a plain BERT."""
    from qa.encoders.bert_numpy import NumpyBert, supported

    key = str(path)
    with _LOAD_LOCK:
        if key not in _LIGHT:
            _LIGHT[key] = NumpyBert(path) if supported(path) else None
        return _LIGHT[key]
