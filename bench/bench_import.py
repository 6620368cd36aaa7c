"""Import a generated CSV: Modelworks ``import_file`` vs ``pandas.read_csv`` + ``to_parquet`` (the
peer) vs one bare DuckDB ``COPY (FROM read_csv(...)) TO parquet`` (the raw limit: the same engine
with none of the checks, type inference or atomic commit that an import does).

Each contender runs in its own fresh Python process; the parent measures its wall time and its peak
resident memory (``ru_maxrss`` of that child, from ``os.wait4``: exact, no polling gaps). The CSV is
read once beforehand so both start with it in the page cache.

    .venv/bin/python bench/bench_import.py                 # 10,000,000 rows (the issue's size)
    .venv/bin/python bench/bench_import.py --rows 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The bench folder is not a package: make its helper module importable.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _datasets import ensure_dataset

GOAL_SPEED = 5.0
GOAL_MEMORY = 0.25
CONTENDERS = ("pandas", "modelworks", "duckdb")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs per contender (the median is reported)")
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "modelworks-bench")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: one per core)")
    parser.add_argument("--memory-limit", default="1GB", help="DuckDB memory limit for the import")
    parser.add_argument(
        "--compression", default="zstd", choices=["zstd", "snappy", "lz4_raw", "uncompressed"]
    )
    parser.add_argument("--no-preserve-order", action="store_true", help="let DuckDB reorder rows (faster)")
    parser.add_argument("--child", choices=["modelworks", "pandas", "duckdb"], help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args)))
        return

    csv_path = ensure_dataset(args.data_dir, args.rows, "csv")
    size = csv_path.stat().st_size
    with open(csv_path, "rb") as handle:  # warm the page cache for both contenders
        while handle.read(64 << 20):
            pass
    results: dict[str, list[dict[str, float]]] = {name: [] for name in CONTENDERS}
    for _ in range(args.repeat):
        for name in CONTENDERS:
            results[name].append(measure(name, csv_path, args))
    report(args, size, results)


def measure(name: str, csv_path: Path, args: argparse.Namespace) -> dict[str, float]:
    """Run one contender in a child process; return its timings and peak memory."""
    with tempfile.TemporaryDirectory(dir=args.data_dir) as out:
        command = [sys.executable, __file__, "--child", name, "--csv", str(csv_path), "--out", out]
        command += ["--memory-limit", args.memory_limit, "--compression", args.compression]
        if args.threads:
            command += ["--threads", str(args.threads)]
        if args.no_preserve_order:
            command.append("--no-preserve-order")
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        output = child.stdout.read() if child.stdout else ""
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            raise SystemExit(f"{name} failed with exit code {child.returncode}")
        result = json.loads(output)
        result["process_wall"] = wall
        result["cpu"] = usage.ru_utime + usage.ru_stime
        result["peak_rss_mib"] = usage.ru_maxrss / 1024  # Linux reports KiB
        return result


def run_child(args: argparse.Namespace) -> dict[str, float]:
    """The measured work, inside the child process."""
    if args.child == "pandas":
        import pandas as pd

        started = time.perf_counter()
        frame = pd.read_csv(args.csv)
        frame.to_parquet(args.out / "out.parquet")
        return {
            "seconds": time.perf_counter() - started,
            "rows": len(frame),
            "output_mib": _mib(args.out / "out.parquet"),
        }

    if args.child == "duckdb":
        import duckdb

        con = duckdb.connect(config={"memory_limit": args.memory_limit})
        if args.threads:
            con.execute(f"SET threads = {int(args.threads)}")
        con.execute(f"SET preserve_insertion_order = {not args.no_preserve_order}")
        out = args.out / "out.parquet"
        started = time.perf_counter()
        rows = con.execute(
            f"COPY (FROM read_csv(?)) TO '{out}' (FORMAT parquet, COMPRESSION {args.compression})",
            [str(args.csv)],
        ).fetchone()
        return {
            "seconds": time.perf_counter() - started,
            "rows": rows[0] if rows else 0,
            "output_mib": _mib(out),
        }

    from modelworks.engine.io import ImportOptions, LocalStore, import_file

    store = LocalStore(args.out / "store")
    options = ImportOptions(
        threads=args.threads,
        memory_limit=args.memory_limit,
        compression=args.compression,
        preserve_order=not args.no_preserve_order,
    )
    started = time.perf_counter()
    version = import_file(args.csv, store=store, options=options)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": version.row_count,
        "output_mib": version.byte_size / 2**20,
        **version.timings,
    }


def report(args: argparse.Namespace, size: int, results: dict[str, list[dict[str, float]]]) -> None:
    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    cores = os.cpu_count()
    print(
        f"\nImport {args.rows:,} rows x 12 columns (CSV {size / 2**30:.2f} GiB), {cores} cores, median of {args.repeat}"
    )
    print(
        f"modelworks settings: threads={args.threads or cores}, memory_limit={args.memory_limit}, "
        f"compression={args.compression}, preserve_order={not args.no_preserve_order}\n"
    )
    header = f"{'contender':<34}{'time (s)':>10}{'CPU (s)':>10}{'peak RSS (MiB)':>16}{'Parquet (MiB)':>15}"
    print(header)
    print("-" * len(header))
    labels = {
        "pandas": "pandas read_csv + to_parquet",
        "modelworks": "modelworks import_file",
        "duckdb": "raw limit: bare DuckDB COPY",
    }
    for name in CONTENDERS:
        print(
            f"{labels[name]:<34}{median(name, 'process_wall'):>10.2f}{median(name, 'cpu'):>10.2f}"
            f"{median(name, 'peak_rss_mib'):>16.0f}"
            f"{median(name, 'output_mib'):>15.0f}"
        )
    speed = median("pandas", "process_wall") / median("modelworks", "process_wall")
    memory = median("modelworks", "peak_rss_mib") / median("pandas", "peak_rss_mib")
    limit = median("pandas", "process_wall") / median("duckdb", "process_wall")
    overhead = median("modelworks", "process_wall") / median("duckdb", "process_wall")
    print("-" * len(header))
    print(
        f"speed-up (pandas time / modelworks time): {speed:.2f}x   goal >= {GOAL_SPEED:g}x   {_verdict(speed >= GOAL_SPEED)}"
    )
    print(
        f"memory (modelworks peak / pandas peak):  {memory:.2f}    goal <= {GOAL_MEMORY:g}    {_verdict(memory <= GOAL_MEMORY)}"
    )
    print(f"raw limit speed-up (pandas / bare DuckDB COPY):  {limit:.2f}x on this machine")
    print(f"modelworks time / raw limit: {overhead:.2f}  (the cost of checks, inference and atomic commit)")
    phases = {
        k: median("modelworks", k) for k in ("check", "convert", "commit") if k in results["modelworks"][0]
    }
    print("modelworks phases (s): " + ", ".join(f"{k} {v:.2f}" for k, v in phases.items()))
    print("time: the child process's wall clock, start-up and imports included; CPU: its user + system time")
    load = os.getloadavg()[0]
    if load > (cores or 1) * 0.5:
        print(f"note: load average {load:.1f} on {cores} cores: other work shares the CPUs, which slows the")
        print("multi-threaded contender more than the single-threaded one; compare CPU time as well")


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _mib(path: Path) -> float:
    return path.stat().st_size / 2**20


if __name__ == "__main__":
    main()
