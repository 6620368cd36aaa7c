"""Calendar windows and the Lab's metrics per window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from modelworks.engine.automl.evaluation import evaluate
from modelworks.engine.monitoring import DriftInputError, WindowError, windowed_performance, windows


def test_windows_are_aligned_to_the_calendar() -> None:
    start, end = datetime(2024, 1, 30, 15, 0), datetime(2024, 3, 2)
    assert windows(start, end, "month") == [
        (datetime(2024, 1, 1), datetime(2024, 2, 1)),
        (datetime(2024, 2, 1), datetime(2024, 3, 1)),
        (datetime(2024, 3, 1), datetime(2024, 4, 1)),
    ]
    weeks = windows(datetime(2024, 1, 3, tzinfo=UTC), datetime(2024, 1, 16, tzinfo=UTC), "week")
    assert [w[0].date().isoformat() for w in weeks] == ["2024-01-01", "2024-01-08", "2024-01-15"]
    assert all(w[0].weekday() == 0 and w[0].tzinfo is UTC for w in weeks)
    days = windows(datetime(2024, 12, 31, 23), datetime(2025, 1, 1, 1), "day")
    assert days == [
        (datetime(2024, 12, 31), datetime(2025, 1, 1)),
        (datetime(2025, 1, 1), datetime(2025, 1, 2)),
    ]
    assert windows(start, start, "day") == []
    paris = ZoneInfo("Europe/Paris")
    assert windows(datetime(2024, 3, 30, tzinfo=paris), datetime(2024, 4, 1, tzinfo=paris), "day")[1] == (
        datetime(2024, 3, 31, tzinfo=paris),
        datetime(2024, 4, 1, tzinfo=paris),
    )


@pytest.mark.parametrize(
    ("start", "end", "size", "match"),
    [
        (datetime(2024, 2, 1), datetime(2024, 1, 1), "day", "ends .* before it starts"),
        (
            datetime(2024, 1, 1),
            datetime(2024, 2, 1, tzinfo=UTC),
            "day",
            "both have a time zone or both have none",
        ),
        (datetime(2024, 1, 1), datetime(2024, 2, 1), "year", "Unknown window size 'year'"),
        (datetime(1990, 1, 1), datetime(2024, 1, 1), "day", "more than 10,000 day windows"),
    ],
)
def test_bad_windows(start: datetime, end: datetime, size: str, match: str) -> None:
    with pytest.raises(WindowError, match=match):
        windows(start, end, size)  # type: ignore[arg-type]


def predictions() -> pd.DataFrame:
    day = datetime(2024, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(40):  # week 1: always right; week 3: half wrong; week 2: no labelled row
        ts = day + timedelta(hours=i) if i < 20 else day + timedelta(days=14, hours=i)
        truth = "yes" if i % 2 else "no"
        predicted = truth if i < 20 or i % 4 < 2 else ("no" if truth == "yes" else "yes")
        rows.append({"ts": ts, "y_true": truth, "y_pred": predicted, "proba_no": 0.4, "proba_yes": 0.6})
    rows.append(
        {"ts": day + timedelta(days=8), "y_true": None, "y_pred": "yes", "proba_no": 0.1, "proba_yes": 0.9}
    )
    return pd.DataFrame(rows)


def test_windowed_performance_per_week_with_an_empty_window() -> None:
    frame = predictions()
    result = windowed_performance(frame, "binary", ["no", "yes"], window="week")
    assert [(w.start.date().isoformat(), w.rows) for w in result] == [
        ("2024-01-01", 20),
        ("2024-01-08", 0),
        ("2024-01-15", 20),
    ]
    first, empty, last = result
    assert first.metrics["accuracy"] == 1.0 and last.metrics["accuracy"] == 0.5
    assert empty.metrics == {} and empty.message == "No labelled prediction in this window."
    later = frame.iloc[20:40]
    expected = evaluate(
        "binary", later["y_true"], later["y_pred"], later[["proba_no", "proba_yes"]].to_numpy(), ["no", "yes"]
    )
    assert last.metrics == pytest.approx(expected.metrics)
    assert "roc_auc" in last.metrics  # the probability columns were found
    assert last.to_dict()["start"] == "2024-01-15T00:00:00+00:00"


def test_regression_per_day_within_a_given_period() -> None:
    frame = pd.DataFrame(
        {
            "ts": pd.to_datetime(["2024-05-01 10:00", "2024-05-01 12:00", "2024-05-03 09:00"]),
            "y_true": [1.0, 2.0, 3.0],
            "y_pred": [1.5, 2.0, 2.0],
        }
    )
    result = windowed_performance(
        frame, "regression", None, window="day", start=datetime(2024, 4, 30), end=datetime(2024, 5, 4)
    )
    assert [w.rows for w in result] == [0, 2, 0, 1]
    assert result[1].metrics["mae"] == pytest.approx(0.25) and result[3].metrics["mae"] == pytest.approx(1.0)


def test_predictions_that_cannot_be_scored_are_explained_per_window() -> None:
    frame = predictions().assign(y_pred="maybe")
    result = windowed_performance(frame, "binary", ["no", "yes"], window="month")
    assert len(result) == 1 and result[0].metrics == {}
    assert result[0].message.startswith("The predictions could not be scored:")


def test_no_labelled_row_gives_no_window_and_missing_columns_are_named() -> None:
    frame = predictions().assign(y_true=None)
    assert windowed_performance(frame, "binary", ["no", "yes"], window="day") == []
    with pytest.raises(DriftInputError, match="no 'ts' column"):
        windowed_performance(frame.drop(columns="ts"), "binary", ["no", "yes"], window="day")
