"""Short-answer candidates inside evidence sentences: typed entities, lists, reasons, untyped phrases."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from qa import entities as ner
from qa.evidence import Sentence, stem
from qa.questions import QuestionType

_WORD = re.compile(r"[\w’'\-+.%$]+")
_CUES = {
    "where": re.compile(r"\b(in|at|from|to|near|into|across|inside|outside)\s+(the\s+)?$", re.I),
    "when": re.compile(r"\b(on|in|at|since|by|until|during|before|after|from)\s+(the\s+)?$", re.I),
}
_REASON = re.compile(
    r"\b(because of|because|due to|owing to|after|over|as a result of|since|for fear of|to)\b\s+", re.I
)
_LEADING = re.compile(
    r"^(?:(?:the|a|an|of|to|in|on|and|that|was|were|is|are|by|for|with|as|its|their|his|her)\s+)+", re.I
)


@dataclass(frozen=True)
class Span:
    """A candidate short answer: offsets into its sentence's document, with the features that score it."""

    sentence: Sentence
    start: int  # document offsets
    end: int
    text: str
    label: str
    type_fit: float
    window: float
    cue: float
    in_question: float

    @property
    def score(self) -> float:
        return (
            0.6 * self.sentence.score
            + 0.5 * self.window
            + 0.35 * self.type_fit
            + 0.1 * self.cue
            - 0.6 * self.in_question
        )


def _clean_entity(text: str, start: int, end: int) -> tuple[int, int]:
    """Trim a leading article and unbalanced brackets that the recogniser sometimes includes."""
    piece = text[start:end]
    if piece.count("(") != piece.count(")"):
        cut = piece.rfind("(") if piece.count("(") > piece.count(")") else piece.rfind(")")
        piece = piece[:cut].rstrip()
        end = start + len(piece)
    return start, end


def _merge_adjacent(text: str, ents: list[ner.Entity], plural: bool) -> list[ner.Entity]:
    """Join "11" + "October 2021" into one date, and for plural questions "A, B and C" into one list."""
    out: list[ner.Entity] = []
    for e in ents:
        if out:
            prev = out[-1]
            gap = text[prev.end : e.start]
            joins_date = e.label == "DATE" and prev.label in ("CARDINAL", "DATE") and gap.strip() == ""
            joins_list = plural and prev.label == e.label and re.fullmatch(r",\s*|\s+and\s+|,\s*and\s+", gap)
            if joins_date or joins_list:
                out[-1] = ner.Entity(prev.start, e.end, e.label, text[prev.start : e.end])
                continue
        out.append(e)
    return out


def window_overlap(text: str, start: int, end: int, weights: dict[str, float], width: int = 8) -> float:
    """Share of the question's term weight found near text[start:end], nearer words counting more."""
    total = sum(weights.values())
    if not total:
        return 0.0
    before = [m.group() for m in _WORD.finditer(text[:start])][-width:]
    after = [m.group() for m in _WORD.finditer(text[end:])][:width]
    closeness: dict[str, float] = {}
    for distance, word in [(len(before) - i, w) for i, w in enumerate(before)] + [
        (i + 1, w) for i, w in enumerate(after)
    ]:
        term = stem(word.lower().strip("."))
        closeness[term] = max(closeness.get(term, 0.0), 1.0 - (distance - 1) / (2 * width))
    return sum(w * closeness[t] for t, w in weights.items() if t in closeness) / total


def _question_share(text: str, question_stems: set[str]) -> float:
    stems = [stem(w.lower().strip(".")) for w in _WORD.findall(text)]
    return sum(1 for s in stems if s in question_stems) / len(stems) if stems else 1.0


def entity_spans(
    sentences: list[Sentence], qtype: QuestionType, weights: dict[str, float], question_stems: set[str]
) -> list[Span]:
    """Entities of the evidence sentences as candidates, scored by type fit, nearby question words and cues."""
    spans = []
    for s, ents in zip(sentences, ner.entities([s.text for s in sentences])):
        for e in _merge_adjacent(s.text, list(ents), qtype.plural):
            fit = qtype.preference(e.label)
            if fit <= 0.0:
                continue
            a, b = _clean_entity(s.text, e.start, e.end)
            if b <= a:
                continue
            share = _question_share(s.text[a:b], question_stems)
            if share >= 0.99:
                continue
            cue_re = _CUES.get(qtype.wh)
            cue = 1.0 if cue_re and cue_re.search(s.text[max(0, a - 12) : a]) else 0.0
            spans.append(
                Span(
                    s,
                    s.start + a,
                    s.start + b,
                    s.text[a:b],
                    e.label,
                    fit,
                    window_overlap(s.text, a, b, weights),
                    cue,
                    share,
                )
            )
    return spans


def reason_spans(sentences: list[Sentence], weights: dict[str, float], question_stems: set[str]) -> list[Span]:
    """For "why" questions: the clause after a causal cue ("after self-isolating over COVID-19 fears")."""
    spans = []
    for s in sentences:
        for m in _REASON.finditer(s.text):
            rest = s.text[m.start() :]
            stop = re.search(r"[,;.:”\"]|\s(?:and|but|said|says)\s", rest[len(m.group()) :])
            end = m.start() + len(m.group()) + (stop.start() if stop else len(rest) - len(m.group()))
            text = s.text[m.start() : end].rstrip()
            if len(text.split()) < 3:
                continue
            share = _question_share(text, question_stems)
            spans.append(
                Span(
                    s,
                    s.start + m.start(),
                    s.start + m.start() + len(text),
                    text,
                    "REASON",
                    0.8,
                    window_overlap(s.text, m.start(), end, weights),
                    0.0,
                    share,
                )
            )
    return spans


def phrase_span(sentence: Sentence, question_stems: set[str], weights: dict[str, float]) -> Span | None:
    """For questions with no entity type: the longest run of the sentence the question does not contain."""
    tokens = list(_WORD.finditer(sentence.text))
    runs: list[tuple[int, int]] = []
    run_start = None
    for i, m in enumerate(tokens):
        inside = stem(m.group().lower().strip(".")) in question_stems
        if not inside and run_start is None:
            run_start = i
        if inside and run_start is not None:
            runs.append((run_start, i))
            run_start = None
    if run_start is not None:
        runs.append((run_start, len(tokens)))
    runs = [r for r in runs if r != (0, len(tokens))]
    if not runs:
        return None
    a, b = max(runs, key=lambda r: r[1] - r[0])
    start, end = tokens[a].start(), tokens[b - 1].end()
    lead = _LEADING.match(sentence.text[start:end])
    if lead:
        start += lead.end()
    end = start + len(sentence.text[start:end].rstrip(' .,;:”"'))
    if end <= start:
        return None
    return Span(
        sentence,
        sentence.start + start,
        sentence.start + end,
        sentence.text[start:end],
        "PHRASE",
        0.3,
        window_overlap(sentence.text, start, end, weights),
        0.0,
        0.0,
    )


def best_span(spans: list[Span], key: Callable[[Span], float] | None = None) -> Span | None:
    """The best candidate; one answer found in several sentences gathers their evidence."""
    if not spans:
        return None
    key = key or (lambda s: s.score)
    support: dict[str, int] = {}
    for s in spans:
        support[s.text.lower()] = support.get(s.text.lower(), 0) + 1
    return max(spans, key=lambda s: key(s) + 0.03 * (support[s.text.lower()] - 1))
