"""Build throughput and search latency of this project on the corpus it is given.

    python bench/build_and_search.py CORPUS... [--queries N] [--no-answer] [--json]

Builds a fresh index of CORPUS in a temporary folder (the model is loaded first, so its load time
is reported apart), then times `retrieve(k=5)` and `answer()` on the corpus's questions (a set's
questions.jsonl when present, else sentences of its articles). Prints docs/s, chunks/s, tokens/s,
the build's use of the machine's matmul limit, and p50/p95 latencies; saves the figures to
bench/results/build_and_search.json. The encoder is the build default (onnx-int8); set
QA_ENCODER=torch (or onnx-fp32) to time another.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    encoder_flops_per_token,
    machine,
    matmul_gflops,
    percentiles,
    sample_queries,
    time_calls,
    write_json,
)


def run(corpus: list[Path], n_queries: int, answers: bool) -> dict:
    """Build, search and answer on `corpus`; every figure in one dict."""
    from qa.encoders.embedding import Embedder
    from qa.encoders.models import force_offline
    from qa.index import load_index
    from qa.indexing.build import build_index

    force_offline()
    t = time.perf_counter()
    embedder = Embedder().load()  # the encoder is loaded once for the process, outside the build's timing
    model_load_s = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:
        report = build_index(corpus, Path(tmp) / "index")
        idx = load_index(Path(tmp) / "index")
        queries = sample_queries(corpus, n_queries)
        retrieve = percentiles(time_calls(lambda q: idx.retrieve(q, k=5), queries))
        # Questions repeat in the answer run: clear the query-vector cache so each embeds again.
        idx._vectors.clear()
        answer = percentiles(time_calls(lambda q: idx.answer(q), queries)) if answers else None
        size = idx.store.size_bytes()
        idx.close()
    secs = report.seconds
    gflops = matmul_gflops()
    used = report.tokens / secs * encoder_flops_per_token() / 1e9
    return {
        "corpus": [str(p) for p in corpus],
        "encoder": embedder.encoder,
        "machine": machine(),
        "documents": report.documents,
        "chunks": report.chunks,
        "tokens": report.tokens,
        "model_load_s": model_load_s,
        "build_s": secs,
        "docs_per_s": report.documents / secs,
        "chunks_per_s": report.chunks / secs,
        "tokens_per_s": report.tokens / secs,
        "matmul_gflops": gflops,
        "build_gflops_approx": used,
        "build_fraction_of_matmul_limit": used / gflops,
        "index_bytes": size,
        "queries": len(queries),
        "retrieve": retrieve,
        "answer": answer,
    }


def format_result(r: dict) -> str:
    """The figures as a few readable lines."""
    lines = [
        f"corpus: {', '.join(r['corpus'])}  ({r['machine']['cpus']} CPUs, load {r['machine']['load_average_1m']})",
        f"index: {r['documents']} docs, {r['chunks']} chunks, {r['tokens']} tokens, {r['index_bytes'] / 1e6:.1f} MB",
        f"build ({r['encoder']}): {r['build_s']:.1f} s = {r['docs_per_s']:.1f} docs/s, {r['chunks_per_s']:.1f} chunks/s, "
        f"{r['tokens_per_s']:.0f} tokens/s (model load {r['model_load_s']:.1f} s apart)",
        f"machine: float32 matmul (numpy) {r['matmul_gflops']:.0f} GFLOP/s; build uses ~{r['build_gflops_approx']:.1f} GFLOP/s "
        f"= {100 * r['build_fraction_of_matmul_limit']:.0f}% of it",
        f"retrieve(k=5) over {r['queries']} queries: p50 {r['retrieve']['p50_ms']:.1f} ms, "
        f"p95 {r['retrieve']['p95_ms']:.1f} ms",
    ]
    if r["answer"]:
        lines.append(f"answer(): p50 {r['answer']['p50_ms']:.1f} ms, p95 {r['answer']['p95_ms']:.1f} ms")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", nargs="+", type=Path, help="folders or files of articles")
    ap.add_argument("--queries", type=int, default=100, help="questions to time (default: 100)")
    ap.add_argument("--no-answer", action="store_true", help="time retrieval only")
    ap.add_argument("--json", action="store_true", help="print the JSON instead of the summary")
    args = ap.parse_args()
    result = run(args.corpus, args.queries, answers=not args.no_answer)
    path = write_json("build_and_search.json", result)
    print(json.dumps(result, indent=2) if args.json else format_result(result))
    print(f"saved {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
