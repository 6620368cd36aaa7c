"""The permission table of the REST API: one row per operation of ``modelworks.config.api.api``.

A new API route needs a row here, or the meta-test in ``tests/test_route_permissions.py`` fails
naming it. See ``modelworks.core.testing.routes`` for what a row means.
"""

from __future__ import annotations

from modelworks.catalog.testing import (
    lineage_dataset_args,
    lineage_job_args,
    openlineage_event,
)
from modelworks.connections.testing import (
    project_connection,
    project_connection_args,
    shared_connection_args,
)
from modelworks.core.models import Role
from modelworks.core.testing.routes import Access, ApiRouteCase, PermissionWorld
from modelworks.datasets.testing import dataset_args, rule_args
from modelworks.deployments.testing import DEPLOYMENTS_API_ROUTES
from modelworks.flows.testing import FLOWS_API_ROUTES
from modelworks.governance.testing import GOVERNANCE_API_ROUTES
from modelworks.lab.testing import LAB_API_ROUTES
from modelworks.monitoring.testing import MONITORING_API_ROUTES
from modelworks.scenarios.testing import SCENARIOS_API_ROUTES

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
    # Lineage: OpenLineage events are filed under the project of their job namespace (contributors);
    # the graph is read by readers. The catalog search covers the projects the caller may read.
    ApiRouteCase("lineage_ingest", CONTRIBUTOR, body=openlineage_event, ok_status=201),
    ApiRouteCase("lineage_datasets_list", READER, _project),
    ApiRouteCase("lineage_dataset_get", READER, lineage_dataset_args),
    ApiRouteCase("lineage_dataset_graph", READER, lineage_dataset_args),
    ApiRouteCase("lineage_column_lineage", READER, lineage_dataset_args),
    ApiRouteCase("lineage_project_graph", READER, _project),
    ApiRouteCase("lineage_jobs_list", READER, _project),
    ApiRouteCase("lineage_job_get", READER, lineage_job_args),
    ApiRouteCase("catalog_search", SIGNED_IN),
    # Connections of a project: readers see them (never their credentials), admins manage them,
    # contributors test them. Listing items of a connection that cannot be reached is a 422.
    ApiRouteCase("connections_list", READER, _project),
    ApiRouteCase(
        "connections_create",
        ADMIN,
        _project,
        body=lambda w: {
            "name": "Sales",
            "kind": "postgresql",
            "host": "db.internal",
            "database": "sales",
            "user": "r",
        },
        ok_status=201,
    ),
    ApiRouteCase("connections_get", READER, project_connection_args),
    ApiRouteCase("connections_update", ADMIN, project_connection_args, body=lambda w: {"description": "DWH"}),
    ApiRouteCase("connections_delete", ADMIN, project_connection_args, ok_status=204),
    ApiRouteCase("connections_test", CONTRIBUTOR, project_connection_args),
    ApiRouteCase("connections_items", CONTRIBUTOR, project_connection_args, ok_status=422),
    # Shared (instance-level) connections: instance administrators only.
    ApiRouteCase("instance_connections_list", Access.instance_admin()),
    ApiRouteCase(
        "instance_connections_create",
        Access.instance_admin(),
        body=lambda w: {"name": "Bucket", "kind": "s3", "bucket": "raw", "shared_with": [w.project.slug]},
        ok_status=201,
    ),
    ApiRouteCase("instance_connections_get", Access.instance_admin(), shared_connection_args),
    ApiRouteCase(
        "instance_connections_update",
        Access.instance_admin(),
        shared_connection_args,
        body=lambda w: {"region": "eu-west-3"},
    ),
    ApiRouteCase(
        "instance_connections_delete", Access.instance_admin(), shared_connection_args, ok_status=204
    ),
    ApiRouteCase("instance_connections_test", Access.instance_admin(), shared_connection_args),
    # Datasets: readers read (and export), contributors bring data in and document, admins delete.
    # The suite sends JSON, so an upload without its multipart file is a 422 for those allowed.
    ApiRouteCase("datasets_list", READER, _project),
    ApiRouteCase("datasets_upload", CONTRIBUTOR, _project, body=lambda w: {}, ok_status=422),
    ApiRouteCase(
        "datasets_import",
        CONTRIBUTOR,
        _project,
        body=lambda w: {
            "connection_id": project_connection(w).pk,
            "table": "public.orders",
            "name": "Orders",
        },
        ok_status=202,
    ),
    ApiRouteCase("datasets_get", READER, dataset_args),
    ApiRouteCase(
        "datasets_update", CONTRIBUTOR, dataset_args, body=lambda w: {"description": "Daily flights."}
    ),
    ApiRouteCase("datasets_delete", ADMIN, dataset_args, ok_status=204),
    ApiRouteCase("datasets_versions", READER, dataset_args),
    ApiRouteCase("datasets_version_get", READER, lambda w: {**dataset_args(w), "number": 1}),
    ApiRouteCase("datasets_pin", CONTRIBUTOR, dataset_args, body=lambda w: {"version": 1}),
    ApiRouteCase(
        "datasets_reimport",
        CONTRIBUTOR,
        dataset_args,
        body=lambda w: {"types": {"distance": "float"}},
        ok_status=202,
    ),
    ApiRouteCase("datasets_rows", READER, lambda w: {**dataset_args(w), "number": 1}),
    ApiRouteCase("datasets_profile", READER, lambda w: {**dataset_args(w), "number": 1}),
    ApiRouteCase(
        "datasets_profile_run", CONTRIBUTOR, lambda w: {**dataset_args(w), "number": 1}, ok_status=202
    ),
    ApiRouteCase("datasets_export", READER, lambda w: {**dataset_args(w), "number": 1}),
    ApiRouteCase("quality_rules_list", READER, dataset_args),
    ApiRouteCase(
        "quality_rules_create",
        CONTRIBUTOR,
        dataset_args,
        body=lambda w: {"kind": "range", "params": {"column": "dep_delay", "min": -60}, "blocking": True},
        ok_status=201,
    ),
    ApiRouteCase("quality_rules_update", CONTRIBUTOR, rule_args, body=lambda w: {"blocking": True}),
    ApiRouteCase("quality_rules_delete", CONTRIBUTOR, rule_args, ok_status=204),
    ApiRouteCase("quality_run", CONTRIBUTOR, dataset_args, body=lambda w: {}, ok_status=202),
    ApiRouteCase("quality_runs_list", READER, dataset_args),
    # Any other path: signed-in callers get the API's 404 body, anonymous ones 401 like everywhere.
    *FLOWS_API_ROUTES,
    *SCENARIOS_API_ROUTES,
    *LAB_API_ROUTES,
    *DEPLOYMENTS_API_ROUTES,
    *MONITORING_API_ROUTES,
    *GOVERNANCE_API_ROUTES,
    ApiRouteCase("unknown_path", SIGNED_IN, lambda w: {"rest": "no/such/route"}, ok_status=404),
]

# Operations deliberately left out of the suite, with the reason. Keep this empty if you can.
EXEMPT_API_OPERATIONS: dict[str, str] = {}

# Extra rows for objects only instance administrators may see (same operation, other object).
HIDDEN_OBJECT_ROUTES: list[ApiRouteCase] = [
    ApiRouteCase("jobs_get", Access.hidden(), lambda w: {"job_id": w.instance_job.pk}),
    ApiRouteCase("jobs_logs", Access.hidden(), lambda w: {"job_id": w.instance_job.pk}),
]
