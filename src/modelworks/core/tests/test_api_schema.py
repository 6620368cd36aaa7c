"""The OpenAPI schema and the interactive docs: signed-in users only, and nothing from a CDN."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client

from modelworks.core.models import User
from modelworks.core.testing.client import ApiClient, expect, expect_error

pytest_plugins = ["modelworks.core.testing.fixtures"]

EXTERNAL_URL = re.compile(r"""(?:src|href|url)\s*[=:(]\s*["']?(?:https?:)?//""", re.IGNORECASE)


def test_schema_loads_and_lists_every_resource(api_client, dave: User) -> None:
    schema = expect(api_client(dave).get("/openapi.json"), 200)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Modelworks API"
    paths = set(schema["paths"])
    for path in (
        "/api/v1/me",
        "/api/v1/projects",
        "/api/v1/projects/{slug}",
        "/api/v1/projects/{slug}/members/{membership_id}",
        "/api/v1/groups",
        "/api/v1/users",
        "/api/v1/tokens/{token_id}",
        "/api/v1/projects/{slug}/jobs",
        "/api/v1/jobs/{job_id}/logs",
        "/api/v1/audit",
        "/api/v1/projects/{slug}/audit",
    ):
        assert path in paths, path
    schemes = schema["components"]["securitySchemes"]
    assert {"BearerTokenAuth", "SessionAuth"} <= set(schemes)
    assert schemes["BearerTokenAuth"]["scheme"] == "bearer"
    error = schema["components"]["schemas"]["ErrorOut"]
    assert set(error["properties"]) == {"code", "message", "details"}


def test_schema_requires_sign_in(db: None) -> None:
    expect_error(ApiClient().get("/openapi.json"), 401, "not_authenticated")
    response = Client().get("/api/v1/openapi.json", headers={"Authorization": "Bearer mwt_nope"})
    expect_error(response, 401, "not_authenticated")


def test_docs_page_sends_anonymous_browsers_to_login(db: None) -> None:
    response = Client().get("/api/v1/docs")
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == resolve_url(settings.LOGIN_URL) and "next=" in target.query


def test_docs_page_loads_only_local_assets(dave: User) -> None:
    client = Client()
    client.force_login(dave)
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert not EXTERNAL_URL.search(html), "the docs page references an external URL"
    assert "cdn" not in html.lower()
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert asset.startswith(settings.STATIC_URL), asset
        served = client.get(asset)
        assert served.status_code == 200, f"{asset} is not served by this instance"
        body = b"".join(served.streaming_content) if served.streaming else served.content
        assert body, f"{asset} is empty"
    # Swagger UI must not post the schema to validator.swagger.io.
    assert '"validatorUrl": null' in html
