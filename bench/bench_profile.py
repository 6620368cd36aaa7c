"""Profile a dataset version: Modelworks ``profile_dataset`` vs one DuckDB ``SUMMARIZE``.

The version is the generated CSV imported by Modelworks (cached in ``--data-dir``), i.e. the Parquet
file the platform really stores. Both contenders run in this process on that file with the same
number of threads, alternately, after one untimed warm-up of each (so both read from the page cache).
Also times a few ``sample_page`` calls (the explore view) on the same data.

    .venv/bin/python bench/bench_profile.py                 # 10,000,000 rows (the issue's size)
    .venv/bin/python bench/bench_profile.py --rows 1000000 --repeat 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The bench folder is not a package: make its helper module importable.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import duckdb
from _datasets import ensure_dataset

from modelworks.engine.explore import sample_page
from modelworks.engine.io import LocalStore, import_file
from modelworks.engine.profiling import profile_dataset

GOAL_RATIO = 2.0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each (the median is reported)")
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "modelworks-bench")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()

    path = ensure_version(args.data_dir, args.rows)
    con = duckdb.connect(config={"threads": args.threads})

    def summarize() -> Any:
        return con.execute("SUMMARIZE SELECT * FROM read_parquet($p)", {"p": str(path)}).fetchall()

    def profile() -> Any:
        return profile_dataset(path, threads=args.threads)

    summarize(), profile()  # warm-up: file in the page cache, code paths loaded
    timings: dict[str, list[float]] = {"summarize": [], "profile": []}
    for _ in range(args.repeat):
        timings["summarize"].append(_timed(summarize))
        timings["profile"].append(_timed(profile))
    result = profile()

    size = path.stat().st_size / 2**20
    print(
        f"\nProfile {args.rows:,} rows x 12 columns (Parquet {size:.0f} MiB), {args.threads} threads, median of {args.repeat}\n"
    )
    header = f"{'contender':<40}{'time (s)':>10}{'runs (s)':>30}"
    print(header)
    print("-" * len(header))
    for name, label in (
        ("summarize", "DuckDB SUMMARIZE (one pass)"),
        ("profile", "modelworks profile_dataset"),
    ):
        runs = ", ".join(f"{t:.2f}" for t in timings[name])
        print(f"{label:<40}{statistics.median(timings[name]):>10.2f}{runs:>30}")
    ratio = statistics.median(timings["profile"]) / statistics.median(timings["summarize"])
    print("-" * len(header))
    print(
        f"ratio (profile / SUMMARIZE): {ratio:.2f}x   goal <= {GOAL_RATIO:g}x   {'met' if ratio <= GOAL_RATIO else 'NOT met'}"
    )
    print(
        f"profile: {result.scans} data passes, distinct counts and quantiles "
        f"{'exact' if result.columns[0].distinct_exact else 'estimated (HyperLogLog, t-digest)'}; "
        f"semantic types: " + ", ".join(f"{c.name}={c.semantic_type}" for c in result.columns)
    )

    print(f"\nExplore (sample_page) on the same file, median of {args.repeat}\n")
    pages: list[tuple[str, Callable[[], Any]]] = [
        ("first page, file order", lambda: sample_page(path, limit=50)),
        ("last page, file order", lambda: sample_page(path, offset=args.rows - 50, limit=50)),
        ("sorted by amount desc", lambda: sample_page(path, sort=[("amount", False)], limit=50)),
        ("sorted by text column", lambda: sample_page(path, sort=[("email", True)], limit=50)),
        (
            "2 filters + sort",
            lambda: sample_page(
                path,
                filters=[("region", "eq", "north"), ("amount", "between", [100, 200])],
                sort=[("created_at", True)],
            ),
        ),
        (
            "text contains (ignoring case)",
            lambda: sample_page(path, filters=[("email", "contains", "CUST12345@")]),
        ),
    ]
    print(f"{'query':<40}{'time (s)':>10}{'matching rows':>16}")
    print("-" * 66)
    for label, call in pages:
        call()
        runs = [_timed(call) for _ in range(args.repeat)]
        print(f"{label:<40}{statistics.median(runs):>10.2f}{call().total:>16,}")


def ensure_version(folder: Path, rows: int) -> Path:
    """The generated CSV imported by Modelworks, kept as ``orders_<rows>.version.parquet``."""
    target = folder / f"orders_{rows}.version.parquet"
    if not target.exists():
        store = LocalStore(folder / "store")
        version = import_file(ensure_dataset(folder, rows, "csv"), store=store)
        store.local_path(version.object_id).rename(target)
    return target


def _timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
