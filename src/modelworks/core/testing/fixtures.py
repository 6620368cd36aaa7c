"""Shared pytest fixtures: a small, realistic cast of users around one project.

Registered as a pytest plugin by ``tests/conftest.py`` (``pytest_plugins``); a test module outside
``tests/`` declares ``pytest_plugins = ["modelworks.core.testing.fixtures"]`` to use them.

=====================  ==========================================================================
fixture                what it is
=====================  ==========================================================================
``alice``              admin of ``project`` (created it)
``bob``                contributor of ``project``
``carol``              reader of ``project``; member of ``group``
``dave``               signed-in user who is a member of nothing
``instance_admin``     ``root``, an instance administrator (admin of every project)
``project``            ``flight-delays``, with the roles above, made through the audited services
``group``              ``analysts``, a group with carol in it and no project role
``tokens``             ``{username: raw bearer token}`` for the five users above
``api_client``         ``api_client(user)`` → ``ApiClient`` authenticated with a fresh token
                       of ``user`` (``api_client(None)`` is anonymous)
``permission_world``   all of the above plus jobs and a spare token, as a ``PermissionWorld``
                       (the objects the route tables of the permission suite work on)
=====================  ==========================================================================

Every user's password is ``PASSWORD``. The fixtures use the real services (``create_project``,
``grant_membership``…), so the audit log holds the entries a real instance would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache

from modelworks.core import services
from modelworks.core.models import ApiToken, Job, JobState, Project, ProjectMembership, Role, User
from modelworks.core.testing.client import ApiClient
from modelworks.core.testing.routes import PermissionWorld

__all__ = [
    "PASSWORD",
    "alice",
    "api_client",
    "bob",
    "carol",
    "clear_cache",
    "dave",
    "group",
    "instance_admin",
    "make_user",
    "permission_world",
    "project",
    "tokens",
]

PASSWORD = "Quiet-Harbour-2187"  # noqa: S105 (test accounts only)


def make_user(username: str, *, instance_admin: bool = False, **fields: Any) -> User:
    """A user who can sign in with ``PASSWORD``; ``instance_admin`` makes an instance administrator."""
    first, _, last = fields.pop("full_name", f"{username.title()} Tester").partition(" ")
    return User.objects.create_user(
        username=username,
        email=fields.pop("email", f"{username}@example.test"),
        password=PASSWORD,
        first_name=first,
        last_name=last,
        is_superuser=instance_admin,
        is_staff=instance_admin,
        **fields,
    )


@pytest.fixture(autouse=True)
def clear_cache() -> None:
    """Throttle counters live in the cache; each test starts with none (user ids are reused)."""
    cache.clear()


@pytest.fixture
def alice(db: None) -> User:
    return make_user("alice", full_name="Alice Admin")


@pytest.fixture
def bob(db: None) -> User:
    return make_user("bob", full_name="Bob Contributor")


@pytest.fixture
def carol(db: None) -> User:
    return make_user("carol", full_name="Carol Reader")


@pytest.fixture
def dave(db: None) -> User:
    return make_user("dave", full_name="Dave Outsider")


@pytest.fixture
def instance_admin(db: None) -> User:
    return make_user("root", instance_admin=True, full_name="Ida Instance-Admin")


@pytest.fixture
def project(alice: User, bob: User, carol: User) -> Project:
    project = services.create_project(
        actor=alice, slug="flight-delays", name="Flight delays", description="Predict late departures."
    )
    services.grant_membership(project, actor=alice, user=bob, role=Role.CONTRIBUTOR)
    services.grant_membership(project, actor=alice, user=carol, role=Role.READER)
    return project


@pytest.fixture
def group(carol: User, instance_admin: User) -> Group:
    group = services.create_group(actor=instance_admin, name="analysts")
    services.add_group_member(group, carol, actor=instance_admin)
    return group


@pytest.fixture
def tokens(alice: User, bob: User, carol: User, dave: User, instance_admin: User) -> dict[str, str]:
    raw: dict[str, str] = {}
    for user in (alice, bob, carol, dave, instance_admin):
        _, raw[user.username] = ApiToken.issue(user, "test suite")
    return raw


@pytest.fixture
def api_client(db: None) -> Callable[[User | None], ApiClient]:
    def for_user(user: User | None) -> ApiClient:
        if user is None:
            return ApiClient()
        _, raw = ApiToken.issue(user, "test client")
        return ApiClient(token=raw)

    return for_user


@pytest.fixture
def permission_world(
    alice: User,
    bob: User,
    carol: User,
    dave: User,
    instance_admin: User,
    project: Project,
    group: Group,
    tokens: dict[str, str],
) -> PermissionWorld:
    from modelworks.core.jobs import enqueue  # imported late: only this fixture needs the job system

    queued = enqueue("core.self_check", title="Queued check", project=project, created_by=bob)
    failed = Job.objects.create(
        project=project,
        kind="core.self_check",
        title="Failed check",
        state=JobState.FAILED,
        error="The check failed on purpose.",
        created_by=bob,
        attempt=1,
        max_attempts=1,
    )
    instance_job = enqueue("core.self_check", title="Instance check", created_by=instance_admin)
    spare_token, _ = ApiToken.issue(bob, "spare")
    users = {
        "outsider": dave,
        "reader": carol,
        "contributor": bob,
        "admin": alice,
        "instance_admin": instance_admin,
    }
    return PermissionWorld(
        users=users,
        project=project,
        group=group,
        reader_membership=ProjectMembership.objects.get(project=project, user=carol),
        spare_token=spare_token,
        queued_job=queued,
        failed_job=failed,
        instance_job=instance_job,
        tokens={actor: tokens[user.username] for actor, user in users.items()},
        extra={"password": PASSWORD},
    )
