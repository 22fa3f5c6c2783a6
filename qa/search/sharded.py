"""The shards of one generation searched as one index: in threads of this process, or in the
actors of a Ray cluster (`qa.cluster.serving`), their candidates merged by score.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import IndexCorruptError, InputError
from qa.records import Chunk, Document
from qa.search.retrieval import Filters, search_candidates
from qa.store.generations import Manifest, Store
from qa.store.lexical import LexicalStats, stem
from qa.store.shards import SHARDS_FILE, ShardSet, is_sharded, shard_name, shard_of, shard_of_chunk

# ---------------------------------------------------------------- one shard, as a thread or an actor serves it


class ShardReader:
    """One shard opened for reading: what a search thread, or a Ray actor on any node, holds."""

    def __init__(self, folder: str | Path, label: str) -> None:
        self.folder = Path(folder)
        self.label = label
        self.store: Store | None = None

    def open(self) -> tuple[Manifest, LexicalStats, int]:
        """Load the shard, checking its files; its manifest, BM25 figures and size in bytes."""
        try:
            self.store = Store(self.folder)
        except IndexCorruptError as exc:
            raise IndexCorruptError(f"shard {self.label} is damaged: {exc}") from exc
        assert self.store.lexical is not None
        return self.store.manifest, self.store.lexical.stats(), self.store.size_bytes()

    def use_stats(self, stats: LexicalStats) -> None:
        """Weigh BM25 terms by the whole index's figures."""
        assert self.store is not None and self.store.lexical is not None
        self.store.lexical.use_stats(stats)

    def candidates(
        self, vector: np.ndarray, terms: list[str], depth: int, filters: Filters
    ) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
        """This shard's best chunks by meaning and by BM25."""
        assert self.store is not None
        return search_candidates(self.store, vector, terms, depth, filters)

    def chunks(self, ids: list[int]) -> dict[int, tuple[Chunk, dict[str, Any]]]:
        assert self.store is not None
        return self.store.chunks(ids)

    def first_chunks(self, ids: list[int], limit: int) -> list[tuple[str, int, int]]:
        assert self.store is not None
        return self.store.first_chunks(ids, limit)

    def document(self, doc_id: str) -> Document | None:
        assert self.store is not None
        return self.store.document(doc_id)

    def documents(self) -> list[dict[str, Any]]:
        assert self.store is not None
        return self.store.documents()

    def document_count(self, query: str) -> int:
        assert self.store is not None
        return self.store.document_count(query)

    def document_keys(
        self, query: str, offset: int, limit: int, from_end: bool = False
    ) -> list[tuple[str | None, str, str]]:
        assert self.store is not None
        return self.store.document_keys(query, offset, limit, from_end)

    def documents_by_id(self, ids: list[str]) -> list[dict[str, Any]]:
        assert self.store is not None
        return self.store.documents_by_id(ids)

    def document_hashes(self) -> dict[str, str]:
        assert self.store is not None
        return self.store.document_hashes()

    def sources(self) -> list[str]:
        assert self.store is not None
        return self.store.sources()

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


class ThreadShards:
    """Every shard of a generation in this process, called in parallel from a pool of threads."""

    def __init__(self, gen: Path, shards: int) -> None:
        self.readers = [ShardReader(gen / shard_name(i), shard_name(i)) for i in range(shards)]
        # FAISS and numpy release the GIL for the heavy part of a search, so threads do run in parallel.
        self.pool = ThreadPoolExecutor(max_workers=shards, thread_name_prefix="qa-shard")

    def run(self, calls: list[tuple[int, str, tuple]]) -> list[Any]:
        """The results of (shard, method, args) calls, run concurrently, in the order given."""
        if len(calls) == 1:
            shard, method, args = calls[0]
            return [getattr(self.readers[shard], method)(*args)]
        futures = [self.pool.submit(getattr(self.readers[s], m), *a) for s, m, a in calls]
        return [f.result() for f in futures]

    def close(self) -> None:
        for reader in self.readers:
            reader.close()
        self.pool.shutdown(wait=False)


# ---------------------------------------------------------------- the whole index

# Opens the shards of a generation (folder, count) for ShardedStore: ThreadShards, or qa.cluster's RayShards.
ShardBackend = Callable[[Path, int], Any]


def _merge(lists: list[list[tuple[int, float]]], limit: int) -> list[tuple[int, float]]:
    """The `limit` best (id, score) pairs of several lists, best first, with any tied with the last one kept."""
    merged = sorted((p for part in lists for p in part), key=lambda p: (-p[1], p[0]))
    if len(merged) <= limit:
        return merged
    last = merged[limit - 1][1]
    return [p for p in merged if p[1] >= last]


def _list_order(keys: list[tuple[str | None, str, str]]) -> list[tuple[str | None, str, str]]:
    """(published, title, id) keys in the document list's order: newest first, undated last, then by title and id,
    as SQLite orders them (its text order is Python's: both compare code points)."""
    keys = sorted(keys, key=lambda k: (k[1], k[2]))
    keys.sort(key=lambda k: (k[0] is not None, k[0] or ""), reverse=True)
    return keys


class ShardedStore:
    """The shards of one generation read as one store: the reading side of `qa.store.generations.Store`."""

    def __init__(self, gen: Path, backend: ShardBackend | None = None) -> None:
        self.folder = gen
        self.shard_set = ShardSet.read(gen)
        self.shard_set.verify(gen)
        self.backend: Any = (backend or ThreadShards)(gen, self.shard_set.shards)
        try:
            opened = self._each("open")
            manifests = [m for m, _, _ in opened]
            self.lexical_stats = LexicalStats.merge([s for _, s, _ in opened])
            self._each("use_stats", self.lexical_stats)
        except BaseException:
            self.backend.close()
            raise
        self.shard_manifests = manifests
        self._sizes = sum(size for _, _, size in opened) + (gen / SHARDS_FILE).stat().st_size
        self.manifest = self._merged_manifest(manifests)

    @property
    def shard_count(self) -> int:
        return self.shard_set.shards

    def _each(self, method: str, *args: Any) -> list[Any]:
        return self.backend.run([(i, method, args) for i in range(self.shard_set.shards)])

    def _merged_manifest(self, manifests: list[Manifest]) -> Manifest:
        first = manifests[0]
        for i, m in enumerate(manifests):
            same = (m.model_id, m.dimension, m.encoder, m.chunker) == (
                first.model_id,
                first.dimension,
                first.encoder,
                first.chunker,
            )
            if not same:
                raise IndexCorruptError(
                    f"shard {shard_name(i)} of {self.folder} was built with other settings than shard-000; "
                    "rebuild the index"
                )
        kinds = sorted({m.faiss_index for m in manifests})
        return replace(
            first,
            documents=sum(m.documents for m in manifests),
            chunks=sum(m.chunks for m in manifests),
            tokens=sum(m.tokens for m in manifests),
            built_at=self.shard_set.built_at,
            updated_at=self.shard_set.updated_at,
            faiss_index=f"{len(manifests)} shards of " + " / ".join(kinds),
            files={},
        )

    # -- searching

    def candidates(
        self, vector: np.ndarray, terms: list[str], depth: int, filters: Filters = Filters()
    ) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
        """The `depth` best chunks of the whole index by meaning and by BM25, gathered from every shard."""
        parts = self._each("candidates", vector, terms, depth, filters)
        return _merge([d for d, _ in parts], depth), _merge([lx for _, lx in parts], depth)

    def term_frequency(self, term: str) -> int:
        """How many chunks of the whole index hold `term` (stemmed)."""
        return self.lexical_stats.df.get(stem(term), 0)

    def _by_shard(self, method: str, ids, *args: Any) -> list[Any]:
        """The answers of `method(ids of the shard, *args)` from each shard that `ids` name."""
        by_shard: dict[int, list[int]] = {}
        for chunk_id in ids:
            by_shard.setdefault(shard_of_chunk(chunk_id), []).append(int(chunk_id))
        calls = [(s, method, (part, *args)) for s, part in by_shard.items() if s < self.shard_set.shards]
        return self.backend.run(calls) if calls else []

    def chunks(self, ids) -> dict[int, tuple[Chunk, dict[str, Any]]]:
        """Chunks by id, each fetched from the shard its id names."""
        found: dict[int, tuple[Chunk, dict[str, Any]]] = {}
        for part in self._by_shard("chunks", ids):
            found.update(part)
        return found

    def first_chunks(self, ids, limit: int) -> list[tuple[str, int, int]]:
        """(doc_id, start, chunk id) of the first `limit` of the chunks `ids` in document order, as
        `Store.first_chunks` gives them for one unsharded store: each shard sends its own first `limit`."""
        return sorted(row for part in self._by_shard("first_chunks", ids, limit) for row in part)[:limit]

    # -- documents

    def document(self, doc_id: str) -> Document | None:
        return self.backend.run([(shard_of(doc_id, self.shard_set.shards), "document", (doc_id,))])[0]

    def documents(self) -> list[dict[str, Any]]:
        """Every document's metadata with its chunk count, newest first then by title (as `Store.documents`)."""
        rows = [row for part in self._each("documents") for row in part]
        order = _list_order([(r["published"], r["title"], r["id"]) for r in rows])
        by_id = {r["id"]: r for r in rows}
        return [by_id[key[2]] for key in order]

    def documents_page(self, query: str = "", offset: int = 0, limit: int = 50) -> tuple[list[dict[str, Any]], int]:
        """One page of the document list, as `Store.documents_page` gives it for one unsharded store.

        Each shard sends the keys of its first offset + limit matches, or of its last total - offset when the
        page lies in the list's second half, so a page in the middle costs the most."""
        total = sum(self._each("document_count", query))
        end = min(offset + limit, total)
        if offset >= total:
            page = []
        elif total - offset < end:
            parts = self._each("document_keys", query, 0, total - offset, True)
            page = _list_order([key for keys in parts for key in keys])[-(total - offset) :][: end - offset]
        else:
            parts = self._each("document_keys", query, 0, end)
            page = _list_order([key for keys in parts for key in keys])[offset:end]
        by_shard: dict[int, list[str]] = {}
        for _, _, doc_id in page:
            by_shard.setdefault(shard_of(doc_id, self.shard_set.shards), []).append(doc_id)
        found = {}
        for part in self.backend.run([(s, "documents_by_id", (ids,)) for s, ids in by_shard.items()]) if page else []:
            found.update((r["id"], r) for r in part)
        return [found[key[2]] for key in page if key[2] in found], total

    def document_hashes(self) -> dict[str, str]:
        hashes: dict[str, str] = {}
        for part in self._each("document_hashes"):
            hashes.update(part)
        return hashes

    def sources(self) -> list[str]:
        return sorted({s for part in self._each("sources") for s in part})

    def size_bytes(self) -> int:
        return self._sizes

    def close(self) -> None:
        self.backend.close()


def open_generation(gen: Path, backend: ShardBackend | None = None) -> Store | ShardedStore:
    """The reader of a generation folder, sharded or not; `backend` serves the shards (default: threads here)."""
    if is_sharded(gen):
        return ShardedStore(gen, backend)
    if backend is not None:
        raise InputError(
            f"the index at {gen.parent} has no shards to spread over a cluster; "
            "rebuild it with `qa index build --shards N` (or open it without Ray)"
        )
    return Store(gen)
