"""Question answering over news articles, with answers backed by cited spans.

import qa
idx = qa.load_index("index")          # or qa.build_index("corpus", "index")
idx.retrieve("who proposed the 3+3 format?", k=5)
idx.answer("who proposed the 3+3 format?")
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qa.errors import QAError
from qa.records import Answer, Chunk, Citation, Document, Passage, Report, TimelineEntry

if TYPE_CHECKING:
    from qa.index import Index
    from qa.indexing.steps import BuildReport

__all__ = [
    "Answer",
    "BuildReport",
    "Chunk",
    "Citation",
    "Document",
    "Index",
    "Passage",
    "QAError",
    "Report",
    "TimelineEntry",
    "answer",
    "build_index",
    "load_index",
    "retrieve",
]
_open: dict[str, Index] = {}


def load_index(
    index_dir: str | Path = "index", model: str | None = None, ray: str | None = None, question_model: str | None = None
) -> Index:
    """Open a built index, sharded or not (see `qa.index.Index`); `ray` serves its shards from a Ray cluster;
    `question_model` embeds the questions (qa.encoders.question_model)."""
    from qa.index import load_index as _load

    return _load(index_dir, model=model, ray=ray, question_model=question_model)


def build_index(corpus, index_dir: str | Path = "index", model: str | None = None, progress: bool = False) -> Index:
    """Build an index of `corpus` (folders or files) in `index_dir` and open it."""
    from qa.indexing.build import build_index as _build

    _build(corpus, index_dir, model=model, progress=progress)
    return load_index(index_dir, model=model)


def _shared(index: str | Path) -> Index:
    key = str(Path(index).resolve())
    if key not in _open:
        _open[key] = load_index(index)
    return _open[key]


def retrieve(question: str, k: int = 5, index: str | Path = "index", **filters) -> list[Passage]:
    """Top `k` passages for `question` from the index folder `index` (opened once per process)."""
    return _shared(index).retrieve(question, k=k, **filters)


def answer(question: str, index: str | Path = "index", history: list | None = None, **kwargs) -> Answer:
    """An answer with cited spans from the index folder `index` (opened once per process)."""
    return _shared(index).answer(question, history=history, **kwargs)


def __getattr__(name: str):
    if name == "Index":
        from qa.index import Index

        return Index
    if name == "BuildReport":
        from qa.indexing.steps import BuildReport

        return BuildReport
    raise AttributeError(name)
