"""Example questions come from the articles and are ones the index can answer."""

import re

from qa.ui.examples import candidate_questions, example_questions


def test_candidates_are_built_from_the_article(default_index):
    doc = default_index.document(default_index.documents()[0]["id"])
    questions = list(candidate_questions(doc))
    assert len(questions) >= 3
    for q in questions:
        assert q.endswith("?") and q.split()[0] in ("Who", "What")
        content = re.findall(r"[\w-]+", q)[1:]
        assert content and all(w.lower() in doc.text.lower() for w in content), q


def test_examples_are_answered(default_index):
    examples = example_questions(default_index, n=3)
    assert 1 <= len(examples) <= 3
    for q in examples:
        assert not default_index.answer(q).abstained
