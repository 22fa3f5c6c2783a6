import pytest

from qa.ingest.dates import find_dates, parse_date, parse_time, relative_dates, spoken_date


@pytest.mark.parametrize(
    "text,expected",
    [
        ("11 October 2021 - 21:30", "2021-10-11"),
        ("2019-01-04", "2019-01-04"),
        ("Friday, January 4, 2019", "2019-01-04"),
        ("2021-10-11T21:30:00Z", "2021-10-11"),
        ("Oct. 3, 2020", "2020-10-03"),
        ("31 February 2020", None),
        ("no date here", None),
        (None, None),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text) == expected


def test_parse_time():
    assert parse_time("11 October 2021 - 21:30") == "21:30"
    assert parse_time("no time") is None


def test_find_dates_gives_every_written_date_with_its_offsets():
    text = "Friday, January 4, 2019\nPublish Date : 11 October 2021 - 21:30; filed 2021-10-11, not 31 February 2020."
    found = find_dates(text)
    assert [(text[s:e], iso) for s, e, iso in found] == [
        ("Friday, January 4, 2019", "2019-01-04"),
        ("11 October 2021", "2021-10-11"),
        ("2021-10-11", "2021-10-11"),
    ]
    assert find_dates("Sunday 3 May 2021")[0][:2] == (0, 17)
    assert [text for *_, text in find_dates("salmonday 3 May 2021, room 211 May 2021")] == ["2021-05-03"]
    assert find_dates("no date here") == []


def test_relative_dates_resolve_against_the_publication_date():
    # Published on Wednesday 2 January 2019.
    text = "On Monday the mayor resigned. Yesterday it rained, as last week. Next Friday he leaves; last month, today."
    found = {text[s:e]: iso for s, e, iso in relative_dates(text, "2019-01-02")}
    assert found == {
        "Monday": "2018-12-31",
        "Yesterday": "2019-01-01",
        "last week": "week of 2018-12-24",
        "Next Friday": "2019-01-04",
        "last month": "2018-12",
        "today": "2019-01-02",
    }


def test_a_weekday_on_its_publication_day_is_that_day_and_last_goes_a_week_back():
    text = "It opened on Wednesday, not last Wednesday."
    assert [iso for _, _, iso in relative_dates(text, "2019-01-02")] == ["2019-01-02", "2018-12-26"]


def test_a_weekday_written_with_its_date_and_an_undated_article_are_left_alone():
    assert relative_dates("Monday, 31 December 2018 was cold.", "2019-01-02") == []
    assert relative_dates("It happened on Monday.", None) == []
    assert relative_dates("It happened on Monday.", "not a date") == []


def test_spoken_date():
    assert spoken_date("2018-12-31") == "31 December 2018"
    assert spoken_date("week of 2018-12-24") == "week of 24 December 2018"
    assert spoken_date("2019-09") == "September 2019"
    assert spoken_date("2019") == "2019"
