"""Whole answers: lists with all their items, reasons with their whole clause, nothing else extended."""

import pytest

from qa.answer.spans import asks_list, asks_reason, complete_list, complete_reason, completed


@pytest.mark.parametrize(
    "question, expected",
    [
        ("Which countries would take part?", True),
        ("Which post-Soviet republics would join the 3+3 discussions?", True),
        ("Who were the other contenders?", True),
        ("What other results came from round 4?", True),
        ("Which country abandoned the nuclear deal?", False),
        ("What is the name of the document?", False),
        ("What status does the bill have?", False),
        ("What does Iran export?", False),
    ],
)
def test_a_list_is_asked_for_by_a_plural(question, expected):
    assert asks_list(question) is expected


def test_reasons_are_asked_by_why():
    assert asks_reason("Why did Putin join by video?") and asks_reason("What prompted the move?")
    assert not asks_reason("Who joined by video?")


def _span(text, phrase):
    start = text.index(phrase)
    return start, start + len(phrase)


def test_a_list_cut_short_takes_its_last_items():
    text = "It involves the republics of Armenia, Azerbaijan and Georgia as well as the three big neighbours."
    start, end = _span(text, "Armenia, Azerbaijan")
    assert text[start : complete_list(text, start, end, len(text))] == "Armenia, Azerbaijan and Georgia"
    text = "The fair offered extensive retail areas, panels, celebrity appearances, an artist alley, and attendees in cosplay."
    start, end = _span(text, "extensive retail areas")
    whole = "extensive retail areas, panels, celebrity appearances, an artist alley, and attendees in cosplay"
    assert text[start : complete_list(text, start, end, len(text) - 1)] == whole


def test_a_span_that_ends_no_list_stays_as_it_is():
    text = "Lavrov, for his part, said Russia was supportive."
    start, end = _span(text, "Lavrov")
    assert complete_list(text, start, end, len(text)) == end
    # A clause after the comma is not another item: it has too many words.
    text = "Iran chose Moscow, which had hosted talks with the foreign ministers of many states before."
    start, end = _span(text, "Moscow")
    assert complete_list(text, start, end, len(text)) == end


def test_a_reason_takes_the_rest_of_its_clause_only():
    text = "US troops stayed to prevent ISIS from gaining ground again, officials said."
    start, end = _span(text, "to prevent ISIS")
    assert text[start : complete_reason(text, start, end, len(text))] == "to prevent ISIS from gaining ground again"
    long_tail = "They left because of the storm " + "and many other things that " * 5 + "happened."
    start, end = _span(long_tail, "because of the storm")
    assert complete_reason(long_tail, start, end, len(long_tail)) == end


def test_other_questions_are_left_alone():
    text = "Iran, Russia and China met."
    start, end = _span(text, "Iran")
    assert completed("Which country hosted?", text, start, end, len(text)) == end
    assert completed("Which countries met?", text, start, end, len(text)) == text.index(" met")
