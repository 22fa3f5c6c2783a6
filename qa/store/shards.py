"""Sharded indexes: N ordinary generations under one manifest, searched together as one index.

Layout of a sharded generation (published and replaced as a whole, like any generation)::

    gen-000003/
        shards.json    shard count, how documents are routed, and the checksum of each shard's manifest
        shard-000/     an ordinary generation: manifest.json, vectors.faiss, store.sqlite, lexical.npz
        shard-001/     ...

A document lives in the shard named by a stable hash of its id, and each shard numbers its chunks
in its own range (shard << 40 onwards), so a chunk id names its shard. BM25 weights every shard's
terms with the figures of the whole index (chunk count, average length, document frequencies), so
the merged candidates rank exactly as those of one unsharded index of the same corpus. Shards are
searched in threads of this process, or in Ray actors (`qa.cluster.build`) when a cluster is named.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.errors import IndexCorruptError, IndexMismatchError, InputError
from qa.store.generations import FORMAT_VERSION, MANIFEST, Manifest, file_digest, now_iso

SHARDS_FILE = "shards.json"
SHARD_ID_BITS = 40
ROUTING = "crc32(utf-8 id) mod shards"
MAX_SHARDS = 256


def shard_name(shard: int) -> str:
    """The folder of shard number `shard` inside a sharded generation."""
    return f"shard-{shard:03d}"


def shard_of(doc_id: str, shards: int) -> int:
    """The shard a document id belongs to: CRC-32 is the same in every process and on every node."""
    return zlib.crc32(doc_id.encode("utf-8")) % shards


def first_chunk_id(shard: int) -> int:
    """Chunk ids of a shard start just after this number."""
    return shard << SHARD_ID_BITS


def shard_of_chunk(chunk_id: int) -> int:
    """The shard that holds a chunk id."""
    return int(chunk_id) >> SHARD_ID_BITS


def check_shard_count(shards: Any) -> int:
    """`shards` as a count of shards, or InputError."""
    if not isinstance(shards, int) or isinstance(shards, bool) or not 1 <= shards <= MAX_SHARDS:
        raise InputError(f"the number of shards must be a whole number from 1 to {MAX_SHARDS}, not {shards!r}")
    return shards


def is_sharded(gen: Path) -> bool:
    """True when the generation folder holds shards rather than one store."""
    return (gen / SHARDS_FILE).is_file()


@dataclass(frozen=True)
class ShardSet:
    """The top-level manifest of a sharded generation."""

    format_version: int
    shards: int
    routing: str
    built_at: str
    updated_at: str
    # Size and CRC-32 of each shard's manifest.json, which in turn checks that shard's data files.
    manifests: dict[str, dict[str, int]] = field(default_factory=dict)

    @classmethod
    def read(cls, gen: Path) -> ShardSet:
        path = gen / SHARDS_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            shard_set = cls(**{k: data[k] for k in cls.__dataclass_fields__})
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexCorruptError(f"{path} is unreadable ({exc}); rebuild the index with `qa index build`") from exc
        if shard_set.format_version != FORMAT_VERSION:
            raise IndexMismatchError(
                f"the index at {gen.parent} has format version {shard_set.format_version}, this version of qa "
                f"reads {FORMAT_VERSION}; rebuild it with `qa index build`"
            )
        if shard_set.routing != ROUTING or set(shard_set.manifests) != {shard_name(i) for i in range(shard_set.shards)}:
            raise IndexCorruptError(f"{path} does not describe its shards; rebuild the index with `qa index build`")
        return shard_set

    def verify(self, gen: Path) -> None:
        """IndexCorruptError naming the first shard whose manifest is missing or not the one recorded."""
        for name, want in sorted(self.manifests.items()):
            path = gen / name / MANIFEST
            if not path.is_file():
                raise IndexCorruptError(f"shard {name} of {gen} is missing ({path}); rebuild the index")
            if file_digest(path) != want:
                raise IndexCorruptError(
                    f"shard {name} of {gen} is damaged: its manifest is not the one published; rebuild the index"
                )


def write_shard_set(work: Path, shards: int, built_at: str | None = None) -> ShardSet:
    """Record the finished shards in `work` (a generation about to be published) in shards.json."""
    stamp = now_iso()
    manifests = {shard_name(i): file_digest(work / shard_name(i) / MANIFEST) for i in range(shards)}
    shard_set = ShardSet(FORMAT_VERSION, shards, ROUTING, built_at or stamp, stamp, manifests)
    path = work / SHARDS_FILE
    path.write_text(json.dumps(shard_set.__dict__, indent=2, sort_keys=True), encoding="utf-8")
    return shard_set


def shard_manifests(gen: Path) -> list[Manifest]:
    """The manifest of every shard of a sharded generation, in shard order."""
    shard_set = ShardSet.read(gen)
    return [Manifest.read(gen / shard_name(i) / MANIFEST) for i in range(shard_set.shards)]
