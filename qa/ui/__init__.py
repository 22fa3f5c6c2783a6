"""UI: the Gradio chat app (answers with highlighted citations, the article list, uploads); only the CLI
opens it. May import qa.errors, qa.records, qa.ingest, qa.store, qa.indexing and qa.index.
"""
