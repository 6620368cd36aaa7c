"""Pages of deployments: the list, deploying a model, a deployment's page (targets, status, tokens,
how to call it, recent traffic), editing, pausing, resuming and deleting.

Roles: readers see everything but secrets; contributors deploy, edit, pause and resume; project
admins delete and manage tokens (see ``modelworks.deployments.api``).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from modelworks.core.forms import add_service_error
from modelworks.core.models import Role
from modelworks.core.views.base import ProjectPageView, done
from modelworks.deployments import services
from modelworks.deployments.forms import MODE_HELP, DeploymentForm, EndpointTokenForm
from modelworks.deployments.models import Deployment, DeploymentMode
from modelworks.deployments.runtime import resolve_targets
from modelworks.deployments.services.queries import scoring_base_url, target_views
from modelworks.deployments.views.base import DeploymentPageView
from modelworks.deployments.views.examples import call_examples, example_record

__all__ = [
    "DeploymentCreateView",
    "DeploymentDeleteView",
    "DeploymentDetailView",
    "DeploymentEditView",
    "DeploymentListView",
    "DeploymentPauseView",
    "DeploymentResumeView",
]


class DeploymentListView(ProjectPageView):
    """The project's deployments: endpoint, status, what each serves now."""

    template_name = "deployments/list.html"
    title = "Deployments"
    nav = "deployments"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from modelworks.registry.models import RegisteredModel

        context = super().get_context_data(**kwargs)
        deployments = list(
            Deployment.objects.filter(project=self.project).prefetch_related("targets").order_by("name")
        )
        all_targets = [t for d in deployments for t in d.targets.all()]
        models = {
            m.pk: m
            for m in RegisteredModel.objects.filter(pk__in={t.registered_model_id for t in all_targets})
        }
        for target in all_targets:
            target.registered_model = models[target.registered_model_id]
        resolved = {r.target.pk: r.version for r in resolve_targets(all_targets)}
        rows = []
        for deployment in deployments:
            serves = []
            for target in deployment.targets.all():
                version = resolved.get(target.pk)
                serves.append({"target": target, "version": version.version if version is not None else None})
            rows.append({"deployment": deployment, "serves": serves})
        context.update(rows=rows, base_url=scoring_base_url(self.request))
        return context


class _FormMixin:
    """Shared context of the create and edit forms."""

    project: Any

    def form_context(self, form: DeploymentForm) -> dict[str, Any]:
        return {
            "form": form,
            "mode_help": [(value, label, MODE_HELP[value]) for value, label in DeploymentMode.choices],
            "has_models": bool(form.fields["primary"].choices[1:]),
        }


class DeploymentCreateView(_FormMixin, ProjectPageView):
    """Deploy a registered model: endpoint name, model (alias or version), routing, settings."""

    template_name = "deployments/form.html"
    title = "Deploy a model"
    nav = "deployments"
    write_role = Role.CONTRIBUTOR
    needed_role = Role.CONTRIBUTOR

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = kwargs.get("form") or DeploymentForm(project=self.project, initial=self._initial())
        context.update(self.form_context(form), creating=True)
        return context

    def _initial(self) -> dict[str, Any]:
        """``?model=<name>`` (from a model's registry page) preselects its champion, else its latest version."""
        from modelworks.registry.models import RegisteredModel

        name = self.request.GET.get("model", "")
        model = RegisteredModel.objects.filter(project=self.project, name=name).first() if name else None
        if model is None:
            return {}
        alias = model.aliases.filter(alias="champion").first()
        latest = model.latest_version()
        choice = f"alias:{model.pk}:champion" if alias else (f"version:{latest.pk}" if latest else "")
        return {"primary": choice, "name": _slug(model.name)}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = DeploymentForm(request.POST, project=self.project)
        if form.is_valid():
            try:
                deployment = services.create_deployment(
                    self.project,
                    actor=request.user,
                    name=form.cleaned_data["name"],
                    mode=form.cleaned_data["mode"],
                    targets=form.targets(),
                    request=request,
                    **form.options(),
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                url = reverse("deployments:detail", args=[self.project.slug, deployment.name])
                message = f"Deployed at /score/{deployment.name}."
                if self.role.allows(Role.ADMIN):
                    message += " Create a token below so applications can call it."
                else:
                    message += " Ask a project admin for a token so applications can call it."
                return done(request, url, message)
        return self.render_form_errors(form=form)


def _slug(text: str) -> str:
    import re

    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:63]


class DeploymentDetailView(DeploymentPageView):
    """A deployment: status, what each target serves now, tokens, how to call it, recent traffic."""

    template_name = "deployments/detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from modelworks.registry.models import ModelVersion

        context = super().get_context_data(**kwargs)
        deployment = self.deployment
        targets = target_views(deployment)
        primary = next((t for t in targets if t.role == "primary" and t.version_id), None)
        version = ModelVersion.objects.filter(pk=primary.version_id).first() if primary else None
        base_url = scoring_base_url(self.request)
        context.update(
            targets=targets,
            problems=[t.problem for t in targets if t.problem],
            base_url=base_url,
            examples=call_examples(
                base_url,
                deployment.name,
                example_record(version) if version else {},
                id_column=deployment.id_column,
            ),
            tokens=list(deployment.tokens.select_related("created_by").order_by("-created_at", "-id")),
            token_form=kwargs.get("token_form") or EndpointTokenForm(),
            feedback_count=deployment.feedback.count(),
        )
        return context


class DeploymentEditView(_FormMixin, DeploymentPageView):
    """Change the models, the routing or the settings; the endpoint name stays."""

    template_name = "deployments/form.html"
    needed_role = Role.CONTRIBUTOR

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = kwargs.get("form") or DeploymentForm(project=self.project, deployment=self.deployment)
        context.update(self.form_context(form), creating=False)
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = DeploymentForm(request.POST, project=self.project, deployment=self.deployment)
        if form.is_valid():
            try:
                services.update_deployment(
                    self.deployment,
                    actor=request.user,
                    mode=form.cleaned_data["mode"],
                    targets=form.targets(),
                    request=request,
                    **form.options(),
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                return done(
                    request, self.detail_url(), "Saved. The scoring service switches within a second."
                )
        return self.render_form_errors(form=form)


class DeploymentPauseView(DeploymentPageView):
    """Pause: the endpoint refuses calls (saying it is paused) until resumed."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        services.pause_deployment(self.deployment, actor=request.user, request=request)
        return done(
            request,
            self.detail_url(),
            f"'{self.deployment.name}' is paused: callers are refused until you resume it.",
        )


class DeploymentResumeView(DeploymentPageView):
    """Resume a paused deployment."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        services.resume_deployment(self.deployment, actor=request.user, request=request)
        return done(request, self.detail_url(), f"'{self.deployment.name}' is serving again.")


class DeploymentDeleteView(DeploymentPageView):
    """Delete (project admins): every caller is cut off; the prediction log stays."""

    http_method_names = ["post"]
    write_role = Role.ADMIN

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        name = self.deployment.name
        services.delete_deployment(self.deployment, actor=request.user, request=request)
        return done(
            request, reverse("deployments:list", args=[self.project.slug]), f"Deployment '{name}' deleted."
        )
