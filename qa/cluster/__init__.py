"""Cluster (the optional `cluster` extra): building shards and serving them on a Ray cluster.

May import qa.errors, qa.records, qa.progress, qa.encoders, qa.ingest, qa.store, qa.search and qa.indexing.
"""
