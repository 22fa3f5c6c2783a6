"""The web app as users meet it: `python serve.py` on a free port, its API through gradio_client,
and the page in headless Chromium (Debian's build driven by Playwright)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time

import pytest
from conftest import ANSWER_KEYS, CORPUS, ROOT, STORY_QUESTION, require_browser, write_story_corpus

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = ROOT / "docs" / "screenshot.png"

# Markup in every place a renderer might act on it: raw HTML, event handlers, Markdown links and emphasis.
HOSTILE_ARTICLE = """quillby-courier.com

Publish Date : 3 March 2022 - 10:00
Festival <b>bold</b> <script>alert('title')</script> report

The Zorblatt Festival in Quillby was opened by mayor Petra Vandersloot on Friday. <script>alert(1)</script> \
Visitors wrote <img src=x onerror="alert(2)"> on the walls and [a link](javascript:alert(3)) on **posters**.
Organisers said the festival would return next spring.
"""
UPLOADED_ARTICLE = """brindlewood-gazette.org

Publish Date : 14 June 2022 - 08:15
Astronomer Spots New Comet Over Brindlewood

The Brindlewood comet was first seen by astronomer Ilsa Marrow at the Brindlewood Observatory on Tuesday night.
Marrow said the comet will be visible without a telescope until the end of the month.
"""


def test_filters_read_the_form():
    from qa.errors import InputError
    from qa.ui.app import ALL_SOURCES, filters

    assert filters(ALL_SOURCES, "", " ") == {"source": None, "published_from": None, "published_to": None}
    got = filters("kayhan.ir", "1 October 2021", "2021-10-31")
    assert got == {"source": "kayhan.ir", "published_from": "2021-10-01", "published_to": "2021-10-31"}
    assert filters(None, "", "", " Jane Doe ", "")["author"] == "Jane Doe"
    assert filters(None, "", "", "", "harbourtimes.example")["site"] == "harbourtimes.example"
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        filters(None, "soon", "")
    with pytest.raises(InputError, match="after"):
        filters(None, "2022-01-02", "2022-01-01")


def test_chat_turns_pass_the_conversation_on(default_index, tmp_path):
    from qa.ui.app import App

    app = App(default_index, tmp_path / "uploads")
    first, follow_up = "who proposed the 3+3 format?", "what did he reveal?"
    chat, answers = [], []
    for question in (first, follow_up):
        steps = list(app.respond(question, 5, "All sources", "", "", chat, answers))
        assert "Searching" in steps[0][0][-1]["content"], "the question shows before the answer"
        chat, answers, sources, box = steps[-1]
        assert box == ""
    assert [m["role"] for m in chat] == ["user", "assistant"] * 2 and len(answers) == 2
    assert answers[1].to_dict() == default_index.answer(follow_up, history=[answers[0]]).to_dict()
    steps = list(app.respond("Iran", 5, "All sources", "not a date", "", chat, answers))
    assert "qa-error" in steps[-1][0][-1]["content"] and steps[-1][1] == answers, "a bad filter keeps the session"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_cmd(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "serve.py"), *args]


def start_server(base, corpus, *options: str):
    """`python serve.py` on `corpus` with its index in `base`, built at start-up (and `options`, such as
    `--reader DIR`); yields what tests need, then stops it."""
    port = free_port()
    log = (base / "serve.log").open("w")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen(
        serve_cmd("--index", str(base / "index"), "--corpus", str(corpus), "--port", str(port), *options),
        cwd=base,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while "serving" not in (base / "serve.log").read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the server did not start:\n" + (base / "serve.log").read_text())
        time.sleep(0.3)
    yield {"url": url, "base": base, "index": base / "index", "port": port, "log": base / "serve.log"}
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`python serve.py` on a corpus of the repo's articles plus a hostile one; the index is built at start-up."""
    base = tmp_path_factory.mktemp("webapp")
    corpus = base / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "hostile.txt").write_text(HOSTILE_ARTICLE, encoding="utf-8")
    yield from start_server(base, corpus)


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server["url"], verbose=False)


def test_startup_builds_the_missing_index_and_prints_the_address(server):
    text = server["log"].read_text()
    assert "building it from" in text and "embedding" in text, "progress is shown while the index is built"
    assert f"http://127.0.0.1:{server['port']}" in text
    assert (server["index"] / "CURRENT").exists()


def test_api_ask_returns_the_cli_json(client, server):
    from qa.index import load_index

    out = client.predict("Who opened the Zorblatt Festival?", api_name="/ask")
    assert set(out) == ANSWER_KEYS
    assert not out["abstained"] and out["citations"]
    idx = load_index(server["index"])
    for c in out["citations"]:
        assert idx.document(c["doc_id"]).text[c["start"] : c["end"]] == c["quote"]
    assert "Vandersloot" in out["answer"] or any("Vandersloot" in c["quote"] for c in out["citations"])


def test_api_retrieve_returns_k_passages(client):
    out = client.predict("strategic partnership between Iran and Russia", 2, api_name="/retrieve")
    assert len(out) == 2
    assert {"doc_id", "title", "start", "end", "text", "score"} <= set(out[0])
    assert out[0]["score"] >= out[1]["score"]
    assert len(client.predict(question="Iran", k=1, api_name="/retrieve")) == 1


def test_readme_api_example_runs(server, capsys):
    """The README's Python example, pointed at the test server, runs as written."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## HTTP API", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(code.replace("http://127.0.0.1:7860/", server["url"]), "README.md", "exec"), {})
    assert capsys.readouterr().out.strip()


def test_api_filters(client):
    only = client.predict("festival", 5, "quillby-courier.com", api_name="/retrieve")
    assert only and {p["source"] for p in only} == {"quillby-courier.com"}
    assert client.predict("festival", 5, "", "2022-01-01", "2022-12-31", api_name="/retrieve")
    assert client.predict("festival", 5, "", "2023-01-01", "", api_name="/retrieve") == []


def test_api_errors_are_messages(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="empty"):
        client.predict("   ", api_name="/ask")
    with pytest.raises(AppError, match="date"):
        client.predict("Iran", 3, "", "not a date", "", api_name="/retrieve")


def test_port_in_use_is_one_clear_line(server):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        serve_cmd("--index", str(server["index"]), "--port", str(server["port"])),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "already in use" in lines[0] and "--port" in lines[0], proc.stderr


def test_help_reads_well():
    out = subprocess.run(serve_cmd("--help"), capture_output=True, text=True, timeout=60).stdout
    for flag in ("--index", "--corpus", "--host", "--port", "127.0.0.1", "7860"):
        assert flag in out


@pytest.fixture(scope="module")
def browser():
    chromium = require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_a_missing_browser_skips_with_the_install_command_but_fails_under_ci(tmp_path):
    missing = tmp_path / "chromium"
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y chromium"):
        require_browser(missing, env={})
    with pytest.raises(pytest.skip.Exception):
        require_browser(missing, env={"CI": "false"})
    for value in ("true", "1", "yes"):
        with pytest.raises(pytest.fail.Exception, match="CI must run them"):
            require_browser(missing, env={"CI": value})
    missing.write_bytes(b"")
    assert require_browser(missing, env={"CI": "true"}) == missing


def ask(page, question: str | None = None, button=None) -> None:
    """Type a question (or click an example button), and wait until the reply replaces the placeholder."""
    before = page.locator("#chat [data-testid=bot]").count()
    if button is not None:
        button.click()
    else:
        page.fill("#question textarea", question)
        page.keyboard.press("Enter")
    page.wait_for_function(
        """n => { const b = document.querySelectorAll('#chat [data-testid=bot]');
                  return b.length > n && !b[b.length - 1].textContent.includes('Searching'); }""",
        arg=before,
        timeout=60_000,
    )


def test_browser_chat_sources_upload_and_escaping(browser, server, client, tmp_path):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    problems: list[str] = []
    dialogs: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(server["url"])
    page.wait_for_selector("#question textarea")

    # An example question from the row under the chat, answered with a highlighted quote.
    example = page.locator("#examples button.qa-example").first
    question = example.inner_text().strip()
    assert question.endswith("?")
    expected = client.predict(question, api_name="/ask")
    assert not expected["abstained"]
    ask(page, button=example)
    reply = page.locator("#chat [data-testid=bot]").last.inner_text()
    assert expected["answer"] in reply and "[1]" in reply
    first_mark = page.locator("#sources .qa-excerpt mark").first
    assert first_mark.text_content() == expected["citations"][0]["quote"]

    # A click on the source opens the whole article with the span highlighted.
    page.locator("#sources details.qa-source summary").first.click()
    article = page.locator("#sources details.qa-source[open] .qa-article")
    article.wait_for()
    assert article.locator("mark").text_content() == expected["citations"][0]["quote"]
    page.screenshot(path=str(tmp_path / "answer.png"))

    # The hostile article: its markup shows as text and nothing runs.
    ask(page, "Who opened the Zorblatt Festival?")
    page.locator("#sources details.qa-source summary").first.click()
    page.locator("#sources details.qa-source[open] .qa-article").wait_for()
    shown = page.locator("#sources").inner_text()
    assert "<script>alert(1)</script>" in shown and 'onerror="alert(2)"' in shown
    assert "[a link](javascript:alert(3))" in shown
    assert page.locator("#sources script, #chat script, #sources img, #corpus script").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0

    # Markup typed into the question box is shown as typed, too.
    ask(page, "<img src=x onerror=alert(9)> [x](javascript:alert(10)) who?")
    assert "<img src=x onerror=alert(9)>" in page.locator("#chat [data-testid=user]").last.inner_text()
    assert page.locator("#chat img[src=x], a[href^='javascript']").count() == 0

    # An abstention looks different from an answer.
    ask(page, "What colour is the bicycle of the Antarctic postmaster?")
    assert page.locator("#chat [data-testid=bot]").last.locator(".qa-abstain").count() == 1

    # Upload an article, see it listed, and ask about it.
    page.get_by_role("tab", name="Articles").click()
    upload = tmp_path / "comet.txt"
    upload.write_text(UPLOADED_ARTICLE, encoding="utf-8")
    page.set_input_files("#upload input[type=file]", str(upload))
    page.wait_for_selector("#upload-status", timeout=60_000)
    assert "Indexed comet.txt" in page.inner_text("#upload-status")
    assert "Astronomer Spots New Comet Over Brindlewood" in page.inner_text("#corpus")
    assert "<script>alert('title')</script>" in page.inner_text("#corpus")
    assert (server["base"] / "uploads" / "comet.txt").exists()
    page.get_by_role("tab", name="Sources").click()
    # Asked with a slip in the new article's place name: read as the word the index holds, and said so.
    ask(page, "Who first saw the Brindlewod comet?")
    assert "Astronomer Spots New Comet Over Brindlewood" in page.inner_text("#sources")
    reply = page.locator("#chat [data-testid=bot]").last
    assert "Marrow" in reply.inner_text()
    assert reply.locator(".qa-read-as").inner_text() == "Read as: Who first saw the Brindlewood comet?"

    # The chat's clear button starts a new conversation.
    page.locator("#chat").get_by_role("button", name=re.compile("clear", re.I)).first.click()
    page.wait_for_function("() => document.querySelectorAll('#chat [data-testid=bot]').length === 0")
    page.locator("#sources .qa-empty").wait_for()

    assert dialogs == [], f"a script in an article ran: {dialogs}"
    assert problems == [], problems
    page.close()


def test_screenshot_for_the_readme(browser, server, client, tmp_path):
    """A laptop-sized view of a two-turn conversation about the repo's articles; saved as the README's
    picture only when QA_UPDATE_SCREENSHOT is set, so a test run leaves the working tree as it was."""
    page = browser.new_page(viewport={"width": 1366, "height": 820})
    page.goto(server["url"])
    page.wait_for_selector("#question textarea")
    buttons = page.locator("#examples button.qa-example")
    clean = []
    for i in range(buttons.count()):
        out = client.predict(buttons.nth(i).inner_text().strip(), api_name="/ask")
        if out["citations"] and all(c["doc_id"] != "hostile.txt" for c in out["citations"]):
            clean.append(buttons.nth(i))
    assert clean, "some example is answered from the repo's corpus"
    for button in clean[:2]:
        ask(page, button=button)
    page.locator("#sources .qa-excerpt mark").first.wait_for()
    shot = tmp_path / "screenshot.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000
    if os.environ.get("QA_UPDATE_SCREENSHOT"):
        SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)
    page.close()


def test_browser_adds_a_web_page_by_its_address(server, browser):
    """The Articles tab's address field fetches a page from a local server; its author shows in the sources."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    pages = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(ROOT / "tests" / "data" / "pages"))
    )
    threading.Thread(target=pages.serve_forever, daemon=True).start()
    address = f"http://127.0.0.1:{pages.server_address[1]}/reservoir-drought.html"
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    try:
        page.goto(server["url"])
        page.get_by_role("tab", name="Articles").click()
        page.fill("#url input, #url textarea", f"{address.rsplit('/', 1)[0]}/missing.html")
        page.click("#add-url")
        page.wait_for_selector("#upload-status.qa-error", timeout=60_000)
        assert "HTTP 404" in page.inner_text("#upload-status")
        page.fill("#url input, #url textarea", address)
        page.click("#add-url")
        page.wait_for_function(
            "() => (document.querySelector('#upload-status') || {}).textContent?.startsWith('Indexed')",
            timeout=60_000,
        )
        assert page.inner_text("#upload-status") == f"Indexed {address}: 1 new article."
        assert "Reservoir levels fall to 31% as drought enters third month" in page.inner_text("#corpus")
        page.get_by_role("tab", name="Sources").click()
        ask(page, "How many people does the Altmoor reservoir supply with drinking water?")
        assert "By Lucia Ferrante · Valley Gazette · 2022-08-09" in page.inner_text("#sources")
    finally:
        page.close()
        pages.shutdown()
        pages.server_close()


@pytest.fixture(scope="module")
def unsure_server(tmp_path_factory, reader_with_thresholds):
    """`python serve.py` on the repo's articles with a reader that is never sure enough to answer but shows
    every candidate as a tentative answer."""
    base = tmp_path_factory.mktemp("unsure")
    yield from start_server(base, CORPUS, "--reader", str(reader_with_thresholds(0.999, 0.0)))


def test_browser_shows_a_tentative_answer_in_a_style_of_its_own(browser, unsure_server):
    from gradio_client import Client

    question = "Who joined the talks via video conference?"
    expected = Client(unsure_server["url"], verbose=False).predict(question, api_name="/ask")
    guess = expected["best_guess"]
    assert expected["abstained"] and expected["answer"] is None and guess
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    try:
        page.goto(unsure_server["url"])
        page.wait_for_selector("#question textarea")
        ask(page, question)
        reply = page.locator("#chat [data-testid=bot]").last
        assert reply.locator(".qa-answer, .qa-abstain").count() == 0
        bubble = reply.locator(".qa-guess")
        assert f"Not sure — perhaps {guess['text']}" in bubble.inner_text()
        assert bubble.evaluate("e => getComputedStyle(e).borderTopStyle") == "dashed"
        marks = page.locator("#sources .qa-excerpt mark")
        marks.first.wait_for()
        assert marks.first.text_content() == guess["citations"][0]["quote"]
        assert marks.count() == page.locator("#sources .qa-excerpt mark.qa-tentative").count() > 0
        assert marks.first.evaluate("e => getComputedStyle(e).outlineStyle") == "dashed"
        assert "Not sure" in page.locator("#sources .qa-guess-note").text_content()
        page.screenshot(path=str(unsure_server["base"] / "tentative.png"))  # kept for a look when the test fails
    finally:
        page.close()


@pytest.fixture(scope="module")
def many_articles_server(tmp_path_factory):
    """`python serve.py` on more articles than one page of the Articles tab holds; a few name Brindlewood."""
    import json

    towns = ["Quillby", "Altmoor", "Westshire", "Porto", "Harbourne", "Lindow"]
    topics = ["harbour", "railway", "vaccine", "election", "drought", "museum", "satellite", "strike"]
    records = []
    for i in range(123):
        town = "Brindlewood" if i % 17 == 3 else towns[i % len(towns)]
        topic = topics[i % len(topics)]
        records.append(
            {
                "id": f"local-{i:03d}",
                "title": f"{town} {topic} update {i}",
                "text": f"Officials in {town} spoke about the {topic} on Monday. Residents asked about the {topic}.",
                "source": f"{town.lower()}-news.example",
                "published": f"2023-{1 + i % 12:02d}-{1 + i % 28:02d}",
            }
        )
    base = tmp_path_factory.mktemp("many")
    corpus = base / "corpus"
    corpus.mkdir()
    (corpus / "local.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    yield from start_server(base, corpus)


def test_browser_searches_and_pages_the_article_list(browser, many_articles_server, tmp_path):
    from qa.index import load_index
    from qa.ui.app import PAGE_SIZE

    idx = load_index(many_articles_server["index"])
    total = idx.manifest.documents
    assert total > 2 * PAGE_SIZE
    problems: list[str] = []
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.goto(many_articles_server["url"])
    page.get_by_role("tab", name="Articles").click()

    def shows(note: str, query: str, offset: int) -> None:
        """The list's note reads `note`, and its rows are that page of the index's list, in order."""
        page.wait_for_function("t => document.querySelector('#corpus-range')?.textContent === t", arg=note)
        rows = idx.documents_page(query, offset, PAGE_SIZE)[0]
        assert page.locator("#corpus td.qa-title").all_inner_texts() == [r["title"] for r in rows]

    def search(text: str) -> None:
        """Type into the search box key by key, as a person does (each keystroke searches)."""
        box = page.locator("#article-search input, #article-search textarea")
        box.click()
        box.press("Control+A")
        box.press("Backspace")
        box.press_sequentially(text)

    previous, following = page.locator("#articles-previous"), page.locator("#articles-next")
    shows(f"1–{PAGE_SIZE} of {total} articles", "", 0)
    assert previous.is_disabled() and following.is_enabled()
    following.click()
    shows(f"{PAGE_SIZE + 1}–{2 * PAGE_SIZE} of {total} articles", "", PAGE_SIZE)
    following.click()
    shows(f"{2 * PAGE_SIZE + 1}–{total} of {total} articles", "", 2 * PAGE_SIZE)
    assert following.is_disabled() and previous.is_enabled()
    previous.click()
    shows(f"{PAGE_SIZE + 1}–{2 * PAGE_SIZE} of {total} articles", "", PAGE_SIZE)

    # A search starts at its first page and matches titles, sources and ids in any case.
    brindlewood = idx.documents_page("brindle")[1]
    assert 0 < brindlewood < PAGE_SIZE
    search("brindLE")
    shows(f"1–{brindlewood} of {brindlewood} articles matching “brindLE”", "brindLE", 0)
    assert previous.is_disabled() and following.is_disabled()
    assert all("Brindlewood" in t for t in page.locator("#corpus td.qa-title").all_inner_texts())
    page.screenshot(path=str(tmp_path / "articles.png"))  # kept for a look when the test fails
    search("local-10")
    shows("1–10 of 10 articles matching “local-10”", "local-10", 0)
    search("no such article")
    page.wait_for_function(
        "() => document.querySelector('#corpus-range')?.textContent === 'No article matches “no such article”.'"
    )
    assert page.locator("#corpus td").count() == 0
    search("")
    shows(f"1–{PAGE_SIZE} of {total} articles", "", 0)
    assert problems == [], problems
    page.close()


@pytest.fixture(scope="module")
def story_server(tmp_path_factory):
    """`python serve.py` on one story told on three dates, its toll rising (conftest's STORY)."""
    base = tmp_path_factory.mktemp("story")
    yield from start_server(base, write_story_corpus(base))


def test_browser_shows_as_of_the_earlier_reports_and_a_timeline(browser, story_server):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    try:
        page.goto(story_server["url"])
        page.wait_for_selector("#question textarea")
        ask(page, STORY_QUESTION)
        reply = page.locator("#chat [data-testid=bot]").last.inner_text()
        assert re.search(r"1,217( people)? \(as of 7 April 2021\)", reply), reply
        assert re.search(r"Earlier: 1,124( people)? on 20 March 2021 · 54( people)? on 2 March 2021", reply), reply
        page.locator("#sources .qa-earlier-head").wait_for()
        dates = page.locator("#sources .qa-source .qa-meta").all_inner_texts()
        assert dates == ["2021-04-07", "2021-03-20", "2021-03-02"], dates  # the answer's, then earlier, newest first

        page.get_by_role("tab", name="Timeline").click()
        box = page.locator("#timeline-query input, #timeline-query textarea")
        box.fill(STORY_QUESTION)
        page.locator("#timeline-show").click()
        entries = page.locator("#timeline .qa-timeline-entry")
        entries.nth(2).wait_for(timeout=60_000)
        assert [entries.nth(i).get_attribute("data-date") for i in range(3)] == [
            "2021-03-02",
            "2021-03-20",
            "2021-04-07",
        ]
        assert page.locator("#timeline svg.qa-chart circle").count() == 3
        assert page.locator("#timeline mark").first.inner_text() in ("54", "54 people")
        page.screenshot(path=str(story_server["base"] / "timeline.png"))  # kept for a look when the test fails
    finally:
        page.close()
