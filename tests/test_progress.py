"""Progress on stderr: tqdm's live bar on a terminal, whole lines now and then in a log."""

from __future__ import annotations

import fcntl
import io
import os
import struct
import subprocess
import sys
import termios

import pytest
from conftest import ROOT

from qa.progress import LineProgress, progress_bar


def test_off_a_terminal_a_run_writes_one_plain_line_at_the_end():
    log = io.StringIO()
    seen = list(progress_bar(range(500), desc="asking", unit="q", file=log))
    assert seen == list(range(500))
    text = log.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert len(lines) == 1 and lines[0].startswith("asking: 500/500 (100%) q in "), lines


def test_a_long_run_adds_a_line_each_interval_and_one_at_the_end():
    log = io.StringIO()
    with LineProgress(total=3, desc="embedding chunks", unit="chunk", file=log, every=0.0) as bar:
        for _ in range(3):
            bar.update(1)
    lines = log.getvalue().splitlines()
    assert [line.split(" in ")[0] for line in lines] == [
        "embedding chunks: 1/3 (33%) chunk",
        "embedding chunks: 2/3 (67%) chunk",
        "embedding chunks: 3/3 (100%) chunk",
        "embedding chunks: 3/3 (100%) chunk",
    ]
    bar.close()
    assert len(log.getvalue().splitlines()) == 4, "closing twice prints the last line once"


def test_on_a_terminal_it_is_the_live_bar():
    from tqdm import tqdm

    leader, follower = os.openpty()
    # A terminal of 0 columns would leave no room for the bar.
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    with os.fdopen(follower, "w") as tty:
        bar = progress_bar(total=5, desc="asking", unit="q", file=tty)
        assert isinstance(bar, tqdm)
        bar.update(5)
        bar.close()
    written = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal's other end is closed: all is read
            break
        if not chunk:
            break
        written += chunk
    os.close(leader)
    # The terminal turns "\n" into "\r\n"; the bar's own redraws are the other carriage returns.
    assert "\r" in written.decode().replace("\r\n", "\n") and "5/5" in written.decode()


def test_disabled_writes_nothing():
    log = io.StringIO()
    assert list(progress_bar([1, 2], desc="asking", enabled=False, file=log)) == [1, 2]
    assert log.getvalue() == ""


def test_figures_set_after_the_count_end_each_line():
    log = io.StringIO()
    with LineProgress(desc="documents embedded", unit="doc", file=log, every=0.0) as bar:
        bar.update(2)
        bar.set_postfix(chunks=7)
        bar.update(1)
    first, second, last = log.getvalue().splitlines()
    assert first.startswith("documents embedded: 2 doc in ") and "chunks" not in first
    assert second.startswith("documents embedded: 3 doc in ") and second.endswith(" doc/s, chunks=7")
    assert last.startswith("documents embedded: 3 doc in ") and last.endswith(", chunks=7")


@pytest.mark.parametrize(
    "layout, line",
    [
        ([], "embedding chunks: 1/1 (100%) chunk in "),
        (["--shards", "2"], "embedding chunks (2 shards, "),
    ],
)
def test_a_build_logged_to_a_file_has_lines_not_carriage_returns(tmp_path, layout, line):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Ferry resumes\n\nThe ferry to Lisk resumed on Monday after the storm.")
    with (tmp_path / "log").open("w") as log:
        proc = subprocess.run(
            [sys.executable, "-m", "qa.cli", "index", "build", str(corpus), "--index", str(tmp_path / "ix"), *layout],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            timeout=300,
        )
    assert proc.returncode == 0
    text = (tmp_path / "log").read_bytes().decode()  # read_text would turn carriage returns into newlines
    assert "\r" not in text
    assert line in text, text
