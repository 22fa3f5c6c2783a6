"""Joining a Ray cluster, and Ray's errors turned into ours."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from qa.errors import ClusterError, QAError

INSTALL_HINT = 'Ray is not installed: pip install -e ".[cluster]" (or pip install "ray[data]")'
QA_PACKAGE = Path(__file__).resolve().parents[1]
# Left out of the package shipped to the workers (patterns relative to it): the reader's weights
# (answers are read by the caller, never on a worker) and byte-code caches. 21 MB less to pack,
# upload and unpack on every node.
SHIPPED_EXCLUDES = ("models/", "__pycache__/", "*.pyc")


def import_ray():
    """The `ray` module, or ClusterError saying what to install."""
    try:
        import ray
    except ImportError:
        raise ClusterError(INSTALL_HINT) from None
    return ray


def connect(address: str):
    """Join the Ray cluster at `address` (`auto`, `local` to start one here, or host:port); the `ray` module.

    Workers run this process's own `qa` package (shipped with the job, without the reader's weights), so
    every node needs only the dependencies installed, and the index folder mounted at the same path."""
    ray = import_ray()
    if ray.is_initialized():  # this process already joined a cluster (the caller's own ray.init)
        return ray
    options: dict[str, Any] = {
        "runtime_env": {
            "py_modules": [str(QA_PACKAGE)],
            "excludes": list(SHIPPED_EXCLUDES),
            # Ray starts its workers 15 levels nicer than the node's own processes; the embedding is
            # done in the workers, so on a busy node they would get a fraction of what an in-process
            # build gets. At 0 they run at the niceness the node's Ray was started with.
            "env_vars": {"TOKENIZERS_PARALLELISM": "false", "RAY_worker_niceness": "0"},
        },
        "logging_level": logging.WARNING,
        "log_to_driver": True,
    }
    try:
        if address == "local":
            ray.init(include_dashboard=False, **options)
        else:
            ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise ClusterError(
            f"cannot join the Ray cluster at {address!r} ({first}); start one with `ray start --head`, "
            "or use --ray local to start one on this machine"
        ) from exc
    return ray


def task_error(exc: BaseException) -> BaseException:
    """The error a Ray task raised, unwrapped from Ray's wrapper when it is one of ours."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, QAError) else exc
