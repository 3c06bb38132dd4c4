"""model.format: one spelling per kind of number, for every document."""

from __future__ import annotations

import math

import pytest

from harness.model import format as fmt


def test_seconds_keep_at_most_three_significant_figures() -> None:
    values = (0, 0.0042, 0.43, 3.2049, 51.66, 1234.4)
    assert [fmt.seconds(v) for v in values] == [
        "0 s",
        "0.004 s",
        "0.43 s",
        "3.2 s",
        "51.7 s",
        "1,234 s",
    ]


@pytest.mark.parametrize("value", [None, True, "soon", [], math.nan, math.inf])
def test_what_is_no_finite_number_is_shown_as_a_dash(value: object) -> None:
    assert fmt.seconds(value) == fmt.size(value) == fmt.percent(value) == fmt.NONE
    assert fmt.signed_seconds(value) == fmt.signed_size(value) == fmt.ratio(value) == fmt.NONE


def test_signed_values_carry_an_ascii_sign_and_no_change_is_plus_minus_zero() -> None:
    assert [fmt.signed_seconds(v) for v in (2.04, -0.5, 0.001)] == ["+2.0 s", "-0.50 s", "±0 s"]
    assert [fmt.signed_size(v) for v in (0, 6_000_000, -18_000_000)] == [
        "±0 B",
        "+6.0 MB",
        "-18.0 MB",
    ]


def test_sizes_are_decimal_units_as_docker_and_pip_print_them() -> None:
    values = (999, 4_200, 20_000_000, 780_000_000, 2_700_000_000)
    assert [fmt.size(v) for v in values] == ["999 B", "4.2 kB", "20.0 MB", "780 MB", "2.7 GB"]
    assert fmt.size(-6_000_000) == "-6.0 MB"
    assert fmt.byte_count(152_043_520) == "152,043,520 bytes"
    assert fmt.signed_byte_count(43_000_000) == "+43,000,000 bytes"


def test_spreads_and_ranges_share_the_number_spelling() -> None:
    assert fmt.seconds_spread(3.2, 0.4) == "3.20 ± 0.40 s"  # to the spread's decimals
    assert fmt.seconds_spread(36.81, 1.28) == "36.8 ± 1.3 s"
    assert fmt.seconds_spread(0.81, 0.0) == "0.81 ± 0.00 s"
    assert fmt.seconds_spread(3.2, None) == "3.2 s"  # one sample: no ± 0
    assert fmt.signed_seconds_spread(-3.2, 0.4) == "-3.20 ± 0.40 s"
    assert fmt.signed_seconds_spread(0.0, 0.04) == "+0.00 ± 0.04 s"
    assert fmt.seconds_range(8.0, 12.0) == "8.0–12.0 s"
    assert fmt.seconds_range(0.5, 1.5) == "0.50–1.50 s"
    assert fmt.size_spread(780_000_000, 1_200_000) == "780 MB ± 1.2 MB"
    assert fmt.signed_size_spread(-6_000_000, 1_000_000) == "-6.0 MB ± 1.0 MB"
    assert fmt.signed_size_spread(0, 8_200) == "0 B ± 8.2 kB"


def test_percentages_ratios_and_milliseconds() -> None:
    assert fmt.percent(0.38) == "38 %"
    assert [fmt.signed_percent(v) for v in (12.4, -0.44)] == ["+12 %", "-0.4 %"]
    assert fmt.ratio(1.1) == "1.10×"
    assert fmt.milliseconds(0.0123) == "12.3 ms"


def test_chart_axes_timestamps_and_durations() -> None:
    assert fmt.axis_value(1234.0, "MB") == "1,234 MB" and fmt.axis_value(2.5, "s") == "2.5 s"
    assert fmt.timestamp("2026-12-04T16:05:11+00:00") == "2026-12-04 16:05:11 UTC"
    assert fmt.timestamp("yesterday") == "yesterday" and fmt.timestamp(None) == fmt.NONE
    assert fmt.duration("2026-12-04T16:00:00", "2026-12-04T16:14:34") == "14 min 34 s"
