"""The building blocks of the technical documentation's sections (shapes in ``aiact_documentation``)."""

from __future__ import annotations

from typing import Any

__all__ = [
    "MAX_ROWS",
    "NO_MODEL",
    "bullets",
    "facts",
    "missing",
    "p",
    "section",
    "status_label",
    "table",
    "text",
    "who",
]

MAX_ROWS = 50
NO_MODEL = (
    "No model version is documented: link the project holding the model to the use case, register a "
    "model version and point its 'champion' alias at it (or choose a version when generating)."
)


def section(key: str, title: str, basis: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"key": key, "title": title, "basis": basis, "blocks": blocks}


def p(text: str) -> dict[str, Any]:
    return {"type": "paragraph", "text": text}


def facts(rows: list[tuple[str, Any]]) -> dict[str, Any]:
    return {"type": "facts", "rows": [[label, text(value)] for label, value in rows]}


def table(caption: str, columns: list[str], rows: list[list[Any]]) -> dict[str, Any]:
    return {
        "type": "table",
        "caption": caption,
        "columns": columns,
        "rows": [[text(cell) for cell in row] for row in rows[:MAX_ROWS]],
    }


def missing(text: str) -> dict[str, Any]:
    return {"type": "missing", "text": text}


def bullets(items: list[str]) -> dict[str, Any]:
    return {"type": "list", "items": items}


def text(value: Any) -> str:
    """A cell's text: a dash when empty, yes/no, floats to 4 significant digits, times in UTC."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, (list, tuple)):
        return ", ".join(text(v) for v in value) or "—"
    return str(value)


def status_label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def who(user: Any, fallback: str = "") -> str:
    if user is None:
        return fallback or "—"
    return user.get_username()
