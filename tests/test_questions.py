import pytest

from qa.questions import conversation_context, is_follow_up, question_type, rewrite_follow_up
from qa.records import Answer


@pytest.mark.parametrize(
    "question,wh,label",
    [
        ("Who proposed the 3+3 format?", "who", "PERSON"),
        ("When was the article published?", "when", "DATE"),
        ("What year did the Normans arrive?", "when", "DATE"),
        ("Where was the summit held?", "where", "GPE"),
        ("How many neighbours are there?", "how many", "CARDINAL"),
        ("Which countries would take part?", "which", "GPE"),
        ("What present day county is New Rochelle in?", "what", "GPE"),
        ("What is the name of the city?", "what", "GPE"),
        ("Which organization accepted Iran?", "which", "ORG"),
    ],
)
def test_question_types(question, wh, label):
    t = question_type(question)
    assert t.wh == wh and label in t.labels
    assert t.preference(label) > 0.5


def test_untyped_and_plural_questions():
    assert question_type("What agreement is being finalized?").labels == frozenset()
    assert question_type("Why did he leave?").wh == "why"
    assert question_type("Which countries would take part?").plural
    assert not question_type("Which country would take part?").plural
    who = question_type("Who said it?")
    assert who.preference("PERSON") > who.preference("ORG") > who.preference("NORP") > 0


def test_follow_up_detection_and_rewrite():
    assert is_follow_up("When did he say it?")
    assert is_follow_up("And Turkey?")
    assert not is_follow_up("Who proposed the 3+3 format?")
    history = [Answer("Who proposed the 3+3 format?", "Sergei Lavrov", False, 0.9)]
    rewritten = rewrite_follow_up("When did he say it?", history)
    assert rewritten.startswith("When did he say it?") and "Sergei Lavrov" in rewritten and "3+3" in rewritten
    assert rewrite_follow_up("Who is Maria Zakharova?", history) == "Who is Maria Zakharova?"
    assert rewrite_follow_up("When did he say it?", []) == "When did he say it?"


def test_history_shapes():
    for history in (
        [("Who proposed it?", "Lavrov")],
        [{"question": "Who proposed it?", "answer": "Lavrov"}],
        [{"role": "user", "content": "Who proposed it?"}, {"role": "assistant", "content": "Lavrov"}],
    ):
        ctx = conversation_context(history)
        assert ctx.last_question == "Who proposed it?" and ctx.last_answer == "Lavrov"
    assert conversation_context([]) is None


def test_unknown_head_noun_is_kept_for_untyped_questions():
    t = question_type("What treaty would keep foreign forces out of the region?")
    assert t.labels == frozenset() and t.head == "treaty"
    assert question_type("What did he say?").head is None
    assert question_type("What type of problem is it?").head is None
