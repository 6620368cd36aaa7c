"""Fixtures of the artifact tests. A pytest plugin: test modules name it in ``pytest_plugins`` after
``modelworks.core.testing.fixtures``, whose cast (alice, bob, carol, dave, project…) it uses.

=====================  ==========================================================================
fixture                what it is
=====================  ==========================================================================
``artifacts_dir``      a fresh ``MODELWORKS_ARTIFACTS_DIR`` inside ``tmp_path/instance``, next to a
                       ``secret.txt`` that no request may ever reach (``instance`` is watched whole)
``experiment``         experiment "delays" of ``project`` (made with the ORM)
``run``                an active run of ``experiment``
``deleted_run``        a deleted run of ``experiment``
``foreign_run``        a run in an experiment of dave's project ``churn``
=====================  ==========================================================================
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from modelworks.core import services
from modelworks.core.models import Project, User
from modelworks.tracking.artifacts.testing import SECRET
from modelworks.tracking.models import Experiment, LifecycleStage, Run

__all__ = [
    "artifacts_dir",
    "deleted_run",
    "experiment",
    "foreign_run",
    "make_run",
    "run",
]


@pytest.fixture
def artifacts_dir(settings: pytest.FixtureRequest, tmp_path: Path) -> Path:
    instance = tmp_path / "instance"
    artifacts = instance / "artifacts"
    artifacts.mkdir(parents=True)
    (instance / "secret.txt").write_bytes(SECRET)
    settings.MODELWORKS_ARTIFACTS_DIR = artifacts  # type: ignore[attr-defined]
    return artifacts


def now_ms() -> int:
    return int(time.time() * 1000)


def make_experiment(project: Project, name: str, user: User) -> Experiment:
    return Experiment.objects.create(
        project=project, name=name, created_by=user, creation_time=now_ms(), last_update_time=now_ms()
    )


def make_run(experiment: Experiment, user: User, *, deleted: bool = False) -> Run:
    return Run.objects.create(
        run_uuid=uuid.uuid4().hex,
        experiment=experiment,
        name="trial",
        user_id=user.username,
        created_by=user,
        start_time=now_ms(),
        lifecycle_stage=LifecycleStage.DELETED if deleted else LifecycleStage.ACTIVE,
        deleted_time=now_ms() if deleted else None,
    )


@pytest.fixture
def experiment(project: Project, bob: User) -> Experiment:
    return make_experiment(project, "delays", bob)


@pytest.fixture
def run(experiment: Experiment, bob: User) -> Run:
    return make_run(experiment, bob)


@pytest.fixture
def deleted_run(experiment: Experiment, bob: User) -> Run:
    return make_run(experiment, bob, deleted=True)


@pytest.fixture
def foreign_run(dave: User) -> Run:
    churn = services.create_project(actor=dave, slug="churn", name="Customer churn")
    return make_run(make_experiment(churn, "churn model", dave), dave)
