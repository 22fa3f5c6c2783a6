import pytest

from qa.ingest.dates import find_dates, parse_date, parse_time


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
