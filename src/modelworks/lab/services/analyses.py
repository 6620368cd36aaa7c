"""Creating, designing and deleting analyses: atomic and audited.

Views and API routes check permissions first (``modelworks.core.permissions``), then call these.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from modelworks.core import audit
from modelworks.core.models import Project, User
from modelworks.datasets.models import Dataset, DatasetVersion
from modelworks.engine.automl import AutoMLError
from modelworks.engine.automl.evaluation import default_metric
from modelworks.lab.models import Analysis, TaskKind
from modelworks.lab.services import design
from modelworks.lab.services.data import check_rows, read_version

__all__ = ["create_analysis", "delete_analysis", "refresh_checks", "update_design"]

_NAME_MAX = 200


def _clean_name(project: Project, name: Any, *, exclude: int | None = None) -> str:
    text = str(name or "").strip()
    if not text:
        raise ValidationError({"name": "Give the analysis a name, e.g. 'Churn next month'."})
    if len(text) > _NAME_MAX or any(ord(ch) < 32 for ch in text):
        raise ValidationError({"name": f"Use at most {_NAME_MAX} printable characters."})
    taken = Analysis.objects.filter(project=project, name=text)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise ValidationError({"name": f"Project '{project.slug}' already has an analysis called '{text}'."})
    return text


def _current_version(dataset: Dataset) -> DatasetVersion:
    version = dataset.current_version
    if version is None:
        raise ValidationError({"dataset": f"'{dataset.name}' has no data yet; import a file first."})
    return version


def create_analysis(
    project: Project,
    *,
    actor: User,
    name: str,
    dataset: Dataset,
    target: str,
    task: str | None = None,
    time_column: str = "",
    request: HttpRequest | None = None,
) -> Analysis:
    """Create an analysis with the proposed feature handling, algorithms, metric and validation.

    The task is proposed from the target's values unless given; the data checks run at once so the
    design page shows what to fix.

    Raises:
        ValidationError: keyed by field (dataset, target, task, time_column, name).
    """
    if dataset.project_id != project.pk:
        raise ValidationError({"dataset": "That dataset belongs to another project."})
    name = _clean_name(project, name)
    version = _current_version(dataset)
    target = design.check_column(str(target or ""), version, field="target", role="target")
    time_column = str(time_column or "").strip()
    if time_column:
        design.check_time_column(time_column, version, target=target)
    if task not in (None, "", *TaskKind.values):
        raise ValidationError({"task": f"Unknown task '{task}'; choose binary, multiclass or regression."})
    frame = read_version(version, limit=design_sample_rows()).frame
    try:
        from modelworks.engine.automl.features import propose_features  # pandas, scikit-learn: on use

        resolved, features = propose_features(
            frame,
            target,
            task or None,
            time_column=time_column or None,  # type: ignore[arg-type]
        )
    except AutoMLError as exc:
        raise ValidationError({"target": exc.message}) from exc
    analysis = Analysis(
        project=project,
        name=name,
        dataset=dataset,
        target=target,
        task=resolved,
        time_column=time_column,
        features=[f.to_dict() for f in features],
        algorithms=design.default_algorithms(resolved),
        time_budget_s=60,
        validation=design.clean_validation({}, time_column=time_column),
        metric=default_metric(resolved),
        created_by=actor,
    )
    analysis.checks = _checks_or_error(analysis, frame)
    analysis.checked_version = version
    with transaction.atomic():
        analysis.save()
        audit.record(
            "lab.analysis_created",
            actor=actor,
            project=project,
            target=analysis,
            request=request,
            details={"dataset": dataset.name, "version": version.number, "target": target, "task": resolved},
        )
    return analysis


def design_sample_rows() -> int:
    return check_rows()


def _checks_or_error(analysis: Analysis, frame: Any) -> list[dict[str, Any]]:
    """The checks of the analysis's spec; a spec that cannot even be built is an error finding."""
    try:
        spec = design.build_spec(analysis)
    except ValidationError as exc:
        messages = [m for ms in exc.message_dict.values() for m in ms]
        return [
            {"code": "invalid_design", "severity": "error", "message": m, "column": None, "hint": ""}
            for m in messages
        ]
    try:
        return design.run_checks(frame, spec)
    except AutoMLError as exc:
        return [{"code": exc.code, "severity": "error", "message": exc.message, "column": None, "hint": ""}]


def refresh_checks(analysis: Analysis) -> Analysis:
    """Run the data checks again on the dataset's current version (a sample) and store them."""
    if analysis.dataset is None:
        analysis.checks = [
            {
                "code": "dataset_deleted",
                "severity": "error",
                "message": "The dataset of this analysis was deleted.",
                "column": None,
                "hint": "Create a new analysis from another dataset.",
            }
        ]
        analysis.checked_version = None
    else:
        version = _current_version(analysis.dataset)
        frame = read_version(version, limit=design_sample_rows()).frame
        analysis.checks = _checks_or_error(analysis, frame)
        analysis.checked_version = version
    Analysis.objects.filter(pk=analysis.pk).update(
        checks=analysis.checks, checked_version=analysis.checked_version
    )
    return analysis


_DESIGN_FIELDS = {
    "name",
    "description",
    "features",
    "algorithms",
    "time_budget_s",
    "max_trials",
    "validation",
    "metric",
    "time_column",
}


def update_design(
    analysis: Analysis, *, actor: User, request: HttpRequest | None = None, **changes: Any
) -> Analysis:
    """Change the design: name, description, features (per-column changes), algorithms, time budget,
    maximum trials, validation, metric or time column; then check the data again.

    Raises:
        ValidationError: keyed by field, with what to do.
    """
    unknown = set(changes) - _DESIGN_FIELDS
    if unknown:
        raise ValidationError(
            {sorted(unknown)[0]: "This field cannot be changed; create a new analysis instead."}
        )
    if analysis.dataset is None:
        raise ValidationError(
            "The dataset of this analysis was deleted; create a new analysis from another dataset."
        )
    version = _current_version(analysis.dataset)
    if "name" in changes:
        analysis.name = _clean_name(analysis.project, changes["name"], exclude=analysis.pk)
    if "description" in changes:
        analysis.description = str(changes["description"] or "").strip()[:5000]
    if "time_column" in changes:
        time_column = str(changes["time_column"] or "").strip()
        if time_column:
            design.check_time_column(time_column, version, target=analysis.target)
        analysis.time_column = time_column
    if "features" in changes:
        analysis.features = design.clean_features(
            analysis.features, changes["features"], target=analysis.target
        )
    if "algorithms" in changes:
        analysis.algorithms = design.clean_algorithms(changes["algorithms"], analysis.task)
    if "time_budget_s" in changes:
        analysis.time_budget_s = design.clean_budget(changes["time_budget_s"])
    if "max_trials" in changes:
        analysis.max_trials = _clean_max_trials(changes["max_trials"])
    if "metric" in changes:
        analysis.metric = design.clean_metric(changes["metric"], analysis.task)
    if "validation" in changes or "time_column" in changes:
        validation = changes.get("validation", analysis.validation)
        analysis.validation = design.clean_validation(validation, time_column=analysis.time_column)
    design.build_spec(analysis)  # refuses a design that cannot run, naming the field
    frame = read_version(version, limit=design_sample_rows()).frame
    analysis.checks = _checks_or_error(analysis, frame)
    analysis.checked_version = version
    with transaction.atomic():
        analysis.save()
        audit.record(
            "lab.design_updated",
            actor=actor,
            project=analysis.project,
            target=analysis,
            request=request,
            details={"changed": sorted(changes)},
        )
    return analysis


def _clean_max_trials(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        trials = int(value)
    except (TypeError, ValueError):
        raise ValidationError({"max_trials": f"Give a whole number of trials, got {value!r}."}) from None
    if not 1 <= trials <= 10_000:
        raise ValidationError({"max_trials": "Use between 1 and 10,000 trials, or leave it empty."})
    return trials


def delete_analysis(analysis: Analysis, *, actor: User, request: HttpRequest | None = None) -> None:
    """Delete an analysis and its training sessions (tracked runs and registered models stay)."""
    from modelworks.lab.services.training import cancel_active

    with transaction.atomic():
        cancel_active(analysis, actor=actor, request=request)
        audit.record(
            "lab.analysis_deleted",
            actor=actor,
            project=analysis.project,
            target=analysis,
            request=request,
            details={"sessions": analysis.sessions.count()},
        )
        analysis.delete()
