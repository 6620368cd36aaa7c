"""Drift report: Modelworks ``drift_report`` vs Evidently's ``DataDriftPreset`` on the same Parquet files.

The data (N reference rows vs N current rows, 20 numeric + 5 categorical columns, about half of them
shifted in the current data) is generated once from a seed into ``--data-dir`` and reused. Each
contender runs in its own process, reading the two Parquet files and building its full report; the
time is the child's own measurement of read + report, the memory its peak resident size (``ru_maxrss``
from ``os.wait4``). Evidently needs pandas < 3, so it runs in ``bench/.envs/evidently`` (created with
``uv venv`` + ``uv pip install -r bench/requirements-evidently.txt`` when missing).

Then the statistics: every column's drift score of Evidently's preset against ours (the same default
test must be chosen, the score equal to 1e-6), and every test both implement (Kolmogorov-Smirnov,
Wasserstein, PSI, Jensen-Shannon, chi-squared, z) forced on each column of a small and a medium slice
of the same data, each value compared to 1e-6.

    .venv/bin/python bench/bench_drift.py                       # 1,000,000 x 1,000,000 rows
    .venv/bin/python bench/bench_drift.py --rows 100000 --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVIDENTLY_ENV = ROOT / "bench" / ".envs" / "evidently"
REQUIREMENTS = ROOT / "bench" / "requirements-evidently.txt"
UV = ROOT / ".venv-tools" / "bin" / "uv"
GOAL_SPEED = 20.0
GOAL_MEMORY = 0.2
TOLERANCE = 1e-6
NUMERIC = [f"num_{i:02d}" for i in range(20)]
CATEGORICAL = [f"cat_{i}" for i in range(5)]
#: Slices for the test-by-test comparison: small enough for Evidently's per-test pandas code.
CHECK_ROWS = (800, 20_000)
TESTS = {
    "numeric": ("ks", "wasserstein", "psi", "jensenshannon"),
    "categorical": ("chisquare", "psi", "jensenshannon"),
}


# ---------------------------------------------------------------------------------------------------------
# Data


def generate(data_dir: Path, rows: int, seed: int = 42) -> tuple[Path, Path]:
    """Write ``reference.parquet`` and ``current.parquet`` (once per size and seed)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = data_dir / f"drift-{rows}-{seed}"
    reference, current = folder / "reference.parquet", folder / "current.parquet"
    if reference.exists() and current.exists():
        return reference, current
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)

    def numeric(i: int, shifted: bool) -> Any:
        shift = (0.05 + 0.03 * i) if shifted and i % 2 == 0 else 0.0
        kind = i % 4
        if kind == 0:
            values = rng.normal(10 + shift * 10, 3, rows)
        elif kind == 1:
            values = rng.lognormal(1 + shift, 0.5, rows)
        elif kind == 2:
            values = rng.uniform(0, 100 * (1 + shift), rows)
        else:
            values = rng.integers(0, 1000 + int(shift * 2000), rows).astype(np.float64)
        if i % 5 == 4:  # some missing values, as production data has
            values[rng.random(rows) < 0.02] = np.nan
        return pa.array(values, from_pandas=True)

    def categorical(i: int, shifted: bool) -> Any:
        sizes = (3, 8, 30, 200, 2)
        labels = np.array([f"c{i}_{k:03d}" for k in range(sizes[i] + 2)])
        weights = np.linspace(1, 3, sizes[i])
        if shifted and i in (1, 3):
            weights = weights[::-1]
        probabilities = weights / weights.sum()
        picks = rng.choice(sizes[i], rows, p=probabilities)
        if shifted and i == 2:  # categories the reference never saw
            picks[rng.random(rows) < 0.01] = sizes[i]
        return pa.array(labels[picks])

    for path, shifted in ((reference, False), (current, True)):
        columns = {name: numeric(i, shifted) for i, name in enumerate(NUMERIC)}
        columns |= {name: categorical(i, shifted) for i, name in enumerate(CATEGORICAL)}
        tmp = path.with_suffix(".tmp")
        pq.write_table(pa.table(columns), tmp)
        tmp.replace(path)
    return reference, current


# ---------------------------------------------------------------------------------------------------------
# Contenders (each runs in a child process)


def run_modelworks(reference: str, current: str, threads: int) -> dict[str, Any]:
    from modelworks.engine.monitoring import drift_report

    kinds: dict[str, Any] = {name: "numeric" for name in NUMERIC} | {
        name: "categorical" for name in CATEGORICAL
    }
    started = time.perf_counter()
    report = drift_report(Path(reference), Path(current), kinds, threads=threads)
    seconds = time.perf_counter() - started
    columns = {c.column: {"test": c.test, "score": c.score, "drifted": c.drifted} for c in report.columns}
    return {"seconds": seconds, "columns": columns, "drifted_share": report.drifted_share}


def run_evidently(reference: str, current: str) -> dict[str, Any]:
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    started = time.perf_counter()
    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    ref = Dataset.from_pandas(pd.read_parquet(reference), data_definition=definition)
    cur = Dataset.from_pandas(pd.read_parquet(current), data_definition=definition)
    snapshot = Report([DataDriftPreset()]).run(cur, ref)
    seconds = time.perf_counter() - started
    columns: dict[str, Any] = {}
    for metric in snapshot.dict()["metrics"]:
        config = metric.get("config", {})
        if config.get("type", "").endswith("ValueDrift"):
            columns[config["column"]] = {"method": config.get("method"), "score": metric["value"]}
    return {"seconds": seconds, "columns": columns}


def check_evidently_tests(reference: str, current: str) -> dict[str, Any]:
    """Every test Evidently has for each column, forced, on slices of the data (Evidently's own code)."""
    import pandas as pd
    from evidently.legacy.calculations.stattests.registry import get_registered_stattest, get_stattest
    from evidently.legacy.core import ColumnType

    ref_all, cur_all = pd.read_parquet(reference), pd.read_parquet(current)
    out: dict[str, Any] = {}
    for rows in CHECK_ROWS:
        for name in NUMERIC + CATEGORICAL:
            kind = "numeric" if name in NUMERIC else "categorical"
            column_type = ColumnType.Numerical if kind == "numeric" else ColumnType.Categorical
            ref = ref_all[name].head(rows).replace([float("inf"), float("-inf")], float("nan")).dropna()
            cur = cur_all[name].head(rows).replace([float("inf"), float("-inf")], float("nan")).dropna()
            default = get_stattest(ref, cur, column_type, None).name
            for test in TESTS[kind] + ((default,) if default not in TESTS[kind] else ()):
                stat_test = get_registered_stattest(
                    test, ColumnType.Categorical if test in ("chisquare", "z") else column_type
                )
                result = stat_test(ref, cur, column_type, None)
                out[f"{rows}/{name}/{test}"] = {
                    "score": float(result.drift_score),
                    "drifted": bool(result.drifted),
                }
            out[f"{rows}/{name}/default"] = {"test": default}
    return out


def check_modelworks_tests(reference: Path, current: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from modelworks.engine.monitoring import column_drift

    ref_all, cur_all = pq.read_table(reference), pq.read_table(current)
    out: dict[str, Any] = {}
    for rows in CHECK_ROWS:
        for name in NUMERIC + CATEGORICAL:
            kind = "numeric" if name in NUMERIC else "categorical"
            ref, cur = ref_all.column(name).slice(0, rows), cur_all.column(name).slice(0, rows)
            default = column_drift(ref, cur, kind, column=name)
            out[f"{rows}/{name}/default"] = {"test": default.test}
            for test in set(TESTS[kind]) | {default.test}:
                result = column_drift(ref, cur, kind, test=test, column=name)
                out[f"{rows}/{name}/{test}"] = {"score": result.score, "drifted": result.drifted}
    return out


# ---------------------------------------------------------------------------------------------------------
# Driver


def ensure_evidently() -> Path:
    python = EVIDENTLY_ENV / "bin" / "python"
    if python.exists():
        return python
    print(f"creating {EVIDENTLY_ENV} (Evidently needs pandas < 3) ...", flush=True)
    subprocess.run([str(UV), "venv", "--python", "3.11", str(EVIDENTLY_ENV)], check=True)
    env = os.environ | {"VIRTUAL_ENV": str(EVIDENTLY_ENV)}
    subprocess.run([str(UV), "pip", "install", "-r", str(REQUIREMENTS)], check=True, env=env)
    return python


def in_child(python: Path, *args: str) -> dict[str, Any]:
    """Run this script's ``--child`` mode; returns its JSON plus ``peak_rss_mib`` and ``wall_seconds``."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    env = os.environ | {"PYTHONPATH": str(ROOT / "src")}
    started = time.perf_counter()
    child = subprocess.Popen([str(python), __file__, "--child", str(out), *args], env=env)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"child {args[0]} failed with status {os.waitstatus_to_exitcode(status)}")
    result: dict[str, Any] = json.loads(out.read_text())
    out.unlink()
    result["peak_rss_mib"] = usage.ru_maxrss / 1024  # Linux reports KiB
    result["wall_seconds"] = wall
    return result


def child_main(out: str, mode: str, *args: str) -> None:
    if mode == "modelworks":
        result = run_modelworks(args[0], args[1], int(args[2]))
    elif mode == "evidently":
        result = run_evidently(args[0], args[1])
    elif mode == "evidently-tests":
        result = check_evidently_tests(args[0], args[1])
    else:
        raise SystemExit(f"unknown child mode {mode}")
    Path(out).write_text(json.dumps(result))


def compare(ours: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    problems = []
    for key, mine in ours.items():
        other = theirs.get(key)
        if other is None:
            problems.append(f"{key}: missing in Evidently's results")
        elif "test" in mine:
            if mine["test"] != other["test"]:
                problems.append(f"{key}: Modelworks chose {mine['test']}, Evidently {other['test']}")
        elif abs(mine["score"] - other["score"]) > TOLERANCE * max(1.0, abs(other["score"])):
            problems.append(f"{key}: {mine['score']!r} vs Evidently {other['score']!r}")
        elif mine["drifted"] != other["drifted"]:
            problems.append(f"{key}: drifted {mine['drifted']} vs Evidently {other['drifted']}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of each side")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "modelworks-bench")
    parser.add_argument("--skip-evidently", action="store_true", help="time Modelworks only")
    args = parser.parse_args()

    reference, current = generate(args.data_dir, args.rows)
    print(
        f"data: {args.rows:,} x {args.rows:,} rows, {len(NUMERIC)} numeric + {len(CATEGORICAL)} categorical "
        f"columns ({(reference.stat().st_size + current.stat().st_size) / 2**20:.0f} MiB of Parquet)"
    )
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; threads {args.threads}")
    ours = in_child(Path(sys.executable), "modelworks", str(reference), str(current), str(args.threads))
    print(
        f"modelworks  report {ours['seconds']:7.2f} s   process {ours['wall_seconds']:7.2f} s   "
        f"peak RSS {ours['peak_rss_mib']:7.0f} MiB   drifted share {ours['drifted_share']:.2f}"
    )
    if args.skip_evidently:
        return
    python = ensure_evidently()
    theirs = in_child(python, "evidently", str(reference), str(current))
    print(
        f"evidently   report {theirs['seconds']:7.2f} s   process {theirs['wall_seconds']:7.2f} s   "
        f"peak RSS {theirs['peak_rss_mib']:7.0f} MiB"
    )
    speed = theirs["seconds"] / ours["seconds"]
    memory = ours["peak_rss_mib"] / theirs["peak_rss_mib"]
    print(
        f"speed-up {speed:.1f}x (goal >= {GOAL_SPEED:.0f}x: {'met' if speed >= GOAL_SPEED else 'NOT met'});  "
        f"memory {memory:.3f} of Evidently's (goal <= {GOAL_MEMORY}: {'met' if memory <= GOAL_MEMORY else 'NOT met'})"
    )

    print("\nper column (default test, score = p-value for tests, distance otherwise):")
    problems = []
    for name in NUMERIC + CATEGORICAL:
        mine, other = ours["columns"][name], theirs["columns"].get(name, {})
        diff = abs(mine["score"] - other.get("score", float("nan")))
        ok = diff <= TOLERANCE * max(1.0, abs(other.get("score", 0.0)))
        if not ok:
            problems.append(f"{name}: {mine['score']!r} vs Evidently {other.get('score')!r}")
        print(
            f"  {name:7} {mine['test']:14} modelworks {mine['score']:.10g}  evidently {other.get('score', float('nan')):.10g}"
            f"  |diff| {diff:.1e}  {other.get('method', '')}"
        )
    mine_tests = check_modelworks_tests(reference, current)
    their_tests = in_child(python, "evidently-tests", str(reference), str(current))
    their_tests = {k: v for k, v in their_tests.items() if k not in ("peak_rss_mib", "wall_seconds")}
    problems += compare(mine_tests, their_tests)
    checked = sum(1 for key in mine_tests if not key.endswith("/default"))
    print(
        f"\ntest by test on slices of {' and '.join(f'{r:,}' for r in CHECK_ROWS)} rows: {checked} statistics "
        f"and {len(mine_tests) - checked} default-test choices compared"
    )
    if problems:
        print("DIFFERENCES:\n  " + "\n  ".join(problems))
        raise SystemExit(1)
    print(f"all equal to {TOLERANCE:g} (same default test, same drift decision)")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child_main(sys.argv[2], sys.argv[3], *sys.argv[4:])
    else:
        main()
