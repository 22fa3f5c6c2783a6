"""Questions about an article itself, answered from its metadata with exact citations, on real indexes."""

import json

import pytest
from conftest import shared_path

from qa.answer.metadata import AUTHOR, FOUND_IN_TEXT, METADATA_ONLY, PUBLISHED, SOURCE, article_question

# Made-up articles: one says its author and date in a byline and dateline, one says neither, and its
# outlet only in the metadata; the third is written as Wikinews writes its date.
RESERVOIR = (
    "By Lucia Ferrante\n"
    "Posted August 9, 2022\n\n"
    "Reservoir levels fall as drought enters third month\n\n"
    "The Altmoor reservoir is at 31% of its capacity, the water board said on Tuesday, and it supplies "
    "drinking water to 240,000 people in the valley. Engineers said rain in September would not be enough.\n"
)
STRIKE = (
    "Vellmar dock strike ends with pay deal\n\n"
    "Dock workers in Vellmar returned to work on Monday after the union accepted a 6.5% pay rise. "
    "Union secretary Marta Olsen said the deal was the best in a decade.\n"
)
COLLAPSE = (
    "Friday, January 4, 2019\n\n\n"
    "An apartment building collapsed on Monday in Magnitogorsk, a city in the Ural region of Russia. A suspected "
    "gas leak led to an explosion, followed by the ten-storey building coming down on 31 December 2018.\n"
)
ARTICLES = [
    {
        "id": "reservoir",
        "title": "Reservoir levels fall as drought enters third month",
        "text": RESERVOIR,
        "author": "Lucia Ferrante",
        "source": "Valley Gazette",
        "published": "2022-08-09",
    },
    {
        "id": "strike",
        "title": "Vellmar dock strike ends with pay deal",
        "text": STRIKE,
        "author": "Jane Doe",
        "source": "Harbour Times",
        "published": "2024-03-05",
    },
    {"id": "collapse", "title": "Magnitogorsk building collapses", "text": COLLAPSE, "published": "2019-01-04"},
]


@pytest.fixture(scope="module")
def made_up_index(tmp_path_factory):
    from qa.index import load_index
    from qa.indexing.build import build_index

    folder = tmp_path_factory.mktemp("about-articles")
    (folder / "articles.jsonl").write_text("".join(json.dumps(a) + "\n" for a in ARTICLES))
    build_index([folder / "articles.jsonl"], folder / "ix")
    return load_index(folder / "ix")


def assert_exact(index, answer):
    for cited in (answer.span, *answer.citations):
        if cited is not None:
            assert index.document(cited.doc_id).text[cited.start : cited.end] == cited.quote
    if answer.span is not None:
        first = answer.citations[0]
        assert first.doc_id == answer.span.doc_id and first.start <= answer.span.start <= answer.span.end <= first.end


@pytest.mark.parametrize(
    "question,field,topic",
    [
        ("When was the article about the Caspian talks published?", PUBLISHED, "the Caspian talks"),
        ("When was the article published?", PUBLISHED, ""),
        ("On what date was the story on the dock strike posted?", PUBLISHED, "the dock strike"),
        ("What is the publication date of the article about the reservoir?", PUBLISHED, "the reservoir"),
        ("Who wrote the article about the reservoir?", AUTHOR, "the reservoir"),
        ("Who is the author of this piece?", AUTHOR, ""),
        ("Who was the story about the drought written by?", AUTHOR, "the drought"),
        ("Which newspaper published the story about the dock strike?", SOURCE, "the dock strike"),
        ("In which newspaper did the article about the strike appear?", SOURCE, "the strike"),
        ("Where was the news article about Magnitogorsk published?", SOURCE, "Magnitogorsk"),
    ],
)
def test_questions_about_an_article_are_known_by_their_form(question, field, topic):
    asked = article_question(question)
    assert asked is not None and (asked.field, asked.topic) == (field, topic)


@pytest.mark.parametrize(
    "question",
    [
        "When was the book published?",
        "Who wrote the letter to the minister?",
        "Who proposed the 3+3 format?",
        # Outlets named in a story are news: these ask which outlet the story cites, not which ran it.
        "Which newspaper reported that the talks had failed?",
        "Which outlet reported the Caspian talks?",
        "Which Iranian news agency broke the story of the arrest warrant?",
        "Who wrote the critical Times columns?",
    ],
)
def test_other_questions_are_left_to_the_reader(question):
    assert article_question(question) is None


def test_no_question_of_the_shared_sets_is_taken_for_one_about_an_article():
    """News, Wikipedia and people's-words questions about stories: the article's own metadata answers none."""
    taken, asked = [], 0
    for parts in (("train", "news-qa"), ("eval", "wikinews-dev"), ("eval", "squad2-tune")):
        for line in (shared_path(*parts) / "questions.jsonl").read_text(encoding="utf-8").splitlines():
            question = json.loads(line)["question"]
            asked += 1
            taken += [question] if article_question(question) else []
    assert asked > 8000 and taken == []


def test_date_of_the_default_article_is_quoted_from_its_dateline(default_index, default_text):
    for question in ("When was the article about the Caspian talks published?", "When was the article published?"):
        a = default_index.answer(question)
        assert not a.abstained and a.text == "11 October 2021" and a.confidence == FOUND_IN_TEXT
        start = default_text.index("11 October 2021")
        assert (a.span.start, a.span.end) == (start, start + len("11 October 2021"))
        line = default_text.index("Publish Date : 11 October 2021 - 21:30")
        [cite] = a.citations
        assert (cite.start, cite.end, cite.quote) == (line, line + 38, "Publish Date : 11 October 2021 - 21:30")
        assert_exact(default_index, a)
        data = a.to_dict()
        assert data["answer_span"]["quote"] == "11 October 2021" and data["best_guess"] is None


def test_outlet_of_the_default_article_is_its_site_line(default_index, default_text):
    a = default_index.answer("Which outlet published the story about the Caspian talks?")
    assert a.text == "kayhan.ir" and (a.span.start, a.span.end) == (0, len("kayhan.ir"))
    assert a.citations[0].quote == "kayhan.ir" and a.confidence == FOUND_IN_TEXT
    assert_exact(default_index, a)


def test_an_article_without_a_byline_has_no_author_to_give(default_index):
    """The article names many people; none of them wrote it, so the answer is that it does not say."""
    a = default_index.answer("Who wrote the article about the Caspian talks?")
    assert a.abstained and a.text is None and a.best_guess is None and a.passages


def test_byline_and_dateline_of_a_record_are_quoted(made_up_index):
    a = made_up_index.answer("Who wrote the article about the Altmoor reservoir?")
    assert a.text == "Lucia Ferrante" and a.confidence == FOUND_IN_TEXT
    assert (a.span.start, a.citations[0].quote) == (RESERVOIR.index("Lucia"), "By Lucia Ferrante")
    assert_exact(made_up_index, a)
    a = made_up_index.answer("When was the story about the Altmoor reservoir published?")
    assert a.text == "August 9, 2022" and a.citations[0].quote == "Posted August 9, 2022"
    assert a.span.start == RESERVOIR.index("August 9, 2022")
    assert_exact(made_up_index, a)


def test_a_wikinews_dateline_is_quoted_with_its_weekday(made_up_index):
    a = made_up_index.answer("When was the article about the Magnitogorsk building collapse published?")
    assert a.text == "Friday, January 4, 2019" and (a.span.start, a.span.end) == (0, len("Friday, January 4, 2019"))
    assert_exact(made_up_index, a)


def test_metadata_the_text_does_not_hold_is_cited_by_the_title_line(made_up_index):
    title_line = (0, len("Vellmar dock strike ends with pay deal"))
    for question, value in (
        ("Which newspaper published the article about the Vellmar dock strike?", "Harbour Times"),
        ("Who wrote the story about the Vellmar dock strike?", "Jane Doe"),
        ("When was the article about the Vellmar dock strike published?", "2024-03-05"),
    ):
        a = made_up_index.answer(question)
        assert (a.text, a.abstained, a.confidence, a.span) == (value, False, METADATA_ONLY, None)
        [cite] = a.citations
        assert (cite.doc_id, cite.start, cite.end) == ("strike", *title_line)
        assert_exact(made_up_index, a)


def test_the_article_alone_means_the_one_the_conversation_is_about(made_up_index):
    first = made_up_index.answer("Who is the union secretary in Vellmar?")
    assert first.citations and first.citations[0].doc_id == "strike"
    follow = made_up_index.answer("When was the article published?", history=[first])
    assert follow.text == "2024-03-05" and follow.citations[0].doc_id == "strike"
    # Without a conversation, "the article" among three is none in particular.
    alone = made_up_index.answer("When was the article published?")
    assert alone.abstained and alone.text is None
