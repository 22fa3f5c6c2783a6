"""`Index`: a loaded index on disk, the entry point for retrieval and answers."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from qa.answer.changing import answer_as_of
from qa.answer.questions import clean_question
from qa.answer.reader import Reader, get_reader
from qa.answer.reader_model import resolve_reader
from qa.answer.spelling import corrected_question
from qa.answer.timeline import timeline
from qa.encoders.embedding import Embedder
from qa.encoders.model_choice import rebuild_hint, recorded_model, resolve_model
from qa.encoders.question_model import question_model as choose_question_model
from qa.errors import IndexCorruptError, IndexMismatchError, InputError
from qa.records import Answer, Document, Passage, TimelineEntry
from qa.search.retrieval import Filters, hybrid_search
from qa.search.sharded import ShardBackend, ShardedStore, open_generation
from qa.store.generations import CURRENT, Manifest, Store, current_generation

log = logging.getLogger(__name__)

_QUERY_CACHE = 256
# Embeds questions beside the thread that searches for them; two, so concurrent questions do not queue.
_QUESTION_EMBEDDING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="qa-question-embedding")
# A page of the article list is at most this long: enough for any screen, small enough to stay cheap.
MAX_PAGE = 1000


class Index:
    """An index folder opened for reading; sees updates committed by other processes."""

    def __init__(
        self,
        index_dir: str | Path = "index",
        model: str | None = None,
        reader: str | None = None,
        ray: str | None = None,
        question_model: str | None = None,
    ) -> None:
        self.path = Path(index_dir)
        # A Ray cluster address (`auto`, `local`, host:port): the shards are then served by actors there.
        self._ray = ray
        self._lock = threading.RLock()
        self._store: Store | ShardedStore | None = None
        self._generation: str | None = None
        self._pointer_mtime: tuple[int, int] | None = None
        self._refresh(force=True)
        manifest = self.manifest
        ref = recorded_model(manifest.model_id, manifest.model_path)
        if model is not None and resolve_model(model).id != manifest.model_id:
            raise IndexMismatchError(
                f"the index at {self.path} was built with {manifest.model_id}, not {model}; "
                f"rebuild it with `qa index build --model {model}` or leave the model out"
            )
        # How to move an index of the package's other model to its default one (None when there is nothing to do).
        self.rebuild_hint = rebuild_hint(manifest.model_id)
        if self.rebuild_hint:
            log.warning(self.rebuild_hint)
        self.embedder = Embedder(ref, manifest.encoder)
        asker = choose_question_model(ref, question_model)
        # Questions may be embedded by their own model (qa.encoders.question_model); passages keep the index's.
        self.question_embedder = self.embedder if asker == ref else Embedder(asker, manifest.encoder)
        # Checked now, so a wrong --reader fails before the first question; loaded on the first answer.
        self.reader_ref = resolve_reader(reader)
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    # -- generations

    def _refresh(self, force: bool = False) -> None:
        """Switch to the newest generation if another process committed one."""
        pointer = self._pointer_stamp()
        if not force and pointer == self._pointer_mtime:
            return
        with self._lock:
            for attempt in range(3):
                gen = current_generation(self.path)
                if gen.name == self._generation:
                    break
                try:
                    store = open_generation(gen, self._shard_backend())
                except IndexCorruptError:
                    # A writer may have replaced and pruned this generation while it was being opened.
                    if attempt == 2 or current_generation(self.path) == gen:
                        raise
                    pointer = self._pointer_stamp()
                    continue
                # The old store is not closed here: other threads may be mid-query on its connections
                # (closing them under a running statement crashes SQLite); they close when it is dropped.
                self._store = store
                self._generation = gen.name
                break
            self._pointer_mtime = pointer

    def _shard_backend(self) -> ShardBackend | None:
        """Ray actors for the shards when a cluster was named; None serves them in threads here."""
        if self._ray is None:
            return None
        from qa.cluster.serving import RayShards

        address = self._ray
        return lambda gen, shards: RayShards(gen, shards, address)

    def _pointer_stamp(self) -> tuple[int, int] | None:
        # CURRENT is replaced by rename, so its inode changes even when two commits share an mtime tick.
        try:
            st = (self.path / CURRENT).stat()
        except OSError:  # missing, or a path of the wrong kind: current_generation says which
            return None
        return st.st_ino, st.st_mtime_ns

    @property
    def store(self) -> Store | ShardedStore:
        """The store of the live generation."""
        self._refresh()
        assert self._store is not None
        return self._store

    @property
    def manifest(self) -> Manifest:
        return self.store.manifest

    # -- reading

    @property
    def reader(self) -> Reader:
        """The extractive reader that answers from retrieved passages (shared by the process)."""
        return get_reader(self.reader_ref)

    def embed_question(self, text: str) -> np.ndarray:
        """The question's vector, cached for repeated questions."""
        with self._lock:
            vec = self._vectors.get(text)
            if vec is not None:
                self._vectors.move_to_end(text)
                return vec
        vec = self.question_embedder.encode_query(text)[0]
        if len(vec) != self.manifest.dimension:
            raise IndexMismatchError(
                f"the question model {self.question_embedder.ref.id} gives vectors of {len(vec)} numbers, "
                f"the index at {self.path} holds {self.manifest.dimension}; choose a model of the index's width"
            )
        with self._lock:
            self._vectors[text] = vec
            if len(self._vectors) > _QUERY_CACHE:
                self._vectors.popitem(last=False)
        return vec

    def retrieve(
        self,
        question: str,
        k: int = 5,
        source: str | None = None,
        published_from: str | None = None,
        published_to: str | None = None,
        author: str | None = None,
        site: str | None = None,
    ) -> list[Passage]:
        """The `k` passages that best match the question, fused from dense and lexical search;
        `author` matches a name in the byline, `site` the site's name or web host."""
        question = corrected_question(clean_question(question), self.store.term_frequency)
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise InputError(f"k must be a positive whole number, not {k!r}")
        k = min(k, 100)
        filters = Filters(source or None, published_from or None, published_to or None, author or None, site or None)
        # The question is embedded on a helper thread while BM25 searches on this one (ONNX Runtime releases
        # the GIL): on a million chunks each takes about 4 ms.
        vector = _QUESTION_EMBEDDING.submit(self.embed_question, question)
        return hybrid_search(self.store, question, vector, k, filters)

    def answer(
        self, question: str, history: list | None = None, k: int = 5, as_of: str | None = None, **filters: Any
    ) -> Answer:
        """A short answer with cited spans, or an abstention; `history` holds earlier turns. Only articles published
        up to `as_of` (YYYY-MM-DD) are read when it is given; the answer's `as_of` says the date it holds as of."""
        return answer_as_of(self, question, history=history, k=k, as_of=as_of, **filters)

    def timeline(self, query: str, as_of: str | None = None, **filters: Any) -> tuple[TimelineEntry, ...]:
        """The dated articles about `query`, oldest first: each one's sentence about it and the reader's answer
        there, with the number it gives (qa.answer.timeline)."""
        return timeline(self, query, as_of=as_of, **filters)

    def document(self, doc_id: str) -> Document:
        """The stored document with this id."""
        doc = self.store.document(doc_id)
        if doc is None:
            raise InputError(f"no document {doc_id!r} in the index")
        return doc

    def documents(self) -> list[dict[str, Any]]:
        """Metadata and chunk counts of every indexed document, newest first (reads them all: see `documents_page`)."""
        return self.store.documents()

    def documents_page(self, query: str = "", offset: int = 0, limit: int = 50) -> tuple[list[dict[str, Any]], int]:
        """Up to `limit` documents from `offset` of the `documents` list, keeping those whose title, source or id
        contains `query` (any case), and how many match in all; answered by SQLite without reading the rest."""
        for name, value, low, high in (("offset", offset, 0, None), ("limit", limit, 1, MAX_PAGE)):
            if not isinstance(value, int) or isinstance(value, bool) or value < low or (high and value > high):
                bounds = f"from {low} to {high}" if high else f"of at least {low}"
                raise InputError(f"{name} must be a whole number {bounds}, not {value!r}")
        return self.store.documents_page((query or "").strip(), offset, limit)

    def stats(self) -> dict[str, Any]:
        """Counts, model and settings of the index."""
        m = self.manifest
        return {
            "index": str(self.path),
            "generation": self._generation,
            "documents": m.documents,
            "chunks": m.chunks,
            "tokens": m.tokens,
            "model": m.model_id,
            "question_model": self.question_embedder.ref.id,
            "dimension": m.dimension,
            "chunker": m.chunker,
            "faiss_index": m.faiss_index,
            "format_version": m.format_version,
            "built_at": m.built_at,
            "updated_at": m.updated_at,
            "size_bytes": self.store.size_bytes(),
            "sources": self.store.sources(),
            "shards": getattr(self.store, "shard_count", 1),
        }

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def load_index(
    index_dir: str | Path = "index",
    model: str | None = None,
    reader: str | None = None,
    ray: str | None = None,
    question_model: str | None = None,
) -> Index:
    """Open the index in `index_dir` (sharded or not); `model`, if given, must be the one it was built with.

    `reader` names a local Hugging Face question-answering folder to answer with instead of the shipped
    reader; `ray` (`auto`, `local` or a cluster address) serves each shard of a sharded index from a Ray actor;
    `question_model` (`index` or a sentence-transformers folder) embeds questions instead of the default
    (qa.encoders.question_model)."""
    return Index(index_dir, model=model, reader=reader, ray=ray, question_model=question_model)
