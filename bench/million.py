"""One node at a million chunks: where the memory goes, what loading costs, how fast and how exact search is.

    python bench/million.py [--chunks 1000000] [--queries 200] [--rebuild] [--only load]

Builds (once, cached under ~/.cache/qa-news/bench/, or $QA_CACHE_DIR/bench/) an index of the squad2-tune corpus from ../shared
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

import argparse
import gzip
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, ROOT, SHARED, load_questions, machine, percentiles, write_json  # noqa: E402
from qa.encoders.models import cache_root  # noqa: E402

CACHE = cache_root() / "bench"
TRAIN = SHARED / "train" / "reader-train.jsonl.gz"
REAL_QUERIES = 1000
# What a run measures, each in a fresh child process: memory by component, loading and questions, recall.
CHILDREN = ("parts", "load", "recall")
BLOCK = 1000


def _distinct_paragraphs() -> tuple[list[str], list[str]]:
    """The distinct paragraphs of the training set in a fixed random order (so any prefix is a fair sample),
    and REAL_QUERIES of its questions."""
    paragraphs: dict[str, None] = {}
    questions: list[str] = []
    with gzip.open(TRAIN, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            paragraphs.setdefault(r["context"], None)
            questions.append(r["question"])
    rng = np.random.default_rng(0)
    texts = list(paragraphs)
    order = rng.permutation(len(texts))
    picked = rng.choice(len(questions), REAL_QUERIES, replace=False)
    return [texts[i] for i in order], [questions[i] for i in picked]


def real_set(embed: bool = True) -> tuple[np.ndarray, np.ndarray, int]:
    """(vectors of the distinct training paragraphs embedded so far, of the sampled questions, how many paragraphs
    there are). Embedding goes in blocks cached as they finish, so an interrupted run resumes; `embed=False`
    only reads what is cached."""
    from qa.encoders.embedding import Embedder

    emb = Embedder()
    folder = CACHE / "train-paragraphs"
    if not TRAIN.is_file() or not (embed or (folder / "block-000.npy").is_file()):
        # Without the training set, or with nothing embedded yet and embedding not asked for, there is nothing to
        # measure: the report leaves the line out.
        return np.zeros((0, emb.dimension), "float32"), np.zeros((0, emb.dimension), "float32"), 0
    folder.mkdir(parents=True, exist_ok=True)
    texts, questions = _distinct_paragraphs()
    qpath = folder / "questions.npy"
    if not qpath.is_file():
        np.save(qpath, emb.encode(questions).astype("float32"))
    blocks = []
    for start in range(0, len(texts), BLOCK):
        path = folder / f"block-{start // BLOCK:03d}.npy"
        if not path.is_file():
            if not embed:
                break
            np.save(path, emb.encode(texts[start : start + BLOCK]).astype("float32"))
            print(f"embedded {min(start + BLOCK, len(texts))}/{len(texts)} paragraphs", file=sys.stderr, flush=True)
        blocks.append(np.load(path))
    vectors = np.concatenate(blocks) if blocks else np.zeros((0, emb.dimension), "float32")
    return vectors, np.load(qpath), len(texts)


# ---------------------------------------------------------------- the index


def index_dir(chunks: int) -> Path:
    return CACHE / f"index-{chunks}"


def build(chunks: int, set_dir: Path) -> dict:
    """The repeated index of `chunks` chunks in the cache, built from the set's real index (embedded once)."""
    import shutil

    from bench.peers import build_scale_index
    from qa.evaluation import open_set_index

    target = index_dir(chunks)
    shutil.rmtree(target, ignore_errors=True)
    real = open_set_index(set_dir, None, progress=True).path  # the set's index, cached by the evaluation
    CACHE.mkdir(parents=True, exist_ok=True)  # on a new machine the cache folder does not exist yet
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        work = Path(tmp)
        shutil.copy(set_dir / "corpus.jsonl", work / "corpus.jsonl")
        shutil.copytree(real, work / "qa-index", ignore=shutil.ignore_patterns(".lock", "tmp-*"))
        t = time.perf_counter()
        built = build_scale_index(work, chunks, target)
        built["build_s"] = time.perf_counter() - t
    (target / "built.json").write_text(json.dumps(built))
    return built


# ---------------------------------------------------------------- measurements, each in a fresh child process


def memory() -> dict[str, float]:
    """This process's resident memory in MB: total, anonymous (heap) and file-backed (mapped files)."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return {"rss": fields["VmRSS"], "anon": fields["RssAnon"], "file": fields["RssFile"], "peak": fields["VmHWM"]}


def mapped(folder: Path) -> dict[str, float]:
    """MB of each file of `folder` resident through this process's mappings."""
    out: dict[str, float] = {}
    name = None
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and len(head) >= 5:
            name = head[5] if len(head) > 5 and head[5].startswith(str(folder)) else None
        elif name and line.startswith("Rss:"):
            key = Path(name).name
            out[key] = out.get(key, 0.0) + int(head[1]) / 1024
    return out


def child_parts(folder: Path) -> dict:
    """Heap growth, time and mapped memory of each part a reader opens, one after the other."""
    import faiss

    from qa.encoders.embedding import Embedder
    from qa.store import ann
    from qa.store.generations import DATABASE, MANIFEST, VECTORS, Manifest, current_generation, file_digest
    from qa.store.lexical import LEXICAL_FILE, LexicalIndex

    gen = current_generation(folder)
    Embedder().load().encode_query("warm up")
    faiss.omp_set_num_threads(1)
    steps, keep = [], []
    before, t = memory(), time.perf_counter()

    def step(name: str, obj=None) -> None:
        nonlocal before, t
        now, after = time.perf_counter(), memory()
        steps.append({"part": name, "s": now - t, "anon_mb": after["anon"] - before["anon"]})
        keep.append(obj)
        before, t = after, time.perf_counter()

    base = dict(before)
    manifest = Manifest.read(gen / MANIFEST)
    for name in manifest.files:
        file_digest(gen / name)
    step("checksums")
    vectors = faiss.read_index(str(gen / VECTORS), faiss.IO_FLAG_MMAP_IFC)
    step(VECTORS, vectors)
    graph = ann.read(gen / ann.ANN_FILE, vectors, mapped=True) if ann.ANN_FILE in manifest.files else None
    step(ann.ANN_FILE, graph)
    lexical = LexicalIndex(gen / LEXICAL_FILE)
    step(LEXICAL_FILE, lexical)
    import sqlite3

    conn = sqlite3.connect(f"file:{gen / DATABASE}?mode=ro", uri=True)
    conn.execute("SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM chunks)").fetchone()
    step(DATABASE, conn)
    sizes = {f.name: f.stat().st_size for f in gen.iterdir() if f.is_file()}
    inner = faiss.downcast_index(graph[0].index) if graph else None
    detail = {}
    if inner is not None:
        detail["graph_links_mb"] = (inner.hnsw.neighbors.size() * 4 + inner.hnsw.offsets.size() * 8) / 2**20
        detail["graph_codes_mb"] = inner.storage.sa_code_size() * inner.ntotal / 2**20
        detail["graph_kind"] = ann.describe(graph[0])
    return {
        "base": base,
        "steps": steps,
        "sizes": sizes,
        "mapped_after_open": mapped(gen),
        "chunks": manifest.chunks,
        **detail,
    }


def child_load(folder: Path, questions: list[str]) -> dict:
    """Load the index as `qa` does, then time retrieval and its parts; memory after each stage."""
    from qa.encoders.embedding import Embedder
    from qa.index import load_index
    from qa.search.retrieval import dense_search, query_terms

    Embedder().load().encode_query("warm up")
    loadavg = Path("/proc/loadavg").read_text().split()[0]
    base = memory()
    t = time.perf_counter()
    idx = load_index(folder)
    load_s = time.perf_counter() - t
    after_load = memory()
    store = idx.store
    gen = store.folder
    for q in questions[:3]:
        idx.retrieve(q, k=5)
    parts: dict[str, list[float]] = {"embed": [], "dense": [], "lexical": [], "retrieve": [], "retrieve_cpu": []}
    for q in questions:
        t = time.perf_counter()
        v = idx.embedder.encode_query(q)[0]
        parts["embed"].append(time.perf_counter() - t)
        t = time.perf_counter()
        dense_search(store, v, 50, None)
        parts["dense"].append(time.perf_counter() - t)
        t = time.perf_counter()
        store.lexical_search(query_terms(q), 50)
        parts["lexical"].append(time.perf_counter() - t)
        idx._vectors.clear()
        t, cpu = time.perf_counter(), time.process_time()
        idx.retrieve(q, k=5)
        parts["retrieve"].append(time.perf_counter() - t)
        # CPU time of all the process's threads: on cores shared with other work it shows what waiting hides.
        parts["retrieve_cpu"].append(time.process_time() - cpu)
    return {
        "load_s": load_s,
        "base": base,
        "after_load": after_load,
        "after_queries": memory(),
        "mapped_after_load_queries": mapped(gen),
        "times": {k: percentiles(v) for k, v in parts.items()},
        "loadavg": [loadavg, Path("/proc/loadavg").read_text().split()[0]],
        "kind": idx.manifest.faiss_index,
        "chunks": idx.manifest.chunks,
    }


def _recall(exact_top: list[np.ndarray], approx_top: list[np.ndarray], same=None) -> float:
    """Share of the returned top 10 that is in the exact top 10 (or, when `same` maps ids to originals, that is a
    copy of the same original chunk as an exact hit)."""
    hits = 0
    for e, a in zip(exact_top, approx_top):
        wanted = {same[i] for i in e.tolist()} if same else set(e.tolist())
        hits += sum((same[i] if same else i) in wanted for i in a.tolist())
    return hits / (10 * len(exact_top))


def _coverage(exact_top: list[np.ndarray], approx_top: list[np.ndarray], same) -> float:
    """Share of the exact top 10 whose original chunk has a copy among the returned top 10 (a stricter count)."""
    hits = 0
    for e, a in zip(exact_top, approx_top):
        got = {same[i] for i in a.tolist()}
        hits += sum(same[i] in got for i in e.tolist())
    return hits / (10 * len(exact_top))


def child_recall(folder: Path, questions: list[str], embed_real: bool) -> dict:
    """Recall@10 of the approximate search against the exact top 10: on the repeated index and on real vectors."""
    import faiss

    from qa.encoders.embedding import Embedder
    from qa.store import ann
    from qa.store.generations import Store, current_generation

    faiss.omp_set_num_threads(1)
    store = Store(current_generation(folder))
    # A copy's chunks are its original's, in the same order: (document, offset) names the original chunk.
    original = {
        cid: (doc_id.split("#copy")[0], start)
        for cid, doc_id, start in store.connection().execute("SELECT id, doc_id, start FROM chunks")
    }
    emb = Embedder()
    qv = np.concatenate([emb.encode_query(q) for q in questions])
    exact = [store.vectors.search(q[None, :], 10)[1][0] for q in qv]
    t = time.perf_counter()
    if store.ann is None:  # an index below the size that gets a graph searches exactly
        approx = [store.vectors.search(q[None, :], 10)[1][0] for q in qv]
    else:
        approx = [ann.search(store.ann, store.ann_skip, store.vectors, q, 10)[1][0] for q in qv]
    approx_ms = (time.perf_counter() - t) / len(qv) * 1000
    out = {
        "repeated_copy_recall": _recall(exact, approx, original),
        "repeated_id_recall": _recall(exact, approx),
        "repeated_coverage": _coverage(exact, approx, original),
        "repeated_queries": len(qv),
        "dense_approx_ms": approx_ms,
    }
    vectors, real_q, total = real_set(embed=embed_real)
    if len(vectors):
        flat = faiss.IndexIDMap2(faiss.IndexFlatIP(vectors.shape[1]))
        flat.add_with_ids(vectors, np.arange(len(vectors), dtype="int64"))
        with tempfile.TemporaryDirectory() as tmp:
            ann.MIN_VECTORS = 0  # the graph the index would hold at its size, over however many real vectors
            kind = ann.update(Path(tmp), flat)
            graph, skip = ann.read(Path(tmp) / ann.ANN_FILE, flat)
        exact = [flat.search(q[None, :], 10)[1][0] for q in real_q]
        approx = [ann.search(graph, skip, flat, q, 10)[1][0] for q in real_q]
        out.update(
            real_recall=_recall(exact, approx),
            real_vectors=len(vectors),
            real_total=total,
            real_queries=len(real_q),
            real_kind=kind,
        )
    return out


# ---------------------------------------------------------------- the parent


def _spawn(child: str, args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        cmd = [sys.executable, __file__, "--child", child, "--out", str(out), "--chunks", str(args.chunks)]
        cmd += ["--queries", str(args.queries), "--set", str(args.set)] + (["--no-embed"] if args.no_embed else [])
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
        subprocess.run(cmd, env=env, check=True)
        return json.loads(out.read_text())


def _questions(set_dir: Path, n: int) -> list[str]:
    rows = load_questions(set_dir)
    random.Random(0).shuffle(rows)
    return [r["question"] for r in rows[:n]]


def report(built: dict, parts: dict, load: dict, recall: dict) -> str:
    """The table of figures and the 10-million projection, with its arithmetic."""
    n = load["chunks"]
    mb = 2**20
    lines = [f"One node at {n:,} chunks ({built['note']}); vectors: {load['kind']}", ""]
    lines.append(f"{'component':30}{'disk MB':>9}{'heap MB':>9}{'mapped resident MB':>20}{'MB per 1M chunks':>18}")
    lines.append(f"{'':48}{'opened':>9}{'queried':>9}{'(heap + queried)':>20}")
    opened, queried = parts["mapped_after_open"], load["mapped_after_load_queries"]
    steps = {s["part"]: s for s in parts["steps"]}
    for name in ("vectors.faiss", "ann.faiss", "lexical.npz", "store.sqlite"):
        disk = parts["sizes"].get(name, 0) / mb
        heap = steps.get(name, {}).get("anon_mb", 0.0)
        res_open, res_q = opened.get(name, 0.0), queried.get(name, 0.0)
        lines.append(f"{name:30}{disk:9.0f}{heap:9.0f}{res_open:9.0f}{res_q:9.0f}{(heap + res_q) * mb / n:20.0f}")
    if "graph_links_mb" in parts:
        lines.append(f"{'  ann.faiss: HNSW links':30}{parts['graph_links_mb']:9.0f}")
        lines.append(f"{'  ann.faiss: SQ8 codes':30}{parts['graph_codes_mb']:9.0f}")
    base = parts["base"]["anon"]
    lines.append(f"{'process without index':30}{'':9}{base:9.0f}   (Python, FAISS, the ONNX encoder)")
    a, q = load["after_load"], load["after_queries"]
    index_pages = sum(opened.values())
    lines += [
        "",
        f"RSS after loading {a['rss']:.0f} MB = {a['anon']:.0f} heap + {a['file']:.0f} mapped (libraries and "
        f"{index_pages:.0f} MB of index pages); after {recall['repeated_queries']} questions {q['rss']:.0f} MB = "
        f"{q['anon']:.0f} heap + {q['file']:.0f} mapped (page cache the kernel may evict); peak {q['peak']:.0f} MB",
        f"load time {load['load_s']:.2f} s for load_index (checksums of every file, then mapping); in the parts "
        f"run the checksums took {steps['checksums']['s']:.2f} s and opening the mapped files "
        f"{sum(s['s'] for s in parts['steps'][1:]):.2f} s; disk {sum(parts['sizes'].values()) / 1e9:.2f} GB",
    ]
    t = load["times"]
    embed, dense, lex, total = (t[k]["p50_ms"] for k in ("embed", "dense", "lexical", "retrieve"))
    # Retrieval embeds the question on a helper thread while BM25 runs: the longer of the two is what it waits.
    rest = total - max(embed, lex) - dense
    lines.append(
        f"retrieve (k=5, question embedded) p50 {total:.1f} ms / p95 {t['retrieve']['p95_ms']:.1f} ms; parts p50, "
        f"each timed alone: embed {embed:.1f} and BM25 {lex:.1f} (side by side in retrieve), dense (graph + exact "
        f"re-scoring) {dense:.2f}; the rest (fusion, ordering ties, fetching chunks, the threads' overhead) "
        f"{rest:.1f} ms"
    )
    if "retrieve_cpu" in t:
        lines.append(
            f"  CPU time of the process's threads per retrieve p50 {t['retrieve_cpu']['p50_ms']:.1f} ms / p95 "
            f"{t['retrieve_cpu']['p95_ms']:.1f} ms; 1-minute load average {' then '.join(load.get('loadavg', ['?']))}"
        )
    lines.append(
        f"recall@10 of the exact top 10 on the repeated index: {recall['repeated_copy_recall']:.3f} counting a returned "
        f"copy of an exact hit's original chunk as a hit ({recall['repeated_id_recall']:.3f} by chunk id; "
        f"{recall.get('repeated_coverage', float('nan')):.3f} of the exact hits have a copy of their original "
        f"returned: the graph's neighbours are mostly copies of one chunk, 938 per original)"
    )
    if "real_recall" in recall:
        lines.append(
            f"recall@10 of the exact top 10 on distinct real vectors: {recall['real_recall']:.3f} ({recall['real_kind']}"
            f" over {recall['real_vectors']:,} of the {recall['real_total']:,} distinct training paragraphs, "
            f"{recall['real_queries']} of its questions)"
        )
    big = 10_000_000
    heap_per = (a["anon"] - base) * mb / n
    heap_10m = (base + heap_per * big / mb) / 1024
    libs = a["file"] - index_pages
    pages_10m = index_pages * big / n / 1024
    work_per = sum(queried.values()) * mb / n
    disk_per = sum(parts["sizes"].values()) / n
    graph_per = parts["sizes"].get("ann.faiss", 0) / n
    dense_10m = dense * math.log(big) / math.log(n)
    lex_10m = lex * big / n
    lines += [
        "",
        f"Projected to {big:,} chunks from the growth measured at {n:,}:",
        f"  heap: {base:.0f} MB fixed + ({a['anon']:.0f} - {base:.0f}) MB / {n:,} chunks = {heap_per:.0f} B/chunk "
        f"x 10M = {heap_10m:.2f} GB",
        f"  RSS after loading: heap {heap_10m:.2f} GB + libraries {libs / 1024:.2f} GB + index pages touched by "
        f"opening {index_pages:.0f} MB x 10M/{n:,} = {pages_10m:.2f} GB; total {heap_10m + libs / 1024 + pages_10m:.2f} GB",
        f"  mapped pages after questions: {work_per:.0f} B/chunk x 10M = {work_per * big / 2**30:.1f} GB of page "
        f"cache; what searches need resident is the graph ({graph_per:.0f} B/chunk x 10M = "
        f"{graph_per * big / 2**30:.1f} GB) and the postings of asked terms, the rest may be evicted",
        f"  disk: {disk_per:.0f} B/chunk x 10M = {disk_per * big / 1e9:.1f} GB",
        f"  retrieve p50: the longer of embed {embed:.1f} (fixed) and BM25 {lex:.1f} x 10 (postings grow with the "
        f"chunks) = {lex_10m:.1f}, + dense {dense:.2f} x log(10M)/log({n:,}) = {dense_10m:.2f} + the rest "
        f"{rest:.1f} (fixed on distinct text; here ties between copies) = {max(embed, lex_10m) + dense_10m + rest:.1f} ms",
    ]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chunks", type=int, default=1_000_000, help="size of the repeated index (default: 1000000)")
    ap.add_argument("--queries", type=int, default=200, help="questions timed and checked (default: 200)")
    ap.add_argument("--set", type=Path, default=SHARED / "eval" / "squad2-tune", help="the real corpus and questions")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the cached index")
    ap.add_argument(
        "--no-embed", action="store_true", help="measure real-vector recall on the paragraphs cached so far"
    )
    ap.add_argument("--report", action="store_true", help="print the table of the last run again, measuring nothing")
    ap.add_argument(
        "--only",
        action="append",
        choices=CHILDREN,
        help="measure only this part (repeatable); the others' figures are the last run's (default: all)",
    )
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    folder = index_dir(args.chunks)
    if args.child:
        questions = _questions(args.set, args.queries)
        run = {
            "parts": lambda: child_parts(folder),
            "load": lambda: child_load(folder, questions),
            "recall": lambda: child_recall(folder, questions, not args.no_embed),
        }[args.child]
        args.out.write_text(json.dumps(run()))
        return 0
    if args.report:
        r = json.loads((RESULTS / "million.json").read_text())
        print(report(r["built"], r["parts"], r["load"], r["recall"]))
        return 0
    if args.rebuild or not (folder / "built.json").is_file():
        print(f"building {folder} ...", file=sys.stderr, flush=True)
        build(args.chunks, args.set)
    built = json.loads((folder / "built.json").read_text())
    results = {"machine": machine(), "built": built}
    last = RESULTS / "million.json"
    if args.only and not last.is_file():
        ap.error(f"--only reuses the figures of the last run, and there is none in {last}: run without it first")
    kept = json.loads(last.read_text()) if args.only else {}
    for child in CHILDREN:
        if args.only and child not in args.only:
            results[child] = kept[child]
            continue
        print(f"measuring {child} ...", file=sys.stderr, flush=True)
        results[child] = _spawn(child, args)
    print(report(built, results["parts"], results["load"], results["recall"]))
    print(f"saved {write_json('million.json', results)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
