"""Hostile articles and uploads against the real app: markup is shown as text, uploads stay in their folder,
cannot touch the corpus or index, are limited in size and type, and the server listens on loopback only."""

from __future__ import annotations

import hashlib
import html
import json
import shutil
import socket
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import ROOT
from test_reliability import quote_of, write_corpus

pytest.importorskip("gradio")

from qa.index import load_index  # noqa: E402
from qa.indexing.build import build_index  # noqa: E402
from qa.ui.app import App  # noqa: E402
from qa.ui.uploads import add_uploads  # noqa: E402

HOSTILE_BODY = (
    "The council of Dunmore met on Tuesday. Councillor Rhea Vance said <script>alert('x')</script> was typed "
    'into the minutes, next to <img src=x onerror="alert(2)"> and <a href="javascript:alert(3)">a link</a>. '
    "She also pasted [click here](javascript:alert(4)) and ![pic](x onerror=alert(5)) and <iframe src=//evil>. "
    "The clerk, Osric Penn, recorded the vote as seven to two."
)
HOSTILE_TITLE = "<b onmouseover=alert(6)>Council</b> minutes <script>t()</script>"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def assert_inert(fragment: str) -> None:
    """No element or attribute in `fragment` came from article text: nothing runs, nothing links out."""
    parser = _Tags()
    parser.feed(fragment)
    for tag, attrs in parser.tags:
        assert tag not in {"script", "img", "iframe", "object", "embed", "svg", "b"}, (tag, attrs)
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert not value.strip().lower().startswith("javascript:"), (tag, name, value)


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "minutes.json").write_text(
        json.dumps({"id": "minutes", "title": HOSTILE_TITLE, "text": HOSTILE_BODY}), encoding="utf-8"
    )
    (corpus / "page.html").write_text(
        "<html><body><h1>Harbour news</h1><p>The harbour master &lt;script&gt;x()&lt;/script&gt; closed the "
        "pier at Lisk for the winter storms.</p><script>alert(7)</script></body></html>",
        encoding="utf-8",
    )
    build_index(corpus, root / "index")
    return root / "index"


def test_hostile_article_text_is_shown_as_text(hostile_index, tmp_path):
    app = App(load_index(hostile_index), tmp_path / "uploads")
    turns = list(app.respond("Who recorded the vote of the Dunmore council?", 5, "", "", "", [], []))
    chat, answers, sources, _ = turns[-1]
    assert answers and answers[-1].citations, "the hostile article is cited"
    rendered = "".join(m["content"] for m in chat) + sources
    assert_inert(rendered)
    text = html.unescape(sources)
    assert "<script>alert('x')</script>" in text or "Osric Penn" in text
    header, corpus, *_ = app.corpus_view()
    assert_inert(header + corpus)
    assert html.unescape(HOSTILE_TITLE) in html.unescape(corpus), "the title is shown, as text"
    # A question carrying markup is echoed as text too.
    chat, *_ = list(app.respond("<img src=x onerror=alert(1)> who closed the pier?", 5, "", "", "", [], []))[-1]
    assert_inert("".join(m["content"] for m in chat))


def _fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def test_uploads_cannot_escape_or_overwrite_corpus_and_index(hostile_index, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(hostile_index, index)
    corpus = write_corpus(tmp_path / "corpus", {"a.txt": "Keep\n\nThe original article stays as it was."})
    idx = load_index(index)
    gen = (index / "CURRENT").read_text().strip()
    before_index = _fingerprint(index / gen)
    before_corpus = _fingerprint(corpus)
    payload = tmp_path / "payload.txt"
    payload.write_text("Ferry news\n\nThe ferry to Ostbury resumed after the strike ended on Friday.", encoding="utf-8")
    big = tmp_path / "big.txt"
    big.write_bytes(b"A" * 3000)
    script = tmp_path / "run.sh"
    script.write_text("rm -rf /", encoding="utf-8")
    names = [
        (payload, "../../escape.txt"),
        (payload, f"../{index.name}/{gen}/store.sqlite.txt"),
        (payload, "../corpus/a.txt"),
        (payload, "/etc/passwd.txt"),
        (big, "big.txt"),
        (script, "run.sh"),
        (payload, "CURRENT"),
    ]
    uploads = tmp_path / "uploads"
    result = add_uploads(idx, names, uploads, max_bytes=2000)
    assert result.documents >= 1
    assert any("big.txt" in s and "limit" in s for s in result.skipped)
    assert any("run.sh" in s for s in result.skipped)
    assert any("CURRENT" in s for s in result.skipped), "a file without an article type is refused"
    # Everything saved is a plain file directly inside the uploads folder.
    saved = sorted(p for p in tmp_path.rglob("*") if p.is_file() and "payload" not in p.name)
    outside = [p for p in saved if uploads not in p.parents and index not in p.parents and corpus not in p.parents]
    assert {p.name for p in outside} == {"big.txt", "run.sh"}, outside
    assert all(p.parent == uploads for p in uploads.rglob("*") if p.is_file())
    assert not (tmp_path / "escape.txt").exists() and not Path("/etc/passwd.txt").exists()
    assert _fingerprint(corpus) == before_corpus
    assert _fingerprint(index / gen) == before_index, "the live generation's files are untouched"
    assert {d["id"] for d in idx.documents()} >= {"minutes", "page.html"}
    assert all(d["id"].startswith("uploads/") for d in idx.documents() if d["id"] not in {"minutes", "page.html"})
    assert idx.retrieve(quote_of(payload.read_text()), k=1)[0].doc_id.startswith("uploads/")


def test_server_listens_on_loopback_only_by_default(hostile_index, tmp_path):
    import inspect

    from qa.cli import build_parser
    from qa.ui.app import launch, serve

    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"
    assert inspect.signature(launch).parameters["host"].default == "127.0.0.1"
    assert build_parser().parse_args(["serve"]).host == "127.0.0.1"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo = launch(hostile_index, port=port, uploads_dir=tmp_path / "uploads", block=False)
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        external = _external_address()
        if external:
            with pytest.raises(OSError):
                socket.create_connection((external, port), timeout=2).close()
    finally:
        demo.close()


def _external_address() -> str | None:
    """This machine's address on its default route, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet is sent for a UDP connect
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_readme_warns_about_binding_elsewhere():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "127.0.0.1" in readme and "--host" in readme
