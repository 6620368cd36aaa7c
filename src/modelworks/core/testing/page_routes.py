"""The permission table of the pages: one row per Django URL pattern and method (outside the API).

A new page needs a row here, or the meta-test in ``tests/test_route_permissions.py`` fails naming
it. A row says who may open the page (``Access``), how to build its URL arguments from a
``PermissionWorld`` and, for a form post, the data to send and the statuses that mean success.
See ``modelworks.core.testing.routes``.

Successful form posts answer 303 (``views.base.done``); pages that show a one-time secret (a new
token, a one-time password) answer 200 instead of redirecting.
"""

from __future__ import annotations

from modelworks.catalog.testing import lineage_dataset_page_args, lineage_job_page_args
from modelworks.connections.testing import (
    POSTGRES_FORM,
    project_connection,
    project_connection_page_args,
    shared_connection_page_args,
)
from modelworks.core.models import Role
from modelworks.core.testing.routes import Access, PageRouteCase, PermissionWorld
from modelworks.datasets.testing import (
    dataset_page_args,
    import_status_args,
    rule_page_args,
    version_page_args,
)
from modelworks.deployments.testing import DEPLOYMENTS_PAGE_ROUTES
from modelworks.flows.page_testing import FLOWS_PAGE_ROUTES
from modelworks.governance.testing import GOVERNANCE_PAGE_ROUTES
from modelworks.lab.testing import LAB_PAGE_ROUTES
from modelworks.monitoring.testing import MONITORING_PAGE_ROUTES
from modelworks.registry.testing import REGISTRY_PAGE_ROUTES
from modelworks.scenarios.testing import SCENARIOS_PAGE_ROUTES
from modelworks.tracking.testing import TRACKING_PAGE_ROUTES

__all__ = ["EXEMPT_PAGES", "PAGE_ROUTES"]

SIGNED_IN = Access.signed_in()
INSTANCE_ADMIN = Access.instance_admin()
READER = Access.project(Role.READER)
CONTRIBUTOR = Access.project(Role.CONTRIBUTOR)
ADMIN = Access.project(Role.ADMIN)
REDIRECTED = (303,)
HTMX = {"HX-Request": "true"}


def _project(w: PermissionWorld) -> dict[str, object]:
    return {"slug": w.project.slug}


def _reader_membership(w: PermissionWorld) -> dict[str, object]:
    return {"slug": w.project.slug, "pk": w.reader_membership.pk}


def _queued_job(w: PermissionWorld) -> dict[str, object]:
    return {"pk": w.queued_job.pk}


def _group(w: PermissionWorld) -> dict[str, object]:
    return {"pk": w.group.pk}


def _csv_upload() -> object:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("tiny.csv", b"a,b\n1,2\n", content_type="text/csv")


PAGE_ROUTES: list[PageRouteCase] = [
    # The API's schema and docs describe the instance: signed-in users only. The schema is JSON, so
    # an anonymous caller gets the API's 401; a browser opening the docs is sent to the login page.
    PageRouteCase("api:openapi-json", SIGNED_IN, anonymous="401"),
    PageRouteCase("api:openapi-view", SIGNED_IN),
    # Home: the user's projects, and the "New project" form
    PageRouteCase("core:home", SIGNED_IN),
    PageRouteCase(
        "core:home",
        SIGNED_IN,
        method="POST",
        data=lambda w: {"name": "Churn", "slug": "churn"},
        ok_statuses=REDIRECTED,
    ),
    # A project
    PageRouteCase("core:project", READER, _project),
    PageRouteCase("core:project_settings", ADMIN, _project),
    PageRouteCase(
        "core:project_settings",
        ADMIN,
        _project,
        method="POST",
        data=lambda w: {"name": "Delays", "description": "Renamed"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase(
        "core:project_delete",
        ADMIN,
        _project,
        method="POST",
        data=lambda w: {"confirm": w.project.slug},
        ok_statuses=REDIRECTED,
    ),
    # Members
    PageRouteCase("core:member_search", ADMIN, _project, data=lambda w: {"principal": "da"}),
    PageRouteCase(
        "core:member_add",
        ADMIN,
        _project,
        method="POST",
        data=lambda w: {"principal": "dave", "role": "reader"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase(
        "core:member_role",
        ADMIN,
        _reader_membership,
        method="POST",
        data=lambda w: {"role": "contributor"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("core:member_remove", ADMIN, _reader_membership, method="POST", ok_statuses=REDIRECTED),
    # Jobs
    PageRouteCase("core:project_jobs", READER, _project),
    PageRouteCase(
        "core:job_run",
        CONTRIBUTOR,
        _project,
        method="POST",
        data=lambda w: {"kind": "core.self_check"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("core:jobs", INSTANCE_ADMIN),
    PageRouteCase("core:job", READER, _queued_job),
    PageRouteCase("core:job", Access.hidden(), lambda w: {"pk": w.instance_job.pk}),
    PageRouteCase("core:job_live", READER, _queued_job, headers=HTMX),
    PageRouteCase("core:job_cancel", CONTRIBUTOR, _queued_job, method="POST", ok_statuses=REDIRECTED),
    PageRouteCase(
        "core:job_retry",
        CONTRIBUTOR,
        lambda w: {"pk": w.failed_job.pk},
        method="POST",
        ok_statuses=REDIRECTED,
    ),
    # Audit log: the instance-wide page is for admins of at least one project (it names no project,
    # so a refusal is 403, not 404); a project's page is for that project's admins.
    PageRouteCase("core:audit", Access.any_project(Role.ADMIN)),
    PageRouteCase("core:project_audit", ADMIN, _project),
    # Connections of a project (readers see them, admins manage them, contributors test them) and
    # the instance's shared connections (instance administrators).
    PageRouteCase("connections:list", READER, _project),
    PageRouteCase("connections:create", ADMIN, _project, data=lambda w: {"kind": "postgresql"}),
    PageRouteCase(
        "connections:create",
        ADMIN,
        _project,
        method="POST",
        data=lambda w: {**POSTGRES_FORM, "name": "Sales"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("connections:detail", READER, project_connection_page_args),
    PageRouteCase(
        "connections:detail",
        ADMIN,
        project_connection_page_args,
        method="POST",
        data=lambda w: {**POSTGRES_FORM, "description": "DWH"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase(
        "connections:delete", ADMIN, project_connection_page_args, method="POST", ok_statuses=REDIRECTED
    ),
    PageRouteCase(
        "connections:test", CONTRIBUTOR, project_connection_page_args, method="POST", ok_statuses=REDIRECTED
    ),
    PageRouteCase("connections:admin_list", INSTANCE_ADMIN),
    PageRouteCase(
        "connections:admin_list",
        INSTANCE_ADMIN,
        method="POST",
        data=lambda w: {"kind": "s3", "name": "Bucket", "bucket": "raw"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("connections:admin_detail", INSTANCE_ADMIN, shared_connection_page_args),
    PageRouteCase(
        "connections:admin_detail",
        INSTANCE_ADMIN,
        shared_connection_page_args,
        method="POST",
        data=lambda w: {"kind": "s3", "name": "Lake", "bucket": "raw", "endpoint_url": "http://127.0.0.1:1"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase(
        "connections:admin_delete",
        INSTANCE_ADMIN,
        shared_connection_page_args,
        method="POST",
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase(
        "connections:admin_test",
        INSTANCE_ADMIN,
        shared_connection_page_args,
        method="POST",
        ok_statuses=REDIRECTED,
    ),
    # Datasets: readers read, explore and export; contributors bring data in, document and check
    # quality; admins delete.
    PageRouteCase("datasets:list", READER, _project),
    PageRouteCase("datasets:upload", CONTRIBUTOR, _project),
    PageRouteCase(
        "datasets:upload",
        CONTRIBUTOR,
        _project,
        method="POST",
        data=lambda w: {"file": _csv_upload(), "name": "Tiny"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("datasets:import", CONTRIBUTOR, _project),
    PageRouteCase(
        "datasets:import",
        CONTRIBUTOR,
        _project,
        method="POST",
        data=lambda w: {"connection": project_connection(w).pk, "table": "public.orders", "name": "Orders"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase(
        "datasets:import_items",
        CONTRIBUTOR,
        _project,
        data=lambda w: {"connection": project_connection(w).pk},
        headers=HTMX,
    ),
    PageRouteCase("datasets:import_status", READER, import_status_args),
    PageRouteCase("datasets:detail", READER, dataset_page_args),
    PageRouteCase(
        "datasets:reimport",
        CONTRIBUTOR,
        dataset_page_args,
        method="POST",
        data=lambda w: {"type_3": "float"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("datasets:explore", READER, dataset_page_args),
    PageRouteCase("datasets:profile", READER, dataset_page_args),
    PageRouteCase(
        "datasets:profile_run", CONTRIBUTOR, dataset_page_args, method="POST", ok_statuses=REDIRECTED
    ),
    PageRouteCase("datasets:quality", READER, dataset_page_args),
    PageRouteCase(
        "datasets:quality",
        CONTRIBUTOR,
        dataset_page_args,
        method="POST",
        data=lambda w: {"kind": "not_null", "column": "carrier"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase(
        "datasets:quality_run", CONTRIBUTOR, dataset_page_args, method="POST", ok_statuses=REDIRECTED
    ),
    PageRouteCase(
        "datasets:rule_update",
        CONTRIBUTOR,
        rule_page_args,
        method="POST",
        data=lambda w: {"field": "blocking", "value": "true"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("datasets:rule_delete", CONTRIBUTOR, rule_page_args, method="POST", ok_statuses=REDIRECTED),
    PageRouteCase("datasets:versions", READER, dataset_page_args),
    PageRouteCase(
        "datasets:pin",
        CONTRIBUTOR,
        dataset_page_args,
        method="POST",
        data=lambda w: {"version": "1"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("datasets:export", READER, version_page_args),
    PageRouteCase("datasets:download", READER, version_page_args),
    PageRouteCase("datasets:settings", READER, dataset_page_args),
    PageRouteCase(
        "datasets:settings",
        CONTRIBUTOR,
        dataset_page_args,
        method="POST",
        data=lambda w: {"name": "Flights", "description": "Daily", "tags": "gold, daily", "owner": ""},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("datasets:delete", ADMIN, dataset_page_args, method="POST", ok_statuses=REDIRECTED),
    # The user's own settings
    PageRouteCase("core:settings", SIGNED_IN),
    PageRouteCase(
        "core:profile",
        SIGNED_IN,
        method="POST",
        data=lambda w: {"first_name": "New", "last_name": "Name", "email": "new@example.test"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("core:password_change", SIGNED_IN),
    PageRouteCase(
        "core:password_change",
        SIGNED_IN,
        method="POST",
        data=lambda w: {
            "old_password": w.extra["password"],
            "new_password1": "Brisk-Meadow-8841",
            "new_password2": "Brisk-Meadow-8841",
        },
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("core:tokens", SIGNED_IN, method="POST", data=lambda w: {"name": "laptop"}),
    # One's own tokens; instance administrators may revoke any token, as in the API.
    PageRouteCase(
        "core:token_revoke",
        Access.owner(),
        lambda w: {"pk": w.spare_token.pk},
        method="POST",
        ok_statuses=REDIRECTED,
    ),
    # Catalog and lineage: the search covers the projects the caller may read; the rest is per project.
    PageRouteCase("catalog:search", SIGNED_IN, data=lambda w: {"q": "flights"}),
    PageRouteCase("catalog:dataset_doc", READER, dataset_page_args),
    PageRouteCase("catalog:lineage", READER, _project),
    PageRouteCase("catalog:lineage_dataset", READER, lineage_dataset_page_args),
    PageRouteCase("catalog:lineage_job", READER, lineage_job_page_args),
    # Instance administration
    PageRouteCase("core:admin_users", INSTANCE_ADMIN),
    PageRouteCase(
        "core:admin_user_create",
        INSTANCE_ADMIN,
        method="POST",
        data=lambda w: {"username": "erin", "email": "erin@example.test"},
    ),
    PageRouteCase(
        "core:admin_user_active",
        INSTANCE_ADMIN,
        lambda w: {"pk": w.users["reader"].pk},
        method="POST",
        data=lambda w: {"active": "0"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("core:admin_groups", INSTANCE_ADMIN),
    PageRouteCase(
        "core:admin_groups",
        INSTANCE_ADMIN,
        method="POST",
        data=lambda w: {"name": "engineers"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("core:admin_group", INSTANCE_ADMIN, _group),
    PageRouteCase(
        "core:admin_group",
        INSTANCE_ADMIN,
        _group,
        method="POST",
        data=lambda w: {"username": "dave"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase(
        "core:admin_group_member_remove",
        INSTANCE_ADMIN,
        lambda w: {"pk": w.group.pk, "user_pk": w.users["reader"].pk},
        method="POST",
        ok_statuses=REDIRECTED,
    ),
    *FLOWS_PAGE_ROUTES,
    *SCENARIOS_PAGE_ROUTES,
    *TRACKING_PAGE_ROUTES,
    *REGISTRY_PAGE_ROUTES,
    *LAB_PAGE_ROUTES,
    *DEPLOYMENTS_PAGE_ROUTES,
    *MONITORING_PAGE_ROUTES,
    *GOVERNANCE_PAGE_ROUTES,
]

# Public on purpose, with the reason. Everything else needs a row above.
EXEMPT_PAGES: dict[str, str] = {
    "health": "liveness probe for load balancers; says only whether the database answers",
    "api:api-root": "ninja's root marker, always 404; it exists so ninja can compute operation paths",
    "core:login": "the sign-in page itself",
    "core:logout": "signing out (POST only) is harmless for anyone; an anonymous call lands on the login page",
}
