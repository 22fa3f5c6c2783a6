"""Fetching web pages from a real HTTP server on 127.0.0.1: the article is indexed, every failure is one line."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from qa.ingest.corpus import load_corpus
from qa.ingest.documents import LoadReport
from qa.ingest.fetch import FetchError, fetch_html

PAGE = (Path(__file__).parents[1] / "data" / "pages" / "harbour-strike.html").read_bytes()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass

    def _send(self, code, body=b"", ctype="text/html; charset=utf-8", headers=(), sized=True):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        if sized:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client stopped reading, as it should
            pass

    def do_GET(self):
        port = self.server.server_address[1]
        routes = {
            "/article": lambda: self._send(200, PAGE),
            "/latin1": lambda: self._send(
                200,
                "<html><body><p>Caf\xe9 owners welcome the new square.</p></body></html>".encode("latin-1"),
                ctype="text/html; charset=iso-8859-1",
            ),
            "/moved": lambda: self._send(301, headers=[("Location", "/article")]),
            "/elsewhere": lambda: self._send(302, headers=[("Location", f"http://localhost:{port}/article")]),
            "/report.pdf": lambda: self._send(200, b"%PDF-1.4 ...", ctype="application/pdf"),
            "/huge": lambda: self._send(200, b"<p>" + b"x" * (2 * 1024 * 1024) + b"</p>"),
            # No Content-Length: the size is only known by reading.
            "/huge-unsized": lambda: self._send(200, b"<p>" + b"x" * (2 * 1024 * 1024) + b"</p>", sized=False),
            "/missing": lambda: self._send(404, b"<h1>Not found</h1>"),
        }
        if self.path == "/slow":
            time.sleep(3)
            return self._send(200, PAGE)
        routes.get(self.path, routes["/missing"])()


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_page_is_fetched_and_extracted(server):
    report = LoadReport()
    [doc] = load_corpus([f"{server}/article#comments"], report)
    assert doc.id == f"{server}/article"
    assert doc.url == f"{server}/article"
    assert doc.meta["canonical_url"] == "https://www.harbourtimes.example/news/2024/03/05/vellmar-dock-strike-ends"
    assert doc.meta["author"] == "Jane Doe" and doc.source == "Harbour Times"
    assert "nine-day strike" in doc.text and "cookies" not in doc.text
    assert report.skipped == [] and report.warned == []


def test_redirect_within_the_host_is_followed(server):
    page = fetch_html(f"{server}/moved")
    assert page.requested == f"{server}/moved" and page.url == f"{server}/article"


def test_charset_from_the_response_header(server):
    assert "Café owners" in fetch_html(f"{server}/latin1").text


@pytest.mark.parametrize(
    "path,kwargs,message",
    [
        ("/elsewhere", {}, "redirects to another host (localhost)"),
        ("/report.pdf", {}, "not an HTML page (Content-Type application/pdf)"),
        ("/huge", {"max_bytes": 1024 * 1024}, "larger than 1 MB"),
        ("/huge-unsized", {"max_bytes": 1024 * 1024}, "larger than 1 MB"),
        ("/missing", {}, "the server answered HTTP 404"),
        ("/slow", {"timeout": 0.5}, "no answer within 0.5 s"),
    ],
)
def test_failures_are_one_clear_line(server, path, kwargs, message):
    with pytest.raises(FetchError) as info:
        fetch_html(f"{server}{path}", **kwargs)
    text = str(info.value)
    assert message in text and "\n" not in text and text.startswith(f"{server}{path}: ")


def test_unreachable_and_malformed_addresses():
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(FetchError, match="unreachable"):
        fetch_html(f"http://127.0.0.1:{port}/")
    with pytest.raises(FetchError, match="not an http"):
        fetch_html("https:///no-host")


def test_failed_url_is_skipped_and_the_rest_goes_on(server, tmp_path):
    (tmp_path / "note.txt").write_text("Local note\n\nThe harbour master retired on Friday.")
    report = LoadReport()
    docs = load_corpus([f"{server}/report.pdf", tmp_path, f"{server}/article"], report)
    assert sorted(d.id for d in docs) == [f"{server}/article", "note.txt"]
    [skipped] = report.skipped
    assert skipped.path == f"{server}/report.pdf" and skipped.reason.startswith("not an HTML page")
