"""ONNX Runtime sentence encoder for BERT model folders: no torch, built from the safetensors weights.

The ONNX graph is written here with the `onnx` package straight from model.safetensors (no export
through torch), in one of two variants:

- ``onnx-fp32``: the model as it is, float32 throughout;
- ``onnx-int8``: the dense layers' weights quantized per output column to int8, and their inputs
  quantized per token (one scale per row, so a text's vector does not depend on the other texts of
  its batch or on padding); attention scores, softmax, layer norms and pooling stay float32.

Mean pooling over the attention mask and unit length are part of the graph, as in
sentence-transformers. The built file is cached under ``$QA_CACHE_DIR/onnx`` (default
``~/.cache/qa-news/onnx``), named by the model folder's fingerprint, the variant, this builder's
graph version and the onnxruntime version; it is written to a temporary file and renamed, so a
crash never leaves half a file, a file that does not load is rebuilt, and where the folder cannot be
written the model is built in memory for the process.

Running it needs onnxruntime, numpy and `tokenizers`; building it also needs `onnx` and safetensors.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.encoders.models import cache_root, fingerprint, window_length

log = logging.getLogger(__name__)

VARIANTS = ("onnx-fp32", "onnx-int8")
# Bump when the graph written by `build_graph` changes, so cached files of older graphs are not reused.
GRAPH_VERSION = 1
_OPSET = 17
_PIECES_KEPT = 20_000


class OnnxUnavailable(RuntimeError):
    """onnxruntime (or onnx, to build the graph) is missing, or the model folder is not supported."""


def _ort():
    try:
        import onnxruntime
    except ImportError as exc:
        raise OnnxUnavailable("onnxruntime is not installed: pip install onnxruntime") from exc
    return onnxruntime


def cached_model_path(folder: Path, variant: str) -> Path:
    """Where the ONNX file of `folder` in `variant` is cached (it may not exist yet)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown ONNX variant {variant!r}; one of {', '.join(VARIANTS)}")
    ort_version = _ort().__version__
    name = f"{folder.name}-{fingerprint(folder)}-{variant}-g{GRAPH_VERSION}-ort{ort_version}.onnx"
    return cache_root() / "onnx" / name


# ---------------------------------------------------------------- building the graph


def _quantize_columns(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 weights and one float32 scale per output column of a (in, out) matrix, symmetric."""
    scale = np.abs(w).max(axis=0) / 127.0
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
    return q, scale


def build_graph(folder: Path, variant: str):
    """The ONNX ModelProto of a BERT sentence-transformers folder (see `qa.encoders.bert_numpy.supported`)."""
    try:
        from onnx import TensorProto, helper, numpy_helper
        from safetensors.numpy import load_file
    except ImportError as exc:
        raise OnnxUnavailable(f"building the ONNX model needs onnx and safetensors: {exc}") from exc
    from qa.encoders.bert_numpy import supported

    if not supported(folder):
        raise OnnxUnavailable(f"{folder} is not a plain BERT model folder with mean pooling")
    config = json.loads((folder / "config.json").read_text())
    hidden = int(config["hidden_size"])
    heads = int(config["num_attention_heads"])
    layers = int(config["num_hidden_layers"])
    eps = float(config.get("layer_norm_eps", 1e-12))
    w = {k.removeprefix("bert."): v.astype(np.float32) for k, v in load_file(str(folder / "model.safetensors")).items()}
    int8 = variant == "onnx-int8"

    nodes: list = []
    inits: list = []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(op: str, inputs: list[str], name: str, domain: str = "", **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [name], name=name, domain=domain, **attrs))
        return name

    const("zero_i64", np.array([0], dtype=np.int64))
    const("one_i64", np.array([1], dtype=np.int64))
    const("two_i64", np.array([2], dtype=np.int64))
    const("rows_shape", np.array([-1, hidden], dtype=np.int64))
    const("qkv_width", np.array([3 * hidden], dtype=np.int64))
    const("qkv_split", np.array([hidden] * 3, dtype=np.int64))
    if int8:
        const("eps_q", np.array(1e-8, dtype=np.float32))
        const("q_max", np.array(127.0, dtype=np.float32))
        const("one_f32", np.array(1.0, dtype=np.float32))

    def dense(x2d: str, prefix: str, weight: np.ndarray) -> str:
        """x2d (rows, in) @ weight (in, out), float32 out; the bias is added by the op that follows."""
        if not int8:
            return node("MatMul", [x2d, const(prefix + ".w", weight)], prefix + ".mm")
        wq, wscale = _quantize_columns(weight)
        # One symmetric scale per row (token): max|x| / 127.
        amax = node("ReduceMax", [node("Abs", [x2d], prefix + ".abs")], prefix + ".amax", axes=[1], keepdims=0)
        ascale = node("Div", [node("Max", [amax, "eps_q"], prefix + ".amax_eps"), "q_max"], prefix + ".ascale")
        # Stored as uint8 around a zero point of 128, the u8 x s8 product that VNNI and AMX run natively.
        xq = node("QuantizeLinear", [x2d, ascale, "row_zeros"], prefix + ".xq", axis=0)
        # acc * column scale in one op, then the row scale.
        ins = [xq, const(prefix + ".wq", wq), "one_f32", const(prefix + ".wscale", wscale), "u8_zero"]
        colscaled = node("MatMulIntegerToFloat", ins, prefix + ".cs", domain="com.microsoft")
        return node("Mul", [colscaled, node("Unsqueeze", [ascale, "one_i64"], prefix + ".ascale2")], prefix + ".rs")

    def layer_norm(x: str, name: str, weight: np.ndarray, bias: np.ndarray) -> str:
        ins = [x, const(name + ".w", weight), const(name + ".b", bias)]
        return node("LayerNormalization", ins, name, axis=-1, epsilon=eps)

    def add_layer_norm(x: str, x_bias: np.ndarray, skip: str, name: str, weight: np.ndarray, bias: np.ndarray) -> str:
        """layer_norm(x + x_bias + skip); plain ops ran faster here than SkipLayerNormalization."""
        s = node("Add", [node("Add", [x, const(name + ".xb", x_bias)], name + ".xb_add"), skip], name + ".res")
        return layer_norm(s, name, weight, bias)

    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"])
    mask = helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])
    out = helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", hidden])

    # Embeddings: words + positions + token type 0, layer norm; then rows of (batch * seq, hidden).
    seq_len = node("Shape", ["input_ids"], "seq_len", start=1, end=2)
    words = node("Gather", [const("word_emb", w["embeddings.word_embeddings.weight"]), "input_ids"], "words")
    pos_table = const("pos_emb", w["embeddings.position_embeddings.weight"])
    pos = node("Slice", [pos_table, "zero_i64", seq_len, "zero_i64"], "positions")
    type0 = const("type_emb0", w["embeddings.token_type_embeddings.weight"][0])
    emb = node("Add", [node("Add", [words, pos], "emb_wp"), type0], "emb")
    x = layer_norm(emb, "emb_ln", w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
    shape3 = node("Shape", [x], "shape3")  # (batch, seq, hidden)
    batch_seq = node("Slice", [shape3, "zero_i64", "two_i64"], "batch_seq")
    qkv_shape = node("Concat", [batch_seq, "qkv_width"], "qkv_shape", axis=0)
    x = node("Reshape", [x, "rows_shape"], "x_rows")
    if int8:
        n_rows = node("Shape", [x], "n_rows", start=0, end=1)
        const("u8_zero", np.array(128, dtype=np.uint8))
        zero = helper.make_tensor("zero", TensorProto.UINT8, [1], [128])
        node("ConstantOfShape", [n_rows], "row_zeros", value=zero)
    # Key padding mask of the attention op: int32 (batch, seq), 1 for real tokens.
    mask_i32 = node("Cast", ["attention_mask"], "mask_i32", to=TensorProto.INT32)

    # A batch without padding (every question, and build batches of equal lengths) takes the attention
    # kernel without a mask, which runs about twice as fast as the masked one.
    mask_min = node("ReduceMin", [mask_i32], "mask_min", keepdims=0)
    node("Equal", [mask_min, const("zero_i32", np.array(0, dtype=np.int32))], "padded")

    def attention(q: str, k: str, v: str, bias: str, name: str) -> str:
        def branch(masked: bool):
            ins = [q, k, v, bias, mask_i32] if masked else [q, k, v, bias]
            res = name + (".masked" if masked else ".unmasked")
            mha = helper.make_node("MultiHeadAttention", ins, [res], domain="com.microsoft", num_heads=heads)
            return helper.make_graph([mha], res, [], [helper.make_tensor_value_info(res, TensorProto.FLOAT, None)])

        return node("If", ["padded"], name, then_branch=branch(True), else_branch=branch(False))

    for i in range(layers):
        p = f"encoder.layer.{i}."
        n = f"l{i}"

        def t(name: str, p: str = p) -> np.ndarray:
            return w[p + name]

        def t_linear(name: str, p: str = p) -> np.ndarray:
            return np.ascontiguousarray(w[p + name + ".weight"].T)  # stored (out, in)

        qkv_w = np.concatenate([t_linear(f"attention.self.{m}") for m in ("query", "key", "value")], axis=1)
        qkv_b = np.concatenate([t(f"attention.self.{m}.bias") for m in ("query", "key", "value")])
        qkv = node("Reshape", [dense(x, f"{n}.qkv", qkv_w), qkv_shape], f"{n}.qkv3")
        q, k, v = f"{n}.q", f"{n}.k", f"{n}.v"
        nodes.append(helper.make_node("Split", [qkv, "qkv_split"], [q, k, v], name=f"{n}.split", axis=2))
        ctx = attention(q, k, v, const(f"{n}.qkv.b", qkv_b), f"{n}.ctx")
        ctx = node("Reshape", [ctx, "rows_shape"], f"{n}.ctx_rows")
        attn = dense(ctx, f"{n}.ao", t_linear("attention.output.dense"))
        ln1 = (t("attention.output.LayerNorm.weight"), t("attention.output.LayerNorm.bias"))
        x = add_layer_norm(attn, t("attention.output.dense.bias"), x, f"{n}.ln1", *ln1)
        h = dense(x, f"{n}.ff1", t_linear("intermediate.dense"))
        ff1_b = const(f"{n}.ff1.b", t("intermediate.dense.bias"))
        h = node("BiasGelu", [h, ff1_b], f"{n}.gelu", domain="com.microsoft")
        h = dense(h, f"{n}.ff2", t_linear("output.dense"))
        ln2 = (t("output.LayerNorm.weight"), t("output.LayerNorm.bias"))
        x = add_layer_norm(h, t("output.dense.bias"), x, f"{n}.ln2", *ln2)

    # Mean pooling over real tokens, then unit length.
    x3 = node("Reshape", [x, shape3], "last_hidden")
    maskf = node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    mask3 = node("Unsqueeze", [maskf, const("minus_one", np.array([-1], dtype=np.int64))], "mask_f3")
    summed = node("ReduceSum", [node("Mul", [x3, mask3], "masked"), "one_i64"], "summed", keepdims=0)
    count = node("ReduceSum", [maskf, "one_i64"], "count", keepdims=1)
    count = node("Max", [count, const("min_count", np.array(1e-9, dtype=np.float32))], "count_pos")
    pooled = node("Div", [summed, count], "pooled")
    nodes.append(helper.make_node("LpNormalization", [pooled], ["sentence_embedding"], name="normalize", axis=1, p=2))

    graph = helper.make_graph(nodes, "sentence_encoder", [ids, mask], [out], initializer=inits)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", _OPSET), helper.make_opsetid("com.microsoft", 1)],
        producer_name="qa-news",
    )
    model.ir_version = 8
    folder_print = fingerprint(folder)
    meta = {"qa.fingerprint": folder_print, "qa.variant": variant, "qa.graph_version": str(GRAPH_VERSION)}
    helper.set_model_props(model, meta)
    return model


# ---------------------------------------------------------------- the cache


def write_model(folder: Path, variant: str, target: Path) -> Path:
    """Build the graph and write it to `target` through a temporary file and a rename."""
    data = build_graph(folder, variant).SerializeToString()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _session(source: Path | bytes, expected: dict[str, str]):
    ort = _ort()
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # One thread per run: small calls are latency-bound, and builds run one batch per core from
    # Python threads instead (no pool of spinning workers to fight other processes for the cores).
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.add_session_config_entry("session.inter_op.allow_spinning", "0")
    so.log_severity_level = 3
    model = source if isinstance(source, bytes) else str(source)
    session = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    if any(meta.get(k) != v for k, v in expected.items()):
        raise ValueError(f"the file was built for another model or graph: {meta}")
    return session


def load_session(folder: Path, variant: str):
    """An onnxruntime session of the cached model, built on first use and rebuilt when unreadable;
    with its path, or None when the cache folder cannot be written (the model then lives in memory)."""
    path = cached_model_path(folder, variant)
    expected = {
        "qa.fingerprint": fingerprint(folder),
        "qa.variant": variant,
        "qa.graph_version": str(GRAPH_VERSION),
    }
    if path.is_file():
        try:
            return _session(path, expected), path
        except Exception as exc:  # noqa: BLE001 - a damaged or foreign file is rebuilt
            log.warning("rebuilding the ONNX model cache %s: %s", path, exc)
    try:
        write_model(folder, variant, path)
    except OSError as exc:
        log.warning("cannot write the ONNX model cache in %s (%s); building it for this process only", path.parent, exc)
        return _session(build_graph(folder, variant).SerializeToString(), expected), None
    return _session(path, expected), path


# ---------------------------------------------------------------- encoding


def _workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class OnnxEncoder:
    """Unit-length sentence vectors from the cached ONNX model and the folder's tokenizer."""

    def __init__(self, folder: Path, variant: str) -> None:
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        self.variant = variant
        self.session, self.path = load_session(self.folder, variant)
        config = json.loads((self.folder / "config.json").read_text())
        self.dimension = int(config["hidden_size"])
        max_len = window_length(self.folder)
        self.max_seq_length = max_len
        self.tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.window = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        self.window.no_padding()
        self.window.enable_truncation(max_length=max_len)
        self._lock = threading.Lock()
        # Word pieces of texts whose window was just checked (a build checks every chunk, then embeds
        # them all), so they are not tokenized twice.
        self._pieces: OrderedDict[str, np.ndarray] = OrderedDict()

    def token_count(self, text: str) -> int:
        """Word pieces of `text` with the special tokens, untruncated."""
        ids = self.tokenizer.encode(text, add_special_tokens=True).ids
        if len(ids) <= self.max_seq_length:
            with self._lock:
                self._pieces[text] = np.array(ids, dtype=np.int64)
                if len(self._pieces) > _PIECES_KEPT:
                    self._pieces.popitem(last=False)
        return len(ids)

    def _tokenize(self, texts: list[str]) -> list:
        with self._lock:
            rows = [self._pieces.pop(t, None) for t in texts]
        missing = [i for i, r in enumerate(rows) if r is None]
        if missing:
            for i, enc in zip(missing, self.window.encode_batch([texts[i] for i in missing])):
                rows[i] = enc.ids
        return rows

    def _run(self, rows: list) -> np.ndarray:
        length = max(len(r) for r in rows)
        ids = np.zeros((len(rows), length), dtype=np.int64)
        mask = np.zeros((len(rows), length), dtype=np.int64)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = r
            mask[i, : len(r)] = 1
        return self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]

    def encode(self, texts: Sequence[str], batch_size: int = 64, parallel: bool = True, on_batch=None) -> np.ndarray:
        """Vectors of `texts` in input order.

        Texts are batched by equal token counts, never padded: the attention kernel without a mask runs
        several times faster than the masked one, and a text's vector is then the same (to 1e-7)
        whatever else is in its call, where int8 rounding would turn padding's float noise into
        differences of 1e-3. `parallel` runs the batches on one thread per core."""
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        rows = self._tokenize(list(texts))
        by_length: dict[int, list[int]] = {}
        for i, r in enumerate(rows):
            by_length.setdefault(len(r), []).append(i)
        batches = [
            idx[s : s + batch_size]
            for _, idx in sorted(by_length.items(), reverse=True)
            for s in range(0, len(idx), batch_size)
        ]

        def run(idx: list[int]) -> None:
            out[idx] = self._run([rows[i] for i in idx])
            if on_batch is not None:
                with self._lock:
                    on_batch(len(idx))

        workers = min(_workers(), len(batches)) if parallel else 1
        if workers <= 1:
            for idx in batches:
                run(idx)
            return out
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="qa-embed") as pool:
            for f in [pool.submit(run, idx) for idx in batches]:
                f.result()
        return out
