"""The ``lab.retrain`` job's automatic promotion meets the sign-off: a better candidate is trained
and registered, but @champion does not move without an approved sign-off, and the job says why."""

from __future__ import annotations

from typing import Any

import pytest

from modelworks.core.models import JobState, Project, User
from modelworks.datasets.models import Dataset
from modelworks.governance.services import signoff as signoffs
from modelworks.governance.services.signoff import StepSpec
from modelworks.governance.testing_signoff import GATE
from modelworks.lab import services as lab
from modelworks.lab.models import SessionStatus
from modelworks.lab.tests.helpers import dataset_from, train_now
from modelworks.lab.tests.test_retrain import FRESH, flights, new_version, retrain
from modelworks.registry.models import AliasEvent, RegisteredModel

pytestmark = pytest.mark.django_db
pytest_plugins = ["modelworks.core.testing.fixtures"]


@pytest.fixture
def champion(project: Project, bob: User) -> tuple[Dataset, RegisteredModel]:
    """As the Lab's retraining tests: 'Delays' trained on January-June, @champion; then fresh data."""
    dataset = dataset_from(project, bob, flights(months=(1, 6), rows=240), "flights")
    analysis = lab.create_analysis(
        project, actor=bob, name="Delays", dataset=dataset, target="delayed", time_column="day"
    )
    analysis = lab.update_design(
        analysis,
        actor=bob,
        features=[
            {**f, "kind": "drop", "reason": "the date itself"} if f["column"] == "day" else f
            for f in analysis.features
        ],
        algorithms=["linear"],
        time_budget_s=5,
        max_trials=2,
        validation={"kind": "kfold", "folds": 3, "holdout_fraction": 0.2},
        metric="roc_auc",
    )
    session = train_now(analysis, bob)
    assert session.status == SessionStatus.SUCCEEDED, session.error
    lab.register_model(session, actor=bob, name="Delays", alias="champion")
    new_version(dataset, bob, FRESH)
    return dataset, RegisteredModel.objects.get(project=project, name="Delays")


def test_auto_promotion_waits_for_the_sign_off(
    project: Project,
    alice: User,
    bob: User,
    settings: Any,
    champion: Any,
) -> None:
    _, model = champion
    settings.MODELWORKS_ALIAS_GATES = [GATE]
    signoffs.save_policy(
        project,
        actor=alice,
        aliases=["champion"],
        mode="block",
        due_days=5,
        enabled=True,
        steps=[StepSpec(title="Model risk", order=1, reviewer=alice)],
    )
    events = AliasEvent.objects.filter(alias="champion").count()
    job = retrain(project, bob, policy="auto", margin=0.05)
    assert job.state == JobState.FAILED
    assert "Version 2 of 'Delays' cannot become @champion yet" in job.error
    assert "Reviews needed: Model risk (alice)" in job.error
    assert model.aliases.get(alias="champion").model_version.version == 1
    assert AliasEvent.objects.filter(alias="champion").count() == events
