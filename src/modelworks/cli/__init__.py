"""The ``modelworks`` command. Every subcommand reads MODELWORKS_HOME and DATABASE_URL.

Run ``modelworks --help`` or ``modelworks <command> --help`` for plain-words help. One module per
group of commands: ``demo``, ``builds`` (build), ``projects`` (project), ``servers`` (serve,
serve-models, worker) and ``admin`` (migrate, createadmin, token, check, manage); ``base`` holds
the Django set-up they share. Nothing here imports Django until a command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from modelworks.cli import admin, builds, demo, projects, servers
from modelworks.cli.base import CommandError

__all__ = ["CommandError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The ``modelworks`` argument parser, with every command in the order ``--help`` lists them."""
    parser = argparse.ArgumentParser(
        prog="modelworks",
        description=(
            "Modelworks, the self-hosted AI factory. Every command works on the instance whose files are in "
            "MODELWORKS_HOME (default ./.modelworks) and whose database is DATABASE_URL (default: SQLite in "
            "MODELWORKS_HOME)."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo.add_parsers(sub)
    builds.add_parsers(sub)
    projects.add_parsers(sub)
    servers.add_parsers(sub)
    admin.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``modelworks`` command with ``argv`` (default: the process's arguments).

    Returns:
        The exit status: 0 on success, 1 when the command's work failed, 2 on a usage or set-up error.
    """
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
