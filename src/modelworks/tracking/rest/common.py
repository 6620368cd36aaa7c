"""Request helpers shared by the tracking endpoints: lists, view types, result pages and page tokens.

Page tokens are opaque to clients: base64 of a small JSON document (today the offset of the next
page). A token that does not decode is INVALID_PARAMETER_VALUE, never a server error.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from modelworks.tracking.models import LifecycleStage
from modelworks.tracking.protocol import MlflowError
from modelworks.tracking.search import SearchSyntaxError
from modelworks.tracking.validation import invalid, optional_int

__all__ = ["as_list", "make_page_token", "max_results", "page_offset", "search_error", "view_stages"]

_VIEW_TYPES = {
    "ACTIVE_ONLY": (LifecycleStage.ACTIVE,),
    "DELETED_ONLY": (LifecycleStage.DELETED,),
    "ALL": (LifecycleStage.ACTIVE, LifecycleStage.DELETED),
    "1": (LifecycleStage.ACTIVE,),
    "2": (LifecycleStage.DELETED,),
    "3": (LifecycleStage.ACTIVE, LifecycleStage.DELETED),
}


def as_list(value: Any) -> list[Any]:
    """A repeated field: JSON lists stay lists, a single query-string value becomes a list of one."""
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def view_stages(value: Any, name: str = "view_type") -> tuple[str, ...]:
    """The lifecycle stages a ``view_type``/``run_view_type`` selects (default: active only)."""
    if value is None or value == "":
        return _VIEW_TYPES["ACTIVE_ONLY"]
    stages = _VIEW_TYPES.get(str(value).strip().upper())
    if stages is None:
        raise invalid(
            f"Invalid value {value!r} for parameter '{name}': use ACTIVE_ONLY, DELETED_ONLY or ALL."
        )
    return stages


def max_results(value: Any, *, default: int, limit: int, name: str = "max_results") -> int:
    number = optional_int(value, name)
    if number is None:
        return default
    if number < 1:
        raise invalid(
            f"Invalid value {number} for parameter '{name}' supplied. It must be a positive integer."
        )
    if number > limit:
        raise invalid(f"Invalid value {number} for parameter '{name}' supplied. It must be at most {limit}.")
    return number


def make_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def page_offset(token: Any) -> int:
    """The offset a page token points at (0 without a token)."""
    if token is None or token == "":
        return 0
    try:
        text = str(token)
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        offset = int(data["offset"])
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise invalid(
            "Invalid page token: pass back the next_page_token of the previous answer unchanged."
        ) from None
    if offset < 0:
        raise invalid("Invalid page token: pass back the next_page_token of the previous answer unchanged.")
    return offset


def search_error(exc: SearchSyntaxError, what: str) -> MlflowError:
    return invalid(f"Invalid {what}: {exc}")
