"""Errors a user can act on. The CLI prints their message and exits non-zero, without a traceback."""

from __future__ import annotations


class QAError(Exception):
    """Base of every error this package raises on purpose."""

    exit_code = 1


class InputError(QAError):
    """A question, filter or argument that cannot be used as given."""

    exit_code = 2


class CorpusError(QAError):
    """Corpus paths that are missing or hold no readable article."""


class IndexNotFoundError(QAError):
    """No index at the given folder."""


class IndexMismatchError(QAError):
    """The index was built with another model or format version."""


class IndexCorruptError(QAError):
    """An index file is truncated, damaged or inconsistent with the others."""


class IndexBusyError(QAError):
    """Another process is writing to the index."""


class ModelError(QAError):
    """An embedding model or tokenizer that cannot be loaded offline."""


class ClusterError(QAError):
    """Ray is not installed, the cluster cannot be reached, or a job on it failed."""
