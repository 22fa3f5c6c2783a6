"""Joining a Ray cluster, and Ray's errors turned into ours."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from qa.errors import ClusterError, QAError

INSTALL_HINT = 'Ray is not installed: pip install -e ".[cluster]" (or pip install "ray[data]")'
QA_PACKAGE = Path(__file__).resolve().parents[1]


def import_ray():
    """The `ray` module, or ClusterError saying what to install."""
    try:
        import ray
    except ImportError:
        raise ClusterError(INSTALL_HINT) from None
    return ray


def connect(address: str):
    """Join the Ray cluster at `address` (`auto`, `local` to start one here, or host:port); the `ray` module.

    Workers run this process's own `qa` package (shipped with the job), so every node needs only the
    dependencies installed, and the index folder mounted at the same path."""
    ray = import_ray()
    if ray.is_initialized():  # this process already joined a cluster (the caller's own ray.init)
        return ray
    options: dict[str, Any] = {
        "runtime_env": {"py_modules": [str(QA_PACKAGE)], "env_vars": {"TOKENIZERS_PARALLELISM": "false"}},
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
