"""What the editor draws from ``services.analysis``: the column pickers' options and, for each
Prepare step, the columns it can use and its problem. The computing is in the services."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from modelworks.datasets.models import Dataset
from modelworks.flows import services
from modelworks.flows.forms.params import ColumnChoice

__all__ = ["StepAnalysis", "column_choices", "prepare_steps"]


def column_choices(
    inputs: Sequence[Dataset], columns: Sequence[tuple[Any, ...] | None]
) -> list[ColumnChoice]:
    """The column pickers' options: every known column of every input, labelled by input."""
    choices = []
    for dataset, cols in zip(inputs, columns, strict=True):
        for column in cols or ():
            choices.append(ColumnChoice(column.name, column.type, dataset.name))
    return choices


@dataclass
class StepAnalysis:
    """One Prepare step as the editor shows it: the columns it can use, and its problem (``error``
    is the message without the recipe and step, which the page shows around it; empty: none)."""

    columns: list[ColumnChoice] = field(default_factory=list)
    error: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def prepare_steps(draft: services.RecipeDraft, columns: Sequence[Any] | None = None) -> list[StepAnalysis]:
    """Each step of a Prepare draft as the editor shows it (see ``services.step_columns``).

    Args:
        draft: the editor's settings.
        columns: the first input's columns when the caller already has them.
    """
    source = draft.inputs[0].name if draft.inputs else ""
    return [
        StepAnalysis(
            [ColumnChoice(c.name, c.type, source) for c in cols],
            problem.reason if problem else "",
            dict(problem.details) if problem else {},
        )
        for cols, problem in services.step_columns(draft, columns=columns)
    ]
