"""Test helpers of experiment tracking and the rows of its generated permission suites.

* ``MlflowRouteCase``: one operation of the MLflow-compatible protocol (``/mlflow/<project>/...``,
  URL namespace ``mlflow``) in the MLflow permission suite
  (``tracking/tests/test_mlflow_permissions.py``). From one row the suite checks: anonymous → 401
  ``UNAUTHENTICATED``; outsider → 404 ``RESOURCE_DOES_NOT_EXIST``; members below ``role`` → 403
  ``PERMISSION_DENIED``; the weakest member holding ``role`` → success. Artifacts
  (``tracking.artifacts.testing.ARTIFACT_MLFLOW_ROUTES``) and the registry
  (``registry.testing.REGISTRY_MLFLOW_ROUTES``) describe their operations with the same row type.
* ``TRACKING_MLFLOW_ROUTES``: the rows of the tracking operations (experiments, runs, search…).
* ``TRACKING_PAGE_ROUTES``: the rows of the tracking pages, spliced into core's page suite.
* ``world_experiment(w)``, ``world_run(w)``…: tracking objects of a ``PermissionWorld``, made on
  first use by the contributor (bob).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from modelworks.core.models import Role
from modelworks.core.testing.routes import Access, PageRouteCase, PermissionWorld
from modelworks.tracking.models import Experiment, Run
from modelworks.tracking.services import (
    experiments as experiment_service,
)
from modelworks.tracking.services import (
    logging as log_service,
)
from modelworks.tracking.services import (
    runs as run_service,
)
from modelworks.tracking.validation import MetricPoint

__all__ = [
    "TRACKING_MLFLOW_ROUTES",
    "TRACKING_PAGE_ROUTES",
    "MlflowRouteCase",
    "make_run",
    "world_deleted_experiment",
    "world_deleted_run",
    "world_experiment",
    "world_run",
]

ArgsBuilder = Callable[[PermissionWorld], dict[str, Any]]


def _no_args(world: PermissionWorld) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class MlflowRouteCase:
    """One MLflow protocol operation in the MLflow permission suite.

    Attributes:
        url_name: the namespaced URL name, e.g. ``"mlflow:runs_create"``.
        role: the project role the operation needs (``Role.READER`` reads, ``Role.CONTRIBUTOR`` writes,
            ``Role.ADMIN`` for admin-only operations).
        method: the HTTP method to call it with.
        kwargs: builds the URL's keyword arguments besides ``project`` (e.g. ``{"model_id": ...}``).
        body: builds the JSON body (POST, PATCH, DELETE) or the query string (GET).
        content: builds a raw request body instead of JSON (artifact uploads), sent as
            ``application/octet-stream``.
        ok_statuses: statuses that mean success.
    """

    url_name: str
    role: Role
    method: str = "GET"
    kwargs: ArgsBuilder = _no_args
    body: ArgsBuilder | None = None
    content: Callable[[PermissionWorld], bytes] | None = None
    ok_statuses: tuple[int, ...] = (200,)

    def __str__(self) -> str:
        return f"{self.url_name}[{self.method}]"


_names = itertools.count(1)


def make_run(
    experiment: Experiment,
    actor: Any,
    *,
    name: str = "",
    metrics: dict[str, float] | None = None,
    params: dict[str, str] | None = None,
) -> Run:
    """A run in ``experiment`` through the real services, with some metrics and params logged."""
    run, _ = run_service.create_run(experiment, actor=actor, run_name=name or None)
    stamp = int(time.time() * 1000)
    log_service.log_batch(
        run,
        metrics=[MetricPoint(k, v, stamp, 0) for k, v in (metrics or {}).items()],
        params=list((params or {}).items()),
    )
    return run


def world_experiment(w: PermissionWorld) -> Experiment:
    """The world's experiment "Delay model" with one tag (made on first use, by bob)."""
    if "tracking.experiment" not in w.extra:
        w.extra["tracking.experiment"] = experiment_service.create_experiment(
            w.project, actor=w.users["contributor"], name="Delay model", tags=[("team", "ops")]
        )
    return w.extra["tracking.experiment"]


def world_run(w: PermissionWorld) -> Run:
    """A run of the world's experiment with a metric ``rmse``, a param ``depth`` and a tag ``stage``."""
    if "tracking.run" not in w.extra:
        run = make_run(
            world_experiment(w),
            w.users["contributor"],
            name="baseline",
            metrics={"rmse": 0.4},
            params={"depth": "3"},
        )
        log_service.log_batch(run, tags=[("stage", "dev")])
        w.extra["tracking.run"] = run
    run = w.extra["tracking.run"]
    run.refresh_from_db()
    return run


def world_deleted_experiment(w: PermissionWorld) -> Experiment:
    experiment = experiment_service.create_experiment(
        w.project, actor=w.users["contributor"], name=f"Old idea {next(_names)}"
    )
    return experiment_service.delete_experiment(experiment, actor=w.users["contributor"])


def world_deleted_run(w: PermissionWorld) -> Run:
    run = make_run(world_experiment(w), w.users["contributor"])
    return run_service.delete_run(run, actor=w.users["contributor"])


def _exp(w: PermissionWorld) -> dict[str, Any]:
    return {"experiment_id": str(world_experiment(w).pk)}


def _run(w: PermissionWorld) -> dict[str, Any]:
    return {"run_id": world_run(w).run_uuid}


def _now() -> int:
    return int(time.time() * 1000)


R, C = Role.READER, Role.CONTRIBUTOR

TRACKING_MLFLOW_ROUTES: list[MlflowRouteCase] = [
    MlflowRouteCase("mlflow:server_info", R),
    MlflowRouteCase("mlflow:experiments_create", C, "POST", body=lambda w: {"name": f"Try {next(_names)}"}),
    MlflowRouteCase("mlflow:experiments_get", R, body=_exp),
    MlflowRouteCase(
        "mlflow:experiments_get_by_name", R, body=lambda w: {"experiment_name": world_experiment(w).name}
    ),
    MlflowRouteCase("mlflow:experiments_search", R, "POST", body=lambda w: {"filter": "name LIKE 'Delay%'"}),
    MlflowRouteCase(
        "mlflow:experiments_update",
        C,
        "POST",
        body=lambda w: {**_exp(w), "new_name": f"Renamed {next(_names)}"},
    ),
    MlflowRouteCase("mlflow:experiments_delete", C, "POST", body=_exp),
    MlflowRouteCase(
        "mlflow:experiments_restore",
        C,
        "POST",
        body=lambda w: {"experiment_id": str(world_deleted_experiment(w).pk)},
    ),
    MlflowRouteCase(
        "mlflow:experiments_set_tag", C, "POST", body=lambda w: {**_exp(w), "key": "k", "value": "v"}
    ),
    MlflowRouteCase("mlflow:experiments_delete_tag", C, "POST", body=lambda w: {**_exp(w), "key": "team"}),
    MlflowRouteCase(
        "mlflow:runs_create", C, "POST", body=lambda w: {**_exp(w), "run_name": "r", "start_time": _now()}
    ),
    MlflowRouteCase("mlflow:runs_update", C, "POST", body=lambda w: {**_run(w), "status": "FINISHED"}),
    MlflowRouteCase("mlflow:runs_get", R, body=_run),
    MlflowRouteCase("mlflow:runs_delete", C, "POST", body=_run),
    MlflowRouteCase(
        "mlflow:runs_restore", C, "POST", body=lambda w: {"run_id": world_deleted_run(w).run_uuid}
    ),
    MlflowRouteCase("mlflow:runs_set_tag", C, "POST", body=lambda w: {**_run(w), "key": "k", "value": "v"}),
    MlflowRouteCase("mlflow:runs_delete_tag", C, "POST", body=lambda w: {**_run(w), "key": "stage"}),
    MlflowRouteCase(
        "mlflow:runs_log_metric",
        C,
        "POST",
        body=lambda w: {**_run(w), "key": "loss", "value": 0.5, "timestamp": _now(), "step": 1},
    ),
    MlflowRouteCase(
        "mlflow:runs_log_parameter", C, "POST", body=lambda w: {**_run(w), "key": "lr", "value": "0.1"}
    ),
    MlflowRouteCase(
        "mlflow:runs_log_batch",
        C,
        "POST",
        body=lambda w: {
            **_run(w),
            "metrics": [{"key": "loss", "value": 1, "timestamp": _now()}],
            "params": [{"key": "seed", "value": "1"}],
            "tags": [{"key": "a", "value": "b"}],
        },
    ),
    MlflowRouteCase(
        "mlflow:runs_log_inputs",
        C,
        "POST",
        body=lambda w: {
            **_run(w),
            "datasets": [
                {"dataset": {"name": "flights", "digest": "abc123", "source_type": "local", "source": "{}"}}
            ],
        },
    ),
    MlflowRouteCase(
        "mlflow:runs_log_outputs", C, "POST", body=lambda w: {**_run(w), "models": [{"model_id": "m-1"}]}
    ),
    MlflowRouteCase(
        "mlflow:runs_log_model",
        C,
        "POST",
        body=lambda w: {
            **_run(w),
            "model_json": (
                '{"artifact_path": "model", "flavors": {}, "utc_time_created": "2025-01-01", "run_id": "x"}'
            ),
        },
    ),
    MlflowRouteCase(
        "mlflow:runs_search",
        R,
        "POST",
        body=lambda w: {
            "experiment_ids": [str(world_experiment(w).pk)],
            "filter": "metrics.rmse < 1",
            "order_by": ["metrics.rmse DESC"],
        },
    ),
    MlflowRouteCase("mlflow:metrics_get_history", R, body=lambda w: {**_run(w), "metric_key": "rmse"}),
    # Operations Modelworks does not serve: authenticated like the others, then ENDPOINT_NOT_FOUND.
    MlflowRouteCase(
        "mlflow:not_supported",
        R,
        "POST",
        kwargs=lambda w: {"operation": "api/3.0/mlflow/traces"},
        ok_statuses=(404,),
    ),
]


def _slug(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug}


def _page_exp(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "experiment_id": world_experiment(w).pk}


def _page_run(w: PermissionWorld) -> dict[str, Any]:
    run = world_run(w)
    return {"slug": w.project.slug, "experiment_id": run.experiment_id, "run_id": run.run_uuid}


TRACKING_PAGE_ROUTES: list[PageRouteCase] = [
    PageRouteCase("tracking:experiments", Access.project(Role.READER), _slug),
    PageRouteCase("tracking:experiment", Access.project(Role.READER), _page_exp),
    PageRouteCase(
        "tracking:experiment", Access.project(Role.READER), _page_exp, headers={"HX-Request": "true"}
    ),
    PageRouteCase("tracking:run", Access.project(Role.READER), _page_run),
    PageRouteCase("tracking:compare", Access.project(Role.READER), _page_exp),
]
