"""``/registered-models/...``: create, get, rename, update, delete, search, latest versions, tags, aliases."""

from __future__ import annotations

from typing import Any

from modelworks.core.models import Role
from modelworks.registry import services
from modelworks.registry.mlflow.common import as_list, endpoint
from modelworks.registry.mlflow.serialize import model_version_json, registered_model_json
from modelworks.tracking.protocol import MlflowCall, MlflowError, require_param

__all__ = [
    "alias",
    "create",
    "delete",
    "delete_tag",
    "get",
    "latest_versions",
    "rename",
    "search",
    "set_tag",
    "update",
]


def _model(call: MlflowCall) -> Any:
    return services.get_registered_model(call.project, require_param(call.payload, "name"))


# MLflow's prompt registry stores prompts as registered models carrying this tag; Modelworks does not
# serve prompts, and storing them as models would put them among the project's models.
PROMPT_TAG = "mlflow.prompt.is_prompt"


@endpoint(Role.CONTRIBUTOR, methods=("POST",))
def create(call: MlflowCall) -> dict[str, Any]:
    tags = as_list(call.get("tags"))
    if any(isinstance(tag, dict) and tag.get("key") == PROMPT_TAG for tag in tags):
        raise MlflowError(
            "NOT_IMPLEMENTED",
            "The prompt registry (mlflow.genai.register_prompt) is not supported by Modelworks; keep "
            "prompt templates in your code or as run artifacts (mlflow.log_text). See 'MLflow "
            "compatibility' in docs/api.md.",
        )
    model = services.create_registered_model(
        call.project,
        actor=call.user,
        name=require_param(call.payload, "name"),
        description=call.get("description") or "",
        tags=tags,
        request=call.request,
    )
    return {"registered_model": registered_model_json(model)}


@endpoint(Role.READER)
def get(call: MlflowCall) -> dict[str, Any]:
    return {"registered_model": registered_model_json(_model(call))}


@endpoint(Role.CONTRIBUTOR, methods=("POST",))
def rename(call: MlflowCall) -> dict[str, Any]:
    model = services.rename_registered_model(
        _model(call), require_param(call.payload, "new_name"), actor=call.user, request=call.request
    )
    return {"registered_model": registered_model_json(model)}


@endpoint(Role.CONTRIBUTOR, methods=("PATCH",))
def update(call: MlflowCall) -> dict[str, Any]:
    model = services.update_registered_model(_model(call), description=call.get("description"))
    return {"registered_model": registered_model_json(model)}


@endpoint(Role.ADMIN, methods=("DELETE",))
def delete(call: MlflowCall) -> dict[str, Any]:
    services.delete_registered_model(_model(call), actor=call.user, request=call.request)
    return {}


@endpoint(Role.READER)
def search(call: MlflowCall) -> dict[str, Any]:
    page = services.search_registered_models(
        call.project,
        filter_string=call.get("filter"),
        max_results=call.get("max_results"),
        order_by=as_list(call.get("order_by")),
        page_token=call.get("page_token"),
    )
    answer: dict[str, Any] = {"registered_models": [registered_model_json(m) for m in page.models]}
    if page.next_page_token:
        answer["next_page_token"] = page.next_page_token
    return answer


@endpoint(Role.READER, methods=("POST", "GET"))
def latest_versions(call: MlflowCall) -> dict[str, Any]:
    model = _model(call)
    versions = services.get_latest_versions(model, as_list(call.get("stages")))
    return {"model_versions": [model_version_json(v, name=model.name) for v in versions]}


@endpoint(Role.CONTRIBUTOR, methods=("POST",))
def set_tag(call: MlflowCall) -> dict[str, Any]:
    services.set_registered_model_tag(_model(call), require_param(call.payload, "key"), call.get("value"))
    return {}


@endpoint(Role.CONTRIBUTOR, methods=("DELETE",))
def delete_tag(call: MlflowCall) -> dict[str, Any]:
    services.delete_registered_model_tag(_model(call), require_param(call.payload, "key"))
    return {}


@endpoint(Role.READER, methods=("GET", "POST", "DELETE"))
def alias(call: MlflowCall) -> dict[str, Any]:
    """``GET`` the version an alias names, ``POST`` set (or move) it, ``DELETE`` remove it."""
    model = _model(call)
    name = require_param(call.payload, "alias")
    if call.request.method == "GET":
        return {
            "model_version": model_version_json(services.get_version_by_alias(model, name), name=model.name)
        }
    call.require_write()
    if call.request.method == "POST":
        services.check_alias(name)
        version = services.get_model_version(model, require_param(call.payload, "version"))
        services.set_alias(version, name, actor=call.user, request=call.request)
    else:
        services.delete_alias(model, name, actor=call.user, request=call.request)
    return {}
