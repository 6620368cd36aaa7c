"""The permission table of the REST API: one row per operation of ``modelworks.config.api.api``.

A new API route needs a row here, or the meta-test in ``tests/test_route_permissions.py`` fails
naming it. See ``modelworks.core.testing.routes`` for what a row means.
"""

from __future__ import annotations

from modelworks.core.models import Role
from modelworks.core.testing.routes import Access, ApiRouteCase, PermissionWorld

__all__ = ["API_ROUTES", "EXEMPT_API_OPERATIONS"]


def _project(w: PermissionWorld) -> dict[str, object]:
    return {"slug": w.project.slug}


def _membership(w: PermissionWorld) -> dict[str, object]:
    return {"slug": w.project.slug, "membership_id": w.reader_membership.pk}


def _group(w: PermissionWorld) -> dict[str, object]:
    return {"group_id": w.group.pk}


def _queued_job(w: PermissionWorld) -> dict[str, object]:
    return {"job_id": w.queued_job.pk}


READER = Access.project(Role.READER)
CONTRIBUTOR = Access.project(Role.CONTRIBUTOR)
ADMIN = Access.project(Role.ADMIN)
SIGNED_IN = Access.signed_in()

API_ROUTES: list[ApiRouteCase] = [
    # Me and the user directory
    ApiRouteCase("me_get", SIGNED_IN),
    ApiRouteCase("users_list", SIGNED_IN),
    ApiRouteCase("users_get", SIGNED_IN, lambda w: {"user_id": w.users["reader"].pk}),
    ApiRouteCase(
        "users_create",
        Access.instance_admin(),
        body=lambda w: {"username": "erin", "email": "erin@example.test", "password": "Tall-Lantern-5521"},
        ok_status=201,
    ),
    # Projects
    ApiRouteCase("projects_list", SIGNED_IN),
    ApiRouteCase(
        "projects_create", SIGNED_IN, body=lambda w: {"slug": "churn", "name": "Churn"}, ok_status=201
    ),
    ApiRouteCase("projects_get", READER, _project),
    ApiRouteCase("projects_update", ADMIN, _project, body=lambda w: {"name": "Flight delays 2"}),
    ApiRouteCase("projects_delete", ADMIN, _project, ok_status=204),
    # Members
    ApiRouteCase("members_list", READER, _project),
    ApiRouteCase(
        "members_grant", ADMIN, _project, body=lambda w: {"user": "dave", "role": "reader"}, ok_status=201
    ),
    ApiRouteCase("members_update", ADMIN, _membership, body=lambda w: {"role": "contributor"}),
    ApiRouteCase("members_revoke", ADMIN, _membership, ok_status=204),
    # Groups
    ApiRouteCase("groups_list", SIGNED_IN),
    ApiRouteCase(
        "groups_create", Access.instance_admin(), body=lambda w: {"name": "engineers"}, ok_status=201
    ),
    ApiRouteCase("groups_get", Access.group_member(), _group),
    ApiRouteCase("groups_add_member", Access.group_admin(), _group, body=lambda w: {"user": "dave"}),
    ApiRouteCase(
        "groups_remove_member",
        Access.group_admin(),
        lambda w: {"group_id": w.group.pk, "user_id": w.users["reader"].pk},
    ),
    # Tokens
    ApiRouteCase("tokens_list", SIGNED_IN),
    ApiRouteCase("tokens_create", SIGNED_IN, body=lambda w: {"name": "nightly"}, ok_status=201),
    ApiRouteCase("tokens_revoke", Access.owner(), lambda w: {"token_id": w.spare_token.pk}, ok_status=204),
    # Jobs
    ApiRouteCase("project_jobs_list", READER, _project),
    ApiRouteCase(
        "project_jobs_submit",
        CONTRIBUTOR,
        _project,
        body=lambda w: {"kind": "core.self_check", "title": "Check"},
        ok_status=201,
    ),
    ApiRouteCase("jobs_list", Access.instance_admin()),
    ApiRouteCase("jobs_get", READER, _queued_job),
    ApiRouteCase("jobs_logs", READER, _queued_job),
    ApiRouteCase("jobs_cancel", CONTRIBUTOR, _queued_job),
    ApiRouteCase("jobs_retry", CONTRIBUTOR, lambda w: {"job_id": w.failed_job.pk}),
    # Audit (read-only)
    ApiRouteCase("audit_list", SIGNED_IN),
    ApiRouteCase("project_audit_list", ADMIN, _project),
    # Any other path: signed-in callers get the API's 404 body, anonymous ones 401 like everywhere.
    ApiRouteCase("unknown_path", SIGNED_IN, lambda w: {"rest": "no/such/route"}, ok_status=404),
]

# Operations deliberately left out of the suite, with the reason. Keep this empty if you can.
EXEMPT_API_OPERATIONS: dict[str, str] = {}

# Extra rows for objects only instance administrators may see (same operation, other object).
HIDDEN_OBJECT_ROUTES: list[ApiRouteCase] = [
    ApiRouteCase("jobs_get", Access.hidden(), lambda w: {"job_id": w.instance_job.pk}),
    ApiRouteCase("jobs_logs", Access.hidden(), lambda w: {"job_id": w.instance_job.pk}),
]
