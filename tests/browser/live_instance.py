"""A real Modelworks instance for end-to-end tests: ``modelworks serve`` and ``modelworks worker`` as
subprocesses, in a fresh ``MODELWORKS_HOME`` with its own SQLite database, started under the network
guard (``network_guard/sitecustomize.py``), and the Chromium that drives it.

Used by the browser tests (``tests/browser``) and ``tests/test_no_outbound_network.py``; a test module
declares ``pytest_plugins = ["browser.live_instance"]`` for the session's one ``chromium`` (Playwright's
sync API runs once per process, so every test shares it).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import pytest

__all__ = [
    "ADMIN_PASSWORD",
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "GUARD_DIR",
    "LiveInstance",
    "RequestGuard",
    "chromium",
    "shot",
    "sign_in",
]

GUARD_DIR = Path(__file__).resolve().parent / "network_guard"
ADMIN_PASSWORD = "Quiet-Harbour-2187"
CHROMIUM = os.environ.get("MODELWORKS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """The session's headless Chromium (Playwright), or a failure that says how to install it."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install it with 'apt-get install -y chromium' "
            "or point MODELWORKS_CHROMIUM at its executable."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


SHOTS = Path(os.environ.get("MODELWORKS_SHOTS", "/tmp/mw-shots"))


def shot(page: Any, name: str) -> Path:
    """Save a full-page screenshot in ``SHOTS``: the design is judged by looking at these."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Any, username: str, password: str = ADMIN_PASSWORD) -> None:
    """Sign in through the login page, as a person would."""
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveInstance:
    """One isolated instance in ``home``; ``start()`` migrates, creates ``admin`` and starts the processes."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.guard_log = home / "network-guard.jsonl"
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "MODELWORKS_CONFIG", "MODELWORKS_ENV")
        }
        env.update(
            MODELWORKS_HOME=str(home),
            MODELWORKS_ENV="development",  # run exactly as the demo does, not with test settings
            MODELWORKS_NETWORK_GUARD="1",
            MODELWORKS_NETWORK_GUARD_LOG=str(self.guard_log),
            PYTHONPATH=os.pathsep.join([str(GUARD_DIR), *filter(None, [env.get("PYTHONPATH")])]),
            PYTHONUNBUFFERED="1",
        )
        self.env = env
        self._procs: dict[str, tuple[subprocess.Popen[bytes], IO[bytes]]] = {}

    # ------------------------------------------------------------------------------------ commands

    def cli(self, *args: str, stdin: str | None = None, timeout: float = 120) -> str:
        """Run ``modelworks <args>`` on this instance and return its output; fail with it on error."""
        done = subprocess.run(
            [sys.executable, "-m", "modelworks.cli", *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, f"modelworks {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def shell(self, code: str) -> str:
        """Run Python ``code`` inside the instance (``modelworks manage shell -c``)."""
        return self.cli("manage", "shell", "--no-imports", "-c", code)

    def start(self, *, worker: bool = True) -> LiveInstance:
        self.home.mkdir(parents=True, exist_ok=True)
        self.cli("migrate")
        loaded = self.shell("import sitecustomize; print(sitecustomize.__file__)").strip()
        assert Path(loaded).parent == GUARD_DIR, (
            f"the network guard is not active (sitecustomize is {loaded})"
        )
        self.cli(
            "createadmin",
            "--username",
            "admin",
            "--email",
            "admin@example.test",
            "--password-stdin",
            stdin=ADMIN_PASSWORD + "\n",
        )
        self._spawn("serve", "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1")
        if worker:
            self._spawn("worker", "worker", "--concurrency", "2")
        self._wait_until_up()
        return self

    def _spawn(self, name: str, *args: str) -> None:
        log = (self.home / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "modelworks.cli", *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C on pytest must not reach it; stop() ends it
        )
        self._procs[name] = (proc, log)

    def _wait_until_up(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc, _ = self._procs["serve"]
            if proc.poll() is not None:
                raise AssertionError(f"modelworks serve exited early:\n{self.output('serve')}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/health", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"modelworks serve did not answer within {timeout} s:\n{self.output('serve')}")

    def output(self, name: str) -> str:
        path = self.home / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Stop the processes this instance started (and only those)."""
        for proc, _ in self._procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc, log in self._procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            log.close()
        self._procs.clear()

    def guard_violations(self) -> list[dict[str, Any]]:
        """What the network guard refused in any process of this instance."""
        if not self.guard_log.exists():
            return []
        return [json.loads(line) for line in self.guard_log.read_text().splitlines() if line.strip()]


class RequestGuard:
    """Playwright route handler: lets requests to 127.0.0.1 through, aborts and records the rest."""

    def __init__(self) -> None:
        self.refused: list[str] = []

    def __call__(self, route: Any) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about") or parts.hostname == "127.0.0.1":
            route.continue_()
        else:
            self.refused.append(url)
            route.abort("blockedbyclient")


def htmx_settled(page: Any, timeout_ms: int = 20_000) -> None:
    """Wait until htmx has no request in flight and has finished swapping and settling.

    A page element that appeared is not yet wired by htmx until settling ends; acting on it earlier
    (on a loaded machine) would fire an event htmx never sees.
    """
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')",
        timeout=timeout_ms,
    )
