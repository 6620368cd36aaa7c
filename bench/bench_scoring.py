"""Online scoring: ``modelworks serve-models`` vs ``mlflow models serve``, same model, same machine, one run.

The model: a LightGBM binary classifier (``LGBMClassifier``, 200 trees, 31 leaves) trained on 20,000
generated rows of 30 numeric features, saved with ``mlflow.lightgbm.save_model`` (signature and input
example) into a fresh folder.

The contenders, each a subprocess on 127.0.0.1 and a free port:

* Modelworks: a throwaway instance (its own ``MODELWORKS_HOME``, SQLite): ``modelworks migrate``, then the
  model is registered, aliased ``champion`` and deployed with an endpoint token through the services
  (``register_version``, ``set_alias``, ``create_deployment``, ``issue_token``), then ``modelworks
  serve-models --workers W`` (default: ``MODELWORKS_SERVING_WORKERS``, 2);
* MLflow: ``mlflow models serve -m <folder> --env-manager local -w 1`` (its best configuration here);
* the raw limit: a trivial asyncio HTTP server answering a fixed JSON body at once, which shows what the
  load generator itself can do on this machine (if it were the bottleneck, the servers' figures would
  be capped near it).

The load generator is an asyncio (uvloop) client in this process, one keep-alive connection per
concurrent caller, raw HTTP/1.1 over sockets (no client library in the way). Workloads:

1. single-row requests (``dataframe_split``, a different row each time) at concurrency 1 and 16 for
   ``--seconds`` each: requests/s, p50 and p99 latency, errors;
2. a 1,000-row request, sent ``--repeat`` times one after the other: median and p99 latency;
3. the servers' own CPU per request (user + system time of all their processes over each workload,
   from ``/proc``): unlike latency, barely moved by other work on a loaded machine;
4. in-process cost, for reference: the booster's own ``predict_proba`` for 1 and 1,000 rows (float64
   matrix), and ``orjson.loads`` of the 1,000-row body.

Goals (issue 6): ≥ 20x MLflow's requests/s at concurrency 16; p99 < 5 ms at concurrency 1; the 1,000-row
request within 2x of in-process predict + JSON parsing.

    .venv/bin/python bench/bench_scoring.py                    # the issue's workload (~2.5 min)
    .venv/bin/python bench/bench_scoring.py --seconds 5 --repeat 20 --skip-mlflow
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

GOAL_RATIO = 20.0
GOAL_P99_MS = 5.0
GOAL_LARGE_RATIO = 2.0
FEATURES = 30
BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------------------------- model


def make_model(folder: Path, rows: int = 20_000) -> np.ndarray:
    """Train and save the classifier; returns the feature matrix (requests draw rows from it)."""
    import lightgbm
    import mlflow.lightgbm
    import pandas as pd
    from mlflow.models import infer_signature

    rng = np.random.default_rng(7)
    x = rng.normal(size=(rows, FEATURES))
    weights = rng.normal(size=FEATURES)
    y = ((x @ weights + rng.normal(scale=2.0, size=rows)) > 0).astype(int)
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(FEATURES)])
    model = lightgbm.LGBMClassifier(n_estimators=200, num_leaves=31, verbose=-1)
    model.fit(frame, y)
    if folder.exists():
        shutil.rmtree(folder)
    mlflow.lightgbm.save_model(
        model,
        str(folder),
        signature=infer_signature(frame.head(100), model.predict(frame.head(100))),
        input_example=frame.head(2),
    )
    return x


def in_process_costs(folder: Path, x: np.ndarray, body_1000: bytes) -> dict[str, float]:
    """Median seconds of the booster's predict for 1 and 1,000 rows, and of parsing the 1,000-row body."""
    import mlflow.lightgbm
    import orjson

    model = mlflow.lightgbm.load_model(str(folder))
    booster = model.booster_
    one = np.ascontiguousarray(x[:1])
    many = np.ascontiguousarray(x[:1000])

    def timed(fn: Any, repeat: int) -> float:
        fn()
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - start)
        return statistics.median(samples)

    # The booster's best in-process figures: one OpenMP thread for one row (a thread team costs
    # milliseconds on a loaded machine), the faster of one thread and all cores for 1,000 rows.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return {
        "predict_1": timed(lambda: booster.predict(one, num_threads=1), 2000),
        "predict_1000": min(
            timed(lambda n=threads: booster.predict(many, num_threads=n), 100) for threads in {1, cores}
        ),
        "parse_1000": timed(lambda: orjson.loads(body_1000), 200),
        "parse_matrix_1000": timed(
            lambda: np.asarray(orjson.loads(body_1000)["dataframe_split"]["data"]), 200
        ),
    }


# -------------------------------------------------------------------------------------------- instance


def setup_instance(model_dir: Path) -> None:
    """Inside the throwaway instance (``--setup-instance``): register, alias, deploy; print the token."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "modelworks.config.settings.dev")
    import django

    django.setup()
    from modelworks.core import services
    from modelworks.core.models import User
    from modelworks.deployments.services import TargetSpec, create_deployment, issue_token
    from modelworks.registry.services.register import register_version
    from modelworks.registry.services.versions import set_alias

    user = User.objects.create_user(username="bench", email="bench@example.test", password="Bench-Pass-2187!")  # noqa: S106 (throwaway instance)
    project = services.create_project(actor=user, slug="bench", name="Bench", description="")
    version = register_version(project, actor=user, model_name="lgbm", source_dir_or_logged_model=model_dir)
    set_alias(version, "champion", actor=user)
    deployment = create_deployment(
        project, actor=user, name="lgbm", targets=[TargetSpec(model="lgbm", alias="champion")]
    )
    _, raw = issue_token(deployment, actor=user, name="bench")
    print(raw)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 (127.0.0.1 only)
                if answer.status == 200:
                    return time.perf_counter() - start
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# ------------------------------------------------------------------------------------------ raw server


def raw_server(port: int) -> None:
    """A trivial HTTP server: reads a request, answers a fixed JSON body (the load generator's limit)."""
    import uvloop

    body = b'{"predictions":[1]}'
    answer = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (
        len(body),
        body,
    )

    class Echo(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            self.buffer = b""

        def data_received(self, data: bytes) -> None:
            self.buffer += data
            while True:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = self.buffer[:end].lower()
                length = 0
                marker = head.find(b"content-length:")
                if marker >= 0:
                    length = int(head[marker + 15 :].split(b"\r\n", 1)[0])
                if len(self.buffer) < end + 4 + length:
                    return
                self.buffer = self.buffer[end + 4 + length :]
                self.transport.write(answer)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Echo, "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    uvloop.run(main())


# --------------------------------------------------------------------------------------------- client


def request_bytes(path: str, body: bytes, token: str | None) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
    )
    if token:
        head += f"Authorization: Bearer {token}\r\n"
    return head.encode() + b"\r\n" + body


async def _caller(
    port: int,
    requests: list[bytes],
    deadline: float,
    count: int | None,
    latencies: list[float],
    errors: list[str],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    index = 0
    try:
        while (count is None and time.perf_counter() < deadline) or (count is not None and index < count):
            payload = requests[index % len(requests)]
            index += 1
            start = time.perf_counter()
            writer.write(payload)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            lower = head.lower()
            marker = lower.find(b"content-length:")
            length = int(lower[marker + 15 :].split(b"\r\n", 1)[0]) if marker >= 0 else 0
            body = await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            if status != 200:
                errors.append(f"{status}: {body[:200]!r}")
    finally:
        writer.close()


def load(
    port: int, requests: list[bytes], *, concurrency: int, seconds: float | None, count: int | None = None
) -> dict[str, Any]:
    import uvloop

    latencies: list[float] = []
    errors: list[str] = []

    async def main() -> float:
        start = time.perf_counter()
        deadline = start + (seconds or 0)
        await asyncio.gather(
            *(
                _caller(port, requests[i::concurrency] or requests, deadline, count, latencies, errors)
                for i in range(concurrency)
            )
        )
        return time.perf_counter() - start

    elapsed = uvloop.run(main())
    latencies.sort()
    n = len(latencies)
    return {
        "requests": n,
        "rps": n / elapsed if elapsed else 0.0,
        "p50_ms": latencies[n // 2] * 1000 if n else float("nan"),
        "p99_ms": latencies[min(n - 1, int(n * 0.99))] * 1000 if n else float("nan"),
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
    }


# ----------------------------------------------------------------------------------------------- main


def split_body(x: np.ndarray) -> bytes:
    import orjson

    return orjson.dumps(
        {"dataframe_split": {"columns": [f"f{i}" for i in range(FEATURES)], "data": x.tolist()}}
    )


def server_cpu_seconds(group: int) -> float:
    """CPU seconds (user + system, all threads) used so far by the live processes of a process group:
    a server's own cost per request, which other work on a loaded machine barely changes."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == group:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def run_workloads(
    name: str,
    port: int,
    path: str,
    token: str | None,
    x: np.ndarray,
    args: argparse.Namespace,
    group: int | None = None,
) -> dict[str, Any]:
    singles = [request_bytes(path, split_body(x[i : i + 1]), token) for i in range(512)]
    large = [request_bytes(path, split_body(x[:1000]), token)]
    load(port, singles, concurrency=4, seconds=1.0)  # warm-up (connections, caches)
    result: dict[str, Any] = {}

    def measured(requests: list[bytes], **kw: Any) -> dict[str, Any]:
        before = server_cpu_seconds(group) if group is not None and sys.platform == "linux" else None
        figures = load(port, requests, **kw)
        if before is not None and group is not None and figures["requests"]:
            used = server_cpu_seconds(group) - before
            figures["cpu_ms_per_request"] = used / figures["requests"] * 1e3
        return figures

    for concurrency in (1, 16):
        result[f"c{concurrency}"] = measured(singles, concurrency=concurrency, seconds=args.seconds)
        print(f"  {name:<11} c={concurrency:<3} {_fmt(result[f'c{concurrency}'])}", flush=True)
    result["large"] = measured(large, concurrency=1, seconds=None, count=args.repeat)
    print(f"  {name:<11} 1,000 rows {_fmt(result['large'])}", flush=True)
    return result


def _fmt(r: dict[str, Any]) -> str:
    text = f"{r['rps']:9.0f} req/s  p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms  ({r['requests']} requests"
    if "cpu_ms_per_request" in r:
        text += f", server CPU {r['cpu_ms_per_request']:.3f} ms/request"
    if r["errors"]:
        text += f", {r['errors']} ERRORS, first: {r['first_error']}"
    return text + ")"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds", type=float, default=20.0, help="duration of each single-row load (default 20)"
    )
    parser.add_argument("--repeat", type=int, default=50, help="1,000-row requests sent (default 50)")
    parser.add_argument(
        "--workers", type=int, default=None, help="serve-models workers (default: its own default)"
    )
    parser.add_argument("--skip-mlflow", action="store_true", help="do not run mlflow models serve")
    parser.add_argument("--work-dir", type=Path, default=None, help="keep the model and instance here")
    parser.add_argument("--setup-instance", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--raw-server", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup_instance is not None:
        setup_instance(args.setup_instance)
        return 0
    if args.raw_server is not None:
        raw_server(args.raw_server)
        return 0

    work = args.work_dir or Path(tempfile.mkdtemp(prefix="modelworks-bench-scoring-"))
    work.mkdir(parents=True, exist_ok=True)
    model_dir = work / "model"
    print(f"Training the LightGBM model (30 features) into {model_dir} …", flush=True)
    x = make_model(model_dir)
    body_1000 = split_body(x[:1000])
    costs = in_process_costs(model_dir, x, body_1000)

    home = work / "home"
    shutil.rmtree(home, ignore_errors=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "MODELWORKS_CONFIG")
    }
    env.update(
        MODELWORKS_HOME=str(home),
        DATABASE_URL=f"sqlite:///{home / 'db.sqlite3'}",
        MODELWORKS_ENV="development",
        PYTHONUNBUFFERED="1",
    )
    if args.workers is not None:
        env["MODELWORKS_SERVING_WORKERS"] = str(args.workers)
    subprocess.run([str(BIN / "modelworks"), "migrate"], env=env, check=True, capture_output=True)
    token = (
        subprocess.run(
            [sys.executable, __file__, "--setup-instance", str(model_dir)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )

    results: dict[str, dict[str, Any]] = {}
    logs = work / "logs"
    logs.mkdir(exist_ok=True)

    port = free_port()
    raw = subprocess.Popen(
        [sys.executable, __file__, "--raw-server", str(port)],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        print("Raw limit (trivial server, shows what the load generator can do):", flush=True)
        results["raw"] = run_workloads("raw", port, "/invocations", None, x, args, raw.pid)
    finally:
        stop(raw)

    port = free_port()
    mw_log = (logs / "modelworks.log").open("wb")
    mw = subprocess.Popen(
        [str(BIN / "modelworks"), "serve-models", "--port", str(port)],
        env=env,
        start_new_session=True,
        stdout=mw_log,
        stderr=subprocess.STDOUT,
    )
    try:
        started = wait_http(f"http://127.0.0.1:{port}/health", mw, 60)
        print(f"Modelworks serve-models (ready in {started:.1f} s):", flush=True)
        results["modelworks"] = run_workloads("modelworks", port, "/score/lgbm", token, x, args, mw.pid)
    finally:
        stop(mw)

    if not args.skip_mlflow:
        port = free_port()
        ml_log = (logs / "mlflow.log").open("wb")
        ml_env = {k: v for k, v in os.environ.items() if not k.startswith("MODELWORKS_")}
        ml_env["PATH"] = f"{BIN}:{ml_env.get('PATH', '')}"
        ml = subprocess.Popen(
            [
                str(BIN / "mlflow"),
                "models",
                "serve",
                "-m",
                str(model_dir),
                "--env-manager",
                "local",
                "-w",
                "1",
                "-p",
                str(port),
                "-h",
                "127.0.0.1",
            ],
            env=ml_env,
            start_new_session=True,
            stdout=ml_log,
            stderr=subprocess.STDOUT,
        )
        try:
            started = wait_http(f"http://127.0.0.1:{port}/ping", ml, 180)
            print(f"MLflow models serve -w 1 (ready in {started:.1f} s):", flush=True)
            results["mlflow"] = run_workloads("mlflow", port, "/invocations", None, x, args, ml.pid)
        finally:
            stop(ml)

    report(results, costs)
    (work / "results.json").write_text(json.dumps({"results": results, "in_process": costs}, indent=2))
    print(f"\nFigures saved in {work / 'results.json'}; server logs in {logs}.")
    return 0


def report(results: dict[str, dict[str, Any]], costs: dict[str, float]) -> None:
    load1, load5, _ = os.getloadavg()
    print(
        f"\nMachine: {os.cpu_count()} cores, load average {load1:.2f} / {load5:.2f} (1 / 5 min) at the end."
    )
    print(
        f"In process: booster predict 1 row {costs['predict_1'] * 1e6:.0f} µs, 1,000 rows "
        f"{costs['predict_1000'] * 1e3:.2f} ms; orjson.loads of the 1,000-row body {costs['parse_1000'] * 1e3:.2f} ms "
        f"(+ to a float matrix {costs['parse_matrix_1000'] * 1e3:.2f} ms)."
    )
    mw = results["modelworks"]
    print(
        f"Modelworks single row at c=1: p50 {mw['c1']['p50_ms']:.2f} ms = {mw['c1']['p50_ms'] / 1e3 / costs['predict_1']:.0f}x "
        f"the in-process predict of one row."
    )
    ml = results.get("mlflow")
    if ml:
        ratio = mw["c16"]["rps"] / ml["c16"]["rps"] if ml["c16"]["rps"] else float("inf")
        print(
            f"Requests/s at c=16: Modelworks / MLflow = {ratio:.1f}x (goal ≥ {GOAL_RATIO:.0f}x) "
            f"{'OK' if ratio >= GOAL_RATIO else 'MISSED'}"
        )
        ratio1 = mw["c1"]["rps"] / ml["c1"]["rps"] if ml["c1"]["rps"] else float("inf")
        print(f"Requests/s at c=1: Modelworks / MLflow = {ratio1:.1f}x")
        large = ml["large"]["p50_ms"] / mw["large"]["p50_ms"]
        print(f"1,000 rows: MLflow / Modelworks = {large:.1f}x faster")
    p99 = mw["c1"]["p99_ms"]
    print(f"p99 at c=1: {p99:.2f} ms (goal < {GOAL_P99_MS:.0f} ms) {'OK' if p99 < GOAL_P99_MS else 'MISSED'}")
    floor = (costs["predict_1000"] + costs["parse_matrix_1000"]) * 1e3
    ratio = mw["large"]["p50_ms"] / floor
    print(
        f"1,000 rows: {mw['large']['p50_ms']:.2f} ms vs in-process predict + JSON parsing {floor:.2f} ms = "
        f"{ratio:.2f}x (goal ≤ {GOAL_LARGE_RATIO:.0f}x) {'OK' if ratio <= GOAL_LARGE_RATIO else 'MISSED'}"
    )
    raw = results["raw"]
    print(
        f"Load generator limit (raw server): {raw['c16']['rps']:.0f} req/s at c=16 "
        f"(Modelworks reached {mw['c16']['rps'] / raw['c16']['rps'] * 100:.0f}% of it)."
    )


if __name__ == "__main__":
    sys.exit(main())
