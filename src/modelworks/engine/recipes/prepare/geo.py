"""Processors for coordinates: great-circle distance."""

from __future__ import annotations

from sqlglot import exp

from modelworks.engine.recipes.formula_sql import cast, number, paren
from modelworks.engine.recipes.prepare.base import PrepareState, ProcessorInfo, Step, origins_of
from modelworks.engine.recipes.types import ParamSpec

__all__ = ["GEO_DISTANCE"]

CATEGORY = "Geography"
EARTH_RADIUS = {"km": 6371.0088, "miles": 3958.7613}  # mean Earth radius (IUGG)


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _radians(value: exp.Expression) -> exp.Expression:
    return _fn("RADIANS", cast(value, "float"))


def haversine(
    lat1: exp.Expression, lon1: exp.Expression, lat2: exp.Expression, lon2: exp.Expression, radius: float
) -> exp.Expression:
    """Great-circle distance between two points given in degrees (same in DuckDB and PostgreSQL)."""
    half_dlat = exp.Div(
        this=paren(exp.Sub(this=_radians(lat2), expression=_radians(lat1))), expression=number(2)
    )
    half_dlon = exp.Div(
        this=paren(exp.Sub(this=_radians(lon2.copy()), expression=_radians(lon1))), expression=number(2)
    )
    sin_lat = exp.Pow(this=_fn("SIN", half_dlat), expression=number(2))
    sin_lon = exp.Pow(this=_fn("SIN", half_dlon), expression=number(2))
    cosines = exp.Mul(this=_fn("COS", _radians(lat1.copy())), expression=_fn("COS", _radians(lat2.copy())))
    h = exp.Add(this=sin_lat, expression=exp.Mul(this=paren(cosines), expression=sin_lon))
    # Rounding can push h a hair above 1 for antipodal points; ASIN would then fail in PostgreSQL.
    too_big = exp.GT(this=paren(h), expression=number(1))
    bounded = exp.Case(ifs=[exp.If(this=too_big, true=number(1.0))], default=paren(h.copy()))
    arc = _fn("ASIN", _fn("SQRT", bounded))
    return exp.Mul(this=number(2 * radius), expression=arc)


def _distance(state: PrepareState, step: Step) -> None:
    lat_name, lon_name = step.text("lat"), step.text("lon")
    to = step.text("to")
    names = [lat_name, lon_name]
    if to == "columns":
        lat2_name, lon2_name = step.get("lat2"), step.get("lon2")
        if not lat2_name or not lon2_name:
            raise step.fail("choose the latitude and longitude columns of the other point ('lat2', 'lon2')")
        names += [lat2_name, lon2_name]
    cols = state.use(names)
    for col in cols.values():
        step.numeric(col)
    if to == "columns":
        lat2, lon2 = cols[names[2]].expr, cols[names[3]].expr
    else:
        point_lat, point_lon = step.get("point_lat"), step.get("point_lon")
        if point_lat is None or point_lon is None:
            raise step.fail("give the latitude and longitude of the fixed point ('point_lat', 'point_lon')")
        if not -90 <= point_lat <= 90 or not -180 <= point_lon <= 180:
            raise step.fail("the fixed point's latitude must be within ±90 and its longitude within ±180")
        lat2, lon2 = number(point_lat), number(point_lon)
    radius = EARTH_RADIUS[step.text("unit")]
    expr = haversine(cols[lat_name].expr, cols[lon_name].expr, lat2, lon2, radius)
    output = step.new_name(step.text("output"), "output")
    created = state.find(output) is None
    state.set(output, expr, "float", origins_of(cols.values()))
    if created:
        state.last_change = step.number


GEO_DISTANCE = ProcessorInfo(
    "geo_distance",
    "Distance between points",
    CATEGORY,
    "Great-circle (haversine) distance between a point's latitude/longitude columns and another "
    "point's columns, or a fixed point, in km or miles.",
    (
        ParamSpec("lat", "column", "Latitude"),
        ParamSpec("lon", "column", "Longitude"),
        ParamSpec("to", "choice", "To", default="point", choices=("point", "columns")),
        ParamSpec("lat2", "column", "Other latitude column", required=False),
        ParamSpec("lon2", "column", "Other longitude column", required=False),
        ParamSpec("point_lat", "number", "Fixed point latitude", required=False),
        ParamSpec("point_lon", "number", "Fixed point longitude", required=False),
        ParamSpec("unit", "choice", "Unit", default="km", choices=("km", "miles")),
        ParamSpec("output", "string", "New column"),
    ),
    _distance,
)
