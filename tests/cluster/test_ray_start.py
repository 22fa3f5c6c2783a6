"""A cluster started as the README says, with the `ray` command: token authentication on, a head and a worker
node on 127.0.0.1, and `qa` joining it with this machine's token, without RAY_AUTH_MODE set.

Every Ray process the test starts is stopped by its process id: `ray stop` would stop every Ray on the machine."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import ROOT

from qa.encoders.models import cache_root
from qa.indexing.shard_build import build_sharded_index
from qa.store.generations import CURRENT

pytestmark = pytest.mark.cluster
pytest.importorskip("ray", reason='Ray is not installed: pip install -e ".[cluster]"')

# The `ray` command of the Ray this Python imports (installed beside it), else the one on PATH.
RAY = Path(sys.executable).with_name("ray")
if not RAY.is_file():
    RAY = Path(shutil.which("ray") or RAY)
# Ray settings of the environment this test runs in, which must not reach the processes it starts.
RAY_VARIABLES = ("RAY_ADDRESS", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH")
TOPICS = "harbour railway vaccine election drought museum satellite strike orchard bridge festival tariff".split()
DOCUMENTS = 160
STARTED = "Ray runtime started"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in RAY_VARIABLES}
    return {**env, "PYTHONPATH": str(ROOT), "GRADIO_ANALYTICS_ENABLED": "False", **extra}


def write_corpus(path: Path, n: int) -> Path:
    """`n` articles of a dozen sentences each, about three chunks each."""
    with path.open("w") as f:
        for i in range(n):
            sentences = [
                f"Officials in district {i} spoke about the {TOPICS[(i + j) % 12]} on day {j}. "
                f"The {TOPICS[(i * j) % 12]} was discussed by {i + j} residents of the {TOPICS[j % 12]} quarter."
                for j in range(12)
            ]
            record = {
                "id": f"news-{i:03d}",
                "title": f"District {i} and the {TOPICS[i % 12]}",
                "text": " ".join(sentences),
            }
            f.write(json.dumps(record) + "\n")
    return path


def children(pid: int) -> list[int]:
    """The process ids whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        kids = children(todo.pop())
        out += kids
        todo += kids
    return out


def command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class Node:
    """`ray start --block` in a temp dir of its own; stopped by signalling it (it stops its processes), then by
    killing by id what it left behind."""

    def __init__(self, args: list[str], env: dict[str, str], root: Path, name: str) -> None:
        self.temp = Path(tempfile.mkdtemp(prefix=f"qa-{name}-", dir="/tmp"))  # short: Ray's socket paths are limited
        self.log = root / f"{name}.log"
        ports = ("--dashboard-agent-listen-port", "--dashboard-agent-grpc-port", "--metrics-export-port")
        ports += ("--runtime-env-agent-port",)
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [str(RAY), "start", *args, "--temp-dir", str(self.temp), "--num-cpus", "1", "--disable-usage-stats"]
                + [x for flag in ports for x in (flag, str(free_port()))]
                + ["--block"],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )

    def wait_started(self, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while STARTED not in self.log.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"`ray start` did not start a node:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.5)

    def raylet(self) -> int:
        (pid,) = [p for p in children(self.proc.pid) if "/raylet/raylet " in command_line(p)]
        return pid

    def stop(self) -> None:
        left = descendants(self.proc.pid)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.temp, ignore_errors=True)


@pytest.fixture()
def token_cluster(tmp_path):
    """A head and a worker node started with `ray start`, one core each, token authentication on; its address
    and token."""
    token = secrets.token_hex(32)
    token_file = tmp_path / "auth_token"
    token_file.write_text(token)
    # What the README asks of every node: the token in its place (here a file of the test's own, not the
    # user's ~/.ray/auth_token) and RAY_AUTH_MODE=token.
    env = clean_env(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(token_file))
    port = free_port()
    address = f"127.0.0.1:{port}"
    nodes = [Node(["--head", "--port", str(port), "--include-dashboard", "false"], env, tmp_path, "head")]
    try:
        nodes[0].wait_started()
        nodes.append(Node(["--address", address], env, tmp_path, "worker"))
        nodes[1].wait_started()
        yield address, token, nodes[1]
    finally:
        for node in reversed(nodes):
            node.stop()


def qa(*args: str, env: dict[str, str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, **kw
    )


def error_line(proc: subprocess.CompletedProcess) -> str:
    """The one line a failed command printed, checked to be one line without a traceback."""
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 1 and len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return lines[0]


def test_a_token_cluster_started_with_ray_start_builds_and_serves(token_cluster, tmp_path):
    address, token, worker = token_cluster
    home = tmp_path / "home"
    (home / ".ray").mkdir(parents=True)
    (home / ".ray" / "auth_token").write_text(token)
    # The token in Ray's usual file of the user running qa (the test's own home; the caches stay where they are).
    with_file = clean_env(HOME=str(home), QA_CACHE_DIR=str(cache_root()))
    corpus = write_corpus(tmp_path / "news.jsonl", DOCUMENTS)
    small = write_corpus(tmp_path / "small.jsonl", 4)
    ix = tmp_path / "ix"

    # Without the token, or with another, one line says which token and how to bring the right one.
    for env, said in (
        (clean_env(HOME=str(tmp_path), QA_CACHE_DIR=str(cache_root())), "this machine has none"),
        (clean_env(RAY_AUTH_TOKEN="not-the-token"), "refused the token from RAY_AUTH_TOKEN"),
    ):
        line = error_line(qa("index", "build", str(small), "--index", str(ix), "--ray", address, env=env))
        assert said in line and "ray get-auth-token" in line and "~/.ray/auth_token" in line, line
    assert not ix.exists()

    build_sharded_index([small], ix, shards=2, workers=1)
    live = (ix / CURRENT).read_text()
    log = tmp_path / "build.log"
    with log.open("w") as err:
        build = subprocess.Popen(
            [sys.executable, "-m", "qa.cli", "index", "build", str(corpus), "--index", str(ix), "--ray", address]
            + ["--shards", "2"],
            cwd=ROOT,
            env=with_file,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
        # The worker's raylet is killed once the first embedded documents reached the shared folder.
        deadline = time.monotonic() + 240
        while not any(ix.glob("tmp-*/parts/*/*.pkl")) and build.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert build.poll() is None, f"the build ended before the node could be lost:\n{log.read_text()[-3000:]}"
        os.kill(worker.raylet(), signal.SIGKILL)
        out, _ = build.communicate(timeout=300)
    text = log.read_bytes().decode()
    assert "\r" not in text and "\x1b[" not in text, text[-3000:]  # no bar redrawn, no colour codes
    assert "documents embedded across the cluster: " in text, text[-3000:]
    errors = [line for line in text.splitlines() if line.startswith("qa: error:")]
    if build.returncode == 0:  # the lost work was done again on the head: the new index is whole
        assert f": {DOCUMENTS} documents," in out and not errors, out
    else:  # failing is allowed, in one line, with the live index as it was
        assert len(errors) == 1 and "unchanged" in errors[0] and "Traceback" not in text, text[-3000:]
        assert (ix / CURRENT).read_text() == live
    assert not list(ix.glob("tmp-*")), "the work folder is cleaned up"

    # Served from the cluster's actors, with the token in RAY_AUTH_TOKEN this time.
    pytest.importorskip("gradio_client")
    from gradio_client import Client

    port = free_port()
    serve_log = tmp_path / "serve.log"
    with serve_log.open("w") as out_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "qa.cli", "serve", "--index", str(ix), "--ray", address, "--port", str(port)],
            cwd=ROOT,
            env=clean_env(RAY_AUTH_TOKEN=token),
            stdout=out_file,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 180
        while "serving" not in serve_log.read_text():
            assert server.poll() is None and time.monotonic() < deadline, serve_log.read_text()[-3000:]
            time.sleep(0.3)
        passages = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(
            "What did district 3 discuss about the harbour?", 3, api_name="/retrieve"
        )
        assert len(passages) == 3 and all(p["doc_id"].startswith("news-") for p in passages), passages
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
