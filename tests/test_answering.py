"""Answers with cited spans on the real pipeline: default article, follow-ups, abstention, a second corpus."""

import json
from pathlib import Path

import pytest
from conftest import shared_path

from qa.answering import answer_question, deliberate
from qa.evaluation import contains_answer, normalize_answer

QUESTIONS = Path(__file__).parent / "data" / "default_questions.jsonl"


def _matches(prediction: str, gold: str) -> bool:
    """The gold answer inside the prediction, or a prediction of two words or more inside the gold answer."""
    p, g = normalize_answer(prediction), normalize_answer(gold)
    return g in p or (len(p.split()) >= 2 and p in g)


def assert_citations_exact(index, answer):
    for c in answer.citations:
        assert index.document(c.doc_id).text[c.start : c.end] == c.quote
        assert c.title == index.document(c.doc_id).title


def test_three_plus_three(default_index):
    a = default_index.answer("Who proposed the 3+3 format?")
    assert not a.abstained
    assert a.text == "Sergei Lavrov"
    assert "3+3" in a.citations[0].quote, "the main evidence is cited first"
    # "He revealed a proposal ..." is cited together with the sentence naming who "he" is.
    assert "Lavrov, for his part" in a.citations[0].quote
    assert any(a.text in c.quote for c in a.citations), "the short answer is a substring of a cited quote"
    assert a.citations[0].published == "2021-10-11"
    assert 0.0 <= a.confidence <= 1.0
    assert_citations_exact(default_index, a)


def test_questions_about_the_default_article(default_index):
    rows = [json.loads(line) for line in QUESTIONS.read_text().splitlines()]
    right = []
    for row in rows:
        a = default_index.answer(row["question"])
        assert_citations_exact(default_index, a)
        if row["answers"]:
            ok = not a.abstained and any(_matches(a.text, g) for g in row["answers"])
            if ok:
                assert any(a.text in c.quote for c in a.citations)
        else:
            ok = a.abstained and a.text is None and not a.citations and bool(a.passages)
        right.append((ok, row["question"], a.text))
    answerable = [r for r, row in zip(right, rows) if row["answers"]]
    unanswerable = [r for r, row in zip(right, rows) if not row["answers"]]
    assert sum(r[0] for r in answerable) >= 0.8 * len(answerable), [r for r in answerable if not r[0]]
    assert sum(r[0] for r in unanswerable) >= 0.8 * len(unanswerable), [r for r in unanswerable if not r[0]]


@pytest.mark.parametrize(
    "question",
    ["What is the population of Armenia?", "Who won the 2018 World Cup?", "What is the capital of Australia?"],
)
def test_abstains_when_the_articles_do_not_say(default_index, question):
    a = default_index.answer(question)
    assert a.abstained and a.text is None and a.citations == ()
    assert a.passages, "the closest passages are still shown"
    assert a.confidence < 0.5


def test_follow_up_resolved_from_history(default_index):
    first = default_index.answer("Who is Iran's foreign minister?")
    assert first.text == "Hussein Amir-Abdollahian"
    follow = default_index.answer("Where did he travel?", history=[first])
    assert follow.text == "Moscow"
    assert "Amir-Abdollahian" in follow.resolved_question
    # Plain strings and (question, answer) pairs are accepted as history too.
    assert default_index.answer("Where did he travel?", history=[(first.question, first.text)]).text == "Moscow"
    # Without history the pronoun has nothing to resolve to.
    assert default_index.answer("Where did he travel?").resolved_question == "Where did he travel?"


def test_follow_up_lists_the_countries(default_index):
    first = default_index.answer("Who proposed the 3+3 format?")
    a = default_index.answer("Which countries support it?", history=[first])
    assert a.text == "Armenia, Azerbaijan and Georgia"
    assert_citations_exact(default_index, a)


def test_deliberation_lists_scored_candidates(default_index):
    d = deliberate(default_index, "Who joined the talks via video conference?")
    assert d.sentences[0].score >= d.sentences[-1].score
    texts = {c.text for c in d.candidates}
    assert "Vladimir Putin" in texts
    assert all(0.0 <= c.probability <= 1.0 for c in d.candidates)


def test_answer_to_dict_matches_the_cli_json(default_index):
    data = answer_question(default_index, "Who joined the talks via video conference?").to_dict()
    assert set(data) == {"question", "answer", "abstained", "confidence", "citations", "passages"}
    assert set(data["citations"][0]) >= {"doc_id", "title", "published", "start", "end", "quote"}
    assert set(data["passages"][0]) == {"doc_id", "title", "start", "end", "score", "text"}


def test_evaluation_corpus_answers_come_with_their_quote(tmp_path):
    """On real SQuAD 2.0 paragraphs, most answers to answerable questions are quoted by the first citation."""
    from qa.index import load_index
    from qa.indexing import build_index

    set_dir = shared_path("eval", "squad2-tune")
    docs = [json.loads(line) for line in (set_dir / "corpus.jsonl").read_text().splitlines()][:12]
    (tmp_path / "c.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    build_index([tmp_path / "c.jsonl"], tmp_path / "ix")
    idx = load_index(tmp_path / "ix")
    ids = {d["id"] for d in docs}
    questions = [json.loads(line) for line in (set_dir / "questions.jsonl").read_text().splitlines()]
    questions = [q for q in questions if q["doc_id"] in ids and q["answers"]][:40]
    hits = 0
    for q in questions:
        a = idx.answer(q["question"])
        assert_citations_exact(idx, a)
        hits += bool(a.citations) and contains_answer(a.citations[0].quote, q["answers"])
    assert hits >= 0.5 * len(questions), f"{hits}/{len(questions)} first citations hold the answer"
