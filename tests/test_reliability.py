"""Reliability: bad input changes nothing, crashes and corruption never lose or fake data, queries run during writes.

Crash tests run the real build or `add` in a child process that kills itself with SIGKILL at a named point;
the points are reached by wrapping product functions inside the child's own script, so the product has no
test-only code paths.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from conftest import ROOT

from qa.answer.questions import MAX_QUESTION_CHARS
from qa.cli import main as cli_main
from qa.errors import IndexCorruptError, InputError
from qa.index import load_index
from qa.indexing.build import add_documents, build_index
from qa.indexing.shard_build import reshard_index
from qa.store.generations import CURRENT, DATABASE, MANIFEST, VECTORS, current_generation

ARTICLES = {
    "harbour.txt": "Harbour reopens\n\nThe harbour of Vellmouth reopened on Monday after divers cleared the wreck "
    "of the trawler Sea Lark from the main channel.",
    "comet.txt": "Comet sighted\n\nAstronomer Ilsa Marrow first saw the Brindlewood comet from the observatory "
    "on Cairn Hill during a cold night in February.",
    "orchard.md": "# Orchard prize\n\nThe Pellham orchard cooperative won the national cider award for a pear "
    "vintage pressed from trees planted in 1952.",
    "tram.html": "<html><head><title>Tram line</title></head><body><h1>Tram line opens</h1><p>The new tram line "
    "between Ostbury and the airport carried eleven thousand riders in its first week.</p></body></html>",
    "records.jsonl": json.dumps(
        {
            "id": "lib-1",
            "title": "Library turns 100",
            "text": "The Quarry Lane library celebrated its centenary "
            "with a reading of the founding charter by mayor Tomas Brek.",
            "published": "2021-05-04",
        }
    )
    + "\n",
}
NEW_ARTICLES = {
    "bridge.txt": "Bridge closes\n\nThe Blue River bridge in Springfield closed for repairs after inspectors found "
    "rust on the northern cables.",
    "festival.txt": "Festival record\n\nThe Morrow lantern festival drew a record crowd of forty thousand visitors "
    "to the old canal district.",
    "vaccine.md": "# Clinic expands\n\nThe Hollin clinic added evening hours so that shift workers can get their "
    "flu shots after the factory closes.",
}


def write_corpus(folder: Path, articles: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in articles.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def quote_of(text: str, words: int = 12) -> str:
    """A run of words from the middle of an article's last paragraph: what a reader would quote."""
    body = text.strip().split("\n")[-1].split()
    mid = max(0, len(body) // 2 - words // 2)
    return " ".join(body[mid : mid + words])


def assert_nothing_lost(index_dir: Path, expected_ids: set[str] | None = None) -> None:
    """The index loads, its counts match its store, and every document is found by a question quoting it."""
    idx = load_index(index_dir)
    docs = idx.documents()
    ids = {d["id"] for d in docs}
    if expected_ids is not None:
        assert ids == expected_ids
    stats = idx.stats()
    assert stats["documents"] == len(docs) and stats["chunks"] == sum(d["chunks"] for d in docs)
    for doc_id in ids:
        doc = idx.document(doc_id)
        found = [p.doc_id for p in idx.retrieve(quote_of(doc.text), k=3)]
        assert doc_id in found, f"{doc_id} is not retrievable by a quote"
    idx.close()


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> tuple[Path, Path]:
    """(corpus, index) of five small articles, built once for the module; tests copy the index."""
    root = tmp_path_factory.mktemp("base")
    corpus = write_corpus(root / "corpus", ARTICLES)
    index = root / "index"
    build_index(corpus, index)
    return corpus, index


@pytest.fixture(scope="module")
def base_ids(base) -> set[str]:
    idx = load_index(base[1])
    ids = {d["id"] for d in idx.documents()}
    idx.close()
    return ids


def copy_index(base_index: Path, dst: Path) -> Path:
    shutil.copytree(base_index, dst)
    return dst


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = cli_main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, needle: str) -> None:
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qa: error:"), err
    assert needle in lines[0], lines[0]


# ---------------------------------------------------------------- 1. bad input


@pytest.mark.parametrize("question", ["", "   \n\t ", "\x00\x07\x1b", "\u200b\x0c"])
def test_empty_questions_are_refused_by_answer(base, question):
    idx = load_index(base[1])
    with pytest.raises(InputError, match="empty"):
        idx.answer(question)


def test_huge_question_with_control_characters_is_cut_not_a_crash(base):
    idx = load_index(base[1])
    question = "\x1b[31mWho first saw the Brindlewood comet?\x07 " + "comet " * 20000
    assert len(question) > 100_000
    answer = idx.answer(question)
    assert len(answer.question) <= MAX_QUESTION_CHARS + 100
    assert "\x1b" not in answer.question and "\x07" not in answer.question
    assert idx.retrieve(question, k=1)[0].doc_id == "comet.txt"


@pytest.mark.parametrize(
    "args,needle",
    [
        (("ask", ""), "empty"),
        (("ask", "\x00\x01\x02"), "empty"),
        (("ask", "Iran?", "-k", "0"), "-k"),
        (("index", "add", "{corpus}", "--index", "{tmp}/none"), "no index at"),
        (("index", "remove", "x.txt", "--index", "{tmp}/none"), "no index at"),
        (("index", "stats", "--index", "{corpus}"), "holds no index"),
        (("index", "build", "{corpus}", "--index", "{tmp}/ix", "--model", "{corpus}"), "not a sentence-transformers"),
        (("index", "build", "{corpus}", "--index", "{tmp}/ix", "--model", "{corpus}/harbour.txt"), "not a folder"),
        (("index", "build", "{corpus}", "--index", "{tmp}/ix", "--model", "{tmp}/fake-model"), "cannot load"),
    ],
)
def test_cli_mistakes_print_one_line(base, tmp_path, capsys, args, needle):
    corpus, index = base
    fake = tmp_path / "fake-model"
    fake.mkdir()
    (fake / "config.json").write_text('{"model_type": "not-a-model"}\n', encoding="utf-8")
    (fake / "modules.json").write_text("[oops", encoding="utf-8")
    args = [a.format(corpus=corpus, tmp=tmp_path) for a in args]
    if args[0] == "ask":
        args += ["--index", str(index)]
    code, out, err = run_cli(capsys, *args)
    assert_one_line_error(code, err, needle)
    assert not (tmp_path / "none").exists(), "a mistyped --index creates nothing"
    assert not (tmp_path / "ix").exists() or not list((tmp_path / "ix").glob("gen-*")), "nothing was built"


def test_cli_ask_long_question_answers(base, capsys):
    code, out, err = run_cli(capsys, "ask", "Brindlewood comet " * 6000, "--index", str(base[1]), "--json")
    assert code == 0, err
    assert json.loads(out)["question"]


def test_bad_corpus_files_are_reported_by_file_and_line(tmp_path, capsys):
    corpus = write_corpus(tmp_path / "c", {"good.txt": ARTICLES["harbour.txt"]})
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "image.md").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    (corpus / "legacy.txt").write_bytes(b"Old news\n\nThe caf\x81 on Mill Road \x8d reopened after the flood.")
    (corpus / "shell.html").write_text("<html><body><script>x()</script><div>  </div></body></html>")
    (corpus / "broken.json").write_text('[{"id": "j", "text": "Fine"},\n {"id": ', encoding="utf-8")
    (corpus / "mixed.jsonl").write_text(
        "\n".join(
            [
                json.dumps({"id": "ok", "title": "Ferry", "text": "The ferry to Lisk resumed.", "extra": [1, 2]}),
                "{broken",
                json.dumps({"id": "notext", "title": "No body"}),
                json.dumps(["not", "an", "object"]),
                json.dumps({"id": "blank", "text": "   "}),
            ]
        ),
        encoding="utf-8",
    )
    code, out, err = run_cli(capsys, "-q", "index", "build", str(corpus), "--index", str(tmp_path / "ix"))
    assert code == 0, err
    skipped = [line for line in err.splitlines() if line.startswith("skipped ")]
    where = {line.removeprefix("skipped ").split(": ", 1)[0].rsplit("/", 1)[-1] for line in skipped}
    assert {"empty.txt", "image.md", "shell.html", "broken.json"} <= where, err
    assert {"mixed.jsonl:2", "mixed.jsonl:3", "mixed.jsonl:4", "mixed.jsonl:5"} <= where, err
    assert "invalid JSON at line 2" in err
    idx = load_index(tmp_path / "ix")
    assert {d["id"] for d in idx.documents()} == {"good.txt", "legacy.txt", "ok"}
    legacy = idx.document("legacy.txt").text
    assert "reopened after the flood" in legacy and "\x81" not in legacy
    assert idx.retrieve("Which ferry resumed?", k=1)[0].doc_id == "ok"


def test_pathological_article_text_builds(tmp_path):
    corpus = write_corpus(
        tmp_path / "c",
        {
            "oneword.txt": "Longword\n\n" + "x" * 3_000,
            "nospace.txt": "Dots\n\n" + "." * 6_000 + "\n" * 50_000 + "-" * 1_500,
            "emoji.md": "# 🎉\n\n" + "🎉 " * 3000 + "The parade ended at noon.",
            "rtl.txt": "خبر\n\nافتتح رئيس البلدية الجسر الجديد يوم الجمعة.",
        },
    )
    report = build_index(corpus, tmp_path / "ix")
    assert report.documents == 4
    assert_nothing_lost(tmp_path / "ix")


def test_port_in_use_is_one_line(base, capsys):
    pytest.importorskip("gradio")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out, err = run_cli(capsys, "serve", "--index", str(base[1]), "--port", str(port))
    assert_one_line_error(code, err, f"port {port}")


def test_failed_add_changes_nothing(base, base_ids, tmp_path):
    index = copy_index(base[1], tmp_path / "ix")
    before = current_generation(index).name
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "empty.txt").write_text("")
    with pytest.raises(Exception, match="no readable articles"):
        add_documents([tmp_path / "junk"], index)
    assert current_generation(index).name == before
    assert_nothing_lost(index, base_ids)


# ---------------------------------------------------------------- 1b. paths of the wrong kind, missing or unreadable

# Linux capabilities that let root read and write whatever the permission bits say (capability.h).
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


@contextlib.contextmanager
def permissions_bite():
    """Run the body with permission bits enforced, even as root (tests run as root in CI and containers).

    Root reads a chmod-000 file through CAP_DAC_OVERRIDE; dropping it (and CAP_DAC_READ_SEARCH) from the
    effective set of this thread makes it an ordinary owner for the body, then it is raised again.
    """
    if os.geteuid() != 0:
        yield
        return
    libc = ctypes.CDLL(None, use_errno=True)
    header, data = _CapHeader(0x20080522, 0), (_CapData * 2)()  # _LINUX_CAPABILITY_VERSION_3
    if libc.capget(ctypes.byref(header), data) != 0:
        pytest.skip("running as root, where chmod 000 does not bite, and capget failed: cannot test unreadable paths")
    saved = data[0].effective
    data[0].effective &= ~((1 << CAP_DAC_OVERRIDE) | (1 << CAP_DAC_READ_SEARCH))
    if libc.capset(ctypes.byref(header), data) != 0:
        pytest.skip("running as root, where chmod 000 does not bite, and cannot drop CAP_DAC_OVERRIDE")
    try:
        yield
    finally:
        data[0].effective = saved
        assert libc.capset(ctypes.byref(header), data) == 0


def disk_state(*roots: Path) -> dict[str, tuple]:
    """Every file and folder under `roots` with its kind, size, mode and mtime: to compare before and after."""
    state = {}
    for root in roots:
        for folder, dirs, files in os.walk(root):
            for name in dirs + files:
                st = os.lstat(os.path.join(folder, name))
                state[os.path.join(folder, name)] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return state


@pytest.fixture()
def paths(base, tmp_path) -> dict[str, str]:
    """A file, a missing path, an unreadable folder and file, a copy of the index and an evaluation set."""
    corpus, index = base
    work = tmp_path / "w"
    work.mkdir()
    (work / "file.txt").write_text("not a folder\n", encoding="utf-8")
    locked = write_corpus(work / "locked", {"inside.txt": ARTICLES["harbour.txt"]})
    locked_file = work / "locked-article.txt"
    locked_file.write_text(ARTICLES["comet.txt"], encoding="utf-8")
    eval_set = work / "set"
    eval_set.mkdir()
    (eval_set / "corpus.jsonl").write_text(ARTICLES["records.jsonl"], encoding="utf-8")
    (eval_set / "questions.jsonl").write_text(
        json.dumps({"id": "q1", "question": "Who read the charter?", "answers": ["Tomas Brek"], "doc_id": "lib-1"})
        + "\n",
        encoding="utf-8",
    )
    os.chmod(locked_file, 0)
    os.chmod(locked, 0)
    yield {
        "corpus": str(corpus),
        "index": str(copy_index(index, work / "index")),
        "file": str(work / "file.txt"),
        "missing": str(work / "missing"),
        "locked": str(locked),
        "locked_file": str(locked_file),
        "set": str(eval_set),
        "new": str(work / "new-index"),
        "port": str(free_port()),
    }
    os.chmod(locked, 0o755)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# (arguments, words of the one-line error); {name} is a path of the `paths` fixture.
WRONG_PATHS = [
    (("ask", "Who saw the comet?", "--index", "{file}"), "is a file, not an index folder"),
    (("ask", "Who saw the comet?", "--index", "{file}/sub"), "is not a folder"),
    (("ask", "Who saw the comet?", "--index", "{missing}"), "no index at"),
    (("ask", "Who saw the comet?", "--index", "{locked}"), "permission denied"),
    (("index", "stats", "--index", "{file}"), "is a file, not an index folder"),
    (("index", "stats", "--index", "{locked}"), "permission denied"),
    (("index", "add", "{corpus}", "--index", "{file}"), "is a file, not an index folder"),
    (("index", "add", "{corpus}", "--index", "{locked}"), "permission denied"),
    (("index", "add", "{missing}", "--index", "{index}"), "corpus path not found"),
    (("index", "add", "{locked}", "--index", "{index}"), "cannot read the corpus folder"),
    (("index", "add", "{locked_file}", "--index", "{index}"), "no readable articles"),
    (("index", "remove", "comet.txt", "--index", "{file}"), "is a file, not an index folder"),
    (("index", "remove", "comet.txt", "--index", "{locked}"), "permission denied"),
    (("index", "build", "{corpus}", "--index", "{file}"), "not an index folder"),
    (("index", "build", "{corpus}", "--index", "{file}/sub"), "cannot be a folder"),
    (("index", "build", "{corpus}", "--index", "{locked}"), "permission denied"),
    (("index", "build", "{missing}", "--index", "{new}"), "corpus path not found"),
    (("index", "build", "{locked}", "--index", "{new}"), "cannot read the corpus folder"),
    (("index", "build", "{locked_file}", "--index", "{new}"), "no readable articles"),
    (("eval", "{file}"), "no evaluation set"),
    (("eval", "{missing}"), "no evaluation set"),
    (("eval", "{locked}"), "permission denied"),
    (("eval", "{set}", "--index", "{file}"), "not an index folder"),
    (("eval", "{set}", "--index", "{locked}"), "permission denied"),
    (("serve", "--index", "{file}", "--port", "{port}"), "not an index folder"),
    (("serve", "--index", "{locked}", "--port", "{port}"), "permission denied"),
    (("serve", "--index", "{index}", "--uploads", "{file}", "--port", "{port}"), "is a file"),
    (("serve", "--index", "{new}", "--corpus", "{missing}", "--port", "{port}"), "corpus path not found"),
    (("serve", "--index", "{new}", "--corpus", "{locked}", "--port", "{port}"), "cannot read the corpus folder"),
]


@pytest.mark.parametrize("args,needle", WRONG_PATHS, ids=[" ".join(a) for a, _ in WRONG_PATHS])
def test_paths_of_the_wrong_kind_missing_or_unreadable_are_one_line_and_change_nothing(paths, capsys, args, needle):
    if args[0] == "serve":
        pytest.importorskip("gradio")
    args = [a.format(**paths) for a in args]
    folders = [Path(paths["index"]).parent, Path(paths["corpus"])]
    before = disk_state(*folders)
    with permissions_bite():
        code, out, err = run_cli(capsys, "-q", *args)
    assert_one_line_error(code, err, needle)
    assert "Traceback" not in err
    assert disk_state(*folders) == before, "a failed command left the disk as it was"


def test_serve_py_and_qa_with_a_file_for_the_index_folder_print_one_line(paths):
    """The scripts as users start them: no traceback, a non-zero exit."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for cmd in (
        [sys.executable, str(ROOT / "serve.py"), "--index", paths["file"], "--port", paths["port"]],
        [sys.executable, "-m", "qa.cli", "ask", "Who saw the comet?", "--index", paths["file"]],
    ):
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode != 0
        assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and "not an index folder" in proc.stderr


# ---------------------------------------------------------------- 2. corruption is detected, naming the file


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[len(raw) * 2 // 3] ^= 0x5A
    path.write_bytes(bytes(raw))


def _zero_count_field(path: Path) -> None:
    # A header field overwritten: FAISS itself would load this and answer wrongly.
    raw = bytearray(path.read_bytes())
    raw[24:32] = b"\x00" * 8
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize(
    "name,damage",
    [
        (VECTORS, _truncate),
        (VECTORS, _flip),
        (VECTORS, _zero_count_field),
        (VECTORS, lambda p: p.write_bytes(b"")),
        (VECTORS, Path.unlink),
        (DATABASE, _truncate),
        (DATABASE, _flip),
        (DATABASE, lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)),
        (DATABASE, Path.unlink),
        (MANIFEST, _truncate),
        (MANIFEST, lambda p: p.write_text("{}")),
        (MANIFEST, Path.unlink),
    ],
)
def test_damaged_files_are_detected_naming_the_file(base, tmp_path, capsys, name, damage):
    index = copy_index(base[1], tmp_path / "ix")
    target = current_generation(index) / name
    damage(target)
    with pytest.raises(IndexCorruptError, match=name.replace(".", r"\.")):
        load_index(index)
    code, out, err = run_cli(capsys, "ask", "Who saw the comet?", "--index", str(index))
    assert_one_line_error(code, err, name)
    # A rebuild repairs it.
    build_index(base[0], index)
    assert_nothing_lost(index)


def test_manifest_counts_are_checked_against_the_store(base, tmp_path):
    index = copy_index(base[1], tmp_path / "ix")
    manifest = current_generation(index) / MANIFEST
    data = json.loads(manifest.read_text())
    data["documents"] += 1
    manifest.write_text(json.dumps(data))
    with pytest.raises(IndexCorruptError, match="inconsistent.*manifest says 6 documents"):
        load_index(index)


def test_index_without_checksums_still_loads_and_counts_are_checked(base, base_ids, tmp_path):
    """Indexes written before checksums were recorded load; the count check still guards them."""
    index = copy_index(base[1], tmp_path / "ix")
    manifest = current_generation(index) / MANIFEST
    data = json.loads(manifest.read_text())
    del data["files"]
    manifest.write_text(json.dumps(data))
    assert_nothing_lost(index, base_ids)
    data["chunks"] += 3
    manifest.write_text(json.dumps(data))
    with pytest.raises(IndexCorruptError, match="chunks"):
        load_index(index)


def test_current_pointing_nowhere_is_reported(base, tmp_path):
    index = copy_index(base[1], tmp_path / "ix")
    (index / CURRENT).write_text("gen-999999\n")
    with pytest.raises(IndexCorruptError, match="CURRENT points at 'gen-999999'"):
        load_index(index)


# ---------------------------------------------------------------- 2. crash safety: SIGKILL at named points

CHILD = textwrap.dedent(
    """
    import os, shutil, signal, sys
    import qa.indexing.build as indexing
    import qa.indexing.steps as steps
    import qa.store.generations as store
    from qa.encoders.embedding import Embedder

    mode, point, corpus, index = sys.argv[1:5]
    print("child started", flush=True)

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    def wrap(owner, name, when):
        original = getattr(owner, name)
        calls = []

        def wrapper(*args, **kwargs):
            calls.append(1)
            if when(len(calls), args, "before"):
                die()
            result = original(*args, **kwargs)
            if when(len(calls), args, "after"):
                die()
            return result

        setattr(owner, name, wrapper)

    if point == "chunking":  # while splitting the third article
        wrap(steps, "chunk_document", lambda n, a, at: n == 3 and at == "before")
    elif point == "embedded":  # vectors computed, nothing written yet
        wrap(Embedder, "encode", lambda n, a, at: at == "after" and len(a[1]) > 1)
    elif point == "sqlite":  # inside the write transaction, two articles in
        wrap(store.Store, "upsert", lambda n, a, at: n == 2 and at == "after")
    elif point == "manifest":  # vectors and database written, final manifest not yet
        wrap(store, "_write_atomic", lambda n, a, at: at == "before" and "crc32" in a[1])
    elif point == "renamed":  # new generation renamed into place, CURRENT not switched
        wrap(store, "_fsync_dir", lambda n, a, at: n == 1 and at == "after")
    elif point == "pruning":  # half-way through deleting an old generation
        def rmtree(path, *args, **kwargs):
            os.unlink(os.path.join(path, sorted(os.listdir(path))[0]))
            die()
        shutil.rmtree = rmtree
    if mode == "build":
        indexing.build_index([corpus], index)
    else:
        indexing.add_documents([corpus], index)
    print("finished without being killed", flush=True)
    """
)

# (mode, point, whether the new content is live after the kill)
KILL_POINTS = [
    ("build", "chunking", False),
    ("build", "renamed", False),
    ("build", "pruning", True),
    ("add", "embedded", False),
    ("add", "sqlite", False),
    ("add", "manifest", False),
]


def test_sigkill_at_named_points_leaves_a_complete_index(base, base_ids, tmp_path):
    """Every kill leaves either the old or the new index live, complete and queryable; the next write succeeds."""
    corpus, base_index = base
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    new_corpus = write_corpus(tmp_path / "new-corpus", {**ARTICLES, **NEW_ARTICLES})
    additions = write_corpus(tmp_path / "additions", NEW_ARTICLES)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = []
    for mode, point, _ in KILL_POINTS:
        index = copy_index(base_index, tmp_path / f"{mode}-{point}")
        if point == "pruning":
            # Two older generations, replaced long ago: the publish prunes the oldest.
            gen1 = current_generation(index)
            shutil.copytree(gen1, index / "gen-000002")
            (index / CURRENT).write_text("gen-000002\n")
            past = time.time() - 3600
            for g in (gen1, index / "gen-000002"):
                os.utime(g, (past, past))
        source = new_corpus if mode == "build" else additions
        proc = subprocess.Popen(
            [sys.executable, str(script), mode, point, str(source), str(index)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        runs.append((mode, point, index, proc))
    new_ids = base_ids | set(NEW_ARTICLES)
    for (mode, point, index, proc), (_, _, new_live) in zip(runs, KILL_POINTS):
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == -signal.SIGKILL, f"{mode}/{point} was not killed: {out} {err[-500:]}"
        assert "child started" in out
        assert_nothing_lost(index, new_ids if new_live else base_ids)
        # The next write clears what the killed one left and succeeds.
        if mode == "build":
            build_index(new_corpus, index)
        else:
            add_documents([additions], index)
        assert not list(index.glob("tmp-*")), f"{mode}/{point} left a work folder"
        assert_nothing_lost(index, new_ids)
        if point == "pruning":
            assert not (index / "gen-000001").exists(), "the half-deleted generation is pruned by the next write"


# ---------------------------------------------------------------- 2. a full disk: the write fails, the live index stays

DISK_FULL_CHILD = textwrap.dedent(
    """
    import resource, signal, sys
    import faiss
    import qa.store.generations as store
    from qa.cli import main

    point, *argv = sys.argv[1:]
    # Past the file-size limit writes fail with EFBIG, as on a full disk, instead of the signal killing the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    def disk_full(room=0):
        resource.setrlimit(resource.RLIMIT_FSIZE, (room, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    def fill_disk_before(owner, name, when):
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            if when(*args):
                disk_full()
            return original(*args, **kwargs)

        setattr(owner, name, wrapper)

    if point == "start":  # no room for the first page of the new SQLite store (build) or its copy (add)
        disk_full(room=1024)  # libraries' probes of the temporary folder write a few bytes and pass
    elif point == "lexical":  # database written, term matrix not yet
        fill_disk_before(store, "update_lexical", lambda *args: True)
    elif point == "vectors":  # database and terms written; FAISS writes the vectors
        fill_disk_before(faiss, "write_index", lambda index, path: index.ntotal > 0)
    elif point == "switch":  # new generation renamed into place; CURRENT cannot be rewritten
        fill_disk_before(store, "_write_atomic", lambda path, text: path.name == store.CURRENT)
    sys.exit(main(argv))
    """
)
DISK_FULL_POINTS = [("build", "start"), ("build", "vectors"), ("build", "switch"), ("add", "start"), ("add", "lexical")]


def test_a_full_disk_fails_in_one_line_and_leaves_the_live_index(base, base_ids, tmp_path):
    """A build or add that cannot write says so in one line; the live index is untouched, complete and
    queryable, nothing half-written is left, and the next write with room succeeds."""
    corpus, base_index = base
    script = tmp_path / "child.py"
    script.write_text(DISK_FULL_CHILD, encoding="utf-8")
    new_corpus = write_corpus(tmp_path / "new-corpus", {**ARTICLES, **NEW_ARTICLES})
    additions = write_corpus(tmp_path / "additions", NEW_ARTICLES)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = []
    for mode, point in DISK_FULL_POINTS:
        index = copy_index(base_index, tmp_path / f"{mode}-{point}")
        source = new_corpus if mode == "build" else additions
        proc = subprocess.Popen(
            [sys.executable, str(script), point, "-q", "index", mode, str(source), "--index", str(index)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        runs.append((mode, point, index, proc))
    for mode, point, index, proc in runs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 1, f"{mode}/{point}: {proc.returncode} {out} {err[-2000:]}"
        assert_one_line_error(proc.returncode, err, f"could not write the index at {index}")
        assert "the index in use is intact" in err
        left = {p.name for p in index.iterdir()} - {p.name for p in base_index.iterdir()} - {".lock"}
        assert not left, f"{mode}/{point} left {left} behind"
        assert current_generation(index).name == current_generation(base_index).name
        assert_nothing_lost(index, base_ids)
        code, out, err = run_cli_subprocess("index", mode, str(new_corpus if mode == "build" else additions), index)
        assert code == 0, err
        assert not list(index.glob("tmp-*"))
        assert_nothing_lost(index, base_ids | set(NEW_ARTICLES))


def test_a_full_disk_during_a_sharded_update_leaves_the_live_index(base, base_ids, tmp_path):
    """Sharded indexes write their new generation under the same guard: one line, nothing half-written left."""
    _, base_index = base
    index = copy_index(base_index, tmp_path / "sharded")
    reshard_index(index, 2)
    live = current_generation(index).name
    script = tmp_path / "child.py"
    script.write_text(DISK_FULL_CHILD, encoding="utf-8")
    additions = write_corpus(tmp_path / "additions", NEW_ARTICLES)
    proc = subprocess.run(
        [sys.executable, str(script), "start", "-q", "index", "add", str(additions), "--index", str(index)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert_one_line_error(proc.returncode, proc.stderr, f"could not write the index at {index}")
    assert "the index in use is intact" in proc.stderr
    assert not list(index.glob("tmp-*"))
    assert current_generation(index).name == live
    assert_nothing_lost(index, base_ids)
    code, _, err = run_cli_subprocess("index", "add", str(additions), index)
    assert code == 0, err
    assert_nothing_lost(index, base_ids | set(NEW_ARTICLES))


def run_cli_subprocess(command: str, mode: str, source: str, index: Path) -> tuple[int, str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "qa.cli", "-q", command, mode, source, "--index", str(index)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    return proc.returncode, proc.stdout, proc.stderr


# ---------------------------------------------------------------- 3. queries during writes by another process

WRITER = textwrap.dedent(
    """
    import sys, time
    from qa.indexing.build import add_documents, build_index
    index, corpus, *adds = sys.argv[1:]
    for path in adds:
        add_documents([path], index)
        print("committed", path, flush=True)
        time.sleep(0.3)
    build_index([corpus, *adds], index)
    print("rebuilt", flush=True)
    """
)


def test_queries_keep_working_during_add_and_rebuild(base, base_ids, tmp_path):
    corpus, base_index = base
    index = copy_index(base_index, tmp_path / "ix")
    adds = []
    for name, text in NEW_ARTICLES.items():
        adds.append(write_corpus(tmp_path / f"add-{name}", {name: text}) / name)
    idx = load_index(index)
    questions = [quote_of(t) for t in ARTICLES.values()]
    baseline = {q: [p.doc_id for p in idx.retrieve(q, k=3)] for q in questions}
    errors: list[str] = []
    generations: set[str] = set()
    answered = [0]
    stop = threading.Event()

    def reader(offset: int) -> None:
        i = offset
        while not stop.is_set():
            q = questions[i % len(questions)]
            i += 1
            try:
                top = [p.doc_id for p in idx.retrieve(q, k=3)]
                generations.add(idx.stats()["generation"])
                if top[0] != baseline[q][0]:
                    errors.append(f"{q!r}: {top} instead of {baseline[q]}")
                if i % 7 == 0:
                    idx.answer(q)
                answered[0] += 1
            except Exception as exc:  # noqa: BLE001 - any failure is the finding
                errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    writer = subprocess.run(
        [sys.executable, "-c", WRITER, str(index), str(corpus), *map(str, adds)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    stop.set()
    for t in threads:
        t.join()
    assert writer.returncode == 0, writer.stderr[-2000:]
    assert "rebuilt" in writer.stdout
    assert not errors, errors[:5]
    assert answered[0] > 20
    assert len(generations) >= 2, "readers saw the writer's commits"
    # The open index sees every committed document without reopening.
    for name, text in NEW_ARTICLES.items():
        assert idx.retrieve(quote_of(text), k=1)[0].doc_id == name
    assert idx.stats()["documents"] == len(base_ids) + len(NEW_ARTICLES)
    assert_nothing_lost(index, base_ids | set(NEW_ARTICLES))


def test_writers_take_turns(base, tmp_path):
    """Two adds at once both land: the second waits for the first's lock instead of losing its update."""
    index = copy_index(base[1], tmp_path / "ix")
    idx = load_index(index)
    results, errors = [], []

    def add(name: str) -> None:
        folder = write_corpus(tmp_path / f"w-{name}", {name: NEW_ARTICLES[name]})
        try:
            results.append(add_documents([folder], index, embedder=idx.embedder))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(n,)) for n in NEW_ARTICLES]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == len(NEW_ARTICLES)
    assert_nothing_lost(index, {d["id"] for d in load_index(base[1]).documents()} | set(NEW_ARTICLES))
