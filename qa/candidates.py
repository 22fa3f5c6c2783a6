"""Short-answer candidates inside evidence sentences: typed entities, lists, reasons, untyped phrases."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

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


FEATURES = (
    "sentence_dense",
    "sentence_lexical",
    "sentence_rank",
    "passage_rank",
    "window",
    "window_near",
    "type_fit",
    "cue",
    "in_question",
    "is_entity",
    "is_phrase",
    "is_list",
    "is_reason",
    "is_speaker",
    "length",
    "long",
    "label_person",
    "label_place",
    "label_date",
    "label_number",
    "label_org",
    "label_norp",
)
_WEIGHTS_FILE = Path(__file__).with_name("answer_ranker.json")


@lru_cache(maxsize=1)
def _ranker_file() -> dict:
    return json.loads(_WEIGHTS_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def ranker_weights() -> tuple[dict[str, float], float]:
    """Weights of the candidate ranker (set by hand, measured by bench/tune_answer_ranker.py)."""
    data = _ranker_file()
    return {k: float(data["weights"].get(k, 0.0)) for k in FEATURES}, float(data["bias"])


def abstain_below() -> float:
    """The confidence under which an answer is withheld."""
    return float(_ranker_file().get("abstain_below", 0.2))


def _label_features(label: str) -> dict[str, float]:
    return {
        "label_person": float(label == "PERSON"),
        "label_place": float(label in ("GPE", "LOC", "FAC")),
        "label_date": float(label in ("DATE", "TIME")),
        "label_number": float(label in ("CARDINAL", "QUANTITY", "MONEY", "PERCENT")),
        "label_org": float(label == "ORG"),
        "label_norp": float(label == "NORP"),
    }


@dataclass(frozen=True)
class Span:
    """A candidate short answer: offsets into its sentence's document, with the features that score it."""

    sentence: Sentence
    start: int  # document offsets
    end: int
    text: str
    label: str
    features: dict[str, float] = field(compare=False, hash=False)

    @property
    def probability(self) -> float:
        """Estimated probability that this span is a right answer."""
        weights, bias = ranker_weights()
        z = bias + sum(weights[k] * self.features.get(k, 0.0) for k in FEATURES)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def make_span(
    sentence: Sentence,
    sentence_position: int,
    start: int,
    end: int,
    label: str,
    type_fit: float,
    weights: dict[str, float],
    question_stems: set[str],
    cue: float = 0.0,
) -> Span:
    """A candidate for sentence.text[start:end] (sentence offsets) with its features computed."""
    text = sentence.text[start:end]
    n_words = len(text.split())
    features = {
        "sentence_dense": sentence.dense,
        "sentence_lexical": sentence.lexical,
        "sentence_rank": 1.0 / (1 + sentence_position),
        "passage_rank": 1.0 / sentence.passage_rank,
        "window": window_overlap(sentence.text, start, end, weights),
        "window_near": window_overlap(sentence.text, start, end, weights, width=3),
        "type_fit": type_fit,
        "cue": cue,
        "in_question": _question_share(text, question_stems),
        "is_entity": float(label not in ("NP", "REASON", "PHRASE")),
        "is_phrase": float(label in ("NP", "PHRASE")),
        "is_list": float(bool(re.search(r",|\band\b", text))),
        "is_reason": float(label == "REASON"),
        "is_speaker": 0.0,
        "length": min(n_words, 12) / 12.0,
        "long": float(n_words > 6),
        **_label_features(label),
    }
    return Span(sentence, sentence.start + start, sentence.start + end, text, label, features)


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


def _names_head(phrase: str, head: str) -> bool:
    """True when the phrase ends with the question's head noun ("... Sea treaty" for "what treaty")."""
    words = _WORD.findall(phrase.lower())
    return bool(words) and stem(words[-1]) == stem(head) and len(words) > 1


def _question_share(text: str, question_stems: set[str]) -> float:
    stems = [stem(w.lower().strip(".")) for w in _WORD.findall(text)]
    return sum(1 for s in stems if s in question_stems) / len(stems) if stems else 1.0


def entity_spans(
    sentences: list[Sentence], qtype: QuestionType, weights: dict[str, float], question_stems: set[str]
) -> list[Span]:
    """Entities (and, for untyped questions, noun phrases) of the evidence sentences as candidates."""
    spans = []
    analyses = ner.analyse([s.text for s in sentences], phrases=not qtype.labels)
    for position, (s, found) in enumerate(zip(sentences, analyses)):
        options = _merge_adjacent(s.text, list(found.entities), qtype.plural)
        if not qtype.labels:
            # With no entity type to look for, any noun phrase may be the answer.
            taken = {(e.start, e.end) for e in options}
            options += [p for p in found.noun_phrases or () if (p.start, p.end) not in taken]
        for e in options:
            fit = qtype.preference(e.label)
            if not qtype.labels and qtype.head and e.label == "NP" and _names_head(s.text[e.start : e.end], qtype.head):
                fit = 0.8  # "what treaty ..." -> "a pan-Caspian Sea treaty"
            if fit <= 0.0:
                continue
            a, b = _clean_entity(s.text, e.start, e.end)
            if b <= a or _question_share(s.text[a:b], question_stems) >= 0.99:
                continue
            if qtype.plural and not re.search(r",|\band\b", s.text[a:b]):
                fit *= 0.7  # "which countries ..." asks for several
            cue_re = _CUES.get(qtype.wh)
            cue = 1.0 if cue_re and cue_re.search(s.text[max(0, a - 12) : a]) else 0.0
            spans.append(make_span(s, position, a, b, e.label, fit, weights, question_stems, cue))
    return spans


def reason_spans(sentences: list[Sentence], weights: dict[str, float], question_stems: set[str]) -> list[Span]:
    """For "why" questions: the clause after a causal cue ("after self-isolating over COVID-19 fears")."""
    spans = []
    for position, s in enumerate(sentences):
        for m in _REASON.finditer(s.text):
            rest = s.text[m.end() :]
            stop = re.search(r"[,;.:”\"]|\s(?:and|but|said|says)\s", rest)
            end = m.end() + (stop.start() if stop else len(rest))
            end = m.start() + len(s.text[m.start() : end].rstrip())
            if len(s.text[m.start() : end].split()) < 3:
                continue
            spans.append(make_span(s, position, m.start(), end, "REASON", 0.8, weights, question_stems))
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
    return make_span(sentence, 0, start, end, "PHRASE", 0.3, weights, question_stems)


def best_span(spans: list[Span]) -> Span | None:
    """The most probable candidate; one answer found in several sentences gathers their evidence."""
    if not spans:
        return None
    support: dict[str, int] = {}
    for s in spans:
        support[s.text.lower()] = support.get(s.text.lower(), 0) + 1
    return max(spans, key=lambda s: s.probability + 0.02 * (support[s.text.lower()] - 1))
