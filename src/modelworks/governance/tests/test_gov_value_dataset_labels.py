"""Labels for a batch-scoring recipe's log come from a dataset (``details["labels"]``), matched on the
recipe's row identifier: only datasets of the use case's linked projects, with both columns."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from modelworks.core.models import Project, User
from modelworks.datasets.testing import make_dataset
from modelworks.governance.models import ValueDefinition
from modelworks.governance.services import value as values
from modelworks.governance.services.value_compute import RealisedValueError, compute_log_value
from modelworks.governance.testing_value import log_predictions, make_use_case

pytestmark = pytest.mark.django_db
pytest_plugins = ["modelworks.core.testing.fixtures"]

LABELS_CSV = b"flight_id,late\nf1,true\nf2,false\nf3,true\n"


@pytest.fixture
def use_case(project: Project, alice: User) -> Any:
    return make_use_case("late-departures", stage="production", owner=alice, projects=(project,))


def _definition(use_case: Any, labels: dict[str, Any]) -> ValueDefinition:
    return ValueDefinition.objects.create(
        use_case=use_case,
        name="Caught late",
        kind="prediction_log",
        value_per_row="1",
        details={"labels": labels},
    )


def test_labels_from_a_dataset_are_joined_on_the_row_id(
    settings: Any, tmp_path: Path, use_case: Any, project: Project, bob: User
) -> None:
    root = tmp_path / "predictions"
    dataset = make_dataset(project, bob, name="Outcomes", content=LABELS_CSV, file_name="outcomes.csv")
    definition = _definition(
        use_case, {"dataset": dataset.pk, "id_column": "flight_id", "label_column": "late"}
    )
    labels = values.dataset_labels_table(definition)
    assert labels is not None
    assert sorted(labels.to_pylist(), key=lambda r: r["row_id"]) == [
        {"row_id": "f1", "label": "true"},
        {"row_id": "f2", "label": "false"},
        {"row_id": "f3", "label": "true"},
    ]
    log_predictions(
        root,
        "recipe-9",
        [
            (
                datetime(2013, 7, 1),
                [{"row_id": "f1", "prediction": "true"}, {"row_id": "f2", "prediction": "true"}],
            ),
            (
                datetime(2013, 8, 1),
                [{"row_id": "f3", "prediction": "true"}, {"row_id": "f4", "prediction": "true"}],
            ),
        ],
    )
    periods = compute_log_value(
        root,
        "recipe-9",
        row_filter="prediction = 'true' and label = 'true'",
        value_per_row="40 * 1.5",
        period="month",
        labels=labels,
    )
    # July: f1 caught (f2 was not late); August: f3 caught (f4 has no label yet).
    assert [(p.period_start, p.value, p.rows) for p in periods] == [
        (date(2013, 7, 1), Decimal("60.00"), 1),
        (date(2013, 8, 1), Decimal("60.00"), 1),
    ]


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ({"dataset": 0, "id_column": "flight_id", "label_column": "late"}, "labels dataset .* is gone"),
        (
            {"dataset": "X", "id_column": "flight", "label_column": "late"},
            "Column 'flight' is not in Outcomes",
        ),
        (
            {"dataset": "X", "id_column": "flight_id", "label_column": "delay"},
            "Column 'delay' is not in Outcomes",
        ),
    ],
)
def test_bad_label_settings_are_explained(
    use_case: Any, project: Project, bob: User, labels: dict[str, Any], message: str
) -> None:
    dataset = make_dataset(project, bob, name="Outcomes", content=LABELS_CSV, file_name="outcomes.csv")
    if labels["dataset"] == "X":
        labels = {**labels, "dataset": dataset.pk}
    with pytest.raises(RealisedValueError, match=message):
        values.dataset_labels_table(_definition(use_case, labels))


def test_a_dataset_of_an_unlinked_project_is_not_read(use_case: Any, bob: User, alice: User) -> None:
    other = Project.objects.create(slug="other", name="Other")
    from modelworks.core.models import ProjectMembership, Role

    ProjectMembership.objects.create(project=other, user=bob, role=Role.ADMIN)
    dataset = make_dataset(other, bob, name="Outcomes", content=LABELS_CSV, file_name="outcomes.csv")
    definition = _definition(
        use_case, {"dataset": dataset.pk, "id_column": "flight_id", "label_column": "late"}
    )
    with pytest.raises(RealisedValueError, match=r"labels dataset .* is gone"):
        values.dataset_labels_table(definition)
