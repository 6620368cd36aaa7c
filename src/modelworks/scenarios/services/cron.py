"""Cron expressions of schedule triggers: validated and evaluated with ``cronsim``, always in UTC."""

from __future__ import annotations

import datetime as dt
import itertools

from cronsim import CronSim, CronSimError
from django.core.exceptions import ValidationError

__all__ = ["count_missed", "describe_cron", "next_times", "validate_cron"]

_EXAMPLES = "'0 6 * * *' (every day at 06:00 UTC) or '*/15 * * * 1-5' (every 15 minutes on weekdays)"
_FIELDS = ("minute", "hour", "day of month", "month", "day of week")
# cronsim reports "Bad minute", "Bad day-of-month"…; say what range each field takes.
_RANGES = {
    "minute": "0-59",
    "hour": "0-23",
    "day-of-month": "1-31, or L",
    "month": "1-12 or JAN-DEC",
    "day-of-week": "0-7 or SUN-SAT (0 and 7 are Sunday)",
}


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("cron times are computed from timezone-aware datetimes")
    return moment.astimezone(dt.UTC)


def validate_cron(expression: str) -> str:
    """Check a five-field cron expression and return it with its spaces normalised.

    Raises:
        ValidationError: keyed ``cron``, naming the field that is wrong and what it accepts.
    """
    text = " ".join(str(expression or "").split())
    if not text:
        raise ValidationError({"cron": f"Give a schedule, for example {_EXAMPLES}."})
    fields = text.split(" ")
    if len(fields) != 5:
        raise ValidationError(
            {
                "cron": f"'{text[:80]}' has {len(fields)} field{'s' if len(fields) != 1 else ''}; a schedule has "
                f"five ({', '.join(_FIELDS)}), for example {_EXAMPLES}. Seconds and shortcuts such as "
                "@daily are not supported."
            }
        )
    try:
        it = CronSim(text, dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        next(it)
    except CronSimError as exc:
        reason = str(exc)
        field = reason.removeprefix("Bad ").strip()
        if field in _RANGES:
            position = list(_RANGES).index(field)
            raise ValidationError(
                {
                    "cron": f"The {field.replace('-', ' ')} field '{fields[position]}' is not valid; it takes "
                    f"{_RANGES[field]}, lists (1,15), ranges (1-5) and steps (*/10)."
                }
            ) from exc
        raise ValidationError({"cron": f"'{text[:80]}' is not a valid schedule ({reason})."}) from exc
    except StopIteration as exc:  # e.g. "0 0 30 2 *": February never has a 30th
        raise ValidationError(
            {"cron": f"'{text}' never matches a real date; check the day and month."}
        ) from exc
    return text


def next_times(expression: str, after: dt.datetime, count: int = 3) -> list[dt.datetime]:
    """The next ``count`` times (UTC) strictly after ``after`` that match ``expression``."""
    start = _utc(after).replace(microsecond=0)
    return list(itertools.islice(CronSim(expression, start), count))


def count_missed(expression: str, since: dt.datetime, now: dt.datetime, limit: int = 1000) -> int:
    """How many matching times lie in ``(since, now]`` (at most ``limit``)."""
    missed = 0
    for moment in CronSim(expression, _utc(since)):
        if moment > _utc(now) or missed >= limit:
            break
        missed += 1
    return missed


def describe_cron(expression: str) -> str:
    """A sentence such as "At 06:00 on Monday through Friday" (UTC), or '' when cronsim cannot say."""
    try:
        return str(CronSim(expression, dt.datetime(2000, 1, 1, tzinfo=dt.UTC)).explain())
    except Exception:  # explain() is best effort; the expression itself was validated before
        return ""
