"""Reading a recipe's settings (JSON) with messages that name the recipe, the setting and the fix."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from modelworks.engine.errors import did_you_mean
from modelworks.engine.recipes.types import RecipeSpecError

__all__ = ["SpecReader", "to_json"]

_MISSING: Any = object()


class SpecReader:
    """Typed access to one object of a recipe's settings, with messages a user can act on.

    Args:
        data: the JSON object.
        recipe: the recipe's name (or a phrase such as ``"join recipe"`` when it has none yet).
        where: where this object sits, e.g. ``"join 1"``; empty for the top level.
    """

    def __init__(self, data: object, *, recipe: str, where: str = "") -> None:
        self.recipe = recipe
        self.where = where
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise RecipeSpecError(f"{self.place}: settings must be an object, not {type(data).__name__}")
        self.data: Mapping[str, Any] = data

    @property
    def place(self) -> str:
        """Where a message points: ``recipe 'r'`` and, inside it, ``Aggregation 1``."""
        return f"recipe {self.recipe!r}" + (
            f": {self.where[:1].upper()}{self.where[1:]}" if self.where else ""
        )

    def error(self, key: str, problem: str) -> RecipeSpecError:
        return RecipeSpecError(f"{self.place}: setting {key!r} {problem}", **self._details(key))

    def missing(self, key: str, choices: Sequence[str] = ()) -> RecipeSpecError:
        """A required setting left empty, said as what to do in the form ("choose a function (…)")."""
        fix = _FIXES.get(key)
        if fix is None:
            words = key.replace("_", " ")
            fix = f"choose {_article(words)} {words}" if choices else f"fill in {words!r}"
        if choices:
            fix += f" ({_words(choices)})"
        return RecipeSpecError(f"{self.place}: {fix}", **self._details(key))

    def _details(self, key: str) -> dict[str, Any]:
        details: dict[str, Any] = {"setting": key, "recipe": self.recipe}
        if self.where:
            details["where"] = self.where
        return details

    def allow(self, *keys: str) -> None:
        """Refuse settings this recipe does not know (a typo would otherwise be silently ignored)."""
        for key, value in self.data.items():
            if key not in keys and value is not None:
                raise RecipeSpecError(
                    f"{self.place}: unknown setting {key!r}{did_you_mean(str(key), keys)}; "
                    f"the settings are {', '.join(keys)}",
                    **self._details(key),
                )

    def _get(self, key: str, default: Any, choices: Sequence[str] = ()) -> Any:
        value = self.data.get(key)
        if value is None:
            if default is _MISSING:
                raise self.missing(key, choices)
            return default
        return value

    def string(self, key: str, default: Any = _MISSING, *, choices: Sequence[str] = ()) -> Any:
        value = self._get(key, default, choices)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, str) and not value.strip():
            raise self.missing(key, choices)
        if not isinstance(value, str):
            raise self.error(key, f"must be a text, not {value!r}")
        if choices:
            lowered = value.strip().lower().replace(" ", "_")
            if lowered not in choices:
                raise self.error(
                    key, f"is {value!r}{did_you_mean(value, choices)}; choose one of {_words(choices, 30)}"
                )
            return lowered
        return value

    def integer(self, key: str, default: Any = _MISSING, *, minimum: int | None = None) -> Any:
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            elif isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
                value = int(value)
            else:
                raise self.error(key, f"must be a whole number, not {value!r}")
        if minimum is not None and value < minimum:
            raise self.error(key, f"must be at least {minimum}, not {value}")
        return int(value)

    def number(
        self, key: str, default: Any = _MISSING, *, minimum: float | None = None, maximum: float | None = None
    ) -> Any:
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise self.error(key, f"must be a number, not {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.error(key, f"must be a number, not {value!r}")
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise self.error(key, f"must be between {minimum} and {maximum}, not {value}")
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, not {value!r}")
        return value

    def strings(self, key: str, default: Any = _MISSING, *, non_empty: bool = False) -> Any:
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
            raise self.error(key, f"must be a list of names, not {value!r}")
        if non_empty and not value:
            raise self.error(key, "needs at least one name")
        return tuple(value)

    def mapping(self, key: str) -> dict[str, str]:
        value = self.data.get(key) or {}
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in value.items()
        ):
            raise self.error(key, f"must map names to non-empty new names, not {value!r}")
        return dict(value)

    def objects(self, key: str, label: str, *, required: bool = True) -> list[SpecReader]:
        """The list under ``key``: one reader per item, placed as ``<label> 1``, ``<label> 2``…"""
        value = self.data.get(key)
        if value is None or value == []:
            if required:
                raise RecipeSpecError(f"{self.place}: add at least one {label}", **self._details(key))
            return []
        if not isinstance(value, list | tuple):
            raise self.error(key, f"must be a list of {label}s, not {type(value).__name__}")
        prefix = f"{self.where} " if self.where else ""
        return [
            SpecReader(item, recipe=self.recipe, where=f"{prefix}{label} {i}")
            for i, item in enumerate(value, 1)
        ]

    def child(self, key: str, where: str) -> SpecReader:
        return SpecReader(self.data.get(key), recipe=self.recipe, where=where)


# How to fill a setting left empty, for the settings whose name alone would not say it.
_FIXES: Mapping[str, str] = {
    "column": "choose a column",
    "left": "choose the left column",
    "right": "choose the right column",
    "op": "choose an operator",
    "type": "choose a join type",
    "sql": "write the SQL query",
    "model": "choose a model",
    "output": "name the output",
    "n": "fill in the number (n)",
    "p": "fill in the quantile p (between 0 and 1)",
}


def _article(words: str) -> str:
    return "an" if words[:1] in ("a", "e", "i", "o", "u") else "a"


def _words(choices: Sequence[str], most: int = 6) -> str:
    """Choices as the form shows them (``count_distinct`` → ``count distinct``; both are accepted)."""
    words = [c.replace("_", " ") for c in choices]
    return ", ".join(words[:most]) + (", …" if len(words) > most else "")


def to_json(value: Any) -> Any:
    """A settings dataclass (or anything built of them) as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    return value
