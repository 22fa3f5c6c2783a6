"""One node at a million chunks: where the memory goes, what loading costs, how fast and how exact search is.

    python bench/million.py [--chunks 1000000] [--queries 200] [--rebuild]

Builds (once, cached under ~/.cache/qa-news/bench/) an index of the squad2-tune corpus from ../shared
repeated until it holds --chunks chunks, the way `bench/peers.py --scale-chunks` does: only the real chunks
are embedded, each copy reuses its original's vector plus small noise. A fresh child process then loads it
and reports RSS by component, load time and retrieval latency. Recall of the approximate index chosen for
that size is measured twice against the exact top 10:
- on distinct real vectors: the distinct paragraphs of ../shared/train/reader-train.jsonl.gz, embedded once
  (cached), searched with the set's own questions;
- on the repeated index, where a hit is a chunk that is a copy of the same original as an exact hit
  (near-duplicate copies make plain id recall meaningless there).
Finally the figures are projected to 10 million chunks from the measured per-chunk growth.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import SHARED  # noqa: E402

CACHE = Path.home() / ".cache" / "qa-news" / "bench"
TRAIN = SHARED / "train" / "reader-train.jsonl.gz"
REAL_QUERIES = 1000


def real_set() -> tuple[np.ndarray, np.ndarray]:
    """(vectors of the distinct training paragraphs, vectors of sampled questions), embedded once and cached."""
    from qa.encoders.embedding import Embedder

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / "train-paragraphs.npz"
    if path.is_file():
        with np.load(path) as z:
            return z["paragraphs"], z["questions"]
    paragraphs: dict[str, None] = {}
    questions: list[str] = []
    with gzip.open(TRAIN, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            paragraphs.setdefault(r["context"], None)
            questions.append(r["question"])
    rng = np.random.default_rng(0)
    picked = [questions[i] for i in rng.choice(len(questions), REAL_QUERIES, replace=False)]
    emb = Embedder()
    p = emb.encode(list(paragraphs), progress=True, desc="paragraphs").astype("float32")
    q = emb.encode(picked).astype("float32")
    np.savez(path, paragraphs=p, questions=q)
    return p, q
