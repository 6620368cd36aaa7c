"""MLflow 3 logged models: ``/logged-models`` create, search, get, finalize, delete, tags, params."""

from __future__ import annotations

from typing import Any

from modelworks.core.models import Role
from modelworks.registry import services
from modelworks.registry.mlflow.common import as_list, endpoint, truthy
from modelworks.registry.mlflow.serialize import logged_model_json
from modelworks.tracking.protocol import MlflowCall, MlflowError, require_param

__all__ = ["create", "logged_model", "logged_model_params", "logged_model_tag", "logged_model_tags", "search"]


@endpoint(Role.CONTRIBUTOR, methods=("POST",))
def create(call: MlflowCall) -> dict[str, Any]:
    """``POST logged-models``: create a logged model (status PENDING)."""
    model = services.create_logged_model(
        call.project,
        actor=call.user,
        experiment_id=require_param(call.payload, "experiment_id"),
        name=call.get("name"),
        model_type=call.get("model_type") or "",
        source_run_id=call.get("source_run_id"),
        params=as_list(call.get("params")),
        tags=as_list(call.get("tags")),
    )
    return {"model": logged_model_json(model)}


@endpoint(Role.READER, methods=("POST",))
def search(call: MlflowCall) -> dict[str, Any]:
    """``POST logged-models/search``."""
    experiment_ids = as_list(call.get("experiment_ids"))
    if not experiment_ids:
        raise MlflowError("INVALID_PARAMETER_VALUE", "Missing value for required parameter 'experiment_ids'.")
    page = services.search_logged_models(
        call.project,
        experiment_ids=experiment_ids,
        filter_string=call.get("filter"),
        datasets=as_list(call.get("datasets")),
        max_results=call.get("max_results"),
        order_by=as_list(call.get("order_by")),
        page_token=call.get("page_token"),
    )
    answer: dict[str, Any] = {"models": [logged_model_json(m) for m in page.models]}
    if page.next_page_token:
        answer["next_page_token"] = page.next_page_token
    return answer


@endpoint(Role.READER, methods=("GET", "PATCH", "DELETE"))
def logged_model(call: MlflowCall, model_id: str) -> dict[str, Any]:
    """``GET`` (read), ``PATCH`` (finalize with a status) or ``DELETE`` one logged model."""
    if call.request.method == "GET":
        model = services.get_logged_model(
            call.project, model_id, allow_deleted=truthy(call.get("allow_deleted"))
        )
        return {"model": logged_model_json(model)}
    call.require_write()
    model = services.get_logged_model(call.project, model_id)
    if call.request.method == "PATCH":
        model = services.finalize_logged_model(model, require_param(call.payload, "status"))
        return {"model": logged_model_json(model)}
    services.delete_logged_model(model)
    return {}


@endpoint(Role.CONTRIBUTOR, methods=("PATCH",))
def logged_model_tags(call: MlflowCall, model_id: str) -> dict[str, Any]:
    """``PATCH logged-models/<id>/tags``: set tags."""
    model = services.get_logged_model(call.project, model_id)
    services.set_logged_model_tags(model, as_list(call.get("tags")))
    return {}


@endpoint(Role.CONTRIBUTOR, methods=("DELETE",))
def logged_model_tag(call: MlflowCall, model_id: str, tag_key: str) -> dict[str, Any]:
    """``DELETE logged-models/<id>/tags/<key>``."""
    model = services.get_logged_model(call.project, model_id)
    services.delete_logged_model_tag(model, tag_key)
    return {}


@endpoint(Role.CONTRIBUTOR, methods=("POST",))
def logged_model_params(call: MlflowCall, model_id: str) -> dict[str, Any]:
    """``POST logged-models/<id>/params``: add parameters."""
    model = services.get_logged_model(call.project, model_id)
    services.log_logged_model_params(model, as_list(call.get("params")))
    return {}
