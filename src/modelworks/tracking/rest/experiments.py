"""MLflow experiments endpoints: create, get, get-by-name, search, update, delete/restore, tags.

An experiment's artifact location is always ``mlflow-artifacts:/<id>`` (artifacts are proxied by
Modelworks); an ``artifact_location`` sent by a client is ignored, never used as a path.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from modelworks.core.models import Role
from modelworks.tracking.models import Experiment, ExperimentTag
from modelworks.tracking.protocol import MlflowCall, MlflowError, mlflow_endpoint, require_param
from modelworks.tracking.rest.common import (
    as_list,
    make_page_token,
    max_results,
    page_offset,
    search_error,
    view_stages,
)
from modelworks.tracking.rest.serialize import experiment_json
from modelworks.tracking.search import (
    SearchSyntaxError,
    filter_experiments,
    order_experiments,
    parse_experiment_filter,
    parse_experiment_order_by,
)
from modelworks.tracking.services import experiments as service
from modelworks.tracking.validation import MAX_SEARCH_RESULTS

WRITE = ("POST",)


def _tags(payload: Any) -> list[tuple[str, str]]:
    tags = []
    for i, tag in enumerate(as_list(payload)):
        if not isinstance(tag, dict):
            raise MlflowError(
                "INVALID_PARAMETER_VALUE", f"Invalid value for parameter 'tags[{i}]': expected an object."
            )
        tags.append((tag.get("key"), tag.get("value")))
    return tags


@mlflow_endpoint(Role.CONTRIBUTOR, methods=WRITE)
def create(call: MlflowCall) -> dict[str, Any]:
    experiment = service.create_experiment(
        call.project,
        actor=call.user,
        name=require_param(call.payload, "name"),
        tags=_tags(call.get("tags")),
        request=call.request,
    )
    return {"experiment_id": str(experiment.pk)}


@mlflow_endpoint(Role.READER, methods=("GET",))
def get(call: MlflowCall) -> dict[str, Any]:
    experiment = service.find_experiment(call.project, require_param(call.payload, "experiment_id"))
    return {"experiment": experiment_json(experiment)}


@mlflow_endpoint(Role.READER, methods=("GET",))
def get_by_name(call: MlflowCall) -> dict[str, Any]:
    name = require_param(call.payload, "experiment_name")
    experiment = Experiment.objects.filter(project=call.project, name=name).first()
    if experiment is None:
        raise MlflowError(
            "RESOURCE_DOES_NOT_EXIST",
            f"Could not find experiment with name '{name}' in project '{call.project.slug}'.",
        )
    return {"experiment": experiment_json(experiment)}


@mlflow_endpoint(Role.READER, methods=("POST", "GET"))
def search(call: MlflowCall) -> dict[str, Any]:
    limit = max_results(call.get("max_results"), default=1000, limit=MAX_SEARCH_RESULTS)
    offset = page_offset(call.get("page_token"))
    try:
        comparisons = parse_experiment_filter(call.get("filter"))
        orders = parse_experiment_order_by(as_list(call.get("order_by")))
    except SearchSyntaxError as exc:
        raise search_error(exc, "experiment search") from exc
    stages = view_stages(call.get("view_type"))
    queryset = Experiment.objects.filter(project=call.project, lifecycle_stage__in=stages)
    queryset = order_experiments(filter_experiments(queryset, comparisons), orders)
    found = list(queryset[offset : offset + limit + 1])
    page = found[:limit]
    tags: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for experiment_id, key, value in ExperimentTag.objects.filter(experiment__in=page).values_list(
        "experiment_id", "key", "value"
    ):
        tags[experiment_id].append((key, value))
    result: dict[str, Any] = {"experiments": [experiment_json(e, tags.get(e.pk, [])) for e in page]}
    if len(found) > limit:
        result["next_page_token"] = make_page_token(offset + limit)
    return result


@mlflow_endpoint(Role.CONTRIBUTOR, methods=WRITE)
def update(call: MlflowCall) -> dict[str, Any]:
    experiment = service.find_experiment(call.project, require_param(call.payload, "experiment_id"))
    new_name = require_param(call.payload, "new_name")
    service.rename_experiment(experiment, new_name, actor=call.user, request=call.request)
    return {}


@mlflow_endpoint(Role.CONTRIBUTOR, methods=WRITE)
def delete(call: MlflowCall) -> dict[str, Any]:
    experiment = service.find_experiment(call.project, require_param(call.payload, "experiment_id"))
    service.delete_experiment(experiment, actor=call.user, request=call.request)
    return {}


@mlflow_endpoint(Role.CONTRIBUTOR, methods=WRITE)
def restore(call: MlflowCall) -> dict[str, Any]:
    experiment = service.find_experiment(call.project, require_param(call.payload, "experiment_id"))
    service.restore_experiment(experiment, actor=call.user, request=call.request)
    return {}


@mlflow_endpoint(Role.CONTRIBUTOR, methods=WRITE)
def set_tag(call: MlflowCall) -> dict[str, Any]:
    experiment = service.find_experiment(call.project, require_param(call.payload, "experiment_id"))
    service.set_experiment_tag(experiment, require_param(call.payload, "key"), call.get("value"))
    return {}


@mlflow_endpoint(Role.CONTRIBUTOR, methods=WRITE)
def delete_tag(call: MlflowCall) -> dict[str, Any]:
    experiment = service.find_experiment(call.project, require_param(call.payload, "experiment_id"))
    service.delete_experiment_tag(experiment, require_param(call.payload, "key"))
    return {}
