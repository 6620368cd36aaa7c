"""The page shell: layout, navigation, assets served locally, CSP-friendly HTML, friendly errors."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from modelworks.core.models import Project, User

pytest_plugins = ["modelworks.core.testing.fixtures"]

EXTERNAL_URL = re.compile(r"""(?:src|href|action)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_layout_has_navigation_switcher_and_user_menu(project: Project, alice: User) -> None:
    html = as_user(alice).get("/projects/flight-delays/").content.decode()
    assert '<a class="skip-link" href="#main">' in html and '<main id="main"' in html
    assert 'class="menu project-switcher"' in html and 'aria-current="true"' in html
    assert 'aria-label="Account menu for alice"' in html
    assert '<nav class="sidebar" aria-label="Main">' in html
    assert 'href="/projects/flight-delays/jobs/"' in html
    assert 'aria-current="page">Overview<' in html
    assert '<form method="post" action="/logout/">' in html


def test_htmx_is_configured_for_the_csp_and_csrf(alice: User) -> None:
    response = as_user(alice).get("/")
    html = response.content.decode()
    config = json.loads(re.search(r'<meta name="htmx-config" content=\'([^\']+)\'>', html).group(1))
    assert config["includeIndicatorStyles"] is False and config["allowEval"] is False
    assert config["historyCacheSize"] == 0  # pages that show a secret once are never stored
    csrf = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', html).group(1)
    assert len(csrf) >= 32
    assert "script-src 'self'" in response["Content-Security-Policy"]
    # No inline script, no inline event handler: the CSP would block them.
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html)
    assert not re.search(r"\son[a-z]+\s*=", html)


def test_every_asset_referenced_is_served_by_this_instance(
    project: Project, alice: User, client: Client
) -> None:
    html = as_user(alice).get("/projects/flight-delays/").content.decode()
    assert not EXTERNAL_URL.search(html)
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert {a.rsplit("/", 1)[-1] for a in assets} >= {"app.css", "app.js", "htmx-2.0.11.min.js", "mark.svg"}
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")), asset
        response = client.get(asset)
        assert response.status_code == 200, asset
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert not re.search(rb"https?://(?!www\.w3\.org/2000/svg)", body), asset


def test_the_vendored_htmx_carries_its_license() -> None:
    licence = finders.find("core/vendor/htmx-2.0.11.LICENSE.txt")
    assert licence and "Zero-Clause BSD" in open(licence, encoding="utf-8").read()


@pytest.mark.parametrize(
    "url", ["/projects/nope/", "/jobs/00000000-0000-0000-0000-000000000000/", "/no-such-page/"]
)
def test_not_found_pages_are_friendly(url: str, alice: User) -> None:
    response = as_user(alice).get(url)
    html = response.content.decode()
    assert response.status_code == 404
    assert "We could not find that page" in html and "Go to your projects" in html
    assert "data-error-message" in html  # HTMX requests show this sentence in the message area
    assert 'class="sidebar"' in html  # the usual layout, so the way back is obvious


def test_the_server_error_page_renders_without_a_request() -> None:
    from django.template import loader

    html = loader.get_template("500.html").render()
    assert "Something went wrong on our side" in html and "/static/core/css/app.css" in html


def test_narrow_windows_are_handled_by_the_stylesheet() -> None:
    css = open(finders.find("core/css/app.css"), encoding="utf-8").read()
    assert "@media (max-width: 860px)" in css
    assert ":focus-visible" in css
