"""Sign-off rows of the generated permission suite, and the world they work on.

``world_signoff(w)``: the registry's world model (``Delay model``, v1 @champion) first, then a
requester ``erin`` (contributor), a group ``sign-off reviewers`` (alice, bob and root, contributor in
the project) and a policy protecting ``champion`` with one step any member of that group decides.
So each allowed actor (bob, alice, root) can decide a fresh request asked by erin, and cancel one
asked by bob (the requester, a project admin, an instance admin).
"""

from __future__ import annotations

from typing import Any

from modelworks.core import services as core_services
from modelworks.core.models import Role
from modelworks.core.testing.fixtures import make_user
from modelworks.core.testing.routes import Access, ApiRouteCase, PageRouteCase, PermissionWorld
from modelworks.governance.models import SignoffPolicy, SignoffRequest
from modelworks.governance.services import signoff as signoffs
from modelworks.registry.testing import fresh_version, world_model

__all__ = [
    "API_ROUTES",
    "GATE",
    "PAGE_ROUTES",
    "approve_all",
    "fresh_signoff",
    "register_versions",
    "world_signoff",
]

READER = Access.project(Role.READER)
CONTRIBUTOR = Access.project(Role.CONTRIBUTOR)
ADMIN = Access.project(Role.ADMIN)
REDIRECTED = (303,)


def world_signoff(w: PermissionWorld) -> SignoffPolicy:
    if "signoff.policy" not in w.extra:
        world_model(w)  # its @champion is set before the policy protects it
        alice, bob, root = w.users["admin"], w.users["contributor"], w.users["instance_admin"]
        erin = make_user("erin", full_name="Erin Requester")
        core_services.grant_membership(w.project, actor=alice, user=erin, role=Role.CONTRIBUTOR)
        group = core_services.create_group(actor=root, name="sign-off reviewers")
        for member in (alice, bob, root):
            core_services.add_group_member(group, member, actor=root)
        core_services.grant_membership(w.project, actor=alice, group=group, role=Role.CONTRIBUTOR)
        w.extra["signoff.requester"] = erin
        w.extra["signoff.policy"] = signoffs.save_policy(
            w.project,
            actor=alice,
            aliases=["champion"],
            mode="block",
            due_days=5,
            enabled=True,
            steps=[signoffs.StepSpec(title="Model risk", order=1, reviewer_group=group)],
        )
    return w.extra["signoff.policy"]


def fresh_signoff(w: PermissionWorld, requester: str = "erin") -> SignoffRequest:
    """A new pending request to make a new version @champion, asked by erin (or ``requester``)."""
    world_signoff(w)
    actor = w.extra["signoff.requester"] if requester == "erin" else w.users[requester]
    return signoffs.request_signoff(fresh_version(w), "champion", actor=actor)


def _slug(w: PermissionWorld) -> dict[str, Any]:
    world_signoff(w)
    return {"slug": w.project.slug}


def _api_request(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "request_id": fresh_signoff(w).pk}


def _api_review(w: PermissionWorld) -> dict[str, Any]:
    signoff = fresh_signoff(w)
    return {"slug": w.project.slug, "request_id": signoff.pk, "review_id": signoff.reviews.get().pk}


def _api_own_request(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "request_id": fresh_signoff(w, "contributor").pk}


def _policy_body(w: PermissionWorld) -> dict[str, Any]:
    world_signoff(w)
    return {
        "aliases": ["champion", "production"],
        "mode": "warn",
        "due_days": 3,
        "steps": [{"title": "Data owner", "reviewer": "bob"}, {"title": "Risk", "reviewer": "alice"}],
    }


def _request_body(w: PermissionWorld) -> dict[str, Any]:
    world_signoff(w)
    return {"model": world_model(w).name, "version": fresh_version(w).version, "alias": "champion"}


def _page_request(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "pk": fresh_signoff(w).pk}


def _page_review(w: PermissionWorld) -> dict[str, Any]:
    signoff = fresh_signoff(w)
    return {"slug": w.project.slug, "pk": signoff.pk, "review": signoff.reviews.get().pk}


def _page_own_request(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "pk": fresh_signoff(w, "contributor").pk}


def _policy_form(w: PermissionWorld) -> dict[str, Any]:
    return {
        "enabled": "on",
        "aliases": "champion",
        "mode": "block",
        "due_days": "4",
        "steps-TOTAL_FORMS": "1",
        "steps-INITIAL_FORMS": "0",
        "steps-0-title": "Data owner",
        "steps-0-order": "1",
        "steps-0-reviewer": str(w.users["contributor"].pk),
    }


def _request_form(w: PermissionWorld) -> dict[str, Any]:
    world_signoff(w)
    return {"model": str(world_model(w).pk), "version": str(fresh_version(w).version), "alias": "champion"}


API_ROUTES: list[ApiRouteCase] = [
    ApiRouteCase("governance_signoff_policy_get", READER, _slug),
    ApiRouteCase("governance_signoff_policy_put", ADMIN, _slug, body=_policy_body),
    ApiRouteCase("governance_signoff_requests_list", READER, _slug),
    ApiRouteCase("governance_signoff_requests_create", CONTRIBUTOR, _slug, body=_request_body, ok_status=201),
    ApiRouteCase("governance_signoff_requests_get", READER, _api_request),
    # Bob, alice and root are all members of the step's group; erin asked, so each may decide.
    ApiRouteCase(
        "governance_signoff_reviews_decide",
        CONTRIBUTOR,
        _api_review,
        body=lambda w: {"decision": "reject", "comment": "Calibration drifts on recent weeks."},
    ),
    # Bob asked: he, a project admin and an instance admin may cancel.
    ApiRouteCase("governance_signoff_requests_cancel", CONTRIBUTOR, _api_own_request, body=lambda w: {}),
    ApiRouteCase("governance_signoff_reviews_waiting", Access.signed_in()),
]

PAGE_ROUTES: list[PageRouteCase] = [
    PageRouteCase("governance:signoff_waiting", Access.signed_in()),
    PageRouteCase("governance:signoff_project", READER, _slug),
    PageRouteCase("governance:signoff_policy", ADMIN, _slug),
    PageRouteCase(
        "governance:signoff_policy", ADMIN, _slug, method="POST", data=_policy_form, ok_statuses=REDIRECTED
    ),
    PageRouteCase("governance:signoff_new", CONTRIBUTOR, _slug),
    PageRouteCase(
        "governance:signoff_new",
        CONTRIBUTOR,
        _slug,
        method="POST",
        data=_request_form,
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("governance:signoff_request", READER, _page_request),
    PageRouteCase(
        "governance:signoff_decide",
        CONTRIBUTOR,
        _page_review,
        method="POST",
        data=lambda w: {"decision": "approve"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase(
        "governance:signoff_cancel", CONTRIBUTOR, _page_own_request, method="POST", ok_statuses=REDIRECTED
    ),
]


# -- helpers of the sign-off tests ----------------------------------------------------------------
GATE = "modelworks.governance.services.signoff_gate.check_alias_move"


def register_versions(
    project: Any, actor: Any, run: Any, *, name: str = "Delays", count: int = 2
) -> list[Any]:
    """``count`` real versions of a new registered model ``name`` (from a run holding a model)."""
    from modelworks.registry import services as registry

    model = registry.create_registered_model(project, actor=actor, name=name)
    return [
        registry.create_model_version(model, actor=actor, source=f"runs:/{run.run_uuid}/model")
        for _ in range(count)
    ]


def approve_all(signoff: SignoffRequest, *reviewers: Any) -> SignoffRequest:
    """Each review in order approved by the matching reviewer (one per review)."""
    for review, reviewer in zip(signoff.reviews.order_by("order", "id"), reviewers, strict=True):
        signoff = signoffs.decide(review, actor=reviewer, approve=True)
    return signoff
