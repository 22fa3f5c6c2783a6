"""Joining a cluster: where this machine's token is found, and one line when a cluster cannot be joined."""

import socket
import time

import pytest

from qa.cluster.connection import TOKEN_HINT, connect, token_source
from qa.errors import ClusterError


def test_the_token_is_found_where_ray_looks_for_it_in_ray_s_order(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert token_source({}) is None
    (tmp_path / ".ray").mkdir()
    (tmp_path / ".ray" / "auth_token").write_text("  \n")
    assert token_source({}) is None, "an empty file holds no token"
    (tmp_path / ".ray" / "auth_token").write_text("abc\n")
    assert token_source({}) == str(tmp_path / ".ray" / "auth_token")
    named = tmp_path / "token"
    named.write_text("def")
    assert token_source({"RAY_AUTH_TOKEN_PATH": str(named)}) == str(named)
    assert token_source({"RAY_AUTH_TOKEN": "ghi", "RAY_AUTH_TOKEN_PATH": str(named)}) == "RAY_AUTH_TOKEN"


def test_a_token_path_naming_no_token_is_one_line_saying_so(tmp_path):
    # Ray itself stops the process with a crash report in this case.
    with pytest.raises(ClusterError, match=f"RAY_AUTH_TOKEN_PATH names {tmp_path / 'gone'}, which holds no token"):
        token_source({"RAY_AUTH_TOKEN_PATH": str(tmp_path / "gone")})
    assert "ray get-auth-token" in TOKEN_HINT and "~/.ray/auth_token" in TOKEN_HINT


def test_an_address_where_nothing_answers_is_reported_at_once(tmp_path, monkeypatch):
    ray = pytest.importorskip("ray", reason='Ray is not installed: pip install -e ".[cluster]"')
    ray.shutdown()  # a cluster joined by an earlier test would be used as it is
    # Settings connect() may change, restored after the test: no token here, so no RAY_AUTH_MODE either.
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("RAY_COLOR_PREFIX", "0")
    for name in ("RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
        monkeypatch.delenv(name, raising=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connections are refused
        start = time.monotonic()
        with pytest.raises(ClusterError, match=f"cannot join the Ray cluster at '127.0.0.1:{port}' .nothing answers"):
            connect(f"127.0.0.1:{port}")
    assert time.monotonic() - start < 10, "Ray alone would retry for a minute"
