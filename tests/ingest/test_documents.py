import json
import logging

from conftest import DEFAULT_ARTICLE, shared_path

from qa.ingest.corpus import load_corpus
from qa.ingest.documents import LoadReport, parse_html, parse_news_header


def test_default_article_header():
    [doc] = load_corpus([DEFAULT_ARTICLE])
    assert doc.id == "000_670c52a8f442eec9.txt"
    assert doc.title == "Iran, Russia Finalizing Strategic Partnership Deal"
    assert doc.source == "kayhan.ir"
    assert doc.published == "2021-10-11"
    assert doc.meta["news_id"] == "95333"
    assert doc.meta["subtitle"] == "Eastern Axis Is Emerging"
    assert doc.meta["published_time"] == "21:30"
    # The whole file is kept: header and body, byte for byte.
    assert doc.text == DEFAULT_ARTICLE.read_text(encoding="utf-8")
    assert doc.text[doc.meta["body_start"] :].startswith("TEHRAN -- Iran is ready")


def test_plain_article_without_header_keeps_first_line_as_title(tmp_path):
    (tmp_path / "a.md").write_text("# Storm hits coast\n\nA storm hit the coast on Monday, officials said.\n")
    [doc] = load_corpus([tmp_path])
    assert doc.title == "Storm hits coast"
    assert doc.published is None


def test_bad_files_are_skipped_with_a_warning(tmp_path, caplog):
    (tmp_path / "good.txt").write_text("Title\n\nThe mayor opened the bridge on Friday.")
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "blank.md").write_text("  \n\n ")
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 10)
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 news\n\nThe caf\xe9 opened.".encode("latin-1"))
    (tmp_path / "empty.html").write_text("<html><script>var a=1;</script></html>")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "broken.jsonl").write_text(
        json.dumps({"id": "j1", "title": "T", "text": "Body one."}) + "\n{not json\n" + json.dumps({"id": "j2"}) + "\n"
    )
    report = LoadReport()
    with caplog.at_level(logging.WARNING):
        docs = load_corpus([tmp_path], report)
    ids = sorted(d.id for d in docs)
    assert ids == ["good.txt", "j1", "latin1.txt"]
    skipped = {s.path.split("/")[-1]: s.reason for s in report.skipped}
    assert set(skipped) == {
        "empty.txt",
        "blank.md",
        "binary.txt",
        "empty.html",
        "notes.pdf",
        "broken.jsonl:2",
        "broken.jsonl:3",
    }
    assert "binary" in skipped["binary.txt"]
    assert skipped["notes.pdf"].startswith("broken PDF")
    assert "text" in skipped["broken.jsonl:3"]
    assert "empty.txt" in caplog.text
    latin = next(d for d in docs if d.id == "latin1.txt")
    assert "café opened" in latin.text


def test_html_text_title_and_date_scripts_dropped():
    html = """<html><head><title>Site | Page</title>
    <meta property="og:title" content="Bridge opens">
    <meta property="article:published_time" content="2020-05-01T10:00:00Z">
    <style>p {color: red}</style><script>alert(1)</script></head>
    <body><nav>Home</nav><h1>Bridge opens</h1><p>The mayor opened the bridge &amp; cut a ribbon.</p>
    <p>Traffic flowed<br>soon after.</p></body></html>"""
    doc = parse_html(html, "b.html")
    assert doc.title == "Bridge opens"
    assert doc.published == "2020-05-01"
    assert "alert" not in doc.text and "color" not in doc.text and "Home" not in doc.text
    assert "The mayor opened the bridge & cut a ribbon." in doc.text


def test_json_records_with_aliases(tmp_path):
    (tmp_path / "a.json").write_text(
        json.dumps([{"doc_id": "x1", "date": "2019-01-04", "title": "A", "text": "Alpha.", "extra": 1}])
    )
    [doc] = load_corpus([tmp_path])
    assert (doc.id, doc.published, doc.meta) == ("x1", "2019-01-04", {"extra": 1})


def test_header_parser_does_not_eat_prose():
    text = "The minister said on Monday that the talks had gone well and would continue next week in Geneva."
    assert parse_news_header(text)["body_start"] == 0


def test_shared_wikinews_corpus_loads():
    path = shared_path("corpus-extra", "wikinews-2019-2020.jsonl")
    docs = load_corpus([path])
    assert len(docs) == 293
    assert all(d.published and d.published.startswith(("2019", "2020")) for d in docs)
