"""Number, date, category and geography processors run in DuckDB."""

from __future__ import annotations

import datetime as dt
import math
import statistics
from typing import Any

import pytest

from modelworks.engine.recipes.types import RecipeSpecError

DELAYS = [10, None, 300, -5, 0, 45]
DISTANCES = [1000.0, 250.5, None, 80.0, 1200.25, 2500.0]


def step(processor: str, **params: Any) -> dict[str, Any]:
    return {"processor": processor, "params": params}


@pytest.mark.parametrize(
    ("column", "params", "expected"),
    [
        ("distance", {}, [1000, 251, None, 80, 1200, 2500]),  # halves away from zero
        ("distance", {"decimals": -2}, [1000, 300, None, 100, 1200, 2500]),
        ("distance", {"decimals": 1}, [1000.0, 250.5, None, 80.0, 1200.3, 2500.0]),
        ("dep_delay", {"decimals": -1}, [10, None, 300, -10, 0, 50]),
        ("distance", {"decimals": 1, "mode": "floor"}, [1000.0, 250.5, None, 80.0, 1200.2, 2500.0]),
        ("distance", {"mode": "ceil"}, [1000, 251, None, 80, 1201, 2500]),
        ("dep_delay", {"decimals": -1, "mode": "floor"}, [10, None, 300, -10, 0, 40]),
    ],
)
def test_round_numbers(prep, column, params, expected):
    assert prep.column([step("round_numbers", columns=[column], **params)], column) == pytest.approx(expected)


def test_round_keeps_integers_integers(prep):
    values = prep.column([step("round_numbers", columns=["dep_delay"], decimals=-1)], "dep_delay")
    assert all(isinstance(v, int) for v in values if v is not None)


def test_clip_abs_and_log(prep):
    assert prep.column([step("clip_numbers", columns=["dep_delay"], min=0, max=100)], "dep_delay") == [
        10,
        None,
        100,
        0,
        0,
        45,
    ]
    assert prep.column([step("clip_numbers", columns=["distance"], max=999.5)], "distance") == [
        999.5,
        250.5,
        None,
        80.0,
        999.5,
        999.5,
    ]
    assert prep.column([step("abs_value", columns=["dep_delay"])], "dep_delay") == [10, None, 300, 5, 0, 45]
    logs = prep.column([step("log_transform", columns=["distance"], base="10")], "distance")
    assert logs == pytest.approx(
        [3.0, math.log10(250.5), None, math.log10(80), math.log10(1200.25), math.log10(2500)]
    )
    plus_one = prep.column([step("log_transform", columns=["dep_delay"], plus_one=True)], "dep_delay")
    assert plus_one == pytest.approx([math.log(11), None, math.log(301), None, 0.0, math.log(46)])
    base2 = prep.column([step("log_transform", columns=["dep_delay"], base="2")], "dep_delay")
    assert base2 == pytest.approx([math.log2(10), None, math.log2(300), None, None, math.log2(45)])


def test_bin_numbers(prep):
    rows = prep.run([step("bin_numbers", column="distance", width=1000)])
    assert [r["distance_bin"] for r in rows] == [1000, 0, None, 0, 1000, 2000]
    shifted = prep.column([step("bin_numbers", column="distance", width=1000, origin=500, output="b")], "b")
    assert shifted == [500, -500, None, -500, 500, 2500]
    edges = prep.column(
        [step("bin_numbers", column="dep_delay", method="edges", edges=["0", "10", "100", "300"])],
        "dep_delay_bin",
    )
    assert edges == ["[10, 100)", None, "[100, 300]", None, "[0, 10)", "[10, 100)"]
    labelled = prep.column(
        [
            step(
                "bin_numbers",
                column="dep_delay",
                method="edges",
                edges=[0, 10, 100, 300],
                labels=["low", "mid", "high"],
            )
        ],
        "dep_delay_bin",
    )
    assert labelled == ["mid", None, "high", None, "low", "mid"]


def test_standardize_and_scale(prep):
    known = [d for d in DELAYS if d is not None]
    mean, sd = statistics.mean(known), statistics.stdev(known)
    z = prep.column([step("standardize", columns=["dep_delay"])], "dep_delay")
    assert z == pytest.approx([None if d is None else (d - mean) / sd for d in DELAYS])
    scaled = prep.column([step("min_max_scale", columns=["distance"])], "distance")
    assert scaled == pytest.approx([None if d is None else (d - 80) / 2420 for d in DISTANCES])


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"operation": "+", "right_column": "distance"}, [1010.0, None, None, 75.0, 1200.25, 2545.0]),
        ({"operation": "-", "right_value": 5}, [5, None, 295, -10, -5, 40]),
        ({"operation": "*", "right_value": 1.5}, [15.0, None, 450.0, -7.5, 0.0, 67.5]),
        ({"operation": "/", "right_value": 4}, [2.5, None, 75.0, -1.25, 0.0, 11.25]),
        ({"operation": "/", "right_value": 0}, [None] * 6),
        ({"operation": "%", "right_value": 7}, [3, None, 6, -5, 0, 3]),
        ({"operation": "%", "right_value": 2.5}, [0.0, None, 0.0, 0.0, 0.0, 0.0]),
        ({"operation": "^", "right_value": 2}, [100.0, None, 90000.0, 25.0, 0.0, 2025.0]),
        ({"operation": "min", "right_value": 20}, [10, 20, 20, -5, 0, 20]),  # ignores missing values
        ({"operation": "max", "right_column": "distance"}, [1000.0, 250.5, 300.0, 80.0, 1200.25, 2500.0]),
    ],
)
def test_calculate(prep, params, expected):
    result = prep.column([step("math_columns", left="dep_delay", output="result", **params)], "result")
    assert result == pytest.approx(expected)


def test_dates_parse(prep):
    rows = prep.run(
        [
            step("formula", output="text", formula="to_string(day)"),
            step("parse_date", column="text", output="parsed"),
            step(
                "formula",
                output="local",
                formula="if(id = 1, '15/03/2024 10:11', if(id = 2, 'garbage', null))",
            ),
            step("parse_date", column="local", format="%d/%m/%Y %H:%M", to="timestamp", on_failure="null"),
        ]
    )
    assert [r["parsed"] for r in rows] == [r["day"] for r in rows]
    assert [r["local"] for r in rows] == [dt.datetime(2024, 3, 15, 10, 11)] + [None] * 5


def test_date_parts(prep):
    parts = ["year", "quarter", "month", "week", "day", "weekday", "dayofyear"]
    rows = prep.run(
        [
            step("date_parts", column="day", parts=parts),
            step("date_parts", column="dep_time", parts=["hour", "minute"], prefix="t_"),
        ]
    )
    got = {r["id"]: tuple(r[f"day_{p}"] for p in parts) for r in rows}
    assert got[1] == (2024, 1, 3, 11, 15, 5, 75)  # Friday
    assert got[5] == (2023, 4, 12, 52, 31, 7, 365)  # Sunday
    assert got[6] == (2024, 1, 2, 9, 29, 4, 60)  # Thursday, leap day
    assert got[3] == (None,) * 7
    assert (rows[0]["t_hour"], rows[0]["t_minute"]) == (10, 30)


def test_date_difference(prep):
    rows = prep.run(
        [
            step("date_diff", start="day", end="dep_time", unit="hour", output="hours"),
            step("shift_date", column="day", amount=40, output="later"),
            step("date_diff", start="day", end="later", unit="month", output="months"),
            step("date_diff", start="day", end="later", unit="year", output="years"),
            step("date_diff", start="dep_time", unit="day", output="age"),
        ]
    )
    assert [r["hours"] for r in rows] == pytest.approx([10.5, 23.0, None, 0.0, 18.75, 6 + 5 / 60])
    assert [r["months"] for r in rows] == [1, 1, None, 1, 2, 2]
    assert [r["years"] for r in rows] == [0, 0, None, 0, 1, 0]
    assert all(r["age"] > 300 for r in rows if r["id"] != 3)


def test_truncate_and_shift_dates(prep):
    rows = prep.run(
        [
            step("copy_column", column="dep_time", output="week"),
            step("truncate_date", columns=["dep_time"], unit="month"),
            step("truncate_date", columns=["week"], unit="week"),
            step("truncate_date", columns=["day"], unit="quarter"),
            step("shift_date", column="dep_time", amount=-90, unit="minute", output="earlier"),
        ]
    )
    assert rows[0]["dep_time"] == dt.datetime(2024, 3, 1)
    assert rows[0]["week"] == dt.datetime(2024, 3, 11)  # the Monday
    assert [r["day"] for r in rows][:2] == [dt.date(2024, 1, 1), dt.date(2024, 1, 1)]
    assert rows[0]["earlier"] == dt.datetime(2024, 3, 1) - dt.timedelta(minutes=90)
    months = prep.column([step("shift_date", column="day", amount=2, unit="month")], "day")
    assert months[4] == dt.date(2024, 2, 29)  # 2023-12-31 + 2 months, clamped to the month's end


def test_group_rare_values(prep):
    assert prep.column([step("group_rare", column="carrier", threshold=2)], "carrier") == [
        "AA",
        "AA",
        "Other",
        "Other",
        "AA",
        "Other",
    ]
    rows = prep.run(
        [step("group_rare", column="carrier", mode="top_n", threshold=2, other="rest", output="top")]
    )
    assert [r["top"] for r in rows] == ["AA", "AA", "rest", "rest", "AA", "B6"]  # ties: alphabetical
    assert [r["carrier"] for r in rows] == ["AA", "AA", "UA", "DL", "AA", "B6"]
    assert not any(k.startswith("__mw_") for k in rows[0])
    assert prep.column([step("group_rare", column="dep_delay", threshold=1)], "dep_delay") == [
        "10",
        None,
        "300",
        "-5",
        "0",
        "45",
    ]


def test_one_hot_and_map_values(prep):
    rows = prep.run([step("one_hot", column="carrier", values=["AA", "UA"], other=True, drop_original=True)])
    assert [(r["carrier_AA"], r["carrier_UA"], r["carrier_other"]) for r in rows] == [
        (1, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 0, 0), (0, 0, 1),
    ]  # fmt: skip
    assert "carrier" not in rows[0]
    mapping = {"JFK": "New York", "EWR": "Newark"}
    assert prep.column([step("map_values", column="origin", mapping=mapping)], "origin")[:4] == [
        "New York",
        "New York",
        "Newark",
        "LGA",
    ]
    assert (
        prep.column([step("map_values", column="origin", mapping=mapping, unmatched="null")], "origin")[3]
        is None
    )
    assert (
        prep.column(
            [
                step(
                    "map_values",
                    column="origin",
                    mapping=mapping,
                    unmatched="default",
                    default="elsewhere",
                    output="city",
                )
            ],
            "city",
        )[3]
        == "elsewhere"
    )


def _haversine(lat1: float, lon1: float, lat2: float, lon2: float, radius: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * radius * math.asin(math.sqrt(h))


def test_geo_distance(prep):
    rows = prep.run(
        [step("geo_distance", lat="lat", lon="lon", point_lat=51.47, point_lon=-0.4543, output="to_lhr")]
    )
    assert rows[0]["to_lhr"] == pytest.approx(_haversine(40.6413, -73.7781, 51.47, -0.4543, 6371.0088))
    assert rows[0]["to_lhr"] == pytest.approx(5540, abs=10)
    assert rows[1]["to_lhr"] == pytest.approx(0.0, abs=1e-6) and rows[2]["to_lhr"] is None
    miles = prep.column(
        [
            step(
                "geo_distance",
                lat="lat",
                lon="lon",
                to="columns",
                lat2="lat",
                lon2="lon",
                unit="miles",
                output="d",
            )
        ],
        "d",
    )
    assert miles[0] == pytest.approx(0.0, abs=1e-6)


BAD_STEPS = [
    (
        step("round_numbers", columns=["carrier"]),
        r"step 1 \(Round numbers\): column 'carrier' holds text, not numbers \(convert it first with a 'Cast types' step\)",
    ),
    (step("round_numbers", columns=["distance"], decimals=11), "between -10 and 10"),
    (step("clip_numbers", columns=["distance"]), "give a minimum, a maximum or both"),
    (step("clip_numbers", columns=["distance"], min=5, max=1), "the minimum 5 is greater than the maximum 1"),
    (step("clip_numbers", columns=["dep_delay"], min=0.5), "holds whole numbers; use whole bounds"),
    (step("bin_numbers", column="distance"), "give a bin width greater than 0"),
    (step("bin_numbers", column="distance", method="edges", edges=["1"]), "at least two bin edges"),
    (
        step("bin_numbers", column="distance", method="edges", edges=["1", "x"]),
        "bin edge 'x' is not a number",
    ),
    (step("bin_numbers", column="distance", method="edges", edges=["5", "1"]), "strictly increasing"),
    (
        step("bin_numbers", column="distance", method="edges", edges=["1", "2", "3"], labels=["a"]),
        "3 edges make 2 bins, but 1 labels",
    ),
    (step("standardize", columns=["day"]), "holds a date, not numbers"),
    (step("math_columns", left="dep_delay", operation="+", output="x"), "give either a second column"),
    (
        step("math_columns", left="dep_delay", operation="+", right_value=1, right_column="id", output="x"),
        "give either",
    ),
    (
        step("math_columns", left="dep_delay", operation="plus", right_value=1, output="x"),
        "'Operation' is 'plus'; choose one of \\+",
    ),
    (step("parse_date", column="day"), "holds a date, not text"),
    (step("parse_date", column="note", format="%d/%q"), "'%q' is not a date format code"),
    (step("date_parts", column="day", parts=["decade"]), "'Parts' is 'decade'; choose one of year, "),
    (step("date_parts", column="day", parts=["y"], prefix="da"), "'Parts' is 'y'; choose one of"),
    (step("date_diff", start="carrier", output="x"), "holds text, not dates"),
    (
        step("date_diff", start="day", unit="fortnight", output="x"),
        "'Unit' is 'fortnight'; choose one of second, ",
    ),
    (step("truncate_date", columns=["dep_delay"], unit="month"), "not dates"),
    (step("shift_date", column="day", amount=1.5), "must be a whole number"),
    (step("group_rare", column="carrier", threshold=0), "at least 1"),
    (step("one_hot", column="carrier", values=["arrier"], prefix="c"), "column 'carrier' already exists"),
    (step("one_hot", column="carrier", values=[str(i) for i in range(201)]), "limited to 200 values"),
    (
        step("geo_distance", lat="lat", lon="lon", output="d"),
        "give the latitude and longitude of the fixed point",
    ),
    (step("geo_distance", lat="lat", lon="lon", point_lat=91, point_lon=0, output="d"), "within ±90"),
    (
        step("geo_distance", lat="lat", lon="lon", to="columns", output="d"),
        "choose the latitude and longitude columns",
    ),
    (
        step("geo_distance", lat="carrier", lon="lon", point_lat=0, point_lon=0, output="d"),
        "'carrier' holds text",
    ),
]


@pytest.mark.parametrize(("bad", "message"), BAD_STEPS)
def test_bad_settings_name_the_step(prep, bad, message):
    with pytest.raises(RecipeSpecError, match=message):
        prep.compile([bad])
