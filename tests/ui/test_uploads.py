"""Uploads: safe names inside the uploads folder, type and size limits, added to the index without a rebuild."""

import pytest

from qa.errors import InputError
from qa.index import load_index
from qa.ui.uploads import ID_PREFIX, UploadError, add_uploads, safe_name, save_upload, uploads_dir_for


@pytest.mark.parametrize(
    "name",
    [
        "../../x.txt",
        "..\\..\\x.txt",
        "/etc/passwd",
        "..",
        ".bashrc",
        "a/../../CURRENT",
        "\u2025/x.txt",
        "CON ; rm -rf.md",
    ],
)
def test_safe_names_stay_plain(name):
    out = safe_name(name)
    assert out and "/" not in out and "\\" not in out and not out.startswith(".")
    assert out not in ("..", ".")


def test_saved_files_stay_inside_the_folder(tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("Title\n\nBody text of the article.", encoding="utf-8")
    folder = tmp_path / "uploads"
    for name in ("../../escape.txt", "../index/CURRENT.txt", "ok.md"):
        path = save_upload(src, name, folder)
        assert path.parent == folder.resolve()
    assert not (tmp_path / "escape.txt").exists()
    assert sorted(p.name for p in folder.iterdir()) == ["CURRENT.txt", "escape.txt", "ok.md"]


def test_type_and_size_limits(tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("x" * 2000, encoding="utf-8")
    with pytest.raises(UploadError, match="only"):
        save_upload(src, "evil.sh", tmp_path / "up")
    with pytest.raises(UploadError, match="limit"):
        save_upload(src, "big.txt", tmp_path / "up", max_bytes=1000)
    assert not (tmp_path / "up" / "big.txt").exists()


def test_uploads_folder_is_never_the_index(tmp_path):
    index = tmp_path / "index"
    assert uploads_dir_for(index) == (tmp_path / "uploads").resolve()
    with pytest.raises(InputError):
        uploads_dir_for(index, index / "sub")


def test_uploads_join_the_index_without_replacing_corpus_articles(index_copy, tmp_path):
    idx = load_index(index_copy)
    before = {d["id"]: d["chunks"] for d in idx.documents()}
    corpus_id = next(iter(before))
    same_name = tmp_path / "a.txt"  # uploaded under a corpus article's file name
    same_name.write_text(
        "Quillby News\n\nThe Brindlewood comet was first seen by astronomer Ilsa Marrow.\n", encoding="utf-8"
    )
    records = tmp_path / "b.jsonl"
    records.write_text(
        '{"id": "r1", "title": "Harbour report", "text": "The harbour of Vell reopened in May."}\nnot json\n',
        encoding="utf-8",
    )
    bad = tmp_path / "c.sh"
    bad.write_text("echo", encoding="utf-8")
    result = add_uploads(idx, [(same_name, corpus_id), (records, "b.jsonl"), (bad, "c.sh")], tmp_path / "up")
    assert result.added == 2 and result.documents == 2
    assert any("c.sh" in s for s in result.skipped) and any("b.jsonl" in s for s in result.skipped)
    after = {d["id"]: d["chunks"] for d in idx.documents()}
    assert after[corpus_id] == before[corpus_id], "the corpus article is untouched"
    new = set(after) - set(before)
    assert new == {ID_PREFIX + safe_name(corpus_id), ID_PREFIX + "b.jsonl#r1"}
    top = idx.retrieve("who first saw the Brindlewood comet?", k=1)[0]
    assert top.doc_id == ID_PREFIX + safe_name(corpus_id)
    assert "updated" not in result.message() and "Indexed" in result.message()
    again = add_uploads(idx, [(same_name, corpus_id)], tmp_path / "up")
    assert again.unchanged == 1 and again.added == 0


def test_a_web_page_joins_the_index_by_its_address(index_copy):
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from conftest import ROOT

    from qa.ui.uploads import add_url

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(ROOT / "tests" / "data" / "pages"))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        idx = load_index(index_copy)
        result = add_url(idx, f"  {base}/telescope.html ")
        assert (result.documents, result.added) == (1, 1)
        assert result.message() == f"Indexed {base}/telescope.html: 1 new article."
        top = idx.retrieve("comet fragment on course to strike Jupiter", k=1)[0]
        assert top.doc_id == f"{base}/telescope.html" and top.author == "Priya Raman"
        missing = add_url(idx, f"{base}/gone.html")
        assert missing.documents == 0
        assert missing.message() == "Nothing was added: the server answered HTTP 404 File not found"
        with pytest.raises(UploadError, match="starting with http"):
            add_url(idx, "file:///etc/passwd")
    finally:
        httpd.shutdown()
        httpd.server_close()
