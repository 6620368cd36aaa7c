"""Fixtures of the catalog tests. A pytest plugin: test modules name it in ``pytest_plugins`` after
``modelworks.core.testing.fixtures``, whose cast (alice, bob, carol, dave, project…) it uses."""

from __future__ import annotations

import pytest

from modelworks.catalog.tests.data import record_pipeline
from modelworks.core import services
from modelworks.core.models import Project, Role, User


@pytest.fixture
def pipeline(project: Project) -> Project:
    record_pipeline(project)
    return project


@pytest.fixture
def other_project(dave: User) -> Project:
    """A project of dave's, where alice, bob and carol are not members."""
    return services.create_project(actor=dave, slug="churn", name="Customer churn")


@pytest.fixture
def erin(other_project: Project, dave: User) -> User:
    """Reader of dave's project only."""
    from modelworks.core.testing.fixtures import make_user

    user = make_user("erin")
    services.grant_membership(other_project, actor=dave, user=user, role=Role.READER)
    return user
