"""The registry pages: permissions of every row (as core's page suite checks them), and what the
pages show and do (alias form, compare, card download, version deletion)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from modelworks.core.models import AuditEvent
from modelworks.core.testing.routes import ACTORS, PageRouteCase, PermissionWorld, expected_outcome
from modelworks.registry import services
from modelworks.registry.models import AliasEvent, ModelVersion
from modelworks.registry.testing import REGISTRY_PAGE_ROUTES, world_model
from modelworks.tracking.models import Run

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.registry.tests.fixtures"]

STATUS = {"forbidden": 403, "not_found": 404}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("case", REGISTRY_PAGE_ROUTES, ids=str)
def test_registry_page_permissions(
    case: PageRouteCase, actor: str, permission_world: PermissionWorld, artifacts_dir: Any
) -> None:
    client = Client()
    user = permission_world.user(actor)
    if user is not None:
        client.force_login(user)
    url = reverse(case.url_name, kwargs=case.kwargs(permission_world))
    data = case.data(permission_world) if case.data else {}
    response = client.get(url, data) if case.method == "GET" else client.post(url, data)
    outcome = expected_outcome(case.access, actor)
    if outcome == "not_authenticated":
        assert response.status_code == 302 and "/login" in response["Location"]
    elif outcome == "ok":
        assert response.status_code in case.ok_statuses, response.content[:300]
    else:
        assert response.status_code == STATUS[outcome]


@pytest.fixture
def model_with_versions(project: Any, bob: Any, trained_run: Run) -> Any:
    model = services.create_registered_model(project, actor=bob, name="churn", description="Who leaves")
    for rmse in (3.0, 2.0, 2.5):
        services.create_model_version(
            model, actor=bob, source=f"runs:/{trained_run.run_uuid}/model", metrics={"rmse": rmse}
        )
    return model


def test_model_and_version_pages_show_versions_metrics_lineage_and_card(
    client: Client, bob: Any, model_with_versions: Any, trained_run: Run
) -> None:
    client.force_login(bob)
    services.set_alias(model_with_versions.versions.get(version=2), "champion", actor=bob)
    page = client.get(
        reverse("registry:model", args=["flight-delays", model_with_versions.pk])
    ).content.decode()
    assert "v3" in page and "rmse" in page and "2.5000" in page and "@champion" in page
    assert "bob" in page and "Set an alias" in page

    page = client.get(
        reverse("registry:version", args=["flight-delays", model_with_versions.pk, 2])
    ).content.decode()
    assert trained_run.run_uuid in page and "train.py @ git 1a2b3c4d5e6f" in page
    assert "sepal length (cm)" in page and "models:/churn@champion" in page

    response = client.get(
        reverse("registry:card_markdown", args=["flight-delays", model_with_versions.pk, 2])
    )
    assert response["Content-Disposition"] == 'attachment; filename="churn-v2-card.md"'
    assert response.content.decode().startswith("# Model card: churn version 2")


def test_list_page(client: Client, carol: Any, model_with_versions: Any) -> None:
    client.force_login(carol)
    page = client.get(reverse("registry:list", args=["flight-delays"])).content.decode()
    assert "churn" in page and "Who leaves" in page and "v3" in page


def test_compare_page_marks_differences_and_the_best(
    client: Client, carol: Any, model_with_versions: Any
) -> None:
    client.force_login(carol)
    url = reverse("registry:compare", args=["flight-delays", model_with_versions.pk])
    page = client.get(url, {"v": ["1", "2", "3"]}).content.decode()
    assert page.count("differs") >= 2 and "best" in page and "3.0000" in page
    assert client.get(url, {"v": ["9"]}).status_code == 404
    page = client.get(url, {"v": ["1"]}).content.decode()
    assert "Compare 2 to 4 versions; got 1" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"alias": "latest", "version": "1"}, "reserved"),
        ({"alias": "a b", "version": "1"}, "Names may only contain alphanumerics"),
        ({"alias": "champion", "version": "7"}, "Select a valid choice"),
    ],
)
def test_alias_form_errors(
    client: Client, bob: Any, model_with_versions: Any, data: dict[str, str], message: str
) -> None:
    client.force_login(bob)
    response = client.post(reverse("registry:alias", args=["flight-delays", model_with_versions.pk]), data)
    assert response.status_code == 422 and message in response.content.decode()
    assert not AliasEvent.objects.exists()


def test_alias_form_moves_and_removes(client: Client, bob: Any, model_with_versions: Any) -> None:
    client.force_login(bob)
    url = reverse("registry:alias", args=["flight-delays", model_with_versions.pk])
    assert client.post(url, {"alias": "champion", "version": "1"}).status_code == 303
    assert client.post(url, {"alias": "champion", "version": "3"}).status_code == 303
    assert client.post(url, {"alias": "champion", "version": "3", "remove": "on"}).status_code == 303
    assert list(AliasEvent.objects.order_by("id").values_list("from_version", "to_version")) == [
        (None, 1),
        (1, 3),
        (3, None),
    ]
    assert AuditEvent.objects.filter(action__startswith="model.alias_").count() == 3


def test_admins_delete_a_version_after_confirming(
    client: Client, alice: Any, bob: Any, model_with_versions: Any
) -> None:
    url = reverse("registry:delete_version", args=["flight-delays", model_with_versions.pk, 2])
    client.force_login(bob)
    assert client.post(url).status_code == 403
    client.force_login(alice)
    assert "Delete version 2 of churn?" in client.get(url).content.decode()
    assert client.post(url).status_code == 303
    assert list(ModelVersion.objects.values_list("version", flat=True).order_by("version")) == [1, 3]
    assert AuditEvent.objects.filter(action="model.version_deleted", actor=alice).count() == 1


def test_pages_of_another_projects_model_are_not_found(
    client: Client, alice: Any, dave: Any, permission_world: PermissionWorld, artifacts_dir: Any
) -> None:
    model = world_model(permission_world)
    client.force_login(dave)
    assert client.get(reverse("registry:model", args=["flight-delays", model.pk])).status_code == 404
    client.force_login(alice)
    assert client.get(reverse("registry:model", args=["flight-delays", model.pk + 100])).status_code == 404
