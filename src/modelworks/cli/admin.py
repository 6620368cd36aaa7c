"""Instance administration: ``migrate``, ``createadmin``, ``token``, ``check`` and ``manage``."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import timedelta
from typing import Any

from modelworks.cli.base import CommandError, migrate, require_migrated, setup_django

__all__ = ["add_parsers", "cmd_check", "cmd_createadmin", "cmd_manage", "cmd_migrate", "cmd_token"]


def cmd_migrate(args: argparse.Namespace) -> int:
    setup_django()
    migrate(verbosity=1 if args.verbose else 0)
    print("Database is up to date.")
    return 0


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
    setup_django()
    require_migrated()
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
    setup_django()
    require_migrated()
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


# ---------------------------------------------------------------------------------------- diagnostics


def cmd_check(args: argparse.Namespace) -> int:
    from modelworks.core.checks import run_instance_checks

    setup_django()
    problems = run_instance_checks(deploy=args.deploy, out=sys.stdout)
    return 1 if problems else 0


def cmd_manage(args: argparse.Namespace) -> int:
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["modelworks manage", *args.rest])
    return 0


def add_parsers(sub: Any) -> None:
    """Add ``migrate``, ``createadmin``, ``token``, ``check`` and ``manage`` to the subparsers ``sub``."""
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
