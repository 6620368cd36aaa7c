"""Long-running processes: ``serve`` (web), ``serve-models`` (scoring) and ``worker`` (jobs)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from modelworks.cli.base import CommandError, require_migrated, setup_django

__all__ = ["add_parsers", "cmd_serve", "cmd_serve_models", "cmd_worker"]


def cmd_serve(args: argparse.Namespace) -> int:
    setup_django()
    require_migrated()
    from modelworks.core.server import serve

    return serve(host=args.host, port=args.port, workers=args.workers, threads=args.threads)


def cmd_serve_models(args: argparse.Namespace) -> int:
    setup_django()
    require_migrated()
    from django.conf import settings
    from django.db import connections

    from modelworks.serving.server import ServeOptions, serve

    workers = args.workers if args.workers is not None else int(settings.MODELWORKS_SERVING_WORKERS)
    if workers < 1:
        raise CommandError("--workers must be at least 1.")
    port = args.serving_port if args.serving_port is not None else int(settings.MODELWORKS_SERVING_PORT)
    connections.close_all()  # the workers are forked: each opens its own connection
    try:
        return serve(
            ServeOptions(
                host=args.host,
                port=port,
                workers=workers,
                max_body_bytes=int(settings.MODELWORKS_SCORING_MAX_BODY_BYTES),
                metrics_token=str(settings.MODELWORKS_SERVING_METRICS_TOKEN or ""),
                run_dir=Path(settings.MODELWORKS_HOME) / "run" / "serving",
                predictions_dir=Path(settings.MODELWORKS_PREDICTIONS_DIR),
            )
        )
    except OSError as exc:
        raise CommandError(str(exc)) from exc


def cmd_worker(args: argparse.Namespace) -> int:
    setup_django()
    require_migrated()
    from modelworks.core.jobs.worker import run_worker

    return run_worker(concurrency=args.concurrency, burst=args.burst, name=args.name)


def add_parsers(sub: Any) -> None:
    """Add ``serve``, ``serve-models`` and ``worker`` to the subparsers ``sub``."""
    p = sub.add_parser(
        "serve",
        help="run the web server (pages and REST API)",
        description="Run the web server. It listens on 127.0.0.1 unless told otherwise.",
    )
    p.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1 or MODELWORKS_BIND)")
    p.add_argument(
        "--port", type=int, default=None, help="port to listen on (default 8000 or MODELWORKS_PORT)"
    )
    p.add_argument("--workers", type=int, default=2, help="web processes (default 2)")
    p.add_argument("--threads", type=int, default=8, help="threads per web process (default 8)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "serve-models",
        help="run the scoring service (every active deployment at /score/<name>)",
        description=(
            "Run the scoring service: a separate process that serves every active deployment of this "
            "instance at POST /score/<name> and follows deployment and alias changes within a second, "
            "without dropping requests. It listens on 127.0.0.1 unless told otherwise (MODELWORKS_BIND). "
            "GET /health answers anyone; GET /metrics needs MODELWORKS_SERVING_METRICS_TOKEN."
        ),
    )
    p.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1 or MODELWORKS_BIND)")
    p.add_argument(
        "--port",
        dest="serving_port",
        type=int,
        default=None,
        help="port to listen on (default 8100 or MODELWORKS_SERVING_PORT; 0 picks a free one)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes sharing the port, each with every model loaded "
        "(default 2 or MODELWORKS_SERVING_WORKERS)",
    )
    p.set_defaults(func=cmd_serve_models)

    p = sub.add_parser(
        "worker",
        help="run a background job worker",
        description=(
            "Run jobs from the database queue. Start as many workers as you like, on one or several machines "
            "sharing the database: two workers never run the same job, and the jobs of a worker that dies are "
            "detected when their lease expires and re-queued or failed."
        ),
    )
    p.add_argument("--concurrency", type=int, default=2, help="jobs run at once by this worker (default 2)")
    p.add_argument("--burst", action="store_true", help="exit once the queue is empty")
    p.add_argument("--name", default=None, help="worker name shown on job pages (default host:pid)")
    p.set_defaults(func=cmd_worker)
