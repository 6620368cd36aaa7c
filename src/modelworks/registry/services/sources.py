"""Where a new version's files are: a client's ``source`` resolved inside the tracking store.

Accepted sources (anything else, e.g. a local path or ``s3://``, is refused):

* ``runs:/<run_id>/<path>`` → ``mlflow-artifacts:/<experiment>/<run_id>/artifacts/<path>``;
* ``models:/m-<id>`` (a logged model) → its artifact location;
* ``models:/<name>/<version>`` or ``models:/<name>@<alias>`` → that version's files;
* ``mlflow-artifacts:/<experiment>/<run_id>/artifacts/<path>`` and
  ``mlflow-artifacts:/<experiment>/models/<model_id>/artifacts/<path>`` (also with a host, or as the
  ``http(s)://…/api/2.0/mlflow-artifacts/artifacts/…`` address).

Every name of the path goes through the artifact proxy's own check (no ``..``, no encoded
separators, no control characters), and the run or logged model must belong to the project.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from modelworks.registry.errors import InvalidRegistryValueError, RegistryNotFoundError
from modelworks.registry.models import LoggedModel, ModelVersion
from modelworks.tracking.models import LifecycleStage, Run

__all__ = ["ResolvedSource", "resolve_source", "storage_key"]

_ARTIFACT_ROUTE = "/api/2.0/mlflow-artifacts/artifacts/"
_LOGGED_MODEL_ID = re.compile(r"m-[0-9a-f]{32}")


@dataclass(frozen=True)
class ResolvedSource:
    """The storage location of a version's files and the run and logged model they came from."""

    source: str
    storage_location: str
    run: Run | None
    logged_model: LoggedModel | None


def _invalid(source: str, why: str) -> InvalidRegistryValueError:
    return InvalidRegistryValueError(
        f"Invalid model version source: '{source[:200]}'. {why} Modelworks registers models stored in its "
        "tracking server: use runs:/<run_id>/<path>, models:/<model_id>, models:/<name>/<version> or an "
        "mlflow-artifacts: URI it gave you.",
        field="source",
    )


def _segments(source: str, path: str) -> tuple[str, ...]:
    from modelworks.tracking.artifacts.paths import UnsafeArtifactPathError, split_artifact_path

    if "%" in path:
        decoded = urllib.parse.unquote(path)
        if decoded != path and "%" not in decoded:
            path = decoded
    try:
        return split_artifact_path(path.strip("/") if path.strip("/") else path)
    except UnsafeArtifactPathError as exc:
        raise _invalid(source, str(exc)) from None


def storage_key(storage_location: str) -> tuple[str, ...]:
    """The artifact-store key of an ``mlflow-artifacts:/…`` location this module produced."""
    return tuple(p for p in storage_location.split(":", 1)[1].split("/") if p)


def _run_in_project(project: Any, run_id: str, source: str) -> Run:
    run = (
        Run.objects.filter(run_uuid=run_id, experiment__project=project).select_related("experiment").first()
    )
    if run is None:
        raise _invalid(source, f"No run '{run_id[:40]}' in project '{project.slug}'.")
    return run


def _logged_model_in_project(project: Any, model_id: str, source: str) -> LoggedModel:
    model = (
        LoggedModel.objects.filter(model_id=model_id, experiment__project=project)
        .exclude(lifecycle_stage=LifecycleStage.DELETED)
        .select_related("source_run")
        .first()
    )
    if model is None:
        raise _invalid(source, f"No logged model '{model_id[:40]}' in project '{project.slug}'.")
    return model


def _from_artifact_path(project: Any, source: str, path: str) -> ResolvedSource:
    parts = _segments(source, path)
    if len(parts) >= 4 and parts[1] == "models" and parts[3] == "artifacts":
        model = _logged_model_in_project(project, parts[2], source)
        if str(model.experiment_id) != parts[0]:
            raise _invalid(source, f"Logged model '{parts[2]}' is not in experiment {parts[0]}.")
        location = "mlflow-artifacts:/" + "/".join(parts)
        return ResolvedSource(source, location, model.source_run, model)
    if len(parts) >= 3 and parts[2] == "artifacts":
        run = _run_in_project(project, parts[1], source)
        if str(run.experiment_id) != parts[0]:
            raise _invalid(source, f"Run '{parts[1]}' is not in experiment {parts[0]}.")
        return ResolvedSource(source, "mlflow-artifacts:/" + "/".join(parts), run, None)
    raise _invalid(source, "The path names neither a run's nor a logged model's artifacts.")


def resolve_source(
    project: Any, source: Any, *, run_id: str | None = None, model_id: str | None = None
) -> ResolvedSource:
    """Resolve a client's ``source`` (see the module docstring) inside ``project``.

    ``run_id`` / ``model_id``, when given, must agree with the source.

    Raises:
        InvalidRegistryValueError: the source is outside the tracking store, unsafe, or names a run
            or model of another project, or disagrees with ``run_id``/``model_id``.
    """
    if not isinstance(source, str) or not source.strip():
        raise InvalidRegistryValueError("Missing value for required parameter 'source'.", field="source")
    if "\x00" in source or len(source) > 2000:
        raise _invalid(source, "It is too long or contains a NUL character.")
    parsed = urllib.parse.urlparse(source)
    scheme = parsed.scheme.lower()
    if parsed.query or parsed.fragment or parsed.params or ";" in source:
        raise _invalid(source, "It holds a query, a fragment or a ';', which artifact paths never do.")
    if scheme == "runs":
        if parsed.netloc:
            raise _invalid(source, "A runs:/ URI has no host part.")
        parts = _segments(source, parsed.path.lstrip("/"))
        run = _run_in_project(project, parts[0], source)
        resolved = ResolvedSource(
            source,
            "mlflow-artifacts:/" + "/".join((str(run.experiment_id), run.run_uuid, "artifacts", *parts[1:])),
            run,
            None,
        )
    elif scheme == "models":
        if parsed.netloc:
            raise _invalid(source, "A models:/ URI has no host part.")
        body = parsed.path.lstrip("/")
        if _LOGGED_MODEL_ID.fullmatch(body):
            model = _logged_model_in_project(project, body, source)
            resolved = ResolvedSource(source, model.artifact_location, model.source_run, model)
        else:
            resolved = _from_registered_version(project, source, body)
    elif scheme == "mlflow-artifacts":
        resolved = _from_artifact_path(project, source, parsed.path.lstrip("/"))
    elif scheme in ("http", "https") and _ARTIFACT_ROUTE in parsed.path:
        resolved = _from_artifact_path(project, source, parsed.path.split(_ARTIFACT_ROUTE, 1)[1])
    else:
        raise _invalid(source, "Its scheme is not one the tracking server stores.")
    if run_id and (resolved.run is None or resolved.run.run_uuid != run_id):
        if (
            resolved.run is None
            and resolved.logged_model is not None
            and not resolved.logged_model.source_run_id
        ):
            run = _run_in_project(project, run_id, source)
            return ResolvedSource(resolved.source, resolved.storage_location, run, resolved.logged_model)
        raise _invalid(
            source,
            f"The run_id request parameter ('{run_id[:40]}') must identify the run that contains the source.",
        )
    if model_id and (resolved.logged_model is None or resolved.logged_model.model_id != model_id):
        if resolved.logged_model is None:
            model = _logged_model_in_project(project, model_id, source)
            if resolved.run is not None and model.source_run_id not in (None, resolved.run.run_uuid):
                raise _invalid(source, "The model_id request parameter names a model of another run.")
            return ResolvedSource(resolved.source, resolved.storage_location, resolved.run, model)
        raise _invalid(
            source,
            f"The model_id request parameter ('{model_id[:40]}') must identify the model that contains the source.",
        )
    return resolved


def _from_registered_version(project: Any, source: str, body: str) -> ResolvedSource:
    name, at, alias = body.partition("@")
    if at:
        version = ModelVersion.objects.filter(
            registered_model__project=project, registered_model__name=name, aliases__alias=alias
        ).first()
    else:
        name, _, number = body.rpartition("/")
        version = None
        if number.isdigit():
            version = ModelVersion.objects.filter(
                registered_model__project=project, registered_model__name=name, version=int(number)
            ).first()
    if version is None:
        raise RegistryNotFoundError(f"Unable to find the model version named by source '{source[:200]}'.")
    return ResolvedSource(source, version.storage_location, version.run, version.logged_model)
