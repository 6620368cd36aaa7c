"""MLflow tracking workload: Modelworks vs ``mlflow server`` (SQLite), same client, same machine, one run.

Both servers start as subprocesses on 127.0.0.1 and random ports, on fresh folders:

* Modelworks: ``modelworks migrate`` then ``modelworks serve`` (default: 2 gthread workers x 8 threads)
  on a new ``MODELWORKS_HOME`` (SQLite); the client uses ``MLFLOW_TRACKING_URI=<url>/mlflow/<project>``
  and a Bearer API token;
* MLflow: ``mlflow server --backend-store-uri sqlite:///… --workers 1`` (its best configuration here)
  and, reported too, with its default worker count.

The unmodified ``mlflow`` client (``MlflowClient``) runs the workload against each in turn:

The raw limit: the same client against an HTTP server that stores nothing and answers at once (ingest
and log_metric only): what the client itself costs on this machine.

1. **ingest**: N runs (default 200), each ``create_run`` + one ``log_batch`` of 20 params and 200 metric
   points (10 keys x 20 steps) + ``set_terminated``: runs/s;
2. **search** over 10,000 runs: the runs are seeded straight into each server's SQLite database (bulk SQL
   inserts into the same tables the server writes: runs, tags, params, metrics and latest metrics,
   5 params, 3 metrics and 2 tags per run) because seeding 10,000 runs through MLflow's HTTP API takes
   many minutes; then ``search_runs(filter="metrics.m0 > 0.5", order_by=["metrics.m0 DESC"])`` with
   ``max_results=100`` (a page, what a UI asks) and ``1000`` (the client's default): median of R calls;
3. **log_metric**: single ``log_metric`` calls from 4 threads for ~10 s: requests/s;
4. **start**: from process start until ``/health`` answers 200 (first start on a fresh database,
   including Modelworks' ``migrate``; then a restart);
5. **idle memory**: resident memory of the whole process tree (server and its workers) after the work.

    .venv/bin/python bench/bench_tracking.py                      # the issue's workload
    .venv/bin/python bench/bench_tracking.py --runs 50 --search-runs 2000 --seconds 3 --skip-mlflow-default
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

GOAL_RATIO = 20.0
GOAL_SEARCH_MS = 50.0
GOAL_START_S = 3.0
GOAL_IDLE_MB = 300.0
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tree_rss_mb(pid: int, *, proportional: bool = False) -> float:
    """Resident memory of a process tree. RSS counts pages shared by forked workers once per process;
    ``proportional`` sums PSS instead (each shared page split between its sharers): the real total."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return float("nan")
    total = 0
    for proc in procs:
        try:
            total += proc.memory_full_info().pss if proportional else proc.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 1e6


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 180) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 (loopback only)
                if r.status == 200:
                    return time.perf_counter() - start
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} not healthy after {timeout} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Server:
    name: str
    uri: str
    proc: subprocess.Popen[bytes]
    db_path: Path
    env: dict[str, str] = field(default_factory=dict)
    start_first_s: float = 0.0
    start_again_s: float = 0.0
    restart: Any = None


# ------------------------------------------------------------------------------------------ Modelworks

SETUP_MODELWORKS = """
from modelworks.core import services
from modelworks.core.models import ApiToken, User
user = User.objects.create_user(username="bench", email="bench@example.test", password="Bench-Password-2187")
services.create_project(actor=user, slug="bench", name="Bench")
print(ApiToken.issue(user, "bench")[1])
"""


# Django settings of the Modelworks server; ``--django-settings`` names another module (importable,
# e.g. from PYTHONPATH) to measure a settings change.
DJANGO_SETTINGS = "modelworks.config.settings.dev"


def modelworks_env(home: Path, settings: str = DJANGO_SETTINGS) -> dict[str, str]:
    return {**os.environ, "MODELWORKS_HOME": str(home), "DJANGO_SETTINGS_MODULE": settings}


def start_modelworks(home: Path, settings: str = DJANGO_SETTINGS) -> Server:
    env = modelworks_env(home, settings)
    port = free_port()
    cmd = [str(BIN / "modelworks"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    started = time.perf_counter()
    subprocess.run([str(BIN / "modelworks"), "migrate"], env=env, check=True, capture_output=True)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_healthy(f"http://127.0.0.1:{port}/health", proc)
    first = time.perf_counter() - started
    token = (
        subprocess.run(
            [sys.executable, "-c", "import django; django.setup()\n" + SETUP_MODELWORKS],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    os.environ["MLFLOW_TRACKING_TOKEN"] = token
    server = Server(
        "Modelworks", f"http://127.0.0.1:{port}/mlflow/bench", proc, home / "modelworks.sqlite3", env
    )
    server.start_first_s = first

    def restart() -> float:
        stop(server.proc)
        again = time.perf_counter()
        server.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_healthy(f"http://127.0.0.1:{port}/health", server.proc)
        return time.perf_counter() - again

    server.restart = restart
    return server


SEED_MODELWORKS = """
import random, sys, uuid
from django.db import transaction
from modelworks.tracking.models import Experiment, LatestMetric, Metric, Param, Run, RunTag
count, experiment_id = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(1)
with transaction.atomic():
    for start in range(0, count, 2000):
        runs, params, metrics, latest, tags = [], [], [], [], []
        for i in range(start, min(count, start + 2000)):
            run_id = uuid.uuid4().hex
            runs.append(Run(run_uuid=run_id, experiment_id=experiment_id, name=f"seed-{i}", user_id="bench",
                            status="FINISHED", start_time=1_700_000_000_000 + i, end_time=1_700_000_000_500 + i))
            params += [Param(run_id=run_id, key=f"p{k}", value=str(rng.randint(0, 9))) for k in range(5)]
            for k in range(3):
                value = rng.random()
                metrics.append(Metric(run_id=run_id, key=f"m{k}", value=value, timestamp=1_700_000_000_000, step=0))
                latest.append(LatestMetric(run_id=run_id, key=f"m{k}", value=value, timestamp=1_700_000_000_000, step=0))
            tags += [RunTag(run_id=run_id, key="mlflow.runName", value=f"seed-{i}"),
                     RunTag(run_id=run_id, key="mlflow.user", value="bench")]
        for model, rows in ((Run, runs), (Param, params), (Metric, metrics), (LatestMetric, latest), (RunTag, tags)):
            model.objects.bulk_create(rows, batch_size=500)
"""


def seed_modelworks(server: Server, experiment_id: str, count: int) -> None:
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup()\n" + SEED_MODELWORKS,
            str(count),
            experiment_id,
        ],
        env=server.env,
        check=True,
    )


# ---------------------------------------------------------------------------------------------- MLflow


def start_mlflow(folder: Path, workers: int | None) -> Server:
    port = free_port()
    db = folder / "mlflow.db"
    cmd = [
        str(BIN / "mlflow"),
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--backend-store-uri",
        f"sqlite:///{db}",
        "--artifacts-destination",
        str(folder / "artifacts"),
    ]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=folder)
    wait_healthy(f"http://127.0.0.1:{port}/health", proc)
    server = Server(
        f"MLflow ({workers or 'default'} worker{'s' if workers != 1 else ''})",
        f"http://127.0.0.1:{port}",
        proc,
        db,
        env,
    )
    server.start_first_s = time.perf_counter() - started

    def restart() -> float:
        stop(server.proc)
        again = time.perf_counter()
        server.proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=folder
        )
        wait_healthy(f"http://127.0.0.1:{port}/health", server.proc)
        return time.perf_counter() - again

    server.restart = restart
    return server


# ------------------------------------------------------------------------------------ the raw limit

STUB_SERVER = """
import json, socket, sys, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

def run_info(run_id):
    return {"run_id": run_id, "run_uuid": run_id, "experiment_id": "1", "run_name": "r", "user_id": "u",
            "status": "RUNNING", "start_time": int(time.time() * 1000), "artifact_uri": "", "lifecycle_stage": "active"}

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the client's session uses it
    def log_message(self, *args):
        pass
    def setup(self):
        super().setup()
        # Headers and body leave in two writes: without this, Nagle's algorithm and the client's
        # delayed ACK stall every answer by ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        path = self.path.split("?")[0]
        if path.endswith("/health"):
            body = b"OK"
        else:
            if path.endswith("experiments/create"):
                data = {"experiment_id": "1"}
            elif path.endswith(("runs/create", "runs/get")):
                data = {"run": {"info": run_info(uuid.uuid4().hex), "data": {}}}
            elif path.endswith("runs/update"):
                data = {"run_info": run_info(uuid.uuid4().hex)}
            else:
                data = {}
            body = json.dumps(data).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = do_PATCH = answer

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


def start_stub(folder: Path) -> Server:
    """The raw limit: an HTTP server that stores nothing and answers every MLflow call at once, so the
    client's own cost (serialising, HTTP round trips, its checks) is all that is measured."""
    port = free_port()
    script = folder / "stub_server.py"
    script.write_text(STUB_SERVER)
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(script), str(port)], stdout=subprocess.DEVNULL)
    wait_healthy(f"http://127.0.0.1:{port}/health", proc)
    server = Server("Raw limit", f"http://127.0.0.1:{port}", proc, folder / "none.db")
    server.start_first_s = time.perf_counter() - started
    server.restart = lambda: server.start_first_s
    return server


def seed_mlflow(server: Server, experiment_id: str, count: int) -> None:
    rng = random.Random(1)
    db = sqlite3.connect(server.db_path, timeout=60)
    runs, params, metrics, latest, tags = [], [], [], [], []
    for i in range(count):
        run_id = uuid.uuid4().hex
        runs.append(
            (
                run_id,
                f"seed-{i}",
                "UNKNOWN",
                "",
                "",
                "bench",
                "FINISHED",
                1_700_000_000_000 + i,
                1_700_000_000_500 + i,
                "",
                "active",
                f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts",
                int(experiment_id),
            )
        )
        params += [(f"p{k}", str(rng.randint(0, 9)), run_id) for k in range(5)]
        for k in range(3):
            value = rng.random()
            metrics.append((f"m{k}", value, 1_700_000_000_000, run_id, 0, 0))
            latest.append((f"m{k}", value, 1_700_000_000_000, 0, 0, run_id))
        tags += [("mlflow.runName", f"seed-{i}", run_id), ("mlflow.user", "bench", run_id)]
    with db:
        db.executemany(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, "
            "start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            runs,
        )
        db.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?,?,?)", params)
        db.executemany(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?,?,?,?,?,?)",
            metrics,
        )
        db.executemany(
            "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?,?,?,?,?,?)",
            latest,
        )
        db.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?,?,?)", tags)
    db.close()


# -------------------------------------------------------------------------------------------- workload


def ingest(client: Any, experiment_id: str, runs: int) -> float:
    from mlflow.entities import Metric, Param

    started = time.perf_counter()
    for r in range(runs):
        run = client.create_run(experiment_id, run_name=f"ingest-{r}")
        stamp = int(time.time() * 1000)
        client.log_batch(
            run.info.run_id,
            params=[Param(f"param_{p}", str(p * r)) for p in range(20)],
            metrics=[
                Metric(f"metric_{k}", random.random(), stamp + s, s) for k in range(10) for s in range(20)
            ],
        )
        client.set_terminated(run.info.run_id)
    return runs / (time.perf_counter() - started)


def search_ms(client: Any, experiment_id: str, repeat: int, max_results: int) -> tuple[float, int]:
    timings = []
    found = 0
    for i in range(repeat + 2):
        started = time.perf_counter()
        page = client.search_runs(
            [experiment_id], "metrics.m0 > 0.5", order_by=["metrics.m0 DESC"], max_results=max_results
        )
        if i >= 2:  # two warm-up calls
            timings.append((time.perf_counter() - started) * 1000)
        found = len(page)
    return statistics.median(timings), found


def log_metric_rate(client: Any, experiment_id: str, threads: int, seconds: float) -> float:
    run_ids = [client.create_run(experiment_id).info.run_id for _ in range(threads)]
    counts = [0] * threads
    deadline = time.perf_counter() + seconds

    def work(n: int) -> None:
        step = 0
        while time.perf_counter() < deadline:
            client.log_metric(run_ids[n], "throughput", random.random(), step=step)
            step += 1
            counts[n] += 1

    started = time.perf_counter()
    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(counts) / (time.perf_counter() - started)


def run_workload(server: Server, args: argparse.Namespace) -> dict[str, float]:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=server.uri)
    result: dict[str, float] = {"start_first_s": server.start_first_s}
    ingest_exp = client.create_experiment(f"ingest-{uuid.uuid4().hex[:6]}")
    cpu = time.process_time()  # this process is the client: its CPU is the client's own cost
    result["runs_per_s"] = ingest(client, ingest_exp, args.runs)
    result["client_ms_per_run"] = (time.process_time() - cpu) * 1000 / args.runs
    print(f"  {server.name}: ingest {result['runs_per_s']:.1f} runs/s", flush=True)
    if server.name == "Raw limit":  # nothing is stored: only the write paths are measured
        result["log_metric_per_s"] = log_metric_rate(client, ingest_exp, args.threads, args.seconds)
        # The client's CPU per call, one thread (threads of one process share one GIL: they add
        # waiting, not capacity).
        run_id = client.create_run(ingest_exp).info.run_id
        cpu = time.process_time()
        for step in range(300):
            client.log_metric(run_id, "cpu", 0.5, step=step)
        result["client_ms_per_log_metric"] = (time.process_time() - cpu) * 1000 / 300
        print(f"  {server.name}: log_metric {result['log_metric_per_s']:.0f} req/s", flush=True)
        nan = float("nan")
        result.update(search100_ms=nan, search1000_ms=nan, search100_found=nan, search1000_found=nan)
        result["idle_mb"] = result["idle_fresh_mb"] = tree_rss_mb(server.proc.pid)
        result["idle_fresh_pss_mb"] = tree_rss_mb(server.proc.pid, proportional=True)
        result["start_again_s"] = server.start_first_s
        return result
    search_exp = client.create_experiment(f"search-{uuid.uuid4().hex[:6]}")
    seeded = time.perf_counter()
    (seed_modelworks if server.name == "Modelworks" else seed_mlflow)(server, search_exp, args.search_runs)
    print(
        f"  {server.name}: seeded {args.search_runs} runs in {time.perf_counter() - seeded:.1f} s", flush=True
    )
    repeat = args.search_repeat
    result["search100_ms"], result["search100_found"] = search_ms(client, search_exp, repeat, 100)
    result["search1000_ms"], result["search1000_found"] = search_ms(
        client, search_exp, max(3, repeat // 3), 1000
    )
    print(
        f"  {server.name}: search {result['search100_ms']:.1f} ms (100) / {result['search1000_ms']:.1f} ms (1000)",
        flush=True,
    )
    result["log_metric_per_s"] = log_metric_rate(client, ingest_exp, args.threads, args.seconds)
    print(f"  {server.name}: log_metric {result['log_metric_per_s']:.0f} req/s", flush=True)
    time.sleep(2)
    result["idle_mb"] = tree_rss_mb(server.proc.pid)
    result["start_again_s"] = server.restart()
    result["idle_fresh_mb"] = (time.sleep(2), tree_rss_mb(server.proc.pid))[1]
    result["idle_fresh_pss_mb"] = tree_rss_mb(server.proc.pid, proportional=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="runs ingested (default 200)")
    parser.add_argument("--search-runs", type=int, default=10_000, help="runs searched over (default 10,000)")
    parser.add_argument("--search-repeat", type=int, default=30, help="timed searches (median reported)")
    parser.add_argument("--threads", type=int, default=4, help="log_metric threads (default 4)")
    parser.add_argument("--seconds", type=float, default=10, help="log_metric duration (default 10 s)")
    parser.add_argument(
        "--skip-mlflow-default", action="store_true", help="skip MLflow with its default workers"
    )
    parser.add_argument(
        "--django-settings",
        default=DJANGO_SETTINGS,
        help=f"settings module of the Modelworks server (default {DJANGO_SETTINGS})",
    )
    args = parser.parse_args()
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    results: dict[str, dict[str, float]] = {}
    folder = Path(tempfile.mkdtemp(prefix="bench-tracking-"))
    try:
        configs: list[tuple[str, Any]] = [("Modelworks", None), ("MLflow 1 worker", 1)]
        if not args.skip_mlflow_default:
            configs.append(("MLflow default workers", "default"))
        configs.append(("Raw limit", "stub"))
        for label, workers in configs:
            home = folder / label.replace(" ", "-")
            home.mkdir()
            print(f"{label}: starting", flush=True)
            if label == "Modelworks":
                server = start_modelworks(home, args.django_settings)
                os.environ.pop("MLFLOW_TRACKING_USERNAME", None)
            elif label == "Raw limit":
                os.environ.pop("MLFLOW_TRACKING_TOKEN", None)
                server = start_stub(home)
            else:
                os.environ.pop("MLFLOW_TRACKING_TOKEN", None)
                server = start_mlflow(home, None if workers == "default" else workers)
            print(f"  started in {server.start_first_s:.1f} s", flush=True)
            try:
                if label != "Modelworks":
                    os.environ.pop("MLFLOW_TRACKING_TOKEN", None)
                results[label] = run_workload(server, args)
            finally:
                stop(server.proc)
            if label == "Modelworks":
                os.environ.pop("MLFLOW_TRACKING_TOKEN", None)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report(results, args)
    return 0


def report(results: dict[str, dict[str, float]], args: argparse.Namespace) -> None:
    rows = [
        ("ingest (runs/s, higher is better)", "runs_per_s", "{:.1f}"),
        (f"search {args.search_runs} runs, 100 results (ms median)", "search100_ms", "{:.1f}"),
        (f"search {args.search_runs} runs, 1000 results (ms median)", "search1000_ms", "{:.1f}"),
        (f"log_metric, {args.threads} threads (req/s)", "log_metric_per_s", "{:.0f}"),
        ("first start, fresh database (s)", "start_first_s", "{:.1f}"),
        ("restart (s)", "start_again_s", "{:.1f}"),
        ("memory after the work (MB, process tree)", "idle_mb", "{:.0f}"),
        ("memory idle after restart (MB, RSS sum)", "idle_fresh_mb", "{:.0f}"),
        ("memory idle after restart (MB, PSS sum)", "idle_fresh_pss_mb", "{:.0f}"),
    ]
    names = list(results)
    width = max(len(r[0]) for r in rows) + 2
    print("\n" + "".ljust(width) + "".join(n.rjust(24) for n in names))
    for label, key, fmt in rows:
        print(label.ljust(width) + "".join(fmt.format(results[n][key]).rjust(24) for n in names))
    mw = results["Modelworks"]
    print("\nModelworks vs goals:")
    limit = results.get("Raw limit")
    if limit is not None:
        print(
            f"  raw limit (a server doing nothing, same client): ingest {limit['runs_per_s']:.1f} runs/s, "
            f"log_metric {limit['log_metric_per_s']:.0f} req/s; Modelworks reaches "
            f"{mw['runs_per_s'] / limit['runs_per_s']:.0%} and {mw['log_metric_per_s'] / limit['log_metric_per_s']:.0%} of it"
        )
        # The client's own CPU bounds any server: one process, one GIL for its threads.
        run_ceiling = 1000 / limit["client_ms_per_run"]
        metric_ceiling = 1000 / limit["client_ms_per_log_metric"]
        print(
            f"  the client's own CPU: {limit['client_ms_per_run']:.1f} ms per ingested run, "
            f"{limit['client_ms_per_log_metric']:.2f} ms per log_metric: no server can take it past "
            f"{run_ceiling:.0f} runs/s or {metric_ceiling:.0f} log_metric/s"
            + "".join(
                f"; {run_ceiling / results[peer]['runs_per_s']:.1f}x and "
                f"{metric_ceiling / results[peer]['log_metric_per_s']:.1f}x {peer}"
                for peer in names[1:]
                if peer != "Raw limit"
            )
        )
    for peer in [n for n in names[1:] if n != "Raw limit"]:
        ref = results[peer]
        print(
            f"  vs {peer}: ingest {mw['runs_per_s'] / ref['runs_per_s']:.1f}x, log_metric "
            f"{mw['log_metric_per_s'] / ref['log_metric_per_s']:.1f}x (goal {GOAL_RATIO:.0f}x); search "
            f"{ref['search100_ms'] / mw['search100_ms']:.1f}x faster"
        )
    print(
        f"  search median {mw['search100_ms']:.1f} ms (goal < {GOAL_SEARCH_MS:.0f} ms); found "
        f"{mw['search100_found']:.0f}/{mw['search1000_found']:.0f} runs per page"
    )
    print(
        f"  restart {mw['start_again_s']:.1f} s, first start with migrate {mw['start_first_s']:.1f} s "
        f"(goal < {GOAL_START_S:.0f} s); idle {mw['idle_fresh_mb']:.0f} MB RSS sum, "
        f"{mw['idle_fresh_pss_mb']:.0f} MB PSS sum (goal < {GOAL_IDLE_MB:.0f} MB)"
    )


if __name__ == "__main__":
    sys.exit(main())
