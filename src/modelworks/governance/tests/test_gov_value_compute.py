"""Realised value computed from a real prediction log (written by ``PredictionLogWriter``) joined with
real feedback rows (``record_feedback``): the numbers are checked by hand below; formula errors,
a deleted deployment, an empty log, atomic recomputation and the periodic schedule.

The log of deployment ``late-flights`` (predictions "late" / "on_time", feature ``distance``):

=======  ===================  ==========  ========  ========  ===================================
row      scored (UTC)         prediction  label     distance  "predicted late and really late"
=======  ===================  ==========  ========  ========  ===================================
r1       Mon 2026-01-12       late        late      500       yes
r2       Mon 2026-01-12       late        on_time   700       no
r3       Mon 2026-01-12       on_time     late      1200      no
r4       Mon 2026-01-12       late        (none)    400       no
r5       Wed 2026-01-28       late        late      800       yes
r6       Wed 2026-01-28       late        late      300       yes
r7       Tue 2026-02-03       late        late      1000      yes
r8       Tue 2026-02-03       on_time     on_time   900       no
=======  ===================  ==========  ========  ========  ===================================

At 12 minutes avoided x €0.80 a minute = €9.60 a row: January 3 rows → €28.80, February 1 → €9.60.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from modelworks.core.models import AuditEvent, Job, Project, User
from modelworks.deployments.models import Deployment
from modelworks.deployments.services.feedback import record_feedback
from modelworks.governance.models import ValueDefinition, ValueMeasurement
from modelworks.governance.services import value as values
from modelworks.governance.services.value_compute import (
    RealisedValueError,
    ValueFormulaError,
    compile_value,
    compute_log_value,
    default_columns,
)
from modelworks.governance.services.value_schedule import tick
from modelworks.governance.testing_value import log_predictions, make_use_case

pytestmark = pytest.mark.django_db
pytest_plugins = ["modelworks.core.testing.fixtures"]

LATE_AND_LATE = "prediction = 'late' and label = 'late'"
ROWS = [
    (
        datetime(2026, 1, 12, 9),
        [("r1", "late", 500), ("r2", "late", 700), ("r3", "on_time", 1200), ("r4", "late", 400)],
    ),
    (datetime(2026, 1, 28, 17), [("r5", "late", 800), ("r6", "late", 300)]),
    (datetime(2026, 2, 3, 8, 30), [("r7", "late", 1000), ("r8", "on_time", 900)]),
]
LABELS = {
    "r1": "late",
    "r2": "on_time",
    "r3": "late",
    "r5": "late",
    "r6": "late",
    "r7": "late",
    "r8": "on_time",
}


@pytest.fixture
def root(settings: Any, tmp_path: Path) -> Path:
    settings.MODELWORKS_PREDICTIONS_DIR = tmp_path / "predictions"
    return tmp_path / "predictions"


@pytest.fixture
def deployment(project: Project, bob: User, root: Path) -> Deployment:
    deployment = Deployment.objects.create(project=project, name="late-flights", created_by=bob)
    log_predictions(
        root,
        deployment.prediction_source,
        [(ts, [{"row_id": r, "prediction": p, "distance": d} for r, p, d in rows]) for ts, rows in ROWS],
    )
    record_feedback(deployment, [{"row_id": r, "label": lab} for r, lab in LABELS.items()], actor=bob)
    return deployment


@pytest.fixture
def use_case(project: Project, alice: User) -> Any:
    return make_use_case(
        "on-time-departures",
        stage="production",
        owner=alice,
        projects=(project,),
        expected_value_recurring=Decimal("120000"),
    )


def define(use_case: Any, deployment: Deployment, actor: User, **fields: Any) -> ValueDefinition:
    values_ = {
        "name": "Avoided delays",
        "kind": "prediction_log",
        "row_filter": LATE_AND_LATE,
        "value_per_row": "12 * 0.8",
    }
    values_.update(fields)
    return values.create_definition(use_case, actor=actor, source=f"deployment:{deployment.pk}", **values_)


def stored(definition: ValueDefinition) -> list[tuple[date, date, Decimal, int | None]]:
    return [
        (m.period_start, m.period_end, m.value, m.rows)
        for m in ValueMeasurement.objects.filter(definition=definition).order_by("period_start")
    ]


def test_monthly_value_of_rows_predicted_late_and_really_late(
    use_case: Any, deployment: Deployment, alice: User
) -> None:
    definition = define(use_case, deployment, alice)
    result = values.compute_definition(definition, actor=alice)
    assert stored(definition) == [
        (date(2026, 1, 1), date(2026, 1, 31), Decimal("28.80"), 3),
        (date(2026, 2, 1), date(2026, 2, 28), Decimal("9.60"), 1),
    ]
    assert (result.periods, result.rows, result.total) == (2, 8, Decimal("38.40"))
    notes = list(
        ValueMeasurement.objects.filter(definition=definition)
        .order_by("period_start")
        .values_list("note", flat=True)
    )
    assert notes == [
        "3 of 6 logged rows matched; 5 had feedback",
        "1 of 2 logged rows matched; 2 had feedback",
    ]
    event = AuditEvent.objects.filter(action="governance.value_computed").latest("id")
    assert event.details["total"] == "38.40" and event.outcome == "success"


def test_value_per_row_from_a_feature_and_weekly_periods(
    use_case: Any, deployment: Deployment, alice: User
) -> None:
    by_distance = define(
        use_case,
        deployment,
        alice,
        name="Distance",
        row_filter="label = 'late'",
        value_per_row="distance / 100",
    )
    values.compute_definition(by_distance, actor=alice)
    # January: r1 500 + r3 1200 + r5 800 + r6 300 = 2800 → 28; February: r7 1000 → 10.
    assert [(s, v) for s, _, v, _ in stored(by_distance)] == [
        (date(2026, 1, 1), Decimal("28.00")),
        (date(2026, 2, 1), Decimal("10.00")),
    ]

    weekly = define(use_case, deployment, alice, name="Weekly", period="week")
    values.compute_definition(weekly, actor=alice)
    # Weeks start on Monday: 12 Jan (r1), 26 Jan (r5, r6), 2 Feb (r7).
    assert stored(weekly) == [
        (date(2026, 1, 12), date(2026, 1, 18), Decimal("9.60"), 1),
        (date(2026, 1, 26), date(2026, 2, 1), Decimal("19.20"), 2),
        (date(2026, 2, 2), date(2026, 2, 8), Decimal("9.60"), 1),
    ]


def test_every_row_counts_without_a_filter_and_unlabelled_rows_are_null(
    use_case: Any, deployment: Deployment, alice: User
) -> None:
    everything = define(use_case, deployment, alice, name="All", row_filter="", value_per_row="1")
    values.compute_definition(everything, actor=alice)
    assert [(v, n) for _, _, v, n in stored(everything)] == [(Decimal("6.00"), 6), (Decimal("2.00"), 2)]
    missing = define(
        use_case, deployment, alice, name="Waiting", row_filter="label = null", value_per_row="1"
    )
    values.compute_definition(missing, actor=alice)
    assert [(v, n) for _, _, v, n in stored(missing)] == [
        (Decimal("1.00"), 1),
        (Decimal("0.00"), 0),
    ]  # r4 only


def test_recompute_replaces_and_a_failed_one_keeps_the_previous_values(
    use_case: Any, deployment: Deployment, alice: User, bob: User
) -> None:
    definition = define(use_case, deployment, alice)
    values.compute_definition(definition, actor=alice)
    # A late label arrives for r4 (predicted late): January now has 4 matching rows.
    record_feedback(deployment, [{"row_id": "r4", "label": "late"}], actor=bob)
    values.compute_definition(definition, actor=alice)
    assert [(v, n) for _, _, v, n in stored(definition)] == [(Decimal("38.40"), 4), (Decimal("9.60"), 1)]
    assert ValueMeasurement.objects.filter(definition=definition).count() == 2

    # A formula broken behind the form's back: nothing is replaced, the error is remembered.
    ValueDefinition.objects.filter(pk=definition.pk).update(value_per_row="distanse * 2")
    definition.refresh_from_db()
    with pytest.raises(
        ValueFormulaError, match=r"unknown column 'distanse' at position 1; did you mean 'distance'\?"
    ):
        values.compute_definition(definition, actor=alice)
    assert [(v, n) for _, _, v, n in stored(definition)] == [(Decimal("38.40"), 4), (Decimal("9.60"), 1)]
    definition.refresh_from_db()
    assert definition.details["last_error"]["field"] == "value_per_row"
    assert AuditEvent.objects.filter(action="governance.value_computed", outcome="failure").count() == 1


def test_a_deleted_deployment_and_an_empty_log_are_explained(
    use_case: Any, deployment: Deployment, alice: User, project: Project
) -> None:
    definition = define(use_case, deployment, alice)
    values.compute_definition(definition, actor=alice)
    deployment.delete()
    definition.refresh_from_db()
    with pytest.raises(
        RealisedValueError,
        match=r"deployment 'late-flights' whose prediction log 'Avoided delays' read has been deleted",
    ):
        values.compute_definition(definition, actor=alice)
    assert len(stored(definition)) == 2  # earlier measurements stay

    quiet = Deployment.objects.create(project=project, name="quiet", created_by=alice)
    empty = define(use_case, quiet, alice, name="Nothing yet")
    with pytest.raises(
        RealisedValueError,
        match=r"prediction log of deployment 'quiet' is empty: no prediction has been logged yet",
    ) as caught:
        values.compute_definition(empty, actor=alice)
    assert caught.value.code == "empty_log"


BAD_FORMULAS = [
    (
        "prediction = ",
        "12",
        "row_filter",
        r"row filter: the formula ends too early, after '=' at position 12",
    ),
    (
        "predicton = 'late'",
        "12",
        "row_filter",
        r"unknown column 'predicton' at position 1; did you mean 'prediction'\?",
    ),
    ("(label = 'late'", "12", "row_filter", r"unbalanced parentheses: '\(' at position 1 is never closed"),
    (
        "label = 'late' label",
        "12",
        "row_filter",
        r"unexpected 'label' at position 16; is an operator or a comma missing\?",
    ),
    ("prediction", "12", "row_filter", r"gives a text, but a row filter must be a condition"),
    (
        "latency_ms > 'fast'",
        "12",
        "row_filter",
        r"cannot compare a number with text at position 12; convert one side",
    ),
    ("", "'a lot'", "value_per_row", r"value per row: the formula gives a text, but it must give a number"),
    ("", "prediction", "value_per_row", r"use to_number"),
    ("", "label = 'late'", "value_per_row", r"gives a condition \(true/false\), but it must give a number"),
    ("", "", "value_per_row", r"value per row: empty; write what one matching row is worth"),
    ("", "eval(1)", "value_per_row", r"unknown function 'eval' at position 1"),
    ("", "12 * * 0.8", "value_per_row", r"expected a value at position 6"),
]


@pytest.mark.parametrize(("row_filter", "per_row", "field", "message"), BAD_FORMULAS)
def test_formula_errors_name_the_formula_the_position_and_a_hint(
    row_filter: str, per_row: str, field: str, message: str
) -> None:
    with pytest.raises(ValueFormulaError, match=message) as caught:
        compile_value(row_filter, per_row, default_columns({"distance": "integer"}))
    assert caught.value.field == field
    assert isinstance(caught.value.details.get("position"), int)


def test_saving_a_bad_formula_is_refused_on_its_field(
    use_case: Any, deployment: Deployment, alice: User
) -> None:
    with pytest.raises(ValidationError) as caught:
        define(use_case, deployment, alice, row_filter="prediction = 'late' and lable = 'late'")
    assert caught.value.message_dict["row_filter"] == [
        "Row filter: unknown column 'lable' at position 25; did you mean 'label'?"
    ]
    with pytest.raises(
        ValidationError, match="Choose a deployment or a batch-scoring recipe of a project linked"
    ):
        values.create_definition(
            use_case, actor=alice, source="deployment:999999", name="x", value_per_row="1"
        )
    assert not ValueDefinition.objects.exists()


def test_formulas_are_checked_against_the_model_signature_before_any_traffic(
    project: Project, use_case: Any, alice: User, root: Path
) -> None:
    quiet = Deployment.objects.create(project=project, name="quiet", created_by=alice)
    # No log and no target: only the fixed columns and label are known.
    with pytest.raises(ValidationError, match="unknown column 'distance'"):
        define(use_case, quiet, alice, value_per_row="distance / 100")
    definition = define(use_case, quiet, alice, value_per_row="prediction_value * 10")
    assert definition.pk


def test_a_recipe_log_has_no_labels(root: Path) -> None:
    log_predictions(
        root, "recipe-7", [(datetime(2026, 3, 2, 1), [{"row_id": "a", "prediction": "late", "distance": 10}])]
    )
    periods = compute_log_value(
        root,
        "recipe-7",
        row_filter="prediction = 'late' and label = null",
        value_per_row="distance",
        period="day",
    )
    assert [(p.period_start, p.value, p.rows, p.labelled_rows) for p in periods] == [
        (date(2026, 3, 2), Decimal("10.00"), 1, 0)
    ]


def test_a_deleted_recipe_is_explained(use_case: Any, alice: User) -> None:
    definition = ValueDefinition.objects.create(
        use_case=use_case,
        name="Batch",
        kind="prediction_log",
        value_per_row="1",
        details={"recipe": 424242, "source_name": "score flights"},
    )
    with pytest.raises(
        RealisedValueError,
        match=r"batch-scoring recipe 'score flights' whose prediction log 'Batch' read has been deleted",
    ):
        values.compute_definition(definition, actor=alice)


def test_the_schedule_queues_due_definitions_once(
    settings: Any, use_case: Any, deployment: Deployment, alice: User
) -> None:
    settings.MODELWORKS_JOB_TYPES = {
        **settings.MODELWORKS_JOB_TYPES,
        "governance.value": "modelworks.governance.jobs.ComputeValueJob",
    }
    definition = define(use_case, deployment, alice)
    values.create_definition(use_case, actor=alice, name="Pushed", kind="pushed")  # never scheduled
    now = timezone.now()
    jobs = tick(now)
    assert [(j.kind, j.params, j.project_id) for j in jobs] == [
        ("governance.value", {"definition": definition.pk}, deployment.project_id)
    ]
    assert tick(now + timedelta(minutes=5)) == []  # claimed: not due again yet
    assert len(tick(now + timedelta(hours=7))) == 1
    assert Job.objects.filter(kind="governance.value").count() == 2


class Recorder:
    """The worker's side of a job (log lines and progress), kept in lists."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self.steps: list[float] = []

    def log(self, level: str, message: str) -> None:
        self.lines.append((level, message))

    def progress(self, percent: float, message: str) -> None:
        self.steps.append(percent)

    def cancel_requested(self) -> bool:
        return False


def test_the_job_computes_and_fails_with_the_reason(
    settings: Any, use_case: Any, deployment: Deployment, alice: User
) -> None:
    from modelworks.core.jobs import JobFailed
    from modelworks.governance.jobs import ComputeValueJob

    settings.MODELWORKS_JOB_TYPES = {
        **settings.MODELWORKS_JOB_TYPES,
        "governance.value": "modelworks.governance.jobs.ComputeValueJob",
    }
    definition = define(use_case, deployment, alice)
    (job,) = tick()
    recorder = Recorder()
    result = ComputeValueJob(job, recorder).run()
    assert result == {"periods": 2, "rows": 8, "total": "38.40", "message": recorder.lines[-1][1]}
    assert [v for _, _, v, _ in stored(definition)] == [Decimal("28.80"), Decimal("9.60")]

    deployment.delete()
    with pytest.raises(
        JobFailed,
        match="deployment 'late-flights' whose prediction log 'Avoided delays' read has been deleted",
    ):
        ComputeValueJob(job, Recorder()).run()
