"""``modelworks build``: queue a build of a project's flow and, with --wait, follow it to the end."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from modelworks.cli.base import CommandError, require_migrated, setup_django

__all__ = ["add_parsers", "cmd_build"]


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
    setup_django()
    require_migrated()
    from django.core.exceptions import ValidationError

    from modelworks.core.models import Project, Role
    from modelworks.datasets.models import Dataset
    from modelworks.flows.build_runner import build_table, wait_for_build
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


def add_parsers(sub: Any) -> None:
    """Add ``build`` to the subparsers ``sub``."""
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
