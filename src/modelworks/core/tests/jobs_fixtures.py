"""Fixtures for the job tests: real ``modelworks worker`` processes on the pytest test database.

A test module uses them with ``pytest_plugins = ["modelworks.core.tests.jobs_fixtures"]``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

__all__ = ["WorkerProcess", "start_worker", "worker_env"]


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = quote(str(db.get("USER") or ""), safe="")
    password = quote(str(db.get("PASSWORD") or ""), safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgresql://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


@pytest.fixture
def worker_env(transactional_db: None) -> dict[str, str]:
    """Environment for a subprocess that must use this test's database and instance home."""
    env = {k: v for k, v in os.environ.items() if k not in ("MODELWORKS_ENV", "MODELWORKS_CONFIG")}
    env.update(
        MODELWORKS_HOME=str(settings.MODELWORKS_HOME),
        DATABASE_URL=_database_url(),
        DJANGO_SETTINGS_MODULE="modelworks.config.settings.test",
        PYTHONUNBUFFERED="1",
    )
    return env


class WorkerProcess:
    """A ``modelworks worker`` subprocess; its output goes to a file shown when a test fails."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "modelworks.cli", "worker", *args],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C on pytest must not reach it; teardown stops it
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def send(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"worker did not exit within {timeout} s; output:\n{self.output()}") from exc

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._log.close()


@pytest.fixture
def start_worker(worker_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start real workers: ``start_worker("--concurrency", "2")``. All are killed at teardown, before
    the test database is flushed (a worker holding a connection would block that on PostgreSQL)."""
    workers: list[WorkerProcess] = []

    def start(*args: str) -> WorkerProcess:
        worker = WorkerProcess(list(args), worker_env, tmp_path / f"worker-{len(workers) + 1}.log")
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        if worker.proc.poll() is None:
            worker.send(signal.SIGKILL)  # its job processes die with it (parent-death signal)
        worker.kill()
    for worker in workers:
        text = worker.output().strip()
        if text:
            print(f"--- output of worker {worker.pid} ---\n{text}")
