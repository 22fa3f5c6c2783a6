"""Errors a user can act on. The CLI prints their message and exits non-zero, without a traceback."""

from __future__ import annotations

import errno


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


class AccessError(QAError):
    """A file or folder that is of the wrong kind, or cannot be read or written."""


class IndexWriteError(QAError):
    """A build or update that could not be written (a full disk, no permission); the live index is unchanged."""


# What to do about the usual reasons a file operation fails.
_OS_ERROR_HINTS = {
    errno.EACCES: "check its permissions",
    errno.EPERM: "check its permissions",
    errno.EROFS: "the file system is read-only",
    errno.ENOSPC: "the disk is full; free some space",
    errno.EDQUOT: "the disk quota is used up; free some space",
    errno.EFBIG: "a full disk or a file-size limit; free some space",
    errno.ENOTDIR: "a file stands where a folder is needed",
    errno.EISDIR: "a folder stands where a file is needed",
    errno.ENOENT: "it does not exist",
}


def describe_os_error(exc: OSError) -> str:
    """One line for a failed file operation: the path, the system's reason and, for the usual causes, what to do."""
    where = f"{exc.filename}: " if exc.filename else ""
    reason = (exc.strerror or str(exc) or type(exc).__name__).rstrip(".")
    hint = _OS_ERROR_HINTS.get(exc.errno)
    if not exc.filename and exc.errno in (errno.EACCES, errno.EPERM, errno.ENOENT):
        hint = None  # without a path, "it" would name nothing
    return f"{where}{reason[:1].lower()}{reason[1:]}" + (f" ({hint})" if hint else "")


class ClusterError(QAError):
    """Ray is not installed, the cluster cannot be reached, or a job on it failed."""
