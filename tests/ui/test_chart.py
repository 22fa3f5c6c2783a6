"""The chart of a number over dates, as SVG and PNG."""

import re

import pytest

from qa.errors import InputError
from qa.ui.chart import svg_chart, write_chart

POINTS = [("2021-03-02", 54.0), ("2021-03-20", 1124.0), ("2021-04-07", 1217.0)]


def test_svg_places_points_by_date_and_value():
    svg = svg_chart(POINTS, "Flood <toll>")
    xs = [float(x) for x in re.findall(r'<circle cx="([\d.]+)"', svg)]
    ys = [float(y) for y in re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)"', svg)]
    assert xs == sorted(xs) and xs[1] - xs[0] == pytest.approx(xs[2] - xs[1], abs=0.1)  # 18 days, then 18
    assert ys[0] > ys[1] > ys[2]  # higher numbers drawn higher
    assert "1,217" in svg and "2021-04-07" in svg and "&#60;toll&#62;" in svg and "<toll>" not in svg


def test_write_chart_by_suffix(tmp_path):
    svg = write_chart(POINTS, "toll", tmp_path / "toll.svg")
    assert svg.read_text().startswith("<svg")
    png = write_chart(POINTS, "toll", tmp_path / "toll.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InputError, match=".svg or .png"):
        write_chart(POINTS, "toll", tmp_path / "toll.pdf")
    with pytest.raises(InputError, match="fewer than two"):
        write_chart([], "toll", tmp_path / "none.svg")
    with pytest.raises(InputError, match="cannot write"):
        write_chart(POINTS, "toll", tmp_path / "missing" / "toll.svg")
