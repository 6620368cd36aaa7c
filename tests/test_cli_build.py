"""`modelworks build PROJECT [DATASET ...] [--force] [--wait]`: a real instance in a temporary folder.

A small flow is set up once through the services (a CSV imported like an upload, three prepare
recipes, one of which fails when it runs), then each test works on a copy of that instance, running
the command as a subprocess. Refused requests are checked in this process, on the test database.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from modelworks.cli import main
from modelworks.core.models import Project, User
from modelworks.datasets.models import Dataset
from modelworks.flows.models import Build

_SETUP = r"""
from pathlib import Path
from django.core.management import call_command

call_command("migrate", verbosity=0)
from modelworks.core import services
from modelworks.core.models import Role, User
from modelworks.datasets.services import create_version
from modelworks.datasets.storage import data_store
from modelworks.engine.io import ImportOptions, import_file
from modelworks.flows.services import create_recipe

admin = services.create_user(actor=None, username="root", is_instance_admin=True)
reader = services.create_user(actor=admin, username="riley")
project = services.create_project(actor=admin, slug="shop", name="Shop")
services.grant_membership(project, actor=admin, role=Role.READER, user=reader)
csv = Path(r"{home}") / "orders.csv"
csv.write_text("id,qty,price,code\n1,2,3.5,A1\n2,1,20,17\n3,5,4,B2\n4,3,1,9\n")
info = import_file(csv, store=data_store(), options=ImportOptions(original_name="orders.csv"))
orders = create_version(
    project=project, info=info, how="upload", how_details={{"file_name": "orders.csv"}}, actor=admin,
    job=None, name="orders",
).dataset


def step(processor, **params):
    return {{"processor": processor, "params": params}}


create_recipe(project, actor=admin, name="clean_orders", kind="prepare", inputs=[orders],
              outputs=["orders_clean"], spec={{"steps": [step("formula", output="total", formula="qty * price")]}})
from modelworks.datasets.models import Dataset
clean = Dataset.objects.get(project=project, name="orders_clean")
create_recipe(project, actor=admin, name="big_orders", kind="prepare", inputs=[clean],
              outputs=["orders_big"],
              spec={{"steps": [step("filter_formula", formula="total > 10", action="keep")]}})
create_recipe(project, actor=admin, name="code_numbers", kind="prepare", inputs=[clean],
              outputs=["orders_codes"],
              spec={{"steps": [step("cast_columns", columns=["code"], to="integer", on_failure="error")]}})
print("SETUP-OK")
"""


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    env.update(MODELWORKS_HOME=str(home), DATABASE_URL=f"sqlite:///{home / 'db.sqlite3'}")
    return env


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelworks.cli", *args],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("instance")
    setup = _cli(home, "manage", "shell", "-c", _SETUP.format(home=home))
    assert "SETUP-OK" in setup.stdout, setup.stdout + setup.stderr
    return home


@pytest.fixture
def home(template: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(template, copy)
    return copy


def _step(out: str, recipe: str) -> str:
    """The table row of ``recipe``: status, time and rows."""
    found = re.search(rf"^  {recipe} +(\S+) +(\S+(?: s)?) +(.*)$", out, re.M)
    assert found is not None, out
    return f"{found.group(1)} | {found.group(3)}"


def test_build_of_a_dataset_runs_its_upstream_then_is_up_to_date(home: Path) -> None:
    first = _cli(home, "build", "shop", "orders_big", "--wait")
    assert first.returncode == 0, first.stdout + first.stderr
    out = first.stdout
    assert "queued as root" in out
    assert "No worker is running, so this command runs the build itself." in out
    assert re.search(r"\[\s*\d+%\] big_orders: finished", out), out
    assert re.search(r"Build \d+: succeeded in \d+\.\d s\.", out)
    assert _step(out, "clean_orders") == "succeeded | orders_clean 4"
    assert _step(out, "big_orders") == "succeeded | orders_big 2"
    assert "code_numbers" not in out  # not upstream of orders_big
    # The lineage the build left to its own job was written here too, not left for a worker.
    with sqlite3.connect(home / "db.sqlite3") as db:
        lineage_jobs = db.execute("SELECT state FROM core_job WHERE kind = 'flows.lineage'").fetchall()
        runs = db.execute(
            "SELECT j.name, r.state FROM catalog_lineagerun r JOIN catalog_lineagejob j ON r.job_id = j.id"
        ).fetchall()
    assert lineage_jobs == [("succeeded",)]
    assert sorted(runs) == [("recipe/big_orders", "completed"), ("recipe/clean_orders", "completed")]

    again = _cli(home, "build", "shop", "orders_big", "--wait")
    assert again.returncode == 0, again.stdout + again.stderr
    assert _step(again.stdout, "clean_orders") == "up_to_date | -"
    assert _step(again.stdout, "big_orders") == "up_to_date | -"

    forced = _cli(home, "build", "shop", "orders_big", "--wait", "--force", "--user", "root")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert _step(forced.stdout, "clean_orders") == "succeeded | orders_clean 4"
    assert _step(forced.stdout, "big_orders") == "succeeded | orders_big 2"


def test_a_failed_step_makes_the_command_fail_with_the_reason(home: Path) -> None:
    result = _cli(home, "build", "shop", "--wait")
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert re.search(r"Build \d+: failed", out), out
    assert _step(out, "clean_orders") == "succeeded | orders_clean 4"
    assert _step(out, "big_orders") == "succeeded | orders_big 2"
    assert _step(out, "code_numbers").startswith("failed | -")
    assert re.search(r"Recipe 'code_numbers' failed: .*code", out), out


def test_without_wait_the_build_is_queued_for_a_worker(home: Path) -> None:
    queued = _cli(home, "build", "shop", "orders_big")
    assert queued.returncode == 0, queued.stdout + queued.stderr
    assert re.search(r"Build (\d+) of orders_big in project 'shop' queued as root", queued.stdout)
    assert "/projects/shop/flow/builds/" in queued.stdout

    conflict = _cli(home, "build", "shop", "orders_big")
    assert conflict.returncode == 2
    assert re.search(r"Build \d+ \(queued\) may write some of the same datasets", conflict.stderr)

    worker = _cli(home, "worker", "--burst", "--concurrency", "1")
    assert worker.returncode == 0, worker.stderr
    assert re.search(r"\(flows\.build\) attempt 1: succeeded", worker.stderr), worker.stderr


# Refusals happen before anything is queued: they run in this process, on the test database.


@pytest.fixture
def orders(project: Project) -> Dataset:
    return Dataset.objects.create(project=project, name="orders")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], r"no project 'nope' that root can see; check the project's slug"),
        (
            ["flight-delays", "missing"],
            r"no dataset 'missing' in project 'flight-delays'; its datasets are: orders",
        ),
        (["flight-delays", "orders"], r"'orders' is not written by any recipe, so there is nothing to build"),
        (["flight-delays"], r"This project has no recipe to build yet; add a recipe first"),
        (
            ["flight-delays", "--user", "carol"],
            r"carol is reader of project 'flight-delays'; building needs the contributor",
        ),
        (["flight-delays", "--user", "dave"], r"no project 'flight-delays' that dave can see"),
        (["flight-delays", "--user", "ghost"], r"no active user named 'ghost'; check --user"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(
    instance_admin: User,
    dave: User,
    orders: Dataset,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    assert main(["build", *args, "--wait"]) == 2
    captured = capsys.readouterr()
    assert re.search(message, captured.err), captured.err
    assert "queued" not in captured.out
    assert not Build.objects.exists()


def test_without_an_instance_admin_a_user_must_be_named(
    orders: Dataset, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build", "flight-delays"]) == 2
    assert (
        "there is no instance administrator yet; create one with 'modelworks createadmin'"
        in capsys.readouterr().err
    )
