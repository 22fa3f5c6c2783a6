"""Answer: the extractive reader and its model, follow-up questions, and answers with cited spans.

May import qa.errors, qa.records, qa.encoders (model folders and cache), qa.ingest, qa.store and qa.search.
"""
