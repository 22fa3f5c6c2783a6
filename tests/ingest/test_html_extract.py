"""Article extraction from saved news pages: text without boilerplate, metadata, fallback to all visible text."""

import json
from pathlib import Path

import pytest

from qa.ingest.corpus import load_corpus, load_file
from qa.ingest.documents import LoadReport, parse_html
from qa.ingest.html_extract import extract_article, page_language

PAGES = Path(__file__).parents[1] / "data" / "pages"
# What each page holds: its metadata, sentences of the article, and boilerplate sentences a reader sees around it.
EXPECTED = Path(__file__).parents[1] / "data" / "pages-expected"
FIXTURES = sorted(PAGES.glob("*.html"))


def _norm(text: str) -> str:
    return " ".join(text.split())


def _expected(page: Path) -> dict:
    return json.loads((EXPECTED / f"{page.stem}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", FIXTURES, ids=lambda p: p.stem)
def test_article_text_without_boilerplate(page):
    expected = _expected(page)
    doc = extract_article(page.read_text(encoding="utf-8"), page.name)
    text = _norm(doc.text)
    for sentence in expected["article"]:
        assert _norm(sentence) in text
    leaked = [b for b in expected["boilerplate"] if _norm(b) in text]
    assert leaked == []
    # The old parser keeps nearly all of it: the fixture really holds boilerplate a reader would see.
    old = _norm(parse_html(page.read_text(encoding="utf-8"), page.name).text)
    assert sum(_norm(b) in old for b in expected["boilerplate"]) >= len(expected["boilerplate"]) - 1


@pytest.mark.parametrize("page", FIXTURES, ids=lambda p: p.stem)
def test_metadata(page):
    expected = _expected(page)
    doc = extract_article(page.read_text(encoding="utf-8"), page.name)
    assert doc.title == expected["title"]
    assert doc.published == expected["published"]
    assert doc.meta["author"] == expected["author"]
    assert doc.meta["site"] == expected["site"] == doc.source
    assert doc.url == expected["url"]
    assert doc.meta["language"] == expected["language"]
    assert doc.meta["extractor"] == "trafilatura"


def test_paragraph_breaks_kept():
    page = PAGES / "harbour-strike.html"
    doc = extract_article(page.read_text(encoding="utf-8"), page.name)
    paragraphs = doc.text.split("\n\n")
    assert any(p.startswith("Dock workers at the port of Vellmar") for p in paragraphs)
    assert any(p.startswith("Business groups welcomed the settlement.") for p in paragraphs)
    assert "\n\n\n" not in doc.text and not any(p != p.strip() for p in paragraphs)


def test_fallback_to_visible_text_is_warned(tmp_path):
    # All of this page's text sits in its footer: the extractor finds no article in it.
    (tmp_path / "notice.html").write_text(
        "<html><body><footer><p>The office is closed on Monday for the bank holiday.</p></footer></body></html>"
    )
    report = LoadReport()
    [doc] = load_corpus([tmp_path], report)
    assert doc.text == "The office is closed on Monday for the bank holiday."
    assert [w.path.endswith("notice.html") for w in report.warned] == [True]
    assert "all visible text kept" in report.warned[0].reason
    assert "extractor" not in doc.meta


def test_page_without_any_text_is_skipped(tmp_path):
    page = tmp_path / "empty.html"
    page.write_text("<html><head><script>var a = 1;</script></head><body><div></div></body></html>")
    report = LoadReport()
    assert list(load_file(page, "empty.html", report)) == []
    assert [s.reason for s in report.skipped] == ["no text"]


def test_hostile_markup_does_not_break_the_build(tmp_path):
    (tmp_path / "a.html").write_text("<html><body><p>Half a page <b><i>with <div>broken</p> nesting" + "<" * 500)
    (tmp_path / "b.html").write_bytes(b"<html>\xff\xfe<body><p>Mojibake text for the record.</p></body></html>")
    report = LoadReport()
    docs = {d.id: d for d in load_corpus([tmp_path], report)}
    assert "broken" in docs["a.html"].text
    assert "Mojibake text for the record." in docs["b.html"].text


def test_page_language():
    assert page_language('<!doctype html><html class="x" lang="pt_BR">') == "pt-br"
    assert page_language('<html><head><meta http-equiv="Content-Language" content="de">') == "de"
    assert page_language("<html><body>") is None
