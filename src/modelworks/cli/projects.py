"""``modelworks project``: export a project to a bundle folder, or create a project from a bundle."""

from __future__ import annotations

import argparse
from typing import Any

from modelworks.cli.base import CommandError, require_migrated, setup_django

__all__ = ["add_parsers", "cmd_project"]


def cmd_project(args: argparse.Namespace) -> int:
    setup_django()
    require_migrated()
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


def add_parsers(sub: Any) -> None:
    """Add ``project`` (with its ``export`` and ``import`` actions) to the subparsers ``sub``."""
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
