"""Forms of the flow pages: settings forms generated from the engine's ``ParamSpec``\\ s, the
recipe kinds and Prepare processors as the pages show them, and the recipe editor's state."""

from __future__ import annotations

from modelworks.flows.forms.editor import EditorState, suggest_names
from modelworks.flows.forms.kinds import (
    KindChoice,
    ProcessorChoice,
    kind_choice,
    kind_choices,
    kind_groups,
    processor_categories,
    processor_choice,
)
from modelworks.flows.forms.params import ColumnChoice, ParamField, display_value, param_fields, read_params

__all__ = [
    "ColumnChoice",
    "EditorState",
    "KindChoice",
    "ParamField",
    "ProcessorChoice",
    "display_value",
    "kind_choice",
    "kind_choices",
    "kind_groups",
    "param_fields",
    "processor_categories",
    "processor_choice",
    "read_params",
    "suggest_names",
]
