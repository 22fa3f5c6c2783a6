"""A subject across articles, oldest first, on the story told on three dates with a rising toll."""

import pytest
from conftest import STORY, STORY_QUESTION

from qa.answer.timeline import number_in
from qa.errors import InputError
from qa.ui.chart import chart_points


def test_numbers_are_read_from_answers():
    assert number_in("at least 1,217 people") == 1217.0
    assert number_in("81") == 81.0 and number_in("4.5 percent") == 4.5
    assert number_in("Category five") is None and number_in(None) is None
    assert number_in("COVID-19 cases") == 19.0  # a number inside a name still reads as one; the chart shows it


def test_the_timeline_lists_each_article_oldest_first_with_its_number(story_index):
    entries = story_index.timeline(STORY_QUESTION)
    assert [e.published for e in entries] == [day for _, day, _, _ in STORY]
    assert [e.value for e in entries] == [54.0, 1124.0, 1217.0]
    for e in entries:
        c = e.citation
        assert story_index.document(c.doc_id).text[c.start : c.end] == c.quote and e.text in c.quote
    assert chart_points(entries) == [("2021-03-02", 54.0), ("2021-03-20", 1124.0), ("2021-04-07", 1217.0)]
    listed = entries[0].to_dict()
    assert set(listed) == {"date", "text", "value", "citation"} and listed["citation"]["doc_id"] == "flood-1"


def test_as_of_cuts_the_timeline(story_index):
    entries = story_index.timeline(STORY_QUESTION, as_of="2021-03-25")
    assert [e.published for e in entries] == ["2021-03-02", "2021-03-20"]
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        story_index.timeline(STORY_QUESTION, as_of="March")
    with pytest.raises(InputError, match="empty"):
        story_index.timeline("   ")
