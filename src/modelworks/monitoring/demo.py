"""The production part of the demo: once the Lab demo has registered ``late-departures@champion``
(trained on January to June), the model goes to work and is watched.

1. **Batch scoring**: a Flow ``score`` recipe scores ``flights_scoring`` (July to December) with the
   champion, logging every row under its ``flight_id`` at its own ``flight_date``.
2. **Deployment**: the champion is deployed at ``/score/late-departures`` on the scoring service, with
   an endpoint token.
3. **Monitoring**: a monitor compares each month of scored flights with the training data (data and
   prediction drift, data quality) and, with the true outcomes of ``flights_scoring``, the model's
   performance month by month.
4. **Back-test**: the champion evaluated month by month over the whole year (``flights_features``).
5. **Retraining**: ``lab.retrain`` trains the same analysis on January to September
   (``flights_until_september``), compares it with the champion on October to December, and asks the
   demo administrator to approve the promotion; the demo approves it, rebuilds the scores with the
   new champion and computes the monitor again.
6. **Portfolio**: the use case *Late departures* (in production, linked to the project) with its
   realised value computed from the scored flights' prediction log and their true outcomes.

Every step goes through the same services as the pages and the API. ``modelworks demo --headless``
runs the jobs with an in-process worker; the interactive demo waits for the running worker.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TextIO

from django.core.exceptions import ValidationError

from modelworks.core.models import Job, JobState, Project, User

__all__ = ["DEMO_DEPLOYMENT", "run_production_demo"]

DEMO_DEPLOYMENT = "late-departures"
DEMO_MONITOR = "Late departures: scored flights"
_SCORED = "flights_scored"
_FINISHED = (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)

#: Runs queued jobs until the given job ids are finished or the deadline passes.
WaitFor = Callable[[list[Any], float], None]


def wait_with_worker(job_ids: list[Any], deadline: float) -> None:
    """Headless: run the queued jobs here with an in-process worker."""
    from modelworks.core.jobs.worker import run_worker

    while time.monotonic() < deadline:
        run_worker(concurrency=1, burst=True, name="demo-production")
        if not Job.objects.filter(pk__in=job_ids).exclude(state__in=_FINISHED).exists():
            return
        time.sleep(0.5)


def wait_for_worker(job_ids: list[Any], deadline: float) -> None:
    """Interactive: the platform's own worker runs the jobs; wait for them."""
    while time.monotonic() < deadline:
        if not Job.objects.filter(pk__in=job_ids).exclude(state__in=_FINISHED).exists():
            return
        time.sleep(2)


def _job_ok(job_id: Any, what: str, out: TextIO) -> bool:
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.state != JobState.SUCCEEDED:
        state = job.state if job is not None else "missing"
        out.write(f"{what}: {state} ({job.error if job is not None else 'no job'})\n")
        return False
    return True


def _build(project: Project, actor: User, targets: list[Any], wait: WaitFor, deadline: float) -> Any:
    from modelworks.flows.services.builds import submit_build

    build = submit_build(project, actor=actor, targets=targets)
    if build.job_id:
        wait([build.job_id], deadline)
    build.refresh_from_db()
    return build


def _score_recipe(project: Project, actor: User, out: TextIO) -> Any:
    from modelworks.datasets.models import Dataset
    from modelworks.flows.models import Recipe
    from modelworks.flows.services.recipes import create_recipe
    from modelworks.lab.demo import DEMO_MODEL

    existing = Recipe.objects.filter(project=project, name="score_later_flights").first()
    if existing is not None:
        return existing
    later = Dataset.objects.get(project=project, name="flights_scoring")
    recipe = create_recipe(
        project,
        actor=actor,
        name="score_later_flights",
        kind="score",
        inputs=[later],
        outputs=[_SCORED],
        spec={
            "model": DEMO_MODEL,
            "alias": "champion",
            "id_column": "flight_id",
            "time_column": "flight_date",
        },
        description="Score July to December with the champion; every row is logged for monitoring.",
    )
    out.write(f"Created recipe {recipe.name} (score) with {DEMO_MODEL}@champion\n")
    return recipe


def _deploy(project: Project, actor: User, out: TextIO) -> None:
    from modelworks.deployments.models import Deployment
    from modelworks.deployments.services import TargetSpec, create_deployment, issue_token
    from modelworks.lab.demo import DEMO_MODEL

    if Deployment.objects.filter(name=DEMO_DEPLOYMENT).exists():
        return
    deployment = create_deployment(
        project,
        actor=actor,
        name=DEMO_DEPLOYMENT,
        targets=[TargetSpec(model=DEMO_MODEL, alias="champion")],
        title="Late departures",
        description="Will this flight leave more than 15 minutes late?",
    )
    _, raw = issue_token(deployment, actor=actor, name="demo")
    out.write(
        f"Deployed {DEMO_MODEL}@champion at /score/{deployment.name} on the scoring service; a token "
        f"for it (shown once): {raw}\n"
    )


def _monitor(project: Project, actor: User, recipe: Any) -> Any:
    from modelworks.datasets.models import Dataset
    from modelworks.monitoring.models import Monitor
    from modelworks.monitoring.services.monitors import create_monitor

    existing = Monitor.objects.filter(project=project, name=DEMO_MONITOR).first()
    if existing is not None:
        return existing
    return create_monitor(
        project,
        actor=actor,
        name=DEMO_MONITOR,
        description="Each month of scored flights against the January-June training data.",
        recipe=recipe,
        window="month",
        target_column="late",
        labels_source="dataset",
        labels_dataset=Dataset.objects.get(project=project, name="flights_scoring"),
        labels_id_column="flight_id",
        labels_label_column="late",
    )


def _compute(monitor: Any, actor: User, wait: WaitFor, deadline: float, out: TextIO) -> bool:
    from modelworks.monitoring.models import Alert, MonitorPoint
    from modelworks.monitoring.services.monitors import request_compute

    job = request_compute(monitor, actor=actor, recompute=True)
    wait([job.pk], deadline)
    if not _job_ok(job.pk, f"Monitor '{monitor.name}'", out):
        return False
    windows = (
        MonitorPoint.objects.filter(monitor=monitor).order_by().values("window_start").distinct().count()
    )
    breached = MonitorPoint.objects.filter(monitor=monitor, breached=True).count()
    alerts = Alert.objects.filter(monitor=monitor).count()
    out.write(
        f"Monitor '{monitor.name}': {windows} monthly windows computed, {breached} measures past their "
        f"threshold, {alerts} alert(s).\n"
    )
    return True


def _backtest(project: Project, actor: User, wait: WaitFor, deadline: float, out: TextIO) -> bool:
    from modelworks.datasets.models import Dataset
    from modelworks.lab.demo import DEMO_MODEL
    from modelworks.monitoring.models import Backtest
    from modelworks.monitoring.services.backtests import create_backtest
    from modelworks.registry.models import RegisteredModel
    from modelworks.registry.services import get_version_by_alias

    name = "Champion month by month"
    if Backtest.objects.filter(project=project, name=name).exists():
        return True
    features = Dataset.objects.get(project=project, name="flights_features")
    model = RegisteredModel.objects.get(project=project, name=DEMO_MODEL)
    backtest = create_backtest(
        project,
        actor=actor,
        name=name,
        dataset_version=features.current_version,
        time_column="flight_date",
        target_column="late",
        model_versions=[get_version_by_alias(model, "champion")],
        window="month",
    )
    wait([backtest.job_id], deadline)
    if not _job_ok(backtest.job_id, f"Back-test '{name}'", out):
        return False
    out.write(f"Back-test '{name}': done (see Monitoring > Back-tests).\n")
    return True


def _retrain(project: Project, actor: User, wait: WaitFor, deadline: float, out: TextIO) -> bool:
    from modelworks.core.jobs import enqueue
    from modelworks.datasets.models import Dataset
    from modelworks.lab.demo import DEMO_MODEL
    from modelworks.registry.models import PromotionRequest
    from modelworks.registry.services.promotion import approve

    fresh = Dataset.objects.get(project=project, name="flights_until_september")
    later = Dataset.objects.get(project=project, name="flights_scoring")
    job = enqueue(
        "lab.retrain",
        title=f"Retrain {DEMO_MODEL} on January-September",
        project=project,
        created_by=actor,
        params={
            "model": DEMO_MODEL,
            "alias": "champion",
            "dataset": fresh.pk,
            "evaluation": {
                "dataset": later.pk,
                "time_column": "flight_date",
                "start": "2013-10-01",
                "end": "2013-12-31",
            },
            "policy": "approval",
            "approver": actor.get_username(),
        },
    )
    wait([job.pk], deadline)
    if not _job_ok(job.pk, "Retraining", out):
        return False
    job.refresh_from_db()
    result = job.result or {}
    out.write(f"Retraining: {job.progress_message or result.get('decision', 'done')}\n")
    pending = (
        PromotionRequest.objects.filter(registered_model__project=project, status="pending")
        .order_by("-pk")
        .first()
    )
    if pending is None:
        return True
    approve(pending, actor=actor, comment="Better on October to December: approved in the demo.")
    out.write(
        f"Promotion request #{pending.pk} approved: {DEMO_MODEL}@champion is now version "
        f"{pending.candidate.version}.\n"
    )
    return True


def _governance(project: Project, actor: User, recipe: Any, out: TextIO) -> bool:
    """The use case in the portfolio, and its realised value from the scored flights' log."""
    from decimal import Decimal

    from modelworks.governance.models import UseCase
    from modelworks.governance.services.portfolio import create_use_case
    from modelworks.governance.services.value import compute_definition, create_definition
    from modelworks.governance.services.value_compute import RealisedValueError

    if UseCase.objects.filter(slug="late-departures").exists():
        return True
    use_case = create_use_case(
        actor=actor,
        title="Late departures",
        slug="late-departures",
        stage="production",
        projects=[project],
        business_unit="Operations",
        business_owner=actor,
        sponsor="Head of ground operations",
        problem_statement="Flights that leave more than 15 minutes late cost crew overtime and missed "
        "connections; knowing them the day before lets the ground team prepare.",
        expected_value_recurring=Decimal("2500000"),
        value_formula="late departures caught the day before × 40 minutes saved × €1.50 a minute",  # noqa: RUF001
        value_assumptions="About 28,000 late departures a year caught the day before at the three New York "
        "airports; 40 minutes of crew and gate time saved on each, at €1.50 a minute.",
        cost_people_days=Decimal("40"),
        feasibility_score=4,
        data_readiness_score=5,
    )
    definition = create_definition(
        use_case,
        actor=actor,
        source=f"recipe:{recipe.pk}",
        name="Late departures caught in time",
        kind="prediction_log",
        row_filter="prediction = 'true' and label = 'true'",
        value_per_row="40 * 1.5",
        period="month",
        description="Each flight predicted late that really left late saves 40 minutes at €1.50.",
    )
    from modelworks.datasets.models import Dataset

    labels = Dataset.objects.get(project=project, name="flights_scoring")
    definition.details = {
        **(definition.details or {}),
        "labels": {"dataset": labels.pk, "id_column": "flight_id", "label_column": "late"},
    }
    definition.save(update_fields=["details"])
    try:
        result = compute_definition(definition, actor=actor)
    except RealisedValueError as exc:
        out.write(f"Realised value of '{use_case.title}': {exc.message}\n")
        return False
    out.write(f"Portfolio: use case '{use_case.title}' in production; realised value: {result.message}\n")
    return True


def run_production_demo(
    project: Project, actor: User, out: TextIO, deadline: float, wait: WaitFor = wait_with_worker
) -> bool:
    """Score, deploy, monitor, back-test and retrain the demo model. True when every step succeeded.

    Idempotent: a second run reuses the recipe, deployment and monitor it finds and retrains nothing
    when the deployment exists already.
    """
    from modelworks.datasets.models import Dataset
    from modelworks.deployments.models import Deployment

    if Deployment.objects.filter(name=DEMO_DEPLOYMENT).exists():
        out.write(f"Production demo: /score/{DEMO_DEPLOYMENT} exists already; nothing to do.\n")
        return True
    try:
        recipe = _score_recipe(project, actor, out)
        scored = Dataset.objects.get(project=project, name=_SCORED)
        build = _build(project, actor, [scored], wait, deadline)
        if build.status != "succeeded":
            out.write(f"Scoring build {build.pk}: {build.status} ({build.error})\n")
            return False
        out.write(f"Scored July-December with the champion (build {build.pk}).\n")
        _deploy(project, actor, out)
        monitor = _monitor(project, actor, recipe)
        ok = _compute(monitor, actor, wait, deadline, out)
        ok = _backtest(project, actor, wait, deadline, out) and ok
        if not _retrain(project, actor, wait, deadline, out):
            return False
        rebuilt = _build(project, actor, [scored], wait, deadline)
        out.write(f"Rescored with the current champion (build {rebuilt.pk}: {rebuilt.status}).\n")
        ok = _compute(monitor, actor, wait, deadline, out) and ok and rebuilt.status == "succeeded"
        ok = _governance(project, actor, recipe, out) and ok
    except ValidationError as exc:
        out.write(f"The production demo stopped: {' '.join(exc.messages)}\n")
        return False
    return ok
