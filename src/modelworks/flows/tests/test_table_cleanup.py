"""The tables of deleted recipe output versions stored in PostgreSQL are dropped by the
``flows.drop_tables`` job, against the real server — and never a table Modelworks did not create, nor
one a remaining version still uses, nor one with a view built on it."""

# The PostgreSQL fixtures of test_pushdown are imported, so tests name them as parameters again.
# ruff: noqa: F811

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from modelworks.connections.models import Connection
from modelworks.connections.tests.servers import PostgresServer
from modelworks.core.models import AuditEvent, Job, Project, User
from modelworks.datasets import services as dataset_services
from modelworks.datasets.models import Dataset, DatasetVersion, SourceKind
from modelworks.datasets.testing import run_queued_jobs
from modelworks.flows import services
from modelworks.flows.models import BuildStatus, TableDrop, TableDropState
from modelworks.flows.services.pushdown.cleanup import DROP_JOB, table_to_drop
from modelworks.flows.tests.test_pushdown import (  # noqa: F401 - fixtures
    _admin,
    _build,
    _linked,
    _tables,
    connection,
    fresh_home,
    shop,
    warehouse,
)

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.connections.tests.servers"]


@pytest.fixture(autouse=True)
def drop_job_registered(settings: Any) -> None:
    settings.MODELWORKS_JOB_TYPES = {
        **settings.MODELWORKS_JOB_TYPES,
        DROP_JOB: "modelworks.flows.jobs.DropTablesJob",
    }


@pytest.fixture
def delete_output(django_capture_on_commit_callbacks: Any) -> Any:
    """``delete_output(project, bob, recipe, name)``: delete the recipe, then its output dataset (with
    what runs once the delete commits); return the tables its versions had."""

    def delete(project: Project, bob: User, recipe: Any, name: str) -> list[str]:
        dataset = Dataset.objects.get(project=project, name=name)
        tables = sorted(v.location["table"] for v in dataset.versions.all())
        services.delete_recipe(recipe, actor=bob)
        with django_capture_on_commit_callbacks(execute=True):
            dataset_services.delete_dataset(Dataset.objects.get(pk=dataset.pk), actor=bob)
        return tables

    return delete


def test_the_tables_of_a_deleted_output_dataset_are_dropped(
    project: Project,
    bob: User,
    shop: dict[str, Any],
    postgres_source: PostgresServer,
    warehouse: str,
    delete_output: Any,
) -> None:
    assert _build(project, bob).status == BuildStatus.SUCCEEDED
    assert _build(project, bob, force=True).status == BuildStatus.SUCCEEDED
    tables = delete_output(project, bob, shop["group"], "By country")
    assert len(tables) == 2 and _tables(postgres_source, warehouse, "analytics") == tables
    pending = TableDrop.objects.filter(state=TableDropState.PENDING)
    assert sorted(d.table for d in pending) == tables
    assert {(d.dataset_name, d.connection_name, d.project_slug) for d in pending} == {
        ("By country", "Warehouse", project.slug)
    }

    jobs = run_queued_jobs()
    assert [j.kind for j in jobs] == [DROP_JOB] and jobs[0].result == {
        "dropped": 2, "kept": 0, "failed": 0, "pending": 0,
    }  # fmt: skip
    assert _tables(postgres_source, warehouse, "analytics") == []
    assert set(TableDrop.objects.values_list("state", flat=True)) == {TableDropState.DROPPED}
    dropped = AuditEvent.objects.filter(action="flows.table_dropped")
    assert sorted(e.details["table"] for e in dropped) == [f"analytics.{t}" for t in tables]
    # The join's tables (its dataset is still there) are untouched.
    enriched = Dataset.objects.get(name="Enriched orders")
    assert sorted(_tables(postgres_source, warehouse)) == sorted(
        v.location["table"] for v in enriched.versions.all()
    )


def test_a_table_still_used_or_viewed_is_kept_and_a_linked_source_is_never_dropped(
    project: Project,
    bob: User,
    api_client: Any,
    shop: dict[str, Any],
    connection: Connection,
    postgres_source: PostgresServer,
    warehouse: str,
    delete_output: Any,
) -> None:
    assert _build(project, bob).status == BuildStatus.SUCCEEDED
    by_country = Dataset.objects.get(name="By country").latest_version
    enriched = Dataset.objects.get(name="Enriched orders").latest_version
    # Someone imports the group's table as a linked dataset, and builds a view on the join's table.
    relinked = _linked(
        api_client(bob), project, connection, f"analytics.{by_country.location['table']}", "Relinked"
    )
    _admin(
        postgres_source,
        warehouse,
        f'CREATE VIEW modelworks.big_orders AS SELECT * FROM modelworks."{enriched.location["table"]}"',  # noqa: S608
    )

    delete_output(project, bob, shop["group"], "By country")
    delete_output(project, bob, shop["join"], "Enriched orders")
    run_queued_jobs()
    states = {d.dataset_name: d for d in TableDrop.objects.all()}
    assert states["By country"].state == TableDropState.KEPT
    assert states["By country"].error == "a dataset version still uses it"
    assert states["Enriched orders"].state == TableDropState.FAILED
    assert "depend" in states["Enriched orders"].error  # PostgreSQL: other objects depend on it
    assert _tables(postgres_source, warehouse, "analytics") == [by_country.location["table"]]
    assert sorted(_tables(postgres_source, warehouse)) == ["big_orders", enriched.location["table"]]

    # Deleting linked datasets (their source tables are not Modelworks's) drops nothing.
    for dataset in (relinked, shop["orders"]):
        dataset_services.delete_dataset(Dataset.objects.get(pk=dataset.pk), actor=bob)
    run_queued_jobs()
    assert TableDrop.objects.count() == 2
    assert _tables(postgres_source, warehouse, "analytics") == [by_country.location["table"]]
    assert _tables(postgres_source, warehouse, "shop") == ["customers", "orders"]


def test_a_rolled_back_delete_drops_nothing(
    project: Project,
    bob: User,
    shop: dict[str, Any],
    postgres_source: PostgresServer,
    warehouse: str,
    django_capture_on_commit_callbacks: Any,
) -> None:
    assert _build(project, bob).status == BuildStatus.SUCCEEDED
    services.delete_recipe(shop["group"], actor=bob)
    dataset = Dataset.objects.get(name="By country")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            dataset_services.delete_dataset(dataset, actor=bob)
            raise RuntimeError("changed my mind")
    assert callbacks == []
    assert not TableDrop.objects.exists() and not Job.objects.filter(kind=DROP_JOB).exists()
    assert len(_tables(postgres_source, warehouse, "analytics")) == 1


def _version(**change: Any) -> DatasetVersion:
    values: dict[str, Any] = {
        "dataset_id": 12,
        "number": 3,
        "how": SourceKind.RECIPE,
        "location": {"connection_id": 4, "schema": "analytics", "table": "mw_12_v3_0a1b2c"},
    }
    values.update(change)
    return DatasetVersion(**values)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"how": SourceKind.CONNECTION_TABLE}, "a linked import's source table"),
        ({"location": None}, "Modelworks storage only"),
        ({"location": {"connection_id": 4, "schema": "analytics", "table": "orders"}}, "not our name"),
        (
            {"location": {"connection_id": 4, "schema": "analytics", "table": "mw_13_v3_0a1b2c"}},
            "other dataset",
        ),
        ({"location": {"connection_id": 4, "schema": "analytics", "table": "mw_12_v3_0a1b2c; x"}}, "suffix"),
        ({"location": {"connection_id": 4, "schema": 'a"b', "table": "mw_12_v3_0a1b2c"}}, "odd schema"),
        ({"location": {"connection_id": "4", "schema": "analytics", "table": "mw_12_v3_0a1b2c"}}, "id text"),
    ],
)
def test_only_tables_modelworks_made_for_that_version_qualify(change: dict[str, Any], why: str) -> None:
    assert table_to_drop(_version(**change)) is None, why


def test_a_recipe_output_table_qualifies() -> None:
    drop = table_to_drop(_version())
    assert drop is not None and (drop.connection_id, drop.label, drop.version_number) == (
        4,
        "analytics.mw_12_v3_0a1b2c",
        3,
    )
