"""Errors of the registry. Each carries the MLflow error code the protocol answers it with, so the
pages, the service API and the MLflow endpoints tell the user the same thing."""

from __future__ import annotations

__all__ = [
    "InvalidRegistryValueError",
    "PromotionBlockedError",
    "RegistryAlreadyExistsError",
    "RegistryError",
    "RegistryInUseError",
    "RegistryNotFoundError",
]


class RegistryError(Exception):
    """Base of registry errors; ``mlflow_code`` is the code of MLflow's error shape."""

    mlflow_code = "INVALID_PARAMETER_VALUE"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidRegistryValueError(RegistryError):
    """A name, alias, source or filter that cannot be accepted; the message says how to fix it."""


class RegistryNotFoundError(RegistryError):
    """No such registered model, version, alias or logged model in this project."""

    mlflow_code = "RESOURCE_DOES_NOT_EXIST"


class PromotionBlockedError(RegistryError):
    """A gate (e.g. the governance sign-off) refuses to move this alias to this version yet; the
    message says what is missing (which reviews) and where to get it."""

    mlflow_code = "PERMISSION_DENIED"


class RegistryInUseError(RegistryError):
    """The model or version is still used (e.g. served by a deployment) and cannot be deleted."""

    mlflow_code = "RESOURCE_CONFLICT"


def in_use_message(what: str, exc: Exception) -> str:
    """ "<what> is still used by deployment 'x', 'y'; change or delete those first" from a RestrictedError."""
    users = sorted({str(getattr(obj, "deployment", obj)) for obj in getattr(exc, "restricted_objects", ())})
    named = ", ".join(f"'{u}'" for u in users[:5]) or "other objects"
    return (
        f"{what} cannot be deleted: it is served by deployment {named}. Point those deployments at "
        "another model or version (or delete them) first."
    )


class RegistryAlreadyExistsError(RegistryError):
    """A registered model with that name already exists in the project."""

    mlflow_code = "RESOURCE_ALREADY_EXISTS"
