"""The decorator of the registry's MLflow endpoints: the tracking protocol plus registry errors."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from modelworks.core.models import Role
from modelworks.registry.errors import RegistryError
from modelworks.tracking.protocol import MlflowCall, MlflowError, mlflow_endpoint

__all__ = ["as_list", "endpoint", "truthy"]


def endpoint(
    needed: Role = Role.READER, *, methods: tuple[str, ...] = ("GET",)
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``mlflow_endpoint`` whose view may raise ``RegistryError``: answered in MLflow's shape."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def translated(call: MlflowCall, **kwargs: Any) -> Any:
            try:
                return view(call, **kwargs)
            except RegistryError as exc:
                raise MlflowError(exc.mlflow_code, exc.message) from exc

        return mlflow_endpoint(needed, methods=methods)(translated)

    return decorate


def as_list(value: Any) -> list[Any]:
    """A request field that may be sent once (a string) or repeated (a list)."""
    if value in (None, ""):
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")
