"""Calibration error and the reliability table on made-up confidences with known answers."""

import pytest

from qa.calibration import calibration


def test_expected_calibration_error_of_a_known_table():
    # Two answers at 0.15 (one right) and four at 0.85 (three right):
    # ECE = 2/6 * |0.5 - 0.15| + 4/6 * |0.75 - 0.85| = (0.7 + 0.4) / 6.
    cal = calibration([0.15, 0.15, 0.85, 0.85, 0.85, 0.85], [True, False, True, True, True, False])
    assert cal.ece == pytest.approx(1.1 / 6) and cal.count == 6
    assert [b.count for b in cal.bands] == [0, 2, 0, 0, 0, 0, 0, 0, 4, 0]
    low, high = cal.bands[1], cal.bands[8]
    assert (low.low, low.high, low.mean_confidence, low.share_right) == (0.1, 0.2, pytest.approx(0.15), 0.5)
    assert (high.mean_confidence, high.share_right) == (pytest.approx(0.85), 0.75)
    assert cal.bands[0].mean_confidence is None and cal.bands[0].share_right is None


def test_perfectly_calibrated_answers_have_no_error():
    confidences = [0.25] * 4 + [0.75] * 4
    right = [True, False, False, False, True, True, True, False]
    assert calibration(confidences, right).ece == pytest.approx(0.0)


def test_edges_fall_in_the_band_they_open_and_one_in_the_last():
    cal = calibration([0.0, 0.1, 0.5, 1.0, 1.2, -0.1], [False] * 6)
    assert [b.count for b in cal.bands] == [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]
    assert cal.ece == pytest.approx((0.0 + 0.1 + 0.5 + 1.0 + 1.0 + 0.0) / 6), "out-of-range confidences are clipped"


def test_nothing_counted_has_no_error_and_json_form():
    cal = calibration([], [])
    assert cal.ece is None and cal.count == 0 and len(cal.bands) == 10
    data = calibration([0.9], [True]).to_dict()
    assert set(data) == {"ece", "count", "bands"} and data["ece"] == pytest.approx(0.1)
    assert set(data["bands"][9]) == {"low", "high", "count", "mean_confidence", "share_right"}
    with pytest.raises(ValueError):
        calibration([0.5], [])
