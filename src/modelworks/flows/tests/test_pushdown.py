"""Push-down against a real PostgreSQL server: linked imports, recipes that run inside the database
when their inputs and outputs live in one connection, outputs loaded into a connection when they
cannot, atomic failures (no table, no version, no file left), and credentials kept out of sight."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import adbc_driver_postgresql.dbapi as pg
import duckdb
import pytest
from django.test import Client

from modelworks.connections import services as connection_services
from modelworks.connections.models import Connection
from modelworks.connections.tests.servers import PostgresServer
from modelworks.core.models import AuditEvent, Job, Project, User
from modelworks.core.testing.client import ApiClient, expect, expect_error
from modelworks.datasets import services as dataset_services
from modelworks.datasets.models import Dataset, DatasetVersion
from modelworks.datasets.testing import make_dataset, run_queued_jobs
from modelworks.flows import services
from modelworks.flows.models import Build, BuildStatus, BuildStep, Recipe, RecipeOutput
from modelworks.flows.services.pushdown import OutputChoice, OutputStorage
from modelworks.flows.testing import staging_files

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.connections.tests.servers"]

BUILDER_PASSWORD = "Builder-Writes-" + secrets.token_hex(4)
ApiFor = Callable[[User | None], ApiClient]

#: The rows of the warehouse, and what the recipes must compute from them (done here in Python).
CUSTOMERS = [(1, "Ada", "FR"), (2, "Bo", "DE"), (3, "Cy", "FR")]
ORDERS = [(g, 1 + g % 3, Decimal(g) * Decimal("1.50")) for g in range(1, 31)]


def expected_by_country() -> list[tuple[str, Decimal, int]]:
    country = {cid: c for cid, _, c in CUSTOMERS}
    totals: dict[str, tuple[Decimal, int]] = {}
    for _, customer, amount in ORDERS:
        total, count = totals.get(country[customer], (Decimal(0), 0))
        totals[country[customer]] = (total + amount, count + 1)
    return sorted((c, t, n) for c, (t, n) in totals.items())


@pytest.fixture(autouse=True)
def fresh_home(settings: Any, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    settings.MODELWORKS_HOME = home
    settings.MODELWORKS_DATA_DIR = home / "data"
    return home


def _admin(server: PostgresServer, database: str, *statements: str) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    with pg.connect(server.admin_uri(database), autocommit=True) as con:
        cur = con.cursor()
        for statement in statements:
            cur.execute(statement)
            if cur.description:
                rows = cur.fetchall()
        cur.close()
    return rows


@pytest.fixture
def warehouse(postgres_source: PostgresServer) -> Iterator[str]:
    """A database of its own (owned by the writable role ``builder``) with shop.customers/orders."""
    database = "pushdown_" + secrets.token_hex(4)
    _admin(
        postgres_source,
        "postgres",
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'builder') THEN "
        "CREATE ROLE builder LOGIN; END IF; END $$",
        f"ALTER ROLE builder PASSWORD '{BUILDER_PASSWORD}'",
        f"CREATE DATABASE {database} OWNER builder",
    )
    values = ", ".join(f"({i}, {c}, {a})" for i, c, a in ORDERS)
    people = ", ".join(f"({i}, '{n}', '{c}')" for i, n, c in CUSTOMERS)
    _admin(
        postgres_source,
        database,
        "CREATE SCHEMA shop AUTHORIZATION builder",
        "CREATE TABLE shop.customers (id integer PRIMARY KEY, name text, country text)",
        f"INSERT INTO shop.customers VALUES {people}",  # noqa: S608 - test constants
        "CREATE TABLE shop.orders (id integer PRIMARY KEY, customer_id integer, amount numeric(10,2))",
        f"INSERT INTO shop.orders VALUES {values}",  # noqa: S608 - test constants
        "ALTER TABLE shop.customers OWNER TO builder",
        "ALTER TABLE shop.orders OWNER TO builder",
    )
    try:
        yield database
    finally:
        _admin(postgres_source, "postgres", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


@pytest.fixture
def connection(project: Project, alice: User, postgres_source: PostgresServer, warehouse: str) -> Connection:
    return connection_services.create_connection(
        actor=alice,
        project=project,
        name="Warehouse",
        kind="postgresql",
        config=postgres_source.config(database=warehouse, user="builder"),
        secrets={"password": BUILDER_PASSWORD},
    )


def _tables(server: PostgresServer, database: str, schema: str = "modelworks") -> list[str]:
    rows = _admin(
        server,
        database,
        f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{schema}' ORDER BY 1",  # noqa: S608 - test constant
    )
    return [r[0] for r in rows]


def _linked(api: ApiClient, project: Project, connection: Connection, table: str, name: str) -> Dataset:
    expect(
        api.post(
            f"/projects/{project.slug}/datasets/import",
            {"connection_id": connection.pk, "table": table, "name": name, "keep_in_database": True},
        ),
        202,
    )
    run_queued_jobs()
    return Dataset.objects.get(project=project, name=name)


def _stored(connection: Connection, name: str, schema: str = "") -> OutputChoice:
    return OutputChoice(name, OutputStorage(connection.pk, schema))


def _build(project: Project, actor: User, **kwargs: Any) -> Build:
    build = services.submit_build(project, actor=actor, **kwargs)
    jobs = run_queued_jobs()
    build.refresh_from_db()
    build.job = next(j for j in jobs if j.pk == build.job_id)
    return build


def _parquet_rows(version: DatasetVersion) -> list[tuple[Any, ...]]:
    path = dataset_services.version_path(version)
    return duckdb.sql(f"SELECT * FROM read_parquet('{path}') ORDER BY ALL").fetchall()  # noqa: S608


def _pg_rows(server: PostgresServer, database: str, version: DatasetVersion) -> list[tuple[Any, ...]]:
    location = version.location
    assert location is not None
    return sorted(
        _admin(server, database, f'SELECT * FROM "{location["schema"]}"."{location["table"]}"')  # noqa: S608
    )


@pytest.fixture
def shop(project: Project, bob: User, api_client: ApiFor, connection: Connection) -> dict[str, Any]:
    """Orders and Customers linked to the warehouse; join + group recipes stored in it."""
    api = api_client(bob)
    orders = _linked(api, project, connection, "shop.orders", "Orders")
    customers = _linked(api, project, connection, "shop.customers", "Customers")
    join = services.create_recipe(
        project,
        actor=bob,
        name="Orders with customers",
        kind="join",
        inputs=[orders, customers],
        outputs=[_stored(connection, "Enriched orders")],
        spec={"joins": [{"type": "inner", "on": [{"left": "customer_id", "right": "id"}]}]},
    )
    group = services.create_recipe(
        project,
        actor=bob,
        name="Sales by country",
        kind="group",
        inputs=[join.output_datasets[0]],
        outputs=[_stored(connection, "By country", "analytics")],
        spec={
            "keys": ["country"],
            "aggregations": [
                {"column": "amount", "function": "sum"},
                {"column": None, "function": "count"},
            ],
        },
    )
    return {"orders": orders, "customers": customers, "join": join, "group": group}


def test_a_linked_import_records_its_table_and_keeps_a_snapshot(
    project: Project, shop: dict[str, Any], connection: Connection
) -> None:
    version = shop["orders"].latest_version
    assert version.location == {"connection_id": connection.pk, "schema": "shop", "table": "orders"}
    assert version.row_count == len(ORDERS) and [c["name"] for c in version.schema] == [
        "id", "customer_id", "amount",
    ]  # fmt: skip
    assert _parquet_rows(version) == sorted(ORDERS)  # the snapshot, for everything that reads Parquet


def test_join_and_group_run_inside_postgres_and_store_new_tables(
    project: Project,
    bob: User,
    shop: dict[str, Any],
    connection: Connection,
    postgres_source: PostgresServer,
    warehouse: str,
    api_client: ApiFor,
) -> None:
    build = _build(project, bob)
    assert build.status == BuildStatus.SUCCEEDED, build.error
    steps = {s.recipe_name: s for s in build.steps.all()}
    for name in ("Orders with customers", "Sales by country"):
        assert steps[name].engine == "postgres", steps[name].log
        assert "Ran inside PostgreSQL connection 'Warehouse'" in steps[name].log
    by_country = Dataset.objects.get(name="By country").latest_version
    enriched = Dataset.objects.get(name="Enriched orders").latest_version
    assert by_country.how_details["engine"] == "postgres" and enriched.how_details["engine"] == "postgres"
    assert by_country.location["connection_id"] == connection.pk
    assert by_country.location["schema"] == "analytics" and enriched.location["schema"] == "modelworks"
    assert by_country.location["table"].startswith(f"mw_{by_country.dataset_id}_v1_")
    # The group read the join's table, not a file: the rows are right in PostgreSQL and in the snapshot.
    expected = expected_by_country()
    assert [
        (c, Decimal(str(t)), n) for c, t, n in _pg_rows(postgres_source, warehouse, by_country)
    ] == expected
    assert [(c, Decimal(str(t)), n) for c, t, n in _parquet_rows(by_country)] == expected
    assert by_country.row_count == len(expected) and enriched.row_count == len(ORDERS)
    assert _tables(postgres_source, warehouse, "analytics") == [by_country.location["table"]]
    # The API shows where the version lives, never how to log in.
    body = expect(api_client(bob).get(f"/projects/{project.slug}/datasets/{by_country.dataset_id}"), 200)
    assert body["current_version"]["location"] == {**by_country.location, "connection": "Warehouse"}

    # A second build makes new tables and keeps the old versions' tables as they were.
    first = {v.dataset.name: v for v in (by_country, enriched)}
    again = _build(project, bob, force=True)
    assert again.status == BuildStatus.SUCCEEDED, again.error
    newer = Dataset.objects.get(name="By country").latest_version
    assert newer.number == 2 and newer.location["table"] != first["By country"].location["table"]
    assert newer.location["table"].startswith(f"mw_{newer.dataset_id}_v2_")
    assert sorted(_tables(postgres_source, warehouse, "analytics")) == sorted(
        [first["By country"].location["table"], newer.location["table"]]
    )
    assert _pg_rows(postgres_source, warehouse, first["By country"]) == _pg_rows(
        postgres_source, warehouse, newer
    )
    assert len(_tables(postgres_source, warehouse)) == 2  # two versions of Enriched orders

    # Credentials stay out of every job, step, build, audit entry and version.
    seen = json.dumps(
        [
            list(Job.objects.values("params", "result", "error")),
            [j.inline_log for j in (build.job, again.job)],
            list(BuildStep.objects.values("log", "error", "error_details")),
            list(Build.objects.values("plan", "error")),
            list(AuditEvent.objects.values("details")),
            list(DatasetVersion.objects.values("how_details", "location")),
        ],
        default=str,
    )
    assert BUILDER_PASSWORD not in seen


def test_a_recipe_failing_in_postgres_leaves_no_table_no_version_and_no_file(
    project: Project, bob: User, shop: dict[str, Any], connection: Connection,
    postgres_source: PostgresServer, warehouse: str,
) -> None:  # fmt: skip
    services.create_recipe(
        project,
        actor=bob,
        name="Ratios",
        kind="sql",
        inputs=[shop["orders"]],
        outputs=[_stored(connection, "Ratios")],
        spec={"sql": 'SELECT id, amount / (id - id) AS ratio FROM "Orders"'},
    )
    build = _build(project, bob, targets=[Dataset.objects.get(name="Ratios")])
    assert build.status == BuildStatus.FAILED
    step = build.steps.get(recipe_name="Ratios")
    assert step.engine == "postgres"
    assert "failed in PostgreSQL" in step.error and "division by zero" in step.error, step.error
    assert "nothing was created" in step.error
    assert not DatasetVersion.objects.filter(dataset__name="Ratios").exists()
    assert _tables(postgres_source, warehouse) == [] and staging_files() == []


def test_a_failure_after_the_tables_were_created_drops_them(
    project: Project, bob: User, shop: dict[str, Any], connection: Connection,
    postgres_source: PostgresServer, warehouse: str,
) -> None:  # fmt: skip
    services.create_recipe(
        project,
        actor=bob,
        name="Waits",
        kind="sql",
        inputs=[shop["orders"]],
        outputs=[_stored(connection, "Waits")],
        spec={"sql": "SELECT id, INTERVAL '2 days' AS waited FROM \"Orders\""},
    )
    build = _build(project, bob, targets=[Dataset.objects.get(name="Waits")])
    assert build.status == BuildStatus.FAILED
    step = build.steps.get(recipe_name="Waits")
    # The table was created (the statement succeeded); its snapshot could not be written.
    assert step.engine == "postgres"
    assert "column(s) 'waited' of type interval" in step.error and "convert them" in step.error, step.error
    assert _tables(postgres_source, warehouse) == []  # dropped again
    assert not DatasetVersion.objects.filter(dataset__name="Waits").exists() and staging_files() == []


def test_an_output_stored_in_postgres_from_a_parquet_input_is_loaded_there(
    project: Project, bob: User, connection: Connection, postgres_source: PostgresServer, warehouse: str
) -> None:
    flights = make_dataset(project, bob)
    services.create_recipe(
        project,
        actor=bob,
        name="Late flights",
        kind="prepare",
        inputs=[flights],
        outputs=[_stored(connection, "Late flights")],
        spec={"steps": [{"processor": "filter_formula", "params": {"formula": "dep_delay > 10"}}]},
    )
    build = _build(project, bob)
    assert build.status == BuildStatus.SUCCEEDED, build.error
    step = build.steps.get()
    assert step.engine == "duckdb"
    assert (
        "Did not run inside PostgreSQL connection 'Warehouse' (where its outputs go): "
        "input 'Flights' is not kept in a database." in step.log
    )
    version = Dataset.objects.get(name="Late flights").latest_version
    assert (
        f"Stored Late flights in PostgreSQL connection 'Warehouse' as table modelworks.{version.location['table']}."
        in step.log
    )
    assert version.how_details["engine"] == "duckdb" and version.row_count == 2
    assert _pg_rows(postgres_source, warehouse, version) == _parquet_rows(version)
    assert [r[0] for r in _parquet_rows(version)] == ["BA3", "LH7"]


def test_a_python_recipe_output_stored_in_postgres_is_loaded_there(
    project: Project, bob: User, shop: dict[str, Any], connection: Connection,
    postgres_source: PostgresServer, warehouse: str,
) -> None:  # fmt: skip
    code = (
        "from modelworks_recipe import inputs, outputs\n"
        "df = inputs['Customers'].pandas()\n"
        "df['shout'] = df['name'].str.upper()\n"
        "outputs['Shouted'].write(df[['id', 'shout']])\n"
    )
    services.create_recipe(
        project,
        actor=bob,
        name="Shout",
        kind="python",
        inputs=[shop["customers"]],
        outputs=[_stored(connection, "Shouted")],
        spec={"code": code},
    )
    build = _build(project, bob, targets=[Dataset.objects.get(name="Shouted")])
    assert build.status == BuildStatus.SUCCEEDED, build.error
    step = build.steps.get(recipe_name="Shout")
    assert step.engine == "python" and "Python recipes run in the sandbox" in step.log
    version = Dataset.objects.get(name="Shouted").latest_version
    assert _pg_rows(postgres_source, warehouse, version) == [(i, n.upper()) for i, n, _ in CUSTOMERS]


def test_a_recipe_postgres_cannot_run_runs_in_duckdb_and_says_why(
    project: Project, bob: User, shop: dict[str, Any], connection: Connection,
    postgres_source: PostgresServer, warehouse: str,
) -> None:  # fmt: skip
    services.create_recipe(
        project,
        actor=bob,
        name="Tagged",
        kind="prepare",
        inputs=[shop["customers"]],
        outputs=[_stored(connection, "Tagged")],
        spec={
            "steps": [
                {
                    "processor": "formula",
                    "params": {"output": "initial", "formula": "regex_extract(name, '^(.)', 1)"},
                }
            ]
        },
    )
    build = _build(project, bob, targets=[Dataset.objects.get(name="Tagged")])
    assert build.status == BuildStatus.SUCCEEDED, build.error
    step = build.steps.get(recipe_name="Tagged")
    assert step.engine == "duckdb"
    assert (
        "Did not run inside PostgreSQL connection 'Warehouse' (where its outputs go): step 1 (Formula): "
        "regex_extract() runs in DuckDB only" in step.log
    )
    version = Dataset.objects.get(name="Tagged").latest_version
    assert sorted(r[-1] for r in _pg_rows(postgres_source, warehouse, version)) == ["A", "B", "C"]


def test_the_incremental_check_is_unchanged_by_locations(
    project: Project, bob: User, shop: dict[str, Any]
) -> None:
    assert _build(project, bob).status == BuildStatus.SUCCEEDED
    again = _build(project, bob)
    assert {s.status for s in again.steps.all()} == {"up_to_date"}


# -- the output storage setting: service, API and editor page ---------------------------------------


def test_the_api_sets_and_shows_where_outputs_are_stored(
    project: Project, bob: User, shop: dict[str, Any], connection: Connection, api_client: ApiFor
) -> None:
    api = api_client(bob)
    url = f"/projects/{project.slug}/recipes"
    created = expect(
        api.post(
            url,
            {
                "name": "Big orders",
                "kind": "sql",
                "inputs": ["Orders"],
                "outputs": [{"name": "Big orders", "connection_id": connection.pk, "schema": "marts"}],
                "spec": {"sql": 'SELECT * FROM "Orders" WHERE amount > 20'},
            },
        ),
        201,
    )
    storage = {"connection_id": connection.pk, "connection": "Warehouse", "schema": "marts"}
    assert created["outputs"][0]["storage"] == storage
    # Given by name, an output keeps its storage; given as an object, it is set (null: Modelworks).
    patched = expect(api.patch(f"{url}/{created['id']}", {"outputs": ["Big orders"]}), 200)
    assert patched["outputs"][0]["storage"] == storage
    cleared = expect(
        api.patch(f"{url}/{created['id']}", {"outputs": [{"name": "Big orders", "connection_id": None}]}), 200
    )
    assert cleared["outputs"][0]["storage"] is None
    changes = AuditEvent.objects.filter(action="flows.recipe_updated").order_by("-id").first()
    assert changes is not None and "output_storage" in changes.details["changed"]


@pytest.mark.parametrize(
    ("make_output", "message"),
    [
        (
            lambda c, s3, other: {"name": "X", "connection_id": s3.pk},
            r"'Bucket' is not a PostgreSQL connection",
        ),
        (
            lambda c, s3, other: {"name": "X", "connection_id": other.pk},
            r"no connection \d+ is available in this project",
        ),
        (lambda c, s3, other: {"name": "X", "connection_id": 999999}, r"no connection 999999 is available"),
        (
            lambda c, s3, other: {"name": "X", "connection_id": c.pk, "schema": "bad-name; drop"},
            r"is not a schema name Modelworks uses",
        ),
    ],
    ids=["not_postgres", "other_project", "unknown", "bad_schema"],
)
def test_outputs_can_only_go_to_a_postgres_connection_of_the_project(
    project: Project,
    alice: User,
    bob: User,
    connection: Connection,
    api_client: ApiFor,
    make_output: Callable[..., dict[str, Any]],
    message: str,
) -> None:
    flights = make_dataset(project, bob)
    s3 = connection_services.create_connection(
        actor=alice, project=project, name="Bucket", kind="s3", config={"bucket": "raw"}
    )
    elsewhere = connection_services.create_connection(
        actor=alice,
        project=None,
        name="Not shared",
        kind="postgresql",
        config={"host": "db.internal", "database": "x", "user": "y"},
    )
    body = {
        "name": "Copy",
        "kind": "sql",
        "inputs": [flights.pk],
        "outputs": [make_output(connection, s3, elsewhere)],
        "spec": {"sql": 'SELECT * FROM "Flights"'},
    }
    error = expect_error(
        api_client(bob).post(f"/projects/{project.slug}/recipes", body), 422, "validation_error"
    )
    assert re.search(message, json.dumps(error)), error
    assert not Recipe.objects.exists()


def test_the_editor_offers_the_projects_postgres_connections_and_saves_the_choice(
    project: Project, bob: User, connection: Connection
) -> None:
    flights = make_dataset(project, bob)
    page = Client()
    page.force_login(bob)
    new_url = f"/projects/{project.slug}/flow/recipes/new/sql/"
    form = page.get(new_url + f"?input={flights.pk}").content.decode()
    assert (
        'name="output_connection"' in form
        and f'<option value="{connection.pk}">Warehouse (PostgreSQL)' in form
    )
    response = page.post(
        new_url,
        {
            "name": "Copy flights",
            "inputs": [str(flights.pk)],
            "outputs": ["Flights copy"],
            "output_connection": [str(connection.pk)],
            "output_schema": ["staging"],
            "spec.sql": 'SELECT * FROM "Flights"',
            "op": "save",
        },
    )
    assert response.status_code in (302, 303), response.content.decode()[:2000]
    link = RecipeOutput.objects.get(recipe__name="Copy flights")
    assert (link.storage_connection_id, link.storage_schema) == (connection.pk, "staging")
    edit = page.get(f"/projects/{project.slug}/flow/recipes/{link.recipe_id}/edit/").content.decode()
    assert f'<option value="{connection.pk}" selected>Warehouse (PostgreSQL)' in edit
    assert 'value="staging"' in edit
