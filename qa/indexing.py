"""Building an index from a corpus, and adding or removing documents without a rebuild."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qa.chunking import ChunkerSettings, chunk_document
from qa.documents import LoadReport, SkippedFile, content_hash, load_corpus
from qa.embedding import Embedder
from qa.errors import CorpusError, IndexMismatchError, InputError
from qa.models import recorded_model, resolve_model
from qa.records import Document
from qa.shards import is_sharded
from qa.store import (
    FORMAT_VERSION,
    Manifest,
    Store,
    copy_store,
    create_store,
    current_generation,
    is_index_dir,
    now_iso,
    publish,
    write_lock,
    writing,
)
from qa.text import lexical_terms

log = logging.getLogger(__name__)
TITLE_TOKENS = 24


@dataclass(frozen=True)
class BuildReport:
    """What a build or update did."""

    index_dir: str
    documents: int
    chunks: int
    tokens: int
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    embedded_chunks: int = 0
    seconds: float = 0.0
    skipped: tuple[SkippedFile, ...] = field(default_factory=tuple)
    warned: tuple[SkippedFile, ...] = field(default_factory=tuple)  # read, with a caveat (e.g. no article found)


def embedding_input(title: str, chunk_text: str) -> str:
    """The text embedded for a chunk: its article's title gives the chunk its topic."""
    title = " ".join(title.split()[:TITLE_TOKENS])
    return f"{title}\n{chunk_text}" if title and title not in chunk_text else chunk_text


def plan_chunks(docs: Sequence[Document], settings: ChunkerSettings, embedder: Embedder):
    """Chunk spans and lexical terms of each document, plus the flat list of texts to embed,
    each within the embedding model's window."""
    plans, texts = [], []
    for doc in docs:
        spans = []
        fits = lambda chunk_text, title=doc.title: embedder.fits_window(embedding_input(title, chunk_text))  # noqa: E731
        for span in chunk_document(doc, settings, fits):
            chunk_text = doc.text[span.start : span.end]
            # The title's words count for lexical search too, as they do for the dense side.
            terms = " ".join(lexical_terms(doc.title + "\n" + chunk_text))
            spans.append((span.start, span.end, span.n_tokens, terms))
            texts.append(embedding_input(doc.title, chunk_text))
        plans.append((doc, spans))
    return plans, texts


def write_plans(store: Store, plans, vectors, hashes: dict[str, str]) -> None:
    """Store planned documents with their chunks and vectors (rows of `vectors` in plan order), in one transaction."""
    row = 0
    conn = store.connection()
    conn.execute("BEGIN")
    for doc, spans in plans:
        store.upsert(doc, hashes[doc.id], spans, vectors[row : row + len(spans)])
        row += len(spans)
    conn.execute("COMMIT")


def new_manifest(embedder: Embedder, settings: ChunkerSettings) -> Manifest:
    """The manifest of an empty store about to be filled by `embedder` with chunks made by `settings`."""
    return Manifest(
        format_version=FORMAT_VERSION,
        model_id=embedder.ref.id,
        model_path=str(embedder.ref.path),
        dimension=embedder.dimension,
        encoder=embedder.encoder,
        normalized=True,
        chunker=settings.__dict__.copy(),
        documents=0,
        chunks=0,
        tokens=0,
        built_at=now_iso(),
        updated_at=now_iso(),
    )


def _check_target(index_dir: Path) -> None:
    # Checked before the corpus is embedded, so a mistyped --index costs no work.
    nearest = next((p for p in (index_dir, *index_dir.parents) if p.exists()), None)
    if nearest is not None and nearest != index_dir and not nearest.is_dir():
        raise InputError(f"{index_dir} cannot be a folder: {nearest} is a file; choose another folder for --index")
    if not is_index_dir(index_dir):
        raise InputError(f"{index_dir} exists and is not an index folder; choose an empty or new folder for --index")


def read_corpus(corpus: str | Path | Iterable[str | Path], index_dir: Path) -> tuple[list[Document], LoadReport]:
    """The documents of `corpus` to build `index_dir` from, or CorpusError / InputError saying what is wrong."""
    paths = [corpus] if isinstance(corpus, (str, Path)) else list(corpus)
    if not paths:
        raise CorpusError("no corpus given; name a folder or files of articles")
    _check_target(index_dir)
    report = LoadReport()
    docs = load_corpus(paths, report)
    if not docs:
        raise CorpusError(
            f"no readable articles in {', '.join(map(str, paths))} "
            f"(looked for .txt .md .html .json .jsonl .rss .atom .xml .pdf; {len(report.skipped)} skipped)"
            + _skip_reasons(report, paths)
        )
    return docs, report


def build_index(
    corpus: str | Path | Iterable[str | Path],
    index_dir: str | Path = "index",
    model: str | None = None,
    settings: ChunkerSettings = ChunkerSettings(),
    progress: bool = False,
    encoder: str | None = None,
) -> BuildReport:
    """Build a fresh index of `corpus` (folders or files) in `index_dir`, replacing any index there atomically.

    `encoder` is one of qa.embedding.ENCODERS (default: $QA_ENCODER, else onnx-int8); the manifest
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
    return BuildReport(
        index_dir=str(index_dir),
        documents=manifest.documents,
        chunks=manifest.chunks,
        tokens=manifest.tokens,
        added=len(docs),
        embedded_chunks=len(texts),
        seconds=time.perf_counter() - t0,
        skipped=tuple(report.skipped),
        warned=tuple(report.warned),
    )


def _skip_reasons(report: LoadReport, given: Iterable, shown: int = 3) -> str:
    """' — reason; reason' for the first skipped items, so a failed single URL or file says why in one line."""
    if not report.skipped:
        return ""
    named = {str(g) for g in given}
    reasons = [s.reason if s.path in named else f"{s.path}: {s.reason}" for s in report.skipped[:shown]]
    more = f"; {len(report.skipped) - shown} more" if len(report.skipped) > shown else ""
    return " — " + "; ".join(reasons) + more


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
            f"no readable articles in {', '.join(map(str, items)) or 'the given paths'}" + _skip_reasons(report, items)
        )
    current_generation(index_dir)  # a mistyped --index is reported before the lock would create the folder
    with write_lock(index_dir, wait=30):
        if is_sharded(current_generation(index_dir)):
            from qa.shard_build import add_to_shards

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
    return BuildReport(
        index_dir=str(index_dir),
        documents=manifest.documents,
        chunks=manifest.chunks,
        tokens=manifest.tokens,
        added=len(changed) - updated,
        updated=updated,
        unchanged=len(docs) - len(changed),
        embedded_chunks=len(texts),
        seconds=time.perf_counter() - t0,
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
            from qa.shard_build import remove_from_shards

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
    return BuildReport(
        index_dir=str(index_dir),
        documents=manifest.documents,
        chunks=manifest.chunks,
        tokens=manifest.tokens,
        removed=removed,
        seconds=time.perf_counter() - t0,
    )
