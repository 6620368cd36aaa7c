"""Background work of the datasets app: imports, profiles and quality checks.

* ``datasets.import``: one source (an upload, a connection's table or SQL query, a file on S3, or the
  source of an earlier version) → a new immutable version, then its quality check and a profile job.
* ``datasets.profile``: the profile of one version (after each import, and on demand).
* ``datasets.quality``: the dataset's rules against one version (on demand).

Parameters name things by ID only: a connection's credentials are decrypted inside the job and never
appear in its parameters, log or environment.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError

from modelworks.connections.models import Connection
from modelworks.connections.services import open_source
from modelworks.connections.sources import SourceError
from modelworks.core.jobs import BaseJob, InvalidJobParamsError, JobFailed, enqueue
from modelworks.datasets import services
from modelworks.datasets.models import Dataset, DatasetVersion, SourceKind
from modelworks.datasets.storage import clean_stale_uploads, data_store, upload_path
from modelworks.engine.errors import EngineError
from modelworks.engine.io import import_file
from modelworks.engine.profiling import profile_dataset

__all__ = ["CheckQualityJob", "ImportDatasetJob", "ProfileVersionJob"]

_HEX32 = re.compile(r"[0-9a-f]{32}")
_SOURCE_KEYS = {
    SourceKind.UPLOAD: {"upload_id", "file_name"},
    SourceKind.CONNECTION_TABLE: {"connection_id", "table"},
    SourceKind.SQL_QUERY: {"connection_id", "query"},
    SourceKind.S3_PATH: {"connection_id", "path"},
    "version": {"version_id"},
}
PROFILE_TIMEOUT_SECONDS = 3600


def _positive_int(params: dict[str, Any], key: str, kind: str) -> int:
    value = params.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidJobParamsError(
            f"'{kind}' parameter {key!r} must be a positive whole number, got {value!r}."
        )
    return value


class ImportDatasetJob(BaseJob):
    """Import one source into a new dataset (``name``) or a new version of one (``dataset_id``)."""

    kind = "datasets.import"
    title = "Import a dataset"
    # A second attempt only happens when the worker died mid-way (the upload is still on disk then).
    max_attempts = 2

    @classmethod
    def clean_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        source = params.get("source")
        if not isinstance(source, dict) or source.get("kind") not in _SOURCE_KEYS:
            raise InvalidJobParamsError(
                f"'{cls.kind}' needs a source whose kind is one of {', '.join(_SOURCE_KEYS)}."
            )
        expected = _SOURCE_KEYS[source["kind"]]
        if source["kind"] == SourceKind.CONNECTION_TABLE and "keep_in_database" in source:
            if source["keep_in_database"] is not True:
                raise InvalidJobParamsError("keep_in_database, when given, must be true.")
            expected = expected | {"keep_in_database"}
        if set(source) - {"kind"} != expected:
            raise InvalidJobParamsError(
                f"a {source['kind']} source needs exactly: {', '.join(sorted(expected))}."
            )
        if source["kind"] == SourceKind.UPLOAD and not _HEX32.fullmatch(str(source["upload_id"])):
            raise InvalidJobParamsError("upload_id must be the 32 hex digits of an upload.")
        for key in ("connection_id", "version_id"):
            if key in source:
                _positive_int(source, key, cls.kind)
        if ("dataset_id" in params) == ("name" in params):
            raise InvalidJobParamsError(f"'{cls.kind}' needs either dataset_id or name.")
        if "dataset_id" in params:
            _positive_int(params, "dataset_id", cls.kind)
        try:
            params["options"] = services.clean_import_options(params.get("options"))
        except ValidationError as exc:
            raise InvalidJobParamsError(f"invalid import options: {'; '.join(exc.messages)}") from exc
        return params

    def run(self) -> dict[str, Any]:
        project = self.project
        if project is None:
            raise JobFailed("An import must belong to a project.")
        store = data_store()
        clean_stale_uploads()
        store.clean_stale()
        params, source = self.params, self.params["source"]
        dataset = None
        if "dataset_id" in params:
            dataset = Dataset.objects.filter(pk=params["dataset_id"], project=project).first()
            if dataset is None:
                raise JobFailed("The dataset was deleted before its new version could be imported.")
        upload = upload_path(source["upload_id"]) if source["kind"] == SourceKind.UPLOAD else None
        self.location: dict[str, Any] | None = None
        try:
            with store.scratch_dir() as scratch:
                self.progress(2, "Reading the source")
                path, how, details, connection, fmt = self._fetch(source, scratch, upload)
                self.progress(40, "Converting to Parquet and checking every row")
                self.log(
                    f"Importing {details.get('file_name') or how} into {dataset.name if dataset else params['name']}."
                )
                options = services.engine_options(
                    params["options"],
                    original_name=details.get("file_name") or "source",
                    max_bytes=_max_bytes(),
                )
                try:
                    info = import_file(path, store=store, format=fmt, options=options)
                except EngineError as exc:
                    raise JobFailed(str(exc)) from exc
                try:
                    services.check_header_names(info, params["options"], options.label_for(path))
                except ValidationError as exc:
                    store.delete(info.object_id)
                    raise JobFailed(" ".join(exc.messages)) from exc
                self.progress(85, "Saving the version")
                extra: tuple[str, ...] = ()
                if upload is not None:
                    details["source_object_id"] = _keep(store, upload)
                    extra = (details["source_object_id"],)
                details["options"] = params["options"]
                try:
                    version = services.create_version(
                        project=project,
                        info=info,
                        how=how,
                        how_details=details,
                        actor=self.job.created_by,
                        job=self.job,
                        dataset=dataset,
                        name=params.get("name"),
                        description=params.get("description", ""),
                        connection=connection,
                        extra_objects=extra,
                        location=self.location,
                    )
                except ValidationError as exc:
                    raise JobFailed(" ".join(exc.messages)) from exc
        finally:
            if upload is not None:
                upload.unlink(missing_ok=True)
        for warning in info.warnings:
            self.log(warning, "WARNING")
        self.log(
            f"Version {version.number}: {info.row_count:,} rows, {len(info.columns)} columns, {info.content_hash}."
        )
        if self.location is not None:
            self.log(
                f"Version {version.number} is linked to table {version.location_label} of connection "
                f"'{connection.name if connection else ''}': recipes on it whose outputs are stored in that "
                "connection run inside the database, on the live table. The Parquet snapshot taken now "
                "(with the row count and columns above) serves everything else."
            )
        self.progress(92, "Checking quality rules")
        run = services.run_quality(
            version, trigger="version_created", actor=self.job.created_by, job=self.job
        )
        enqueue(
            "datasets.profile",
            title=f"Profile {version.dataset.name} v{version.number}",
            project=project,
            created_by=self.job.created_by,
            params={"version_id": version.pk},
        )
        self.progress(100, f"Version {version.number} of {version.dataset.name} is ready")
        return {
            "dataset_id": version.dataset_id,
            "dataset": version.dataset.name,
            "version": version.number,
            "rows": info.row_count,
            "columns": len(info.columns),
            "quality": run.status if run is not None else "not_run",
            "warnings": list(info.warnings),
        }

    def _fetch(
        self, source: dict[str, Any], scratch: Path, upload: Path | None
    ) -> tuple[Path, str, dict[str, Any], Connection | None, str | None]:
        """The local file to import, how it was obtained, and its format when known."""
        kind = source["kind"]
        if kind == SourceKind.UPLOAD:
            assert upload is not None
            if not upload.is_file():
                raise JobFailed(
                    "The uploaded file is no longer there (uploads are removed after a day); upload it again."
                )
            return (
                upload,
                kind,
                {"file_name": source["file_name"]},
                None,
                self.params["options"].get("format"),
            )
        if kind == "version":
            version = DatasetVersion.objects.filter(
                pk=source["version_id"], dataset__project=self.project
            ).first()
            if version is None:
                raise JobFailed("The version to import again was deleted.")
            details = {k: v for k, v in version.how_details.items() if k != "options"}
            if version.how == SourceKind.UPLOAD:
                kept = details.get("source_object_id")
                try:
                    path = data_store().local_path(kept)
                except EngineError as exc:
                    raise JobFailed(
                        "The original upload of this dataset is no longer stored; upload the file again."
                    ) from exc
                return path, version.how, details, None, self.params["options"].get("format")
            source = {"kind": version.how, "connection_id": version.connection_id or 0, **details}
            source.pop("connection", None)
            kind = version.how
        connection = Connection.objects.usable_in(self.project).filter(pk=source.get("connection_id")).first()
        if connection is None:
            raise JobFailed("The connection was deleted or is no longer shared with this project.")
        try:
            reader = open_source(connection)
            if kind == SourceKind.S3_PATH:
                name = posixpath.basename(str(source["path"]).rstrip("/")) or "object"
                target = scratch / "download"

                def on_bytes(done: int, total: int) -> None:
                    self.progress(2 + 36 * done / max(total, 1), f"Downloaded {done:,} of {total:,} bytes")

                reader.download(source["path"], target, max_bytes=_max_bytes(), on_bytes=on_bytes)
                details = {"connection": connection.name, "path": source["path"], "file_name": name}
                return target, kind, details, connection, self.params["options"].get("format")
            target = scratch / "rows.parquet"
            table, query = source.get("table"), source.get("query")
            reader.copy_to_parquet(
                target,
                table=table,
                query=query,
                on_rows=lambda rows: self.progress(20, f"{rows:,} rows read"),
            )
            details = {"connection": connection.name, "file_name": table or "query"}
            details.update({"table": table} if table else {"query": query})
            if table and source.get("keep_in_database"):
                self.location = _link(reader, connection, table)
                details["keep_in_database"] = True
            return target, kind, details, connection, "parquet"
        except SourceError as exc:
            raise JobFailed(str(exc)) from exc


def _link(reader: Any, connection: Connection, table: str) -> dict[str, Any]:
    """The ``location`` of a linked import: the table itself (schema and name as the server knows them).

    Raises:
        SourceError: the table is not there (any more) or cannot be seen by the connection's user.
    """
    schema, name = reader.resolve_table(table)
    return {"connection_id": connection.pk, "schema": schema, "table": name}


def _max_bytes() -> int:
    from django.conf import settings

    return int(settings.MODELWORKS_MAX_UPLOAD_BYTES)


def _keep(store: Any, upload: Path) -> str:
    """Move the uploaded file into the store (so the dataset can be imported again with other types)."""
    with store.stage() as staged:
        os.unlink(staged.path)
        shutil.move(upload, staged.path)
        return str(staged.commit().object_id)


class ProfileVersionJob(BaseJob):
    """Compute and store the profile of one version."""

    kind = "datasets.profile"
    title = "Profile a dataset version"
    max_attempts = 2

    @classmethod
    def clean_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        _positive_int(params, "version_id", cls.kind)
        return {"version_id": params["version_id"]}

    def run(self) -> dict[str, Any]:
        version = _version(self)
        self.progress(5, f"Profiling {version} ({version.row_count:,} rows)")
        try:
            profile = profile_dataset(services.version_path(version), timeout_seconds=PROFILE_TIMEOUT_SECONDS)
        except EngineError as exc:
            raise JobFailed(str(exc)) from exc
        services.save_profile(version, profile.to_dict(), job=self.job)
        self.progress(100, f"Profiled {len(profile.columns)} columns in {profile.elapsed:.1f} s")
        return {"version_id": version.pk, "columns": len(profile.columns), "seconds": profile.elapsed}


class CheckQualityJob(BaseJob):
    """Run the dataset's rules against one version, on demand."""

    kind = "datasets.quality"
    title = "Check data quality"
    max_attempts = 2

    @classmethod
    def clean_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        _positive_int(params, "version_id", cls.kind)
        return {"version_id": params["version_id"]}

    def run(self) -> dict[str, Any]:
        version = _version(self)
        self.progress(5, f"Checking the rules of {version.dataset.name} against version {version.number}")
        try:
            run = services.run_quality(version, trigger="on_demand", actor=self.job.created_by, job=self.job)
        except EngineError as exc:
            raise JobFailed(str(exc)) from exc
        if run is None:
            return {"status": "not_run", "message": "The dataset has no enabled rule."}
        self.progress(100, f"{run.passed} passed, {run.failed} failed")
        return {"status": run.status, "passed": run.passed, "failed": run.failed, "usable": version.usable}


def _version(job: BaseJob) -> DatasetVersion:
    version = (
        DatasetVersion.objects.select_related("dataset")
        .filter(pk=job.params["version_id"], dataset__project=job.project)
        .first()
    )
    if version is None:
        raise JobFailed("The dataset version was deleted.")
    return version
