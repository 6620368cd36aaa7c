"""The runtime contract the scoring service polls: the revision moves on every change that matters
(including alias moves, deletions and expiry), and the snapshot resolves aliases to folders."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from modelworks.deployments import runtime, services
from modelworks.deployments.models import Deployment, EndpointToken, hash_endpoint_token
from modelworks.deployments.services import TargetSpec

# Fixtures (pytest takes pytest_plugins only in test modules and the top-level conftest).
pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.registry.tests.fixtures"]

pytestmark = pytest.mark.django_db


def _deploy(project: Any, alice: Any, name: str = "late", **kwargs: Any) -> Deployment:
    kwargs.setdefault("targets", [TargetSpec(model="late-departures", alias="champion")])
    return services.create_deployment(project, actor=alice, name=name, **kwargs)


def test_current_revision_is_one_query(registered: Any) -> None:
    with CaptureQueriesContext(connection) as queries:
        runtime.current_revision()
    assert len(queries) == 1


def test_revision_moves_on_every_change_that_matters(
    project: Any, alice: Any, bob: Any, registered: Any
) -> None:
    from modelworks.registry import services as registry

    seen = [runtime.current_revision()]

    def moved() -> bool:
        value = runtime.current_revision()
        fresh = value not in seen
        seen.append(value)
        return fresh

    deployment = _deploy(project, alice)
    assert moved()
    assert not moved(), "reading twice without a change must give the same revision"
    token, _ = services.issue_token(deployment, actor=alice, name="app")
    assert moved()
    services.revoke_token(token, actor=alice)
    assert moved()
    services.pause_deployment(deployment, actor=alice)
    assert moved()
    services.resume_deployment(deployment, actor=alice)
    assert moved()
    # Promotion in the registry: champion moves to version 2.
    registry.set_alias(registered.versions.get(version=2), "champion", actor=bob)
    assert moved()
    services.update_deployment(deployment, actor=alice, log_sample_rate=0.5)
    assert moved()
    # A token deleted outside the services (e.g. the admin site) must not keep working.
    other, _ = services.issue_token(deployment, actor=alice, name="other")
    assert moved()
    EndpointToken.objects.filter(pk=other.pk).delete()
    assert moved()
    # A deployment deleted with its project's cascade, without the services.
    Deployment.objects.filter(pk=deployment.pk).delete()
    assert moved()


def test_revision_moves_when_a_token_expires(project: Any, alice: Any, registered: Any) -> None:
    deployment = _deploy(project, alice)
    token, raw = services.issue_token(deployment, actor=alice, name="app", expires_in_days=1)
    before = runtime.current_revision()
    assert hash_endpoint_token(raw) in runtime.routing_snapshot().endpoints["late"].token_hashes
    EndpointToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert runtime.current_revision() != before
    assert runtime.routing_snapshot().endpoints["late"].token_hashes == frozenset()


def test_snapshot_resolves_aliases_and_skips_paused(
    project: Any, alice: Any, bob: Any, registered: Any
) -> None:
    from modelworks.registry import services as registry

    ab = _deploy(
        project,
        alice,
        name="split",
        mode="ab",
        targets=[
            TargetSpec(model="late-departures", alias="champion", weight=80),
            TargetSpec(model="late-departures", version=2, role="challenger", weight=20),
        ],
        log_sample_rate=0.25,
        id_column="flight_id",
    )
    _, raw = services.issue_token(ab, actor=alice, name="app")
    paused = _deploy(project, alice, name="quiet")
    services.pause_deployment(paused, actor=alice)

    snapshot = runtime.routing_snapshot()
    assert snapshot.revision == runtime.current_revision()
    assert set(snapshot.endpoints) == {"split"}
    endpoint = snapshot.endpoints["split"]
    assert (endpoint.mode, endpoint.project_slug, endpoint.deployment_id) == ("ab", project.slug, ab.pk)
    assert (endpoint.log_sample_rate, endpoint.id_column, endpoint.max_rows) == (0.25, "flight_id", 10_000)
    assert endpoint.token_hashes == frozenset({hash_endpoint_token(raw)})
    primary, challenger = endpoint.targets
    assert (primary.role, primary.version, primary.weight, primary.alias) == ("primary", 1, 80, "champion")
    assert (challenger.role, challenger.version, challenger.weight, challenger.alias) == (
        "challenger",
        2,
        20,
        "",
    )
    assert (primary.model_dir / "MLmodel").is_file()
    assert primary.model_dir == runtime.model_dir(registered.versions.get(version=1))

    registry.set_alias(registered.versions.get(version=2), "champion", actor=bob)
    assert runtime.routing_snapshot().endpoints["split"].targets[0].version == 2


def test_snapshot_reports_a_primary_whose_alias_is_gone(
    project: Any, alice: Any, bob: Any, registered: Any
) -> None:
    from modelworks.registry import services as registry

    _deploy(project, alice)
    registry.delete_alias(registered, "champion", actor=bob)
    snapshot = runtime.routing_snapshot()
    assert "late" not in snapshot.endpoints
    assert "no alias 'champion'" in snapshot.problems["late"]


def test_tokens_used_are_marked_without_moving_the_revision(
    project: Any, alice: Any, registered: Any
) -> None:
    deployment = _deploy(project, alice)
    token, raw = services.issue_token(deployment, actor=alice, name="app")
    before = runtime.current_revision()
    assert runtime.mark_tokens_used([hash_endpoint_token(raw)]) == 1
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert runtime.current_revision() == before
