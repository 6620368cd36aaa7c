"""Side-by-side comparison of model versions: facts, training data, metrics and parameters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from modelworks.registry.errors import InvalidRegistryValueError
from modelworks.registry.models import ModelVersion
from modelworks.registry.services.versions import version_metrics, version_params

__all__ = ["ComparisonRow", "ComparisonTable", "compare_versions"]

MAX_COMPARED = 4


@dataclass(frozen=True)
class ComparisonRow:
    """One line of the table: ``section`` (facts, data, metrics, params), a label and one value per version.

    ``differs`` is True when the versions do not all have the same value; ``best`` is the index of
    the best value of a metric whose direction is known (higher is better unless the name says
    error/loss), else None.
    """

    section: str
    label: str
    values: tuple[Any, ...]
    differs: bool
    best: int | None = None


@dataclass(frozen=True)
class ComparisonTable:
    versions: tuple[ModelVersion, ...]
    rows: tuple[ComparisonRow, ...] = field(default_factory=tuple)

    def section(self, name: str) -> list[ComparisonRow]:
        return [r for r in self.rows if r.section == name]


_LOWER_IS_BETTER = ("loss", "error", "rmse", "mae", "mse", "mape")


def _best(label: str, values: Sequence[Any]) -> int | None:
    numbers = [(i, v) for i, v in enumerate(values) if isinstance(v, int | float) and v == v]
    if len(numbers) < 2 or len({v for _, v in numbers}) < 2:
        return None
    lower = any(word in label.lower() for word in _LOWER_IS_BETTER)
    return (min if lower else max)(numbers, key=lambda item: item[1])[0]


def _row(section: str, label: str, values: Sequence[Any], *, rank: bool = False) -> ComparisonRow:
    differs = len({repr(v) for v in values}) > 1
    return ComparisonRow(section, label, tuple(values), differs, _best(label, values) if rank else None)


def compare_versions(versions: Sequence[ModelVersion]) -> ComparisonTable:
    """The comparison table of 2 to 4 versions (of one model or several models of a project).

    Raises:
        InvalidRegistryValueError: fewer than 2 or more than 4 versions, or versions of several projects.
    """
    versions = tuple(versions)
    if not 2 <= len(versions) <= MAX_COMPARED:
        raise InvalidRegistryValueError(
            f"Compare 2 to {MAX_COMPARED} versions; got {len(versions)}.", field="versions"
        )
    if len({v.registered_model.project_id for v in versions}) != 1:
        raise InvalidRegistryValueError(
            "Versions of different projects cannot be compared.", field="versions"
        )
    rows: list[ComparisonRow] = [
        _row("facts", "Model", [v.registered_model.name for v in versions]),
        _row("facts", "Version", [v.version for v in versions]),
        _row("facts", "Registered", [v.created_at.strftime("%Y-%m-%d %H:%M") for v in versions]),
        _row("facts", "By", [v.created_by.get_username() if v.created_by else "" for v in versions]),
        _row("facts", "Aliases", [", ".join(sorted(a.alias for a in v.aliases.all())) for v in versions]),
        _row("facts", "Run", [v.run_id or "" for v in versions]),
        _row("facts", "Logged model", [v.logged_model_id or "" for v in versions]),
        _row(
            "data",
            "Training data",
            [
                f"{v.training_dataset_version.dataset.name} v{v.training_dataset_version.number}"
                if v.training_dataset_version
                else ""
                for v in versions
            ],
        ),
        _row("data", "Recipe", [v.recipe.name if v.recipe else "" for v in versions]),
        _row("data", "Code", [v.code_reference for v in versions]),
    ]
    metrics = [version_metrics(v) for v in versions]
    for key in sorted({k for m in metrics for k in m}):
        rows.append(_row("metrics", key, [m.get(key) for m in metrics], rank=True))
    params = [version_params(v) for v in versions]
    for key in sorted({k for p in params for k in p}):
        rows.append(_row("params", key, [p.get(key) for p in params]))
    return ComparisonTable(versions, tuple(rows))
