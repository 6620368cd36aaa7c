"""Deployment services: targets checked against the registry, every write audited and atomic,
tokens shown once, feedback upserted in bulk with errors naming the row."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from modelworks.core.models import AuditEvent
from modelworks.deployments import services
from modelworks.deployments.models import Deployment, EndpointToken, Feedback, hash_endpoint_token
from modelworks.deployments.services import TargetSpec

# Fixtures (pytest takes pytest_plugins only in test modules and the top-level conftest).
pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.registry.tests.fixtures"]

pytestmark = pytest.mark.django_db

CHAMPION = TargetSpec(model="late-departures", alias="champion")


def test_create_single_deployment_is_audited(project: Any, bob: Any, registered: Any) -> None:
    deployment = services.create_deployment(
        project, actor=bob, name="late", targets=[CHAMPION], id_column="flight_id"
    )
    assert (deployment.mode, deployment.status, deployment.title, deployment.max_rows) == (
        "single",
        "active",
        "late",
        10_000,
    )
    (target,) = deployment.targets.all()
    assert (target.alias, target.model_version, target.weight, target.role) == (
        "champion",
        None,
        100,
        "primary",
    )
    event = AuditEvent.objects.get(action="deployment.created")
    assert event.details["targets"] == [
        {"role": "primary", "target": "late-departures@champion", "weight": 100}
    ]


@pytest.mark.parametrize(
    ("name", "mode", "targets", "field", "match"),
    [
        ("Late Flights", "single", [CHAMPION], "name", "lowercase letters, digits and hyphens"),
        ("new", "single", [CHAMPION], "name", "reserved"),
        ("late", "single", [], "targets", "Choose the model to serve"),
        (
            "late",
            "single",
            [TargetSpec(model="nope", alias="champion")],
            "targets",
            "no registered model 'nope'",
        ),
        (
            "late",
            "single",
            [TargetSpec(model="late-departures", alias="gold")],
            "targets",
            "has no alias 'gold' \\(its aliases are challenger, champion\\)",
        ),
        (
            "late",
            "single",
            [TargetSpec(model="late-departures", version=9)],
            "targets",
            "no version 9 \\(versions go from 1 to 2\\)",
        ),
        (
            "late",
            "single",
            [TargetSpec(model="late-departures")],
            "targets",
            "either an alias .* or a version",
        ),
        (
            "late",
            "single",
            [TargetSpec(model="late-departures", alias="champion", version=1)],
            "targets",
            "not both",
        ),
        (
            "late",
            "single",
            [CHAMPION, TargetSpec(model="late-departures", version=2, role="challenger")],
            "targets",
            "target 2 is 'challenger'",
        ),
        ("late", "ab", [CHAMPION], "targets", "at least one 'challenger'"),
        (
            "late",
            "ab",
            [
                TargetSpec(model="late-departures", alias="champion", weight=70),
                TargetSpec(model="late-departures", version=2, role="challenger", weight=20),
            ],
            "targets",
            "add up to 100.*late-departures 70 \\+ late-departures 20 = 90",
        ),
        (
            "late",
            "ab",
            [CHAMPION, TargetSpec(model="late-departures", version=2, role="challenger")],
            "targets",
            "weight .* on every target",
        ),
        ("late", "shadow", [CHAMPION], "targets", "Shadow mode needs at least one 'shadow' target"),
        (
            "late",
            "shadow",
            [TargetSpec(model="late-departures", version=2, role="shadow")],
            "targets",
            "0 primary targets",
        ),
        ("late", "canary", [CHAMPION], "mode", "Unknown mode 'canary'"),
    ],
)
def test_bad_deployments_are_refused(
    project: Any,
    bob: Any,
    registered: Any,
    name: str,
    mode: str,
    targets: list[TargetSpec],
    field: str,
    match: str,
) -> None:
    with pytest.raises(ValidationError, match=match) as caught:
        services.create_deployment(project, actor=bob, name=name, mode=mode, targets=targets)
    assert field in caught.value.message_dict
    assert not Deployment.objects.exists()
    assert not AuditEvent.objects.filter(action="deployment.created").exists()


@pytest.mark.parametrize(
    ("options", "field", "match"),
    [
        ({"log_sample_rate": 1.5}, "log_sample_rate", "from 0 \\(none\\) to 1"),
        ({"max_rows": 0}, "max_rows", "from 1 to 10,000"),
        ({"max_rows": 10_001}, "max_rows", "MODELWORKS_SCORING_MAX_ROWS"),
        ({"id_column": "bad\ncolumn"}, "id_column", "printable"),
    ],
)
def test_bad_settings_are_refused(
    project: Any, bob: Any, registered: Any, options: dict[str, Any], field: str, match: str
) -> None:
    with pytest.raises(ValidationError, match=match) as caught:
        services.create_deployment(project, actor=bob, name="late", targets=[CHAMPION], **options)
    assert field in caught.value.message_dict


def test_names_are_unique_on_the_instance(project: Any, bob: Any, alice: Any, registered: Any) -> None:
    from modelworks.core.services import create_project

    services.create_deployment(project, actor=bob, name="late", targets=[CHAMPION])
    other = create_project(actor=alice, name="Other team", slug="other-team")
    with pytest.raises(ValidationError, match="already used on this instance"):
        services.create_deployment(other, actor=alice, name="late", targets=[CHAMPION])


def test_models_of_another_project_cannot_be_deployed(bob: Any, alice: Any, registered: Any) -> None:
    from modelworks.core.services import create_project

    other = create_project(actor=alice, name="Other team", slug="other-team")
    with pytest.raises(
        ValidationError, match="project 'other-team' has no registered model 'late-departures'"
    ):
        services.create_deployment(other, actor=alice, name="late", targets=[CHAMPION])


def test_ab_split_and_mode_change(project: Any, bob: Any, registered: Any) -> None:
    deployment = services.create_deployment(
        project,
        actor=bob,
        name="split",
        mode="ab",
        targets=[
            TargetSpec(model="late-departures", alias="champion", weight=90),
            TargetSpec(model="late-departures", version=2, role="challenger", weight=10),
        ],
    )
    assert sorted(deployment.targets.values_list("role", "weight")) == [("challenger", 10), ("primary", 90)]
    # Switching to shadow with the same targets is refused: a challenger is not a shadow.
    with pytest.raises(ValidationError, match="target 2 is 'challenger'"):
        services.update_deployment(deployment, actor=bob, mode="shadow")
    updated = services.update_deployment(
        deployment,
        actor=bob,
        mode="shadow",
        targets=[CHAMPION, TargetSpec(model="late-departures", alias="challenger", role="shadow")],
    )
    assert updated.mode == "shadow"
    assert sorted(updated.targets.values_list("role", "alias", "weight")) == [
        ("primary", "champion", 100),
        ("shadow", "challenger", 0),
    ]
    event = AuditEvent.objects.filter(action="deployment.updated").latest("id")
    assert event.details["changed"] == {"mode": {"from": "ab", "to": "shadow"}}
    assert [t["role"] for t in event.details["targets_before"]] == ["primary", "challenger"]


def test_pause_resume_delete(project: Any, bob: Any, alice: Any, registered: Any) -> None:
    deployment = services.create_deployment(project, actor=bob, name="late", targets=[CHAMPION])
    services.pause_deployment(deployment, actor=bob)
    services.pause_deployment(deployment, actor=bob)  # idempotent: one audit entry
    assert Deployment.objects.get().status == "paused"
    services.resume_deployment(deployment, actor=bob)
    assert Deployment.objects.get().status == "active"
    services.issue_token(deployment, actor=alice, name="app")
    services.record_feedback(deployment, [{"row_id": "a", "label": "1"}], actor=bob)
    services.delete_deployment(deployment, actor=alice)
    assert (
        not Deployment.objects.exists()
        and not EndpointToken.objects.exists()
        and not Feedback.objects.exists()
    )
    actions = list(
        AuditEvent.objects.filter(action__startswith="deployment.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "deployment.created",
        "deployment.paused",
        "deployment.resumed",
        "deployment.token_created",
        "deployment.feedback_recorded",
        "deployment.deleted",
    ]
    assert AuditEvent.objects.get(action="deployment.deleted").details["tokens"] == 1


def test_registry_cannot_delete_a_deployed_version(project: Any, bob: Any, registered: Any) -> None:
    from modelworks.core.models import AuditEvent
    from modelworks.registry import services as registry
    from modelworks.registry.errors import RegistryInUseError
    from modelworks.registry.models import AliasEvent

    deployment = services.create_deployment(
        project, actor=bob, name="pinned", targets=[TargetSpec(model="late-departures", version=2)]
    )
    version = registered.versions.get(version=2)
    audits, events = AuditEvent.objects.count(), AliasEvent.objects.count()
    with pytest.raises(
        RegistryInUseError,
        match=r"Version 2 of 'late-departures' cannot be deleted: it is served by deployment 'pinned'",
    ):
        registry.delete_model_version(version, actor=bob)
    with pytest.raises(
        RegistryInUseError,
        match=r"Model 'late-departures' cannot be deleted: it is served by deployment 'pinned'",
    ):
        registry.delete_registered_model(registered, actor=bob)
    # Nothing changed: the version, its alias history and the audit log are as they were.
    assert registered.versions.filter(version=2).exists()
    assert (AuditEvent.objects.count(), AliasEvent.objects.count()) == (audits, events)
    assert services.deployments_using(version=version) == [deployment]
    assert services.deployments_using(model=registered) == [deployment]


def test_tokens_are_shown_once_and_stored_hashed(project: Any, bob: Any, alice: Any, registered: Any) -> None:
    deployment = services.create_deployment(project, actor=bob, name="late", targets=[CHAMPION])
    token, raw = services.issue_token(deployment, actor=alice, name="billing app", expires_in_days=30)
    assert raw.startswith("mwe_") and len(raw) > 40
    assert token.key_hash == hash_endpoint_token(raw) and raw not in token.key_hash
    assert token.key_prefix == raw[:12] and token.status == "active"
    event = AuditEvent.objects.get(action="deployment.token_created")
    assert raw not in str(event.details)
    services.revoke_token(token, actor=alice)
    token.refresh_from_db()
    assert token.status == "revoked"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": ""}, "Name the token"),
        ({"name": "x" * 101}, "Name the token"),
        ({"name": "app", "expires_in_days": 0}, "from 1 to 3650 days"),
        ({"name": "app", "expires_in_days": 4000}, "from 1 to 3650 days"),
    ],
)
def test_bad_tokens_are_refused(
    project: Any, bob: Any, alice: Any, registered: Any, kwargs: dict[str, Any], match: str
) -> None:
    deployment = services.create_deployment(project, actor=bob, name="late", targets=[CHAMPION])
    with pytest.raises(ValidationError, match=match):
        services.issue_token(deployment, actor=alice, **kwargs)
    assert not EndpointToken.objects.exists()


def test_feedback_upserts_by_row_id(project: Any, bob: Any, registered: Any) -> None:
    deployment = services.create_deployment(project, actor=bob, name="late", targets=[CHAMPION])
    first = services.record_feedback(
        deployment, [{"row_id": f"r{i}", "label": i % 2} for i in range(10_000)], actor=bob
    )
    assert (first.created, first.updated) == (10_000, 0)
    second = services.record_feedback(
        deployment,
        [{"row_id": "r1", "label": "0"}, {"row_id": "r-new", "label": 1.0}, {"row_id": 7, "label": True}],
        actor=bob,
    )
    assert (second.created, second.updated, second.received) == (2, 1, 3)
    labels = dict(Feedback.objects.filter(row_id__in=["r1", "r-new", "7"]).values_list("row_id", "label"))
    assert labels == {"r1": "0", "r-new": "1", "7": "true"}
    assert Feedback.objects.count() == 10_002


@pytest.mark.parametrize(
    ("items", "match"),
    [
        ([], "The list is empty"),
        (
            [{"row_id": str(i), "label": "x"} for i in range(10_001)],
            "10,001 labels in one call; the limit is 10,000",
        ),
        ([{"row_id": "a", "label": "x"}, "oops"], "Row 2: expected an object"),
        ([{"row_id": "a", "label": "x"}, {"row_id": "b"}], "Row 2: the label is missing"),
        ([{"row_id": "", "label": "x"}], "Row 1: the row_id is empty"),
        ([{"row_id": "a", "label": float("nan")}], "Row 1: the label is nan"),
        ([{"row_id": "a", "label": [1]}], "Row 1: the label must be a text or a number, not list"),
        ([{"row_id": "a", "label": "x", "score": 1}], "Row 1: unknown field\\(s\\) score"),
        (
            [{"row_id": "a", "label": "x"}, {"row_id": "a", "label": "y"}],
            "Row 2: row_id 'a' was already given in row 1",
        ),
        ([{"row_id": "x" * 201, "label": "y"}], "Row 1: the row_id is 201 characters long; the limit is 200"),
    ],
)
def test_bad_feedback_names_the_row_and_stores_nothing(
    project: Any, bob: Any, registered: Any, items: list[Any], match: str
) -> None:
    deployment = services.create_deployment(project, actor=bob, name="late", targets=[CHAMPION])
    with pytest.raises(ValidationError, match=match):
        services.record_feedback(deployment, items, actor=bob)
    assert not Feedback.objects.exists()
    assert not AuditEvent.objects.filter(action="deployment.feedback_recorded").exists()
