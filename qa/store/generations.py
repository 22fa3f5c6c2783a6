"""The index on disk: generations of (FAISS vectors, SQLite store, manifest) swapped in atomically.

Layout of an index folder::

    CURRENT            name of the live generation, replaced atomically
    gen-000007/        manifest.json, vectors.faiss, store.sqlite, lexical.npz (+ ann.faiss when large)
    .lock              held by the one process writing

A write builds a complete new generation in a temporary folder, renames it into place, then
points CURRENT at it, so readers never see a half-written index and a crash leaves the previous
generation live.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import (
    AccessError,
    IndexBusyError,
    IndexCorruptError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexWriteError,
    describe_os_error,
)
from qa.records import Chunk, Document
from qa.store import ann
from qa.store.lexical import LEXICAL_FILE, LexicalIndex
from qa.store.lexical import update as update_lexical

log = logging.getLogger(__name__)

# 2: BM25 moved from an FTS5 table into lexical.npz.
FORMAT_VERSION = 2
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
DATABASE = "store.sqlite"
CURRENT = "CURRENT"
LOCK = ".lock"
# A replaced generation is deleted only this long after its successor went live, so a reader that
# read CURRENT just before the switch can still open it.
PRUNE_AFTER_SECONDS = 30.0
CHECKED_FILES = (VECTORS, DATABASE, LEXICAL_FILE)
EXACT_VECTORS = "IDMap2,Flat"

SCHEMA = """
CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    source TEXT,
    published TEXT,
    url TEXT,
    text TEXT NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}',
    hash TEXT NOT NULL
);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    n_tokens INTEGER NOT NULL,
    text TEXT NOT NULL,
    terms TEXT NOT NULL
);
CREATE INDEX chunks_doc ON chunks(doc_id);
CREATE INDEX documents_source ON documents(source);
CREATE INDEX documents_published ON documents(published);
"""
# The article list's order, covering the columns its search reads: a page is read from this index alone,
# without sorting or scanning the article texts. Created when a generation is finished, so older indexes
# gain it with their next update (until then SQLite sorts).
LIST_INDEX = "CREATE INDEX IF NOT EXISTS documents_list ON documents(published DESC, title, id, source)"
LIST_ORDER = "d.published DESC, d.title, d.id"
LIST_ORDER_REVERSED = "d.published, d.title DESC, d.id DESC"
_DOCUMENT_COLUMNS = ("id", "title", "source", "published", "url", "chars", "chunks")


@dataclass(frozen=True)
class Manifest:
    """What an index was built with and what it holds."""

    format_version: int
    model_id: str
    model_path: str
    dimension: int
    normalized: bool
    chunker: dict[str, Any]
    documents: int
    chunks: int
    tokens: int
    built_at: str
    updated_at: str
    faiss_index: str = EXACT_VECTORS
    # What embedded the vectors (qa.encoders.embedding.ENCODERS); manifests written before it existed used torch.
    encoder: str = "torch"
    # Size and CRC-32 of each data file, checked when a reader opens the generation.
    files: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2, sort_keys=True)

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise IndexCorruptError(f"{path} is missing; rebuild the index with `qa index build`") from exc
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(f"{path} is unreadable ({exc}); rebuild the index with `qa index build`") from exc
        if not isinstance(data, dict) or "format_version" not in data:
            raise IndexCorruptError(f"{path} is not an index manifest; rebuild the index with `qa index build`")
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise IndexMismatchError(
                f"the index at {path.parent.parent} has format version {version}, this version of qa reads "
                f"{FORMAT_VERSION}; rebuild it with `qa index build`"
            )
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        try:
            return cls(**known)
        except TypeError as exc:
            raise IndexCorruptError(f"{path} lacks fields ({exc}); rebuild the index with `qa index build`") from exc


def file_digest(path: Path) -> dict[str, int]:
    """Size and CRC-32 of a file; CRC-32 runs at gigabytes a second, so checking every load is cheap."""
    crc, size = 0, 0
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            crc = zlib.crc32(block, crc)
            size += len(block)
    return {"bytes": size, "crc32": crc}


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# ---------------------------------------------------------------- generations


def current_generation(index_dir: Path) -> Path:
    """The live generation folder of an index, or IndexNotFoundError."""
    pointer = index_dir / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        if not index_dir.exists():
            raise IndexNotFoundError(
                f"no index at {index_dir}; build one with `qa index build CORPUS --index {index_dir}`"
            ) from None
        raise IndexNotFoundError(
            f"{index_dir} holds no index; build one with `qa index build CORPUS --index {index_dir}`"
        ) from None
    except NotADirectoryError:
        what = (
            "is a file, not an index folder" if index_dir.is_file() else "is not a folder (a file stands in its path)"
        )
        raise AccessError(f"{index_dir} {what}; give the folder an index was built in") from None
    except OSError as exc:
        raise AccessError(f"cannot read the index at {index_dir}: {describe_os_error(exc)}") from None
    gen = index_dir / name
    if not name.startswith("gen-") or not gen.is_dir():
        raise IndexCorruptError(f"{pointer} points at {name!r}, which is missing; rebuild with `qa index build`")
    return gen


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)  # `path` is as it was; a full disk keeps no half-written copy
        raise


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def write_lock(index_dir: Path, wait: float = 0.0) -> Iterator[None]:
    """Hold the index's writer lock; IndexBusyError if another writer has it after `wait` seconds."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(index_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except FileExistsError:
        raise AccessError(f"{index_dir} is a file, not an index folder; choose a folder for --index") from None
    except OSError as exc:
        raise AccessError(f"cannot write the index at {index_dir}: {describe_os_error(exc)}") from None
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexBusyError(
                        f"another process is writing to the index at {index_dir}; try again when it is done"
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)


def new_workdir(index_dir: Path) -> Path:
    """A fresh temporary folder inside the index folder, after clearing ones left by crashed writers."""
    for stale in index_dir.glob("tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    work = index_dir / f"tmp-{os.getpid()}-{time.monotonic_ns()}"
    work.mkdir()
    return work


@contextmanager
def writing(index_dir: Path) -> Iterator[Path]:
    """A fresh work folder for a new generation, removed if anything fails before it is published; a failed
    write (a full disk, no permission) is reported as IndexWriteError, the live generation left as it was."""
    work: Path | None = None
    try:
        work = new_workdir(index_dir)
        yield work
    except BaseException as exc:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
        if not isinstance(exc, (OSError, sqlite3.Error, RuntimeError)):
            raise
        if isinstance(exc, RuntimeError) and "write" not in str(exc).lower():
            raise  # only FAISS reports its failed writes as RuntimeError; others are not about the disk
        if isinstance(exc, OSError):
            reason = describe_os_error(exc)
        else:  # SQLite says "disk I/O error" or "database or disk is full"; FAISS "write error in PATH: ..."
            text = str(exc).strip().splitlines()[-1]
            reason = text[max(text.find("write error"), 0) :][:200] + " (is the disk full?)"
        raise IndexWriteError(
            f"could not write the index at {index_dir}: {reason}; nothing was changed, the index in use is intact"
        ) from exc


def publish(index_dir: Path, work: Path) -> Path:
    """Make the finished `work` folder the live generation; older generations are pruned."""
    gens = sorted(p.name for p in index_dir.glob("gen-*"))
    number = int(gens[-1].split("-")[1]) + 1 if gens else 1
    gen = index_dir / f"gen-{number:06d}"
    try:
        previous = (index_dir / CURRENT).read_text(encoding="utf-8").strip()
    except OSError:
        previous = ""
    for f in work.rglob("*"):  # a sharded generation keeps each shard in a subfolder
        if f.is_file():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
    os.rename(work, gen)
    try:
        os.utime(gen)  # the folder's mtime records when it went live, for pruning
        _fsync_dir(index_dir)
        _write_atomic(index_dir / CURRENT, gen.name + "\n")
    except OSError:
        # CURRENT still names the previous generation, so no reader can have opened this one.
        shutil.rmtree(gen, ignore_errors=True)
        raise
    try:
        _fsync_dir(index_dir)
    except OSError as exc:
        # The switch is done and readers see the new generation: reporting the write as failed would be wrong.
        log.warning("the switch to %s may not survive a power cut: %s", gen, describe_os_error(exc))
    prune(index_dir, keep={gen.name, previous})
    return gen


def prune(index_dir: Path, keep: set[str]) -> None:
    """Delete generations other than `keep` that were replaced more than PRUNE_AFTER_SECONDS ago.

    Readers that opened an older generation keep their open files; a generation left half-published
    or half-deleted by a crash is never live, and goes here too.
    """
    gens = sorted(index_dir.glob("gen-*"))
    now = time.time()
    for old, newer in zip(gens, gens[1:]):
        if old.name in keep:
            continue
        try:
            replaced = newer.stat().st_mtime
        except OSError:
            continue
        if now - replaced >= PRUNE_AFTER_SECONDS:
            shutil.rmtree(old, ignore_errors=True)


def is_index_dir(path: Path) -> bool:
    """True for a folder that holds an index (or is empty and can become one)."""
    if not path.exists():
        return True
    if not path.is_dir():
        return False
    entries = [p.name for p in path.iterdir()]
    return not entries or CURRENT in entries or all(e.startswith(("gen-", "tmp-", ".")) for e in entries)


# ---------------------------------------------------------------- the store of one generation


class Store:
    """SQLite documents and chunks plus the FAISS vectors of one generation folder."""

    def __init__(self, folder: Path, *, writable: bool = False) -> None:
        self.folder = folder
        self.writable = writable
        self.manifest = Manifest.read(folder / MANIFEST)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._conn_lock = threading.Lock()
        if not writable:
            self._verify_files()
        self.vectors = self._read_vectors()
        self._check_counts()
        # The HNSW graph serves unfiltered searches of large indexes; writers never search.
        self.ann, self.ann_skip = None, None
        self.lexical: LexicalIndex | None = None
        if not writable:
            self.lexical = LexicalIndex(folder / LEXICAL_FILE)
            if ann.ANN_FILE in self.manifest.files:
                self.ann, self.ann_skip = ann.read(folder / ann.ANN_FILE, self.vectors, mapped=True)

    # -- files

    def _verify_files(self) -> None:
        """IndexCorruptError naming the file whose size or checksum differs from the manifest's record."""
        recorded = self.manifest.files
        if not isinstance(recorded, dict):
            raise IndexCorruptError(f"{self.folder / MANIFEST} is damaged (bad 'files'); rebuild the index")
        for name, want in recorded.items():
            path = self.folder / name
            if not path.is_file():
                raise IndexCorruptError(f"{path} is missing; rebuild the index with `qa index build`")
            got = file_digest(path)
            if not isinstance(want, dict) or got["bytes"] != want.get("bytes"):
                raise IndexCorruptError(
                    f"{path} is damaged: {got['bytes']} bytes, the manifest recorded "
                    f"{want.get('bytes') if isinstance(want, dict) else want} (truncated?); rebuild the index"
                )
            if got["crc32"] != want.get("crc32"):
                raise IndexCorruptError(
                    f"{path} is damaged: its checksum does not match the manifest; rebuild the index"
                )

    def _read_vectors(self):
        import faiss

        path = self.folder / VECTORS
        if not path.is_file():
            raise IndexCorruptError(f"{path} is missing; rebuild the index with `qa index build`")
        # A reader maps the vectors from the file instead of copying them into memory: a published
        # generation is never written again, and pages a search does not touch cost no memory. A writer
        # reads them (FAISS cannot add to or remove from mapped vectors).
        try:
            index = faiss.read_index(str(path), 0 if self.writable else faiss.IO_FLAG_MMAP_IFC)
        except Exception as exc:  # noqa: BLE001 - FAISS raises RuntimeError with C++ text
            raise IndexCorruptError(f"{path} is damaged ({str(exc).splitlines()[0][:120]}); rebuild the index") from exc
        if not self.writable:
            # One question at a time: a scan on one thread beats OpenMP workers that spin-wait for busy
            # cores (12 ms against 47 ms for 100,000 vectors on 2 loaded cores).
            faiss.omp_set_num_threads(1)
        if index.d != self.manifest.dimension:
            raise IndexCorruptError(
                f"{path} holds {index.d}-dimensional vectors but the manifest says {self.manifest.dimension}"
            )
        return index

    def _check_counts(self) -> None:
        try:
            docs, chunks = (
                self.connection()
                .execute("SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM chunks)")
                .fetchone()
            )
        except sqlite3.DatabaseError as exc:
            raise IndexCorruptError(f"{self.folder / DATABASE} is damaged ({exc}); rebuild the index") from exc
        m = self.manifest
        if (docs, chunks) != (m.documents, m.chunks) or self.vectors.ntotal != chunks:
            raise IndexCorruptError(
                f"index at {self.folder} is inconsistent: manifest says {m.documents} documents / {m.chunks} chunks, "
                f"the database holds {docs} / {chunks} and the vector file {self.vectors.ntotal}; rebuild the index"
            )

    def connection(self) -> sqlite3.Connection:
        """This thread's connection to the database."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            path = self.folder / DATABASE
            if not path.is_file():
                raise IndexCorruptError(f"{path} is missing; rebuild the index with `qa index build`")
            if self.writable:
                conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA foreign_keys = ON")
            else:
                conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            conn.execute(f"PRAGMA query_only = {0 if self.writable else 1}")
            conn.create_function(_FOLD, 1, _casefold, deterministic=True)
            self._local.conn = conn
            with self._conn_lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        with self._conn_lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    # -- reads

    def document(self, doc_id: str) -> Document | None:
        row = (
            self.connection()
            .execute("SELECT id, title, source, published, url, text, meta FROM documents WHERE id = ?", (doc_id,))
            .fetchone()
        )
        return _document(row) if row else None

    def documents(self) -> list[dict[str, Any]]:
        """Every document's metadata (no text) with its chunk count, newest first then by title."""
        rows = (
            self.connection()
            .execute(
                "SELECT d.id, d.title, d.source, d.published, d.url, length(d.text), count(c.id) "
                f"FROM documents d LEFT JOIN chunks c ON c.doc_id = d.id GROUP BY d.id ORDER BY {LIST_ORDER}"
            )
            .fetchall()
        )
        return [dict(zip(_DOCUMENT_COLUMNS, r)) for r in rows]

    def documents_page(self, query: str = "", offset: int = 0, limit: int = 50) -> tuple[list[dict[str, Any]], int]:
        """The documents at `offset` (at most `limit`) of the list `documents` gives, keeping those whose title,
        source or id contains `query` (any case), and how many match in all."""
        keys = self.document_keys(query, offset, limit)
        return self.documents_by_id([k[2] for k in keys]), self.document_count(query)

    def document_count(self, query: str) -> int:
        """How many documents' title, source or id contain `query` (any case)."""
        where, args = _list_filter_sql(query)
        return self.connection().execute(f"SELECT count(*) FROM documents d WHERE {where}", args).fetchone()[0]

    def document_keys(
        self, query: str, offset: int, limit: int, from_end: bool = False
    ) -> list[tuple[str | None, str, str]]:
        """(published, title, id) of the matching documents at `offset` in list order, or with `from_end` at
        `offset` from the end of the list in reverse order (the same index, walked backwards)."""
        where, args = _list_filter_sql(query)
        order = LIST_ORDER_REVERSED if from_end else LIST_ORDER
        return (
            self.connection()
            .execute(
                f"SELECT d.published, d.title, d.id FROM documents d WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                [*args, limit, offset],
            )
            .fetchall()
        )

    def documents_by_id(self, ids: list[str]) -> list[dict[str, Any]]:
        """Metadata and chunk counts of these documents, in the order given (unknown ids are left out)."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self.connection().execute(
            "SELECT d.id, d.title, d.source, d.published, d.url, length(d.text), "
            f"(SELECT count(*) FROM chunks c WHERE c.doc_id = d.id) FROM documents d WHERE d.id IN ({marks})",
            ids,
        )
        found = {r[0]: dict(zip(_DOCUMENT_COLUMNS, r)) for r in rows}
        return [found[i] for i in ids if i in found]

    def document_hashes(self) -> dict[str, str]:
        return dict(self.connection().execute("SELECT id, hash FROM documents"))

    def chunks(self, ids: Iterable[int]) -> dict[int, tuple[Chunk, dict[str, Any]]]:
        """Chunks by id, each with its document's title/source/published."""
        ids = [int(i) for i in ids]
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = (
            self.connection()
            .execute(
                f"SELECT c.id, c.doc_id, c.start, c.end, c.text, c.n_tokens, d.title, d.source, d.published, "
                f"json_extract(d.meta, '$.author') "
                f"FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE c.id IN ({marks})",
                ids,
            )
            .fetchall()
        )
        return {
            r[0]: (
                Chunk(r[0], r[1], r[2], r[3], r[4], r[5]),
                {"title": r[6], "source": r[7], "published": r[8], "author": _text_or_none(r[9])},
            )
            for r in rows
        }

    def first_chunks(self, ids: Iterable[int], limit: int) -> list[tuple[str, int, int]]:
        """(doc_id, start, chunk id) of the first `limit` of the chunks `ids` in document order (doc_id, then
        offset): the order ties are broken in, read without the chunks' text."""
        ids = [int(i) for i in ids]
        if not ids or limit < 1:
            return []
        first = self._reader_lexical().first_in_order(np.array(ids, np.int64), limit)
        ids = ids if first is None else first.tolist()
        # SQLite's text order is Python's (both compare code points), so shards' lists merge with sorted().
        rows = (
            self.connection()
            .execute(
                f"SELECT doc_id, start, id FROM chunks WHERE id IN ({','.join('?' * len(ids))}) "
                "ORDER BY doc_id, start LIMIT ?",
                [*ids, limit],
            )
            .fetchall()
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def chunk_ids_where(
        self,
        source: str | None,
        published_from: str | None,
        published_to: str | None,
        author: str | None = None,
        site: str | None = None,
    ) -> np.ndarray:
        """Ids of chunks whose document matches the filters."""
        clauses, args = _filter_sql(source, published_from, published_to)
        clauses, args = _metadata_filter_sql(clauses, args, author, site)
        rows = (
            self.connection()
            .execute(
                f"SELECT c.id FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE {' AND '.join(clauses)}", args
            )
            .fetchall()
        )
        return np.array([r[0] for r in rows], dtype="int64")

    def lexical_search(
        self, terms: list[str], limit: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """(chunk id, BM25 score; higher is better) of chunks holding any of `terms`, optionally only `allowed`."""
        return self._reader_lexical().search(terms, limit, allowed)

    def term_frequency(self, term: str) -> int:
        """How many chunks hold `term` (stemmed the way the lexical index stems it)."""
        return self._reader_lexical().frequency(term)

    def _reader_lexical(self) -> LexicalIndex:
        if self.lexical is None:
            raise RuntimeError("a writable store is not searched")
        return self.lexical

    def sources(self) -> list[str]:
        return [
            r[0]
            for r in self.connection().execute(
                "SELECT DISTINCT source FROM documents WHERE source IS NOT NULL ORDER BY source"
            )
        ]

    def size_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.folder.iterdir() if f.is_file())

    # -- writes (only on a work copy)

    def upsert(
        self, doc: Document, doc_hash: str, spans: list[tuple[int, int, int, str]], vectors: np.ndarray
    ) -> list[int]:
        """Replace a document and its chunks; returns the new chunk ids."""
        conn = self.connection()
        self.delete([doc.id])
        conn.execute(
            "INSERT INTO documents(id, title, source, published, url, text, meta, hash) VALUES (?,?,?,?,?,?,?,?)",
            (
                doc.id,
                doc.title,
                doc.source,
                doc.published,
                doc.url,
                doc.text,
                json.dumps(doc.meta, ensure_ascii=False, default=str),
                doc_hash,
            ),
        )
        ids = []
        for start, end, n_tokens, terms in spans:
            cur = conn.execute(
                "INSERT INTO chunks(doc_id, start, end, n_tokens, text, terms) VALUES (?,?,?,?,?,?)",
                (doc.id, start, end, n_tokens, doc.text[start:end], terms),
            )
            ids.append(int(cur.lastrowid))
        if ids:
            self.vectors.add_with_ids(np.ascontiguousarray(vectors, dtype="float32"), np.array(ids, dtype="int64"))
        return ids

    def delete(self, doc_ids: Iterable[str]) -> int:
        """Remove documents and their chunks and vectors; returns how many documents existed."""
        conn = self.connection()
        removed = 0
        for doc_id in doc_ids:
            ids = [r[0] for r in conn.execute("SELECT id FROM chunks WHERE doc_id = ?", (doc_id,))]
            if ids:
                self.vectors.remove_ids(np.array(ids, dtype="int64"))
                conn.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
            removed += conn.execute("DELETE FROM documents WHERE id = ?", (doc_id,)).rowcount
        return removed

    def finish(self, **manifest_changes: Any) -> Manifest:
        """Write the vectors and a manifest whose counts match the database; close the database."""
        import faiss

        conn = self.connection()
        docs, chunks, tokens = conn.execute(
            "SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM chunks), "
            "(SELECT coalesce(sum(n_tokens), 0) FROM chunks)"
        ).fetchone()
        update_lexical(self.folder, conn)
        conn.execute(LIST_INDEX)
        conn.execute("PRAGMA optimize")
        self.close()
        faiss.write_index(self.vectors, str(self.folder / VECTORS))
        graph = ann.update(self.folder, self.vectors)
        fields = {**self.manifest.__dict__, **manifest_changes}
        names = CHECKED_FILES + ((ann.ANN_FILE,) if graph else ())
        files = {name: file_digest(self.folder / name) for name in names}
        kind = EXACT_VECTORS + (f" + {graph}" if graph else "")
        fields.update(documents=docs, chunks=chunks, tokens=tokens, updated_at=now_iso(), files=files, faiss_index=kind)
        self.manifest = Manifest(**fields)
        _write_atomic(self.folder / MANIFEST, self.manifest.to_json())
        return self.manifest


def create_store(folder: Path, manifest: Manifest, first_chunk_id: int = 0) -> Store:
    """An empty writable store in `folder` (which must exist); its chunk ids start after `first_chunk_id`."""
    import faiss

    conn = sqlite3.connect(folder / DATABASE)
    conn.executescript(SCHEMA)
    if first_chunk_id:
        # Shards of one index number their chunks in disjoint ranges, so an id names its shard.
        with conn:
            conn.execute("INSERT INTO sqlite_sequence(name, seq) VALUES ('chunks', ?)", (first_chunk_id,))
    conn.close()
    faiss.write_index(faiss.IndexIDMap2(faiss.IndexFlatIP(manifest.dimension)), str(folder / VECTORS))
    _write_atomic(folder / MANIFEST, manifest.to_json())
    return Store(folder, writable=True)


def copy_store(src: Path, dst: Path) -> Store:
    """A writable copy of generation `src` in `dst`, for an update that may be abandoned."""
    source = sqlite3.connect(f"file:{src / DATABASE}?mode=ro", uri=True)
    target = sqlite3.connect(dst / DATABASE)
    with target:
        source.backup(target)
    source.close()
    target.close()
    shutil.copy2(src / VECTORS, dst / VECTORS)
    shutil.copy2(src / LEXICAL_FILE, dst / LEXICAL_FILE)
    if (src / ann.ANN_FILE).is_file():
        # The update extends the previous graph instead of building a new one.
        shutil.copy2(src / ann.ANN_FILE, dst / ann.ANN_FILE)
    shutil.copy2(src / MANIFEST, dst / MANIFEST)
    return Store(dst, writable=True)


def _filter_sql(source: str | None, published_from: str | None, published_to: str | None) -> tuple[list[str], list]:
    clauses, args = ["1"], []
    if source:
        clauses.append("d.source = ?")
        args.append(source)
    if published_from:
        clauses.append("d.published >= ?")
        args.append(published_from)
    if published_to:
        clauses.append("d.published <= ?")
        args.append(published_to)
    return clauses, args


_FOLD = "qa_casefold"


def _casefold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _list_filter_sql(query: str) -> tuple[str, list]:
    """The article list's search: title, source or id containing `query`, in any case."""
    query = query.strip()
    if not query:
        return "1", []
    columns = ("d.title", "d.source", "d.id")
    if query.isascii():
        # LIKE ignores the case of ASCII letters and runs inside SQLite, so it is the fast path.
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", query) + "%"
        return "(" + " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in columns) + ")", [pattern] * len(columns)
    # SQLite folds only ASCII letters: other alphabets are folded by Python (slower, so only when needed).
    return "(" + " OR ".join(f"instr({_FOLD}({c}), ?) > 0" for c in columns) + ")", [query.casefold()] * len(columns)


def _metadata_filter_sql(
    clauses: list[str], args: list, author: str | None, site: str | None
) -> tuple[list[str], list]:
    # Bylines list several people ("Jane Doe and John Roe"), so an author matches by name inside them;
    # a site matches the source name or its web host, with or without "www.".
    if author:
        clauses.append("instr(lower(coalesce(json_extract(d.meta, '$.author'), '')), lower(?)) > 0")
        args.append(author.strip())
    if site:
        name = site.strip().lower()
        name = name[4:] if name.startswith("www.") else name
        clauses.append(
            "(lower(coalesce(d.source, '')) IN (?, ?) OR lower(coalesce(json_extract(d.meta, '$.hostname'), '')) = ?"
            " OR lower(coalesce(json_extract(d.meta, '$.site'), '')) = ?)"
        )
        args.extend([name, "www." + name, name, name])
    return clauses, args


def _text_or_none(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _document(row: tuple) -> Document:
    return Document(
        id=row[0],
        title=row[1],
        source=row[2],
        published=row[3],
        url=row[4],
        text=row[5],
        meta=json.loads(row[6] or "{}"),
    )
