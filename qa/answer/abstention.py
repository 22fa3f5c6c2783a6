"""Whether to answer at all: a small logistic model over what a question's reading shows.

The reader's margin over no-answer alone separates answerable from unanswerable questions poorly
(ROC AUC 0.67 on squad2-tune): a confident span on the wrong topic looks like a right one. What else
a reading shows helps: whether other passages agree on the span, how far it beats the runner-up,
whether the span has the form the question asks for, and retrieval's scores relative to the question's
own candidates. Nothing measures how many of a passage's words the question copies: people ask in their
own words, and such a feature made their answers look unsure. The weights, the answering threshold and
the threshold for tentative answers are fitted by ``bench/tune_answers.py`` for one reader, mostly on
news questions, and kept in its folder (``qa/models/reader/abstention.json`` for the shipped one); the
probability, calibrated on those questions, is the answer's confidence.
A reader without one answers where a span beats no-answer, as extractive models are trained to.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from qa.answer.questions import asked_part
from qa.answer.reader import ReadSpan
from qa.answer.reader_model import ABSTENTION_FILE
from qa.errors import ModelError
from qa.records import Passage
from qa.search.retrieval import query_terms
from qa.store.lexical import stem

FEATURES = (
    "gap",  # the best span's margin over its window's no-answer score
    "span_score",  # its start + end logits
    "no_answer",  # its window's no-answer score
    "runner_up",  # how far it beats the best span saying something else (10 when there is none)
    "agreeing",  # other passages' spans that say the same
    "retrieval_share",  # its passage's fused retrieval score over the question's best one
    "retrieval_lead",  # retrieval's best score over the mean of the question's candidates
    "first_passage",  # 1 when it comes from retrieval's first passage
    "question_in_span",  # share of the span's words that the question already holds
    "span_words",  # the span's length in words (log)
    "fits_question",  # 1 when the span has the form the question asks for (a name, a number, a date), 0 when not
)
# Below the answering threshold, a candidate this probable is still shown, as a tentative answer; one
# less probable is not worth a reader's time. For abstention files fitted before the threshold existed.
GUESS_AT = 0.05

# What a question's first words ask for, and what a span of that kind holds.
_ASKS = (
    (
        re.compile(r"\W*(how (many|much|long|old|far|big|large|high)|what (number|percentage|share|amount))\b", re.I),
        "number",
    ),
    (
        re.compile(r"\W*(when|what (year|date|day|month|time)|(on|in) (which|what) (year|date|day|month))\b", re.I),
        "date",
    ),
    (re.compile(r"\W*(who|whom|whose)\b", re.I), "name"),
)
_MONTHS_DAYS = (
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday today yesterday tomorrow week month year"
).split()
_NUMBER_WORDS = "one two three four five six seven eight nine ten eleven twelve dozen dozens hundred hundreds thousand thousands million millions billion half".split()


def asked_kind(question: str) -> str | None:
    """What the question asks for by its form, at its start or at its first wh-word ("In 2001, who…", "It was
    proposed by whom?"): "number", "date", "name", or None for anything else."""
    for text in (question, asked_part(question)):
        kind = next((kind for pattern, kind in _ASKS if pattern.match(text)), None)
        if kind is not None:
            return kind
    return None


def fits_question(question: str, span: str) -> float:
    """1 when the span has the form the question asks for, 0 when it has not, 0.5 when the form says nothing."""
    kind = asked_kind(question)
    if kind is None:
        return 0.5
    words = re.findall(r"[\w'-]+", span.lower())
    has_digit = any(ch.isdigit() for ch in span)
    if kind == "number":
        return 1.0 if has_digit or any(w in _NUMBER_WORDS for w in words) else 0.0
    if kind == "date":
        return 1.0 if has_digit or any(w.rstrip("s") in _MONTHS_DAYS for w in words) else 0.0
    return 1.0 if any(w[:1].isupper() for w in span.split()) else 0.0


def content_stems(text: str) -> set[str]:
    """The stems of the content words of `text` (stop words and entity tokens left out)."""
    return {stem(t) for t in query_terms(text) if "_" not in t}


def _normalised(text: str) -> str:
    return " ".join(text.lower().strip(" .,;:'\"").split())


def features(
    question: str,
    passages: Sequence[Passage],
    spans: Sequence[ReadSpan],
    best: ReadSpan,
    says: Callable[[ReadSpan], str] | None = None,
) -> list[float]:
    """The FEATURES of a reading whose chosen span is `best` (spans index into `passages`); `says` gives what a
    span says as an answer (its own words by default), which decides which spans agree.

    Retrieval enters only relative to the question's own candidates: its absolute fused score runs high
    for questions that copy a passage's words and low for the same question in a reader's own words.
    """
    says = says or (lambda sp: sp.text)
    said = _normalised(says(best))
    others = [sp for sp in spans if sp.passage != best.passage or sp.start >= best.end or sp.end <= best.start]
    runner_up = max((sp.gap for sp in others if _normalised(says(sp)) != said), default=None)
    agreeing = len(
        {sp.passage for sp in others if sp.passage != best.passage and said and _normalised(says(sp)) == said}
    )
    wanted = content_stems(question)
    passage = passages[best.passage]
    top = max(p.score for p in passages)
    mean = sum(p.score for p in passages) / len(passages)
    span_stems = content_stems(best.text)
    return [
        best.gap,
        best.score,
        best.no_answer,
        best.gap - runner_up if runner_up is not None else 10.0,
        float(agreeing),
        passage.score / top if top > 0 else 0.0,
        top / mean if mean > 0 else 1.0,
        1.0 if best.passage == 0 else 0.0,
        len(span_stems & wanted) / len(span_stems) if span_stems else 0.0,
        math.log1p(len(best.text.split())),
        fits_question(question, best.text),
    ]


@dataclass(frozen=True)
class AbstentionModel:
    """Logistic weights over standardised FEATURES and the probability below which answering abstains."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    answer_at: float
    # At or above this (and below answer_at) an abstention shows its candidate as a tentative answer.
    guess_at: float = GUESS_AT

    def probability(self, x: Sequence[float]) -> float:
        """The probability that the reading's span answers the question."""
        z = self.bias + sum(w * (v - m) / s for w, v, m, s in zip(self.weights, x, self.mean, self.scale))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def to_dict(self) -> dict:
        return {
            "features": list(FEATURES),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "weights": list(self.weights),
            "bias": self.bias,
            "answer_at": self.answer_at,
            "guess_at": self.guess_at,
        }


# The reader's own call: answer when the span beats no-answer (probability 0.5 at a gap of 0).
OWN_CALL = AbstentionModel(
    (0.0,) * len(FEATURES), (1.0,) * len(FEATURES), (1.0,) + (0.0,) * (len(FEATURES) - 1), 0.0, 0.5
)


def abstention_for(reader_folder: Path) -> AbstentionModel:
    """The abstention model fitted for the reader in `reader_folder`, or OWN_CALL when it has none."""
    path = Path(reader_folder) / ABSTENTION_FILE
    return load_model(path) if path.is_file() else OWN_CALL


@cache
def load_model(path: Path) -> AbstentionModel:
    """An abstention model saved by `AbstentionModel.to_dict`."""
    try:
        data = json.loads(path.read_text())
        if data["features"] != list(FEATURES):
            raise ValueError(f"it was fitted on other features ({', '.join(data['features'])})")
        return AbstentionModel(
            tuple(data["mean"]),
            tuple(data["scale"]),
            tuple(data["weights"]),
            float(data["bias"]),
            float(data["answer_at"]),
            float(data.get("guess_at", GUESS_AT)),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"cannot use the abstention model {path}: {exc}; reinstall the package") from None
