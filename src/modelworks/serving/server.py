"""Processes of the scoring service: a supervisor and ``workers`` forked worker processes.

Why uvicorn (with httptools and uvloop) and a raw ASGI callable: the HTTP layer must be correct
under abuse (malformed requests, slow clients, pipelining, keep-alive limits, graceful shutdown)
and uvicorn's httptools protocol is a C parser on the uvloop event loop, the fastest mature Python
option; with no framework between it and the application, a single-row request costs tens of
microseconds of HTTP handling, far below the model's own work and the goals of the benchmark.

The supervisor binds the listening socket once (so the port is checked before anything loads and
``--port 0`` works), forks the workers, which all accept on that socket, and restarts a worker that
dies. It never loads a model and opens no database connection while workers run. Each worker:

1. loads every active deployment's models (before accepting any connection);
2. starts a reload thread polling the provider's revision every second (and retrying failed
   model loads every 30 seconds), which also publishes the worker's metrics and records which
   endpoint tokens were used (once a minute);
3. serves HTTP until SIGTERM/SIGINT; then it stops accepting, finishes the requests in flight
   (up to ``graceful_seconds``), flushes the prediction log and exits.

OpenMP (LightGBM, XGBoost): the default is one thread per worker (``OMP_NUM_THREADS=1`` unless
set), as the workers are the parallelism and a thread team costs more than it saves on requests of
a few rows; LightGBM is told the thread count at each call, by batch size (one thread for small
batches, more for batches of hundreds of rows, see ``engine.scoring.adapters.threads_for``).
Idle OpenMP threads sleep at once (``OMP_WAIT_POLICY=PASSIVE`` unless set) instead of spinning for
a while after each batch: on a machine with as many cores as workers, a spinning team of one
worker would take the core another worker needs.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from modelworks.serving.routing import DatabaseRouting, Router, RoutingProvider, describe

__all__ = ["ServeOptions", "serve"]

logger = logging.getLogger("modelworks.serving")

#: Exit code of a worker that could not start (e.g. the database is unreachable); not restarted.
_EXIT_CANNOT_START = 3


@dataclass(frozen=True)
class ServeOptions:
    """How to run the service.

    Attributes:
        host: address to listen on.
        port: TCP port (0: any free port, printed at start).
        workers: worker processes sharing the port.
        max_body_bytes: largest request body accepted.
        metrics_token: bearer token of ``/metrics`` ("" disables it).
        run_dir: where workers publish their metrics (cleared at start).
        predictions_dir: root of the prediction log (``None``: nothing logged).
        poll_seconds: how often the routing revision is checked.
        graceful_seconds: how long requests in flight may take to finish at shutdown.
        flush_seconds: how often the prediction log is written.
    """

    host: str
    port: int
    workers: int
    max_body_bytes: int
    metrics_token: str
    run_dir: Path | None
    predictions_dir: Path | None
    poll_seconds: float = 1.0
    graceful_seconds: float = 20.0
    flush_seconds: float = 5.0


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --port or stop the "
            "program using it"
        ) from exc
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(options: ServeOptions, provider_factory: Callable[[], RoutingProvider] = DatabaseRouting) -> int:
    """Run the supervisor until SIGTERM/SIGINT; returns the exit code.

    Args:
        options: address, workers and limits.
        provider_factory: builds the routing provider inside each worker (default: the database).
    """
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s[%(process)d] %(message)s"
    )
    sock = _bind(options.host, options.port)
    host, port = sock.getsockname()[:2]
    run_dir = options.run_dir / str(port) if options.run_dir is not None else None
    if run_dir is not None:
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True, exist_ok=True)
    options = ServeOptions(**{**options.__dict__, "run_dir": run_dir})
    shown = f"[{host}]" if ":" in str(host) else host
    print(
        f"Modelworks scoring service listening on http://{shown}:{port}/ with {options.workers} worker(s)",
        flush=True,
    )
    # One OpenMP thread per worker unless told otherwise (see the module docstring); set before the
    # libraries are preloaded, since the OpenMP runtime reads its environment when it is loaded.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    stopping = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    _preload_libraries()
    children: dict[int, int] = {}  # pid -> slot
    for slot in range(max(1, options.workers) if not stopping.is_set() else 0):
        children[_fork_worker(sock, slot, options, provider_factory)] = slot
    code = 0
    while children and not stopping.is_set():
        time.sleep(0.2)
        for pid in list(children):
            done, status = os.waitpid(pid, os.WNOHANG)
            if not done:
                continue
            slot = children.pop(pid)
            exit_code = os.waitstatus_to_exitcode(status)
            if stopping.is_set():
                continue
            if exit_code == _EXIT_CANNOT_START:
                logger.error("worker %s could not start; stopping the service", slot)
                stopping.set()
                code = 1
                break
            logger.error("worker %s (pid %s) ended with %s; starting a new one", slot, pid, exit_code)
            time.sleep(1.0)
            children[_fork_worker(sock, slot, options, provider_factory)] = slot
    for pid in children:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + options.graceful_seconds + options.flush_seconds + 10
    while children and time.monotonic() < deadline:
        for pid in list(children):
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                children.pop(pid)
        time.sleep(0.1)
    for pid in children:  # pragma: no cover - only when a worker hangs at shutdown
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    sock.close()
    if run_dir is not None:
        shutil.rmtree(run_dir, ignore_errors=True)
    print("Modelworks scoring service stopped.", flush=True)
    return code


def _preload_libraries() -> None:
    """Import the scoring libraries once, before forking: workers start (and restart) in a fraction
    of the time and share those pages. Only imports: no model is loaded and no OpenMP thread pool
    starts in the supervisor (a pool started before a fork would hang the children)."""
    for module in ("modelworks.engine.scoring", "lightgbm", "sklearn", "skops.io"):
        try:
            __import__(module)
        except Exception as exc:  # an optional library: the worker reports it when a model needs it
            logger.debug("not preloaded: %s (%s)", module, exc)


def _fork_worker(
    sock: socket.socket, slot: int, options: ServeOptions, provider_factory: Callable[[], RoutingProvider]
) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    # The child: never return into the supervisor's code.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    code = 1
    try:
        code = run_worker(sock, slot, options, provider_factory)
    except BaseException:
        logger.exception("worker %s failed", slot)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run_worker(
    sock: socket.socket, slot: int, options: ServeOptions, provider_factory: Callable[[], RoutingProvider]
) -> int:
    """Load the models, then serve on ``sock`` until told to stop. Returns the exit code."""
    import uvicorn

    from modelworks.serving.app import ScoringApp, ServingLimits
    from modelworks.serving.metrics import ServingMetrics
    from modelworks.serving.predlog import PredictionLog

    # The event loop shares the GIL with the threads of the prediction log, the reloads and large
    # batches: let it take the GIL back within 1 ms (default 5 ms) when it has a request to serve.
    sys.setswitchinterval(0.001)
    metrics = ServingMetrics(options.run_dir, slot)
    provider = provider_factory()
    router = Router(provider, metrics)
    try:
        router.refresh(force=True)
    except Exception as exc:
        logger.error("worker %s cannot read the routing table: %s", slot, exc)
        return _EXIT_CANNOT_START
    logger.info("worker %s serving %s", slot, describe(router.table) or "no endpoint yet")
    predlog = (
        PredictionLog(options.predictions_dir, flush_seconds=options.flush_seconds)
        if options.predictions_dir
        else None
    )
    app = ScoringApp(
        router,
        metrics,
        predlog,
        ServingLimits(max_body_bytes=options.max_body_bytes, metrics_token=options.metrics_token),
    )
    stop = threading.Event()
    reloader = threading.Thread(
        target=_reload_loop,
        args=(router, app, metrics, provider, options, stop),
        name="serving-reload",
        daemon=True,
    )
    metrics.write()
    reloader.start()
    if predlog is not None:
        predlog.start()
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=int(options.graceful_seconds),
        timeout_keep_alive=30,
        server_header=False,
        date_header=False,
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    # uvicorn re-raises the signal that stopped it once it has finished; with the default action
    # that would kill the worker before the prediction log is flushed, so the handler it restores
    # (and calls) is this harmless one.
    signal.signal(signal.SIGTERM, _ignore_signal)
    signal.signal(signal.SIGINT, _ignore_signal)
    try:
        server.run(sockets=[sock])
    finally:
        stop.set()
        reloader.join(timeout=5)
        app.background.shutdown(wait=True)
        app.scoring_pool.shutdown(wait=False)
        if predlog is not None:
            predlog.close()
        _mark_tokens(provider, app)
    return 0


def _ignore_signal(signum: int, _frame: object) -> None:
    logger.debug("signal %s received while stopping", signum)


def _mark_tokens(provider: RoutingProvider, app: object) -> None:
    mark = getattr(provider, "mark_tokens_used", None)
    used: set[str] = getattr(app, "used_tokens", set())
    if mark is None or not used:
        return
    hashes = set(used)
    used.clear()
    try:
        mark(hashes)
    except Exception as exc:
        logger.warning("could not record when endpoint tokens were last used: %s", exc)


def _reload_loop(
    router: Router,
    app: object,
    metrics: object,
    provider: RoutingProvider,
    options: ServeOptions,
    stop: threading.Event,
) -> None:
    from modelworks.serving.metrics import ServingMetrics

    assert isinstance(metrics, ServingMetrics)
    last_retry = time.monotonic()
    last_tokens = time.monotonic()
    failing_since: float | None = None
    while not stop.wait(options.poll_seconds):
        now = time.monotonic()
        try:
            force = bool(router.failures) and now - last_retry >= 30.0
            if force:
                last_retry = now
            if router.refresh(force=force):
                logger.info("routing revision %s: %s", router.table.revision, describe(router.table))
            failing_since = None
        except Exception as exc:
            # The database may be restarting: keep serving the current table and say so once a minute.
            if failing_since is None or now - failing_since >= 60:
                logger.error("cannot read the routing table (still serving the previous one): %s", exc)
                failing_since = now
        if now - last_tokens >= 60.0:
            last_tokens = now
            _mark_tokens(provider, app)
        try:
            metrics.write()
        except OSError as exc:
            logger.warning("cannot publish metrics: %s", exc)
