"""Portfolio administration through the REST API on the real database: portfolio members (grant,
change, revoke; the last lead is kept) and the pipeline (create, edit, reorder all or nothing,
delete refused while in use), with their audit rows, who may call them, and the pages showing the
changes made through the API."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from modelworks.core.models import AuditEvent
from modelworks.core.testing.client import expect, expect_error
from modelworks.governance.models import PortfolioMember, PortfolioRole, Stage
from modelworks.governance.services import portfolio as services

pytest_plugins = ["modelworks.core.testing.fixtures"]
pytestmark = pytest.mark.django_db

MEMBERS = "/governance/members"
STAGES = "/governance/stages"
ORDER = "/governance/stage-order"
SEEDED = ["idea", "qualified", "poc", "pilot", "production", "retired", "rejected"]


@pytest.fixture
def lead(alice: Any) -> Any:
    PortfolioMember.objects.create(user=alice, role=PortfolioRole.LEAD)
    return alice


@pytest.fixture
def viewer(carol: Any) -> Any:
    PortfolioMember.objects.create(user=carol, role=PortfolioRole.VIEWER)
    return carol


def _keys() -> list[str]:
    return list(Stage.objects.order_by("order", "id").values_list("key", flat=True))


def _actions(prefix: str) -> list[str]:
    return list(
        AuditEvent.objects.filter(action__startswith=prefix).order_by("id").values_list("action", flat=True)
    )


def _page(user: Any, url: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --------------------------------------------------------------------------------------------- members


def test_members_grant_change_list_revoke(
    api_client: Any, instance_admin: Any, lead: Any, dave: Any, group: Any
) -> None:
    client = api_client(instance_admin)
    granted = expect(client.request("PUT", f"{MEMBERS}/users/dave", {"role": "viewer"}), 201)
    assert (granted["kind"], granted["user"]["username"], granted["group"], granted["role"]) == (
        "user",
        "dave",
        None,
        "viewer",
    )
    changed = expect(client.request("PUT", f"{MEMBERS}/users/dave", {"role": "lead"}), 200)
    assert changed["id"] == granted["id"] and changed["role"] == "lead"
    expect(client.request("PUT", f"{MEMBERS}/users/dave", {"role": "lead"}), 200)  # unchanged: no audit row
    expect(client.request("PUT", f"{MEMBERS}/groups/analysts", {"role": "viewer"}), 201)

    listed = expect(client.get(MEMBERS), 200)
    assert listed["count"] == 3
    assert [
        (m["kind"], m["user"] and m["user"]["username"], m["group"], m["role"]) for m in listed["items"]
    ] == [
        ("user", "alice", None, "lead"),
        ("user", "dave", None, "lead"),
        ("group", None, "analysts", "viewer"),
    ]

    expect(client.delete(f"{MEMBERS}/users/dave"), 204)
    expect(client.delete(f"{MEMBERS}/groups/analysts"), 204)
    assert list(PortfolioMember.objects.values_list("user__username", flat=True)) == ["alice"]
    assert _actions("governance.member_") == [
        "governance.member_granted",
        "governance.member_changed",
        "governance.member_granted",
        "governance.member_revoked",
        "governance.member_revoked",
    ]
    change = AuditEvent.objects.get(action="governance.member_changed")
    assert change.actor == instance_admin
    assert change.details == {"before": "viewer", "after": "lead", "principal": "dave"}


def test_last_lead_can_be_neither_demoted_nor_revoked(
    api_client: Any, instance_admin: Any, lead: Any, dave: Any
) -> None:
    client = api_client(instance_admin)
    for response in (
        client.request("PUT", f"{MEMBERS}/users/alice", {"role": "viewer"}),
        client.delete(f"{MEMBERS}/users/alice"),
    ):
        body = expect_error(response, 409, "conflict")
        assert (
            "alice is the portfolio's last governance lead; make someone else lead first" in body["message"]
        )
        assert "role" in body["details"]
    assert PortfolioMember.objects.get(user=lead).role == PortfolioRole.LEAD
    assert not _actions("governance.member_")

    # With a second lead, the first one may step down.
    expect(client.request("PUT", f"{MEMBERS}/users/dave", {"role": "lead"}), 201)
    expect(client.request("PUT", f"{MEMBERS}/users/alice", {"role": "viewer"}), 200)
    expect_error(client.delete(f"{MEMBERS}/users/dave"), 409, "conflict")


def test_a_lead_group_without_active_users_does_not_count(
    api_client: Any, instance_admin: Any, lead: Any, group: Any, carol: Any
) -> None:
    client = api_client(instance_admin)
    expect(client.request("PUT", f"{MEMBERS}/groups/analysts", {"role": "lead"}), 201)
    carol.is_active = False
    carol.save()
    expect_error(client.delete(f"{MEMBERS}/users/alice"), 409, "conflict")
    carol.is_active = True
    carol.save()
    expect(client.delete(f"{MEMBERS}/users/alice"), 204)


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("PUT", f"{MEMBERS}/users/nobody", {"role": "viewer"}, 404, "No active user 'nobody'"),
        ("PUT", f"{MEMBERS}/groups/nobody", {"role": "viewer"}, 404, "No group 'nobody'"),
        ("DELETE", f"{MEMBERS}/users/dave", None, 404, "'dave' has no portfolio role"),
        ("DELETE", f"{MEMBERS}/groups/analysts", None, 404, "Group 'analysts' has no portfolio role"),
        ("PUT", f"{MEMBERS}/users/dave", {"role": "owner"}, 422, "role: Input should be 'viewer' or 'lead'"),
        ("PUT", f"{MEMBERS}/users/dave", {"role": "lead", "extra": 1}, 422, "extra: Extra inputs"),
    ],
)
def test_member_errors(
    api_client: Any,
    instance_admin: Any,
    dave: Any,
    group: Any,
    method: str,
    path: str,
    body: Any,
    status: int,
    message: str,
) -> None:
    response = api_client(instance_admin).request(method, path, body)
    code = "not_found" if status == 404 else "validation_error"
    assert message in expect_error(response, status, code)["message"]
    assert not PortfolioMember.objects.exists()


def test_members_are_for_instance_administrators(api_client: Any, lead: Any, viewer: Any, dave: Any) -> None:
    for user in (viewer, lead):
        client = api_client(user)
        for response in (
            client.get(MEMBERS),
            client.request("PUT", f"{MEMBERS}/users/dave", {"role": "lead"}),
            client.request("PUT", f"{MEMBERS}/users/nobody", {"role": "lead"}),  # 403, not a username probe
            client.delete(f"{MEMBERS}/users/carol"),
        ):
            expect_error(response, 403, "permission_denied")
    expect_error(api_client(None).get(MEMBERS), 401, "not_authenticated")
    assert PortfolioMember.objects.filter(user=dave).count() == 0
    assert not _actions("governance.member_")


def test_members_page_shows_api_changes(api_client: Any, instance_admin: Any, lead: Any, dave: Any) -> None:
    client = api_client(instance_admin)
    expect(client.request("PUT", f"{MEMBERS}/users/dave", {"role": "lead"}), 201)
    text = _page(instance_admin, "/governance/portfolio/members/")
    assert re.search(r"Dave Outsider <span[^>]*>dave</span></th>\s*<td>Governance lead</td>", text)
    expect(client.request("PUT", f"{MEMBERS}/users/dave", {"role": "viewer"}), 200)
    text = _page(instance_admin, "/governance/portfolio/members/")
    assert re.search(r"Dave Outsider <span[^>]*>dave</span></th>\s*<td>Viewer</td>", text)
    expect(client.delete(f"{MEMBERS}/users/dave"), 204)
    assert '<th scope="row">Dave Outsider' not in _page(instance_admin, "/governance/portfolio/members/")


def test_members_page_refuses_to_revoke_the_last_lead(instance_admin: Any, lead: Any) -> None:
    member = PortfolioMember.objects.get(user=lead)
    client = Client()
    client.force_login(instance_admin)
    response = client.post(f"/governance/portfolio/members/{member.pk}/revoke/")
    assert response.status_code == 422
    assert "alice is the portfolio&#x27;s last governance lead" in response.content.decode()
    assert PortfolioMember.objects.filter(pk=member.pk).exists()


# --------------------------------------------------------------------------------------------- stages


def test_stage_create_edit_delete(api_client: Any, lead: Any) -> None:
    client = api_client(lead)
    created = expect(
        client.post(STAGES, {"key": "user-testing", "label": "User testing", "description": "Real users"}),
        201,
    )
    assert created == {
        "key": "user-testing",
        "label": "User testing",
        "order": 80,
        "kind": "active",
        "description": "Real users",
        "use_cases": 0,
        "history_moves": 0,
        "protected": False,
    }
    changed = expect(
        client.patch(f"{STAGES}/user-testing", {"label": "Field test", "kind": "production"}), 200
    )
    assert (changed["key"], changed["label"], changed["kind"], changed["description"]) == (
        "user-testing",
        "Field test",
        "production",
        "Real users",
    )
    expect(client.patch(f"{STAGES}/user-testing", {"description": None}), 200)  # null: unchanged
    assert Stage.objects.get(key="user-testing").description == "Real users"
    listed = expect(client.get(STAGES), 200)
    assert [s["key"] for s in listed["items"]] == [*SEEDED, "user-testing"]
    expect(client.delete(f"{STAGES}/user-testing"), 204)
    assert _keys() == SEEDED
    assert _actions("governance.stage_") == [
        "governance.stage_created",
        "governance.stage_updated",
        "governance.stage_deleted",
    ]
    update = AuditEvent.objects.get(action="governance.stage_updated")
    assert update.details == {"label": ["User testing", "Field test"], "kind": ["active", "production"]}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("POST", STAGES, {"key": "Bad Key", "label": "X"}, 422, "key: Use 1 to 40 lower-case letters"),
        (
            "POST",
            STAGES,
            {"key": "pilot", "label": "Pilot 2"},
            422,
            "key: A stage with key 'pilot' already exists",
        ),
        ("POST", STAGES, {"key": "review", "label": "  "}, 422, "label: Give the stage a name"),
        ("POST", STAGES, {"key": "review", "label": "R", "kind": "x"}, 422, "kind: Input should be 'intake'"),
        ("PATCH", f"{STAGES}/idea", {"kind": "active"}, 422, "Demand intake relies on stage 'idea'"),
        (
            "PATCH",
            f"{STAGES}/nope",
            {"label": "X"},
            404,
            "No pipeline stage 'nope'; the stages are: idea, qualified",
        ),
        ("DELETE", f"{STAGES}/nope", None, 404, "No pipeline stage 'nope'"),
    ],
)
def test_stage_errors(
    api_client: Any, lead: Any, method: str, path: str, body: Any, status: int, message: str
) -> None:
    response = api_client(lead).request(method, path, body)
    code = "not_found" if status == 404 else "validation_error"
    assert message in expect_error(response, status, code)["message"]
    assert _keys() == SEEDED
    assert not _actions("governance.stage_")


def test_stage_delete_refused_while_use_cases_are_in_it(api_client: Any, lead: Any) -> None:
    client = api_client(lead)
    expect(client.post(STAGES, {"key": "review", "label": "Review"}), 201)
    for title in ("Alpha", "Beta"):
        services.create_use_case(actor=lead, title=title, stage="review")
    body = expect_error(client.delete(f"{STAGES}/review"), 409, "conflict")
    assert body["message"] == (
        "Stage 'Review' cannot be deleted: 2 use cases are in it. Move them to another stage first."
    )
    assert body["details"] == {"stage": "review", "use_cases": 2, "history_moves": 2}
    stage = expect(client.patch(f"{STAGES}/review", {"label": "Review board"}), 200)
    assert (stage["use_cases"], stage["history_moves"]) == (2, 2)
    protected = expect_error(client.delete(f"{STAGES}/idea"), 409, "conflict")
    assert "used by demand intake and cannot be deleted; rename it instead" in protected["message"]
    assert Stage.objects.filter(key__in=["review", "idea"]).count() == 2
    assert "governance.stage_deleted" not in _actions("governance.stage_")


def test_reorder_puts_the_whole_pipeline_in_order(api_client: Any, lead: Any) -> None:
    client = api_client(lead)
    new = ["idea", "qualified", "pilot", "poc", "production", "rejected", "retired"]
    body = expect(client.request("PUT", ORDER, {"stages": new}), 200)
    assert [s["key"] for s in body] == new
    assert [s["order"] for s in body] == [10, 20, 30, 40, 50, 60, 70]
    assert _keys() == new
    event = AuditEvent.objects.get(action="governance.stage_reordered")
    assert event.details == {"before": SEEDED, "order": new}
    assert event.actor == lead
    expect(client.request("PUT", ORDER, {"stages": new}), 200)  # same order: nothing recorded
    assert _actions("governance.stage_reordered") == ["governance.stage_reordered"]


@pytest.mark.parametrize(
    ("stages", "message"),
    [
        ([*SEEDED, "nope"], "no stage with key 'nope'"),
        (SEEDED[:-1], "missing 'rejected'"),
        ([*SEEDED, "idea"], "'idea' listed more than once"),
        (
            ["pilot", "nope", "pilot"],
            "no stage with key 'nope'; 'pilot' listed more than once; missing 'idea'",
        ),
        ([], "missing 'idea', 'qualified'"),
    ],
)
def test_reorder_refuses_unknown_repeated_or_missing_keys(
    api_client: Any, lead: Any, stages: list[str], message: str
) -> None:
    body = expect_error(api_client(lead).request("PUT", ORDER, {"stages": stages}), 422, "validation_error")
    assert message in body["message"]
    assert "List every stage key exactly once" in body["message"]
    assert f"The stages now are: {', '.join(SEEDED)}." in body["details"]["stages"][0]
    assert _keys() == SEEDED
    assert not _actions("governance.stage_")


def test_viewers_and_others_cannot_configure_the_pipeline(api_client: Any, viewer: Any, dave: Any) -> None:
    for user in (viewer, dave):
        client = api_client(user)
        assert [s["key"] for s in expect(client.get(STAGES), 200)["items"]] == SEEDED
        for response in (
            client.post(STAGES, {"key": "review", "label": "Review"}),
            client.patch(f"{STAGES}/pilot", {"label": "Trial"}),
            client.patch(f"{STAGES}/nope", {"label": "Trial"}),
            client.delete(f"{STAGES}/pilot"),
            client.request("PUT", ORDER, {"stages": SEEDED[::-1]}),
        ):
            body = expect_error(response, 403, "permission_denied")
            assert body["message"] == "Only governance leads can configure the pipeline."
    expect_error(
        api_client(None).post(STAGES, {"key": "review", "label": "Review"}), 401, "not_authenticated"
    )
    assert _keys() == SEEDED
    assert Stage.objects.get(key="pilot").label == "Pilot"
    assert not _actions("governance.stage_")


def test_instance_admins_configure_the_pipeline(api_client: Any, instance_admin: Any) -> None:
    expect(api_client(instance_admin).post(STAGES, {"key": "review", "label": "Review"}), 201)
    assert _keys() == [*SEEDED, "review"]


def test_pipeline_page_shows_api_changes(api_client: Any, lead: Any) -> None:
    client = api_client(lead)
    expect(client.post(STAGES, {"key": "user-testing", "label": "User testing"}), 201)
    expect(client.patch(f"{STAGES}/user-testing", {"label": "Field test"}), 200)
    order = ["idea", "qualified", "user-testing", "poc", "pilot", "production", "retired", "rejected"]
    expect(client.request("PUT", ORDER, {"stages": order}), 200)
    text = _page(lead, "/governance/portfolio/pipeline/")
    assert "User testing" not in text
    positions = [text.index(label) for label in ("Qualified", "Field test", "Proof of concept", "Pilot")]
    assert positions == sorted(positions)
    # The portfolio's stage filter offers the new stage in its place too.
    portfolio = _page(lead, "/governance/portfolio/")
    assert portfolio.index('value="user-testing">Field test') < portfolio.index(
        'value="poc">Proof of concept'
    )
