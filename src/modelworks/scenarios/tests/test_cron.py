"""Schedules: five-field cron expressions in UTC, with messages that say what to fix."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from modelworks.scenarios.services.cron import count_missed, describe_cron, next_times, validate_cron

UTC = dt.UTC


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("", r"Give a schedule, for example '0 6 \* \* \*'"),
        (
            "* * *",
            r"'\* \* \*' has 3 fields; a schedule has five \(minute, hour, day of month, month, day of week\)",
        ),
        ("0 6 * * * *", r"has 6 fields; .* Seconds and shortcuts such as @daily are not supported"),
        ("@daily", r"'@daily' has 1 field; a schedule has five"),
        ("61 * * * *", r"The minute field '61' is not valid; it takes 0-59"),
        ("0 24 * * *", r"The hour field '24' is not valid; it takes 0-23"),
        ("0 0 32 * *", r"The day of month field '32' is not valid; it takes 1-31, or L"),
        ("0 0 * 13 *", r"The month field '13' is not valid; it takes 1-12 or JAN-DEC"),
        ("0 0 * * 8", r"The day of week field '8' is not valid; it takes 0-7 or SUN-SAT"),
        ("0 0 31 2 *", r"The day of month field '31' is not valid"),
    ],
)
def test_invalid_schedules_are_refused_with_what_to_fix(expression: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        validate_cron(expression)
    assert list(caught.value.message_dict) == ["cron"]


def test_a_valid_schedule_is_normalised_and_evaluated_in_utc() -> None:
    assert validate_cron("  0   6 * *   1-5 ") == "0 6 * * 1-5"
    # Friday 2024-03-01 07:00 in Paris is 06:00 UTC: the next weekday 06:00 UTC is Monday.
    paris = dt.timezone(dt.timedelta(hours=1))
    times = next_times("0 6 * * 1-5", dt.datetime(2024, 3, 1, 7, 0, tzinfo=paris), 3)
    assert times == [
        dt.datetime(2024, 3, 4, 6, 0, tzinfo=UTC),
        dt.datetime(2024, 3, 5, 6, 0, tzinfo=UTC),
        dt.datetime(2024, 3, 6, 6, 0, tzinfo=UTC),
    ]
    assert describe_cron("0 6 * * 1-5") == "At 06:00 on Monday through Friday"


def test_next_times_are_strictly_after_the_given_moment() -> None:
    at_six = dt.datetime(2024, 1, 1, 6, 0, tzinfo=UTC)
    assert next_times("0 6 * * *", at_six, 1) == [dt.datetime(2024, 1, 2, 6, 0, tzinfo=UTC)]


def test_count_missed() -> None:
    since = dt.datetime(2024, 1, 1, 0, 0, tzinfo=UTC)
    assert count_missed("0 * * * *", since, since + dt.timedelta(hours=5, minutes=30)) == 5
    assert count_missed("0 * * * *", since, since + dt.timedelta(minutes=59)) == 0
    assert count_missed("* * * * *", since, since + dt.timedelta(days=30), limit=1000) == 1000
