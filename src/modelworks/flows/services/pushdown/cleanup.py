"""Dropping the database tables of deleted recipe output versions.

A recipe output stored in a PostgreSQL connection gets a new table per version
(``mw_<dataset id>_v<n>_<hex>``). When such a version goes — alone, with its dataset or with its
project — :func:`remember_table_drop` (the ``post_delete`` signal of ``DatasetVersion``) writes a
:class:`~modelworks.flows.models.TableDrop` in the deleting transaction and, once it commits, queues
the ``flows.drop_tables`` job, which runs :func:`drop_pending_tables` (jobs are where connection
credentials are decrypted).

Never a table Modelworks did not create: only versions with ``how="recipe"`` whose ``location`` a
build recorded, with a table name of that exact form in a plain schema name, qualify; a table still
named by any remaining version (e.g. imported again as a linked dataset) is kept; and the drop has no
``CASCADE``, so a view someone built on the table makes it fail (the row says why) and nothing else
is touched.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from modelworks.core import audit
from modelworks.datasets.models import Dataset, DatasetVersion, SourceKind
from modelworks.flows.models import TableDrop, TableDropState

__all__ = ["DROP_JOB", "MAX_ATTEMPTS", "drop_pending_tables", "remember_table_drop", "table_to_drop"]

logger = logging.getLogger("modelworks.flows")

DROP_JOB = "flows.drop_tables"
#: Attempts when the connection cannot be reached before a drop is marked failed.
MAX_ATTEMPTS = 5
_OUTPUT_TABLE = re.compile(r"mw_(?P<dataset>\d+)_v\d+_[0-9a-f]{6}")
_SCHEMA = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def table_to_drop(version: DatasetVersion) -> TableDrop | None:
    """The (unsaved) drop of ``version``'s table, or None when the version has no table Modelworks made."""
    location = version.location
    if version.how != SourceKind.RECIPE or not isinstance(location, dict):
        return None
    connection_id, schema, table = (location.get(k) for k in ("connection_id", "schema", "table"))
    if isinstance(connection_id, bool) or not isinstance(connection_id, int):
        return None
    if not isinstance(schema, str) or not isinstance(table, str) or not _SCHEMA.fullmatch(schema):
        return None
    named = _OUTPUT_TABLE.fullmatch(table)
    if named is None or int(named["dataset"]) != version.dataset_id:
        return None
    return TableDrop(
        connection_id=connection_id,
        schema=schema,
        table=table,
        version_number=version.number,
    )


def remember_table_drop(version: DatasetVersion) -> TableDrop | None:
    """Record that ``version``'s table must go (in the deleting transaction) and queue the job once
    it commits. Does nothing for versions without a table Modelworks made."""
    from modelworks.connections.models import Connection

    drop = table_to_drop(version)
    if drop is None:
        return None
    found = Dataset.objects.filter(pk=version.dataset_id).values_list("name", "project__slug").first()
    drop.dataset_name, drop.project_slug = found if found else ("", "")
    drop.connection_name = (
        Connection.objects.filter(pk=drop.connection_id).values_list("name", flat=True).first() or ""
    )
    drop.save()
    transaction.on_commit(_queue_job)
    return drop


def _queue_job() -> None:
    from modelworks.core.jobs import JobError, enqueue
    from modelworks.core.models import Job, JobState

    if Job.objects.filter(kind=DROP_JOB, state=JobState.QUEUED).exists():
        return
    try:
        enqueue(DROP_JOB, title="Drop the database tables of deleted dataset versions")
    except JobError as exc:  # e.g. the job type is not registered on this instance
        logger.warning("could not queue %s: %s; the tables stay listed as pending", DROP_JOB, exc)


def drop_pending_tables(*, log: Callable[[str, str], Any] | None = None) -> dict[str, int]:
    """Drop every pending table (the ``flows.drop_tables`` job).

    Args:
        log: ``log(message, level)`` for the job's log.

    Returns:
        How many tables were ``dropped``, ``kept``, ``failed`` and are still ``pending`` (their
        connection could not be reached; tried again by the next job, up to :data:`MAX_ATTEMPTS`).
    """
    say = log or (lambda message, level="INFO": logger.info(message))
    counts = {"dropped": 0, "kept": 0, "failed": 0, "pending": 0}
    pending = list(TableDrop.objects.filter(state=TableDropState.PENDING))
    by_connection: dict[int, list[TableDrop]] = {}
    for drop in pending:
        by_connection.setdefault(drop.connection_id, []).append(drop)
    for connection_id, drops in by_connection.items():
        for drop in _drop_in_connection(connection_id, drops, say):
            counts[drop.state] += 1
    return counts


def _drop_in_connection(
    connection_id: int, drops: list[TableDrop], say: Callable[..., Any]
) -> list[TableDrop]:
    from modelworks.connections.models import Connection
    from modelworks.connections.services import open_source
    from modelworks.connections.sources import SourceError

    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None:
        return [
            _settle(d, TableDropState.FAILED, "the connection was deleted; drop the table yourself", say)
            for d in drops
        ]
    try:
        source = open_source(connection)
        con = source.connect(autocommit=True)
    except SourceError as exc:
        return [_unreachable(d, str(exc), say) for d in drops]
    done = []
    try:
        cursor = con.cursor()
        for drop in drops:
            still_used = DatasetVersion.objects.filter(
                location__connection_id=connection_id,
                location__schema=drop.schema,
                location__table=drop.table,
            ).exists()
            if still_used:
                done.append(_settle(drop, TableDropState.KEPT, "a dataset version still uses it", say))
                continue
            try:
                cursor.execute(f"DROP TABLE IF EXISTS {_qualified(drop.schema, drop.table)}")
            except Exception as exc:
                done.append(_settle(drop, TableDropState.FAILED, source.describe_error(exc), say))
                continue
            done.append(_settle(drop, TableDropState.DROPPED, "", say))
    finally:
        con.close()
    return done


def _unreachable(drop: TableDrop, why: str, say: Callable[..., Any]) -> TableDrop:
    drop.attempts += 1
    if drop.attempts >= MAX_ATTEMPTS:
        return _settle(drop, TableDropState.FAILED, f"the connection could not be reached: {why}", say)
    drop.error = f"the connection could not be reached (attempt {drop.attempts}): {why}"[:2000]
    drop.save(update_fields=["attempts", "error", "updated_at"])
    say(f"Table {drop.label} of '{drop.connection_name}': {drop.error}; will try again.", "WARNING")
    return drop


def _settle(drop: TableDrop, state: str, why: str, say: Callable[..., Any]) -> TableDrop:
    with transaction.atomic():
        drop.state, drop.error = state, why[:2000]
        drop.attempts += 0 if state == TableDropState.KEPT else 1
        drop.dropped_at = timezone.now() if state == TableDropState.DROPPED else None
        drop.save(update_fields=["state", "error", "attempts", "dropped_at", "updated_at"])
        audit.record(
            "flows.table_dropped" if state == TableDropState.DROPPED else f"flows.table_{state}",
            outcome="failure" if state == TableDropState.FAILED else "success",
            target_repr=drop.label,
            details={
                "connection_id": drop.connection_id,
                "connection": drop.connection_name,
                "table": drop.label,
                "project": drop.project_slug,
                "dataset": drop.dataset_name,
                "version": drop.version_number,
                **({"reason": why[:500]} if why else {}),
            },
        )
    level = "WARNING" if state == TableDropState.FAILED else "INFO"
    verb = {"dropped": "dropped", "kept": "kept", "failed": "not dropped"}[state]
    say(
        f"Table {drop.label} of '{drop.connection_name}' (dataset '{drop.dataset_name}' "
        f"v{drop.version_number}) {verb}" + (f": {why}" if why else "") + ".",
        level,
    )
    return drop


def _qualified(schema: str, table: str) -> str:
    from sqlglot import exp

    return exp.table_(table, db=schema, quoted=True).sql(dialect="postgres")
