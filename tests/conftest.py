"""Shared fixtures: the repo's default corpus, the shared data sets, and indexes built once per session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DEFAULT_ARTICLE = CORPUS / "000_670c52a8f442eec9.txt"
SHARED = ROOT.parent / "shared"
CHROMIUM = Path("/usr/bin/chromium")
# The keys of the object `qa ask --json` and the /ask endpoint return.
ANSWER_KEYS = {
    "question",
    "read_as",
    "answer",
    "answer_with_dates",
    "abstained",
    "confidence",
    "answer_span",
    "citations",
    "best_guess",
    "as_of",
    "earlier",
    "newer_report",
    "passages",
}


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test saying what is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: this test needs the shared data sets beside the repo")
    return path


TIED_TEXT = "The zephyrine lighthouse keeper logged zephyrine squalls all night."
TIED_TOPICS = (
    "harbour railway vaccine election drought museum satellite strike orchard bridge festival tariff "
    "glacier refinery library marathon census vineyard airport reservoir theatre mine bakery ferry"
).split()


def write_tied_corpus(folder: Path) -> tuple[Path, list[str]]:
    """A corpus in which 12 articles are copies of one text, so that they tie exactly on BM25, among 24
    distinct ones; the path and the copies' ids. The copies are written in reverse order of id, so that
    neither chunk ids nor shards order them as their ids do."""
    import json

    records = [
        {
            "id": f"news-{t}",
            "title": f"News about the {t}",
            "text": f"Officials spoke about the {t} on Monday. The {t} was in the news across the region.",
        }
        for t in TIED_TOPICS
    ]
    copies = [f"copy-{c}" for c in "lkjihgfedcba"]
    records += [{"id": i, "title": "Lighthouse log", "text": TIED_TEXT} for i in copies]
    path = folder / "tied.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path, copies


# One story on three dates: the toll rises, so only the newest report is right today.
STORY = [
    ("flood-1", "2021-03-02", "Flooding in Vardania kills 54", "54"),
    ("flood-2", "2021-03-20", "Vardania flood toll rises to 1,124", "1,124"),
    ("flood-3", "2021-04-07", "Vardania flood toll reaches 1,217", "1,217"),
]
STORY_QUESTION = "How many people have died in the floods in Vardania?"


def story_article(doc_id: str, day: str, title: str, toll: str) -> dict:
    text = (
        f"Heavy rain has kept falling on the river valleys of Vardania, officials said on Monday. "
        f"The floods in Vardania have killed {toll} people, the national disaster agency said. "
        "Rescue teams are still searching villages along the river, and roads to the north remain closed. "
        "Aid groups have asked for boats, tents and clean water."
    )
    return {"id": doc_id, "title": title, "published": day, "text": text}


def write_story_corpus(folder: Path) -> Path:
    """STORY's three articles as a JSON Lines corpus in `folder`."""
    import json

    corpus = folder / "story.jsonl"
    corpus.write_text("".join(json.dumps(story_article(*row)) + "\n" for row in STORY), encoding="utf-8")
    return corpus


@pytest.fixture(scope="module")
def story_index(tmp_path_factory):
    """An open index of STORY's three articles."""
    from qa.index import load_index
    from qa.indexing.build import build_index

    folder = tmp_path_factory.mktemp("story")
    build_index([write_story_corpus(folder)], folder / "index", progress=False)
    idx = load_index(folder / "index")
    yield idx
    idx.close()


def under_ci(env: Mapping[str, str] = os.environ) -> bool:
    """True when the CI variable is set to a true value, as CI services and `.ci/run` do."""
    return env.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_browser(path: Path = CHROMIUM, env: Mapping[str, str] = os.environ) -> Path:
    """The browser for the web app's page tests; without it, skip saying how to install it, but fail under CI,
    which installs it, so that the page tests never stop running there unnoticed."""
    if path.exists():
        return path
    message = f"{path} is missing: install Debian's browser with `apt-get install -y chromium` to run the page tests"
    if under_ci(env):
        pytest.fail(f"{message} (CI must run them; a skip here would hide that they stopped running)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def default_index_dir(tmp_path_factory) -> Path:
    """An index of the default corpus, built once for the session (tests must not change it)."""
    from qa.indexing.build import build_index

    path = tmp_path_factory.mktemp("default") / "index"
    build_index(CORPUS, path)
    return path


@pytest.fixture(scope="session")
def default_index(default_index_dir):
    from qa.index import load_index

    return load_index(default_index_dir)


@pytest.fixture(scope="session")
def reader_with_thresholds(tmp_path_factory):
    """A maker of reader folders: the shipped reader as a Hugging Face folder, its abstention model's
    `answer_at` and `guess_at` set as asked (for `--reader DIR`)."""
    import json

    from qa.answer.abstention import abstention_for
    from qa.answer.reader_model import SHIPPED_READER, assemble_shipped

    base = tmp_path_factory.mktemp("readers")
    assembled = assemble_shipped(base / "assembled" / "reader")
    # A reader's conversion is keyed by its folder's name and its weights' size and time: every copy is
    # named `reader` and given the shipped weights' time, so that all share one conversion, in later runs too.
    shipped = (SHIPPED_READER / "weights.safetensors").stat().st_mtime_ns
    os.utime(assembled / "model.safetensors", ns=(shipped, shipped))

    def make(answer_at: float, guess_at: float) -> Path:
        folder = base / f"answer-at-{answer_at}-guess-at-{guess_at}" / "reader"
        if not folder.exists():
            shutil.copytree(assembled, folder)
            model = {**abstention_for(SHIPPED_READER).to_dict(), "answer_at": answer_at, "guess_at": guess_at}
            (folder / "abstention.json").write_text(json.dumps(model))
        return folder

    return make


@pytest.fixture()
def index_copy(default_index_dir, tmp_path) -> Path:
    """A private copy of the default index that a test may change."""
    dst = tmp_path / "index"
    shutil.copytree(default_index_dir, dst)
    return dst


@pytest.fixture(scope="session")
def default_text() -> str:
    return DEFAULT_ARTICLE.read_text(encoding="utf-8")
