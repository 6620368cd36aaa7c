"""Database connections of the threads that serve requests during a test run.

Django keeps one database connection per thread, and the settings keep it open between requests
(``CONN_MAX_AGE``). pytest-django's ``live_server`` serves each client socket in a thread of its
own, and with HTTP keep-alive that thread lives as long as the client keeps the socket open: the
mlflow client, for one, caches its HTTP session for the whole run. Such a thread, blocked on its
idle socket, never closes its connection, even after its test and the live server have stopped.
On PostgreSQL the test database then cannot be dropped at the end of the run, and pytest-django
warns "database ... is being accessed by other users: there are N other sessions".

This plugin closes the connections of a thread other than the main one as soon as a request it
served has finished, so an idle keep-alive thread holds none. The main thread (the test itself,
the Django test client) keeps its connection: the test's transaction lives on it. Registered by
``tests/conftest.py``; a test module outside ``tests/`` may name it in ``pytest_plugins`` too.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.signals import request_finished
from django.db import connections

__all__ = ["close_connections_of_request_threads", "close_thread_connections"]


def close_thread_connections(**kwargs: Any) -> None:
    """Close this thread's database connections, unless it is the main thread.

    A ``request_finished`` receiver. A connection inside an atomic block is left open: closing it
    would break the transaction of whoever opened the block.
    """
    if threading.current_thread() is threading.main_thread():
        return
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


@pytest.fixture(scope="session", autouse=True)
def close_connections_of_request_threads() -> Iterator[None]:
    """For the whole run, a thread other than the main one closes its connections after each request."""
    request_finished.connect(close_thread_connections, dispatch_uid="modelworks-testing-close-threads")
    yield
    request_finished.disconnect(dispatch_uid="modelworks-testing-close-threads")
