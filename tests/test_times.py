"""govarchive.times: one rule for the dates users give, one way of showing moments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from govarchive.times import DEFAULT_TIMEZONE, in_zone, local_text, parse_day_or_time


def test_a_day_and_a_local_time_are_read_in_the_zone():
    assert parse_day_or_time("2026-03-01") == date(2026, 3, 1)
    day = in_zone(parse_day_or_time("2026-03-01"))
    assert day.isoformat() == "2026-03-01T00:00:00+08:00"
    naive = in_zone(parse_day_or_time("2026-03-01T09:30"), "Europe/Paris")
    assert naive.utcoffset() == timedelta(hours=1)


def test_a_time_with_an_offset_is_kept():
    given = in_zone(parse_day_or_time("2026-03-01T09:30:00Z"), DEFAULT_TIMEZONE)
    assert given == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    east = in_zone(parse_day_or_time("2026-03-01T09:30+09:00"))
    assert east.utcoffset() == timedelta(hours=9)


@pytest.mark.parametrize("text", ["last week", "2026-13-01", "01/03/2026", ""])
def test_anything_else_is_refused_with_the_forms_it_takes(text):
    with pytest.raises(ValueError, match="is not a date: write YYYY-MM-DD"):
        parse_day_or_time(text)


def test_moments_are_shown_in_local_time_to_the_second():
    assert local_text("2026-03-01T08:00:05+00:00") == "2026-03-01 16:00:05 +08:00"
    assert local_text(datetime(2026, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=-5)))) == (
        "2026-03-01 21:00:00 +08:00")
    assert local_text("2026-03-01T08:00:05") == "2026-03-01 16:00:05 +08:00"  # stored UTC
    assert local_text(None) == "-"


def test_the_web_reads_dates_by_the_same_rule():
    from govarchive.web.deps import parse_when

    assert parse_when("2026-03-01", "since", DEFAULT_TIMEZONE) == date(2026, 3, 1)
    assert parse_when("2026-03-01T09:30", "since", DEFAULT_TIMEZONE).isoformat() == (
        "2026-03-01T09:30:00+08:00")
    from fastapi import HTTPException

    with pytest.raises(HTTPException) as refused:
        parse_when("soon", "until", DEFAULT_TIMEZONE)
    assert refused.value.status_code == 400 and "until='soon' is not a date" in refused.value.detail
