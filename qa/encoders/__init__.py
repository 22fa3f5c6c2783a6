"""Encoders: the sentence-embedding model, found offline and run in ONNX Runtime, that turns text into vectors.

May import qa.errors and qa.progress.
"""
