"""Build a Prepare → Join → Group → Sort flow: Modelworks vs pandas vs one hand-written DuckDB statement.

The data: a generated fact table of N sales (8 columns) and a 1,000-row product dimension, as
Parquet (deterministic: DuckDB hashes of the row number). The logic, the same for every contender:

* Prepare: keep rows with quantity > 2; 3 formulas (gross = quantity * unit_price, net = gross *
  (1 - discount), discount_amount = gross - net); the year and month of ``sold_at``;
* Join the products (inner, on product_id);
* Group by category, year and month: sum(net), sum(discount_amount), max(gross);
* Sort by the net sum, largest first.

Modelworks takes the real product path: a fresh instance (``MODELWORKS_HOME`` in a temporary folder,
a new SQLite database migrated), a project, both files imported as datasets, the four recipes created
through ``modelworks.flows.services`` and a build run by the ``flows.build`` job, in process. Three
configurations: every output stored (4 files written); Prepare + Join outputs virtual (not stored:
the group step runs them inline, 2 files written); only the result stored (Prepare, Join and Group
virtual: one step runs the whole chain as one query and writes one file, the same work as the
hand-written statement). Then only the Sort recipe changes and the first two are built again.

Each contender runs in its own fresh Python process; the parent reads its peak resident memory
(``ru_maxrss`` from ``os.wait4``). The times compared are the work itself, measured inside each child:
pandas from ``read_parquet`` to ``to_parquet``, DuckDB one ``COPY (SELECT …) TO``, Modelworks the
build job (planning, every step, versions, quality checks); the lineage, which the build leaves to
its own ``flows.lineage`` job, and Modelworks' setup (instance, import, recipes) are reported apart. pandas reads only the columns the logic needs (its best case).

    .venv/bin/python bench/bench_flow.py                    # 10,000,000 rows (the issue's size)
    .venv/bin/python bench/bench_flow.py --rows 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import atexit
import gc
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

GOAL_SPEED = 10.0  # at least 10x faster than pandas
GOAL_SQL = 1.3  # within 1.3x of the hand-written SQL
GOAL_MEMORY = 1 / 3  # at most a third of pandas' peak memory
CONFIGS = ("stored", "virtual", "result")
# "result" stores nothing upstream of Sort: a rebuild computes the chain again inline, by design.
REBUILT = ("stored", "virtual")

FACT_QUERY = """
SELECT
    i AS sale_id,
    (hash(i, 1) % 1000)::INTEGER AS product_id,
    (hash(i, 2) % 20)::INTEGER + 1 AS quantity,
    round((hash(i, 3) % 100000) / 100.0, 2)::DOUBLE AS unit_price,
    round((hash(i, 4) % 31) / 100.0, 2)::DOUBLE AS discount,
    ['web', 'store', 'phone', 'partner'][(hash(i, 5) % 4)::INTEGER + 1] AS channel,
    ['north', 'south', 'east', 'west', 'central'][(hash(i, 6) % 5)::INTEGER + 1] AS region,
    TIMESTAMP '2022-01-01' + to_seconds((hash(i, 7) % 94608000)::BIGINT) AS sold_at
FROM range({rows}) t(i)
"""
DIM_QUERY = """
SELECT
    i::INTEGER AS product_id,
    'category_' || lpad((hash(i, 11) % 20)::VARCHAR, 2, '0') AS category,
    'brand_' || (hash(i, 12) % 50)::VARCHAR AS brand,
    round((hash(i, 13) % 50000) / 100.0, 2)::DOUBLE AS unit_cost
FROM range(1000) t(i)
"""

PREPARE_SPEC: dict[str, Any] = {
    "steps": [
        {"processor": "filter_formula", "params": {"formula": "quantity > 2", "action": "keep"}},
        {"processor": "formula", "params": {"output": "gross", "formula": "quantity * unit_price"}},
        {"processor": "formula", "params": {"output": "net", "formula": "gross * (1 - discount)"}},
        {"processor": "formula", "params": {"output": "discount_amount", "formula": "gross - net"}},
        {"processor": "date_parts", "params": {"column": "sold_at", "parts": ["year", "month"]}},
    ]
}
JOIN_SPEC: dict[str, Any] = {
    "joins": [{"type": "inner", "on": [{"left": "product_id", "right": "product_id"}]}]
}
GROUP_SPEC: dict[str, Any] = {
    "keys": ["category", "sold_at_year", "sold_at_month"],
    "aggregations": [
        {"column": "net", "function": "sum"},
        {"column": "discount_amount", "function": "sum"},
        {"column": "gross", "function": "max"},
    ],
}
SORT_SPEC: dict[str, Any] = {"columns": [{"column": "net_sum", "direction": "desc"}]}
SORT_CHANGED: dict[str, Any] = {
    "columns": [{"column": "category"}, {"column": "sold_at_year"}, {"column": "sold_at_month"}]
}
HAND_WRITTEN_SQL = """
COPY (
    SELECT p.category,
           year(s.sold_at) AS sold_at_year,
           month(s.sold_at) AS sold_at_month,
           sum(s.quantity * s.unit_price * (1 - s.discount)) AS net_sum,
           sum(s.quantity * s.unit_price - s.quantity * s.unit_price * (1 - s.discount)) AS discount_amount_sum,
           max(s.quantity * s.unit_price) AS gross_max
    FROM read_parquet($fact) AS s
    JOIN read_parquet($dim) AS p ON s.product_id = p.product_id
    WHERE s.quantity > 2
    GROUP BY ALL
    ORDER BY net_sum DESC
) TO '{out}' (FORMAT parquet)
"""
# The raw limit of "every output stored": the same four outputs written by hand, one COPY each, with
# the Parquet settings Modelworks stores every version with (engine.io.writer.parquet_options).
STORED_SQL = (
    """COPY (
        SELECT *, quantity * unit_price AS gross,
               quantity * unit_price * (1 - discount) AS net,
               quantity * unit_price - quantity * unit_price * (1 - discount) AS discount_amount,
               year(sold_at) AS sold_at_year, month(sold_at) AS sold_at_month
        FROM read_parquet($fact) WHERE quantity > 2
    ) TO '{out}-prepared' ({options})""",
    """COPY (
        SELECT * FROM read_parquet('{out}-prepared') AS s JOIN read_parquet($dim) AS p USING (product_id)
    ) TO '{out}-joined' ({options})""",
    """COPY (
        SELECT category, sold_at_year, sold_at_month, sum(net) AS net_sum,
               sum(discount_amount) AS discount_amount_sum, max(gross) AS gross_max
        FROM read_parquet('{out}-joined') GROUP BY ALL
    ) TO '{out}-monthly' ({options})""",
    """COPY (SELECT * FROM read_parquet('{out}-monthly') ORDER BY net_sum DESC) TO '{out}' ({options})""",
)
STORED_OPTIONS = (
    "FORMAT parquet, PARQUET_VERSION V2, COMPRESSION zstd, COMPRESSION_LEVEL 1, ROW_GROUP_SIZE 122880"
)
RESULT_COLUMNS = ["category", "sold_at_year", "sold_at_month", "net_sum", "discount_amount_sum", "gross_max"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs per contender (the median is reported)")
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "modelworks-bench")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: one per core)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.fact, args.dim = ensure_flow_data(args.data_dir, args.rows)
    if args.child:
        print(json.dumps(run_child(args)))
        return

    for path in (args.fact, args.dim):  # warm the page cache for every contender
        with open(path, "rb") as handle:
            while handle.read(64 << 20):
                pass
    with tempfile.TemporaryDirectory(dir=args.data_dir, prefix="flow-bench-") as work:
        base = Path(work) / "base-home"
        setup = measure("setup", args, home=base)
        results: dict[str, list[dict[str, Any]]] = {}
        rebuilds: dict[str, dict[str, Any]] = {}
        answers: dict[str, Path] = {}
        for run in range(args.repeat):
            for name in ("pandas", "duckdb", "duckdb-stored"):
                out = Path(work) / f"{name}-{run}.parquet"
                results.setdefault(name, []).append(measure(name, args, out=out))
                answers[name] = out
            for config in CONFIGS:
                home = Path(work) / f"{config}-{run}"
                shutil.copytree(base, home)
                result = measure(f"modelworks-{config}", args, home=home)
                results.setdefault(config, []).append(result)
                answers[config] = Path(result["result_path"])
                if run == 0 and config in REBUILT:
                    rebuilds[config] = measure(f"rebuild-{config}", args, home=home)
        check_same_answers(answers)
        report(args, setup, results, rebuilds)


def ensure_flow_data(folder: Path, rows: int) -> tuple[Path, Path]:
    """The sales fact table and the product dimension as Parquet files (reused when there)."""
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    paths = (folder / f"flow_sales_{rows}.parquet", folder / "flow_products_1000.parquet")
    for path, query in zip(paths, (FACT_QUERY.format(rows=int(rows)), DIM_QUERY), strict=True):
        if path.exists():
            continue
        partial = path.with_suffix(".partial")
        con = duckdb.connect()
        con.execute(f"COPY ({query}) TO '{partial}' (FORMAT parquet, COMPRESSION zstd)")
        con.close()
        partial.rename(path)
    return paths


def measure(
    name: str, args: argparse.Namespace, *, home: Path | None = None, out: Path | None = None
) -> dict[str, Any]:
    """Run one contender in a child process; return what it reports, with its peak memory."""
    command = [
        sys.executable,
        __file__,
        "--child",
        name,
        "--rows",
        str(args.rows),
        "--data-dir",
        str(args.data_dir),
    ]
    env = dict(os.environ)
    if args.threads:
        command += ["--threads", str(args.threads)]
    if out is not None:
        command += ["--out", str(out)]
    if home is not None:
        command += ["--home", str(home)]
        home.mkdir(parents=True, exist_ok=True)
        env.update(
            MODELWORKS_HOME=str(home),
            DATABASE_URL=f"sqlite:///{home / 'modelworks.sqlite3'}",
            DJANGO_SETTINGS_MODULE="modelworks.config.settings.dev",
        )
        env.pop("MODELWORKS_CONFIG", None)
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    output = child.stdout.read() if child.stdout else ""
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{name} failed with exit code {os.waitstatus_to_exitcode(status)}")
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    result["process_wall"] = wall
    result["cpu"] = usage.ru_utime + usage.ru_stime
    result["peak_rss_mib"] = usage.ru_maxrss / 1024  # Linux reports KiB
    return result


# -- the contenders (each in its own child process) ---------------------------------------------


def run_child(args: argparse.Namespace) -> dict[str, Any]:
    if args.child == "pandas":
        return run_pandas(args)
    if args.child == "duckdb":
        return run_duckdb(args)
    if args.child == "duckdb-stored":
        return run_duckdb_stored(args)
    import django

    django.setup()
    # What `modelworks worker` loads before it forks a job's process: every job type and the
    # modules they preload (imports compile without cached bytecode here).
    from modelworks.core.jobs.registry import registered_job_types
    from modelworks.core.jobs.worker import preload_modules

    preload_modules(registered_job_types().values())
    gc.freeze()  # as the job's forked process does (core.jobs.child)
    atexit.register(gc.unfreeze)

    if args.child == "setup":
        return run_setup(args)
    if args.child.startswith("modelworks-"):
        return run_modelworks(args, args.child.removeprefix("modelworks-"))
    if args.child.startswith("rebuild-"):
        return run_rebuild(args)
    raise SystemExit(f"unknown child {args.child!r}")


def run_pandas(args: argparse.Namespace) -> dict[str, Any]:
    import pandas as pd

    started = time.perf_counter()
    sales = pd.read_parquet(
        args.fact, columns=["product_id", "quantity", "unit_price", "discount", "sold_at"]
    )
    products = pd.read_parquet(args.dim)
    sales = sales[sales["quantity"] > 2]
    sales = sales.assign(gross=sales["quantity"] * sales["unit_price"])
    sales = sales.assign(net=sales["gross"] * (1 - sales["discount"]))
    sales = sales.assign(discount_amount=sales["gross"] - sales["net"])
    sales = sales.assign(sold_at_year=sales["sold_at"].dt.year, sold_at_month=sales["sold_at"].dt.month)
    joined = sales.merge(products, on="product_id", how="inner")
    grouped = joined.groupby(["category", "sold_at_year", "sold_at_month"], as_index=False).agg(
        net_sum=("net", "sum"), discount_amount_sum=("discount_amount", "sum"), gross_max=("gross", "max")
    )
    result = grouped.sort_values("net_sum", ascending=False)
    result.to_parquet(args.out, index=False)
    return {"seconds": time.perf_counter() - started, "rows": len(result)}


def run_duckdb(args: argparse.Namespace) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {int(args.threads)}")
    started = time.perf_counter()
    row = con.execute(
        HAND_WRITTEN_SQL.format(out=str(args.out).replace("'", "''")),
        {"fact": str(args.fact), "dim": str(args.dim)},
    ).fetchone()
    return {"seconds": time.perf_counter() - started, "rows": row[0] if row else 0}


def run_duckdb_stored(args: argparse.Namespace) -> dict[str, Any]:
    """The same four outputs as "every output stored", written by four hand-written COPYs."""
    import duckdb

    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {int(args.threads)}")
    out = str(args.out).replace("'", "''")
    started = time.perf_counter()
    for statement in STORED_SQL:
        con.execute(
            statement.format(out=out, options=STORED_OPTIONS),
            {k: v for k, v in (("fact", str(args.fact)), ("dim", str(args.dim))) if f"${k}" in statement},
        )
    seconds = time.perf_counter() - started
    written = sum(
        Path(f"{args.out}{suffix}").stat().st_size for suffix in ("-prepared", "-joined", "-monthly", "")
    )
    for suffix in ("-prepared", "-joined", "-monthly"):
        Path(f"{args.out}{suffix}").unlink()
    return {"seconds": seconds, "written_mib": written / 2**20}


def run_setup(args: argparse.Namespace) -> dict[str, Any]:
    """A fresh instance: migrate, one user and project, the two files imported as datasets."""
    from django.core.management import call_command

    from modelworks.core import services as core_services
    from modelworks.core.models import User
    from modelworks.datasets import services as dataset_services
    from modelworks.datasets.models import SourceKind
    from modelworks.datasets.storage import data_store
    from modelworks.engine.io import ImportOptions, import_file

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter()
    user = User.objects.create_user(username="bench", email="bench@example.test")
    project = core_services.create_project(actor=user, slug="bench", name="Flow benchmark")
    for name, path in (("Sales", args.fact), ("Products", args.dim)):
        info = import_file(path, store=data_store(), options=ImportOptions(original_name=path.name))
        dataset_services.create_version(
            project=project,
            info=info,
            how=SourceKind.UPLOAD,
            how_details={"file_name": path.name, "options": {}},
            actor=user,
            job=None,
            name=name,
        )
    return {"migrate": migrated - started, "import": time.perf_counter() - migrated}


def _build(project: Any, user: Any) -> tuple[Any, float]:
    """Submit a build and run its ``flows.build`` job here; return the build and the job's seconds."""
    from django.utils import timezone

    from modelworks.core.jobs import job_type
    from modelworks.core.models import JobState
    from modelworks.datasets.testing import InlineReporter
    from modelworks.flows import services

    build = services.submit_build(project, actor=user)
    job = build.job
    job.state, job.started_at, job.attempt = JobState.RUNNING, timezone.now(), job.attempt + 1
    job.save(update_fields=["state", "started_at", "attempt"])
    started = time.perf_counter()
    job_type(job.kind)(job, InlineReporter()).run()
    seconds = time.perf_counter() - started
    job.state, job.finished_at = JobState.SUCCEEDED, timezone.now()
    job.save(update_fields=["state", "finished_at"])
    build.refresh_from_db()
    if build.status != "succeeded":
        raise SystemExit(f"the build failed: {build.error}")
    # What the build left to its own job, run next as a worker would (not in the build's time).
    from modelworks.core.models import Job

    lineage = Job.objects.get(kind="flows.lineage", params__build_id=build.pk, state=JobState.QUEUED)
    lineage.state, lineage.started_at, lineage.attempt = JobState.RUNNING, timezone.now(), 1
    lineage.save(update_fields=["state", "started_at", "attempt"])
    started = time.perf_counter()
    job_type(lineage.kind)(lineage, InlineReporter()).run()
    build.lineage_seconds = time.perf_counter() - started  # type: ignore[attr-defined]
    lineage.state, lineage.finished_at = JobState.SUCCEEDED, timezone.now()
    lineage.save(update_fields=["state", "finished_at"])
    return build, seconds


def _steps(build: Any) -> dict[str, dict[str, Any]]:
    return {
        s.recipe_name: {"status": s.status, "seconds": s.duration_seconds, "reason": s.reason}
        for s in build.steps.order_by("position")
    }


def run_modelworks(args: argparse.Namespace, config: str) -> dict[str, Any]:
    from django.conf import settings

    from modelworks.core.models import Project, User
    from modelworks.datasets.models import Dataset, DatasetVersion
    from modelworks.datasets.services import version_path
    from modelworks.flows import services

    if args.threads:
        settings.MODELWORKS_FLOW_THREADS = args.threads
    user = User.objects.get(username="bench")
    project = Project.objects.get(slug="bench")
    sales, products = (Dataset.objects.get(project=project, name=n) for n in ("Sales", "Products"))
    hidden = {"virtual": {"prepare", "join"}, "result": {"prepare", "join", "group"}}.get(config, set())
    started = time.perf_counter()

    def create(name: str, kind: str, inputs: list[Any], output: str, spec: dict[str, Any]) -> Any:
        return services.create_recipe(
            project,
            actor=user,
            name=name,
            kind=kind,
            inputs=inputs,
            outputs=[output],
            spec=spec,
            virtual_outputs=[output] if kind in hidden else [],
        )

    prepare = create("Prepare sales", "prepare", [sales], "Sales prepared", PREPARE_SPEC)
    join = create("Add products", "join", [prepare.output_datasets[0], products], "Sales joined", JOIN_SPEC)
    group = create("By category and month", "group", [join.output_datasets[0]], "Monthly", GROUP_SPEC)
    create("Rank", "sort", [group.output_datasets[0]], "Monthly ranked", SORT_SPEC)
    recipes = time.perf_counter() - started
    before = set(DatasetVersion.objects.values_list("pk", flat=True))
    build, seconds = _build(project, user)
    written = DatasetVersion.objects.exclude(pk__in=before)
    result = Dataset.objects.get(project=project, name="Monthly ranked").latest_version
    return {
        "seconds": seconds,
        "lineage_seconds": build.lineage_seconds,
        "recipes_setup": recipes,
        "steps": _steps(build),
        "written_mib": sum(v.byte_size for v in written) / 2**20,
        "written": sorted(v.dataset.name for v in written),
        "rows": result.row_count,
        "result_path": str(version_path(result)),
    }


def run_rebuild(args: argparse.Namespace) -> dict[str, Any]:
    """Change only the Sort recipe and build again: only it may run."""
    from modelworks.core.models import Project, User
    from modelworks.flows import services
    from modelworks.flows.models import Recipe

    user = User.objects.get(username="bench")
    project = Project.objects.get(slug="bench")
    services.update_recipe(Recipe.objects.get(project=project, name="Rank"), actor=user, spec=SORT_CHANGED)
    build, seconds = _build(project, user)
    return {"seconds": seconds, "steps": _steps(build)}


# -- checks and report ---------------------------------------------------------------------------


def check_same_answers(answers: dict[str, Path]) -> None:
    """Every contender must give the same rows (sums compared to 1e-9, relative)."""
    import duckdb

    tables = {}
    for name, path in answers.items():
        columns = ", ".join(f'"{c}"' for c in RESULT_COLUMNS)
        rows = duckdb.sql(
            f"SELECT {columns} FROM read_parquet('{path}') ORDER BY category, sold_at_year, sold_at_month"  # noqa: S608 - our paths
        ).fetchall()
        tables[name] = rows
    reference = tables["duckdb"]
    for name, rows in tables.items():
        if len(rows) != len(reference):
            raise SystemExit(f"{name} gave {len(rows)} rows, the hand-written SQL {len(reference)}")
        for mine, theirs in zip(rows, reference, strict=True):
            same = mine[:3] == theirs[:3] and all(
                math.isclose(float(a), float(b), rel_tol=1e-9)
                for a, b in zip(mine[3:], theirs[3:], strict=True)
            )
            if not same:
                raise SystemExit(f"{name} differs from the hand-written SQL: {mine} != {theirs}")


def report(
    args: argparse.Namespace,
    setup: dict[str, Any],
    results: dict[str, list[dict[str, Any]]],
    rebuilds: dict[str, dict[str, Any]],
) -> None:
    def median(name: str, key: str) -> float:
        return statistics.median(float(r[key]) for r in results[name])

    cores = os.cpu_count()
    size = args.fact.stat().st_size / 2**20
    print(
        f"\nFlow Prepare → Join → Group → Sort on {args.rows:,} sales (Parquet {size:.0f} MiB) x 1,000 "
        f"products, {args.threads or cores} threads, median of {args.repeat}"
    )
    print(
        f"Modelworks setup (not timed below): migrate {setup['migrate']:.1f} s, import both files "
        f"{setup['import']:.1f} s; creating the 4 recipes {median('virtual', 'recipes_setup'):.2f} s\n"
    )
    labels = {
        "pandas": "pandas (read → … → to_parquet)",
        "duckdb": "hand-written DuckDB SQL (1 COPY)",
        "duckdb-stored": "hand-written SQL, 4 outputs (4 COPYs)",
        "stored": "modelworks build, all outputs stored",
        "virtual": "modelworks build, Prepare+Join virtual",
        "result": "modelworks build, only the result stored",
    }
    header = f"{'contender':<42}{'time (s)':>10}{'process (s)':>13}{'CPU (s)':>10}{'peak RSS (MiB)':>16}{'written (MiB)':>15}"
    print(header)
    print("-" * len(header))
    for name in ("pandas", "duckdb", "duckdb-stored", *CONFIGS):
        written = (
            f"{median(name, 'written_mib'):>15.0f}" if "written_mib" in results[name][0] else f"{'':>15}"
        )
        print(
            f"{labels[name]:<42}{median(name, 'seconds'):>10.2f}{median(name, 'process_wall'):>13.2f}"
            f"{median(name, 'cpu'):>10.2f}{median(name, 'peak_rss_mib'):>16.0f}{written}"
        )
    print("-" * len(header))
    for config in CONFIGS:
        speed = median("pandas", "seconds") / median(config, "seconds")
        sql = median(config, "seconds") / median("duckdb", "seconds")
        memory = median(config, "peak_rss_mib") / median("pandas", "peak_rss_mib")
        print(f"{labels[config]}:")
        print(
            f"  speed-up vs pandas (pandas time / build time):  {speed:6.2f}x   goal >= {GOAL_SPEED:g}x    {_verdict(speed >= GOAL_SPEED)}"
        )
        print(
            f"  vs hand-written SQL (build time / SQL time):    {sql:6.2f}x   goal <= {GOAL_SQL:g}x   {_verdict(sql <= GOAL_SQL)}"
        )
        if config == "stored":
            raw = median(config, "seconds") / median("duckdb-stored", "seconds")
            print(
                f"  vs hand-written SQL writing the same 4 outputs: {raw:6.2f}x   (the raw limit of storing them)"
            )
        print(
            f"  memory (peak / pandas peak):                    {memory:6.2f}    goal <= 1/3    {_verdict(memory <= GOAL_MEMORY)}"
        )
        steps = results[config][0]["steps"]
        print(
            "  steps: "
            + ", ".join(
                f"{n} {s['status']}" + (f" {s['seconds']:.2f} s" if s["seconds"] is not None else "")
                for n, s in steps.items()
            )
        )
        print("  new versions: " + ", ".join(results[config][0]["written"]))
        print(
            f"  lineage, written next by its own job (not in the build's time): "
            f"{median(config, 'lineage_seconds') * 1000:.0f} ms"
        )
    print("\nIncremental rebuild after changing only the Sort recipe:")
    for config in REBUILT:
        steps = rebuilds[config]["steps"]
        ran = [n for n, s in steps.items() if s["status"] == "succeeded"]
        only_sort = ran == ["Rank"]
        print(
            f"  {config:<8} build {rebuilds[config]['seconds']:.2f} s; ran: {', '.join(ran) or 'nothing'}"
            f" (Rank {steps['Rank']['seconds']:.2f} s); upstream recomputed: "
            f"{'no' if only_sort else 'YES'}   goal: only Sort runs   {_verdict(only_sort)}"
        )
    print("\nAll contenders gave the same rows (checked). time: the work inside the child process;")
    print("process: the child's wall clock with Python/Django start-up; CPU: its user + system time.")
    load = os.getloadavg()[0]
    if load > (cores or 1) * 0.5:
        print(
            f"note: load average {load:.1f} on {cores} cores: other work shares the CPUs; compare CPU time too"
        )


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


if __name__ == "__main__":
    main()
