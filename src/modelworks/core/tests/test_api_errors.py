"""Every API failure answers ``{code, message, details}`` with a stable code, and changes nothing."""

from __future__ import annotations

import pytest

from modelworks.core.models import Project, User
from modelworks.core.testing.client import ApiClient, expect, expect_error

pytest_plugins = ["modelworks.core.testing.fixtures"]


def test_not_found_body(api_client, dave: User) -> None:
    body = expect_error(api_client(dave).get("/projects/no-such-project"), 404, "not_found")
    assert "no-such-project" in body["message"]


def test_permission_denied_body_names_the_role_needed(api_client, carol: User, project: Project) -> None:
    body = expect_error(
        api_client(carol).patch("/projects/flight-delays", {"name": "X"}), 403, "permission_denied"
    )
    assert "reader" in body["message"] and "admin" in body["message"]
    project.refresh_from_db()
    assert project.name == "Flight delays"


def test_request_validation_error_lists_fields(api_client, bob: User) -> None:
    body = expect_error(api_client(bob).post("/projects", {"slug": "ok-slug"}), 422, "validation_error")
    assert list(body["details"]) == ["name"]
    assert "name" in body["message"]
    assert not Project.objects.exists()


def test_unknown_field_is_refused_not_ignored(api_client, alice: User, project: Project) -> None:
    body = expect_error(
        api_client(alice).patch("/projects/flight-delays", {"nmae": "Typo"}), 422, "validation_error"
    )
    assert "nmae" in body["details"]


def test_model_rule_from_the_services_is_a_field_error(api_client, bob: User) -> None:
    """Django ValidationErrors raised by the services keep their field keys."""
    body = expect_error(
        api_client(bob).post("/projects", {"slug": "Not A Slug!", "name": "P"}), 422, "validation_error"
    )
    assert set(body["details"]) == {"slug"}
    assert "lower-case" in body["details"]["slug"][0]


def test_duplicate_slug_is_a_field_error(api_client, alice: User, project: Project) -> None:
    body = expect_error(
        api_client(alice).post("/projects", {"slug": "flight-delays", "name": "Again"}),
        422,
        "validation_error",
    )
    assert "slug" in body["details"]
    assert Project.objects.count() == 1


def test_malformed_json_is_a_validation_error(bob: User, api_client) -> None:
    client = api_client(bob)
    response = client.client.post("/api/v1/projects", data="{not json", content_type="application/json")
    body = expect_error(response, 400, "validation_error")
    assert "not valid JSON" in body["message"]


def test_bad_query_parameter_is_a_validation_error(api_client, bob: User) -> None:
    body = expect_error(api_client(bob).get("/projects", limit="many"), 422, "validation_error")
    assert "limit" in body["details"]


def test_internal_error_leaks_no_traceback(
    api_client, bob: User, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from modelworks.core import services

    def explode(**kwargs: object) -> None:
        raise RuntimeError("secret path /etc/modelworks/db-password")

    # Fault injection: the real route, the real handlers, one service forced to fail.
    monkeypatch.setattr(services, "create_project", explode)
    response = api_client(bob).post("/projects", {"slug": "p", "name": "P"})
    body = expect_error(response, 500, "internal_error")
    assert "secret" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert body["details"] == {}
    assert any("secret path" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_method_not_allowed_on_a_known_path(api_client, bob: User) -> None:
    response = ApiClient(api_client(bob).token).request("PUT", "/me", {})
    assert response.status_code == 405


def test_throttled_body(api_client, bob: User) -> None:
    from modelworks.core.api.tokens import TOKEN_CREATION_RATE

    client = api_client(bob)
    allowed = int(TOKEN_CREATION_RATE.split("/")[0])
    for i in range(allowed):
        expect(client.post("/tokens", {"name": f"t{i}"}), 201)
    response = client.post("/tokens", {"name": "one too many"})
    body = expect_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert body["details"]["retry_after_seconds"] > 0
    assert not bob.api_tokens.filter(name="one too many").exists()


def test_unknown_api_path_is_a_json_404(api_client, bob: User) -> None:
    body = expect_error(api_client(bob).get("/projects/flight-delays/nothing-here"), 404, "not_found")
    assert "/api/v1/docs" in body["message"]
    expect_error(ApiClient().get("/no-such-route"), 401, "not_authenticated")
