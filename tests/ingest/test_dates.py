import pytest

from qa.ingest.dates import parse_date, parse_time


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
