"""Articles uploaded through the web app: checked, saved under the uploads folder, added to the index."""

from __future__ import annotations

import dataclasses
import re
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from qa.errors import InputError
from qa.index import Index
from qa.indexing.build import add_documents
from qa.ingest.corpus import is_url, load_corpus, load_file
from qa.ingest.documents import LoadReport

UPLOAD_TYPES = (".txt", ".md", ".html", ".json", ".jsonl", ".rss", ".atom", ".xml", ".pdf")
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
ID_PREFIX = "uploads/"


def size_label(n: int) -> str:
    """A byte count as people read it: 5 MB, 200 KB."""
    return f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{max(1, round(n / 1024))} KB"


class UploadError(InputError):
    """An uploaded file that cannot be added: wrong type, too large, unreadable."""


@dataclass(frozen=True)
class UploadResult:
    """What one batch of uploads did to the index."""

    saved: tuple[str, ...]
    documents: int
    added: int
    updated: int
    unchanged: int
    skipped: tuple[str, ...]

    def message(self) -> str:
        """One line for the user."""
        if not self.documents:
            return "Nothing was added: " + "; ".join(self.skipped)
        counts = ((self.added, "new"), (self.updated, "updated"), (self.unchanged, "unchanged"))
        noun = "article" if self.documents == 1 else "articles"
        text = f"Indexed {', '.join(self.saved)}: {', '.join(f'{n} {w}' for n, w in counts if n)} {noun}."
        if self.skipped:
            text += " Skipped: " + "; ".join(self.skipped)
        return text


def safe_name(name: str) -> str:
    """A plain file name made from an uploaded one: no folders, no leading dots, only safe characters."""
    base = unicodedata.normalize("NFKC", name).replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[^\w.\-]+", "_", base, flags=re.ASCII).strip("._")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = stem[:80].strip("._") or "upload"
    return f"{stem}.{suffix.lower()}" if suffix else stem


def uploads_dir_for(index_dir: Path, uploads_dir: str | Path | None = None) -> Path:
    """The folder uploads are kept in: `uploads_dir` if given, else `uploads/` beside the index folder."""
    folder = Path(uploads_dir) if uploads_dir else Path(index_dir).resolve().parent / "uploads"
    folder = folder.resolve()
    if folder.exists() and not folder.is_dir():
        raise InputError(f"the uploads folder {folder} is a file; give a folder with --uploads")
    index = Path(index_dir).resolve()
    if folder == index or index in folder.parents:
        raise InputError(f"the uploads folder {folder} must not be inside the index folder {index}")
    return folder


def _check(path: Path, name: str, max_bytes: int) -> None:
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_TYPES:
        raise UploadError(f"{name}: only {' '.join(UPLOAD_TYPES)} files can be uploaded")
    size = path.stat().st_size
    if size > max_bytes:
        raise UploadError(f"{name}: {size_label(size)} is over the {size_label(max_bytes)} limit")


def save_upload(src: Path, original_name: str, folder: Path, max_bytes: int = MAX_UPLOAD_BYTES) -> Path:
    """Copy an uploaded file into `folder` under a sanitised name; the result is always inside `folder`."""
    name = safe_name(original_name)
    _check(src, name, max_bytes)
    folder.mkdir(parents=True, exist_ok=True)
    dst = (folder / name).resolve()
    if dst.parent != folder.resolve():
        raise UploadError(f"{original_name}: not a usable file name")
    tmp = dst.with_name(f".{dst.name}.part")
    shutil.copyfile(src, tmp)
    tmp.replace(dst)
    return dst


def upload_documents(path: Path, report: LoadReport):
    """The documents of a saved upload, with ids under `uploads/` so they never replace corpus articles."""
    own_id = ID_PREFIX + path.name
    for doc in load_file(path, own_id, report):
        doc_id = own_id if doc.id == own_id else f"{own_id}#{doc.id}"
        yield dataclasses.replace(doc, id=doc_id)


def add_uploads(
    index: Index, files: list[tuple[Path, str]], folder: Path, max_bytes: int = MAX_UPLOAD_BYTES
) -> UploadResult:
    """Save (temporary path, original name) uploads into `folder` and add their articles to the index."""
    saved: list[str] = []
    skipped: list[str] = []
    docs = []
    report = LoadReport()
    for src, name in files:
        try:
            path = save_upload(Path(src), name, folder, max_bytes)
        except UploadError as exc:
            skipped.append(str(exc))
            continue
        saved.append(path.name)
        docs.extend(upload_documents(path, report))
    skipped.extend(f"{Path(s.path).name}: {s.reason}" for s in report.skipped)
    if not docs:
        return UploadResult(tuple(saved), 0, 0, 0, 0, tuple(skipped))
    result = add_documents(docs, index.path, embedder=index.embedder)
    return UploadResult(tuple(saved), len(docs), result.added, result.updated, result.unchanged, tuple(skipped))


def add_url(index: Index, url: str) -> UploadResult:
    """Fetch the web page at `url`, extract its article and add it to the index under the URL as its id."""
    url = (url or "").strip()
    if not is_url(url):
        raise UploadError(f"{url or 'the address'}: give a web page address starting with http:// or https://")
    report = LoadReport()
    docs = load_corpus([url], report)
    skipped = tuple(s.reason for s in report.skipped)
    if not docs:
        return UploadResult((url,), 0, 0, 0, 0, skipped or ("no text",))
    result = add_documents(docs, index.path, embedder=index.embedder)
    return UploadResult((url,), len(docs), result.added, result.updated, result.unchanged, skipped)
