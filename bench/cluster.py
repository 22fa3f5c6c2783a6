"""Sharded builds and searches, in this process and on a Ray cluster started on this machine.

    python bench/cluster.py CORPUS... [--queries N] [--shards 1,2,4] [--copies N] [--no-ray] [--json]

Build throughput (chunks/s) of the in-process build against Ray builds with 1 and 2 embedding
workers on a local cluster (started once, before the timed builds: its start-up is reported apart),
with scaling efficiency = throughput(2 workers) / (2 x throughput(1 worker)) and the Ray overhead =
time of the 2-worker Ray build / time of the in-process build - 1 (both use every core). Then
retrieve(k=5) latency p50/p95 for 1, 2 and 4 shards, searched in threads of this process and through
one Ray actor per shard (`--shards 0`: no searches). `--copies N` builds from N copies of the corpus, each
article under its own id, so that the fixed costs of a build (starting processes, loading the encoder)
weigh as they would on a larger corpus. Figures are printed as a table and saved to
bench/results/cluster.json.
`--no-ray` times the in-process parts only (no Ray needed).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, percentiles, sample_queries, time_calls, write_json  # noqa: E402


def _timed(fn) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def copied_corpus(corpus: list[Path], copies: int, folder: Path) -> list[Path]:
    """`corpus` written `copies` times into one JSONL file, each copy of an article under its own id: a larger
    build of real text, over which the fixed costs of starting workers weigh less."""
    from qa.ingest.corpus import load_corpus

    path = folder / "copies.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for copy in range(copies):
            for doc in load_corpus(corpus):
                record = {"id": f"{doc.id}~{copy}", "title": doc.title, "text": doc.text, "source": doc.source}
                record.update({"published": doc.published, "url": doc.url})
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return [path]


def run(corpus: list[Path], n_queries: int, shard_counts: list[int], use_ray: bool = True, copies: int = 1) -> dict:
    """Every figure of the benchmark in one dict; no searches are timed when `shard_counts` is empty."""
    from qa.encoders.embedding import Embedder
    from qa.encoders.model_choice import resolve_model
    from qa.encoders.models import force_offline
    from qa.index import load_index
    from qa.indexing.build import build_index
    from qa.indexing.shard_build import build_sharded_index

    force_offline()
    Embedder(resolve_model(None)).load()  # model load and ONNX graph out of the timings
    queries = sample_queries(corpus, n_queries)
    out: dict = {"machine": machine(), "corpus": [str(p) for p in corpus], "copies": copies, "queries": len(queries)}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if copies > 1:
            corpus = copied_corpus(corpus, copies, root)
        seconds, report = _timed(lambda: build_index(corpus, root / "inprocess"))
        chunks = report.chunks
        builds = {"in-process": seconds}
        builds["2 local processes"] = _timed(lambda: build_sharded_index(corpus, root / "procs", shards=2))[0]
        if use_ray:
            from qa.cluster.build import build_on_ray
            from qa.cluster.connection import connect

            out["ray_start_s"] = _timed(lambda: connect("local"))[0]
            for workers in (1, 2):
                builds[f"ray, {workers} worker{'s' if workers > 1 else ''}"] = _timed(
                    lambda w=workers: build_on_ray(corpus, root / f"ray{w}", "local", shards=2, workers=w)
                )[0]
            one, two = builds["ray, 1 worker"], builds["ray, 2 workers"]
            out["scaling_efficiency"] = (chunks / two) / (2 * chunks / one)
            out["ray_overhead"] = two / builds["in-process"] - 1.0
        out["chunks"] = chunks
        out["builds"] = {k: {"seconds": v, "chunks_per_s": chunks / v} for k, v in builds.items()}

        latency = {}
        if shard_counts:
            unsharded = load_index(root / "inprocess")
            latency["unsharded"] = percentiles(time_calls(lambda q: unsharded.retrieve(q, k=5), queries))
        for n in shard_counts:
            build_sharded_index(corpus, root / f"s{n}", shards=n, workers=1)
            threads = load_index(root / f"s{n}")
            latency[f"{n} shards, threads"] = percentiles(time_calls(lambda q, i=threads: i.retrieve(q, k=5), queries))
            if use_ray:
                actors = load_index(root / f"s{n}", ray="local")
                latency[f"{n} shards, Ray actors"] = percentiles(
                    time_calls(lambda q, i=actors: i.retrieve(q, k=5), queries)
                )
                actors.close()
        out["retrieve"] = latency
    return out


def print_table(r: dict) -> None:
    copies = f" x {r['copies']} copies" if r.get("copies", 1) > 1 else ""
    print(
        f"corpus: {', '.join(r['corpus'])}{copies} - {r['chunks']} chunks, "
        f"load average {r['machine']['load_average_1m']}"
    )
    if "ray_start_s" in r:
        print(f"Ray local cluster start {r['ray_start_s']:.1f} s (not in the build times)")
    print(f"{'build':<22}{'seconds':>10}{'chunks/s':>10}")
    for name, b in r["builds"].items():
        print(f"{name:<22}{b['seconds']:>10.1f}{b['chunks_per_s']:>10.1f}")
    if "scaling_efficiency" in r:
        print(f"scaling efficiency (2 Ray workers vs 2 x 1): {r['scaling_efficiency']:.2f}")
        print(f"Ray overhead (2 workers vs in-process build): {100 * r['ray_overhead']:+.0f}%")
    if not r["retrieve"]:
        return
    print(f"\n{'retrieve k=5 (' + str(r['queries']) + ' queries)':<28}{'p50 ms':>10}{'p95 ms':>10}")
    for name, p in r["retrieve"].items():
        print(f"{name:<28}{p['p50_ms']:>10.2f}{p['p95_ms']:>10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="+", type=Path)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument(
        "--shards", default="1,2,4", help="shard counts to time searches with (default: 1,2,4; 0: time no searches)"
    )
    parser.add_argument(
        "--copies", type=int, default=1, help="build from this many copies of the corpus, each under its own ids"
    )
    parser.add_argument("--no-ray", action="store_true", help="in-process builds and searches only")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    args = parser.parse_args()
    if args.copies < 1:
        parser.error("--copies must be 1 or more")
    shard_counts = [int(n) for n in args.shards.split(",") if int(n) > 0]
    r = run(args.corpus, args.queries, shard_counts, use_ray=not args.no_ray, copies=args.copies)
    write_json("cluster.json", r)
    if args.json:
        print(json.dumps(r, indent=2))
    else:
        print_table(r)


if __name__ == "__main__":
    main()
