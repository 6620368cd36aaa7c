"""The unmodified ``mlflow`` client against a live server: moving a protected alias without sign-off
is refused with PERMISSION_DENIED and the reason; after the sign-off, the same call works."""

from __future__ import annotations

from typing import Any

import mlflow
import pytest
from mlflow.exceptions import MlflowException

from modelworks.core.models import Project, User
from modelworks.governance.services import signoff as signoffs
from modelworks.governance.services.signoff import StepSpec
from modelworks.governance.testing_signoff import GATE
from modelworks.registry.models import AliasEvent, ModelVersion
from modelworks.registry.tests.test_mlflow_client import REQUIREMENTS, connect  # noqa: F401 (fixture)

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.registry.tests.fixtures"]


@pytest.mark.django_db(transaction=True)
def test_mlflow_client_is_refused_until_signed_off(
    connect: Any,  # noqa: F811 (the registry's fixture, imported above)
    settings: Any,
    project: Project,
    alice: User,
    bob: User,
) -> None:
    settings.MODELWORKS_ALIAS_GATES = [GATE]
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    client = connect("bob")
    frame = load_iris(as_frame=True)
    model = LogisticRegression(max_iter=200).fit(frame.data, frame.target)
    mlflow.set_experiment("Iris")
    with mlflow.start_run():
        mlflow.sklearn.log_model(
            model, name="model", registered_model_name="iris", pip_requirements=REQUIREMENTS
        )
    client.set_registered_model_alias("iris", "champion", "1")  # before the policy
    signoffs.save_policy(
        project,
        actor=alice,
        aliases=["champion"],
        mode="block",
        due_days=5,
        enabled=True,
        steps=[StepSpec(title="Data owner", order=1, reviewer=alice)],
    )
    client.create_model_version("iris", ModelVersion.objects.get(version=1).source)

    with pytest.raises(MlflowException) as exc:
        client.set_registered_model_alias("iris", "champion", "2")
    assert exc.value.error_code == "PERMISSION_DENIED"
    assert "Version 2 of 'iris' cannot become @champion yet" in exc.value.message
    assert "Reviews needed: Data owner (alice)" in exc.value.message
    assert client.get_model_version_by_alias("iris", "champion").version == "1"
    # Unprotected aliases still move.
    client.set_registered_model_alias("iris", "challenger", "2")

    signoff = signoffs.request_signoff(ModelVersion.objects.get(version=2), "champion", actor=bob)
    signoffs.decide(signoff.reviews.get(), actor=alice, approve=True)
    client.set_registered_model_alias("iris", "champion", "2")
    assert client.get_model_version_by_alias("iris", "champion").version == "2"
    assert list(
        AliasEvent.objects.filter(alias="champion").values_list("from_version", "to_version").order_by("id")
    ) == [
        (None, 1),
        (1, 2),
    ]
