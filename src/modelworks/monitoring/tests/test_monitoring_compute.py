"""Computing monitors over a real prediction log: drift, quality, performance from feedback, points
stored idempotently, alerts raised once per breach and notified (webhook, e-mail), the schedule."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from modelworks.core.models import Job, JobState, Project, User
from modelworks.datasets.testing import run_queued_jobs
from modelworks.monitoring import services
from modelworks.monitoring.models import Alert, AlertStatus, Metric, Monitor, MonitorPoint
from modelworks.monitoring.services.scheduling import tick
from modelworks.monitoring.tests.helpers import DAY1, DAY2, World, make_world, write_day
from modelworks.scenarios.tests.servers import hook_server

# Fixtures (pytest takes pytest_plugins only in test modules and the top-level conftest).
pytest_plugins = ["modelworks.core.testing.fixtures"]

NOW = datetime(2024, 3, 5, 18, 0, tzinfo=UTC)


@pytest.fixture
def world(project: Project, bob: User) -> World:
    world = make_world(project, bob)
    write_day(world, DAY1, shift=0.0, cities=["Lyon", "Paris", "Nantes"], seed=1)
    ids = write_day(world, DAY2, shift=25.0, cities=["Lyon", "Marseille"], seed=2)
    from modelworks.deployments.models import Feedback

    # The truth of day 2: the model is wrong on most rows (every one is actually "no").
    Feedback.objects.bulk_create([Feedback(deployment=world.deployment, row_id=i, label="no") for i in ids])
    return world


def _monitor(world: World, bob: User, **values: Any) -> Monitor:
    return services.create_monitor(
        world.project,
        actor=bob,
        name="Lateness",
        deployment=world.deployment,
        labels_source="feedback",
        **values,
    )


def test_compute_measures_each_window_against_the_training_data(world: World, bob: User) -> None:
    monitor = _monitor(world, bob)
    result = services.compute_monitor(monitor, now=NOW)

    assert result.windows == 2
    day1 = {
        (p.metric, p.feature, p.test): p
        for p in MonitorPoint.objects.filter(monitor=monitor, window_start__day=4)
    }
    day2 = {
        (p.metric, p.feature, p.test): p
        for p in MonitorPoint.objects.filter(monitor=monitor, window_start__day=5)
    }
    assert day1[(Metric.ROWS, "", "")].value == 300
    # Defaults: the features are the signature's inputs, the test is chosen by sample size (≤ 1000 rows: KS, chi²).
    x1 = next(p for k, p in day1.items() if k[:2] == (Metric.DATA_DRIFT, "x"))
    x2 = next(p for k, p in day2.items() if k[:2] == (Metric.DATA_DRIFT, "x"))
    city2 = next(p for k, p in day2.items() if k[:2] == (Metric.DATA_DRIFT, "city"))
    assert (x1.test, x1.breached) == ("ks", False)
    assert (
        (x2.test, x2.breached) == ("ks", True) and x2.p_value < 0.05 and x2.threshold == pytest.approx(0.05)
    )
    assert city2.test == "chisquare" and city2.breached
    assert x2.details["histogram"]["reference"] and x2.details["n_current"] == 300
    assert day2[(Metric.DRIFT_SHARE, "", "")].value == 1.0
    # Quality: 'Marseille' was never seen in the reference.
    unseen = day2[(Metric.QUALITY, "city", "unseen_category")]
    assert unseen.breached and unseen.value > 0.3
    # Performance from feedback (day 2 only), against the registered accuracy 0.95 minus 10 %.
    accuracy = day2[(Metric.PERFORMANCE, "", "accuracy")]
    assert accuracy.details["labelled_rows"] == 300 and accuracy.value < 0.2
    # Only the watched metric (the task's default, ROC AUC, undefined with one true class) has a limit.
    assert accuracy.threshold is None and not accuracy.details["watched"]
    assert not any(k[0] == Metric.PERFORMANCE for k in day1)
    # Prediction drift against the first window (no outcome column given).
    pred = day2[next(k for k in day2 if k[0] == Metric.PREDICTION_DRIFT)]
    assert pred.details["basis"] == "first window" and pred.breached
    monitor.refresh_from_db()
    assert monitor.computed_until == datetime(2024, 3, 5, tzinfo=UTC)  # day 2 is still in progress
    assert monitor.health == "alert"


def test_points_are_replaced_and_alerts_raised_once(world: World, bob: User) -> None:
    monitor = _monitor(world, bob, performance_metric="accuracy")
    first = services.compute_monitor(monitor, now=NOW)
    points = MonitorPoint.objects.filter(monitor=monitor).count()
    alerts = set(Alert.objects.filter(monitor=monitor).values_list("metric", "feature", "test"))
    assert len(first.alerts) == len(alerts) > 0
    assert (Metric.DATA_DRIFT, "x", "ks") in alerts and (Metric.PERFORMANCE, "", "accuracy") in alerts
    assert (Metric.DATA_DRIFT, "x", "ks") not in {
        (a.metric, a.feature, a.test) for a in Alert.objects.filter(monitor=monitor, window_start__day=4)
    }

    again = services.compute_monitor(monitor, now=NOW)
    redo = services.compute_monitor(monitor, now=NOW, recompute=True)
    assert again.alerts == [] and redo.alerts == []
    assert MonitorPoint.objects.filter(monitor=monitor).count() == points
    assert Alert.objects.filter(monitor=monitor).count() == len(alerts)
    message = Alert.objects.get(monitor=monitor, metric=Metric.DATA_DRIFT, feature="x").message
    assert "Lateness" in message and "retrain" in message


def test_a_breach_that_lasts_is_one_alert_and_resolves_when_back_to_normal(world: World, bob: User) -> None:
    monitor = _monitor(world, bob)
    services.compute_monitor(monitor, now=NOW)
    day3 = datetime(2024, 3, 6, 10, 0, tzinfo=UTC)
    day4 = datetime(2024, 3, 7, 10, 0, tzinfo=UTC)
    write_day(world, day3, shift=25.0, cities=["Lyon"], seed=3)
    write_day(world, day4, shift=0.0, cities=["Lyon", "Paris", "Nantes"], seed=1)
    services.compute_monitor(monitor, now=datetime(2024, 3, 8, 1, 0, tzinfo=UTC))

    alert = Alert.objects.get(monitor=monitor, metric=Metric.DATA_DRIFT, feature="x")
    assert alert.windows == 2
    assert alert.status == AlertStatus.RESOLVED and alert.resolved_at is not None
    monitor.refresh_from_db()
    assert monitor.computed_until == datetime(2024, 3, 8, tzinfo=UTC)


def test_alerts_are_notified_by_webhook_and_email_and_failures_are_recorded(
    world: World, bob: User, settings: Any
) -> None:
    settings.MODELWORKS_WEBHOOK_ALLOWLIST = ["127.0.0.1"]
    settings.MODELWORKS_WEBHOOK_ALLOW_HTTP = True
    settings.MODELWORKS_EMAIL_ENABLED = True
    with hook_server() as hooks:
        monitor = _monitor(world, bob, webhook_url=hooks.url(), email_recipients=["ops@example.test"])
        result = services.compute_monitor(monitor, now=NOW)
    assert len(hooks.received) == 1
    body = hooks.received[0]
    assert body["monitor"] == "Lateness" and len(body["alerts"]) == len(result.alerts)
    assert body["url"].startswith("https://ai.example.test/projects/")
    assert len(mail.outbox) == 1 and "Lateness" in mail.outbox[0].subject
    channels = {n["channel"]: n["ok"] for n in Alert.objects.filter(monitor=monitor).first().notifications}
    assert channels == {"in-app": True, "webhook": True, "email": True}

    with hook_server() as hooks:
        failing = services.create_monitor(
            world.project,
            actor=bob,
            name="Failing hook",
            deployment=world.deployment,
            webhook_url=hooks.url("/fail"),
        )
        services.compute_monitor(failing, now=NOW)
    notes = {n["channel"]: n for n in Alert.objects.filter(monitor=failing).first().notifications}
    assert notes["webhook"]["ok"] is False and "HTTP 500" in notes["webhook"]["detail"]


def test_labels_from_a_dataset_are_joined_on_the_row_id(world: World, bob: User) -> None:
    from modelworks.datasets.testing import make_dataset
    from modelworks.deployments.models import Feedback

    Feedback.objects.all().delete()
    labels = b"id,truth\n" + b"".join(f"05-{i},yes\n".encode() for i in range(300))
    dataset = make_dataset(world.project, bob, name="truth", content=labels, file_name="truth.csv")
    monitor = services.create_monitor(
        world.project,
        actor=bob,
        name="With labels",
        deployment=world.deployment,
        labels_source="dataset",
        labels_dataset=dataset,
        labels_id_column="id",
        labels_label_column="truth",
    )
    services.compute_monitor(monitor, now=NOW)
    accuracy = MonitorPoint.objects.get(monitor=monitor, metric=Metric.PERFORMANCE, test="accuracy")
    assert accuracy.details["labelled_rows"] == 300 and accuracy.value > 0.9


@pytest.mark.parametrize(
    ("values", "field", "match"),
    [
        ({"name": ""}, "name", "Give the monitor a name"),
        ({"deployment": None}, "deployment", "exactly one source"),
        ({"window": "hour"}, "window", "is not a window"),
        ({"labels_source": "dataset"}, "labels_dataset", "Choose the dataset"),
        ({"drift_tests": {"x": "t-test"}}, "drift_tests", "psi, ks"),
        ({"drift_thresholds": {"x": -1}}, "drift_thresholds", "positive number"),
        ({"performance_metric": "lift"}, "performance_metric", "'lift' is not a metric"),
        ({"performance_margin": 3}, "performance_margin", "between 0 and 1"),
        ({"webhook_url": "https://hooks.example.test/x"}, "webhook_url", "MODELWORKS_WEBHOOK_ALLOWLIST"),
        ({"email_recipients": ["not-an-address"]}, "email_recipients", "is not an e-mail address"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(
    world: World, bob: User, values: dict[str, Any], field: str, match: str
) -> None:
    settings_ = {"name": "Bad", "deployment": world.deployment, **values}
    with pytest.raises(ValidationError, match=match) as caught:
        services.create_monitor(world.project, actor=bob, **settings_)
    assert field in caught.value.message_dict


def test_a_monitor_without_reference_data_fails_with_a_plain_message(world: World, bob: User) -> None:
    type(world.version).objects.filter(pk=world.version.pk).update(training_dataset_version=None)
    monitor = _monitor(world, bob)
    services.request_compute(monitor, actor=bob)
    job = run_queued_jobs()[-1]
    assert job.state == JobState.FAILED
    assert "no reference data" in job.error and "Choose a reference dataset version" in job.error
    monitor.refresh_from_db()
    assert monitor.health == "error"


def test_the_schedule_queues_due_monitors_once_and_the_job_computes(world: World, bob: User) -> None:
    monitor = _monitor(world, bob)
    queued = tick()
    assert [j.kind for j in queued] == ["monitoring.compute"]
    assert tick() == []  # claimed: not queued twice
    job = run_queued_jobs()[-1]
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.result["windows"] >= 2
    monitor.refresh_from_db()
    assert monitor.next_run_at is not None and monitor.last_job_id == job.pk
    assert Job.objects.filter(kind="monitoring.compute").count() == 1


def test_api_and_pages_show_the_results(world: World, bob: User, carol: User, api_client: Any) -> None:
    from django.test import Client

    monitor = _monitor(world, bob)
    services.compute_monitor(monitor, now=NOW)
    reader = api_client(carol)
    listed = reader.get(f"/projects/{world.project.slug}/monitors").json()
    assert listed["items"][0]["health"] == "alert" and listed["items"][0]["source"]["name"] == "lateness-api"
    points = reader.get(
        f"/projects/{world.project.slug}/monitors/{monitor.pk}/points", metric="data_drift"
    ).json()
    assert {p["feature"] for p in points["items"]} == {"x", "city"}
    alert = Alert.objects.filter(monitor=monitor, status="open").first()
    acked = api_client(bob).post(f"/projects/{world.project.slug}/alerts/{alert.pk}/acknowledge")
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    assert acked.json()["acknowledged_by"]["username"] == "bob"

    client = Client()
    client.force_login(carol)
    page = client.get(f"/projects/{world.project.slug}/monitoring/monitors/{monitor.pk}/?window=2024-03-05")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Kolmogorov-Smirnov" in html and "<svg" in html and "mw-threshold" in html
    assert "Needs attention" in html
    overview = client.get(f"/projects/{world.project.slug}/monitoring/").content.decode()
    assert "Lateness" in overview and "Needs attention" in overview
