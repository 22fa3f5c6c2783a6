"""The `qa` command as a user runs it: real processes, real exit codes, no tracebacks."""

import json
import os
import re
import subprocess
import sys

import pytest
from conftest import CORPUS, ROOT, STORY_QUESTION, write_story_corpus


def run(*args, input=None, check=False):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "qa.cli", *args],
        cwd=ROOT,
        input=input,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_help_explains_every_command():
    out = run("--help", check=True).stdout
    for word in ("index", "ask", "eval", "serve"):
        assert word in out
    assert "--model" in run("index", "build", "--help", check=True).stdout


def test_build_stats_and_passages(tmp_path):
    ix = str(tmp_path / "ix")
    build = run("index", "build", str(CORPUS), "--index", ix, check=True)
    assert "1 documents" in build.stdout
    assert "embedding" in build.stderr, "a progress bar is shown while embedding"
    stats = json.loads(run("index", "stats", "--index", ix, "--json", check=True).stdout)
    assert stats["documents"] == 1 and stats["chunks"] >= 5
    assert stats["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert stats["encoder"] == "onnx-int8"
    text = run("index", "stats", "--index", ix, "--documents", check=True).stdout
    assert "000_670c52a8f442eec9.txt" in text
    out = run("ask", "--passages", "who proposed the 3+3 format?", "--index", ix, "-k", "2", "--json", check=True)
    passages = json.loads(out.stdout)["passages"]
    assert "3+3" in passages[0]["text"]


def test_build_with_the_torch_encoder_records_it(tmp_path):
    ix = str(tmp_path / "ix")
    run("index", "build", str(CORPUS), "--index", ix, "--encoder", "torch", check=True)
    stats = json.loads(run("index", "stats", "--index", ix, "--json", check=True).stdout)
    assert stats["encoder"] == "torch"
    out = run("ask", "--passages", "who proposed the 3+3 format?", "--index", ix, "-k", "1", "--json", check=True)
    assert "3+3" in json.loads(out.stdout)["passages"][0]["text"]


@pytest.mark.parametrize(
    "args,message",
    [
        (("index", "stats", "--index", "/nonexistent/ix"), "no index at"),
        (("index", "build", "/nonexistent/corpus", "--index", "/tmp/unused-ix"), "corpus path not found"),
        (("ask", "Iran?", "--index", "/nonexistent/ix"), "no index at"),
        (("index", "build", "corpus", "--model", "/nonexistent/model", "--index", "/tmp/unused-ix"), "model not found"),
        (("index", "frobnicate"), "invalid choice"),
    ],
)
def test_user_mistakes_print_one_line_and_fail(args, message):
    proc = run(*args)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_empty_corpus_folder(tmp_path):
    (tmp_path / "c").mkdir()
    proc = run("index", "build", str(tmp_path / "c"), "--index", str(tmp_path / "ix"))
    assert proc.returncode == 1 and "no readable articles" in proc.stderr and "Traceback" not in proc.stderr


def test_add_and_remove(tmp_path):
    ix = str(tmp_path / "ix")
    run("-q", "index", "build", str(CORPUS), "--index", ix, check=True)
    art = tmp_path / "bridge.txt"
    art.write_text("Bridge opens\n\nThe mayor of Springfield opened the Blue River bridge on Friday.")
    out = run("-q", "index", "add", str(art), "--index", ix, check=True).stdout
    assert "2 documents" in out and "1 added" in out
    out = run("index", "remove", "bridge.txt", "--index", ix, check=True).stdout
    assert "1 documents" in out and "1 removed" in out
    proc = run("index", "remove", "bridge.txt", "--index", ix)
    assert proc.returncode != 0 and "not in the index" in proc.stderr


def test_sharded_build_stats_add_remove(tmp_path):
    ix = str(tmp_path / "ix")
    build = run("index", "build", str(CORPUS), "--index", ix, "--shards", "3", check=True)
    assert "1 documents" in build.stdout and "embedding" in build.stderr
    stats = json.loads(run("index", "stats", "--index", ix, "--json", check=True).stdout)
    assert stats["shards"] == 3 and stats["documents"] == 1 and stats["faiss_index"].startswith("3 shards")
    assert sorted(stats["shard_documents"]) == [0, 0, 1]
    assert "shards     3 ([" in run("index", "stats", "--index", ix, check=True).stdout
    art = tmp_path / "bridge.txt"
    art.write_text("Bridge opens\n\nThe mayor of Springfield opened the Blue River bridge on Friday.")
    out = run("-q", "index", "add", str(art), "--index", ix, check=True).stdout
    assert "2 documents" in out and "1 added" in out
    out = run("ask", "--passages", "Who opened the Blue River bridge?", "--index", ix, "-k", "1", "--json", check=True)
    assert json.loads(out.stdout)["passages"][0]["doc_id"] == "bridge.txt"
    assert "1 removed" in run("index", "remove", "bridge.txt", "--index", ix, check=True).stdout
    assert "resharded" in run("-q", "index", "reshard", "--shards", "1", "--index", ix, check=True).stdout
    assert json.loads(run("index", "stats", "--index", ix, "--json", check=True).stdout)["shards"] == 1
    proc = run("index", "build", str(CORPUS), "--index", ix, "--shards", "0")
    assert proc.returncode != 0 and len(proc.stderr.strip().splitlines()) == 1 and "shards" in proc.stderr


def test_ray_without_ray_installed_says_what_to_install(tmp_path):
    # A module named ray that fails to import stands for a machine without Ray.
    fake = tmp_path / "noray"
    (fake / "ray").mkdir(parents=True)
    (fake / "ray" / "__init__.py").write_text("raise ImportError('No module named ray')\n")
    env = {**os.environ, "PYTHONPATH": f"{fake}{os.pathsep}{ROOT}"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "qa.cli",
            "index",
            "build",
            str(CORPUS),
            "--index",
            str(tmp_path / "ix"),
            "--ray",
            "auto",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr
    assert 'pip install -e ".[cluster]"' in lines[0]


@pytest.fixture(scope="module")
def built_index(tmp_path_factory):
    ix = str(tmp_path_factory.mktemp("ask") / "ix")
    run("-q", "index", "build", str(CORPUS), "--index", ix, check=True)
    return ix


def test_ask_prints_answer_and_numbered_citations(built_index):
    out = run("ask", "Who joined the talks via video conference?", "--index", built_index, check=True).stdout
    lines = out.splitlines()
    assert "Vladimir Putin" in lines[0] and "(confidence" in lines[0]
    # Title — author, site (only the site when the article names no author), then the date.
    assert lines[1].startswith("[1] Iran, Russia Finalizing Strategic Partnership Deal — kayhan.ir (2021-10-11)")
    assert "Vladimir Putin" in lines[2]


def test_ask_json_lines_from_stdin_with_follow_ups_and_abstention(built_index):
    questions = (
        "Which country concluded a strategic partnership with Iran early this year?\n\nWhat is the population of Armenia?\n"
        "Who is Iran's foreign minister?\nWhere did he travel?\n"
    )
    out = run("ask", "--index", built_index, "--json", input=questions, check=True).stdout
    china, population, minister, travel = [json.loads(line) for line in out.splitlines()]
    assert china["answer"] == "China" and not china["abstained"]
    assert "mirroring one concluded early this year with China" in china["citations"][0]["quote"]
    assert china["answer_span"]["quote"] == "China"
    assert china["passages"] and 0 <= china["confidence"] <= 1
    assert population["abstained"] and population["answer"] is None and population["passages"]
    assert minister["answer"] == "Hussein Amir-Abdollahian"
    assert travel["answer"] == "Moscow", "the follow-up is resolved from the previous question"


def test_ask_says_how_it_read_a_question_typed_with_a_slip(built_index):
    out = run("ask", "Who proposed the 3+3 dicsussions?", "--index", built_index, check=True).stdout
    lines = out.splitlines()
    assert lines[0] == "Read as: Who proposed the 3+3 discussions?"
    assert "Lavrov" in lines[1]
    plain = run("ask", "Who proposed the 3+3 discussions?", "--index", built_index, check=True).stdout
    assert "Read as" not in plain and plain.splitlines()[0] == lines[1]


def test_ask_abstains_in_words(built_index, reader_with_thresholds):
    """With no candidate worth showing (the reader shows none below the answering threshold), it says so."""
    never = str(reader_with_thresholds(0.999, 1.0))
    question = "Who joined the talks via video conference?"
    out = run("ask", "--index", built_index, "--reader", never, input=question + "\n", check=True).stdout
    assert "I don't know" in out and "Not sure" not in out
    data = json.loads(run("ask", question, "--index", built_index, "--reader", never, "--json", check=True).stdout)
    assert data["abstained"] and data["answer"] is None and data["best_guess"] is None


def test_ask_shows_a_candidate_it_is_not_sure_of_as_such(built_index, reader_with_thresholds):
    from qa.index import load_index

    unsure = str(reader_with_thresholds(0.999, 0.0))
    question = "Who joined the talks via video conference?"
    data = json.loads(run("ask", question, "--index", built_index, "--reader", unsure, "--json", check=True).stdout)
    assert data["abstained"] and data["answer"] is None and data["citations"] == [] and data["answer_span"] is None
    guess = data["best_guess"]
    assert "Vladimir Putin" in guess["text"] and guess["confidence"] == data["confidence"] < 0.999
    idx = load_index(built_index)
    for cited in (guess["answer_span"], *guess["citations"]):
        assert idx.document(cited["doc_id"]).text[cited["start"] : cited["end"]] == cited["quote"]
    lines = run("ask", question, "--index", built_index, "--reader", unsure, check=True).stdout.splitlines()
    assert lines[0].startswith(f"Not sure — perhaps {guess['text']}  (confidence 0.")
    assert lines[1].startswith("[1] Iran, Russia Finalizing Strategic Partnership Deal — kayhan.ir (2021-10-11)")
    assert lines[2].strip() == f"“{' '.join(guess['citations'][0]['quote'].split())}”"
    assert not any("I don't know" in line for line in lines)


def test_ask_empty_question_is_a_user_error(built_index):
    proc = run("ask", "   ", "--index", built_index)
    assert proc.returncode != 0 and "empty" in proc.stderr and "Traceback" not in proc.stderr


def test_ask_with_a_reader_folder(built_index, tmp_path):
    from qa.answer.reader_model import assemble_shipped

    hf = assemble_shipped(tmp_path / "reader")
    out = run("ask", "Who joined the talks via video conference?", "--index", built_index, "--reader", str(hf))
    assert out.returncode == 0, out.stderr
    assert "Vladimir Putin" in out.stdout.splitlines()[0]


@pytest.mark.parametrize("make", ["missing", "embedding model", "file"])
def test_ask_with_a_folder_that_is_not_a_reader(built_index, tmp_path, make):
    from qa.encoders.models import bundled_model_path

    target = {
        "missing": tmp_path / "nothing",
        "embedding model": bundled_model_path(),
        "file": tmp_path / "f.txt",
    }[make]
    if make == "file":
        target.write_text("x")
    proc = run("ask", "Who?", "--index", built_index, "--reader", str(target))
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "reader" in proc.stderr


@pytest.fixture()
def page_server():
    """The saved pages of tests/data/pages served over HTTP on 127.0.0.1, plus a PDF route."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(ROOT / "tests" / "data" / "pages"))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_add_url_then_cite_author_and_filter_by_it(tmp_path, page_server):
    ix = str(tmp_path / "ix")
    run("index", "build", str(CORPUS), "--index", ix, check=True)
    url = f"{page_server}/harbour-strike.html"
    added = run("index", "add", url, "--index", ix, check=True)
    assert "(1 added, 0 updated, 0 unchanged, 0 removed)" in added.stdout
    out = json.loads(run("ask", "Who is the union secretary?", "--index", ix, "--json", check=True).stdout)
    assert out["answer"] == "Marta Olsen"
    [cite, *_] = out["citations"]
    assert (cite["doc_id"], cite["author"], cite["source"]) == (url, "Jane Doe", "Harbour Times")
    assert cite["page"] is None
    text = run("ask", "Who is the union secretary?", "--index", ix, check=True).stdout
    assert "[1] Vellmar dock strike ends with 6.5% pay deal — Jane Doe, Harbour Times (2024-03-05)" in text
    # The author and site filters leave out the article they don't match.
    only = run("ask", "--passages", "union pay strike", "--index", ix, "--json", "--author", "Jane Doe", check=True)
    assert {p["doc_id"] for p in json.loads(only.stdout)["passages"]} == {url}
    none = run("ask", "--passages", "union pay strike", "--index", ix, "--json", "--site", "kayhan.ir", check=True)
    assert url not in {p["doc_id"] for p in json.loads(none.stdout)["passages"]}


def test_add_url_that_fails_says_why_in_one_line(tmp_path, page_server):
    ix = str(tmp_path / "ix")
    run("index", "build", str(CORPUS), "--index", ix, check=True)
    proc = run("index", "add", f"{page_server}/no-such-page.html", "--index", ix)
    assert proc.returncode != 0
    [line] = [ln for ln in proc.stderr.splitlines() if ln.startswith("qa: error")]
    assert "the server answered HTTP 404" in line
    assert "Traceback" not in proc.stderr


def test_build_warns_when_a_page_falls_back_to_all_visible_text(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "notice.html").write_text(
        "<html><body><footer><p>The office is closed on Monday for the bank holiday.</p></footer></body></html>"
    )
    (corpus / "locked.pdf").write_bytes(b"%PDF-1.7 truncated")
    proc = run("-q", "index", "build", str(corpus), "--index", str(tmp_path / "ix"), check=True)
    assert "1 documents" in proc.stdout
    assert f"warning {corpus / 'notice.html'}: no article found by the extractor; all visible text kept" in proc.stderr
    assert f"skipped {corpus / 'locked.pdf'}: broken PDF" in proc.stderr


@pytest.fixture(scope="module")
def story_index(tmp_path_factory):
    """One story on three dates, its toll rising: 54, then 1,124, then 1,217 (conftest's STORY)."""
    folder = tmp_path_factory.mktemp("story")
    run("-q", "index", "build", str(write_story_corpus(folder)), "--index", str(folder / "ix"), check=True)
    return str(folder / "ix")


def test_ask_answers_from_the_newest_report_and_lists_the_earlier(story_index):
    out = run("ask", STORY_QUESTION, "--index", story_index, check=True).stdout
    assert re.match(r"1,217( people)? \(as of 7 April 2021\)", out), out
    assert re.search(r"Earlier: 1,124( people)? on 20 March 2021 · 54( people)? on 2 March 2021", out), out
    data = json.loads(
        run("ask", STORY_QUESTION, "--index", story_index, "--json", "--as-of", "2021-03-25", check=True).stdout
    )
    assert data["answer"].startswith("1,124") and data["as_of"] == "2021-03-20"
    assert [(e["text"].split()[0], e["date"]) for e in data["earlier"]] == [("54", "2021-03-02")]


def test_timeline_prints_each_article_by_date_and_plots_the_numbers(story_index, tmp_path):
    out = run("timeline", STORY_QUESTION, "--index", story_index, "--plot", str(tmp_path / "toll.svg"), check=True)
    dates = re.findall(r"^(\d{4}-\d\d-\d\d)  ", out.stdout, re.M)
    assert dates == ["2021-03-02", "2021-03-20", "2021-04-07"], out.stdout
    assert "chart of 3 numbers written to" in out.stderr and (tmp_path / "toll.svg").read_text().startswith("<svg")
    data = json.loads(run("timeline", STORY_QUESTION, "--index", story_index, "--json", check=True).stdout)
    assert [e["value"] for e in data["entries"]] == [54.0, 1124.0, 1217.0]
    bad = run("timeline", STORY_QUESTION, "--index", story_index, "--plot", str(tmp_path / "toll.gif"))
    assert bad.returncode != 0 and "Traceback" not in bad.stderr and ".svg or .png" in bad.stderr


def test_ask_as_of_must_be_a_date(story_index):
    proc = run("ask", "anything", "--index", story_index, "--as-of", "spring")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "is not a date; write it as YYYY-MM-DD" in proc.stderr


def test_timeline_prints_a_quote_that_spans_a_paragraph_break_on_one_line(default_index_dir):
    # The default article breaks a paragraph inside "Lavrov, for his part, said Russia … was supportive …".
    out = run("timeline", "Caspian treaty", "--index", default_index_dir, check=True).stdout
    entries = re.findall(r"^\d{4}-\d\d-\d\d  .*\n    “(.*)”$", out, re.M)
    assert entries and any("said Russia was supportive" in quote for quote in entries), out
    assert len(out.strip().splitlines()) == 2 * len(entries), "each entry is its heading and one line of quote"
