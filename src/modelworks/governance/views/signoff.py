"""Sign-off pages: a project's policy and requests, the policy editor, asking for a sign-off, one
request with its reviews (approve / reject / cancel), and the reviews waiting for the signed-in user.

Who may do what: project members read and governance leads read every project's sign-off;
project admins and governance leads edit the policy; contributors ask; the named reviewers decide
(the service adds the person checks: four-eyes, the step's reviewer, its turn).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse

from modelworks.core.forms import add_service_error
from modelworks.core.models import Project, ProjectMembership, Role, User
from modelworks.core.views.base import PageView, ProjectPageView, done
from modelworks.governance.forms_signoff import (
    CancelForm,
    PolicyForm,
    ReviewDecisionForm,
    SignoffRequestForm,
    StepFormSet,
)
from modelworks.governance.models import SignoffRequest, SignoffStatus
from modelworks.governance.services import signoff as signoffs
from modelworks.governance.services.access import is_lead
from modelworks.registry.errors import RegistryError
from modelworks.registry.models import RegisteredModel
from modelworks.registry.services import get_model_version

__all__ = [
    "SignoffCancelView",
    "SignoffDecideView",
    "SignoffNewView",
    "SignoffPolicyView",
    "SignoffProjectView",
    "SignoffRequestView",
    "SignoffWaitingView",
]


class SignoffPageView(ProjectPageView):
    """A sign-off page of the project ``slug``: the project role as usual, and governance leads
    may also read (``lead_reads``) or write (``lead_writes``) without being members."""

    nav = "signoff"
    lead_reads = True
    lead_writes = False

    def check_access(self, request: HttpRequest) -> None:
        try:
            super().check_access(request)
        except (Http404, PermissionDenied):
            reading = request.method in ("GET", "HEAD")
            if not ((self.lead_reads if reading else self.lead_writes) and is_lead(request.user)):
                raise
            project = Project.objects.filter(slug=self.kwargs["slug"]).first()
            if project is None:
                raise
            self.project, self.role = project, project.role_of(request.user)  # type: ignore[assignment]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["can_manage_policy"] = signoffs.can_manage_policy(self.project, self.request.user)
        return context


class SignoffProjectView(SignoffPageView):
    """The project's policy in short and its sign-off requests (newest first), overdue ones flagged."""

    template_name = "governance/signoff/project.html"
    title = "Sign-off"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        status = self.request.GET.get("status", "")
        requests = SignoffRequest.objects.filter(project=self.project).select_related(
            "model_version__registered_model", "requested_by"
        )
        if status in SignoffStatus.values:
            requests = requests.filter(status=status)
        rows = [
            {"request": r, "overdue": signoffs.is_overdue(r)} for r in requests.order_by("-created_at")[:200]
        ]
        context.update(
            policy=signoffs.get_policy(self.project),
            rows=rows,
            status=status,
            statuses=SignoffStatus.choices,
        )
        return context


def _reviewer_choices(project: Project) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Users and groups that may review in ``project``: those holding the contributor role or more."""
    users = []
    for user in User.objects.filter(is_active=True).order_by("username"):
        role = project.role_of(user)
        if role is not None and role.allows(Role.CONTRIBUTOR):
            users.append((user.pk, user.get_username()))
    group_ids = ProjectMembership.objects.filter(
        project=project, group__isnull=False, role__in=Role.at_least(Role.CONTRIBUTOR)
    ).values_list("group_id", flat=True)
    groups = [(g.pk, g.name) for g in Group.objects.filter(pk__in=group_ids).order_by("name")]
    return users, groups


class SignoffPolicyView(SignoffPageView):
    """Edit the policy (GET: the form; POST: save). Project admins and governance leads."""

    template_name = "governance/signoff/policy.html"
    title = "Sign-off policy"
    needed_role = Role.ADMIN
    write_role = Role.ADMIN
    lead_writes = True

    def check_access(self, request: HttpRequest) -> None:
        super().check_access(request)
        if not signoffs.can_manage_policy(self.project, request.user):  # a lead-only reader cannot edit
            raise PermissionDenied("Only project admins and governance leads can change the sign-off policy.")

    def _forms(self, data: Any = None) -> tuple[PolicyForm, Any]:
        policy = signoffs.get_policy(self.project)
        users, groups = _reviewer_choices(self.project)
        initial: dict[str, Any] = {
            "enabled": True,
            "aliases": "champion, production",
            "mode": "block",
            "due_days": 5,
        }
        steps: list[dict[str, Any]] = []
        if policy is not None:
            initial = {
                "enabled": policy.enabled,
                "aliases": ", ".join(policy.aliases or []),
                "mode": policy.mode,
                "due_days": policy.due_days,
            }
            steps = [
                {
                    "title": s.title,
                    "order": s.order,
                    "reviewer": s.reviewer_id,
                    "reviewer_group": s.reviewer_group_id,
                }
                for s in policy.steps.all()
            ]
        form = PolicyForm(data, initial=initial)
        formset = StepFormSet(
            data, initial=steps, prefix="steps", form_kwargs={"users": users, "groups": groups}
        )
        return form, formset

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if "form" not in context:
            context["form"], context["formset"] = self._forms()
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form, formset = self._forms(request.POST)
        if form.is_valid() and formset.is_valid():
            steps = []
            for number, data in enumerate(formset.cleaned_data, start=1):
                if not data or not (data.get("title") or "").strip():
                    continue  # an empty row, or a step being removed
                steps.append(
                    signoffs.StepSpec(
                        title=data["title"],
                        order=data["order"] if data.get("order") is not None else number,
                        reviewer=User.objects.filter(pk=data["reviewer"]).first()
                        if data.get("reviewer")
                        else None,
                        reviewer_group=Group.objects.filter(pk=data["reviewer_group"]).first()
                        if data.get("reviewer_group")
                        else None,
                    )
                )
            try:
                signoffs.save_policy(
                    self.project,
                    actor=request.user,
                    aliases=form.cleaned_data["aliases"],
                    mode=form.cleaned_data["mode"],
                    due_days=form.cleaned_data["due_days"],
                    enabled=form.cleaned_data["enabled"],
                    steps=steps,
                    request=request,
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                url = reverse("governance:signoff_project", args=[self.project.slug])
                return done(request, url, "Sign-off policy saved.")
        return self.render_form_errors(form=form, formset=formset)


class SignoffNewView(SignoffPageView):
    """Ask for a sign-off (contributors): ``?model=<pk>&version=<n>&alias=<name>`` fill the form in."""

    template_name = "governance/signoff/new.html"
    title = "Ask for a sign-off"
    needed_role = Role.CONTRIBUTOR
    write_role = Role.CONTRIBUTOR
    lead_reads = False

    def _form(self, data: Any = None) -> SignoffRequestForm:
        policy = signoffs.get_policy(self.project)
        aliases = list(policy.aliases or []) if policy is not None and policy.enabled else []
        models = [
            (m.pk, m.name) for m in RegisteredModel.objects.filter(project=self.project).order_by("name")
        ]
        get = self.request.GET
        initial = {
            "model": get.get("model", ""),
            "version": get.get("version", ""),
            "alias": get.get("alias", ""),
        }
        return SignoffRequestForm(data, initial=initial, models=models, aliases=aliases)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", self._form())
        context["policy"] = signoffs.get_policy(self.project)
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self._form(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            model = RegisteredModel.objects.filter(project=self.project, pk=data["model"]).first()
            try:
                if model is None:
                    raise ValidationError({"model": "Choose a registered model of this project."})
                try:
                    version = get_model_version(model, data["version"])
                except RegistryError as exc:
                    raise ValidationError({"version": exc.message}) from None
                signoff = signoffs.request_signoff(
                    version, data["alias"], actor=request.user, note=data.get("note") or "", request=request
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            except signoffs.SignoffConflict as exc:
                form.add_error(None, exc.message)
            else:
                url = reverse("governance:signoff_request", args=[self.project.slug, signoff.pk])
                return done(request, url, f"Sign-off request #{signoff.pk} sent to its reviewers.")
        return self.render_form_errors(form=form)


class SignoffRequestPageView(SignoffPageView):
    """A page about one sign-off request (``pk``) of the project."""

    signoff: SignoffRequest

    def check_access(self, request: HttpRequest) -> None:
        super().check_access(request)
        found = (
            SignoffRequest.objects.filter(project=self.project, pk=self.kwargs["pk"])
            .select_related("project", "model_version__registered_model", "requested_by")
            .first()
        )
        if found is None:
            raise Http404(f"No sign-off request {self.kwargs['pk']} in project '{self.project.slug}'.")
        self.signoff = found

    def get_title(self) -> str:
        return f"Sign-off request #{self.signoff.pk} · {self.project.name}"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        signoff, user = self.signoff, self.request.user
        reviews = list(
            signoff.reviews.select_related("reviewer", "reviewer_group", "decided_by").order_by("order", "id")
        )
        waiting = {r.pk for r in signoffs.waiting_reviews(signoff, reviews)}
        rows = []
        for review in reviews:
            review.request = signoff
            rows.append(
                {
                    "review": review,
                    "who": signoffs.reviewer_label(review),
                    "turn": review.pk in waiting,
                    "can_decide": signoffs.can_decide(review, user),
                }
            )
        context.update(
            signoff=signoff,
            version=signoff.model_version,
            rows=rows,
            overdue=signoffs.is_overdue(signoff),
            is_requester=signoff.requested_by_id == user.pk,
            can_cancel=signoffs.can_cancel(signoff, user),
            note=(signoff.details or {}).get("note", ""),
            cancelled=(signoff.details or {}).get("cancelled"),
        )
        context.setdefault("form", ReviewDecisionForm())
        context.setdefault("cancel_form", CancelForm())
        return context


class SignoffRequestView(SignoffRequestPageView):
    """The request: the version, each review step with its decision, and the buttons of the caller."""

    template_name = "governance/signoff/request.html"


class SignoffDecideView(SignoffRequestPageView):
    """Approve or reject one review step (POST only; contributors, then the service's person checks)."""

    template_name = "governance/signoff/request.html"
    http_method_names = ["post"]
    needed_role = Role.CONTRIBUTOR
    write_role = Role.CONTRIBUTOR
    lead_writes = False

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        review = self.signoff.reviews.filter(pk=self.kwargs["review"]).first()
        if review is None:
            raise Http404(f"Sign-off request #{self.signoff.pk} has no review {self.kwargs['review']}.")
        form = ReviewDecisionForm(request.POST)
        if form.is_valid():
            approve = form.cleaned_data["decision"] == "approve"
            try:
                signoff = signoffs.decide(
                    review,
                    actor=request.user,
                    approve=approve,
                    comment=form.cleaned_data.get("comment") or "",
                    request=request,
                )
            except signoffs.SignoffConflict as exc:
                messages.error(request, exc.message)
                return self.render_to_response(self.get_context_data(form=form), status=409)
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                url = reverse("governance:signoff_request", args=[self.project.slug, self.signoff.pk])
                verb = "approved" if approve else "rejected"
                outcome = {
                    SignoffStatus.APPROVED: f" Every step approved: version {signoff.model_version.version} may "
                    f"now take @{signoff.alias}.",
                    SignoffStatus.REJECTED: " The request is rejected.",
                }.get(SignoffStatus(signoff.status), "")
                return done(request, url, f"Step '{review.title}' {verb}.{outcome}")
        return self.render_form_errors(form=form)


class SignoffCancelView(SignoffRequestPageView):
    """Withdraw a pending request (requester, project admin, lead) or an approval (admin, lead)."""

    template_name = "governance/signoff/request.html"
    http_method_names = ["post"]
    needed_role = Role.CONTRIBUTOR
    write_role = Role.CONTRIBUTOR
    lead_writes = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = CancelForm(request.POST)
        if form.is_valid():
            try:
                signoffs.cancel(
                    self.signoff,
                    actor=request.user,
                    comment=form.cleaned_data.get("comment") or "",
                    request=request,
                )
            except signoffs.SignoffConflict as exc:
                messages.error(request, exc.message)
                return self.render_to_response(self.get_context_data(cancel_form=form), status=409)
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                url = reverse("governance:signoff_request", args=[self.project.slug, self.signoff.pk])
                return done(request, url, f"Sign-off request #{self.signoff.pk} cancelled.")
        return self.render_form_errors(cancel_form=form)


class SignoffWaitingView(PageView):
    """Review steps waiting for the signed-in user's decision, across their projects."""

    template_name = "governance/signoff/waiting.html"
    title = "Reviews waiting for me"
    nav = "signoff_waiting"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["rows"] = [
            {"review": r, "request": r.request, "overdue": signoffs.is_overdue(r.request)}
            for r in signoffs.reviews_waiting_for(self.request.user)
        ]
        return context
