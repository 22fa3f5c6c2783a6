"""Helpers shared by the benchmarks: timing, percentiles, the machine's matmul limit, question sets."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import random
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
RESULTS = ROOT / "bench" / "results"
NEWS_QA = SHARED / "train" / "news-qa" / "questions.jsonl"
# news-qa is split by article into this many folds, the same way for training the reader and fitting abstention.
NEWS_FOLDS = 5


def percentiles(samples_s: Sequence[float]) -> dict[str, float]:
    """p50/p95/mean of timings given in seconds, in milliseconds."""
    ms = sorted(s * 1000 for s in samples_s)
    if not ms:
        return {"p50_ms": float("nan"), "p95_ms": float("nan"), "mean_ms": float("nan")}
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return {"p50_ms": statistics.median(ms), "p95_ms": p95, "mean_ms": statistics.fmean(ms)}


def time_calls(fn: Callable[[str], object], queries: Sequence[str], warmup: int = 3) -> list[float]:
    """Seconds per call of `fn` over the queries, after a few warm-up calls."""
    for q in queries[:warmup]:
        fn(q)
    out = []
    for q in queries:
        t = time.perf_counter()
        fn(q)
        out.append(time.perf_counter() - t)
    return out


def matmul_gflops(n: int = 1024, repeat: int = 5) -> float:
    """Best float32 GEMM rate of this machine through numpy's BLAS: the ceiling for embedding."""
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    a @ b
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def encoder_flops_per_token(layers: int = 6, hidden: int = 384, intermediate: int = 1536, seq: int = 128) -> float:
    """Multiply-add FLOPs a BERT encoder spends per input token (all-MiniLM-L6-v2 by default)."""
    dense = 4 * hidden * hidden + 2 * hidden * intermediate  # q, k, v, out projections and the MLP
    attention = 2 * seq * hidden  # scores and weighted sum at a typical sequence length
    return 2.0 * layers * (dense + attention)


def machine() -> dict[str, object]:
    """What the figures were measured on, including how busy the machine was."""
    return {
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def news_fold(doc_id: str, folds: int = NEWS_FOLDS) -> int:
    """The fold an article belongs to, fixed by its id: every script splits news-qa by article alike."""
    return int(hashlib.sha256(doc_id.encode()).hexdigest(), 16) % folds


def load_questions(set_dir: Path) -> list[dict]:
    """The records of a set's questions.jsonl (empty when absent)."""
    path = set_dir / "questions.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def sample_queries(corpus_paths: Sequence[Path], n: int, seed: int = 0) -> list[str]:
    """Questions for latency runs: a set's own questions when it has them, else sentences of its text."""
    questions: list[str] = []
    for p in corpus_paths:
        folder = p if p.is_dir() else p.parent
        questions += [q["question"] for q in load_questions(folder)]
    if not questions:
        from qa.ingest.corpus import load_corpus
        from qa.ingest.text import split_sentences

        for doc in load_corpus(list(corpus_paths)):
            questions += [doc.text[s:e] for s, e in split_sentences(doc.text)][:20]
    rng = random.Random(seed)
    rng.shuffle(questions)
    return [q for q in questions if q.strip()][:n]


def write_json(name: str, data: dict) -> Path:
    """Save figures under bench/results/ and return the path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path
