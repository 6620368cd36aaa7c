"""The deployments pages: deploy from the form, the detail page (version served now, how to call,
tokens with the secret shown once), edit, pause and the recent traffic fragment."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from modelworks.deployments import services
from modelworks.deployments.models import Deployment, EndpointToken, hash_endpoint_token
from modelworks.deployments.services import TargetSpec

# Fixtures (pytest takes pytest_plugins only in test modules and the top-level conftest).
pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.registry.tests.fixtures"]

pytestmark = pytest.mark.django_db

PAGES = "/projects/flight-delays/deployments/"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_deploy_from_the_form(bob: Any, registered: Any) -> None:
    client = _client(bob)
    page = client.get(PAGES + "new/?model=late-departures")
    text = page.content.decode()
    assert page.status_code == 200
    assert f'value="alias:{registered.pk}:champion" selected' in text
    assert "late-departures @champion (now version 1; follows promotions)" in text

    refused = client.post(
        PAGES + "new/",
        {
            "name": "late",
            "mode": "ab",
            "primary": f"alias:{registered.pk}:champion",
            "log_percent": "100",
            "max_rows": "500",
        },
    )
    assert refused.status_code == 422
    assert "Choose the second model" in refused.content.decode()
    assert not Deployment.objects.exists()

    version_2 = registered.versions.get(version=2)
    done = client.post(
        PAGES + "new/",
        {
            "name": "late",
            "mode": "ab",
            "primary": f"alias:{registered.pk}:champion",
            "second": f"version:{version_2.pk}",
            "second_share": "25",
            "log_percent": "50",
            "max_rows": "500",
        },
    )
    assert done.status_code == 303 and done["Location"] == PAGES + "late/"
    deployment = Deployment.objects.get()
    assert (deployment.mode, deployment.log_sample_rate, deployment.max_rows) == ("ab", 0.5, 500)
    assert sorted(deployment.targets.values_list("role", "weight")) == [("challenger", 25), ("primary", 75)]


def test_detail_page_shows_what_is_served_and_how_to_call(bob: Any, carol: Any, registered: Any) -> None:
    services.create_deployment(
        registered.project,
        actor=bob,
        name="late",
        targets=[TargetSpec(model="late-departures", alias="champion")],
        id_column="flight_id",
    )
    text = _client(carol).get(PAGES + "late/").content.decode()
    assert "http://testserver:8100/score/late" in text
    assert "v1" in text and "@champion" in text
    # The how-to-call examples carry a real row of the model's input example and the ID column.
    assert "sepal length (cm)" in text and "row-0001" in text and "/score/late/invocations" in text
    # A reader sees no write control.
    assert "Create token" not in text and "Pause" not in text and "Delete late" not in text


def test_token_secret_is_shown_once(alice: Any, bob: Any, registered: Any) -> None:
    services.create_deployment(
        registered.project,
        actor=bob,
        name="late",
        targets=[TargetSpec(model="late-departures", alias="champion")],
    )
    client = _client(alice)
    answer = client.post(PAGES + "late/tokens/", {"name": "billing app"}, headers={"HX-Request": "true"})
    assert answer.status_code == 201 and answer["Cache-Control"] == "no-store"
    secret = re.search(r'value="(mwe_[^"]+)"', answer.content.decode()).group(1)
    token = EndpointToken.objects.get()
    assert token.key_hash == hash_endpoint_token(secret)
    assert secret not in client.get(PAGES + "late/").content.decode()
    revoked = client.post(PAGES + f"late/tokens/{token.pk}/revoke/")
    assert revoked.status_code == 303
    token.refresh_from_db()
    assert token.status == "revoked"
    missing = client.post(PAGES + "late/tokens/", {"name": ""})
    assert missing.status_code == 422 and "This field is required" in missing.content.decode()


def test_edit_pause_and_problems(bob: Any, registered: Any) -> None:
    from modelworks.registry import services as registry

    services.create_deployment(
        registered.project,
        actor=bob,
        name="late",
        targets=[TargetSpec(model="late-departures", alias="champion")],
    )
    client = _client(bob)
    form = client.get(PAGES + "late/edit/").content.decode()
    assert f'value="alias:{registered.pk}:champion" selected' in form and 'name="name"' not in form
    version_2 = registered.versions.get(version=2)
    saved = client.post(
        PAGES + "late/edit/",
        {"mode": "single", "primary": f"version:{version_2.pk}", "log_percent": "100", "max_rows": "10"},
    )
    assert saved.status_code == 303
    assert Deployment.objects.get().targets.get().model_version == version_2
    assert client.post(PAGES + "late/pause/").status_code == 303
    assert "This deployment is paused" in client.get(PAGES + "late/").content.decode()

    services.update_deployment(
        Deployment.objects.get(), actor=bob, targets=[TargetSpec(model="late-departures", alias="challenger")]
    )
    registry.delete_alias(registered, "challenger", actor=bob)
    text = client.get(PAGES + "late/").content.decode()
    assert "has no alias &#x27;challenger&#x27; any more" in text


def test_traffic_fragment_without_log(bob: Any, registered: Any, settings: Any, tmp_path: Any) -> None:
    settings.MODELWORKS_PREDICTIONS_DIR = tmp_path / "predictions"
    services.create_deployment(
        registered.project,
        actor=bob,
        name="late",
        targets=[TargetSpec(model="late-departures", alias="champion")],
    )
    fragment = _client(bob).get(PAGES + "late/traffic/", headers={"HX-Request": "true"})
    text = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in text
    assert "No prediction logged in the last 31 days" in text
