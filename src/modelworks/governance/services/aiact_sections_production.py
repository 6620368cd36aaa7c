"""The sections of the Annex IV technical documentation about the model in production: robustness and
drift monitoring, human oversight, versions and approvals, and the risk assessment itself (see
``aiact_sections`` for the conventions)."""

from __future__ import annotations

from typing import Any

from modelworks.governance.services import aiact_blocks as b

__all__ = ["monitoring", "oversight", "risk_assessment", "versions_and_approvals"]


# --- 6. Robustness and drift monitoring -------------------------------------------------------------


def monitoring(version: Any) -> dict[str, Any]:
    from django.db.models import Q

    from modelworks.monitoring.models import Alert, Monitor

    title, basis = "6. Robustness and drift monitoring", "Annex IV point 3 and 9; Articles 15 and 72"
    if version is None:
        return b.section("monitoring", title, basis, [b.missing(b.NO_MODEL)])
    model = version.registered_model
    monitors = list(
        Monitor.objects.filter(project=model.project)
        .filter(
            Q(deployment__targets__registered_model=model)
            | Q(recipe__kind="score", recipe__spec__model=model.name)
        )
        .distinct()
        .order_by("name")
    )
    if not monitors:
        return b.section(
            "monitoring",
            title,
            basis,
            [
                b.missing(
                    f"No monitor watches a deployment or batch scoring of {model.name}: create one on the "
                    "project's Monitoring page to track drift, data quality and performance in production."
                )
            ],
        )
    blocks: list[dict[str, Any]] = [
        b.table(
            "Monitors",
            ["Monitor", "Watches", "Window", "Health", "Last computed"],
            [
                [m.name, m.source_label, m.get_window_display(), m.health, m.last_computed_at]
                for m in monitors
            ],
        )
    ]
    for monitor in monitors:
        latest = monitor.points.order_by("-window_start").values_list("window_start", flat=True).first()
        if latest is None:
            blocks.append(b.missing(f"Monitor '{monitor.name}' has not computed any window yet."))
            continue
        points = monitor.points.filter(window_start=latest).order_by("metric", "feature", "test")
        blocks.append(
            b.table(
                f"{monitor.name}: window starting {latest:%Y-%m-%d %H:%M}",
                ["Measure", "Feature", "Test", "Value", "Threshold", "Breached"],
                [
                    [p.get_metric_display(), p.feature, p.test, p.value, p.threshold, p.breached]
                    for p in points
                ],
            )
        )
    alerts = Alert.objects.filter(monitor__in=monitors, resolved_at__isnull=True).order_by("-last_window_end")
    if alerts:
        blocks.append(
            b.table(
                "Open alerts",
                ["Monitor", "Measure", "Since", "Status", "Message"],
                [
                    [
                        a.monitor.name,
                        a.get_metric_display(),
                        a.window_start,
                        a.get_status_display(),
                        a.message,
                    ]
                    for a in alerts
                ],
            )
        )
    else:
        blocks.append(b.p("No open alert."))
    return b.section("monitoring", title, basis, blocks)


# --- 7. Human oversight ------------------------------------------------------------------------------


def oversight(version: Any) -> dict[str, Any]:
    from modelworks.governance.models import SignoffPolicy, SignoffRequest
    from modelworks.registry.models import PromotionRequest

    title, basis = "7. Human oversight", "Annex IV point 2(e); Article 14"
    if version is None:
        return b.section("oversight", title, basis, [b.missing(b.NO_MODEL)])
    project = version.registered_model.project
    blocks: list[dict[str, Any]] = []
    policy = SignoffPolicy.objects.filter(project=project).prefetch_related("steps").first()
    if policy is None or not policy.enabled:
        blocks.append(
            b.missing(
                f"No sign-off policy is enabled on project {project.name}: add review steps (e.g. data owner, "
                "risk officer, business owner) so that no version reaches production without approval."
            )
        )
    else:
        blocks.append(
            b.p(
                f"Sign-off policy: moving {', '.join(policy.aliases) or 'no alias'} needs the approval of every "
                f"step ({policy.get_mode_display().lower()}); reviews are due within {policy.due_days} days."
            )
        )
        blocks.append(
            b.table(
                "Review steps",
                ["Order", "Step", "Reviewer"],
                [
                    [s.order, s.title, b.who(s.reviewer) if s.reviewer_id else f"group {s.reviewer_group}"]
                    for s in policy.steps.all()
                ],
            )
        )
    requests = (
        SignoffRequest.objects.filter(model_version=version)
        .prefetch_related("reviews__decided_by")
        .order_by("created_at")
    )
    rows = [
        [
            f"@{r.alias}",
            r.get_status_display(),
            rv.title,
            rv.get_decision_display(),
            b.who(rv.decided_by),
            rv.decided_at,
            rv.comment,
        ]
        for r in requests
        for rv in r.reviews.all()
    ]
    if rows:
        blocks.append(
            b.table(
                f"Sign-off reviews of v{version.version}",
                ["Alias", "Request", "Step", "Decision", "By", "When", "Comment"],
                rows,
            )
        )
    promotions = PromotionRequest.objects.filter(candidate=version).order_by("number")
    if promotions:
        blocks.append(
            b.table(
                f"Promotion requests of v{version.version}",
                ["#", "Alias", "Status", "Requested by", "Decided by", "When", "Comment"],
                [
                    [
                        p.number,
                        f"@{p.alias}",
                        p.get_status_display(),
                        p.requested_by_name,
                        p.decided_by_name,
                        p.decided_at,
                        p.comment,
                    ]
                    for p in promotions
                ],
            )
        )
    if not rows and not promotions.exists():
        blocks.append(b.missing(f"No review or approval is recorded for v{version.version} yet."))
    return b.section("oversight", title, basis, blocks)


# --- 8. Versions and approvals -----------------------------------------------------------------------


def versions_and_approvals(version: Any) -> dict[str, Any]:
    from modelworks.registry.models import AliasEvent

    title, basis = "8. Versions and changes", "Annex IV point 6"
    if version is None:
        return b.section("versions", title, basis, [b.missing(b.NO_MODEL)])
    model = version.registered_model
    versions = model.versions.order_by("-version").prefetch_related("aliases")[: b.MAX_ROWS]
    blocks = [
        b.table(
            f"Versions of {model.name}",
            ["Version", "Registered", "By", "Aliases", "Trained on"],
            [
                [
                    f"v{v.version}",
                    v.created_at,
                    b.who(v.created_by),
                    sorted(a.alias for a in v.aliases.all()),
                    (
                        f"{v.training_dataset_version.dataset.name} v{v.training_dataset_version.number}"
                        if v.training_dataset_version_id
                        else ""
                    ),
                ]
                for v in versions.select_related("created_by", "training_dataset_version__dataset")
            ],
        )
    ]
    events = AliasEvent.objects.filter(registered_model=model).order_by("-created_at", "-id")[: b.MAX_ROWS]
    if events:
        blocks.append(
            b.table(
                "Alias history (newest first)",
                ["When", "Alias", "From", "To", "By", "Reason"],
                [
                    [
                        e.created_at,
                        f"@{e.alias}",
                        f"v{e.from_version}" if e.from_version else "",
                        f"v{e.to_version}" if e.to_version else "removed",
                        e.actor_name,
                        e.reason,
                    ]
                    for e in events
                ],
            )
        )
    else:
        blocks.append(b.missing(f"No alias of {model.name} was ever moved: nothing was promoted yet."))
    return b.section("versions", title, basis, blocks)


# --- 9. Risk assessment ------------------------------------------------------------------------------


def risk_assessment(use_case: Any, assessment: Any) -> dict[str, Any]:
    title, basis = "9. Risk classification", "Article 6 and Article 9"
    if assessment is None:
        return b.section(
            "risk",
            title,
            basis,
            [b.missing("The use case has no AI Act assessment: fill the questionnaire.")],
        )
    blocks = [
        b.facts(
            [
                ("Risk class", assessment.get_risk_class_display()),
                ("Assessment version", assessment.version),
                ("Assessed by", b.who(assessment.assessed_by)),
                ("Assessed", assessment.assessed_at),
            ]
        ),
        b.table(
            "Reasons", ["Basis", "Reason"], [[r.get("basis"), r.get("text")] for r in assessment.reasons]
        ),
    ]
    return b.section("risk", title, basis, blocks)
