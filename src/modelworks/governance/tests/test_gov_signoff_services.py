"""Sign-off services on real registered versions: the policy's rules (who may review), asking,
deciding in order (named users and groups), four-eyes, rejection with a comment, cancelling and
withdrawing, overdue requests, the reviews waiting for someone, and the audit trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from modelworks.core import services as core
from modelworks.core.models import AuditEvent, Project, Role, User
from modelworks.core.testing.fixtures import make_user
from modelworks.governance.models import PortfolioMember, PortfolioRole, SignoffRequest, SignoffStatus
from modelworks.governance.services import signoff as signoffs
from modelworks.governance.services.signoff import SignoffConflict, StepSpec
from modelworks.governance.testing_signoff import approve_all, register_versions

pytestmark = pytest.mark.django_db
pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.registry.tests.fixtures"]


@pytest.fixture
def cast(
    project: Project, alice: User, bob: User, carol: User, dave: User, instance_admin: User
) -> dict[str, Any]:
    """erin (contributor, asks), frank (contributor via the 'risk officers' group, with bob in it)."""
    erin = make_user("erin")
    core.grant_membership(project, actor=alice, user=erin, role=Role.CONTRIBUTOR)
    frank = make_user("frank")
    risk = core.create_group(actor=instance_admin, name="risk officers")
    for member in (frank, bob):
        core.add_group_member(risk, member, actor=instance_admin)
    core.grant_membership(project, actor=alice, group=risk, role=Role.CONTRIBUTOR)
    return {
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "dave": dave,
        "root": instance_admin,
        "erin": erin,
        "frank": frank,
        "risk": risk,
    }


@pytest.fixture
def versions(project: Project, bob: User, trained_run: Any) -> list[Any]:
    return register_versions(project, bob, trained_run, count=3)


def two_steps(project: Project, cast: dict[str, Any], **changes: Any) -> Any:
    """Data owner (alice) first, then the risk officers (any member)."""
    values: dict[str, Any] = {
        "aliases": ["champion", "production"],
        "mode": "block",
        "due_days": 5,
        "enabled": True,
        "steps": [
            StepSpec(title="Data owner", order=1, reviewer=cast["alice"]),
            StepSpec(title="Risk officer", order=2, reviewer_group=cast["risk"]),
        ],
    }
    return signoffs.save_policy(project, actor=cast["alice"], **{**values, **changes})


# -- the policy -----------------------------------------------------------------------------------
def test_policy_saved_with_its_steps_and_audited(project: Project, cast: dict[str, Any]) -> None:
    policy = two_steps(project, cast, aliases="champion, production, champion")
    assert policy.aliases == ["champion", "production"]
    assert [(s.order, s.title, signoffs.reviewer_label(s)) for s in policy.steps.all()] == [
        (1, "Data owner", "alice"),
        (2, "Risk officer", "a member of group 'risk officers'"),
    ]
    first = AuditEvent.objects.get(action="governance.signoff_policy_created")
    assert first.details["policy"]["steps"][1] == {
        "order": 2,
        "title": "Risk officer",
        "reviewer": None,
        "reviewer_group": "risk officers",
    }
    two_steps(project, cast, mode="warn", steps=[StepSpec(title="Owner", order=1, reviewer=cast["bob"])])
    updated = AuditEvent.objects.get(action="governance.signoff_policy_updated")
    assert updated.details["before"]["mode"] == "block" and updated.details["policy"]["mode"] == "warn"
    assert [s.title for s in signoffs.get_policy(project).steps.all()] == ["Owner"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"aliases": []}, "Name at least one alias to protect"),
        ({"aliases": ["champ ion"]}, "alias"),
        ({"mode": "maybe"}, "Choose 'block' or 'warn', not 'maybe'"),
        ({"due_days": 0}, "Give reviewers 1 to 365 days, not 0"),
        ({"due_days": "soon"}, "a whole number from 1 to 365"),
        ({"steps": []}, "An enabled policy needs at least one review step"),
        ({"steps": [StepSpec(title=" ", order=1)]}, "Step 1 needs a title"),
        ({"steps": [StepSpec(title="Owner", order=1)]}, r"Step 1 \('Owner'\) needs exactly one reviewer"),
        ({"steps": "both"}, r"needs exactly one reviewer"),
        ({"steps": "dave"}, "'dave' is not a contributor or admin of project 'flight-delays'"),
        ({"steps": "carol"}, "'carol' is not a contributor or admin of project 'flight-delays'"),
        ({"steps": "outside group"}, "group 'auditors' does not hold the contributor or admin role"),
        ({"steps": "empty group"}, "group 'nobody' has no active members"),
    ],
)
def test_policy_refusals_say_what_to_fix(
    project: Project, cast: dict[str, Any], changes: dict[str, Any], message: str
) -> None:
    steps = changes.get("steps")
    if steps == "both":
        changes["steps"] = [
            StepSpec(title="Owner", order=1, reviewer=cast["bob"], reviewer_group=cast["risk"])
        ]
    elif steps in ("dave", "carol"):
        changes["steps"] = [StepSpec(title="Owner", order=1, reviewer=cast[steps])]
    elif steps == "outside group":
        auditors = Group.objects.create(name="auditors")
        auditors.user_set.add(cast["dave"])
        core.grant_membership(project, actor=cast["alice"], group=auditors, role=Role.READER)
        changes["steps"] = [StepSpec(title="Audit", order=1, reviewer_group=auditors)]
    elif steps == "empty group":
        nobody = Group.objects.create(name="nobody")
        core.grant_membership(project, actor=cast["alice"], group=nobody, role=Role.CONTRIBUTOR)
        changes["steps"] = [StepSpec(title="Audit", order=1, reviewer_group=nobody)]
    with pytest.raises(ValidationError, match=message):
        two_steps(project, cast, **changes)
    assert signoffs.get_policy(project) is None


@pytest.mark.parametrize(
    ("who", "allowed"),
    [("alice", True), ("root", True), ("lead", True), ("bob", False), ("carol", False), ("dave", False)],
)
def test_who_may_set_the_policy(project: Project, cast: dict[str, Any], who: str, allowed: bool) -> None:
    if who == "lead":  # a governance lead who is no member of the project
        cast["lead"] = make_user("gina")
        PortfolioMember.objects.create(user=cast["lead"], role=PortfolioRole.LEAD)
    steps = [StepSpec(title="Owner", order=1, reviewer=cast["bob"])]
    if allowed:
        policy = signoffs.save_policy(
            project,
            actor=cast[who],
            aliases=["champion"],
            mode="block",
            due_days=5,
            enabled=True,
            steps=steps,
        )
        assert policy.steps.count() == 1
    else:
        with pytest.raises(
            PermissionDenied, match="Only admins of project 'flight-delays' and governance leads"
        ):
            signoffs.save_policy(
                project,
                actor=cast[who],
                aliases=["champion"],
                mode="block",
                due_days=5,
                enabled=True,
                steps=steps,
            )


# -- asking ---------------------------------------------------------------------------------------
def test_request_snapshots_the_policy(project: Project, cast: dict[str, Any], versions: list[Any]) -> None:
    policy = two_steps(project, cast, due_days=3)
    before = timezone.now()
    signoff = signoffs.request_signoff(versions[1], "champion", actor=cast["erin"], note="Better on Q3.")
    assert signoff.status == SignoffStatus.PENDING and signoff.requested_by == cast["erin"]
    assert before + timedelta(days=3) <= signoff.due_at <= timezone.now() + timedelta(days=3)
    assert [(r.order, r.title, r.reviewer, r.reviewer_group) for r in signoff.reviews.all()] == [
        (1, "Data owner", cast["alice"], None),
        (2, "Risk officer", None, cast["risk"]),
    ]
    assert signoff.details["policy"]["due_days"] == 3 and signoff.details["note"] == "Better on Q3."
    # Later policy edits do not change a running request.
    policy.steps.all().delete()
    assert signoff.reviews.count() == 2
    audit = AuditEvent.objects.get(action="governance.signoff_requested")
    assert (
        audit.actor == cast["erin"] and audit.details["version"] == 2 and audit.details["alias"] == "champion"
    )
    assert audit.details["steps"] == ["Data owner: alice", "Risk officer: a member of group 'risk officers'"]


@pytest.mark.parametrize(
    ("setup", "who", "alias", "error", "message"),
    [
        ("none", "erin", "champion", ValidationError, "has no enabled sign-off policy"),
        ("disabled", "erin", "champion", ValidationError, "has no enabled sign-off policy"),
        (
            "policy",
            "erin",
            "challenger",
            ValidationError,
            r"@challenger is not protected .*protected: @champion",
        ),
        ("policy", "carol", "champion", PermissionDenied, "needs the contributor role"),
        ("policy", "dave", "champion", PermissionDenied, "needs the contributor role"),
        (
            "policy",
            "alice",
            "champion",
            ValidationError,
            r"Step 'Data owner' can only be reviewed by you \(alice\)",
        ),
        ("pending", "erin", "champion", SignoffConflict, r"already waiting for its reviews; see /projects/"),
        ("approved", "erin", "champion", SignoffConflict, "already has an approved sign-off for @champion"),
        ("reviewer left", "erin", "champion", ValidationError, "names alice, who cannot review"),
    ],
)
def test_request_refusals(
    project: Project,
    cast: dict[str, Any],
    versions: list[Any],
    setup: str,
    who: str,
    alias: str,
    error: type[Exception],
    message: str,
) -> None:
    if setup != "none":
        two_steps(project, cast, enabled=setup != "disabled")
    if setup in ("pending", "approved"):
        signoff = signoffs.request_signoff(versions[1], "champion", actor=cast["bob"])
        if setup == "approved":
            approve_all(signoff, cast["alice"], cast["frank"])
    if setup == "reviewer left":
        project.memberships.filter(user=cast["alice"]).update(role=Role.READER)
    with pytest.raises(error, match=message):
        signoffs.request_signoff(versions[1], alias, actor=cast[who])


# -- deciding -------------------------------------------------------------------------------------
# Step 1 (Data owner) is alice's; step 2 (Risk officer) any member of 'risk officers' (frank, bob).
@pytest.mark.parametrize(
    ("step", "who", "outcome"),
    [
        (1, "alice", "ok"),
        (1, "root", "not named"),  # an instance admin is not the named reviewer
        (1, "bob", "not named"),
        (1, "frank", "not named"),
        (1, "erin", "own request"),
        (1, "carol", "not named"),
        (1, "dave", "not named"),
        (2, "frank", "not yet"),  # named, but the data owner has not approved yet
        (2, "bob", "not yet"),
        (2, "alice", "not named"),
    ],
)
def test_only_the_named_reviewer_decides_in_order(
    project: Project, cast: dict[str, Any], versions: list[Any], step: int, who: str, outcome: str
) -> None:
    two_steps(project, cast)
    signoff = signoffs.request_signoff(versions[1], "champion", actor=cast["erin"])
    review = signoff.reviews.get(order=step)
    review.request = signoff
    decide = lambda: signoffs.decide(review, actor=cast[who], approve=True)  # noqa: E731
    if outcome == "ok":
        assert signoffs.can_decide(review, cast[who])
        assert decide().status == SignoffStatus.PENDING
        return
    assert not signoffs.can_decide(review, cast[who])
    expected = {
        "not named": (PermissionDenied, "is for alice; only they can approve or reject it"),
        "own request": (PermissionDenied, "you cannot review it yourself \\(four-eyes principle\\)"),
        "not yet": (SignoffConflict, "comes after 'Data owner'"),
    }[outcome]
    if step == 2 and outcome == "not named":
        expected = (PermissionDenied, "is for a member of group 'risk officers'")
    with pytest.raises(expected[0], match=expected[1]):
        decide()
    assert signoff.reviews.filter(decision="pending").count() == 2


@pytest.mark.parametrize("member", ["frank", "bob"])
def test_any_group_member_decides_and_the_last_approval_completes(
    project: Project, cast: dict[str, Any], versions: list[Any], member: str
) -> None:
    two_steps(project, cast)
    signoff = signoffs.request_signoff(versions[1], "champion", actor=cast["erin"])
    signoff = approve_all(signoff, cast["alice"], cast[member])
    assert signoff.status == SignoffStatus.APPROVED and signoff.decided_at is not None
    decided = signoff.reviews.get(order=2)
    assert decided.decided_by == cast[member] and decided.decision == "approved"
    actions = list(
        AuditEvent.objects.filter(action__startswith="governance.signoff_")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[-3:] == [
        "governance.signoff_review_approved",
        "governance.signoff_review_approved",
        "governance.signoff_approved",
    ]
    # Nothing is left to decide.
    with pytest.raises(SignoffConflict, match="is already approved; there is nothing left to decide"):
        signoffs.decide(signoff.reviews.get(order=1), actor=cast["alice"], approve=False, comment="late")


def test_a_group_member_who_asked_cannot_review_but_a_colleague_can(
    project: Project, cast: dict[str, Any], versions: list[Any]
) -> None:
    signoffs.save_policy(
        project,
        actor=cast["alice"],
        aliases=["champion"],
        mode="block",
        due_days=5,
        enabled=True,
        steps=[StepSpec(title="Risk officer", order=1, reviewer_group=cast["risk"])],
    )
    signoff = signoffs.request_signoff(versions[1], "champion", actor=cast["bob"])  # bob is in the group
    review = signoff.reviews.get()
    with pytest.raises(PermissionDenied, match="four-eyes"):
        signoffs.decide(review, actor=cast["bob"], approve=True)
    assert signoffs.reviews_waiting_for(cast["bob"]) == []
    assert [r.pk for r in signoffs.reviews_waiting_for(cast["frank"])] == [review.pk]
    assert signoffs.decide(review, actor=cast["frank"], approve=True).status == SignoffStatus.APPROVED


def test_a_reviewer_who_lost_the_role_cannot_decide(
    project: Project, cast: dict[str, Any], versions: list[Any]
) -> None:
    two_steps(project, cast)
    signoff = signoffs.request_signoff(versions[1], "champion", actor=cast["erin"])
    project.memberships.filter(user=cast["alice"]).update(role=Role.READER)
    with pytest.raises(PermissionDenied, match="do not hold the contributor role in project 'flight-delays'"):
        signoffs.decide(signoff.reviews.get(order=1), actor=cast["alice"], approve=True)


def test_rejecting_needs_a_comment_and_rejects_the_request(
    project: Project, cast: dict[str, Any], versions: list[Any]
) -> None:
    two_steps(project, cast)
    signoff = signoffs.request_signoff(versions[1], "champion", actor=cast["erin"])
    first = signoff.reviews.get(order=1)
    for empty in ("", "   "):
        with pytest.raises(ValidationError, match="Say why you reject it: the comment is required"):
            signoffs.decide(first, actor=cast["alice"], approve=False, comment=empty)
    signoff = signoffs.decide(
        first, actor=cast["alice"], approve=False, comment="  Trained on a leaky column. "
    )
    assert signoff.status == SignoffStatus.REJECTED
    first.refresh_from_db()
    assert first.comment == "Trained on a leaky column." and first.decision == "rejected"
    audit = AuditEvent.objects.get(action="governance.signoff_review_rejected")
    assert audit.details["comment"] == "Trained on a leaky column." and audit.details["step"] == "Data owner"
    assert AuditEvent.objects.filter(action="governance.signoff_rejected").count() == 1
    # A rejected request does not block asking again.
    again = signoffs.request_signoff(versions[1], "champion", actor=cast["erin"])
    assert again.pk != signoff.pk and again.status == SignoffStatus.PENDING


def test_parallel_steps_share_an_order(project: Project, cast: dict[str, Any], versions: list[Any]) -> None:
    two_steps(
        project,
        cast,
        steps=[
            StepSpec(title="Data owner", order=1, reviewer=cast["alice"]),
            StepSpec(title="Business owner", order=1, reviewer=cast["bob"]),
            StepSpec(title="Risk officer", order=2, reviewer=cast["frank"]),
        ],
    )
    signoff = signoffs.request_signoff(versions[1], "champion", actor=cast["erin"])
    assert [r.title for r in signoffs.waiting_reviews(signoff)] == ["Data owner", "Business owner"]
    signoffs.decide(signoff.reviews.get(title="Business owner"), actor=cast["bob"], approve=True)
    assert [r.title for r in signoffs.waiting_reviews(signoff)] == ["Data owner"]
    assert signoffs.reviews_waiting_for(cast["frank"]) == []
    signoffs.decide(signoff.reviews.get(title="Data owner"), actor=cast["alice"], approve=True)
    assert [r.title for r in signoffs.reviews_waiting_for(cast["frank"])] == ["Risk officer"]


# -- cancelling, overdue, waiting -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "who", "allowed"),
    [
        ("pending", "erin", True),
        ("pending", "alice", True),
        ("pending", "root", True),
        ("pending", "bob", False),
        ("approved", "erin", False),
        ("approved", "alice", True),
    ],
)
def test_who_may_cancel(
    project: Project, cast: dict[str, Any], versions: list[Any], status: str, who: str, allowed: bool
) -> None:
    two_steps(project, cast)
    signoff = signoffs.request_signoff(versions[1], "champion", actor=cast["erin"])
    if status == "approved":
        signoff = approve_all(signoff, cast["alice"], cast["frank"])
    assert signoffs.can_cancel(signoff, cast[who]) is allowed
    if not allowed:
        with pytest.raises(PermissionDenied, match="can cancel sign-off request"):
            signoffs.cancel(signoff, actor=cast[who], comment="x")
        return
    if status == "approved":
        with pytest.raises(ValidationError, match="Say why you withdraw this approval"):
            signoffs.cancel(signoff, actor=cast[who])
    done = signoffs.cancel(signoff, actor=cast[who], comment="Data contract changed.")
    assert done.status == SignoffStatus.CANCELLED and done.details["cancelled"]["was"] == status
    action = (
        "governance.signoff_approval_withdrawn" if status == "approved" else "governance.signoff_cancelled"
    )
    assert AuditEvent.objects.get(action=action).actor == cast[who]
    with pytest.raises(SignoffConflict, match="is already cancelled"):
        signoffs.cancel(done, actor=cast["alice"], comment="again")


def test_overdue_requests(project: Project, cast: dict[str, Any], versions: list[Any]) -> None:
    two_steps(project, cast, due_days=2)
    late = signoffs.request_signoff(versions[1], "champion", actor=cast["erin"])
    fresh = signoffs.request_signoff(versions[2], "champion", actor=cast["erin"])
    SignoffRequest.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(hours=1))
    late.refresh_from_db()
    assert signoffs.is_overdue(late) and not signoffs.is_overdue(fresh)
    assert list(signoffs.overdue_requests()) == [late]
    assert list(signoffs.overdue_requests(Project.objects.none())) == []
    assert signoffs.is_overdue(fresh, now=fresh.due_at + timedelta(seconds=1))
    # Once decided, a request is no longer overdue.
    approve_all(late, cast["alice"], cast["frank"])
    late.refresh_from_db()
    assert not signoffs.is_overdue(late) and list(signoffs.overdue_requests()) == []


def test_reviews_waiting_for_each_person(project: Project, cast: dict[str, Any], versions: list[Any]) -> None:
    two_steps(project, cast)
    signoff = signoffs.request_signoff(versions[1], "champion", actor=cast["erin"])
    assert [r.title for r in signoffs.reviews_waiting_for(cast["alice"])] == ["Data owner"]
    for nobody in ("frank", "bob", "erin", "carol", "dave", "root"):
        assert signoffs.reviews_waiting_for(cast[nobody]) == [], nobody
    signoffs.decide(signoff.reviews.get(order=1), actor=cast["alice"], approve=True)
    assert signoffs.reviews_waiting_for(cast["alice"]) == []
    for member in ("frank", "bob"):
        assert [r.title for r in signoffs.reviews_waiting_for(cast[member])] == ["Risk officer"]
    # Leaving the project removes the review from the list (they could not decide it).
    project.memberships.filter(group=cast["risk"]).delete()
    assert signoffs.reviews_waiting_for(cast["frank"]) == []
