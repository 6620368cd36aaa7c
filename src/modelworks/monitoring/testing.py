"""Test helpers of the monitoring app, and its rows of the generated permission suite.

``MONITORING_API_ROUTES`` and ``MONITORING_PAGE_ROUTES`` are spliced into
``modelworks.core.testing.api_routes`` / ``page_routes``.

* ``world_monitor(w)``: a deployment of a registered model version (database rows only: no model
  files, nothing served) watched by a monitor whose reference is the world's dataset, with one alert.
* ``world_backtest(w)``: a back-test of that version on the world's dataset (never run).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from modelworks.core.models import Role
from modelworks.core.testing.routes import Access, ApiRouteCase, PageRouteCase, PermissionWorld
from modelworks.datasets.testing import world_dataset
from modelworks.monitoring.models import Alert, Backtest, Metric, Monitor

__all__ = [
    "MONITORING_API_ROUTES",
    "MONITORING_PAGE_ROUTES",
    "world_alert",
    "world_backtest",
    "world_model_version",
    "world_monitor",
]

READER = Access.project(Role.READER)
CONTRIBUTOR = Access.project(Role.CONTRIBUTOR)
ADMIN = Access.project(Role.ADMIN)
REDIRECTED = (303,)


def world_model_version(w: PermissionWorld) -> Any:
    if "monitoring.version" not in w.extra:
        from modelworks.registry.models import ModelVersion, RegisteredModel

        model = RegisteredModel.objects.create(
            project=w.project, name="delays", created_by=w.users["contributor"]
        )
        w.extra["monitoring.version"] = ModelVersion.objects.create(
            registered_model=model,
            version=1,
            source="mlflow-artifacts:/1/m-none/artifacts",
            storage_location="mlflow-artifacts:/1/m-none/artifacts",
            training_dataset_version=world_dataset(w).versions.get(number=1),
            metrics={"rmse": 10.0},
        )
    return w.extra["monitoring.version"]


def world_monitor(w: PermissionWorld) -> Monitor:
    if "monitoring.monitor" not in w.extra:
        from modelworks.deployments.models import Deployment, DeploymentTarget

        version = world_model_version(w)
        deployment = Deployment.objects.create(
            project=w.project, name="delays-api", created_by=w.users["admin"]
        )
        DeploymentTarget.objects.create(
            deployment=deployment,
            registered_model=version.registered_model,
            model_version=version,
            role="primary",
        )
        w.extra["monitoring.deployment"] = deployment
        w.extra["monitoring.monitor"] = Monitor.objects.create(
            project=w.project,
            name="Delays in production",
            deployment=deployment,
            created_by=w.users["contributor"],
        )
    return w.extra["monitoring.monitor"]


def world_alert(w: PermissionWorld) -> Alert:
    if "monitoring.alert" not in w.extra:
        monitor = world_monitor(w)
        start = datetime(2024, 1, 1, tzinfo=UTC)
        w.extra["monitoring.alert"] = Alert.objects.create(
            project=w.project,
            monitor=monitor,
            metric=Metric.DATA_DRIFT,
            feature="distance",
            test="ks",
            window_start=start,
            last_window_end=datetime(2024, 1, 2, tzinfo=UTC),
            value=0.01,
            threshold=0.05,
            message="Delays in production: input 'distance' drifted.",
        )
    return w.extra["monitoring.alert"]


def world_backtest(w: PermissionWorld) -> Backtest:
    if "monitoring.backtest" not in w.extra:
        backtest = Backtest.objects.create(
            project=w.project,
            name="Winter",
            dataset_version=world_dataset(w).versions.get(number=1),
            time_column="day",
            target_column="dep_delay",
            created_by=w.users["contributor"],
        )
        backtest.model_versions.set([world_model_version(w)])
        w.extra["monitoring.backtest"] = backtest
    return w.extra["monitoring.backtest"]


def _project(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug}


def _monitor(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "monitor_id": world_monitor(w).pk}


def _alert(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "alert_id": world_alert(w).pk}


def _backtest(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "backtest_id": world_backtest(w).pk}


def _monitor_page(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "pk": world_monitor(w).pk}


def _backtest_page(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "pk": world_backtest(w).pk}


def _new_monitor(w: PermissionWorld) -> dict[str, Any]:
    world_monitor(w)
    return {"name": "Second look", "deployment": "delays-api", "reference_dataset": world_dataset(w).pk}


def _new_monitor_form(w: PermissionWorld) -> dict[str, Any]:
    monitor = world_monitor(w)
    return {
        "name": "Second look",
        "source": f"deployment:{monitor.deployment_id}",
        "window": "week",
        "labels_source": "none",
        "performance_margin": "0.1",
        "quality_tolerance": "0.05",
    }


def _new_backtest(w: PermissionWorld) -> dict[str, Any]:
    world_model_version(w)
    return {
        "name": "Spring",
        "dataset": world_dataset(w).pk,
        "time_column": "day",
        "target_column": "dep_delay",
        "model_versions": ["delays/1"],
    }


def _new_backtest_form(w: PermissionWorld) -> dict[str, Any]:
    version = world_model_version(w)
    return {
        "name": "Spring",
        "dataset_version": str(world_dataset(w).versions.get(number=1).pk),
        "time_column": "day",
        "target_column": "dep_delay",
        "model_versions": [str(version.pk)],
        "window": "month",
    }


MONITORING_API_ROUTES: list[ApiRouteCase] = [
    ApiRouteCase("monitoring_monitors_list", READER, _project),
    ApiRouteCase("monitoring_monitors_create", CONTRIBUTOR, _project, body=_new_monitor, ok_status=201),
    ApiRouteCase("monitoring_monitors_get", READER, _monitor),
    ApiRouteCase(
        "monitoring_monitors_update", CONTRIBUTOR, _monitor, body=lambda w: {"description": "Watched."}
    ),
    ApiRouteCase("monitoring_monitors_delete", ADMIN, _monitor, ok_status=204),
    ApiRouteCase("monitoring_monitors_compute", CONTRIBUTOR, _monitor, body=lambda w: {}, ok_status=202),
    ApiRouteCase("monitoring_points_list", READER, _monitor),
    ApiRouteCase("monitoring_alerts_list", READER, _project),
    ApiRouteCase("monitoring_alerts_acknowledge", CONTRIBUTOR, _alert),
    ApiRouteCase("monitoring_backtests_list", READER, _project),
    ApiRouteCase("monitoring_backtests_create", CONTRIBUTOR, _project, body=_new_backtest, ok_status=202),
    ApiRouteCase("monitoring_backtests_get", READER, _backtest),
    ApiRouteCase("monitoring_backtests_delete", ADMIN, _backtest, ok_status=204),
]

MONITORING_PAGE_ROUTES: list[PageRouteCase] = [
    PageRouteCase("monitoring:overview", READER, _project),
    PageRouteCase("monitoring:create", CONTRIBUTOR, _project),
    PageRouteCase(
        "monitoring:create",
        CONTRIBUTOR,
        _project,
        method="POST",
        data=_new_monitor_form,
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("monitoring:detail", READER, _monitor_page),
    PageRouteCase("monitoring:detail", READER, _monitor_page, headers={"HX-Request": "true"}),
    PageRouteCase("monitoring:edit", CONTRIBUTOR, _monitor_page),
    PageRouteCase(
        "monitoring:edit",
        CONTRIBUTOR,
        _monitor_page,
        method="POST",
        data=lambda w: {**_new_monitor_form(w), "name": "Delays in production"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("monitoring:compute", CONTRIBUTOR, _monitor_page, method="POST", ok_statuses=REDIRECTED),
    PageRouteCase("monitoring:delete", ADMIN, _monitor_page, method="POST", ok_statuses=REDIRECTED),
    PageRouteCase("monitoring:alerts", READER, _project),
    PageRouteCase(
        "monitoring:acknowledge",
        CONTRIBUTOR,
        lambda w: {"slug": w.project.slug, "alert_id": world_alert(w).pk},
        method="POST",
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("monitoring:backtests", READER, _project),
    PageRouteCase(
        "monitoring:backtests",
        CONTRIBUTOR,
        _project,
        method="POST",
        data=_new_backtest_form,
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("monitoring:backtest", READER, _backtest_page),
]
