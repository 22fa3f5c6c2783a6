"""Ingest: articles in (files, folders, feeds, PDFs, web pages) as Documents, and Documents cut into chunks.

May import qa.errors, qa.records and qa.encoders (the tokenizer that counts a chunk's tokens).
"""
