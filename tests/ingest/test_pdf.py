"""PDF text layers with page starts; encrypted, broken and scanned files skipped with one reason each."""

import io
from datetime import datetime, timezone

import pytest

from qa.ingest.corpus import load_corpus
from qa.ingest.documents import LoadReport
from qa.ingest.pdf import page_at, pdf_document

fpdf = pytest.importorskip("fpdf", reason="fpdf2 (a test dependency) writes the PDFs these tests read")

PAGES = [
    [
        "Press release: Westshire County Council",
        "All 23 branch libraries will stay open for at least five more years.",
        "The cabinet agreed a funding package of 4.2 million pounds on Wednesday.",
    ],
    [
        "Eleven branches will house a weekly advice desk.",
        "Six branches will open on Saturday afternoons.",
    ],
    ["Media contact: press office, County Hall."],
]


def make_pdf(pages=PAGES, title="Rural libraries win five-year funding", author="Westshire County Council") -> bytes:
    pdf = fpdf.FPDF()
    pdf.set_font("Helvetica", size=12)
    if title:
        pdf.set_title(title)
    if author:
        pdf.set_author(author)
    pdf.set_creation_date(datetime(2021, 6, 30, 9, 0, tzinfo=timezone.utc))
    for lines in pages:
        pdf.add_page()
        for line in lines:
            if line:
                pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def test_text_metadata_and_pages():
    doc = pdf_document(make_pdf(), "release.pdf")
    assert doc.title == "Rural libraries win five-year funding"
    assert doc.published == "2021-06-30"
    assert doc.meta["author"] == "Westshire County Council"
    assert doc.meta["pages"] == 3
    for page, lines in enumerate(PAGES, start=1):
        for line in lines:
            at = doc.text.index(line)
            assert page_at(doc.meta, at) == page
            assert page_at(doc.meta, at + len(line) - 1) == page
    assert doc.text.count("\n\n") >= 2, "pages are apart by a paragraph break"


def test_title_from_first_line_without_metadata():
    doc = pdf_document(make_pdf(title=None, author=None), "r.pdf")
    assert doc.title == "Press release: Westshire County Council"
    assert "author" not in doc.meta


def test_page_at_outside_pdfs():
    assert page_at({}, 10) is None
    assert page_at({"page_starts": [0, 50, 90]}, 0) == 1
    assert page_at({"page_starts": [0, 50, 90]}, 50) == 2
    assert page_at({"page_starts": [0, 50, 90]}, 1000) == 3


def _encrypt(raw: bytes, password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(raw)))
    writer.encrypt(user_password=password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_encrypted_with_empty_password_is_read():
    doc = pdf_document(_encrypt(make_pdf(), ""), "open.pdf")
    assert "All 23 branch libraries" in doc.text


def test_bad_pdfs_skipped_with_one_reason_each(tmp_path):
    good = make_pdf()
    (tmp_path / "good.pdf").write_bytes(good)
    (tmp_path / "locked.pdf").write_bytes(_encrypt(good, "secret"))
    (tmp_path / "truncated.pdf").write_bytes(good[: len(good) // 3])
    (tmp_path / "scanned.pdf").write_bytes(make_pdf(pages=[[""], [""]]))
    (tmp_path / "fake.pdf").write_bytes(b"this is not a pdf at all")
    report = LoadReport()
    docs = load_corpus([tmp_path], report)
    assert [d.id for d in docs] == ["good.pdf"]
    reasons = {s.path.rsplit("/", 1)[-1]: s.reason for s in report.skipped}
    assert set(reasons) == {"locked.pdf", "truncated.pdf", "scanned.pdf", "fake.pdf"}
    assert reasons["locked.pdf"].startswith("encrypted PDF")
    assert reasons["scanned.pdf"].startswith("no text layer in 2 page(s)")
    assert reasons["fake.pdf"].startswith("broken PDF")
    assert reasons["truncated.pdf"].startswith(("broken PDF", "no text layer"))
    assert all("\n" not in r for r in reasons.values())


def test_citations_name_the_page_and_author(tmp_path):
    from qa.index import load_index
    from qa.indexing.build import build_index

    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "release.pdf").write_bytes(make_pdf())
    build_index(tmp_path / "c", tmp_path / "ix")
    answer = load_index(tmp_path / "ix").answer("How many branches will open on Saturday afternoons?")
    assert not answer.abstained, answer
    [cite, *_] = answer.citations
    assert "Saturday afternoons" in cite.quote
    assert (cite.page, cite.author) == (2, "Westshire County Council")
