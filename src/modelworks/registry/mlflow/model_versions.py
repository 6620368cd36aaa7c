"""``/model-versions/...``: create, get, update, delete, search, tags, download URI, stage transitions."""

from __future__ import annotations

from typing import Any

from modelworks.core.models import Role
from modelworks.registry import services
from modelworks.registry.mlflow.common import as_list, endpoint, truthy
from modelworks.registry.mlflow.serialize import model_version_json
from modelworks.tracking.protocol import MlflowCall, require_param

__all__ = [
    "create",
    "delete",
    "delete_tag",
    "download_uri",
    "get",
    "search",
    "set_tag",
    "transition_stage",
    "update",
]


def _version(call: MlflowCall) -> Any:
    model = services.get_registered_model(call.project, require_param(call.payload, "name"))
    return services.get_model_version(model, require_param(call.payload, "version"))


@endpoint(Role.CONTRIBUTOR, methods=("POST",))
def create(call: MlflowCall) -> dict[str, Any]:
    """A new version from a source in the tracking store (``runs:/``, ``models:/m-…``, ``mlflow-artifacts:``)."""
    model = services.get_registered_model(call.project, require_param(call.payload, "name"))
    version = services.create_model_version(
        model,
        actor=call.user,
        source=require_param(call.payload, "source"),
        run_id=call.get("run_id") or None,
        model_id=call.get("model_id") or None,
        tags=as_list(call.get("tags")),
        run_link=call.get("run_link") or "",
        description=call.get("description") or "",
        request=call.request,
    )
    return {"model_version": model_version_json(version)}


@endpoint(Role.READER)
def get(call: MlflowCall) -> dict[str, Any]:
    return {"model_version": model_version_json(_version(call))}


@endpoint(Role.CONTRIBUTOR, methods=("PATCH",))
def update(call: MlflowCall) -> dict[str, Any]:
    version = services.update_model_version(_version(call), description=call.get("description"))
    return {"model_version": model_version_json(version)}


@endpoint(Role.ADMIN, methods=("DELETE",))
def delete(call: MlflowCall) -> dict[str, Any]:
    services.delete_model_version(_version(call), actor=call.user, request=call.request)
    return {}


@endpoint(Role.READER)
def search(call: MlflowCall) -> dict[str, Any]:
    page = services.search_model_versions(
        call.project,
        filter_string=call.get("filter"),
        max_results=call.get("max_results"),
        order_by=as_list(call.get("order_by")),
        page_token=call.get("page_token"),
    )
    answer: dict[str, Any] = {"model_versions": [model_version_json(v) for v in page.versions]}
    if page.next_page_token:
        answer["next_page_token"] = page.next_page_token
    return answer


@endpoint(Role.READER)
def download_uri(call: MlflowCall) -> dict[str, Any]:
    """Where the version's files are: always inside the tracking store (``mlflow-artifacts:/…``)."""
    return {"artifact_uri": _version(call).storage_location}


@endpoint(Role.CONTRIBUTOR, methods=("POST",))
def set_tag(call: MlflowCall) -> dict[str, Any]:
    services.set_model_version_tag(_version(call), require_param(call.payload, "key"), call.get("value"))
    return {}


@endpoint(Role.CONTRIBUTOR, methods=("DELETE",))
def delete_tag(call: MlflowCall) -> dict[str, Any]:
    services.delete_model_version_tag(_version(call), require_param(call.payload, "key"))
    return {}


@endpoint(Role.CONTRIBUTOR, methods=("POST",))
def transition_stage(call: MlflowCall) -> dict[str, Any]:
    """MLflow 2's stages (deprecated; aliases replace them), for clients that still call it."""
    version = services.transition_stage(
        _version(call),
        require_param(call.payload, "stage"),
        archive_existing_versions=truthy(call.get("archive_existing_versions")),
    )
    return {"model_version": model_version_json(version)}
