"""The input schema of a model, read from the ``signature`` of its ``MLmodel`` file.

MLflow stores column-based signatures as a JSON string of "colspecs":
``[{"type": "double", "name": "a", "required": true}, ...]``. Tensor-based signatures
(``{"type": "tensor", ...}``) do not name columns: they give no :class:`InputSchema` (``None``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from modelworks.engine.scoring.errors import ModelLoadError

__all__ = ["NUMERIC_TYPES", "ColumnSpec", "InputSchema", "MlflowType", "schema_from_signature"]

MlflowType = Literal["double", "float", "long", "integer", "boolean", "string", "datetime", "binary"]
#: MLflow types whose values are numbers (a booster or numeric estimator takes them as float64).
NUMERIC_TYPES = frozenset({"double", "float", "long", "integer"})
_KNOWN_TYPES = frozenset({"double", "float", "long", "integer", "boolean", "string", "datetime", "binary"})


@dataclass(frozen=True)
class ColumnSpec:
    """One input column: its name, MLflow type and whether every row must give a value."""

    name: str
    type: MlflowType
    required: bool = True

    @property
    def numeric(self) -> bool:
        return self.type in NUMERIC_TYPES

    def describe(self) -> str:
        """The type in words for messages: ``a number (double)``, ``text (string)``…"""
        words = {
            "double": "a number",
            "float": "a number",
            "long": "a whole number",
            "integer": "a whole number",
            "boolean": "true or false",
            "string": "text",
            "datetime": "a date/time as ISO text",
            "binary": "base64 text",
        }[self.type]
        return f"{words} ({self.type})"


@dataclass(frozen=True)
class InputSchema:
    """The columns a model takes, in the signature's order."""

    columns: tuple[ColumnSpec, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def numeric(self) -> bool:
        """Every column is a number (the NumPy fast path applies)."""
        return all(c.numeric for c in self.columns)

    def get(self, name: str) -> ColumnSpec | None:
        for column in self.columns:
            if column.name == name:
                return column
        return None

    def to_dict(self) -> list[dict[str, Any]]:
        """MLflow's colspec list (what the ``MLmodel`` file holds, parsed)."""
        return [{"name": c.name, "type": c.type, "required": c.required} for c in self.columns]


def schema_from_signature(signature: Any) -> InputSchema | None:
    """The :class:`InputSchema` of an MLflow signature (the ``signature`` mapping of ``MLmodel``).

    Args:
        signature: ``{"inputs": "<json colspecs>", ...}`` (the inputs may also be already parsed),
            or ``None``.

    Returns:
        The schema, or ``None`` when there is no signature or it is tensor-based.

    Raises:
        ModelLoadError: The signature is not readable or names a type MLflow does not define.
    """
    if not isinstance(signature, dict) or signature.get("inputs") in (None, "", "null"):
        return None
    inputs = signature["inputs"]
    try:
        specs = json.loads(inputs) if isinstance(inputs, str) else inputs
    except ValueError as exc:
        raise ModelLoadError(
            f"The model's signature is not valid JSON ({exc}); save the model again with MLflow.",
        ) from exc
    if not isinstance(specs, list):
        raise ModelLoadError("The model's signature inputs are not a list of columns; save the model again.")
    columns: list[ColumnSpec] = []
    for spec in specs:
        if not isinstance(spec, dict):
            raise ModelLoadError("The model's signature holds an entry that is not a column description.")
        kind = spec.get("type")
        if kind == "tensor":
            return None
        name = spec.get("name")
        if not isinstance(name, str):
            # Unnamed colspecs are positional; serve them as tensors (no named schema).
            return None
        if kind not in _KNOWN_TYPES:
            raise ModelLoadError(
                f"The model's signature gives column {name!r} the type {kind!r}, which the scoring service "
                f"does not handle (supported: {', '.join(sorted(_KNOWN_TYPES))}).",
                column=name,
            )
        columns.append(ColumnSpec(name, kind, bool(spec.get("required", True))))
    return InputSchema(tuple(columns)) if columns else None
