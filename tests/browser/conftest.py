"""Fixtures of the browser tests: one real instance per module, one Chromium per session (the
``chromium`` fixture of ``browser.live_instance``, which each test module names in ``pytest_plugins``).

``instance`` runs ``modelworks serve`` and a worker in a fresh MODELWORKS_HOME under the network
guard; ``page`` is a fresh browser context (1280 by 900) whose requests outside 127.0.0.1 are refused
and recorded. At teardown a test fails on any refused request, any page error, any message of the
Content-Security-Policy, and the instance on anything its network guard refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from browser.live_instance import LiveInstance, RequestGuard


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveInstance]:
    live = LiveInstance(tmp_path_factory.mktemp("instance")).start()
    try:
        yield live
    finally:
        live.stop()
    violations = live.guard_violations()
    assert not violations, f"the instance tried to reach the network: {violations}"


class PageProblems:
    """What went wrong in the browser during a test."""

    def __init__(self) -> None:
        self.guard = RequestGuard()
        self.errors: list[str] = []

    def on_console(self, message: Any) -> None:
        # 4xx answers to HTMX requests (a form with errors) are logged as "Failed to load resource";
        # they are expected. Anything else at error level (a CSP refusal, a script error) is not.
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.errors.append(f"console: {message.text}")

    def on_page_error(self, error: Any) -> None:
        self.errors.append(f"page error: {error}")


@pytest.fixture
def open_page(chromium: Any, instance: LiveInstance) -> Iterator[Callable[..., Any]]:
    """``open_page(width=1280)`` → a new browser context and page on the instance (one per person)."""
    opened: list[tuple[Any, PageProblems]] = []

    def open_one(width: int = 1280, height: int = 900) -> Any:
        problems = PageProblems()
        context = chromium.new_context(
            viewport={"width": width, "height": height}, base_url=instance.base_url
        )
        context.route("**/*", problems.guard)
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.on("console", problems.on_console)
        page.on("pageerror", problems.on_page_error)
        page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm questions: answer yes
        opened.append((context, problems))
        return page

    yield open_one
    for context, problems in opened:
        context.close()
        assert not problems.guard.refused, f"a page asked for outside addresses: {problems.guard.refused}"
        assert not problems.errors, "\n".join(problems.errors)


@pytest.fixture
def page(open_page: Callable[..., Any]) -> Any:
    return open_page()
