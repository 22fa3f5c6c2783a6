"""Example questions come from the newest articles and are ones the index can answer."""

import re
import shutil

from conftest import CORPUS, ROOT

from qa.index import load_index
from qa.indexing.build import build_index
from qa.ui.examples import candidate_questions, example_questions


def test_candidates_are_built_from_the_article(default_index):
    doc = default_index.document(default_index.documents()[0]["id"])
    questions = list(candidate_questions(doc))
    assert len(questions) >= 3
    for q in questions:
        assert q.endswith("?") and q.split()[0] in ("Who", "What")
        content = re.findall(r"[\w-]+", q)[1:]
        assert content and all(w.lower() in doc.text.lower() for w in content), q


def test_a_role_question_keeps_the_role_and_not_the_clause_before_it():
    from qa.records import Document

    text = "Protesters said the vote was stolen from incumbent President Zara Quill on Saturday."
    questions = list(candidate_questions(Document("d", "Vote protest", text)))
    assert "Who is the incumbent President?" in questions
    assert not any(q.startswith("Who is the") and "stolen" in q for q in questions), questions
    text = "Two weeks before Indonesian President Joko Widodo spoke, deputy director Ana Lima left."
    questions = list(candidate_questions(Document("e", "Visit", text)))
    assert "Who is the Indonesian President?" in questions and "Who is the deputy director?" in questions
    assert not any("weeks" in q for q in questions), questions
    text = "On Tuesday, United States President Joko Lim spoke. Only President Ana Lima left."
    questions = list(candidate_questions(Document("f", "Visit", text)))
    assert "Who is the United States President?" in questions and "Who is the President?" in questions, questions


def test_examples_are_answered(default_index):
    examples = example_questions(default_index, n=3)
    assert 1 <= len(examples) <= 3
    for q in examples:
        assert not default_index.answer(q).abstained


def test_examples_read_only_the_newest_articles_and_do_not_vary(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "tests" / "data" / "pages", corpus)
    shutil.copytree(CORPUS, corpus, dirs_exist_ok=True)
    build_index(corpus, tmp_path / "index")
    idx = load_index(tmp_path / "index")
    newest = [idx.document(d["id"]) for d in idx.documents_page(limit=2)[0]]
    assert idx.manifest.documents > 2
    examples = example_questions(idx, n=3, max_docs=2)
    assert examples and example_questions(idx, n=3, max_docs=2) == examples
    for q in examples:
        assert any(q in candidate_questions(doc) for doc in newest), q
        assert not idx.answer(q).abstained
