"""The live server's request threads hold no database connection once a request has finished.

HTTP keep-alive keeps a request thread alive as long as its client socket; had it kept its
connection, PostgreSQL could not drop the test database at the end of the run.
"""

from __future__ import annotations

import http.client
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.signals import request_finished
from django.db import connection

from modelworks.core.testing.threads import close_thread_connections


def _other_sessions(expected: int) -> int:
    """Sessions on the test database besides this one, once ``expected`` or after 5 s (a closed
    session leaves pg_stat_activity a moment after its client let go)."""
    deadline = time.monotonic() + 5
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            count = int(cursor.fetchone()[0])
        if count == expected or time.monotonic() > deadline:
            return count
        time.sleep(0.1)


def _keep_alive_get(live_server: Any, token: str) -> http.client.HTTPConnection:
    url = urlsplit(live_server.url)
    client = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    client.request("GET", "/api/v1/projects", headers={"Authorization": f"Bearer {token}"})
    answer = client.getresponse()
    answer.read()
    assert answer.status == 200 and not answer.will_close  # the socket, and its thread, stay
    return client


@pytest.mark.django_db(transaction=True)
def test_a_keep_alive_request_thread_closes_its_connection(live_server: Any, tokens: dict[str, str]) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL shows other sessions")
    request_finished.disconnect(dispatch_uid="modelworks-testing-close-threads")
    try:
        client = _keep_alive_get(live_server, tokens["alice"])
        assert _other_sessions(1) == 1  # without the plugin, the idle thread keeps its connection
        client.close()  # its thread ends and closes its connection (Django's close_request)
        assert _other_sessions(0) == 0
    finally:
        request_finished.connect(close_thread_connections, dispatch_uid="modelworks-testing-close-threads")
    client = _keep_alive_get(live_server, tokens["alice"])
    try:
        assert _other_sessions(0) == 0
    finally:
        client.close()
