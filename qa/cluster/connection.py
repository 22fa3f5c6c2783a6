"""Joining a Ray cluster, and Ray's errors turned into ours."""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from qa.errors import ClusterError, QAError
from qa.progress import is_terminal

INSTALL_HINT = 'Ray is not installed: pip install -e ".[cluster]" (or pip install "ray[data]")'
QA_PACKAGE = Path(__file__).resolve().parents[1]
# Left out of the package shipped to the workers (patterns relative to it): the reader's weights
# (answers are read by the caller, never on a worker) and byte-code caches. 21 MB less to pack,
# upload and unpack on every node.
SHIPPED_EXCLUDES = ("models/", "__pycache__/", "*.pyc")
# Ray's token authentication: the mode setting, and where Ray reads this machine's token (in this order).
AUTH_MODE = "RAY_AUTH_MODE"
TOKEN_VARIABLE = "RAY_AUTH_TOKEN"
TOKEN_PATH_VARIABLE = "RAY_AUTH_TOKEN_PATH"
TOKEN_FILE = Path("~/.ray/auth_token")
TOKEN_HINT = (
    "copy the head's token (`ray get-auth-token` prints it on the head) to ~/.ray/auth_token on this machine, "
    f"or set {TOKEN_VARIABLE} to it"
)
# Seconds to wait for the cluster's address to accept a connection before saying nothing answers there.
REACH_SECONDS = 10.0


def import_ray():
    """The `ray` module, or ClusterError saying what to install."""
    try:
        import ray
    except ImportError:
        raise ClusterError(INSTALL_HINT) from None
    return ray


def token_source(env: Mapping[str, str] = os.environ) -> str | None:
    """Where Ray would read this machine's cluster token: RAY_AUTH_TOKEN, the file RAY_AUTH_TOKEN_PATH names, or
    ~/.ray/auth_token; None without one. ClusterError if RAY_AUTH_TOKEN_PATH names no token (Ray aborts then)."""
    if env.get(TOKEN_VARIABLE, "").strip():
        return TOKEN_VARIABLE
    named = env.get(TOKEN_PATH_VARIABLE)
    if named:
        path = Path(named).expanduser()
        if not _holds_token(path):
            raise ClusterError(f"{TOKEN_PATH_VARIABLE} names {path}, which holds no token; {TOKEN_HINT}")
        return str(path)
    path = TOKEN_FILE.expanduser()
    return str(path) if _holds_token(path) else None


def _holds_token(path: Path) -> bool:
    try:
        return bool(path.read_text(encoding="utf-8").strip())
    except (OSError, UnicodeDecodeError):
        return False


def use_token(ray) -> str | None:
    """Turn Ray's token authentication on for this process when the machine holds a token and RAY_AUTH_MODE is
    not set (as `ray start --head` does), so that a cluster started with tokens can be joined; the token's place."""
    source = token_source()
    if source is None or os.environ.get(AUTH_MODE):
        return source
    os.environ[AUTH_MODE] = "token"
    # Ray reads its settings once, at import: read them again so that this process sends the token too.
    ray._raylet.Config.initialize("")
    return source


def _check_reachable(address: str) -> None:
    """ClusterError when nothing accepts a connection at a host:port address (Ray would retry for a minute)."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        return  # not host:port; Ray says what is wrong with it
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=REACH_SECONDS).close()
    except OSError as exc:
        raise ClusterError(
            f"cannot join the Ray cluster at {address!r} (nothing answers there: {exc.strerror or exc}); "
            "start one with `ray start --head`, or use --ray local to start one on this machine"
        ) from None


def _check_token(ray, address: str, source: str | None) -> None:
    """ClusterError in one line when the cluster at `address` refuses this machine's token, or wants one it lacks."""
    if source is None and os.environ.get(AUTH_MODE, "").lower() == "token":
        raise ClusterError(f"{AUTH_MODE} is token and this machine has no token for {address!r}; {TOKEN_HINT}")
    refused = False
    saved = os.dup(2)
    try:
        # Ray's client logs each refusal on stderr as well; the error below says it in one line instead.
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            ray._raylet.GcsClient(address=address)
    except ray.exceptions.AuthenticationError:
        refused = True
    except Exception:  # noqa: BLE001 - anything else is for ray.init to report
        pass
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    if refused:
        raise ClusterError(_token_refused(address, source))


def _token_refused(address: str, source: str | None) -> str:
    if source is None:
        return f"the Ray cluster at {address!r} asks for a token and this machine has none; {TOKEN_HINT}"
    return f"the Ray cluster at {address!r} refused the token from {source}; {TOKEN_HINT}"


def _mentions_token(exc: BaseException | None) -> bool:
    """True when a Ray error, or one it was raised from, is a refused token."""
    while exc is not None:
        if "InvalidAuthToken" in str(exc) or type(exc).__name__ == "AuthenticationError":
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def connect(address: str):
    """Join the Ray cluster at `address` (`auto`, `local` to start one here, or host:port); the `ray` module.

    Workers run this process's own `qa` package (shipped with the job, without the reader's weights), so
    every node needs only the dependencies installed, and the index folder mounted at the same path. A
    cluster started with token authentication is joined with this machine's token (see `token_source`)."""
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
    if not is_terminal(sys.stderr):
        # Ray colours the prefixes of the worker lines it passes on; in a log the colour codes are noise.
        os.environ.setdefault("RAY_COLOR_PREFIX", "0")
    source = None
    try:
        if address == "local":
            ray.init(include_dashboard=False, **options)
        else:
            source = use_token(ray)
            if address != "auto":
                _check_reachable(address)
                _check_token(ray, address, source)
            ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError, ray.exceptions.RayError) as exc:
        if _mentions_token(exc):
            raise ClusterError(_token_refused(address, source)) from None
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
