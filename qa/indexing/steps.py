"""The steps every build shares, in one folder or in shards: read the corpus, cut and embed chunks,
write them to a store, and report what was done."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qa.encoders.embedding import Embedder
from qa.errors import CorpusError, InputError
from qa.ingest.chunking import ChunkerSettings, chunk_document
from qa.ingest.corpus import load_corpus
from qa.ingest.documents import LoadReport, SkippedFile
from qa.ingest.text import lexical_terms
from qa.records import Document
from qa.store.generations import FORMAT_VERSION, Manifest, Store, is_index_dir, now_iso

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

    @classmethod
    def of(cls, index_dir: Path, manifests: Sequence[Manifest], t0: float, **counts) -> BuildReport:
        """The report of a build that wrote these manifests (one, or one per shard) and began at `t0`."""
        return cls(
            index_dir=str(index_dir),
            documents=sum(m.documents for m in manifests),
            chunks=sum(m.chunks for m in manifests),
            tokens=sum(m.tokens for m in manifests),
            seconds=time.perf_counter() - t0,
            **counts,
        )


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


def check_target(index_dir: Path) -> None:
    """InputError unless `index_dir` is new, empty or an index folder."""
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
    check_target(index_dir)
    report = LoadReport()
    docs = load_corpus(paths, report)
    if not docs:
        raise CorpusError(
            f"no readable articles in {', '.join(map(str, paths))} "
            f"(looked for .txt .md .html .json .jsonl .rss .atom .xml .pdf; {len(report.skipped)} skipped)"
            + skip_reasons(report, paths)
        )
    return docs, report


def skip_reasons(report: LoadReport, given: Iterable, shown: int = 3) -> str:
    """' — reason; reason' for the first skipped items, so a failed single URL or file says why in one line."""
    if not report.skipped:
        return ""
    named = {str(g) for g in given}
    reasons = [s.reason if s.path in named else f"{s.path}: {s.reason}" for s in report.skipped[:shown]]
    more = f"; {len(report.skipped) - shown} more" if len(report.skipped) > shown else ""
    return " — " + "; ".join(reasons) + more
