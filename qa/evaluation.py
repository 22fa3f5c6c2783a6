"""Measured quality on a question set: retrieval of the gold document, answers, and abstention.

A set is a folder with `corpus.jsonl` (id, title, text) and `questions.jsonl` (id, question,
answers, doc_id); `answers: []` marks a question the corpus cannot answer.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import string
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.encoders.models import cache_root
from qa.errors import InputError, QAError
from qa.progress import progress_bar

CORPUS_FILE = "corpus.jsonl"
QUESTIONS_FILE = "questions.jsonl"
RECALL_AT = (1, 5, 10)
MRR_DEPTH = 10
# Passages fetched per question: enough that 10 distinct documents usually come back.
RETRIEVE_DEPTH = 40
RETRIEVE_MAX = 100


@dataclass(frozen=True)
class Question:
    """One evaluation question; no answers means the corpus cannot answer it."""

    id: str
    question: str
    answers: tuple[str, ...]
    doc_id: str | None

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


# ---------------------------------------------------------------- SQuAD normalisation and scores

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = frozenset(string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals a normalised gold answer."""
    pred = normalize_answer(prediction)
    return float(any(pred == normalize_answer(g) for g in golds))


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """SQuAD token F1, the best over the gold answers."""
    pred = normalize_answer(prediction).split()
    best = 0.0
    for gold in golds:
        ref = normalize_answer(gold).split()
        common = sum((Counter(pred) & Counter(ref)).values())
        if common:
            precision, recall = common / len(pred), common / len(ref)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def contains_answer(quote: str, golds: Sequence[str]) -> bool:
    """True when a normalised gold answer occurs as whole words in the normalised quote."""
    hay = f" {normalize_answer(quote)} "
    return any(n and f" {n} " in hay for n in (normalize_answer(g) for g in golds))


def ranked_documents(doc_ids: Iterable[str], depth: int = MRR_DEPTH) -> list[str]:
    """Distinct document ids in first-seen order, at most `depth` of them."""
    return list(dict.fromkeys(doc_ids))[:depth]


def _ratio(num: float, den: float) -> float:
    # An undefined ratio (nothing to count) reads 0, as scikit-learn's zero_division=0 does.
    return num / den if den else 0.0


# ---------------------------------------------------------------- the set and its index


def load_questions(path: Path) -> list[Question]:
    """The questions of a set, or InputError naming the first bad line."""
    questions = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                answers = rec.get("answers") or []
                if isinstance(answers, str):
                    answers = [answers]
                questions.append(
                    Question(str(rec.get("id", n)), str(rec["question"]), tuple(map(str, answers)), rec.get("doc_id"))
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise InputError(f"{path}:{n} is not a question record with a 'question' field ({exc})") from exc
    return questions


def _check_set(set_dir: Path) -> None:
    if not set_dir.is_dir():
        raise InputError(f"no evaluation set at {set_dir}: give a folder holding {CORPUS_FILE} and {QUESTIONS_FILE}")
    for name in (CORPUS_FILE, QUESTIONS_FILE):
        if not (set_dir / name).is_file():
            raise InputError(f"{set_dir} has no {name}; an evaluation set holds {CORPUS_FILE} and {QUESTIONS_FILE}")


def default_index_dir(set_dir: Path) -> Path:
    """SET_DIR/.index when the set's folder is writable, else a cache folder keyed by the corpus's content."""
    # Write bits are honoured even for root: a shared, read-only set must stay untouched.
    if os.access(set_dir, os.W_OK) and set_dir.stat().st_mode & 0o222:
        return set_dir / ".index"
    digest = hashlib.sha256((set_dir / CORPUS_FILE).read_bytes()).hexdigest()[:16]
    return cache_root() / "eval" / digest


def _index_matches(index_dir: Path, corpus: Path) -> bool:
    """True when the index holds exactly the corpus's documents, built with today's model and chunker."""
    from qa.encoders.embedding import default_encoder
    from qa.encoders.models import resolve_model
    from qa.ingest.chunking import ChunkerSettings
    from qa.ingest.corpus import load_corpus
    from qa.ingest.documents import content_hash
    from qa.search.sharded import open_generation
    from qa.store.generations import current_generation

    try:
        store = open_generation(current_generation(index_dir))
    except QAError:
        return False
    try:
        m = store.manifest
        if m.model_id != resolve_model(None).id or m.chunker != ChunkerSettings().__dict__:
            return False
        if m.encoder != default_encoder():
            return False
        return store.document_hashes() == {d.id: content_hash(d) for d in load_corpus([corpus])}
    finally:
        store.close()


def open_set_index(set_dir: Path, index_dir: Path | None, progress: bool, reader: str | None = None):
    """The index to evaluate with: `index_dir` as given, or the set's default one, built when stale."""
    from qa.index import load_index
    from qa.indexing.build import build_index

    corpus = set_dir / CORPUS_FILE
    if index_dir is not None and (index_dir / "CURRENT").exists():
        return load_index(index_dir, reader=reader)
    target = index_dir or default_index_dir(set_dir)
    if index_dir is None and _index_matches(target, corpus):
        return load_index(target, reader=reader)
    if progress:
        print(f"building the index of {corpus} in {target}", file=sys.stderr)
    target.parent.mkdir(parents=True, exist_ok=True)
    build_index([corpus], target, progress=progress)
    return load_index(target, reader=reader)


# ---------------------------------------------------------------- running


def _retrieve_docs(idx, question: str) -> list[str]:
    """The first 10 distinct documents of the retrieval ranking."""
    k = RETRIEVE_DEPTH
    while True:
        passages = idx.retrieve(question, k=k)
        docs = ranked_documents(p.doc_id for p in passages)
        if len(docs) >= MRR_DEPTH or len(passages) < k or k >= RETRIEVE_MAX:
            return docs
        k = RETRIEVE_MAX


def _answers_available() -> bool:
    try:
        import qa.answer.answering  # noqa: F401
    except ImportError:
        return False
    return True


def _rank_of(doc_id: str, docs: list[str]) -> int | None:
    """1-based rank of `doc_id` in `docs`, or None."""
    return docs.index(doc_id) + 1 if doc_id in docs else None


def score_questions(idx, questions: Sequence[Question], progress: bool = True, answers: bool = True) -> dict[str, Any]:
    """Ask every question of the set against an open index and return the metrics of issue 5's JSON."""
    hits = dict.fromkeys(RECALL_AT, 0)
    rr = 0.0
    # The same measures over the answer's passages, which the reader reranks, then retrieval's others.
    read_hits = dict.fromkeys(RECALL_AT, 0)
    read_rr = 0.0
    with_gold = 0
    em = f1 = span = 0.0
    abstained_right = abstained_wrong = 0
    n_answerable = sum(q.answerable for q in questions)
    n_unanswerable = len(questions) - n_answerable
    for q in progress_bar(questions, desc="asking", unit="q", enabled=progress):
        docs: list[str] = []
        if q.doc_id is not None:
            with_gold += 1
            docs = _retrieve_docs(idx, q.question)
            rank = _rank_of(q.doc_id, docs)
            rr += 1.0 / rank if rank else 0.0
            for k in RECALL_AT:
                hits[k] += bool(rank) and rank <= k
        if not answers:
            continue
        ans = idx.answer(q.question)
        if q.doc_id is not None:
            rank = _rank_of(q.doc_id, ranked_documents([p.doc_id for p in ans.passages] + docs))
            read_rr += 1.0 / rank if rank else 0.0
            for k in RECALL_AT:
                read_hits[k] += bool(rank) and rank <= k
        if q.answerable:
            text = "" if ans.abstained or not ans.text else ans.text
            em += exact_match(text, q.answers)
            f1 += token_f1(text, q.answers)
            span += bool(ans.citations) and not ans.abstained and contains_answer(ans.citations[0].quote, q.answers)
            abstained_wrong += ans.abstained
        else:
            abstained_right += ans.abstained
    result: dict[str, Any] = {
        "retrieval": {f"recall@{k}": _ratio(hits[k], with_gold) for k in RECALL_AT},
        "reranked": None,
        "answers": None,
        "abstention": None,
        "n_questions": len(questions),
        "n_answerable": n_answerable,
    }
    result["retrieval"][f"mrr@{MRR_DEPTH}"] = _ratio(rr, with_gold)
    if answers:
        result["reranked"] = {f"recall@{k}": _ratio(read_hits[k], with_gold) for k in RECALL_AT}
        result["reranked"][f"mrr@{MRR_DEPTH}"] = _ratio(read_rr, with_gold)
        result["answers"] = {
            "exact_match": _ratio(em, n_answerable),
            "f1": _ratio(f1, n_answerable),
            "span_hit@1": _ratio(span, n_answerable),
        }
        result["abstention"] = {
            "precision": _ratio(abstained_right, abstained_right + abstained_wrong),
            "recall": _ratio(abstained_right, n_unanswerable),
        }
    return result


def evaluate_set(
    set_dir: str | Path,
    index_dir: str | Path | None = None,
    limit: int | None = None,
    progress: bool = True,
    reader: str | None = None,
) -> dict[str, Any]:
    """Build or reuse the set's index, ask its questions (the first `limit`), and return the metrics."""
    set_dir = Path(set_dir)
    _check_set(set_dir)
    if limit is not None and limit < 1:
        raise InputError(f"--limit must be a positive number of questions, not {limit}")
    questions = load_questions(set_dir / QUESTIONS_FILE)[:limit]
    if not questions:
        raise InputError(f"{set_dir / QUESTIONS_FILE} holds no questions")
    idx = open_set_index(set_dir, Path(index_dir) if index_dir is not None else None, progress, reader)
    try:
        return score_questions(idx, questions, progress=progress, answers=_answers_available())
    finally:
        idx.close()


def format_report(result: dict[str, Any]) -> str:
    """The metrics as a short table for people."""
    lines = [f"{result['n_questions']} questions, {result['n_answerable']} answerable"]

    def section(title: str, values: dict[str, float] | None) -> None:
        lines.append(f"{title}:")
        if values is None:
            lines.append("  (not measured)")
            return
        lines.extend(f"  {name:<12} {value:6.3f}" for name, value in values.items())

    section("retrieval (gold document)", result["retrieval"])
    if result.get("reranked"):
        section("answer passages, reranked by the reader (gold document)", result["reranked"])
    section("answers (answerable questions)", result["answers"])
    section("abstention (unanswerable questions)", result["abstention"])
    return "\n".join(lines)
