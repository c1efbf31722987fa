"""Durations, instants and relative paths: one spelling each, read back as written."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowsite.values import (
    format_instant,
    format_iso_duration,
    format_seconds,
    parse_duration,
    relative_path_check,
)

# Whole microseconds from zero to about 30 years: what a flow's timeout or pause can say.
lengths = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=11_000))
# Path segments a file may have: anything but '/', '\', NUL, '.' and '..'.
# Surrogates cannot be encoded; typed here because the strategy's decorators hide the Literal.
SURROGATES: tuple[Literal["Cs"]] = ("Cs",)
segments = st.text(
    st.characters(exclude_characters="/\\\x00", exclude_categories=SURROGATES), min_size=1
).filter(lambda segment: segment not in {".", ".."} and segment.strip() != "")


# Durations


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("PT30S", timedelta(seconds=30)),
        ("PT1H30M", timedelta(hours=1, minutes=30)),
        ("P1DT12H", timedelta(days=1, hours=12)),
        ("pt0.5s", timedelta(milliseconds=500)),
        (" PT2M ", timedelta(minutes=2)),
    ],
)
def test_it_reads_an_iso_8601_duration(text: str, length: timedelta) -> None:
    assert parse_duration(text) == length


@pytest.mark.parametrize("text", ["P", "PT", "P1DT", "5 minutes", "PT-1S", "1H", ""])
def test_it_refuses_text_that_names_no_length(text: str) -> None:
    with pytest.raises(ValueError, match="is not an ISO-8601 duration such as PT30S or PT1H"):
        parse_duration(text)


def test_it_refuses_a_number_that_is_not_text() -> None:
    with pytest.raises(ValueError, match="must be an ISO-8601 duration"):
        parse_duration(30)


@pytest.mark.parametrize(
    ("length", "text"),
    [
        (timedelta(0), "PT0S"),
        (timedelta(seconds=30), "PT30S"),
        (timedelta(hours=1, minutes=30), "PT1H30M"),
        (timedelta(days=2), "PT48H"),
        (timedelta(milliseconds=500), "PT0.5S"),
        (timedelta(seconds=1_000_000), "PT277H46M40S"),
        (timedelta(hours=-1, minutes=-30), "PT-1H-30M"),
    ],
)
def test_it_writes_a_duration_as_java_does(length: timedelta, text: str) -> None:
    assert format_iso_duration(length) == text


@given(lengths)
def test_a_written_duration_reads_back_as_the_same_length(length: timedelta) -> None:
    assert parse_duration(format_iso_duration(length)) == length


def test_a_page_shows_a_duration_in_seconds() -> None:
    assert format_seconds(timedelta(seconds=1, milliseconds=250)) == "1.25 s"
    assert format_seconds(timedelta(milliseconds=1234), places=3) == "1.234 s"


# Instants


def test_an_instant_is_written_in_utc_with_a_z() -> None:
    paris = timezone(timedelta(hours=1))
    moment = datetime(2026, 11, 24, 11, 0, 0, 123000, paris)
    assert format_instant(moment) == "2026-11-24T10:00:00.123000Z"


def test_a_naive_instant_is_taken_as_utc() -> None:
    assert format_instant(datetime(2026, 11, 24, 10, 0)) == "2026-11-24T10:00:00Z"


@given(st.datetimes(timezones=st.just(UTC)))
def test_a_written_instant_reads_back_as_the_same_moment(moment: datetime) -> None:
    text = format_instant(moment)
    assert text.endswith("Z")
    assert datetime.fromisoformat(text) == moment


# Relative paths


@pytest.mark.parametrize("name", ["a.csv", "out/data.json", "deep/er/file", "name with spaces"])
def test_it_accepts_a_clean_relative_path(name: str) -> None:
    assert relative_path_check(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../up.csv", "must not contain '..'"),
        ("a/../../b", "must not contain '..'"),
        ("/etc/passwd", "must be a relative path, not an absolute one"),
        ("./a", "must not contain '..', '.' or empty segments"),
        ("a//b", "must not contain '..', '.' or empty segments"),
        ("a\\b", "contains a backslash or a NUL character"),
        ("a\x00b", "contains a backslash or a NUL character"),
        ("", "is empty"),
        ("  ", "is empty"),
    ],
)
def test_it_refuses_a_path_that_climbs_out_or_has_two_spellings(name: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        relative_path_check(name, what="inputFiles name")


def test_the_refusal_names_what_was_checked() -> None:
    with pytest.raises(ValueError, match=r"the outputFiles pattern '\.\./x' must be a relative"):
        relative_path_check("../x", what="outputFiles pattern")


@given(st.lists(segments, min_size=1, max_size=5))
def test_any_path_of_plain_segments_is_accepted(parts: list[str]) -> None:
    name = "/".join(parts)
    assert relative_path_check(name) == name


@given(st.lists(segments, max_size=3), st.lists(segments, max_size=3))
def test_it_refuses_a_path_that_climbs_out(before: list[str], after: list[str]) -> None:
    with pytest.raises(ValueError, match="must not contain '..'"):
        relative_path_check("/".join([*before, "..", *after]))
