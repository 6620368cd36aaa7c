"""Bringing data in: submitting import jobs (checked first, so bad requests change nothing) and the
atomic creation of a dataset version once the engine has stored its Parquet file.

An import never half-happens: the engine writes the version into the store only when the whole
file converted, and :func:`create_version` removes that file again if the database rows cannot be
written. A failed import therefore leaves no dataset, no version and no file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from modelworks.connections.models import Connection, ConnectionKind
from modelworks.core import audit
from modelworks.core.jobs import enqueue
from modelworks.core.models import Job, Project, User
from modelworks.datasets.models import Dataset, DatasetVersion, SourceKind
from modelworks.datasets.models.datasets import validate_dataset_name
from modelworks.datasets.storage import data_store
from modelworks.engine.io import (
    FORMATS,
    LOGICAL_TYPES,
    MAX_HEADER_ROWS,
    MAX_SKIP_ROWS,
    ImportOptions,
    VersionInfo,
)

__all__ = [
    "OPTION_NAMES",
    "check_header_names",
    "clean_import_options",
    "create_version",
    "engine_options",
    "submit_connection_import",
    "submit_reimport",
    "submit_upload_import",
]

OPTION_NAMES = (
    "format",
    "encoding",
    "delimiter",
    "header",
    "sheet",
    "types",
    "bad_rows",
    "duplicate_headers",
    "header_rows",
    "skip_rows",
)
_MAX_QUERY = 100_000


def clean_import_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check the user's import options (JSON) and return them without empty values.

    Raises:
        ValidationError: keyed by option, e.g. ``{"types": "… 'int' is not a type …"}``.
    """
    given = {k: v for k, v in dict(options or {}).items() if v not in (None, "", {})}
    errors: dict[str, str] = {}
    for name in sorted(set(given) - set(OPTION_NAMES)):
        errors[name] = f"'{name}' is not an import option; use {', '.join(OPTION_NAMES)}."
    if "format" in given and given["format"] not in FORMATS:
        errors["format"] = (
            f"'{given['format']}' is not a format; use one of {', '.join(FORMATS)} or leave it empty."
        )
    if "delimiter" in given and (not isinstance(given["delimiter"], str) or len(given["delimiter"]) != 1):
        errors["delimiter"] = "Give one character, e.g. ; or leave it empty to detect it."
    if "header" in given and not isinstance(given["header"], bool):
        errors["header"] = "Use true, false or leave it empty to detect it."
    if "bad_rows" in given and given["bad_rows"] not in ("error", "skip"):
        errors["bad_rows"] = "Use 'error' (stop at the first malformed row) or 'skip' (leave such rows out)."
    if "duplicate_headers" in given and given["duplicate_headers"] not in ("rename", "reject"):
        errors["duplicate_headers"] = "Use 'rename' or 'reject'."
    for name, low, high, meaning in (
        ("header_rows", 1, MAX_HEADER_ROWS, "rows the header spans"),
        ("skip_rows", 0, MAX_SKIP_ROWS, "rows above the table to leave out"),
    ):
        value = given.get(name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high
        ):
            errors[name] = f"Give the number of {meaning}: a whole number from {low} to {high:,}."
    types = given.get("types", {})
    if not isinstance(types, Mapping):
        errors["types"] = 'Give an object mapping column names to types, e.g. {"age": "integer"}.'
    else:
        for column, kind in types.items():
            if kind not in LOGICAL_TYPES:
                errors["types"] = (
                    f"Column '{column}': '{kind}' is not a type; use one of {', '.join(LOGICAL_TYPES)}."
                )
                break
    if errors:
        raise ValidationError(errors)
    return given


def engine_options(options: Mapping[str, Any], *, original_name: str, max_bytes: int | None) -> ImportOptions:
    """The engine's :class:`ImportOptions` for cleaned options."""
    return ImportOptions(
        original_name=original_name,
        max_bytes=max_bytes,
        encoding=options.get("encoding"),
        delimiter=options.get("delimiter"),
        header=options.get("header"),
        sheet=options.get("sheet"),
        types=dict(options.get("types") or {}),
        bad_rows=options.get("bad_rows", "error"),
        # Unnamed or repeated columns are refused unless the user asked to rename them: a header
        # row that does not name every column usually means the wrong row or the wrong file.
        duplicate_headers=options.get("duplicate_headers", "reject"),
        header_rows=options.get("header_rows", 1),
        skip_rows=options.get("skip_rows", 0),
    )


def check_header_names(info: VersionInfo, options: Mapping[str, Any], label: str) -> None:
    """Refuse a version whose header had empty names, unless renaming was chosen.

    Raises:
        ValidationError: naming the columns and the option that accepts them.
    """
    if options.get("duplicate_headers") == "rename":
        return
    empty = [r.position for r in info.renamed_columns if r.reason == "empty"]
    if empty:
        where = ", ".join(str(p) for p in empty[:10]) + ("…" if len(empty) > 10 else "")
        raise ValidationError(
            f"{label!r} has no name for column{'s' if len(empty) > 1 else ''} {where} in its header row. "
            "Name every column in the file, or choose “Rename them” for unnamed or repeated column names "
            "to call them column_3 and so on."
        )


def _check_target(project: Project, dataset: Dataset | None, name: str | None) -> dict[str, Any]:
    """The job parameters naming where the version goes: an existing dataset or a new name."""
    if dataset is not None:
        if dataset.project_id != project.pk:
            raise ValidationError({"dataset": "That dataset belongs to another project."})
        return {"dataset_id": dataset.pk}
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the new dataset a name."})
    try:
        validate_dataset_name(name)
    except ValidationError as exc:
        raise ValidationError({"name": exc.messages}) from exc
    if len(name) > 200:
        raise ValidationError({"name": "Use at most 200 characters."})
    if Dataset.objects.filter(project=project, name=name).exists():
        raise ValidationError(
            {
                "name": f"A dataset named '{name}' already exists here; choose another name or add a version to it."
            }
        )
    return {"name": name}


def _submit(
    project: Project, actor: User, title: str, params: dict[str, Any], request: HttpRequest | None
) -> Job:
    return enqueue(
        "datasets.import",
        title=title[:200],
        project=project,
        created_by=actor,
        params=params,
        request=request,
    )


def submit_upload_import(
    *,
    actor: User,
    project: Project,
    upload_id: str,
    file_name: str,
    dataset: Dataset | None = None,
    name: str | None = None,
    description: str = "",
    options: Mapping[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> Job:
    """Queue the import of an uploaded file (already on disk, see ``uploads.keep_upload``)."""
    params = {
        **_check_target(project, dataset, name),
        "description": description,
        "options": clean_import_options(options),
        "source": {"kind": SourceKind.UPLOAD, "upload_id": upload_id, "file_name": file_name[:300]},
    }
    target = dataset.name if dataset is not None else params["name"]
    return _submit(project, actor, f"Import {file_name[:80]} into {target}", params, request)


def submit_connection_import(
    *,
    actor: User,
    project: Project,
    connection: Connection,
    table: str | None = None,
    query: str | None = None,
    path: str | None = None,
    dataset: Dataset | None = None,
    name: str | None = None,
    description: str = "",
    options: Mapping[str, Any] | None = None,
    keep_in_database: bool = False,
    request: HttpRequest | None = None,
) -> Job:
    """Queue an import from a connection: a table or a SQL query (PostgreSQL), or a file (S3).

    The job receives the connection's ID only; it decrypts the credentials itself, so they never
    appear in the job's parameters, logs or environment.

    Args:
        keep_in_database: PostgreSQL tables only: a *linked* import. The new version records the
            table as its ``location``, so recipes on it whose outputs are stored in the same
            connection run inside the database, on the live table. A Parquet snapshot is still
            taken, for everything else (explore, profile, quality, other recipes).
    """
    if not connection.is_usable_in(project):
        raise ValidationError({"connection": "That connection is not available in this project."})
    chosen = {
        k: v.strip() for k, v in (("table", table), ("query", query), ("path", path)) if v and v.strip()
    }
    allowed = ("table", "query") if connection.kind == ConnectionKind.POSTGRESQL else ("path",)
    wrong = [k for k in chosen if k not in allowed]
    if wrong or len(chosen) != 1:
        words = " or ".join(f"a {k}" for k in allowed)
        raise ValidationError({allowed[0]: f"Give {words} to import from {connection.name}."})
    ((what, value),) = chosen.items()
    if "\x00" in value or len(value) > _MAX_QUERY:
        raise ValidationError({what: "This value holds a NUL character or is too long."})
    if keep_in_database and what != "table":
        raise ValidationError(
            {
                "keep_in_database": "Only a PostgreSQL table can stay in its database; a SQL query or "
                "a file is always copied into Modelworks storage. Import a table, or leave this unticked."
            }
        )
    kind = {"table": SourceKind.CONNECTION_TABLE, "query": SourceKind.SQL_QUERY, "path": SourceKind.S3_PATH}[
        what
    ]
    params = {
        **_check_target(project, dataset, name),
        "description": description,
        "options": clean_import_options(options),
        "source": {"kind": kind, "connection_id": connection.pk, what: value},
    }
    if keep_in_database:
        params["source"]["keep_in_database"] = True
    label = value if what != "query" else "a SQL query"
    target = dataset.name if dataset is not None else params["name"]
    return _submit(
        project, actor, f"Import {label[:80]} from {connection.name} into {target}", params, request
    )


def submit_reimport(
    *,
    actor: User,
    dataset: Dataset,
    version: DatasetVersion | None = None,
    types: Mapping[str, str] | None = None,
    request: HttpRequest | None = None,
) -> Job:
    """Queue a new version read again from the source of ``version`` (default: the latest), with the
    column types chosen by the user."""
    version = version or dataset.latest_version
    if version is None:
        raise ValidationError({"version": "This dataset has no version to import again."})
    options = dict(version.how_details.get("options") or {})
    changed = {k: v for k, v in (types or {}).items() if v}
    known = set(version.column_names)
    for column in changed:
        if column not in known:
            raise ValidationError({"types": f"Column '{column}' is not in version {version.number}."})
    options["types"] = {**options.get("types", {}), **changed}
    params = {
        "dataset_id": dataset.pk,
        "options": clean_import_options(options),
        "source": {"kind": "version", "version_id": version.pk},
    }
    return _submit(
        dataset.project,
        actor,
        f"Import {dataset.name} again (from version {version.number})",
        params,
        request,
    )


def create_version(
    *,
    project: Project,
    info: VersionInfo,
    how: str,
    how_details: dict[str, Any],
    actor: User | None,
    job: Job | None,
    dataset: Dataset | None = None,
    name: str | None = None,
    description: str = "",
    connection: Connection | None = None,
    extra_objects: tuple[str, ...] = (),
    location: Mapping[str, Any] | None = None,
) -> DatasetVersion:
    """Register a version the engine has stored, creating the dataset when ``dataset`` is None.

    Atomic with its audit entries. If anything fails, the stored objects (``info.object_id`` and
    ``extra_objects``, e.g. a kept upload) are deleted, so nothing is left behind.

    ``location`` (``{"connection_id", "schema", "table"}``) says the version's data also lives in
    that table of a PostgreSQL connection; ``info.object_id`` is then its Parquet snapshot.

    Raises:
        ValidationError: the name is taken (a dataset was created meanwhile) or invalid.
    """
    try:
        with transaction.atomic():
            created = dataset is None
            if dataset is None:
                dataset = Dataset(
                    project=project,
                    name=name or "",
                    description=description,
                    owner=actor,
                    created_by=actor,
                    source_kind=how,
                    source_connection=connection,
                    source_details={k: v for k, v in how_details.items() if k != "source_object_id"},
                )
                dataset.full_clean()
                dataset.save()
                audit.record(
                    "dataset.created", actor=actor, project=project, target=dataset, details={"how": how}
                )
            else:
                dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
            number = (dataset.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
            blocking = dataset.rules.filter(enabled=True, blocking=True).exists()
            version = DatasetVersion.objects.create(
                dataset=dataset,
                number=number,
                object_id=info.object_id,
                content_hash=info.content_hash,
                row_count=info.row_count,
                byte_size=info.byte_size,
                schema=[c.to_dict() for c in info.columns],
                source_format=info.source.to_dict(),
                import_report={
                    k: v
                    for k, v in info.to_dict().items()
                    if k in ("renamed_columns", "skipped_rows", "skipped_lines", "warnings", "timings")
                },
                how=how,
                how_details=how_details,
                connection=connection,
                location=_clean_location(location),
                job=job,
                created_by=actor,
                # Until its blocking rules have run, a version must not be used by a build.
                usable=not blocking,
            )
            if not created:
                # An update, not ``save()``: the new version's ``post_save`` has just re-indexed the
                # dataset for the catalog; saving the dataset would index it a second time.
                dataset.updated_at = timezone.now()
                Dataset.objects.filter(pk=dataset.pk).update(updated_at=dataset.updated_at)
            audit.record(
                "dataset.version_created",
                actor=actor,
                project=project,
                target=dataset,
                details={
                    "version": number,
                    "rows": info.row_count,
                    "content_hash": info.content_hash,
                    "how": how,
                },
            )
    except IntegrityError as exc:
        _discard(info.object_id, *extra_objects)
        raise ValidationError(
            {"name": f"A dataset named '{name}' was created meanwhile; import again with another name."}
        ) from exc
    except BaseException:
        _discard(info.object_id, *extra_objects)
        raise
    return version


def _clean_location(location: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``{"connection_id", "schema", "table"}`` checked, or None (Modelworks storage only)."""
    if not location:
        return None
    connection_id, schema, table = (location.get(k) for k in ("connection_id", "schema", "table"))
    if isinstance(connection_id, bool) or not isinstance(connection_id, int) or connection_id < 1:
        raise ValueError(f"a version location needs a connection id, got {connection_id!r}")
    for part in (schema, table):
        if not isinstance(part, str) or not part or "\x00" in part or len(part) > 63:
            raise ValueError(f"a version location needs a schema and a table name, got {part!r}")
    return {"connection_id": connection_id, "schema": schema, "table": table}


def _discard(*object_ids: str) -> None:
    store = data_store()
    for object_id in object_ids:
        store.delete(object_id)
