"""The `modelworks` command, run as users and scripts run it: real processes on a private instance."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

SUBCOMMANDS = [
    "demo",
    "serve",
    "worker",
    "migrate",
    "createadmin",
    "token",
    "check",
    "manage",
    "build",
    "project",
]


class Instance:
    """One isolated instance: its own MODELWORKS_HOME and SQLite database."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {
            k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")
        }
        self.env.update(MODELWORKS_HOME=str(home), DATABASE_URL=f"sqlite:///{home / 'db.sqlite3'}")

    def run(
        self, *args: str, stdin: str | None = None, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "modelworks.cli", *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


@pytest.fixture
def instance(tmp_path: Path) -> Instance:
    inst = Instance(tmp_path / "home")
    result = inst.run("migrate")
    assert result.returncode == 0, result.stderr
    return inst


@pytest.mark.parametrize("sub", SUBCOMMANDS)
def test_every_subcommand_explains_itself(tmp_path: Path, sub: str) -> None:
    result = Instance(tmp_path).run(sub, "--help")
    assert result.returncode == 0
    assert f"usage: modelworks {sub}" in result.stdout
    assert len(result.stdout.splitlines()) > 3


def test_top_level_help_lists_the_commands(tmp_path: Path) -> None:
    result = Instance(tmp_path).run("--help")
    assert result.returncode == 0
    for sub in SUBCOMMANDS:
        assert sub in result.stdout


def test_createadmin_non_interactive_then_token_create_and_revoke(instance: Instance) -> None:
    created = instance.run(
        "createadmin", "--username", "ops", "--email", "ops@example.org", "--password", "a long passphrase 42"
    )
    assert created.returncode == 0, created.stderr
    assert "ops" in created.stdout

    token_run = instance.run("token", "create", "--user", "ops", "--name", "nightly")
    assert token_run.returncode == 0, token_run.stderr
    token = token_run.stdout.strip().splitlines()[-1]
    assert token.startswith("mwt_") and " " not in token and len(token) > 40

    listed = instance.run("token", "list", "--user", "ops")
    assert token[:12] in listed.stdout and "active" in listed.stdout
    assert token not in listed.stdout, "the raw token must never be shown again"

    revoked = instance.run("token", "revoke", token)
    assert revoked.returncode == 0, revoked.stderr
    assert "revoked" in instance.run("token", "list").stdout

    again = instance.run("token", "revoke", token)
    assert again.returncode == 2
    assert "no active token matches" in again.stderr


def test_createadmin_password_from_stdin(instance: Instance) -> None:
    result = instance.run(
        "createadmin", "--username", "ops2", "--password-stdin", stdin="another long passphrase\n"
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["createadmin", "--username", "x", "--password", "short"], "too weak"),
        (["createadmin", "--username", "x"], "no terminal to ask on"),
        (["token", "create", "--user", "ghost"], "no user named 'ghost'"),
    ],
)
def test_cli_errors_are_plain_and_change_nothing(instance: Instance, args: list[str], message: str) -> None:
    result = instance.run(*args, stdin="")
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert "x" not in instance.run("token", "list").stdout.split()


def test_createadmin_refuses_a_duplicate(instance: Instance) -> None:
    assert (
        instance.run("createadmin", "--username", "ops", "--password", "a long passphrase 42").returncode == 0
    )
    dup = instance.run("createadmin", "--username", "OPS", "--password", "a long passphrase 42")
    assert dup.returncode == 2
    assert "already exists" in dup.stderr


def test_check_reports_health_and_pending_migrations(tmp_path: Path) -> None:
    fresh = Instance(tmp_path / "fresh")
    before = fresh.run("check")
    assert before.returncode == 1
    assert "run: modelworks migrate" in before.stdout
    assert fresh.run("migrate").returncode == 0
    after = fresh.run("check")
    assert after.returncode == 0, after.stdout
    assert "Healthy." in after.stdout


def test_unsupported_database_url_is_explained(tmp_path: Path) -> None:
    inst = Instance(tmp_path)
    inst.env["DATABASE_URL"] = "mysql://u@h/db"
    result = inst.run("check")
    assert result.returncode == 2
    assert "DATABASE_URL mysql://" in result.stderr and "postgresql://" in result.stderr


def test_commands_refuse_an_unmigrated_database(tmp_path: Path) -> None:
    result = Instance(tmp_path).run("token", "list")
    assert result.returncode == 2
    assert "modelworks migrate" in result.stderr


def test_two_instances_side_by_side_are_isolated(tmp_path: Path) -> None:
    a, b = Instance(tmp_path / "a"), Instance(tmp_path / "b")
    for inst in (a, b):
        assert inst.run("migrate").returncode == 0
    assert (
        a.run("createadmin", "--username", "only-in-a", "--password", "a long passphrase 42").returncode == 0
    )
    assert b.run("token", "create", "--user", "only-in-a").returncode == 2
    assert (a.home / "secret_key").read_text() != (b.home / "secret_key").read_text()
    assert oct((a.home / "secret_key").stat().st_mode & 0o777) == "0o600"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a TCP socket listening on ``port``, read from the kernel's table."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr_hex, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) == port:
                if len(addr_hex) == 8:
                    found.add(socket.inet_ntoa(bytes.fromhex(addr_hex)[::-1]))
                else:
                    found.add("ipv6:" + addr_hex)
    return found


def test_serve_binds_to_loopback_and_answers_health(instance: Instance) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "modelworks.cli", "serve", "--port", str(port), "--workers", "1"],
        env=instance.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        body = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as resp:
                    body = json.loads(resp.read())
                    break
            except OSError:
                time.sleep(0.2)
        assert body == {"status": "ok"}
        assert _listening_addresses(port) == {"127.0.0.1"}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
