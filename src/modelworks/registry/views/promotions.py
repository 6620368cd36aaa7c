"""Promotion requests of a model (list, ask, one request with its evidence, approve / reject / cancel),
the approvals waiting for the signed-in user across projects, and rolling an alias back.

Who may do what: reading needs the reader role; asking, deciding and rolling back need the
contributor role, and the services add the person checks: only the named approver approves or
rejects; the requester or a project admin cancels.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse

from modelworks.core.models import Role, User
from modelworks.core.views.base import PageView, done
from modelworks.registry.errors import RegistryError
from modelworks.registry.forms import DecisionForm, PromotionRequestForm, RollbackForm
from modelworks.registry.models import PromotionRequest
from modelworks.registry.services import get_model_version, get_version_by_alias, version_metrics
from modelworks.registry.services import promotion as promotions
from modelworks.registry.views.base import ModelPageView

__all__ = [
    "ApprovalsView",
    "PromotionApproveView",
    "PromotionCancelView",
    "PromotionCreateView",
    "PromotionListView",
    "PromotionRejectView",
    "PromotionView",
    "RollbackView",
    "evidence_rows",
]


def evidence_rows(evidence: dict[str, Any]) -> list[dict[str, Any]]:
    """Candidate and champion metrics side by side: label, both values, the difference, which is better.

    The metric the decision was made on comes first.
    """
    from modelworks.engine.automl.evaluation import METRICS

    candidate = (evidence.get("candidate") or {}).get("metrics") or {}
    champion = (evidence.get("champion") or {}).get("metrics") or {}
    chosen = evidence.get("metric")
    names = [n for n in dict.fromkeys([chosen, *candidate, *champion]) if n in candidate or n in champion]
    rows = []
    for name in names:
        info = METRICS.get(str(name))
        new, old = candidate.get(name), champion.get(name)
        difference = new - old if isinstance(new, int | float) and isinstance(old, int | float) else None
        better = None
        if difference is not None and info is not None and difference != 0:
            better = "candidate" if (difference > 0) == info.greater_is_better else "champion"
        rows.append(
            {
                "name": name,
                "label": info.label if info is not None else name,
                "candidate": new,
                "champion": old,
                "difference": difference,
                "better": better,
                "decisive": name == chosen,
            }
        )
    return rows


def _approver_choices(project: Any) -> list[tuple[int, str]]:
    """Active users holding the contributor role or more in the project (directly or via a group)."""
    users = User.objects.filter(is_active=True).order_by("username")
    chosen = []
    for user in users.filter(is_superuser=False):
        role = project.role_of(user)
        if role is not None and role.allows(Role.CONTRIBUTOR):
            chosen.append((user.pk, user.get_username()))
    return chosen


class PromotionListView(ModelPageView):
    """Every promotion request of the model, newest first."""

    template_name = "registry/promotions.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["promotions"] = self.model.promotion_requests.select_related("candidate").order_by("-number")
        return context


class PromotionCreateView(ModelPageView):
    """Ask a named approver to promote a version (contributors). Evidence: the registered metrics."""

    template_name = "registry/promotion_new.html"
    needed_role = Role.CONTRIBUTOR
    write_role = Role.CONTRIBUTOR

    def _form(self, data: Any = None) -> PromotionRequestForm:
        versions = list(self.model.versions.order_by("-version").values_list("version", flat=True))
        initial = {"version": self.request.GET.get("version", ""), "alias": "champion"}
        return PromotionRequestForm(
            data, initial=initial, versions=versions, approvers=_approver_choices(self.project)
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", self._form())
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self._form(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                candidate = get_model_version(self.model, data["version"])
                evidence = self._evidence(candidate, data["alias"])
                approver = User.objects.filter(pk=data["approver"]).first()
                promotion = promotions.request_promotion(
                    candidate,
                    alias=data["alias"],
                    approver=approver,
                    actor=request.user,
                    evidence=evidence,
                    note=data.get("note") or "",
                    request=request,
                )
            except RegistryError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                url = reverse("registry:promotion", args=[self.project.slug, self.model.pk, promotion.number])
                return done(request, url, f"Request #{promotion.number} sent to {promotion.approver_name}.")
        return self.render_form_errors(form=form)

    def _evidence(self, candidate: Any, alias: str) -> dict[str, Any]:
        try:
            champion = get_version_by_alias(self.model, alias)
        except RegistryError:
            champion = None
        return {
            "source": "registered metrics",
            "rule": "Asked by a person; the metrics are those recorded at registration (each version on "
            "its own holdout), not a comparison on the same rows.",
            "candidate": {"version": candidate.version, "metrics": _numbers(version_metrics(candidate))},
            "champion": {"version": champion.version, "metrics": _numbers(version_metrics(champion))}
            if champion is not None
            else None,
        }


def _numbers(values: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in values.items() if isinstance(v, int | float)}


class PromotionPageView(ModelPageView):
    """A page about one promotion request (``number``) of the model."""

    promotion: PromotionRequest

    def check_access(self, request: HttpRequest) -> None:
        super().check_access(request)
        found = (
            self.model.promotion_requests.filter(number=self.kwargs["number"])
            .select_related("candidate", "project", "registered_model", "job")
            .first()
        )
        if found is None:
            raise Http404(f"'{self.model.name}' has no promotion request #{self.kwargs['number']}.")
        self.promotion = found

    def get_title(self) -> str:
        return f"{self.model.name} promotion #{self.promotion.number} · {self.project.name}"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        promotion = self.promotion
        context.update(
            promotion=promotion,
            evidence=promotion.evidence or {},
            evidence_rows=evidence_rows(promotion.evidence or {}),
            can_decide=promotions.can_decide(promotion, self.request.user)
            and self.role is not None
            and self.role.allows(Role.CONTRIBUTOR),
            can_cancel=promotions.can_cancel(promotion, self.request.user),
        )
        context.setdefault("form", DecisionForm())
        return context


class PromotionView(PromotionPageView):
    """The request: candidate against champion side by side, the rule, and the decision buttons."""

    template_name = "registry/promotion.html"


class _DecisionView(PromotionPageView):
    """Base of the POST-only decisions; subclasses implement ``decide(comment)``."""

    template_name = "registry/promotion.html"
    http_method_names = ["post"]
    needed_role = Role.CONTRIBUTOR
    write_role = Role.CONTRIBUTOR

    def decide(self, comment: str) -> str:
        raise NotImplementedError

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = DecisionForm(request.POST)
        if form.is_valid():
            try:
                message = self.decide(form.cleaned_data.get("comment") or "")
            except promotions.PromotionNotAllowed as exc:
                raise PermissionDenied(exc.message) from exc
            except promotions.PromotionConflict as exc:
                messages.error(request, exc.message)
                return self.render_to_response(self.get_context_data(form=form), status=409)
            except RegistryError as exc:
                form.add_error("comment" if exc.field == "comment" else None, exc.message)
            else:
                url = reverse(
                    "registry:promotion", args=[self.project.slug, self.model.pk, self.promotion.number]
                )
                return done(request, url, message)
        return self.render_form_errors(form=form)


class PromotionApproveView(_DecisionView):
    """Approve (the named approver only): the alias moves to the candidate."""

    def decide(self, comment: str) -> str:
        p = promotions.approve(self.promotion, actor=self.request.user, comment=comment, request=self.request)
        return f"Approved: @{p.alias} now points at version {p.candidate_version}."


class PromotionRejectView(_DecisionView):
    """Reject with a comment (the named approver only)."""

    def decide(self, comment: str) -> str:
        promotions.reject(self.promotion, actor=self.request.user, comment=comment, request=self.request)
        return f"Request #{self.promotion.number} rejected; @{self.promotion.alias} did not move."


class PromotionCancelView(_DecisionView):
    """Withdraw the request (its requester or a project admin)."""

    def decide(self, comment: str) -> str:
        promotions.cancel(self.promotion, actor=self.request.user, comment=comment, request=self.request)
        return f"Request #{self.promotion.number} cancelled."


class RollbackView(ModelPageView):
    """Confirm (GET), then point an alias back at its previous version (POST). Contributors only."""

    template_name = "registry/rollback.html"
    needed_role = Role.CONTRIBUTOR
    write_role = Role.CONTRIBUTOR

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        alias = self.kwargs["alias"]
        try:
            context["plan"], context["refusal"] = promotions.plan_rollback(self.model, alias), None
        except RegistryError as exc:
            context["plan"], context["refusal"] = None, exc.message
        context["alias"] = alias
        context.setdefault("form", RollbackForm())
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = RollbackForm(request.POST)
        if form.is_valid():
            alias = self.kwargs["alias"]
            try:
                version = promotions.rollback_alias(
                    self.model,
                    alias,
                    actor=request.user,
                    reason=form.cleaned_data.get("reason") or "",
                    request=request,
                )
            except RegistryError as exc:
                messages.error(request, exc.message)
                return self.render_to_response(self.get_context_data(form=form), status=409)
            url = reverse("registry:model", args=[self.project.slug, self.model.pk])
            return done(request, url, f"@{alias} rolled back to version {version.version}.")
        return self.render_form_errors(form=form)


class ApprovalsView(PageView):
    """Promotion requests waiting for the signed-in user's decision, across their projects."""

    template_name = "registry/approvals.html"
    title = "Approvals waiting for me"
    nav = "approvals"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["promotions"] = promotions.pending_for(self.request.user)
        return context
