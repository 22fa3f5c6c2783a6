"""The extractive reader: answer spans read from passages by a question-answering model in ONNX Runtime.

Each passage is cut into overlapping windows of ``[CLS] question [SEP] window [SEP]`` (the tokenizer's
own pair template, so BERT- and RoBERTa-style models both work); each window runs alone. In a batch,
the int8 model's activations are quantized with one scale for all rows, so a passage's spans would
change with the passages read beside it; one window at a time is also no slower on CPU (no padding).
A span's score is its start logit plus its end logit; the window's no-answer score is the
same sum at the first token. Spans are compared across passages by how far they beat their window's
no-answer score (``gap``), which the model was trained to make positive only where the answer is.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.answer.reader_model import DEFAULT_VARIANT, ReaderRef, converted, resolve_reader
from qa.errors import ModelError
from qa.ingest.text import split_sentences

MAX_ANSWER_TOKENS = 30
# Windows of 256 word pieces hold a whole chunk (160 cl100k tokens) with its question, so a passage is
# read in one window: a fifth less reading time than 192 (the length the reader was trained at) for the
# same F1 on squad2-tune's gold paragraphs (0.743 against 0.747 answerable, 600 questions).
WINDOW_TOKENS = 256
STRIDE_TOKENS = 64
TOP_TOKENS = 20
# Questions longer than this (in word pieces) are cut: the window must keep room for the passage.
MAX_QUESTION_TOKENS = 64
# An answer does not run across a blank line (past one starts another paragraph, or a heading) nor
# across a sentence's end: gold answers almost never do (6 of 1,377 located in squad2-tune).
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")


def span_cuts(passage: str) -> list[int]:
    """Offsets in `passage` that an answer span may not run across, sorted: blank lines and sentence starts."""
    cuts = {m.start() for m in _BLANK_LINE.finditer(passage)}
    cuts.update(start for start, _ in split_sentences(passage)[1:])
    return sorted(cuts)


@dataclass(frozen=True)
class ReadSpan:
    """An answer span: `text == passages[passage][start:end]` (offsets into the passage text)."""

    passage: int
    start: int
    end: int
    text: str
    score: float
    no_answer: float

    @property
    def gap(self) -> float:
        """How far the span beats its window's no-answer score."""
        return self.score - self.no_answer


@dataclass(frozen=True)
class Reading:
    """The spans read from a question's passages, best first, and the lowest no-answer score seen."""

    spans: tuple[ReadSpan, ...]
    no_answer: float

    @property
    def best(self) -> ReadSpan | None:
        return self.spans[0] if self.spans else None


def _workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class Reader:
    """A question-answering model loaded for reading; one per model and variant in a process."""

    def __init__(self, ref: ReaderRef, variant: str = DEFAULT_VARIANT) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.ref = ref
        self.variant = variant
        folder = converted(ref, variant)
        meta = json.loads((folder / "reader.json").read_text())
        self.window_tokens = min(WINDOW_TOKENS, int(meta.get("max_length", 512)))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(
            max_length=self.window_tokens, stride=STRIDE_TOKENS, strategy="only_second", direction="right"
        )
        self.question_tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.question_tokenizer.no_padding()
        self.question_tokenizer.no_truncation()
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.intra_op_num_threads = _workers()
        so.inter_op_num_threads = 1
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        so.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(
                str(folder / f"model-{variant}.onnx"), so, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # noqa: BLE001 - a damaged cache file is named, not traced back
            raise ModelError(f"cannot load the reader's ONNX file in {folder}: {exc}; delete the folder") from None
        self.input_names = [i.name for i in self.session.get_inputs()]

    def _question(self, question: str) -> str:
        enc = self.question_tokenizer.encode(question, add_special_tokens=False)
        if len(enc.ids) <= MAX_QUESTION_TOKENS:
            return question
        return question[: enc.offsets[MAX_QUESTION_TOKENS - 1][1]]

    def read(self, question: str, passages: Sequence[str], top: int = 5) -> Reading:
        """The best `top` spans over `passages` (with at most one span per window region), best first."""
        if not passages:
            return Reading((), math.inf)
        question = self._question(question.strip())
        encodings = self.tokenizer.encode_batch([(question, p) for p in passages])
        windows = []  # (passage index, Encoding)
        for i, enc in enumerate(encodings):
            windows.append((i, enc))
            windows.extend((i, o) for o in enc.overflowing)
        cuts = [span_cuts(p) for p in passages]
        spans: list[ReadSpan] = []
        least_null = math.inf
        for i, enc in windows:
            seq = enc.sequence_ids
            n = len(enc.ids)
            s, e = self._logits(enc)
            null = float(s[0] + e[0])
            least_null = min(least_null, null)
            ctx = np.array([x == 1 for x in seq])
            if not ctx.any():
                continue
            # The best start/end pair among each side's top tokens: end not before start, not too long.
            starts = np.flatnonzero(ctx)[np.argsort(-s[ctx])[:TOP_TOKENS]]
            ends = np.flatnonzero(ctx)[np.argsort(-e[ctx])[:TOP_TOKENS]]
            length = ends[None, :] - starts[:, None]
            allowed = (length >= 0) & (length < MAX_ANSWER_TOKENS)
            if cuts[i]:
                block = np.searchsorted(cuts[i], [enc.offsets[k][0] for k in range(n)], side="right")
                allowed &= block[starts][:, None] == block[ends][None, :]
            pair = np.where(allowed, s[starts][:, None] + e[ends][None, :], -np.inf)
            i_best = np.unravel_index(int(np.argmax(pair)), pair.shape)
            if not np.isfinite(pair[i_best]):
                continue
            score, a, b = float(pair[i_best]), int(starts[i_best[0]]), int(ends[i_best[1]])
            start, end = enc.offsets[a][0], enc.offsets[b][1]
            text = passages[i][start:end]
            if text.strip():
                spans.append(ReadSpan(i, start, end, text, score, null))
        spans.sort(key=lambda x: -x.gap)
        kept: list[ReadSpan] = []
        for sp in spans:
            # Overlapping windows find the same span twice.
            if any(k.passage == sp.passage and k.start < sp.end and sp.start < k.end for k in kept):
                continue
            kept.append(sp)
            if len(kept) == top:
                break
        return Reading(tuple(kept), least_null)

    def _logits(self, window) -> tuple[np.ndarray, np.ndarray]:
        """Start and end logits of one window's tokens."""
        n = len(window.ids)
        feed = {
            "input_ids": np.array([window.ids], dtype=np.int64),
            "attention_mask": np.ones((1, n), dtype=np.int64),
            "token_type_ids": np.array([window.type_ids], dtype=np.int64),
        }
        feed = {k: v for k, v in feed.items() if k in self.input_names}
        start, end = self.session.run(["start_logits", "end_logits"], feed)
        return start[0], end[0]


_READERS: dict[tuple[str, str, str], Reader] = {}
_LOCK = threading.Lock()


def get_reader(model: ReaderRef | str | os.PathLike | None = None, variant: str = DEFAULT_VARIANT) -> Reader:
    """The process's reader for a model (the shipped one by default), loaded on first use."""
    ref = model if isinstance(model, ReaderRef) else resolve_reader(model)
    # Folders that share a conversion may hold different abstention models: each keeps a reader of its own.
    key = (ref.id, str(ref.folder), variant)
    with _LOCK:
        reader = _READERS.get(key)
        if reader is None:
            reader = _READERS[key] = Reader(ref, variant)
    return reader
