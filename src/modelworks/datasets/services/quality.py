"""Quality rules (add, change, delete: audited), their runs against a version, and stored profiles.

A run keeps its results as history, with a sample of failing rows per rule, and sets the version's
verdict: ``usable`` is false when a blocking rule failed or could not run, so later builds refuse it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from modelworks.core import audit
from modelworks.core.models import Job, User
from modelworks.datasets.models import (
    Dataset,
    DatasetProfile,
    DatasetVersion,
    QualityResult,
    QualityResultStatus,
    QualityRule,
    QualityRun,
    QualityStatus,
)
from modelworks.datasets.services.datasets import version_path
from modelworks.engine.quality import (
    RULE_KINDS,
    QualityError,
    describe,
    rule_from_dict,
)

__all__ = ["add_rule", "delete_rule", "run_quality", "save_profile", "update_rule"]

_COLUMN_FIELDS = ("column", "columns")


def _check_rule(dataset: Dataset, kind: str, params: dict[str, Any]) -> str:
    """Check a rule as far as possible without reading data; return its description."""
    if kind not in RULE_KINDS:
        raise ValidationError({"kind": f"'{kind}' is not a rule kind; use one of {', '.join(RULE_KINDS)}."})
    try:
        rule = rule_from_dict({"kind": kind, **params})
    except QualityError as exc:
        raise ValidationError({"params": str(exc)}) from exc
    version = dataset.current_version
    if version is not None:
        names = version.column_names
        for field in _COLUMN_FIELDS:
            value = params.get(field)
            for column in [value] if isinstance(value, str) else list(value or []):
                if column not in names:
                    raise ValidationError(
                        {
                            field: f"Column '{column}' is not in version {version.number}; its columns are {', '.join(names[:20])}."
                        }
                    )
        if kind == "custom_sql":
            from modelworks.engine.quality import validate_expression  # loads DuckDB: only when needed

            try:
                validate_expression(str(params.get("expression", "")), names)
            except QualityError as exc:
                raise ValidationError({"expression": str(exc)}) from exc
    return describe(rule)


def add_rule(
    dataset: Dataset,
    *,
    actor: User,
    kind: str,
    params: dict[str, Any],
    blocking: bool = False,
    name: str = "",
    request: HttpRequest | None = None,
) -> QualityRule:
    """Add a rule to ``dataset`` (it runs with the next version, or now on demand)."""
    description = _check_rule(dataset, kind, params)
    with transaction.atomic():
        rule = QualityRule.objects.create(
            dataset=dataset,
            kind=kind,
            params=params,
            blocking=blocking,
            name=name or description[:200],
            created_by=actor,
        )
        audit.record(
            "quality_rule.created",
            actor=actor,
            project=dataset.project,
            target=dataset,
            request=request,
            details={"rule_id": rule.pk, "kind": kind, "blocking": blocking, "rule": description},
        )
    return rule


def update_rule(
    rule: QualityRule, *, actor: User, request: HttpRequest | None = None, **changes: Any
) -> QualityRule:
    """Change a rule's name, parameters, ``blocking`` or ``enabled``."""
    unknown = set(changes) - {"name", "params", "blocking", "enabled"}
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "This field of a rule cannot be changed."})
    if "params" in changes:
        _check_rule(rule.dataset, rule.kind, changes["params"])
    for key, value in changes.items():
        setattr(rule, key, value)
    with transaction.atomic():
        rule.save()
        audit.record(
            "quality_rule.updated",
            actor=actor,
            project=rule.dataset.project,
            target=rule.dataset,
            request=request,
            details={"rule_id": rule.pk, "changed": sorted(changes)},
        )
    return rule


def delete_rule(rule: QualityRule, *, actor: User, request: HttpRequest | None = None) -> None:
    """Delete a rule; past results keep their copy of its description."""
    with transaction.atomic():
        audit.record(
            "quality_rule.deleted",
            actor=actor,
            project=rule.dataset.project,
            target=rule.dataset,
            request=request,
            details={"rule_id": rule.pk, "kind": rule.kind},
        )
        rule.delete()


def _outcomes(version: DatasetVersion, rules: list[QualityRule]) -> list[dict[str, Any]]:
    """One outcome per rule: the engine's result, or an error saying why the rule could not run."""
    from modelworks.engine.quality import run_rules  # loads DuckDB: only when rules run

    path = version_path(version)
    now = dt.datetime.now(dt.UTC)
    try:
        results = run_rules(path, [r.engine_dict() for r in rules], now=now)
        return [{"result": r} for r in results]
    except QualityError:
        pass  # one rule cannot run on this version: run them one by one to tell which
    outcomes: list[dict[str, Any]] = []
    for rule in rules:
        try:
            outcomes.append({"result": run_rules(path, [rule.engine_dict()], now=now)[0]})
        except QualityError as exc:
            outcomes.append({"error": str(exc)})
    return outcomes


def run_quality(
    version: DatasetVersion, *, trigger: str, actor: User | None = None, job: Job | None = None
) -> QualityRun | None:
    """Run the dataset's enabled rules against ``version`` and store the results and the verdict.

    Returns None when the dataset has no enabled rule (the version stays usable, "not checked").
    """
    rules = list(version.dataset.rules.filter(enabled=True))
    if not rules:
        if not version.usable:
            version.usable = True
            version.save(update_fields=["usable"])
        return None
    outcomes = _outcomes(version, rules)
    rows: list[QualityResult] = []
    for rule, outcome in zip(rules, outcomes, strict=True):
        result = outcome.get("result")
        if result is None:
            status, message, count, sample = QualityResultStatus.ERROR, outcome["error"], 0, []
            text = rule.name or rule.kind
        else:
            data = result.to_dict()
            status = QualityResultStatus.PASSED if result.passed else QualityResultStatus.FAILED
            message, count, sample, text = (
                data["message"],
                data["failing_count"],
                data["failing_rows"],
                data["description"],
            )
        rows.append(
            QualityResult(
                rule=rule,
                rule_description=str(text)[:500],
                kind=rule.kind,
                blocking=rule.blocking,
                status=status,
                message=message,
                failing_count=count,
                failing_sample=sample,
            )
        )
    bad = [r for r in rows if r.status != QualityResultStatus.PASSED]
    if any(r.blocking for r in bad):
        verdict = QualityStatus.BLOCKED
    elif bad:
        verdict = QualityStatus.WARNING
    else:
        verdict = QualityStatus.PASSED
    with transaction.atomic():
        run = QualityRun.objects.create(
            version=version,
            trigger=trigger,
            status=verdict,
            passed=len(rows) - len(bad),
            failed=len(bad),
            job=job,
            created_by=actor,
        )
        for row in rows:
            row.run = run
        QualityResult.objects.bulk_create(rows)
        version.quality_status = verdict
        version.usable = verdict != QualityStatus.BLOCKED
        version.save(update_fields=["quality_status", "usable"])
        audit.record(
            "dataset.quality_checked",
            actor=actor,
            project=version.dataset.project,
            target=version.dataset,
            outcome="success" if verdict == QualityStatus.PASSED else "failure",
            details={"version": version.number, "status": verdict, "failed": len(bad), "rules": len(rows)},
        )
    return run


def save_profile(version: DatasetVersion, data: dict[str, Any], *, job: Job | None = None) -> DatasetProfile:
    """Store (or replace) the profile of ``version``."""
    profile, _ = DatasetProfile.objects.update_or_create(version=version, defaults={"data": data, "job": job})
    return profile
