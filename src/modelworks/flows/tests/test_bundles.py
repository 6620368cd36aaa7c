"""Project bundles on real data: export a project (datasets, a prepare → join chain, a scenario) to
YAML files (+ Parquet), import it into a new project, build it and get the same rows; byte-stable
re-exports; no secret in any file; unsafe or inconsistent bundles refused with nothing created;
the API, the settings page and the ``modelworks project`` command."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from django.test import Client

from modelworks.connections import services as connection_services
from modelworks.connections.models import Connection
from modelworks.core import services as core_services
from modelworks.core.models import AuditEvent, Project, User
from modelworks.core.testing.client import ApiClient, expect, expect_error
from modelworks.datasets import services as dataset_services
from modelworks.datasets.models import Dataset, SourceKind
from modelworks.datasets.storage import data_store
from modelworks.datasets.testing import make_dataset, run_queued_jobs
from modelworks.engine.io import ImportOptions, import_file
from modelworks.flows import services
from modelworks.flows.bundles import BundleError, export_project, export_zip, import_bundle
from modelworks.flows.bundles.yamltext import dump_yaml, load_yaml
from modelworks.flows.models import Recipe, RecipeOutput
from modelworks.flows.services.pushdown import OutputChoice, OutputStorage
from modelworks.flows.testing import CARRIERS_CSV, stored_objects
from modelworks.scenarios import services as scenario_services
from modelworks.scenarios.models import Scenario

pytest_plugins = ["modelworks.core.testing.fixtures"]

ApiFor = Callable[[User | None], ApiClient]
PASSWORD = "Sup3r-s3cret-PG-pw"
PREPARE_SPEC: dict[str, Any] = {
    "steps": [
        {"processor": "filter_formula", "params": {"formula": "distance > 500", "action": "keep"}},
        {"processor": "formula", "params": {"output": "late", "formula": "dep_delay > 10"}},
    ]
}


@pytest.fixture(autouse=True)
def fresh_home(settings: Any, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    settings.MODELWORKS_HOME = home
    settings.MODELWORKS_DATA_DIR = home / "data"
    settings.MODELWORKS_WEBHOOK_ALLOWLIST = ["hooks.example.com"]
    return home


@pytest.fixture
def flow(project: Project, bob: User) -> dict[str, Any]:
    """Flights and Carriers (uploads), Flights with a rule, tags and descriptions; prepare → join;
    a scenario that builds the join's output on a schedule and when Flights changes, then notifies."""
    flights = make_dataset(project, bob)
    carriers = make_dataset(project, bob, name="Carriers", content=CARRIERS_CSV, file_name="carriers.csv")
    dataset_services.update_dataset(
        flights,
        actor=bob,
        description="Departures: one row per flight.",
        tags=["aviation", "daily"],
        column_descriptions={"dep_delay": "Minutes late at departure."},
    )
    dataset_services.add_rule(flights, actor=bob, kind="not_null", params={"column": "flight"}, blocking=True)
    prepare = services.create_recipe(
        project,
        actor=bob,
        name="Long flights",
        kind="prepare",
        inputs=[flights],
        outputs=["Long flights"],
        spec=PREPARE_SPEC,
        description="Over 500 km, with a late flag.",
    )
    join = services.create_recipe(
        project,
        actor=bob,
        name="Add carriers",
        kind="join",
        inputs=[prepare.output_datasets[0], carriers],
        outputs=["Enriched"],
        spec={"joins": [{"type": "inner", "on": [{"left": "carrier", "right": "code"}]}]},
    )
    enriched = join.output_datasets[0]
    scenario_services.create_scenario(
        project,
        actor=bob,
        name="Nightly",
        description="Rebuild every night.",
        triggers=[{"kind": "cron", "cron": "0 3 * * *"}, {"kind": "dataset_changed", "dataset": flights.pk}],
        steps=[
            {"kind": "build", "params": {"datasets": [enriched.pk], "force": False}},
            {
                "kind": "notify",
                "name": "Tell the team",
                "run_condition": "always",
                "params": {
                    "channel": "webhook",
                    "url": "https://hooks.example.com/T000/B000/XXXXSECRETTOKEN",
                },
            },
        ],
    )
    return {"flights": flights, "carriers": carriers, "enriched": enriched}


def _build(project: Project, actor: User) -> None:
    build = services.submit_build(project, actor=actor)
    run_queued_jobs()
    build.refresh_from_db()
    assert build.status == "succeeded", build.error


def _rows(project: Project, name: str) -> list[tuple[Any, ...]]:
    version = Dataset.objects.get(project=project, name=name).latest_version
    assert version is not None, f"{name} has no version"
    path = dataset_services.version_path(version)
    return duckdb.sql(f"SELECT * FROM read_parquet('{path}') ORDER BY ALL").fetchall()  # noqa: S608 - test path


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _counts() -> tuple[int, int, int, int, int]:
    return (
        Project.objects.count(),
        Dataset.objects.count(),
        Recipe.objects.count(),
        Scenario.objects.count(),
        len(stored_objects()),
    )


# ------------------------------------------------------------------------------------------ round trip


def test_export_import_build_gives_the_same_rows(
    project: Project, bob: User, alice: User, flow: dict[str, Any], tmp_path: Path
) -> None:
    report = export_project(project, tmp_path / "bundle", with_data=True)
    files = _files(tmp_path / "bundle")
    assert sorted(files) == [
        "data/carriers.parquet",
        "data/flights.parquet",
        "datasets/carriers.yaml",
        "datasets/enriched.yaml",
        "datasets/flights.yaml",
        "datasets/long-flights.yaml",
        "modelworks-project.yaml",
        "recipes/add-carriers.yaml",
        "recipes/long-flights.yaml",
        "scenarios/nightly.yaml",
    ]
    assert (report.datasets, report.recipes, report.scenarios, report.data_files) == (4, 2, 1, 2)
    flights_doc = load_yaml(files["datasets/flights.yaml"])
    assert flights_doc["owner"] == "bob" and flights_doc["tags"] == ["aviation", "daily"]
    assert flights_doc["quality_rules"] == [
        {
            "blocking": True,
            "enabled": True,
            "kind": "not_null",
            "name": flights_doc["quality_rules"][0]["name"],
            "params": {"column": "flight"},
        }
    ]
    assert [c["name"] for c in flights_doc["columns"]] == [
        "flight",
        "carrier",
        "dep_delay",
        "distance",
        "day",
    ]
    assert load_yaml(files["recipes/add-carriers.yaml"])["inputs"] == ["Long flights", "Carriers"]
    scenario = load_yaml(files["scenarios/nightly.yaml"])
    assert scenario["steps"][0]["params"] == {"datasets": ["Enriched"], "force": False}
    assert scenario["triggers"][1] == {"kind": "dataset_changed", "dataset": "Flights", "enabled": True}

    imported = import_bundle(tmp_path / "bundle", actor=alice, slug="delays-copy", name="Delays copy")
    copy = imported.project
    assert (copy.slug, copy.name, copy.role_of(alice)) == ("delays-copy", "Delays copy", "admin")
    assert (imported.datasets, imported.versions, imported.recipes, imported.scenarios) == (4, 2, 2, 1)
    assert any("Tell the team" in w for w in imported.warnings)
    copied = Dataset.objects.get(project=copy, name="Flights")
    assert (copied.owner, copied.tags, copied.column_descriptions) == (
        bob,
        ["aviation", "daily"],
        {"dep_delay": "Minutes late at departure."},
    )
    assert copied.rules.get().blocking and copied.latest_version.quality_status == "passed"
    nightly = Scenario.objects.get(project=copy)
    assert [t.kind for t in nightly.triggers.order_by("id")] == ["cron", "dataset_changed"]
    assert nightly.triggers.get(kind="dataset_changed").dataset == copied
    assert [s.kind for s in nightly.steps.order_by("position")] == ["build"]
    assert AuditEvent.objects.filter(action="project.imported", project=copy, actor=alice).exists()
    revisions = Recipe.objects.get(project=copy, name="Add carriers").revisions.values_list(
        "change", flat=True
    )
    assert list(revisions) == ["created"]

    _build(project, bob)
    _build(copy, alice)
    assert _rows(copy, "Enriched") == _rows(project, "Enriched")
    assert len(_rows(copy, "Enriched")) == 4  # distance > 500 keeps 4 of the 5 flights

    # Exporting the copy gives the same definitions (the notification step was left out on import).
    export_project(copy, tmp_path / "again", with_data=True)
    export_project(project, tmp_path / "bundle", with_data=True)  # now with the built columns too
    again, files = _files(tmp_path / "again"), _files(tmp_path / "bundle")
    assert load_yaml(again["datasets/enriched.yaml"])["columns"]
    for name, content in files.items():
        if name.endswith(".yaml") and name not in ("scenarios/nightly.yaml", "modelworks-project.yaml"):
            assert again[name].decode() == content.decode(), name


def test_without_data_datasets_have_no_versions_and_recipes_wait_for_data(
    project: Project, bob: User, alice: User, flow: dict[str, Any], tmp_path: Path
) -> None:
    export_project(project, tmp_path / "bundle")
    assert not (tmp_path / "bundle" / "data").exists()
    assert load_yaml((tmp_path / "bundle" / "modelworks-project.yaml").read_text())["with_data"] is False
    report = import_bundle(tmp_path / "bundle", actor=alice, slug="no-data")
    copy = report.project
    assert report.versions == 0 and not Dataset.objects.filter(project=copy, versions__isnull=False).exists()
    assert Recipe.objects.filter(project=copy).count() == 2
    problems = services.check_flow(copy)
    assert problems and problems[0].code == "flow_unknown_schema" and "Flights" in problems[0].message


def test_re_export_without_change_gives_identical_bytes(
    project: Project, flow: dict[str, Any], tmp_path: Path
) -> None:
    export_project(project, tmp_path / "one", with_data=True)
    export_project(project, tmp_path / "one", with_data=True)  # into the earlier export: replaced
    export_project(project, tmp_path / "two", with_data=True)
    assert _files(tmp_path / "one") == _files(tmp_path / "two")
    first, second = io.BytesIO(), io.BytesIO()
    export_zip(project, first, with_data=True)
    export_zip(project, second, with_data=True)
    assert first.getvalue() == second.getvalue()
    Recipe.objects.get(project=project, name="Add carriers").delete()
    export_project(project, tmp_path / "one")
    assert "recipes/add-carriers.yaml" not in _files(tmp_path / "one")
    assert not (tmp_path / "one" / "data").exists() or not any((tmp_path / "one" / "data").iterdir())


def test_no_secret_e_mail_or_audit_data_in_any_exported_file(
    project: Project, bob: User, flow: dict[str, Any], tmp_path: Path
) -> None:
    connection = connection_services.create_connection(
        actor=bob,
        project=project,
        name="Warehouse",
        kind="postgresql",
        config={"host": "db.internal.example", "port": 5432, "database": "dwh", "user": "loader"},
        secrets={"password": PASSWORD},
    )
    source = tmp_path / "rows.csv"
    source.write_bytes(b"id,amount\n1,10\n2,20\n")
    info = import_file(source, store=data_store(), options=ImportOptions(original_name="public.sales"))
    dataset_services.create_version(
        project=project,
        info=info,
        how=SourceKind.CONNECTION_TABLE,
        how_details={
            "connection": "Warehouse",
            "table": "public.sales",
            "file_name": "public.sales",
            "options": {},
        },
        actor=bob,
        job=None,
        name="Sales",
        connection=connection,
    )
    export_project(project, tmp_path / "bundle", with_data=True)
    archive = io.BytesIO()
    export_zip(project, archive, with_data=True)
    sales = load_yaml((tmp_path / "bundle" / "datasets" / "sales.yaml").read_text())
    assert sales["source"] == {
        "kind": "connection_table",
        "connection": "Warehouse",
        "details": {"file_name": "public.sales", "options": {}, "table": "public.sales"},
    }
    forbidden = [
        PASSWORD,
        connection.encrypted_secrets[:40],
        "db.internal.example",
        "loader",
        "@example.test",
        "XXXXSECRETTOKEN",
        "hooks.example.com",
        "project.created",
        "source_object_id",
    ]
    blobs = {**_files(tmp_path / "bundle"), "bundle.zip": archive.getvalue()}
    with zipfile.ZipFile(archive) as opened:
        blobs.update({f"zip:{n}": opened.read(n) for n in opened.namelist()})
    for name, content in blobs.items():
        for secret in forbidden:
            assert secret.encode() not in content, f"{secret!r} found in {name}"


# --------------------------------------------------------------------------------------- bad bundles


def _zip_of(folder: Path, target: Path, extra: list[tuple[zipfile.ZipInfo | str, bytes]] = ()) -> Path:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in _files(folder).items():
            archive.writestr(name, content)
        for info, content in extra:
            archive.writestr(info, content)
    return target


def _edit(folder: Path, name: str, change: Callable[[dict[str, Any]], None]) -> None:
    path = folder / name
    doc = load_yaml(path.read_text())
    change(doc)
    path.write_text(dump_yaml(doc))


def _symlink_member() -> zipfile.ZipInfo:
    info = zipfile.ZipInfo("datasets/link.yaml")
    info.external_attr = 0o120777 << 16
    return info


def _bad_version(folder: Path, tmp: Path) -> Path:
    _edit(folder, "modelworks-project.yaml", lambda d: d.update(version=99))
    return folder


def _missing_dataset(folder: Path, tmp: Path) -> Path:
    _edit(folder, "recipes/add-carriers.yaml", lambda d: d.update(inputs=["Long flights", "Airlines"]))
    return folder


def _bad_spec(folder: Path, tmp: Path) -> Path:
    _edit(
        folder,
        "recipes/long-flights.yaml",
        lambda d: d["spec"]["steps"][0]["params"].update(formula="miles > 5"),
    )
    return folder


def _python_tag(folder: Path, tmp: Path) -> Path:
    path = folder / "datasets" / "carriers.yaml"
    path.write_text(path.read_text() + "extra: !!python/object/apply:os.system ['touch /tmp/pwned']\n")
    return folder


def _zip_slip(folder: Path, tmp: Path) -> Path:
    return _zip_of(folder, tmp / "slip.zip", [("../../x", b"boom")])


def _absolute(folder: Path, tmp: Path) -> Path:
    return _zip_of(folder, tmp / "abs.zip", [("/etc/x", b"boom")])


def _symlink(folder: Path, tmp: Path) -> Path:
    return _zip_of(folder, tmp / "link.zip", [(_symlink_member(), b"/etc/passwd")])


def _folder_symlink(folder: Path, tmp: Path) -> Path:
    (folder / "datasets" / "passwd.yaml").symlink_to("/etc/passwd")
    return folder


def _bomb(folder: Path, tmp: Path) -> Path:
    return _zip_of(folder, tmp / "bomb.zip", [("data/zeros.parquet", b"\0" * 30_000_000)])


def _oversize(folder: Path, tmp: Path) -> Path:
    target = _zip_of(folder, tmp / "big.zip")
    with target.open("ab") as out:
        out.write(os.urandom(2_000_000))
    return target


def _settings_of(doc: dict[str, Any], settings: dict[str, Any]) -> None:
    doc["output_settings"] = settings


def _unknown_output(folder: Path, tmp: Path) -> Path:
    _edit(folder, "recipes/add-carriers.yaml", lambda d: _settings_of(d, {"Nope": {"virtual": True}}))
    return folder


def _virtual_and_stored(folder: Path, tmp: Path) -> Path:
    both = {"Enriched": {"virtual": True, "storage": {"connection": "Warehouse"}}}
    _edit(folder, "recipes/add-carriers.yaml", lambda d: _settings_of(d, both))
    return folder


def _storage_without_connection(folder: Path, tmp: Path) -> Path:
    nowhere = {"Enriched": {"storage": {"schema": "marts"}}}
    _edit(folder, "recipes/add-carriers.yaml", lambda d: _settings_of(d, nowhere))
    return folder


def _python_not_stored(folder: Path, tmp: Path) -> Path:
    _edit(
        folder,
        "recipes/long-flights.yaml",
        lambda d: d.update(
            kind="python",
            spec={"code": "from modelworks_recipe import inputs, outputs\n"},
            output_settings={"Long flights": {"virtual": True}},
        ),
    )
    return folder


@pytest.mark.parametrize(
    ("spoil", "match"),
    [
        (_unknown_output, r"add-carriers.yaml: output_settings of 'Nope': 'Nope' is not one of the recipe's"),
        (_virtual_and_stored, r"add-carriers.yaml: output_settings of 'Enriched': an output cannot be both"),
        (_storage_without_connection, r"recipes/add-carriers.yaml: the key 'connection' is missing"),
        (_python_not_stored, r"nothing was created: A Python recipe's outputs are always stored"),
        (_bad_version, r"modelworks-project.yaml: unknown format version '99'"),
        (_missing_dataset, r"recipe 'Add carriers' reads dataset 'Airlines', which is not in the bundle"),
        (_bad_spec, r"recipes/long-flights.yaml: recipe 'Long flights' does not compile: .*miles"),
        (_python_tag, r"datasets/carriers.yaml: uses a YAML tag that is not allowed"),
        (_zip_slip, r"unsafe member name '../../x'"),
        (_absolute, r"unsafe member name '/etc/x'"),
        (_symlink, r"'datasets/link.yaml' is a symbolic link"),
        (_folder_symlink, r"datasets/passwd.yaml: is a symbolic link"),
        (_bomb, r"unpacks to 30,[\d,]+ bytes; the limit is 8,000,000 bytes \(a zip bomb\?\)"),
        (_oversize, r"the archive is [\d,]+ bytes; the limit is 2,000,000 bytes"),
    ],
)
def test_bad_bundles_are_refused_and_nothing_is_created(
    project: Project, alice: User, flow: dict[str, Any], tmp_path: Path, settings: Any, spoil: Any, match: str
) -> None:
    export_project(project, tmp_path / "bundle", with_data=True)
    source = spoil(tmp_path / "bundle", tmp_path)
    settings.MODELWORKS_MAX_UPLOAD_BYTES = 2_000_000
    before = _counts()
    with pytest.raises(BundleError, match=match):
        import_bundle(source, actor=alice, slug="copy")
    assert _counts() == before
    assert not Path("/tmp/pwned").exists()


def test_target_must_be_new_or_empty(
    project: Project, alice: User, flow: dict[str, Any], tmp_path: Path
) -> None:
    export_project(project, tmp_path / "bundle")
    with pytest.raises(BundleError, match="a project with the short name 'flight-delays' already exists"):
        import_bundle(tmp_path / "bundle", actor=alice, slug="flight-delays")
    with pytest.raises(BundleError, match="project 'flight-delays' already has datasets"):
        import_bundle(tmp_path / "bundle", actor=alice, project=project)
    with pytest.raises(BundleError, match="'Not A Slug' cannot be a project short name"):
        import_bundle(tmp_path / "bundle", actor=alice, slug="Not A Slug")


# ------------------------------------------------------------------------------------- output settings


def _connection(project: Project, actor: User, name: str = "Warehouse") -> Connection:
    return connection_services.create_connection(
        actor=actor,
        project=project,
        name=name,
        kind="postgresql",
        config={"host": "db.example.test", "port": 5432, "database": "dwh", "user": "loader"},
        secrets={"password": PASSWORD},
    )


@pytest.fixture
def stored_flow(project: Project, bob: User, alice: User, flow: dict[str, Any]) -> Connection:
    """The flow with 'Long flights' not stored (computed inside the join) and 'Enriched' stored in
    the project's PostgreSQL connection 'Warehouse', schema 'marts'."""
    warehouse = _connection(project, alice)
    services.update_recipe(
        Recipe.objects.get(project=project, name="Long flights"), actor=bob, virtual_outputs=["Long flights"]
    )
    join = Recipe.objects.get(project=project, name="Add carriers")
    services.update_recipe(
        join, actor=bob, outputs=[OutputChoice(flow["enriched"], OutputStorage(warehouse.pk, "marts"))]
    )
    return warehouse


def _settings(project: Project) -> dict[str, tuple[str | None, str, bool]]:
    return {
        link.dataset.name: (
            link.storage_connection.name if link.storage_connection else None,
            link.storage_schema,
            link.virtual,
        )
        for link in RecipeOutput.objects.filter(recipe__project=project).select_related(
            "dataset", "storage_connection"
        )
    }


@pytest.mark.parametrize("with_data", [True, False])
def test_output_settings_round_trip_with_the_connection_found_by_name(
    project: Project, alice: User, stored_flow: Connection, tmp_path: Path, with_data: bool
) -> None:
    export_project(project, tmp_path / "bundle", with_data=with_data)
    files = _files(tmp_path / "bundle")
    assert load_yaml(files["recipes/add-carriers.yaml"])["output_settings"] == {
        "Enriched": {"storage": {"connection": "Warehouse", "schema": "marts"}}
    }
    assert load_yaml(files["recipes/long-flights.yaml"])["output_settings"] == {
        "Long flights": {"virtual": True}
    }
    assert not any(b"connection_id" in content for content in files.values())

    target = core_services.create_project(actor=alice, slug="copy", name="Copy")
    other = _connection(target, alice)  # the same name, another connection
    report = import_bundle(tmp_path / "bundle", actor=alice, project=target)
    assert not [w for w in report.warnings if "Warehouse" in w]
    assert _settings(target) == {
        "Long flights": (None, "modelworks", True),
        "Enriched": ("Warehouse", "marts", False),
    }
    join = Recipe.objects.get(project=target, name="Add carriers")
    assert join.output_links.get().storage_connection == other
    assert join.revisions.get().output_settings == {
        "Enriched": {"storage": {"connection": "Warehouse", "connection_id": other.pk, "schema": "marts"}}
    }
    export_project(target, tmp_path / "again", with_data=with_data)
    again = _files(tmp_path / "again")
    for name in ("recipes/add-carriers.yaml", "recipes/long-flights.yaml"):
        assert again[name] == files[name], name


def test_a_missing_storage_connection_refuses_the_import_unless_dropped(
    project: Project, alice: User, dave: User, stored_flow: Connection, tmp_path: Path, api_client: ApiFor
) -> None:
    export_project(project, tmp_path / "bundle", with_data=True)
    before = _counts()
    with pytest.raises(
        BundleError,
        match=r"stored in PostgreSQL connections this project cannot use: 'Warehouse' \(for 'Enriched' of "
        r"recipe 'Add carriers'\)\. Either a new project has no connection yet: .* --drop-storage",
    ):
        import_bundle(tmp_path / "bundle", actor=alice, slug="copy")
    target = core_services.create_project(actor=alice, slug="empty", name="Empty")
    _connection(target, alice, name="Lake")  # a connection, but not the one named in the bundle
    with pytest.raises(BundleError, match=r"'Warehouse' \(for 'Enriched' of recipe 'Add carriers'\)"):
        import_bundle(tmp_path / "bundle", actor=alice, project=target)
    assert _counts()[1:] == before[1:]  # no dataset, recipe, scenario or stored file more

    report = import_bundle(tmp_path / "bundle", actor=alice, slug="copy", drop_storage=True)
    assert _settings(report.project) == {
        "Long flights": (None, "modelworks", True),
        "Enriched": (None, "modelworks", False),
    }
    assert (
        "Recipe 'Add carriers': output 'Enriched' was stored in PostgreSQL connection 'Warehouse', which "
        "this project cannot use; it is kept in Modelworks storage instead" in " ".join(report.warnings)
    )

    archive = io.BytesIO()
    export_zip(project, archive, with_data=True)
    client = api_client(dave)

    def post(slug: str, **form: str) -> Any:
        upload = io.BytesIO(archive.getvalue())
        upload.name = "bundle.zip"
        return client.client.post(
            f"/api/v1/projects/{slug}/import", {"file": upload, **form}, headers=client._headers
        )

    refused = expect_error(post("api-copy"), 422, "validation_error")
    assert "'Warehouse' (for 'Enriched' of recipe 'Add carriers')" in refused["message"]
    created = expect(post("api-copy", drop_storage="true"), 201)
    assert any("kept in Modelworks storage" in w for w in created["warnings"])


# ----------------------------------------------------------------------------------------- API and page


def test_api_exports_a_zip_and_imports_it_as_a_new_project(
    project: Project, alice: User, bob: User, dave: User, flow: dict[str, Any], api_client: ApiFor
) -> None:
    response = api_client(alice).get(f"/projects/{project.slug}/export", with_data="true")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert 'filename="flight-delays-with-data.zip"' in response["Content-Disposition"]
    content = b"".join(response.streaming_content)
    assert "data/flights.parquet" in zipfile.ZipFile(io.BytesIO(content)).namelist()
    assert AuditEvent.objects.filter(action="project.exported", details={"with_data": True}).exists()
    expect_error(api_client(bob).get(f"/projects/{project.slug}/export"), 403, "permission_denied")

    client = api_client(dave)  # signed in, member of nothing: may create projects
    upload = io.BytesIO(content)
    upload.name = "bundle.zip"
    created = expect(
        client.client.post("/api/v1/projects/dave-copy/import", {"file": upload}, headers=client._headers),
        201,
    )
    assert created["project"]["slug"] == "dave-copy" and created["project"]["role"] == "admin"
    assert (created["datasets"], created["versions"], created["recipes"], created["scenarios"]) == (
        4,
        2,
        2,
        1,
    )
    bad = io.BytesIO(b"not a zip")
    bad.name = "bundle.zip"
    refused = expect_error(
        client.client.post("/api/v1/projects/nope/import", {"file": bad}, headers=client._headers),
        422,
        "validation_error",
    )
    assert "is not a readable .zip archive" in refused["message"]
    assert not Project.objects.filter(slug="nope").exists()


def test_settings_page_offers_export_and_imports_into_an_empty_project(
    project: Project, alice: User, flow: dict[str, Any], tmp_path: Path
) -> None:
    client = Client()
    client.force_login(alice)
    page = client.get(f"/projects/{project.slug}/settings/").content.decode()
    assert f'href="/api/v1/projects/{project.slug}/export"' in page
    assert f'href="/api/v1/projects/{project.slug}/export?with_data=true"' in page
    assert (
        f'action="/projects/{project.slug}/flow/import/"' in page and 'enctype="multipart/form-data"' in page
    )

    archive = tmp_path / "bundle.zip"
    with archive.open("wb") as out:
        export_zip(project, out, with_data=True)
    refused = client.post(f"/projects/{project.slug}/flow/import/", {"bundle": archive.open("rb")})
    assert refused.status_code == 303 and refused["Location"] == f"/projects/{project.slug}/settings/"
    assert (
        "Nothing was imported: project &#x27;flight-delays&#x27; already has datasets"
        in client.get(refused["Location"]).content.decode()
    )

    empty = core_services.create_project(actor=alice, slug="empty", name="Empty")
    before = Dataset.objects.count()
    done = client.post("/projects/empty/flow/import/", {"bundle": archive.open("rb")})
    assert done.status_code == 303 and done["Location"] == "/projects/empty/flow/"
    assert Dataset.objects.filter(project=empty).count() == 4 and Dataset.objects.count() == before + 4
    flow_page = client.get(done["Location"]).content.decode()
    assert "Imported 4 datasets (2 with data), 2 recipes and 1 scenarios." in flow_page
    assert Project.objects.get(slug="empty").name == "Empty"


# ------------------------------------------------------------------------------------------------- CLI


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    env.update(MODELWORKS_HOME=str(home), DATABASE_URL=f"sqlite:///{home / 'db.sqlite3'}")
    return subprocess.run(
        [sys.executable, "-m", "modelworks.cli", *args], env=env, capture_output=True, text=True, timeout=180
    )


def test_cli_imports_and_exports_a_project(project: Project, flow: dict[str, Any], tmp_path: Path) -> None:
    export_project(project, tmp_path / "bundle", with_data=True)
    home = tmp_path / "instance"
    assert _cli(home, "migrate").returncode == 0
    made = _cli(home, "createadmin", "--username", "ops", "--email", "", "--password", "a long passphrase 42")
    assert made.returncode == 0, made.stderr

    done = _cli(home, "project", "import", str(tmp_path / "bundle"), "--slug", "copy", "--owner", "ops")
    assert done.returncode == 0, done.stderr
    assert "Project 'copy' created: 4 datasets (2 with data), 2 recipes, 1 scenario" in done.stdout
    assert "Tell the team" in done.stdout

    out = tmp_path / "out"
    exported = _cli(home, "project", "export", "copy", str(out))
    assert exported.returncode == 0, exported.stderr
    assert "Exported project 'copy' to" in exported.stdout
    assert (out / "recipes" / "add-carriers.yaml").read_bytes() == (
        tmp_path / "bundle" / "recipes" / "add-carriers.yaml"
    ).read_bytes()

    again = _cli(home, "project", "import", str(tmp_path / "bundle"), "--slug", "copy", "--owner", "ops")
    assert again.returncode == 2 and "a project with the short name 'copy' already exists" in again.stderr
    missing = _cli(home, "project", "export", "nope", str(tmp_path / "x"))
    assert missing.returncode == 2 and "no project 'nope'" in missing.stderr
