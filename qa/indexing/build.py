"""Building an index from a corpus, and adding or removing documents without a rebuild."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from qa.encoders.embedding import Embedder
from qa.encoders.model_choice import recorded_model, resolve_model
from qa.errors import CorpusError, IndexMismatchError, InputError
from qa.indexing.shard_build import add_to_shards, remove_from_shards
from qa.indexing.steps import BuildReport, new_manifest, plan_chunks, read_corpus, skip_reasons, write_plans
from qa.ingest.chunking import ChunkerSettings
from qa.ingest.corpus import load_corpus
from qa.ingest.documents import LoadReport, content_hash
from qa.records import Document
from qa.store.generations import (
    Manifest,
    copy_store,
    create_store,
    current_generation,
    publish,
    write_lock,
    writing,
)
from qa.store.shards import is_sharded

log = logging.getLogger(__name__)


def build_index(
    corpus: str | Path | Iterable[str | Path],
    index_dir: str | Path = "index",
    model: str | None = None,
    settings: ChunkerSettings = ChunkerSettings(),
    progress: bool = False,
    encoder: str | None = None,
) -> BuildReport:
    """Build a fresh index of `corpus` (folders or files) in `index_dir`, replacing any index there atomically.

    `encoder` is one of qa.encoders.embedding.ENCODERS (default: $QA_ENCODER, else onnx-int8); the manifest
    records the one that ran, torch when ONNX Runtime could not."""
    t0 = time.perf_counter()
    index_dir = Path(index_dir)
    docs, report = read_corpus(corpus, index_dir)
    embedder = Embedder(resolve_model(model), encoder)
    plans, texts = plan_chunks(docs, settings, embedder)
    vectors = embedder.encode(texts, progress=progress, desc="embedding chunks")
    with write_lock(index_dir), writing(index_dir) as work:
        store = create_store(work, new_manifest(embedder, settings))
        write_plans(store, plans, vectors, {d.id: content_hash(d) for d in docs})
        manifest = store.finish()
        publish(index_dir, work)
    return BuildReport.of(
        index_dir,
        [manifest],
        t0,
        added=len(docs),
        embedded_chunks=len(texts),
        skipped=tuple(report.skipped),
        warned=tuple(report.warned),
    )


def _open_for_update(index_dir: Path, model: str | None) -> tuple[Path, Manifest]:
    gen = current_generation(index_dir)
    manifest = Manifest.read(gen / "manifest.json")
    if model is not None and resolve_model(model).id != manifest.model_id:
        raise IndexMismatchError(
            f"the index at {index_dir} was built with {manifest.model_id}, not {model}; "
            "use that model, or rebuild with `qa index build --model ...`"
        )
    return gen, manifest


def add_documents(
    paths: Iterable[str | Path] | Sequence[Document],
    index_dir: str | Path = "index",
    progress: bool = False,
    embedder: Embedder | None = None,
) -> BuildReport:
    """Add or update documents (files, folders or Document records) by id; unchanged ones are not re-embedded."""
    t0 = time.perf_counter()
    index_dir = Path(index_dir)
    items = list(paths)
    report = LoadReport()
    if items and all(isinstance(i, Document) for i in items):
        docs = list({d.id: d for d in items}.values())
    else:
        docs = load_corpus(items, report)
    if not docs:
        raise CorpusError(
            f"no readable articles in {', '.join(map(str, items)) or 'the given paths'}" + skip_reasons(report, items)
        )
    current_generation(index_dir)  # a mistyped --index is reported before the lock would create the folder
    with write_lock(index_dir, wait=30):
        if is_sharded(current_generation(index_dir)):
            return add_to_shards(index_dir, docs, report, embedder, progress)
        gen, manifest = _open_for_update(index_dir, None)
        if embedder is None or embedder.requested_encoder != manifest.encoder:
            # New chunks are embedded like the index's others.
            embedder = Embedder(recorded_model(manifest.model_id, manifest.model_path), manifest.encoder)
        if embedder.ref.id != manifest.model_id:
            raise IndexMismatchError(
                f"the index at {index_dir} was built with {manifest.model_id}, this model is {embedder.ref.id}"
            )
        settings = ChunkerSettings(**manifest.chunker)
        with writing(index_dir) as work:
            store = copy_store(gen, work)
            known = store.document_hashes()
            hashes = {d.id: content_hash(d) for d in docs}
            changed = [d for d in docs if known.get(d.id) != hashes[d.id]]
            plans, texts = plan_chunks(changed, settings, embedder)
            vectors = embedder.encode(texts, progress=progress, desc="embedding new chunks")
            write_plans(store, plans, vectors, hashes)
            manifest = store.finish()
            publish(index_dir, work)
    updated = sum(1 for d in changed if d.id in known)
    return BuildReport.of(
        index_dir,
        [manifest],
        t0,
        added=len(changed) - updated,
        updated=updated,
        unchanged=len(docs) - len(changed),
        embedded_chunks=len(texts),
        skipped=tuple(report.skipped),
        warned=tuple(report.warned),
    )


def remove_documents(doc_ids: Iterable[str], index_dir: str | Path = "index") -> BuildReport:
    """Remove documents by id; raises InputError naming ids the index does not hold."""
    t0 = time.perf_counter()
    index_dir = Path(index_dir)
    ids = list(dict.fromkeys(doc_ids))
    if not ids:
        raise InputError("no document id given")
    current_generation(index_dir)  # a mistyped --index is reported before the lock would create the folder
    with write_lock(index_dir, wait=30):
        if is_sharded(current_generation(index_dir)):
            return remove_from_shards(index_dir, ids)
        gen, _ = _open_for_update(index_dir, None)
        with writing(index_dir) as work:
            store = copy_store(gen, work)
            known = store.document_hashes()
            missing = [i for i in ids if i not in known]
            if missing:
                store.close()
                shutil.rmtree(work, ignore_errors=True)
                raise InputError(
                    f"not in the index: {', '.join(missing)} (see `qa index stats --documents` for the ids)"
                )
            conn = store.connection()
            conn.execute("BEGIN")
            removed = store.delete(ids)
            conn.execute("COMMIT")
            manifest = store.finish()
            publish(index_dir, work)
    return BuildReport.of(index_dir, [manifest], t0, removed=removed)
