"""Test helpers of the connections app, also used by the permission suite's route tables.

The connections made here point at 127.0.0.1 port 1, where nothing listens: testing them answers
"could not connect" at once, without any network beyond the loopback.
"""

from __future__ import annotations

from typing import Any

from modelworks.connections import services
from modelworks.connections.models import Connection
from modelworks.core.testing.routes import PermissionWorld

__all__ = [
    "POSTGRES_FORM",
    "project_connection",
    "project_connection_args",
    "project_connection_page_args",
    "shared_connection",
    "shared_connection_args",
    "shared_connection_page_args",
]


def project_connection(w: PermissionWorld) -> Connection:
    """A PostgreSQL connection of the world's project (made on first use)."""
    if "connections.project" not in w.extra:
        w.extra["connections.project"] = services.create_connection(
            actor=w.users["admin"],
            project=w.project,
            name="Warehouse",
            kind="postgresql",
            config={"host": "127.0.0.1", "port": 1, "database": "sales", "user": "reader"},
            secrets={"password": "Warehouse-Secret-77"},
        )
    return w.extra["connections.project"]


def shared_connection(w: PermissionWorld) -> Connection:
    """An instance-level S3 connection shared with the world's project (made on first use)."""
    if "connections.shared" not in w.extra:
        w.extra["connections.shared"] = services.create_connection(
            actor=w.users["instance_admin"],
            project=None,
            name="Lake",
            kind="s3",
            config={"bucket": "raw", "endpoint_url": "http://127.0.0.1:1", "region": "eu-west-1"},
            secrets={"access_key": "AKIALAKE", "secret_key": "Lake-Secret-88"},
            shared_with=[w.project],
        )
    return w.extra["connections.shared"]


def project_connection_args(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "connection_id": project_connection(w).pk}


def shared_connection_args(w: PermissionWorld) -> dict[str, Any]:
    return {"connection_id": shared_connection(w).pk}


def project_connection_page_args(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "pk": project_connection(w).pk}


def shared_connection_page_args(w: PermissionWorld) -> dict[str, Any]:
    return {"pk": shared_connection(w).pk}


#: Form data of a PostgreSQL connection's settings page.
POSTGRES_FORM = {
    "kind": "postgresql",
    "name": "Warehouse",
    "host": "127.0.0.1",
    "port": "1",
    "database": "sales",
    "user": "reader",
    "sslmode": "prefer",
}
