"""The routing table of a worker: which loaded model answers which endpoint, and how it is swapped.

A :class:`RoutingProvider` says what should be served (``current_revision()`` is polled each second;
``routing_snapshot()`` is read when it changes). The default provider is the instance's database
(:class:`DatabaseRouting`, through ``modelworks.deployments.runtime``); tests and benchmarks give
their own.

:class:`Router` turns a snapshot into a :class:`RoutingTable` of loaded models. Models are cached by
model-version id, so a change loads only the versions not loaded yet. The new table replaces the old
one in a single reference assignment: a request that started on the old table finishes on the old
models (it holds its own reference), the next request sees the new one, and no request is dropped.
A target whose model fails to load leaves its endpoint on the previous routing (reported in the log
and the ``model_load_failures`` metric); a new endpoint whose model cannot load answers 503.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from modelworks.serving.metrics import ServingMetrics

__all__ = [
    "DatabaseRouting",
    "LoadedTarget",
    "Route",
    "Router",
    "RoutingProvider",
    "RoutingTable",
    "choose_answering",
]

logger = logging.getLogger("modelworks.serving")


class RoutingProvider(Protocol):
    """Where the routing comes from (``modelworks.deployments.runtime`` has the same two functions)."""

    def current_revision(self) -> str: ...

    def routing_snapshot(self) -> Any: ...  # a deployments.runtime.RoutingSnapshot


class DatabaseRouting:
    """The instance's active deployments, read through ``modelworks.deployments.runtime``.

    Called from the worker's reload thread, which owns its own database connection; after an error
    the connection is closed so the next poll opens a fresh one (the database may have restarted).
    """

    def current_revision(self) -> str:
        from modelworks.deployments import runtime

        return str(self._guarded(runtime.current_revision))

    def routing_snapshot(self) -> Any:
        from modelworks.deployments import runtime

        return self._guarded(runtime.routing_snapshot)

    def mark_tokens_used(self, key_hashes: set[str]) -> None:
        from modelworks.deployments import runtime

        self._guarded(lambda: runtime.mark_tokens_used(key_hashes))

    @staticmethod
    def _guarded(call: Callable[[], Any]) -> Any:
        from django.db import connection

        try:
            return call()
        except Exception:
            connection.close()
            raise


@dataclass(frozen=True)
class LoadedTarget:
    """A target of an endpoint with its loaded model."""

    config: Any  # deployments.runtime.TargetConfig
    model: Any  # engine.scoring.ScoringModel
    label: str  # "<model name>/<version>", the model_version of answers and metrics

    @property
    def role(self) -> str:
        return str(self.config.role)


@dataclass(frozen=True)
class Route:
    """One servable endpoint: its configuration and loaded targets, or why it cannot answer."""

    config: Any  # deployments.runtime.EndpointConfig
    answering: tuple[LoadedTarget, ...]  # primary (single/shadow) or primary + challengers (ab)
    weights: tuple[float, ...]  # cumulative weights of ``answering`` (A/B), last one = total
    shadows: tuple[LoadedTarget, ...]
    unavailable: str = ""  # non-empty: the endpoint exists but no model could be loaded


@dataclass(frozen=True)
class RoutingTable:
    """An immutable routing table; replaced whole on every change."""

    revision: str
    routes: Mapping[str, Route] = field(default_factory=dict)
    models: Mapping[int, Any] = field(default_factory=dict)  # version id -> ScoringModel
    problems: Mapping[str, str] = field(default_factory=dict)  # active endpoint -> why it cannot answer


def choose_answering(route: Route, draw: Callable[[], float] = random.random) -> LoadedTarget:
    """The target that answers one request: the primary, or a weighted draw for an A/B endpoint."""
    if len(route.answering) == 1:
        return route.answering[0]
    total = route.weights[-1]
    if total <= 0:
        return route.answering[0]
    point = draw() * total
    for target, bound in zip(route.answering, route.weights, strict=True):
        if point < bound:
            return target
    return route.answering[-1]


def _default_loader(model_dir: Any) -> Any:
    from modelworks.engine.scoring import ScoringModel

    return ScoringModel.load(model_dir)


class Router:
    """Builds routing tables from a provider's snapshots and swaps them in.

    Args:
        provider: where the routing comes from.
        metrics: the worker's counters (load failures, loaded models, endpoints).
        loader: loads the model of a folder (default ``ScoringModel.load``).
    """

    def __init__(
        self,
        provider: RoutingProvider,
        metrics: ServingMetrics,
        loader: Callable[[Any], Any] = _default_loader,
    ) -> None:
        self.provider = provider
        self.metrics = metrics
        self.loader = loader
        self.table = RoutingTable(revision="")
        self.failures: dict[int, str] = {}  # version id -> why it could not be loaded
        self._lock = threading.Lock()  # one rebuild at a time

    # ---------------------------------------------------------------------------------- building

    def refresh(self, *, force: bool = False) -> bool:
        """Rebuild the table if the provider's revision moved (or ``force``). True when swapped."""
        revision = self.provider.current_revision()
        if revision == self.table.revision and not force:
            return False
        with self._lock:
            snapshot = self.provider.routing_snapshot()
            self.table = self._build(snapshot)
        return True

    def _load(self, target: Any, endpoint: str, cache: dict[int, Any], old: Mapping[int, Any]) -> Any:
        version_id = int(target.version_id)
        if version_id in cache:
            return cache[version_id]
        model = old.get(version_id)
        if model is None:
            label = f"{target.model_name}/{target.version}"
            started = time.perf_counter()
            try:
                model = self.loader(target.model_dir)
            except Exception as exc:
                self.failures[version_id] = f"{label}: {exc}"
                self.metrics.count_load_failure(endpoint, label)
                logger.error("cannot load model %s for endpoint %s: %s", label, endpoint, exc)
                return None
            try:
                model.name = label
            except AttributeError:
                pass
            logger.info("loaded model %s in %.2f s", label, time.perf_counter() - started)
        self.failures.pop(version_id, None)
        cache[version_id] = model
        return model

    def _build(self, snapshot: Any) -> RoutingTable:
        old = self.table
        cache: dict[int, Any] = {}
        routes: dict[str, Route] = {}
        for name, config in snapshot.endpoints.items():
            loaded: list[LoadedTarget] = []
            missing: list[str] = []
            for target in config.targets:
                label = f"{target.model_name}/{target.version}"
                model = self._load(target, name, cache, old.models)
                if model is None:
                    missing.append(label)
                    continue
                loaded.append(LoadedTarget(config=target, model=model, label=label))
            route = self._route(config, loaded, missing)
            previous = old.routes.get(name)
            if missing and previous is not None and not previous.unavailable:
                # Keep serving what worked: a failed load never takes an endpoint down.
                logger.warning(
                    "endpoint %s keeps its previous models (%s failed to load)", name, ", ".join(missing)
                )
                # Tokens, sampling and limits still follow the new configuration.
                routes[name] = replace(previous, config=config)
                for kept in (*previous.answering, *previous.shadows):
                    cache.setdefault(int(kept.config.version_id), kept.model)
                continue
            routes[name] = route
        self.metrics.set_gauge("loaded_models", len(cache))
        self.metrics.set_gauge("endpoints", len(routes))
        problems = dict(getattr(snapshot, "problems", None) or {})
        for name, why in problems.items():
            logger.warning("endpoint %s cannot be served: %s", name, why)
        return RoutingTable(revision=str(snapshot.revision), routes=routes, models=cache, problems=problems)

    @staticmethod
    def _route(config: Any, loaded: list[LoadedTarget], missing: list[str]) -> Route:
        mode = str(config.mode)
        primaries = [t for t in loaded if t.role == "primary"]
        if mode == "ab":
            answering = [t for t in loaded if t.role in ("primary", "challenger")]
        else:
            answering = primaries[:1]
        shadows = [t for t in loaded if t.role == "shadow"] if mode == "shadow" else []
        if not answering or (missing and mode != "shadow"):
            why = (
                f"the model of endpoint '{config.name}' could not be loaded ({', '.join(missing)}); "
                "the service log says why"
                if missing
                else f"endpoint '{config.name}' has no primary model; add one to the deployment"
            )
            return Route(config=config, answering=(), weights=(), shadows=(), unavailable=why)
        weights: list[float] = []
        total = 0.0
        for target in answering:
            total += max(float(target.config.weight), 0.0) if mode == "ab" else 1.0
            weights.append(total)
        return Route(
            config=config,
            answering=tuple(answering),
            weights=tuple(weights),
            shadows=tuple(shadows),
        )


def describe(table: RoutingTable) -> dict[str, Any]:
    """A short, log-friendly summary of a table (endpoint -> answering model labels)."""
    return {
        name: [t.label for t in route.answering] or route.unavailable for name, route in table.routes.items()
    }
