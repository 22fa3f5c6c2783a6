"""Shared fixtures: the repo's default corpus, the shared data sets, and indexes built once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DEFAULT_ARTICLE = CORPUS / "000_670c52a8f442eec9.txt"
SHARED = ROOT.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test saying what is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: this test needs the shared data sets beside the repo")
    return path


@pytest.fixture(scope="session")
def default_index_dir(tmp_path_factory) -> Path:
    """An index of the default corpus, built once for the session (tests must not change it)."""
    from qa.indexing import build_index

    path = tmp_path_factory.mktemp("default") / "index"
    build_index(CORPUS, path)
    return path


@pytest.fixture(scope="session")
def default_index(default_index_dir):
    from qa.index import load_index

    return load_index(default_index_dir)


@pytest.fixture()
def index_copy(default_index_dir, tmp_path) -> Path:
    """A private copy of the default index that a test may change."""
    dst = tmp_path / "index"
    shutil.copytree(default_index_dir, dst)
    return dst


@pytest.fixture(scope="session")
def default_text() -> str:
    return DEFAULT_ARTICLE.read_text(encoding="utf-8")
