"""Check a step's settings against its processor's :class:`ParamSpec` list before it is applied.

Every message names the step and the setting (by its label, as the form shows it: "Condition 1: choose
a column") and says what is expected; ``details["setting"]`` keeps the key of a setting left empty.
Settings may come from a form (numbers as text, ``"true"``) or from JSON; both are accepted and
normalised here, so the processors only see clean values: ``column`` a name that exists, ``columns``
a non-empty list of existing names without repeats, ``integer``/``number`` numbers, ``choice`` one
of its choices, etc.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

from modelworks.engine.errors import did_you_mean
from modelworks.engine.recipes.prepare.base import Step
from modelworks.engine.recipes.types import ParamSpec

__all__ = ["MAX_TEXT", "validate_params"]

MAX_TEXT = 10_000
_MAX_ITEMS = 1_000


def validate_params(step: Step, raw: object) -> dict[str, Any]:
    """The step's settings, normalised, with defaults filled in.

    Raises:
        RecipeSpecError: a setting is unknown, missing or of the wrong kind.
        MissingColumnError: a ``column``/``columns`` setting names a column the step's input lacks.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise step.fail("its settings must be an object of name → value")
    return _validate(step, step.info.params, raw, "")


def _validate(step: Step, specs: Sequence[ParamSpec], raw: Mapping[Any, Any], prefix: str) -> dict[str, Any]:
    """``prefix`` places an item of a list setting for the user, e.g. ``"Condition 2: "``."""
    known = {p.name for p in specs}
    for key in raw:
        if key not in known:
            raise step.fail(
                f"{prefix}unknown setting {key!r}{did_you_mean(str(key), known)}", setting=str(key)
            )
    values: dict[str, Any] = {}
    for spec in specs:
        value = raw.get(spec.name)
        if _blank(value):
            if spec.required and spec.default is None:
                raise step.fail(f"{prefix}{_what_to_do(spec)}", setting=spec.name)
            values[spec.name] = spec.default
            continue
        values[spec.name] = _check(step, spec, value, f"{prefix}{spec.label!r}")
    return values


def _what_to_do(spec: ParamSpec) -> str:
    """How to fill a required setting left empty, in the words of the form ("choose a column")."""
    label = spec.label[:1].lower() + spec.label[1:]
    if spec.kind in ("column", "choice") or (spec.kind == "string" and spec.choices):
        article = "an" if label[:1] in "aeiou" else "a"
        options = f" ({_words(spec.choices)})" if spec.choices else ""
        return f"choose {article} {label}{options}"
    if spec.kind == "columns":
        return f"choose the {label}"
    if spec.kind == "list":
        item = _item_name(spec).lower()
        return f"add {'an' if item[:1] in 'aeiou' else 'a'} {item}"
    if spec.kind in ("strings", "mapping"):
        return f"add at least one entry to {spec.label!r}"
    return f"fill in {spec.label!r}"


def _words(choices: Sequence[str], most: int = 6) -> str:
    """Choices as the form shows them (``not_equals`` → ``not equals``), the first few only."""
    words = [c.replace("_", " ") for c in choices]
    return ", ".join(words[:most]) + (", …" if len(words) > most else "")


def _item_name(spec: ParamSpec) -> str:
    """``Conditions`` → ``Condition``: how one item of a list setting is called."""
    label = spec.label
    return label[:-1] if label.endswith("s") and not label.endswith("ss") else f"{label} item"


def _blank(value: object) -> bool:
    return value is None or value == "" or (isinstance(value, list | tuple | dict) and not value)


def _check(step: Step, spec: ParamSpec, value: Any, label: str) -> Any:
    kind = spec.kind
    if kind == "column":
        return _column(step, value, label)
    if kind == "columns":
        names = _list(step, value, label)
        seen: list[str] = []
        for name in names:
            name = _column(step, name, label)
            if name in seen:
                raise step.fail(f"{label} lists column {name!r} twice")
            seen.append(name)
        return seen
    if kind in ("string", "formula"):
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise step.fail(f"{label} must be a text")
        text = str(value)
        if len(text) > MAX_TEXT:
            raise step.fail(f"{label} is longer than {MAX_TEXT:,} characters")
        if spec.choices:
            return _choice(step, text, spec.choices, label)
        return text
    if kind == "strings":
        items = [_scalar_text(step, v, label) for v in _list(step, value, label)]
        if spec.choices:
            items = [_choice(step, v, spec.choices, label) for v in items]
        return items
    if kind == "integer":
        return _integer(step, value, label)
    if kind == "number":
        return _number(step, value, label)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no", "1", "0"):
            return value.strip().lower() in ("true", "yes", "1")
        raise step.fail(f"{label} must be true or false, not {value!r}")
    if kind == "choice":
        return _choice(step, _scalar_text(step, value, label), spec.choices, label)
    if kind == "mapping":
        if not isinstance(value, Mapping):
            raise step.fail(f"{label} must be an object of text → text")
        if len(value) > _MAX_ITEMS:
            raise step.fail(f"{label} has more than {_MAX_ITEMS:,} entries")
        return {str(k): (None if v is None else _scalar_text(step, v, label)) for k, v in value.items()}
    if kind == "date":
        try:
            return dt.date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise step.fail(f"{label} must be a date written YYYY-MM-DD, not {value!r}") from None
    if kind == "list":
        out = []
        for i, item in enumerate(_list(step, value, label), 1):
            if not isinstance(item, Mapping):
                raise step.fail(f"{label}: {_item_name(spec).lower()} {i} must be an object")
            out.append(_validate(step, spec.item, item, f"{_item_name(spec)} {i}: "))
        return out
    raise AssertionError(f"unknown parameter kind {kind!r}")


def _column(step: Step, value: Any, label: str) -> str:
    if not isinstance(value, str) or not value:
        raise step.fail(f"{label} must be a column name")
    if step.state.find(value) is None or value.startswith("__mw_"):
        raise step.missing(value)
    return value


def _list(step: Step, value: Any, label: str) -> list[Any]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        raise step.fail(f"{label} must be a list")
    if len(value) > _MAX_ITEMS:
        raise step.fail(f"{label} has more than {_MAX_ITEMS:,} entries")
    return list(value)


def _scalar_text(step: Step, value: Any, label: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        text = str(value)
        if len(text) > MAX_TEXT:
            raise step.fail(f"{label} holds a text longer than {MAX_TEXT:,} characters")
        return text
    raise step.fail(f"{label} must hold texts, not {type(value).__name__}")


def _choice(step: Step, value: str, choices: Sequence[str], label: str) -> str:
    if value in choices:
        return value
    raise step.fail(
        f"{label} is {value!r}{did_you_mean(value, choices)}; choose one of {_words(choices, 20)}"
    )


def _number(step: Step, value: Any, label: str) -> float:
    if isinstance(value, bool):
        raise step.fail(f"{label} must be a number, not {value!r}")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise step.fail(f"{label} must be a number, not {value!r}") from None
    else:
        raise step.fail(f"{label} must be a number, not {value!r}")
    if not math.isfinite(number):
        raise step.fail(f"{label} must be a finite number")
    return number


def _integer(step: Step, value: Any, label: str) -> int:
    number = _number(step, value, label)
    if not number.is_integer():
        raise step.fail(f"{label} must be a whole number, not {value!r}")
    return int(number)
