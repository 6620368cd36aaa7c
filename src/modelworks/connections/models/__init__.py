"""Connection models. Import from here."""

from __future__ import annotations

from modelworks.connections.models.connections import (
    CONFIG_FIELDS,
    DESTINATION_FIELDS,
    SECRET_FIELDS,
    Connection,
    ConnectionKind,
    ConnectionQuerySet,
    clean_config,
    validate_label,
)

__all__ = [
    "CONFIG_FIELDS",
    "DESTINATION_FIELDS",
    "SECRET_FIELDS",
    "Connection",
    "ConnectionKind",
    "ConnectionQuerySet",
    "clean_config",
    "validate_label",
]
