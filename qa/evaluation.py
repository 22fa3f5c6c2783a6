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
from collections.abc import Iterable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.calibration import Calibration, calibration
from qa.encoders.models import cache_root
from qa.errors import InputError, QAError
from qa.progress import progress_bar
from qa.records import Answer

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
    kind: str | None = None  # what sort of question a set says it is ("fact", "date", "unanswerable", …)

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
                kind = rec.get("kind")
                questions.append(
                    Question(
                        str(rec.get("id", n)),
                        str(rec["question"]),
                        tuple(map(str, answers)),
                        rec.get("doc_id"),
                        str(kind) if kind not in (None, "") else None,
                    )
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
    from qa.encoders.model_choice import resolve_model
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


def open_set_index(
    set_dir: Path, index_dir: Path | None, progress: bool, reader: str | None = None, question_model: str | None = None
):
    """The index to evaluate with: `index_dir` as given, or the set's default one, built when stale."""
    from qa.index import load_index
    from qa.indexing.build import build_index

    corpus = set_dir / CORPUS_FILE
    if index_dir is not None and (index_dir / "CURRENT").exists():
        return load_index(index_dir, reader=reader, question_model=question_model)
    target = index_dir or default_index_dir(set_dir)
    if index_dir is None and _index_matches(target, corpus):
        return load_index(target, reader=reader, question_model=question_model)
    if progress:
        print(f"building the index of {corpus} in {target}", file=sys.stderr)
    target.parent.mkdir(parents=True, exist_ok=True)
    build_index([corpus], target, progress=progress)
    return load_index(target, reader=reader, question_model=question_model)


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


# A shown candidate counts as right for calibration when its token F1 against a gold answer reaches this.
RIGHT_F1 = 0.5


@dataclass(frozen=True)
class Outcome:
    """What the index did with one question: where the gold document ranked, and the answer."""

    question: Question
    rank: int | None = None  # the gold document's in retrieval's first 10 documents, 1-based
    read_rank: int | None = None  # the same among the answer's passages, then retrieval's
    answer: Answer | None = None  # None when answers are not measured

    @property
    def shown(self) -> str | None:
        """The candidate a user sees: the answer, else the tentative one, else None."""
        a = self.answer
        if a is None:
            return None
        if not a.abstained:
            return a.text or None
        return a.best_guess.text if a.best_guess else None

    @property
    def f1(self) -> float:
        """Token F1 of the answer; for a question the corpus cannot answer, 1 when it abstained, else 0."""
        a = self.answer
        if a is None:
            return 0.0
        if not self.question.answerable:
            return float(a.abstained)
        return token_f1("" if a.abstained or not a.text else a.text, self.question.answers)

    @property
    def right(self) -> bool:
        """Whether the shown candidate (answer or tentative one) answers the question."""
        return (
            self.question.answerable
            and self.shown is not None
            and token_f1(self.shown, self.question.answers) >= RIGHT_F1
        )

    def details(self) -> dict[str, Any]:
        """One line of `qa eval --details`: the question, its gold answers and document, and what was shown."""
        a, q = self.answer, self.question
        cited = (a.citations or (a.best_guess.citations if a.best_guess else ())) if a else ()
        return {
            "id": q.id,
            "question": q.question,
            "kind": q.kind,
            "gold": list(q.answers),
            "answer": None if a is None or a.abstained else a.text,
            "best_guess": a.best_guess.text if a is not None and a.best_guess else None,
            "confidence": round(a.confidence, 4) if a is not None else None,
            "abstained": a.abstained if a is not None else None,
            "f1": round(self.f1, 4) if a is not None else None,
            "cited_doc": cited[0].doc_id if cited else None,
            "gold_doc": q.doc_id,
        }


def ask_questions(idx, questions: Sequence[Question], progress: bool = True, answers: bool = True) -> Iterator[Outcome]:
    """Ask every question against an open index, one Outcome each as it is answered."""
    for q in progress_bar(questions, desc="asking", unit="q", enabled=progress):
        docs: list[str] = []
        rank = read_rank = None
        if q.doc_id is not None:
            docs = _retrieve_docs(idx, q.question)
            rank = _rank_of(q.doc_id, docs)
        if not answers:
            yield Outcome(q, rank)
            continue
        ans = idx.answer(q.question)
        if q.doc_id is not None:
            read_rank = _rank_of(q.doc_id, ranked_documents([p.doc_id for p in ans.passages] + docs))
        yield Outcome(q, rank, read_rank, ans)


def _ranks(ranks: Sequence[int | None]) -> dict[str, float]:
    """Recall@k and MRR of the gold document's ranks (None: not among the first MRR_DEPTH)."""
    out = {f"recall@{k}": _ratio(sum(r is not None and r <= k for r in ranks), len(ranks)) for k in RECALL_AT}
    out[f"mrr@{MRR_DEPTH}"] = _ratio(sum(1.0 / r for r in ranks if r), len(ranks))
    return out


def figures(outcomes: Sequence[Outcome], answers: bool = True) -> dict[str, Any]:
    """Retrieval, reranking, answer and abstention figures of a run (answers' only when measured)."""
    with_gold = [o for o in outcomes if o.question.doc_id is not None]
    answerable = [o for o in outcomes if o.question.answerable]
    unanswerable = [o for o in outcomes if not o.question.answerable]
    result: dict[str, Any] = {
        "retrieval": _ranks([o.rank for o in with_gold]),
        "reranked": None,
        "answers": None,
        "abstention": None,
        "n_questions": len(outcomes),
        "n_answerable": len(answerable),
    }
    if answers:
        result["reranked"] = _ranks([o.read_rank for o in with_gold])
        texts = ["" if o.answer.abstained or not o.answer.text else o.answer.text for o in answerable]
        result["answers"] = {
            "exact_match": _ratio(
                sum(exact_match(t, o.question.answers) for t, o in zip(texts, answerable)), len(texts)
            ),
            "f1": _ratio(sum(o.f1 for o in answerable), len(answerable)),
            "span_hit@1": _ratio(sum(_span_hit(o) for o in answerable), len(answerable)),
            # SQuAD 2.0's figure: every question counts, an unanswerable one as 1 when answering abstained.
            "overall_f1": _ratio(sum(o.f1 for o in outcomes), len(outcomes)),
        }
        abstained_right = sum(o.answer.abstained for o in unanswerable)
        abstained_wrong = sum(o.answer.abstained for o in answerable)
        result["abstention"] = {
            "precision": _ratio(abstained_right, abstained_right + abstained_wrong),
            "recall": _ratio(abstained_right, len(unanswerable)),
        }
    return result


def _span_hit(o: Outcome) -> bool:
    a = o.answer
    return bool(a.citations) and not a.abstained and contains_answer(a.citations[0].quote, o.question.answers)


def calibration_of(outcomes: Sequence[Outcome]) -> Calibration:
    """Calibration of the confidences of every answer and tentative answer shown (a question the corpus
    cannot answer has no right candidate)."""
    shown = [o for o in outcomes if o.shown is not None]
    return calibration([o.answer.confidence for o in shown], [o.right for o in shown])


def summarize(outcomes: Sequence[Outcome], answers: bool = True) -> dict[str, Any]:
    """The figures of a run, the same figures for each kind of question when the set says kinds, and the
    calibration of its confidences."""
    result = figures(outcomes, answers)
    kinds = sorted({o.question.kind for o in outcomes if o.question.kind is not None})
    result["by_kind"] = (
        {kind: figures([o for o in outcomes if o.question.kind == kind], answers) for kind in kinds} if kinds else None
    )
    result["calibration"] = calibration_of(outcomes).to_dict() if answers else None
    return result


def score_questions(idx, questions: Sequence[Question], progress: bool = True, answers: bool = True) -> dict[str, Any]:
    """Ask every question of the set against an open index and return the metrics of issue 5's JSON."""
    return summarize(list(ask_questions(idx, questions, progress, answers)), answers)


def evaluate_set(
    set_dir: str | Path,
    index_dir: str | Path | None = None,
    limit: int | None = None,
    progress: bool = True,
    reader: str | None = None,
    details: str | Path | None = None,
    answers: bool = True,
    question_model: str | None = None,
) -> dict[str, Any]:
    """Build or reuse the set's index, ask its questions (the first `limit`), and return the metrics;
    `details` names a file to write one JSON line per question to, as each is answered; `answers` False
    measures retrieval alone; `question_model` embeds the questions (qa.encoders.question_model)."""
    set_dir = Path(set_dir)
    _check_set(set_dir)
    if limit is not None and limit < 1:
        raise InputError(f"--limit must be a positive number of questions, not {limit}")
    questions = load_questions(set_dir / QUESTIONS_FILE)[:limit]
    if not questions:
        raise InputError(f"{set_dir / QUESTIONS_FILE} holds no questions")
    # Opened first, so that a path that cannot be written fails before the index is built.
    with open(details, "w", encoding="utf-8") if details is not None else nullcontext() as out:
        idx = open_set_index(
            set_dir, Path(index_dir) if index_dir is not None else None, progress, reader, question_model
        )
        try:
            answers = answers and _answers_available()
            outcomes = []
            for outcome in ask_questions(idx, questions, progress, answers):
                outcomes.append(outcome)
                if out is not None:
                    out.write(json.dumps(outcome.details(), ensure_ascii=False) + "\n")
                    out.flush()
            return summarize(outcomes, answers)
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
    section("answers (answerable questions; overall_f1 over all, abstaining right on the rest)", result["answers"])
    section("abstention (unanswerable questions)", result["abstention"])
    if result.get("by_kind"):
        lines.extend(_kind_table(result["by_kind"]))
    if result.get("calibration"):
        lines.extend(_reliability_table(result["calibration"]))
    return "\n".join(lines)


def _kind_table(by_kind: dict[str, dict[str, Any]]) -> list[str]:
    """One row per kind of question: how many, and the main figures for that kind ("-" where a figure
    has nothing to count: answers of a kind with no answerable question, abstention of one with all)."""

    def figure(group: dict[str, float] | None, name: str, counted: bool) -> str:
        return f"{group[name]:>8.3f}" if group and counted else f"{'-':>8}"

    lines = [
        "by kind:",
        f"  {'kind':<14} {'questions':>9} {'answerable':>10} {'recall@5':>8}{'EM':>8}{'F1':>8}{'abst. P':>8}{'abst. R':>8}",
    ]
    for kind, f in by_kind.items():
        answerable, unanswerable = f["n_answerable"] > 0, f["n_questions"] > f["n_answerable"]
        answers, abstention = f["answers"], f["abstention"]
        lines.append(
            f"  {kind:<14} {f['n_questions']:>9} {f['n_answerable']:>10} {f['retrieval']['recall@5']:>8.3f}"
            f"{figure(answers, 'exact_match', answerable)}{figure(answers, 'f1', answerable)}"
            f"{figure(abstention, 'precision', unanswerable)}{figure(abstention, 'recall', unanswerable)}"
        )
    return lines


def _reliability_table(cal: dict[str, Any]) -> list[str]:
    """The expected calibration error and, per band of confidence that holds any, the share right."""
    if cal["ece"] is None:
        return ["calibration: no answer or tentative answer was shown"]
    lines = [
        f"calibration (answers and tentative answers, right when F1 >= {RIGHT_F1}): "
        f"ECE {cal['ece']:.3f} over {cal['count']}",
        f"  {'confidence':<12} {'count':>6} {'mean':>7} {'right':>7}",
    ]
    for band in cal["bands"]:
        if band["count"]:
            lines.append(
                f"  {band['low']:.1f}-{band['high']:.1f}{'':<5} {band['count']:>6} "
                f"{band['mean_confidence']:>7.3f} {band['share_right']:>7.3f}"
            )
    return lines
