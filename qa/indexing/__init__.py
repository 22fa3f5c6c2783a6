"""Indexing: an index made from a corpus, in one folder or in shards, and documents added or removed.

May import qa.errors, qa.records, qa.progress, qa.encoders, qa.ingest and qa.store.
"""
