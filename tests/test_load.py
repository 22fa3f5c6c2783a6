"""The web app under load: 20 concurrent API clients over loopback, zero errors, the same answers as asked alone.

Small numbers here; `python bench/soak.py` runs 20 clients x 500 questions and prints the latency figures.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT
from test_reliability import NEW_ARTICLES, assert_nothing_lost, quote_of, write_corpus

pytest.importorskip("gradio_client")

spec = importlib.util.spec_from_file_location("soak", ROOT / "bench" / "soak.py")
soak = importlib.util.module_from_spec(spec)
spec.loader.exec_module(soak)


@pytest.fixture(scope="module")
def app(default_index_dir, tmp_path_factory):
    """The real web app serving a private copy of the default index."""
    root = tmp_path_factory.mktemp("load")
    index = root / "index"
    shutil.copytree(default_index_dir, index)
    demo, url = soak.start_app(index, root / "uploads")
    yield {"url": url, "index": index, "root": root}
    demo.close()


def test_twenty_clients_get_the_answers_asked_alone(app, capsys):
    questions = soak.load_questions(soak.DEFAULT_QUESTIONS)
    result = soak.run_load(app["url"], questions, clients=20, total=60)
    with capsys.disabled():
        print("\n" + soak.format_report(result))
    assert result["errors"] == 0, result["error_examples"]
    assert result["mismatches"] == 0, result["mismatch_examples"]
    assert result["answered"] == 60
    assert result["p50_ms"] <= result["p95_ms"] <= result["p99_ms"]


def test_load_during_an_add_loses_nothing(app):
    """Clients keep getting answers while another process adds articles; afterwards the API finds them."""
    from gradio_client import Client

    additions = write_corpus(app["root"] / "additions", NEW_ARTICLES)
    writer = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "-q", "index", "add", str(additions), "--index", str(app["index"])],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    questions = soak.load_questions(soak.DEFAULT_QUESTIONS)
    result = soak.run_load(app["url"], questions, clients=8, total=24)
    out, err = writer.communicate(timeout=300)
    assert writer.returncode == 0, err
    assert result["errors"] == 0, result["error_examples"]
    client = Client(app["url"], verbose=False)
    for name, text in NEW_ARTICLES.items():
        assert client.predict(quote_of(text), 3, api_name="/retrieve")[0]["doc_id"] == name
    assert_nothing_lost(app["index"])


def test_soak_script_runs(app):
    proc = subprocess.run(
        [sys.executable, "bench/soak.py", "--url", app["url"], "--clients", "3", "--questions", "6"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "p50" in proc.stdout and "p99" in proc.stdout and "0 errors" in proc.stdout
