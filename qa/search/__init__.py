"""Search: hybrid retrieval (dense + BM25, fused) over one store or over the shards of a generation.

May import qa.errors, qa.records, qa.ingest and qa.store.
"""
