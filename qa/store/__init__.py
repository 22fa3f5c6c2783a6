"""Store: index generations on disk (documents, chunks, vectors, the lexical matrix), published atomically,
and the layout of sharded generations.

May import qa.errors, qa.records and qa.ingest (sentence and word splitting).
"""
