"""Running a step inside PostgreSQL, loading outputs computed elsewhere into their connection, and
dropping a failed step's tables (runner thread: no Django database access)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelworks.engine.flow.errors import ExecutionError, StepCancelledError
from modelworks.flows.services.pushdown.placement import StoredTable, Target

if TYPE_CHECKING:
    from modelworks.engine.io import StagedFile
    from modelworks.flows.services.execution import ExecutedStep, PreparedStep

__all__ = ["drop_tables", "run_pushdown", "store_outputs"]

logger = logging.getLogger(__name__)

_BATCH_ROWS = 65_536


def run_pushdown(
    prepared: PreparedStep, staged: Mapping[str, StagedFile], cancelled: Callable[[], bool]
) -> ExecutedStep:
    """Run the step inside its connection, then stream each new table into its staged snapshot.

    Raises:
        RecipeError / MissingColumnError: the recipe does not fit its inputs' current columns.
        ExecutionError and subclasses: PostgreSQL failed (nothing was created), or a snapshot could not
            be written (the new tables are dropped again).
    """
    from django.conf import settings

    from modelworks.engine.flow import relations_for, run_in_postgres
    from modelworks.engine.recipes import compile_recipe, normalize_spec, output_schemas
    from modelworks.flows.services.execution import ExecutedStep
    from modelworks.flows.services.join_report import (
        REPORT_KEY,
        JoinReport,
        is_join,
        join_report_in_postgres,
    )

    placement = prepared.placement
    assert placement is not None and placement.runs_in is not None
    target = placement.runs_in
    relations = relations_for({name: prepared.input_columns[name] for name in prepared.input_names})
    spec = normalize_spec(prepared.kind, prepared.spec, recipe=prepared.name)
    compiled = compile_recipe(prepared.kind, spec, relations, prepared.output_names, recipe=prepared.name)
    schemas = output_schemas(compiled, relations)  # a column lost upstream is reported before running
    tables = {name: placement.outputs[name] for name in prepared.output_names}
    con = _connect(target, prepared.name)
    stopped: BaseException | None = None
    report: JoinReport | None = None
    try:
        _ensure_schemas(con, target, {t.schema for t in tables.values()}, prepared.name)
        rows = run_in_postgres(
            compiled,
            con,
            input_tables=dict(placement.inputs),
            output_tables={name: (t.schema, t.table) for name, t in tables.items()},
            timeout_s=float(getattr(settings, "MODELWORKS_FLOW_STEP_TIMEOUT", 3600)),
            cancelled=cancelled,
            recipe=prepared.name,
        )
        try:
            if is_join(prepared.kind):
                report = join_report_in_postgres(
                    spec,
                    relations,
                    con,
                    input_tables=dict(placement.inputs),
                    recipe=prepared.name,
                    cancelled=cancelled,
                )
        except BaseException as exc:  # cancelled after the tables were made: they must go again
            stopped = exc
    finally:
        con.close()
    if stopped is not None:
        drop_tables(tables.values())
        raise stopped
    try:
        for name, table in tables.items():
            rows[name] = _export(table, staged[name].path, cancelled, prepared.name, name)
    except BaseException:
        drop_tables(tables.values())
        raise
    sql = ";\n\n".join(
        f"-- {out.name} → {tables[out.name].label}\n{out.sql('postgres')}" for out in compiled.outputs
    )
    lines = [f"Ran inside PostgreSQL connection '{target.name}'; the data did not leave the database."]
    lines += [
        f"{name}: {rows.get(name, 0):,} rows, {len(schemas.get(name, ()))} columns, "
        f"table {tables[name].label} (and its Parquet snapshot)"
        for name in prepared.output_names
    ]
    details: dict[str, Any] = {}
    if report is not None:
        lines += [report.log_text()] if report.log_text() else []
        details[REPORT_KEY] = report.to_dict()
    return ExecutedStep(
        staged=dict(staged),
        rows=dict(rows),
        log="\n".join(lines),
        compiled=compiled,
        sql=sql,
        stored=dict(tables),
        engine="postgres",
        details=details,
    )


def store_outputs(prepared: PreparedStep, executed: ExecutedStep, cancelled: Callable[[], bool]) -> None:
    """Load the outputs stored in a connection (computed elsewhere) into new tables of it.

    One transaction per connection; on any failure every table of the step is dropped again.

    Raises:
        ExecutionError: a table could not be created or loaded (the message names output and connection).
    """
    placement = prepared.placement
    if placement is None or placement.runs_in is not None:
        return
    loaded: list[StoredTable] = []
    by_target: dict[int, list[tuple[str, StoredTable]]] = {}
    for name, table in placement.outputs.items():
        if name in executed.staged:
            by_target.setdefault(table.target.connection_id, []).append((name, table))
    try:
        for group in by_target.values():
            target = group[0][1].target
            con = _connect(target, prepared.name)
            try:
                _ensure_schemas(con, target, {t.schema for _, t in group}, prepared.name)
                for name, table in group:
                    _ingest(con, table, executed.staged[name].path, cancelled, prepared.name, name)
                con.commit()
            except BaseException:
                _rollback(con)
                raise
            finally:
                con.close()
            loaded += [table for _, table in group]
    except BaseException:
        drop_tables(loaded)
        raise
    executed.stored.update({name: t for group in by_target.values() for name, t in group})
    where = sorted({t.target.name for t in placement.outputs.values()})
    notes = (
        [f"Did not run inside PostgreSQL connection '{where[0]}' (where its outputs go): {placement.reason}."]
        if placement.reason and len(where) == 1
        else [f"Did not run inside PostgreSQL: {placement.reason}."]
        if placement.reason
        else []
    )
    notes += [
        f"Stored {name} in PostgreSQL connection '{t.target.name}' as table {t.label}."
        for group in by_target.values()
        for name, t in group
    ]
    executed.log = "\n".join([executed.log, *notes]) if executed.log else "\n".join(notes)


def drop_tables(tables: Iterator[StoredTable] | Sequence[StoredTable] | Any) -> None:
    """Drop tables this step created (best effort: a failure is logged, never raised)."""
    pending = list(tables)
    by_target: dict[int, list[StoredTable]] = {}
    for table in pending:
        by_target.setdefault(table.target.connection_id, []).append(table)
    for group in by_target.values():
        target = group[0].target
        try:
            con = target.source.connect(autocommit=True)
        except Exception as exc:
            logger.warning(
                "could not drop tables %s of connection %r: %s", [t.label for t in group], target.name, exc
            )
            continue
        try:
            cursor = con.cursor()
            for table in group:
                try:
                    cursor.execute(f"DROP TABLE IF EXISTS {_qualified(table.schema, table.table)}")
                except Exception as exc:
                    logger.warning(
                        "could not drop table %s of connection %r: %s",
                        table.label,
                        target.name,
                        target.source.describe_error(exc),
                    )
        finally:
            con.close()


def _qualified(schema: str, table: str) -> str:
    from sqlglot import exp

    return exp.table_(table, db=schema, quoted=True).sql(dialect="postgres")


def _connect(target: Target, recipe: str) -> Any:
    from modelworks.connections.sources import SourceError

    try:
        return target.source.connect()
    except SourceError as exc:
        raise ExecutionError(
            f"recipe {recipe!r} could not reach PostgreSQL connection {target.name!r}: {exc}", recipe=recipe
        ) from None


def _rollback(con: Any) -> None:
    try:
        con.rollback()
    except Exception:  # the connection may be broken already; closing it rolls back anyway
        logger.debug("rollback failed", exc_info=True)


def _ensure_schemas(con: Any, target: Target, schemas: set[str], recipe: str) -> None:
    """Create each missing schema (checked first: CREATE SCHEMA needs a right an existing one does not)."""
    from sqlglot import exp

    cursor = con.cursor()
    current = ""
    try:
        for schema in sorted(schemas):
            current = schema
            cursor.execute("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", [schema])
            if cursor.fetchone() is None:
                cursor.execute(
                    f"CREATE SCHEMA IF NOT EXISTS {exp.to_identifier(schema, quoted=True).sql('postgres')}"
                )
        con.commit()
    except Exception as exc:
        _rollback(con)
        raise ExecutionError(
            f"recipe {recipe!r} cannot store its outputs in schema {current!r} of PostgreSQL connection "
            f"{target.name!r}: {target.source.describe_error(exc)}; create the schema and let the "
            "connection's user create tables in it (GRANT CREATE ON SCHEMA …), or choose another schema",
            recipe=recipe,
        ) from None
    finally:
        cursor.close()


def _export(table: StoredTable, path: Path, cancelled: Callable[[], bool], recipe: str, output: str) -> int:
    """Stream ``table`` into ``path`` (Parquet, zstd) batch by batch; return the rows written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from modelworks.connections.sources.postgres import storable_batch, storable_schema

    target = table.target
    con = _connect(target, recipe)
    rows = 0
    try:
        cursor = con.cursor()
        cursor.execute(f"SELECT * FROM {_qualified(table.schema, table.table)}")  # noqa: S608 - quoted
        reader = cursor.fetch_record_batch()
        schema = storable_schema(reader.schema)
        unsupported = [f.name for f in schema if pa.types.is_interval(f.type)]
        if unsupported:
            raise ExecutionError(
                f"recipe {recipe!r}: output {output!r} has column(s) {', '.join(map(repr, unsupported))} of "
                "type interval, which its Parquet snapshot cannot hold; convert them in the recipe (e.g. to "
                "a number of seconds or to text)",
                recipe=recipe,
                output=output,
            )
        with pq.ParquetWriter(path, schema, compression="zstd") as writer:
            for batch in reader:
                if cancelled():
                    raise StepCancelledError(
                        f"recipe {recipe!r} was stopped: the build was cancelled", recipe=recipe
                    )
                writer.write_batch(storable_batch(batch, schema))
                rows += batch.num_rows
    except ExecutionError:
        raise
    except Exception as exc:
        raise ExecutionError(
            f"recipe {recipe!r} ran inside PostgreSQL connection {target.name!r}, but output {output!r} "
            f"could not be copied into its snapshot: {target.source.describe_error(exc)}",
            recipe=recipe,
            output=output,
        ) from None
    finally:
        con.close()
    return rows


def _ingest(
    con: Any, table: StoredTable, path: Path, cancelled: Callable[[], bool], recipe: str, output: str
) -> None:
    """Create ``table`` from the Parquet file ``path``, streamed (the caller commits)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in parquet.iter_batches(batch_size=_BATCH_ROWS):
            if cancelled():
                raise StepCancelledError(
                    f"recipe {recipe!r} was stopped: the build was cancelled", recipe=recipe
                )
            yield batch

    reader = pa.RecordBatchReader.from_batches(parquet.schema_arrow, batches())
    cursor = con.cursor()
    try:
        cursor.adbc_ingest(table.table, reader, mode="create", db_schema_name=table.schema)
    except Exception as exc:
        if cancelled():
            raise StepCancelledError(
                f"recipe {recipe!r} was stopped: the build was cancelled", recipe=recipe
            ) from None
        raise ExecutionError(
            f"recipe {recipe!r}: output {output!r} could not be stored in PostgreSQL connection "
            f"{table.target.name!r} as table {table.label}: {table.target.source.describe_error(exc)}",
            recipe=recipe,
            output=output,
        ) from None
    finally:
        cursor.close()
