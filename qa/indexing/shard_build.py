"""Writing sharded indexes: a build in local processes, and additions or removals routed shard by shard.

Each shard is written like an ordinary generation into a subfolder of one work folder, which is
published whole (`qa.store.generations.publish`), so readers switch from the old set of shards to the new one
at once and a failed build leaves the live index as it was. Updates copy only the shards they
change; the others are hard-linked from the live generation (their files are never written again).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from qa.encoders.embedding import BATCH_SIZE, Embedder
from qa.encoders.model_choice import recorded_model, resolve_model
from qa.errors import IndexMismatchError, InputError
from qa.indexing.steps import BuildReport, new_manifest, plan_chunks, read_corpus, write_plans
from qa.ingest.chunking import ChunkerSettings
from qa.ingest.documents import LoadReport, content_hash
from qa.progress import progress_bar
from qa.records import Document
from qa.store.generations import (
    MANIFEST,
    Manifest,
    Store,
    copy_store,
    create_store,
    current_generation,
    now_iso,
    publish,
    write_lock,
    writing,
)
from qa.store.shards import (
    ShardSet,
    check_shard_count,
    first_chunk_id,
    is_sharded,
    shard_name,
    shard_of,
    write_shard_set,
)

# Texts embedded between two progress reports when the encoder has no per-batch callback.
REPORT_EVERY = 256


@dataclass(frozen=True)
class ShardJob:
    """One shard to chunk, embed and write: what a worker process or a Ray task receives."""

    folder: str
    shard: int
    template: Manifest
    docs: tuple[Document, ...]


def shard_embedder(template: Manifest) -> Embedder:
    """The encoder an index's manifest records, loaded in this process."""
    return Embedder(recorded_model(template.model_id, template.model_path), template.encoder)


def encode_chunks(
    embedder: Embedder, texts: Sequence[str], on_batch: Callable[[int], None] | None = None, parallel: bool = True
) -> np.ndarray:
    """Vectors of `texts`; `parallel=False` keeps to one core (a worker among several), `on_batch` hears counts."""
    if not texts:
        return np.zeros((0, embedder.dimension), dtype="float32")
    if embedder.onnx is not None:
        return embedder.onnx.encode(list(texts), BATCH_SIZE, parallel=parallel, on_batch=on_batch)
    parts = []
    for i in range(0, len(texts), REPORT_EVERY):
        parts.append(embedder.encode(texts[i : i + REPORT_EVERY]))
        if on_batch is not None:
            on_batch(len(parts[-1]))
    return np.concatenate(parts)


def write_shard(folder: Path, shard: int, template: Manifest, plans, vectors: np.ndarray) -> Manifest:
    """Write planned documents with their vectors as shard number `shard` in `folder`; its manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    store = create_store(folder, template, first_chunk_id(shard))
    write_plans(store, plans, vectors, {doc.id: content_hash(doc) for doc, _ in plans})
    return store.finish()


def build_shard(job: ShardJob, on_batch: Callable[[int], None] | None = None, parallel: bool = True) -> Manifest:
    """Chunk, embed and write one shard; its manifest."""
    embedder = shard_embedder(job.template)
    plans, texts = plan_chunks(job.docs, ChunkerSettings(**job.template.chunker), embedder)
    vectors = encode_chunks(embedder, texts, on_batch, parallel)
    return write_shard(Path(job.folder), job.shard, job.template, plans, vectors)


def _run_in_worker(job: ShardJob, progress_queue) -> Manifest:
    # One core per worker: the pool gives the parallelism, and workers would only fight over the cores.
    report = (lambda n: progress_queue.put(n)) if progress_queue is not None else None
    return build_shard(job, report, parallel=False)


def split_documents(docs: Iterable[Document], shards: int) -> list[list[Document]]:
    """Documents grouped by the shard their id is routed to."""
    groups: list[list[Document]] = [[] for _ in range(shards)]
    for doc in docs:
        groups[shard_of(doc.id, shards)].append(doc)
    return groups


def _drain(queue, bar, stop: threading.Event) -> None:
    import queue as queue_module

    while not stop.is_set() or not queue.empty():
        try:
            n = queue.get(timeout=0.2)
        except (queue_module.Empty, EOFError, OSError):
            continue
        bar.update(n)


def run_shard_jobs(jobs: Sequence[ShardJob], workers: int, progress: bool) -> list[Manifest]:
    """Build every job's shard, in `workers` local processes (in this one when 1); manifests in job order."""
    desc = f"embedding chunks ({len(jobs)} shards, {workers} processes)"
    # A live bar on a terminal; in a log, a plain line now and then (not a line of carriage returns).
    bar = progress_bar(desc=desc, unit="chunk") if progress else None
    try:
        if workers <= 1:
            return [build_shard(job, bar.update if bar is not None else None) for job in jobs]
        import multiprocessing

        # Spawned, not forked: the parent may hold ONNX Runtime or torch thread pools that a fork would break.
        context = multiprocessing.get_context("spawn")
        with context.Manager() if bar is not None else nullcontext() as manager:
            queue = manager.Queue() if manager is not None else None
            stop = threading.Event()
            drainer = None
            if bar is not None:
                drainer = threading.Thread(target=_drain, args=(queue, bar, stop), daemon=True)
                drainer.start()
            try:
                with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                    futures = [pool.submit(_run_in_worker, job, queue) for job in jobs]
                    return [f.result() for f in futures]
            finally:
                stop.set()
                if drainer is not None:
                    drainer.join()
    finally:
        if bar is not None:
            bar.close()


def build_sharded_index(
    corpus: str | Path | Iterable[str | Path],
    index_dir: str | Path = "index",
    shards: int = 2,
    model: str | None = None,
    settings: ChunkerSettings = ChunkerSettings(),
    progress: bool = False,
    encoder: str | None = None,
    workers: int | None = None,
) -> BuildReport:
    """Build `corpus` into an index of `shards` shards in local processes (at most one per core by default),
    replacing any index in `index_dir` atomically."""
    t0 = time.perf_counter()
    index_dir = Path(index_dir)
    shards = check_shard_count(shards)
    docs, report = read_corpus(corpus, index_dir)
    template = new_manifest(Embedder(resolve_model(model), encoder), settings)
    groups = split_documents(docs, shards)
    if workers is None:
        workers = min(shards, len(os.sched_getaffinity(0)))
    with write_lock(index_dir):
        with writing(index_dir) as work:
            jobs = [ShardJob(str(work / shard_name(i)), i, template, tuple(g)) for i, g in enumerate(groups)]
            manifests = run_shard_jobs(jobs, max(1, workers), progress)
            write_shard_set(work, shards)
            publish(index_dir, work)
    chunks = sum(m.chunks for m in manifests)
    return BuildReport.of(
        index_dir, manifests, t0, added=len(docs), embedded_chunks=chunks, skipped=tuple(report.skipped)
    )


# ---------------------------------------------------------------- updates


def link_shard(src: Path, dst: Path) -> None:
    """Carry an unchanged shard into a new generation: hard links, copies where links are refused."""
    dst.mkdir()
    for f in src.iterdir():
        try:
            os.link(f, dst / f.name)
        except OSError:
            shutil.copy2(f, dst / f.name)


def _live_shards(index_dir: Path) -> tuple[Path, ShardSet, Manifest]:
    gen = current_generation(index_dir)
    shard_set = ShardSet.read(gen)
    shard_set.verify(gen)
    return gen, shard_set, Manifest.read(gen / shard_name(0) / MANIFEST)


def add_to_shards(
    index_dir: Path, docs: Sequence[Document], report: LoadReport, embedder: Embedder | None, progress: bool
) -> BuildReport:
    """Add or update documents of a sharded index, each in the shard its id routes to (writer lock held)."""
    t0 = time.perf_counter()
    gen, shard_set, template = _live_shards(index_dir)
    if embedder is None or embedder.requested_encoder != template.encoder:
        embedder = shard_embedder(template)
    if embedder.ref.id != template.model_id:
        raise IndexMismatchError(
            f"the index at {index_dir} was built with {template.model_id}, this model is {embedder.ref.id}"
        )
    settings = ChunkerSettings(**template.chunker)
    groups = split_documents(docs, shard_set.shards)
    hashes = {d.id: content_hash(d) for d in docs}
    with writing(index_dir) as work:
        stores, all_texts, updated, changed_count = {}, [], 0, 0
        for i, group in enumerate(groups):
            if not group:
                link_shard(gen / shard_name(i), work / shard_name(i))
                continue
            (work / shard_name(i)).mkdir()
            store = copy_store(gen / shard_name(i), work / shard_name(i))
            known = store.document_hashes()
            changed = [d for d in group if known.get(d.id) != hashes[d.id]]
            updated += sum(1 for d in changed if d.id in known)
            changed_count += len(changed)
            plans, texts = plan_chunks(changed, settings, embedder)
            stores[i] = (store, plans, len(all_texts), len(texts))
            all_texts.extend(texts)
        # One encoding call for every shard's new chunks: one progress bar, full batches.
        vectors = embedder.encode(all_texts, progress=progress, desc="embedding new chunks")
        for store, plans, start, count in stores.values():
            write_plans(store, plans, vectors[start : start + count], hashes)
            store.finish()
        write_shard_set(work, shard_set.shards, built_at=shard_set.built_at)
        manifests = [Manifest.read(work / shard_name(i) / MANIFEST) for i in range(shard_set.shards)]
        publish(index_dir, work)
    return BuildReport.of(
        index_dir,
        manifests,
        t0,
        added=changed_count - updated,
        updated=updated,
        unchanged=len(docs) - changed_count,
        embedded_chunks=len(all_texts),
        skipped=tuple(report.skipped),
    )


def remove_from_shards(index_dir: Path, ids: Sequence[str]) -> BuildReport:
    """Remove documents by id from the shards that hold them (writer lock held); InputError naming unknown ids."""
    t0 = time.perf_counter()
    gen, shard_set, _ = _live_shards(index_dir)
    by_shard: dict[int, list[str]] = {}
    for doc_id in ids:
        by_shard.setdefault(shard_of(doc_id, shard_set.shards), []).append(doc_id)
    with writing(index_dir) as work:
        stores = {}
        for i in range(shard_set.shards):
            if i not in by_shard:
                link_shard(gen / shard_name(i), work / shard_name(i))
                continue
            (work / shard_name(i)).mkdir()
            stores[i] = copy_store(gen / shard_name(i), work / shard_name(i))
        known = {doc_id for store in stores.values() for doc_id in store.document_hashes()}
        missing = [d for d in ids if d not in known]
        if missing:
            for store in stores.values():
                store.close()
            raise InputError(f"not in the index: {', '.join(missing)} (see `qa index stats --documents` for the ids)")
        removed = 0
        for i, store in stores.items():
            conn = store.connection()
            conn.execute("BEGIN")
            removed += store.delete(by_shard[i])
            conn.execute("COMMIT")
            store.finish()
        write_shard_set(work, shard_set.shards, built_at=shard_set.built_at)
        manifests = [Manifest.read(work / shard_name(i) / MANIFEST) for i in range(shard_set.shards)]
        publish(index_dir, work)
    return BuildReport.of(index_dir, manifests, t0, removed=removed)


# ---------------------------------------------------------------- resharding


def _generation_stores(gen: Path) -> list[Store]:
    """Read-only stores of every part of a generation: its shards, or its one store."""
    if is_sharded(gen):
        shard_set = ShardSet.read(gen)
        shard_set.verify(gen)
        return [Store(gen / shard_name(i)) for i in range(shard_set.shards)]
    return [Store(gen)]


def _stored_documents(store: Store):
    """(document, hash, chunk spans, vectors) of every document of a store, in the order they were added."""
    from qa.store.ann import exact_contents

    ids, vectors = exact_contents(store.vectors)
    row_of = {int(i): r for r, i in enumerate(ids)}
    conn = store.connection()
    spans: dict[str, list] = {}
    chunk_ids: dict[str, list[int]] = {}
    for chunk_id, doc_id, start, end, n_tokens, terms in conn.execute(
        "SELECT id, doc_id, start, end, n_tokens, terms FROM chunks ORDER BY id"
    ):
        spans.setdefault(doc_id, []).append((start, end, n_tokens, terms))
        chunk_ids.setdefault(doc_id, []).append(chunk_id)
    rows = conn.execute("SELECT id, title, source, published, url, text, meta, hash FROM documents ORDER BY rowid")
    for doc_id, title, source, published, url, text, meta, doc_hash in rows:
        doc = Document(doc_id, title, text, source, published, url, json.loads(meta or "{}"))
        rows_of_doc = [row_of[c] for c in chunk_ids.get(doc_id, [])]
        yield doc, doc_hash, spans.get(doc_id, []), vectors[rows_of_doc]


def reshard_index(index_dir: str | Path, shards: int, progress: bool = False) -> BuildReport:
    """Rewrite the index in `index_dir` as `shards` shards (1: one unsharded store) without embedding anything
    again: documents, chunks and vectors are moved as they are, and published atomically."""
    t0 = time.perf_counter()
    index_dir = Path(index_dir)
    shards = check_shard_count(shards)
    current_generation(index_dir)  # a mistyped --index is reported before the lock would create the folder
    with write_lock(index_dir, wait=30):
        gen = current_generation(index_dir)
        sources = _generation_stores(gen)
        template = replace(sources[0].manifest, documents=0, chunks=0, tokens=0, files={}, updated_at=now_iso())
        with writing(index_dir) as work:
            folders = [work] if shards == 1 else [work / shard_name(i) for i in range(shards)]
            targets = []
            for i, folder in enumerate(folders):
                folder.mkdir(exist_ok=True)
                targets.append(create_store(folder, template, first_chunk_id(i) if shards > 1 else 0))
            for target in targets:
                target.connection().execute("BEGIN")
            bar = progress_bar(desc="moving documents", unit="chunk") if progress else None
            moved = 0
            for source in sources:
                for doc, doc_hash, spans, vectors in _stored_documents(source):
                    targets[shard_of(doc.id, shards) if shards > 1 else 0].upsert(doc, doc_hash, spans, vectors)
                    moved += 1
                    if bar is not None:
                        bar.update(len(spans))
                source.close()
            if bar is not None:
                bar.close()
            manifests = []
            for target in targets:
                target.connection().execute("COMMIT")
                manifests.append(target.finish())
            if shards > 1:
                write_shard_set(work, shards)
            publish(index_dir, work)
    return BuildReport.of(index_dir, manifests, t0, unchanged=moved)
