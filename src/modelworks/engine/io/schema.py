"""Column types in the user's words, and the schema of a stored dataset version.

Users see and choose *logical* types (``integer``, ``float``, ``string``…); DuckDB and Parquet work
with *physical* ones (``BIGINT``, ``DOUBLE``, ``VARCHAR``…). Only the names in :data:`LOGICAL_TYPES`
can be chosen in an override, so a user's text never becomes a SQL type expression.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelworks.engine.errors import did_you_mean
from modelworks.engine.io.errors import InvalidImportOptionError, VersionNotFoundError

if TYPE_CHECKING:
    import duckdb

__all__ = ["LOGICAL_TYPES", "ColumnSchema", "logical_type", "physical_type_for", "read_schema"]

#: Types a user may choose for a column, and the DuckDB type each one is stored as.
LOGICAL_TYPES: Mapping[str, str] = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "float": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "time": "TIME",
}

_INTEGER = re.compile(r"(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|U?HUGEINT|INT[1248]|LONG|SHORT)")
_NESTED = re.compile(r".*(\[\d*\]|^STRUCT\(|^MAP\(|^UNION\().*", re.DOTALL)


@dataclass(frozen=True)
class ColumnSchema:
    """One column of a stored dataset version.

    Attributes:
        name: the column name as stored (after renaming duplicates and empty headers).
        type: the logical type (``integer``, ``float``, ``decimal``, ``string``, ``boolean``,
            ``date``, ``timestamp``, ``time``, ``binary``, ``nested`` or ``other``).
        physical_type: the DuckDB type, e.g. ``BIGINT`` or ``DECIMAL(18,3)``.
        nullable: whether the column holds at least one null (from the Parquet statistics).
    """

    name: str
    type: str
    physical_type: str
    nullable: bool

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "name": self.name,
            "type": self.type,
            "physical_type": self.physical_type,
            "nullable": self.nullable,
        }


def logical_type(physical: str) -> str:
    """Map a DuckDB type name to the logical type shown to users."""
    upper = physical.upper().strip()
    if _NESTED.match(upper):
        return "nested"
    if _INTEGER.fullmatch(upper):
        return "integer"
    if upper in ("DOUBLE", "FLOAT", "REAL", "FLOAT4", "FLOAT8"):
        return "float"
    if upper.startswith("DECIMAL") or upper.startswith("NUMERIC"):
        return "decimal"
    if upper in ("VARCHAR", "TEXT", "STRING", "UUID", "JSON") or upper.startswith("VARCHAR"):
        return "string"
    if upper in ("BOOLEAN", "BOOL"):
        return "boolean"
    if upper == "DATE":
        return "date"
    if upper.startswith("TIMESTAMP"):
        return "timestamp"
    if upper.startswith("TIME"):
        return "time"
    if upper in ("BLOB", "BYTEA", "BINARY", "VARBINARY", "BIT"):
        return "binary"
    return "other"


def physical_type_for(column: str, name: str) -> str:
    """The DuckDB type of a user-chosen logical type name (case-insensitive).

    Raises:
        InvalidImportOptionError: ``name`` is not one of :data:`LOGICAL_TYPES`.
    """
    key = name.strip().lower()
    if key not in LOGICAL_TYPES:
        raise InvalidImportOptionError(
            f"type {name!r} chosen for column {column!r} is not a type Modelworks knows"
            f"{did_you_mean(key, LOGICAL_TYPES)}; choose one of {', '.join(LOGICAL_TYPES)}",
            column=column,
            type=name,
        )
    return LOGICAL_TYPES[key]


def read_schema(version_path: str | os.PathLike[str]) -> tuple[ColumnSchema, ...]:
    """Read the schema of a stored Parquet version from its footer (no data is scanned).

    Raises:
        VersionNotFoundError: the file is missing or is not a readable Parquet file.
    """
    path = os.path.abspath(version_path)
    if not os.path.isfile(path):
        raise VersionNotFoundError(f"dataset version file {path!r} does not exist", path=path)
    import duckdb  # here, not at the top: the web server imports this module for ColumnSchema

    from modelworks.engine.duck import connect

    con = connect(read=[path])
    try:
        return schema_of_parquet(con, path)
    except duckdb.Error as exc:
        raise VersionNotFoundError(
            f"dataset version file {path!r} is not readable Parquet ({_first_line(exc)})", path=path
        ) from exc
    finally:
        con.close()


def schema_of_parquet(con: duckdb.DuckDBPyConnection, path: str) -> tuple[ColumnSchema, ...]:
    """Schema of a Parquet file through an open connection allowed to read it."""
    described = con.execute("DESCRIBE SELECT * FROM read_parquet($1)", [path]).fetchall()
    null_counts = con.execute(
        "SELECT path_in_schema, sum(coalesce(stats_null_count, 1)) FROM parquet_metadata($1) GROUP BY ALL",
        [path],
    ).fetchall()
    # Leaves of nested columns appear as "parent, child" paths; a missing statistic counts as a null.
    nulls: dict[str, int] = {}
    for leaf, count in null_counts:
        nulls[str(leaf)] = nulls.get(str(leaf), 0) + int(count or 0)
    top_level: dict[str, int] = {}
    for leaf, count in nulls.items():
        top = leaf.split(", ")[0]
        top_level[top] = top_level.get(top, 0) + count
    columns = []
    for name, physical, *_ in described:
        # A flat column matches its path exactly (even when its name holds ", ").
        count = nulls.get(str(name), top_level.get(str(name), 0))
        columns.append(
            ColumnSchema(
                name=str(name),
                type=logical_type(str(physical)),
                physical_type=str(physical),
                nullable=count > 0,
            )
        )
    return tuple(columns)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
