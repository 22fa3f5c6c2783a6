"""Shard routing: documents and chunks name their shard the same way on every process and node."""

import zlib

from qa.store.shards import first_chunk_id, shard_of, shard_of_chunk


def test_routing_is_a_stable_hash_of_the_id():
    # CRC-32 is fixed by its standard, unlike Python's salted hash(): every process and node agrees.
    assert shard_of("Normans/0", 4) == zlib.crc32(b"Normans/0") % 4 == 3
    counts = [0] * 4
    for i in range(400):
        counts[shard_of(f"doc-{i}.txt", 4)] += 1
    assert min(counts) > 60, counts
    assert shard_of_chunk(first_chunk_id(3) + 17) == 3 and shard_of_chunk(17) == 0
