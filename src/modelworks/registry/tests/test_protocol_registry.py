"""Registered models, versions and aliases over the MLflow protocol: shapes, error codes, sources."""

from __future__ import annotations

from typing import Any

import pytest

from modelworks.core.models import AuditEvent
from modelworks.registry.models import AliasEvent, ModelVersion, RegisteredModel
from modelworks.tracking.models import Experiment, Run

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.registry.tests.fixtures"]


def _register(api: Any, run: Run, name: str = "churn-model") -> dict[str, Any]:
    api.post("registered-models/create", name=name)
    status, body = api.post(
        "model-versions/create",
        name=name,
        source=f"mlflow-artifacts:/{run.experiment_id}/{run.run_uuid}/artifacts/model",
        run_id=run.run_uuid,
    )
    assert status == 200, body
    return body["model_version"]


def test_create_get_rename_update_and_delete_a_registered_model(mlflow_api: Any, alice: Any) -> None:
    bob = mlflow_api("bob")
    status, body = bob.post(
        "registered-models/create",
        name="churn",
        description="Who leaves",
        tags=[{"key": "team", "value": "risk"}],
    )
    assert status == 200
    created = body["registered_model"]
    assert (created["name"], created["description"], created["user_id"]) == ("churn", "Who leaves", "bob")
    assert created["tags"] == [{"key": "team", "value": "risk"}] and created["aliases"] == []
    assert isinstance(created["creation_timestamp"], int)

    status, body = bob.post("registered-models/create", name="churn")
    assert (status, body["error_code"]) == (400, "RESOURCE_ALREADY_EXISTS")
    assert body["message"] == "Registered Model (name=churn) already exists."

    status, body = bob.post("registered-models/rename", name="churn", new_name="churn-v2")
    assert status == 200 and body["registered_model"]["name"] == "churn-v2"
    status, body = bob.get("registered-models/get", name="churn")
    assert (status, body["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    status, body = bob.patch("registered-models/update", name="churn-v2", description="Monthly churn")
    assert status == 200 and body["registered_model"]["description"] == "Monthly churn"

    status, body = bob.delete("registered-models/delete", name="churn-v2")
    assert (status, body["error_code"]) == (403, "PERMISSION_DENIED")
    status, _ = mlflow_api("alice").delete("registered-models/delete", name="churn-v2")
    assert status == 200
    assert not RegisteredModel.objects.exists()
    assert AuditEvent.objects.filter(action="model.deleted", actor=alice).count() == 1


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Missing value for required parameter 'name'"),
        ("a/b", "Names cannot contain '/' or ':'"),
        ("a:b", "Names cannot contain '/' or ':'"),
        ("x" * 300, "the limit is 256"),
    ],
)
def test_bad_model_names_are_refused_with_invalid_parameter_value(
    mlflow_api: Any, name: str, message: str
) -> None:
    status, body = mlflow_api("bob").post("registered-models/create", name=name)
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert message in body["message"]


def test_versions_resolve_to_the_tracking_store_and_read_the_mlmodel(
    mlflow_api: Any, trained_run: Run
) -> None:
    bob = mlflow_api("bob")
    version = _register(bob, trained_run)
    assert (
        version["version"] == "1"
        and version["status"] == "READY"
        and version["run_id"] == trained_run.run_uuid
    )
    assert version["current_stage"] == "None"
    stored = ModelVersion.objects.get()
    assert (
        stored.storage_location
        == f"mlflow-artifacts:/{trained_run.experiment_id}/{trained_run.run_uuid}/artifacts/model"
    )
    assert [c["name"] for c in stored.signature["inputs"]][:2] == ["sepal length (cm)", "sepal width (cm)"]
    assert stored.package_versions["sklearn"] and "python_function" in stored.package_versions["flavors"]
    assert len(stored.input_example["data"]) == 3
    assert stored.code_reference == "train.py @ git 1a2b3c4d5e6f"

    status, body = bob.get("model-versions/get-download-uri", name="churn-model", version="1")
    assert body == {"artifact_uri": stored.storage_location}
    status, body = bob.post(
        "model-versions/create", name="churn-model", source=f"runs:/{trained_run.run_uuid}/model"
    )
    assert status == 200 and body["model_version"]["version"] == "2"
    assert ModelVersion.objects.get(version=2).storage_location == stored.storage_location
    status, body = bob.get("model-versions/get", name="churn-model", version="3")
    assert (status, body["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert body["message"] == "Model Version (name=churn-model, version=3) not found"
    status, body = bob.get("model-versions/get", name="churn-model", version="two")
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert AuditEvent.objects.filter(action="model.version_created").count() == 2


@pytest.mark.parametrize(
    "source",
    [
        "/etc/passwd",
        "file:///etc/passwd",
        "s3://bucket/model",
        "mlflow-artifacts:/{exp}/{run}/artifacts/../../../../etc",
        "mlflow-artifacts:/{exp}/{run}/artifacts/..%2f..%2fetc",
        "mlflow-artifacts:/{exp}/{run}/artifacts/%252e%252e%252fetc",
        "mlflow-artifacts:/{exp}/{run}/artifacts/model;rm",
        "mlflow-artifacts:/{exp}/{run}/artifacts/model#x",
        "mlflow-artifacts:/{exp}/{run}/artifacts/..\\..\\etc",
        "mlflow-artifacts://{exp}/{run}/artifacts//proc/self/root",
        "runs:/{run}/../../etc",
        "runs:/{run}/model/%2e%2e/%2e%2e",
        "runs:/00000000000000000000000000000000/model",
        "models:/m-00000000000000000000000000000000",
        "http://evil.example/api/2.0/mlflow-artifacts/artifacts/{exp}/{run}/artifacts/../x",
    ],
)
def test_unsafe_or_foreign_sources_are_refused(mlflow_api: Any, trained_run: Run, source: str) -> None:
    bob = mlflow_api("bob")
    bob.post("registered-models/create", name="m")
    text = source.format(exp=trained_run.experiment_id, run=trained_run.run_uuid)
    status, body = bob.post("model-versions/create", name="m", source=text)
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE"), body
    assert "Invalid model version source" in body["message"]
    assert not ModelVersion.objects.exists()


def test_a_run_of_another_project_is_not_a_source(mlflow_api: Any, trained_run: Run, alice: Any) -> None:
    from modelworks.core import services as core_services

    other = core_services.create_project(actor=alice, slug="other", name="Other")
    foreign = Experiment.objects.create(project=other, name="x", creation_time=0, last_update_time=0)
    run = Run.objects.create(run_uuid="f" * 32, experiment=foreign)
    bob = mlflow_api("bob")
    bob.post("registered-models/create", name="m")
    status, body = bob.post("model-versions/create", name="m", source=f"runs:/{run.run_uuid}/model")
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert "No run 'ffff" in body["message"]


def test_aliases_move_with_history_and_audit(mlflow_api: Any, trained_run: Run, bob: Any) -> None:
    api = mlflow_api("bob")
    _register(api, trained_run)
    _register(api, trained_run)
    assert api.post("registered-models/alias", name="churn-model", alias="champion", version="1")[0] == 200
    assert api.post("registered-models/alias", name="churn-model", alias="champion", version="2")[0] == 200
    status, body = api.get("registered-models/alias", name="churn-model", alias="champion")
    assert status == 200 and body["model_version"]["version"] == "2"
    assert body["model_version"]["aliases"] == ["champion"]
    status, body = api.get("registered-models/get", name="churn-model")
    assert body["registered_model"]["aliases"] == [{"alias": "champion", "version": "2"}]
    assert [v["version"] for v in body["registered_model"]["latest_versions"]] == ["2"]

    events = list(
        AliasEvent.objects.order_by("id").values_list("alias", "from_version", "to_version", "actor_name")
    )
    assert events == [("champion", None, 1, "bob"), ("champion", 1, 2, "bob")]
    assert AuditEvent.objects.filter(action="model.alias_set").count() == 2

    # Deleting the version the alias names removes the alias, and the history says why.
    status, body = mlflow_api("alice").delete("model-versions/delete", name="churn-model", version="2")
    assert status == 200
    last = AliasEvent.objects.order_by("-id").first()
    assert (last.from_version, last.to_version, last.reason) == (2, None, "version 2 deleted")
    status, body = api.get("registered-models/alias", name="churn-model", alias="champion")
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert body["message"] == "Registered model alias champion not found."


@pytest.mark.parametrize(
    ("alias", "message"),
    [
        ("latest", "'latest' alias name (case insensitive) is reserved."),
        ("v3", "Version alias name 'v3' is reserved."),
        ("has space", "Names may only contain alphanumerics"),
        ("x" * 256, "the limit is 255"),
    ],
)
def test_bad_aliases_are_refused(mlflow_api: Any, trained_run: Run, alias: str, message: str) -> None:
    api = mlflow_api("bob")
    _register(api, trained_run)
    status, body = api.post("registered-models/alias", name="churn-model", alias=alias, version="1")
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert message in body["message"]


def test_search_registered_models_filters_orders_and_pages(mlflow_api: Any) -> None:
    api = mlflow_api("bob")
    for name in ("churn-a", "churn-b", "churn-c", "fraud"):
        api.post(
            "registered-models/create",
            name=name,
            tags=[{"key": "team", "value": "risk" if "churn" in name else "ops"}],
        )
    status, body = api.get(
        "registered-models/search", filter="name LIKE 'churn%'", max_results=2, order_by="name DESC"
    )
    assert status == 200
    assert [m["name"] for m in body["registered_models"]] == ["churn-c", "churn-b"]
    status, body = api.get(
        "registered-models/search",
        filter="name LIKE 'churn%'",
        max_results=2,
        order_by="name DESC",
        page_token=body["next_page_token"],
    )
    assert [m["name"] for m in body["registered_models"]] == ["churn-a"] and "next_page_token" not in body
    status, body = api.get("registered-models/search", filter="tags.team = 'ops'")
    assert [m["name"] for m in body["registered_models"]] == ["fraud"]
    status, body = api.get("registered-models/search", filter="name ILIKE 'CHURN-_'")
    assert len(body["registered_models"]) == 3


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"filter": "name = churn"}, "compares to something that is not a value"),
        ({"filter": "name = 'a' OR name = 'b'"}, "OR is not supported"),
        ({"filter": "description = 'x'"}, "searched by name and tags"),
        ({"order_by": "size DESC"}, "Invalid order_by field 'size'"),
        ({"max_results": 1001}, "It must be at most 1000"),
        ({"page_token": "garbage!"}, "Invalid page_token"),
    ],
)
def test_bad_searches_say_what_is_wrong(mlflow_api: Any, params: dict[str, Any], message: str) -> None:
    status, body = mlflow_api("carol").get("registered-models/search", **params)
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert message in body["message"]


def test_search_model_versions_and_tags(mlflow_api: Any, trained_run: Run) -> None:
    api = mlflow_api("bob")
    _register(api, trained_run)
    _register(api, trained_run)
    _register(api, trained_run, name="other")
    api.post("model-versions/set-tag", name="churn-model", version="1", key="validated", value="yes")
    _, body = api.get("model-versions/search", filter="name = 'churn-model'")
    assert [(v["name"], v["version"]) for v in body["model_versions"]] == [
        ("churn-model", "2"),
        ("churn-model", "1"),
    ]
    _, body = api.get(
        "model-versions/search", filter=f"run_id = '{trained_run.run_uuid}' AND tags.validated = 'yes'"
    )
    assert [v["version"] for v in body["model_versions"]] == ["1"]
    assert body["model_versions"][0]["tags"] == [{"key": "validated", "value": "yes"}]
    _, body = api.get("model-versions/search", filter="version_number > 1", order_by=["version_number ASC"])
    assert [(v["name"], v["version"]) for v in body["model_versions"]] == [("churn-model", "2")]
    api.delete("model-versions/delete-tag", name="churn-model", version="1", key="validated")
    _, body = api.get("model-versions/get", name="churn-model", version="1")
    assert body["model_version"]["tags"] == []
    _, body = api.post("model-versions/transition-stage", name="churn-model", version="1", stage="production")
    assert body["model_version"]["current_stage"] == "Production"
    _status, body = api.post(
        "registered-models/get-latest-versions", name="churn-model", stages=["Production"]
    )
    assert [v["version"] for v in body["model_versions"]] == ["1"]


@pytest.mark.parametrize(
    ("actor", "status", "code"),
    [
        (None, 401, "UNAUTHENTICATED"),
        ("dave", 404, "RESOURCE_DOES_NOT_EXIST"),
        ("carol", 403, "PERMISSION_DENIED"),
    ],
)
def test_permissions_of_writes(mlflow_api: Any, actor: str | None, status: int, code: str) -> None:
    got, body = mlflow_api(actor).post("registered-models/create", name="m")
    assert (got, body["error_code"]) == (status, code)
    assert not RegisteredModel.objects.exists()


def test_readers_read(mlflow_api: Any, trained_run: Run) -> None:
    _register(mlflow_api("bob"), trained_run)
    carol = mlflow_api("carol")
    assert carol.get("registered-models/get", name="churn-model")[0] == 200
    assert carol.get("model-versions/get-download-uri", name="churn-model", version="1")[0] == 200
    status, body = carol.post("registered-models/alias", name="churn-model", alias="champion", version="1")
    assert (status, body["error_code"]) == (403, "PERMISSION_DENIED")
