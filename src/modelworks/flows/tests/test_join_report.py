"""The unmatched-rows report of join recipes on real data whose unmatched rows are counted here in
Python: after a build in DuckDB (step log, ``BuildStep.details``, build page), inside PostgreSQL for a
push-down step, skipped with a note for joins computed on the fly, and in the editor's preview on
its sample (labelled so)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import adbc_driver_postgresql.dbapi as pg
import pytest
from django.test import Client
from django.utils.html import escape

from modelworks.connections import services as connection_services
from modelworks.connections.models import Connection
from modelworks.connections.tests.servers import PostgresServer
from modelworks.core.models import Project, User
from modelworks.core.testing.client import ApiClient, expect
from modelworks.datasets.models import Dataset
from modelworks.datasets.testing import make_dataset, run_queued_jobs
from modelworks.engine.flow import UnmatchedCount
from modelworks.flows import services
from modelworks.flows.models import Build, BuildStatus, BuildStep, Recipe
from modelworks.flows.services.join_report import NOTHING_TO_COUNT, JoinReport, step_join_report
from modelworks.flows.services.pushdown import OutputChoice, OutputStorage

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.connections.tests.servers"]

ApiFor = Callable[[User | None], ApiClient]

#: 12,000 flights; one in 50 flies carrier ZZ (unknown), and after row 10,000 one in 10 flies YY
#: (unknown too), so the preview's sample (the first 10,000 rows) sees fewer unmatched rows.
FLIGHTS = [
    (
        i,
        "ZZ" if i % 50 == 7 else "YY" if i >= 10_000 and i % 10 == 0 else ("AA", "BB", "CC")[i % 3],
        100 + i % 900,
    )
    for i in range(12_000)
]
#: Carriers: DD has no flight.
CARRIERS = [("AA", "Alpha"), ("BB", "Bravo"), ("CC", "Charlie"), ("DD", "Delta")]
LEFT_JOIN: dict[str, Any] = {"joins": [{"type": "left", "on": [{"left": "carrier", "right": "code"}]}]}


def _csv(header: str, rows: list[tuple[Any, ...]]) -> bytes:
    return (header + "\n" + "\n".join(",".join(str(v) for v in row) for row in rows) + "\n").encode()


def _unmatched(rows: list[tuple[Any, ...]], column: int, known: set[str]) -> int:
    return sum(1 for row in rows if row[column] not in known)


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %"


@pytest.fixture(autouse=True)
def fresh_home(settings: Any, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    settings.MODELWORKS_HOME = home
    settings.MODELWORKS_DATA_DIR = home / "data"
    return home


@pytest.fixture
def sources(project: Project, bob: User) -> tuple[Dataset, Dataset]:
    flights = make_dataset(
        project, bob, name="Flights", content=_csv("flight,carrier,distance", FLIGHTS), file_name="f.csv"
    )
    carriers = make_dataset(
        project, bob, name="Carriers", content=_csv("code,name", CARRIERS), file_name="carriers.csv"
    )
    return flights, carriers


def _build(project: Project, actor: User, **kwargs: Any) -> Build:
    build = services.submit_build(project, actor=actor, **kwargs)
    run_queued_jobs()
    build.refresh_from_db()
    assert build.status == BuildStatus.SUCCEEDED, build.error
    return build


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _step(build: Build, recipe: str) -> BuildStep:
    return build.steps.get(recipe_name=recipe)


def test_a_build_counts_the_unmatched_rows_of_each_side_and_shows_them(
    project: Project, bob: User, carol: User, sources: tuple[Dataset, Dataset], api_client: ApiFor
) -> None:
    flights, carriers = sources
    services.create_recipe(
        project,
        actor=bob,
        name="Add carriers",
        kind="join",
        inputs=[flights, carriers],
        outputs=["Flights with carriers"],
        spec=LEFT_JOIN,
    )
    services.create_recipe(
        project,
        actor=bob,
        name="Every pairing",
        kind="join",
        inputs=[carriers, flights],
        outputs=["Pairs"],
        spec={"joins": [{"type": "cross"}]},
    )
    build = _build(project, bob)
    pairs = step_join_report(_step(build, "Every pairing").details)
    assert pairs is not None and (pairs.counts, pairs.notes) == ([], [NOTHING_TO_COUNT])
    step = _step(build, "Add carriers")
    lost = _unmatched(FLIGHTS, 1, {code for code, _ in CARRIERS})
    idle = _unmatched(CARRIERS, 0, {carrier for _, carrier, _ in FLIGHTS})
    assert (lost, idle) == (240 + 200, 1)  # 12,000 / 50 flights on ZZ; 2,000 / 10 after row 10,000 on YY
    report = step_join_report(step.details)
    assert report is not None and report.engine == "duckdb" and report.notes == []
    assert [c.to_dict() for c in report.counts] == [
        {
            "join": 1,
            "join_type": "left",
            "left": "Flights",
            "right": "Carriers",
            "side": "Flights",
            "other": "Carriers",
            "total_rows": len(FLIGHTS),
            "unmatched_rows": lost,
        },
        {
            "join": 1,
            "join_type": "left",
            "left": "Flights",
            "right": "Carriers",
            "side": "Carriers",
            "other": "Flights",
            "total_rows": len(CARRIERS),
            "unmatched_rows": idle,
        },
    ]
    line = (
        f"Join 1 (Flights LEFT JOIN Carriers): {lost:,} of {len(FLIGHTS):,} rows of 'Flights' found no match "
        f"({_percent(lost, len(FLIGHTS))})"
    )
    assert (
        line == "Join 1 (Flights LEFT JOIN Carriers): 440 of 12,000 rows of 'Flights' found no match (3.7 %)"
    )
    assert line in step.log and "1 of 4 rows of 'Carriers' found no match (25.0 %)" in step.log
    # The left join keeps every flight: the rows written agree with the report.
    assert step.rows == {"Flights with carriers": len(FLIGHTS)}

    page = _client(carol).get(f"/projects/{project.slug}/flow/builds/{build.pk}/").content.decode()
    assert "data-join-report" in page and escape(line) in page
    assert f'data-unmatched="{lost}" data-total="{len(FLIGHTS)}"' in page
    body = expect(api_client(carol).get(f"/projects/{project.slug}/builds/{build.pk}"), 200)
    api_step = next(s for s in body["steps"] if s["recipe_name"] == "Add carriers")
    assert api_step["details"] == {"join_report": report.to_dict()}


def test_a_join_computed_on_the_fly_has_no_report_and_the_step_says_so(
    project: Project, bob: User, carol: User, sources: tuple[Dataset, Dataset]
) -> None:
    flights, carriers = sources
    join = services.create_recipe(
        project,
        actor=bob,
        name="Add carriers",
        kind="join",
        inputs=[flights, carriers],
        outputs=["Flights with carriers"],
        spec={"joins": [{"type": "inner", "on": [{"left": "carrier", "right": "code"}]}]},
        virtual_outputs=["Flights with carriers"],
    )
    services.create_recipe(
        project,
        actor=bob,
        name="Flights per carrier",
        kind="group",
        inputs=[join.output_datasets[0]],
        outputs=["Per carrier"],
        spec={"keys": ["name"], "aggregations": [{"column": None, "function": "count"}]},
    )
    build = _build(project, bob)
    step = _step(build, "Flights per carrier")
    report = step_join_report(step.details)
    assert report is not None and report.counts == []
    assert report.notes == [
        "Join recipe 'Add carriers' is computed on the fly inside this step (its output is not stored), "
        "so its unmatched rows are not counted; store its output to see them."
    ]
    assert report.notes[0] in step.log
    assert step.rows == {"Per carrier": 3}  # the inner join dropped ZZ and YY: three carriers left
    page = _client(carol).get(f"/projects/{project.slug}/flow/builds/{build.pk}/").content.decode()
    assert escape(report.notes[0]) in page


def test_the_preview_shows_the_report_on_its_sample_labelled_so(
    project: Project, bob: User, sources: tuple[Dataset, Dataset]
) -> None:
    flights, carriers = sources
    form = {
        "name": "Add carriers",
        "inputs": [str(flights.pk), str(carriers.pk)],
        "outputs": ["Flights with carriers"],
        "spec.joins.n": "1",
        "spec.joins.0.type": "left",
        "spec.joins.0.on.n": "1",
        "spec.joins.0.on.0.left": "carrier",
        "spec.joins.0.on.0.right": "code",
    }
    page = (
        _client(bob).post(f"/projects/{project.slug}/flow/recipes/new/join/preview/", form).content.decode()
    )
    sample = FLIGHTS[: services.PREVIEW_SAMPLE_ROWS]
    lost = _unmatched(sample, 1, {code for code, _ in CARRIERS})
    assert lost == 200 < _unmatched(FLIGHTS, 1, {code for code, _ in CARRIERS})  # no YY in the sample
    assert "Unmatched rows, on a sample of 10,000 rows of each input" in page
    assert (
        escape(
            f"Join 1 (Flights LEFT JOIN Carriers): {lost} of 10,000 rows of 'Flights' found no match "
            f"({_percent(lost, len(sample))})"
        )
        in page
    )
    assert (
        escape("Join 1 (Flights LEFT JOIN Carriers): 1 of 4 rows of 'Carriers' found no match (25.0 %)")
        in page
    )

    # A broken key: the preview shows the error, and no report.
    broken = _client(bob).post(
        f"/projects/{project.slug}/flow/recipes/new/join/preview/",
        {**form, "spec.joins.0.on.0.right": "kode"},
    )
    assert (
        "data-preview-error" in broken.content.decode() and "data-join-report" not in broken.content.decode()
    )


def test_report_texts_and_stored_details_read_back() -> None:
    count = UnmatchedCount(1, "inner", "A", "B", "B", "A", total_rows=336_776, unmatched_rows=1_234)
    assert count.message == "Join 1 (A INNER JOIN B): 1,234 of 336,776 rows of 'B' found no match (0.4 %)"
    few = UnmatchedCount(2, "anti", "A", "C", "A", "C", total_rows=100_000, unmatched_rows=3)
    assert few.percent == "< 0.1 %" and few.title == "Join 2 (A ANTI JOIN C)"
    none = UnmatchedCount(1, "full", "A", "B", "A", "B", total_rows=0, unmatched_rows=0)
    assert none.percent == "0 %" and none.share == 0.0
    stored = JoinReport([count, few], engine="duckdb", notes=["n"]).to_dict()
    again = step_join_report({"join_report": stored})
    assert again is not None and again.counts == [count, few] and again.notes == ["n"]
    assert step_join_report({}) is None
    assert step_join_report({"join_report": {"engine": "duckdb", "counts": [], "notes": []}}) is None
    assert UnmatchedCount.from_dict({"join": "x"}) is None


# ------------------------------------------------------------------------------------------ PostgreSQL

ORDERS = [(g, 1 + g % 5) for g in range(1, 41)]  # customers 4 and 5 do not exist
CUSTOMERS = [(1, "Ada"), (2, "Bo"), (3, "Cy"), (9, "Nobody")]  # 9 has no order
REPORTER_PASSWORD = "Reporter-" + secrets.token_hex(4)


def _admin(server: PostgresServer, database: str, *statements: str) -> None:
    with pg.connect(server.admin_uri(database), autocommit=True) as con:
        cur = con.cursor()
        for statement in statements:
            cur.execute(statement)
        cur.close()


@pytest.fixture
def warehouse(postgres_source: PostgresServer) -> Iterator[str]:
    database = "joinreport_" + secrets.token_hex(4)
    _admin(
        postgres_source,
        "postgres",
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reporter') THEN "
        "CREATE ROLE reporter LOGIN; END IF; END $$",
        f"ALTER ROLE reporter PASSWORD '{REPORTER_PASSWORD}'",
        f"CREATE DATABASE {database} OWNER reporter",
    )
    orders = ", ".join(f"({i}, {c})" for i, c in ORDERS)
    people = ", ".join(f"({i}, '{n}')" for i, n in CUSTOMERS)
    _admin(
        postgres_source,
        database,
        "CREATE SCHEMA shop AUTHORIZATION reporter",
        "CREATE TABLE shop.orders (id integer PRIMARY KEY, customer_id integer)",
        f"INSERT INTO shop.orders VALUES {orders}",  # noqa: S608 - test constants
        "CREATE TABLE shop.customers (id integer PRIMARY KEY, name text)",
        f"INSERT INTO shop.customers VALUES {people}",  # noqa: S608 - test constants
        "ALTER TABLE shop.orders OWNER TO reporter",
        "ALTER TABLE shop.customers OWNER TO reporter",
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
        config=postgres_source.config(database=warehouse, user="reporter"),
        secrets={"password": REPORTER_PASSWORD},
    )


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


def test_a_push_down_join_counts_inside_postgres(
    project: Project, bob: User, api_client: ApiFor, connection: Connection
) -> None:
    api = api_client(bob)
    orders = _linked(api, project, connection, "shop.orders", "Orders")
    customers = _linked(api, project, connection, "shop.customers", "Customers")
    services.create_recipe(
        project,
        actor=bob,
        name="Orders with customers",
        kind="join",
        inputs=[orders, customers],
        outputs=[OutputChoice("Named orders", OutputStorage(connection.pk, ""))],
        spec={"joins": [{"type": "inner", "on": [{"left": "customer_id", "right": "id"}]}]},
    )
    build = _build(project, bob)
    step = _step(build, "Orders with customers")
    assert step.engine == "postgres", step.log
    lost = _unmatched(ORDERS, 1, {i for i, _ in CUSTOMERS})
    idle = _unmatched(CUSTOMERS, 0, {c for _, c in ORDERS})
    assert (lost, idle) == (16, 1)
    report = step_join_report(step.details)
    assert report is not None and report.engine == "postgres"
    assert [(c.side, c.total_rows, c.unmatched_rows) for c in report.counts] == [
        ("Orders", len(ORDERS), lost),
        ("Customers", len(CUSTOMERS), idle),
    ]
    assert (
        "Join 1 (Orders INNER JOIN Customers): 16 of 40 rows of 'Orders' found no match (40.0 %)" in step.log
    )
    assert step.rows == {"Named orders": len(ORDERS) - lost}
    assert (
        Recipe.objects.get(name="Orders with customers").output_links.get().storage_connection == connection
    )
