"""PostgreSQL through ADBC (``adbc_driver_postgresql``): rows arrive as Arrow record batches and are
streamed into a Parquet file, so a large table never sits in memory whole.

Imports run in a read-only transaction, and ADBC prepares every statement, so a "SQL query" is one
statement that cannot change the source database. Give the connection a user that may only read —
unless recipe outputs are stored in it (push-down, ``modelworks.flows.services.pushdown``): that needs a
user who may create tables in the chosen schema, through :meth:`PostgresSource.connect`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from modelworks.connections.sources.base import SSL_MODES, SourceError, TestResult, check_destination, scrub

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["PostgresSource", "quote_table", "storable_batch", "storable_schema"]

CONNECT_TIMEOUT_SECONDS = 10
_LIST_TABLES = (
    "SELECT table_schema, table_name FROM information_schema.tables "
    "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
)
_MAX_DECIMAL_PRECISION = 38


class PostgresSource:
    """A PostgreSQL database.

    Args:
        config: ``host``, ``port`` (default 5432), ``database``, ``user``, ``sslmode`` (default prefer).
        secrets: ``password`` (optional: a server may trust the user).
    """

    def __init__(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        self.host = str(config.get("host") or "").strip()
        self.port = int(config.get("port") or 5432)
        self.database = str(config.get("database") or "").strip()
        self.user = str(config.get("user") or "").strip()
        self.sslmode = str(config.get("sslmode") or "prefer")
        self._password = secrets.get("password") or ""
        if not self.host or not self.database or not self.user:
            raise SourceError("a PostgreSQL connection needs a host, a database and a user")
        if self.sslmode not in SSL_MODES:
            raise SourceError(f"SSL mode {self.sslmode!r} is unknown; use one of {', '.join(SSL_MODES)}")

    @property
    def where(self) -> str:
        """``host:port/database``, for messages."""
        return f"{self.host}:{self.port}/{self.database}"

    def _uri(self) -> str:
        auth = quote(self.user, safe="")
        if self._password:
            auth += ":" + quote(self._password, safe="")
        query = urlencode(
            {
                "sslmode": self.sslmode,
                "connect_timeout": CONNECT_TIMEOUT_SECONDS,
                "application_name": "modelworks",
            }
        )
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"postgresql://{auth}@{host}:{self.port}/{quote(self.database, safe='')}?{query}"

    def _connect(self) -> Any:
        import adbc_driver_postgresql.dbapi as pg

        check_destination(self.host, self.port)
        try:
            return pg.connect(self._uri(), autocommit=True)
        except Exception as exc:  # the driver's errors are plain Exceptions subclasses
            raise SourceError(
                f"Could not connect to {self.host}:{self.port}: {self._reason(exc)}"
            ) from None  # the chained driver error could carry the connection string

    def connect(self, *, autocommit: bool = False) -> Any:
        """A DB-API 2 connection (``adbc_driver_postgresql.dbapi``) that may write, for push-down.

        The caller closes it. Transactions are the caller's (``autocommit`` off by default).

        Raises:
            SourceError: the server could not be reached; the message holds no credential.
        """
        import adbc_driver_postgresql.dbapi as pg

        check_destination(self.host, self.port)
        try:
            return pg.connect(self._uri(), autocommit=autocommit)
        except Exception as exc:
            raise SourceError(
                f"Could not connect to {self.host}:{self.port}: {self._reason(exc)}"
            ) from None  # the chained driver error could carry the connection string

    def describe_error(self, exc: BaseException) -> str:
        """The server's reason for ``exc`` in one line, without the driver's prefixes or any secret."""
        return self._reason(exc)

    def resolve_table(self, name: str) -> tuple[str, str]:
        """The ``(schema, table)`` that ``name`` (``schema.table`` or ``table``) denotes, if it exists.

        Raises:
            SourceError: no such table or view the user can see, or the server could not be reached.
        """
        con = self._connect()
        try:
            cur = con.cursor()
            cur.execute(
                "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c "
                "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.oid = pg_catalog.to_regclass($1)",
                [quote_table(name)],
            )
            row = cur.fetchone()
        except Exception as exc:
            raise SourceError(
                f"Table {name!r} of {self.where} could not be found: {self._reason(exc)}"
            ) from None
        finally:
            con.close()
        if row is None:
            raise SourceError(
                f"There is no table {name!r} in {self.where} that user {self.user!r} can see; "
                "check the name (schema.table) and the user's rights"
            )
        return str(row[0]), str(row[1])

    def _reason(self, exc: BaseException) -> str:
        """The useful part of a libpq/ADBC message, without the driver's prefixes or any secret."""
        text = scrub(str(exc), [self._password])
        text = re.sub(r"^[A-Z_]+: (\[libpq\] )?(Failed to connect: )?", "", text.strip())
        text = re.sub(r"^Failed to (prepare|execute) query: ", "", text)
        text = text.split("\n\nQuery was:")[0]
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        first = lines[0] if lines else "no reason given"
        first = re.sub(r'^connection to server at "[^"]*"(, port \d+)? failed: ', "", first)
        first = re.sub(r"^could not begin COPY: ", "", first)
        first = re.sub(r"^(FATAL|ERROR):\s+", "", first).replace('"', "'")
        hint = next((ln for ln in lines[1:] if ln.startswith(("Is the server", "HINT:"))), "")
        return f"{first}. {hint}".strip() if hint else first

    def test(self) -> TestResult:
        """Connect, read the server version and count the tables the user can see."""
        try:
            con = self._connect()
        except SourceError as exc:
            return TestResult(False, str(exc))
        try:
            cur = con.cursor()
            cur.execute("SELECT current_setting('server_version')")
            version = str(cur.fetchone()[0]).split()[0]
            cur.execute(_LIST_TABLES)
            count = len(cur.fetchall())
        except Exception as exc:
            return TestResult(
                False, f"Connected to {self.where}, but the server answered: {self._reason(exc)}"
            )
        finally:
            con.close()
        noun = "table" if count == 1 else "tables"
        return TestResult(
            True,
            f"Connected: PostgreSQL {version}, {count} {noun} visible",
            {"server_version": version, "tables": count},
        )

    def list_tables(self) -> list[str]:
        """``schema.table`` of every table and view the user can see."""
        con = self._connect()
        try:
            cur = con.cursor()
            cur.execute(_LIST_TABLES)
            return [f"{schema}.{name}" for schema, name in cur.fetchall()]
        except Exception as exc:
            raise SourceError(
                f"The tables of {self.where} could not be listed: {self._reason(exc)}"
            ) from None
        finally:
            con.close()

    def copy_to_parquet(
        self,
        destination: Path,
        *,
        table: str | None = None,
        query: str | None = None,
        on_rows: Callable[[int], None] | None = None,
    ) -> int:
        """Stream a table or a query's result into ``destination`` (Parquet); return the row count.

        Args:
            destination: the file to write.
            table: ``schema.table`` or ``table``; exactly one of ``table`` and ``query``.
            query: one read-only SQL statement.
            on_rows: called with the rows written so far after each record batch.

        Raises:
            SourceError: the source could not be read; the message names the table or query.
        """
        if (table is None) == (query is None):
            raise SourceError("choose either a table or a SQL query")
        sql = f"SELECT * FROM {quote_table(table)}" if table is not None else _single_statement(query or "")  # noqa: S608
        what = f"table {table!r}" if table is not None else "the SQL query"
        import pyarrow.parquet as pq  # imported here: the web process needs pyarrow only for imports

        con = self._connect()
        rows = 0
        try:
            cur = con.cursor()
            # Every statement of this session is read-only, whatever the query says.
            cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            cur.execute(sql)
            reader = cur.fetch_record_batch()
            schema = storable_schema(reader.schema)
            with pq.ParquetWriter(destination, schema, compression="zstd") as writer:
                for batch in reader:
                    writer.write_batch(storable_batch(batch, schema))
                    rows += batch.num_rows
                    if on_rows is not None:
                        on_rows(rows)
        except SourceError:
            raise
        except Exception as exc:
            raise SourceError(f"{what} of {self.where} could not be read: {self._reason(exc)}") from None
        finally:
            con.close()
        return rows


def quote_table(name: str) -> str:
    """Quote ``schema.table`` (or ``table``) as SQL identifiers."""
    if not name or "\x00" in name:
        raise SourceError("name a table, e.g. public.orders")
    parts = name.split(".", 1)
    return ".".join('"' + part.replace('"', '""') + '"' for part in parts)


def _single_statement(query: str) -> str:
    text = query.strip().rstrip(";").strip()
    if not text:
        raise SourceError("the SQL query is empty; write one SELECT statement")
    if "\x00" in text:
        raise SourceError("the SQL query holds a NUL character")
    return text


def _storable_type(field: pa.Field) -> pa.DataType:
    """Arrow types Parquet and DuckDB read: PostgreSQL-specific (opaque) types become text or numbers."""
    import pyarrow as pa

    kind = field.type
    if isinstance(kind, pa.BaseExtensionType):
        meta = field.metadata or {}
        if meta.get(b"POSTGRESQL:type") == b"numeric":
            typmod = int(meta.get(b"POSTGRESQL:typmod", b"-1") or -1)
            if typmod >= 4:
                precision, scale = (typmod - 4) >> 16, (typmod - 4) & 0xFFFF
                if 0 < precision <= _MAX_DECIMAL_PRECISION:
                    return pa.decimal128(precision, scale)
            return pa.float64()  # unconstrained numeric: a float, as most tools read it
        return kind.storage_type
    return kind


def storable_schema(schema: pa.Schema) -> pa.Schema:
    """The Parquet schema for rows PostgreSQL sent: opaque types become text or numbers (nullable)."""
    import pyarrow as pa

    return pa.schema([pa.field(f.name, _storable_type(f), nullable=True) for f in schema])


def storable_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """``batch`` cast to :func:`storable_schema`'s ``schema``."""
    import pyarrow as pa

    columns = []
    for column, target in zip(batch.columns, schema, strict=True):
        if isinstance(column.type, pa.BaseExtensionType):
            column = column.storage
        if column.type != target.type:
            column = column.cast(target.type)
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=schema)
