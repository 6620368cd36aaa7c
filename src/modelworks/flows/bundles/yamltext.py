"""Canonical YAML text: the same data always gives the same bytes (diff-friendly in Git).

Only PyYAML's *safe* machinery is used: ``dump_yaml`` uses a subclass of ``yaml.SafeDumper`` (it
only adds the block style for multi-line text, so SQL and Python code stay readable in a diff) and
``load_yaml`` is ``yaml.safe_load``, which refuses ``!!python/...`` tags.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["dump_yaml", "load_yaml", "sorted_deep"]


class _Dumper(yaml.SafeDumper):
    """``SafeDumper`` that writes multi-line strings as ``|`` blocks and indents lists under their key."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)


def sorted_deep(value: Any) -> Any:
    """``value`` with the keys of every mapping in it sorted (lists keep their order)."""
    if isinstance(value, dict):
        return {str(k): sorted_deep(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [sorted_deep(v) for v in value]
    return value


def dump_yaml(data: dict[str, Any]) -> str:
    """YAML text of ``data``: top-level keys in the given order, nested keys sorted, UTF-8 text,
    two-space indents, no line folding, a final newline."""
    ordered = {key: sorted_deep(value) for key, value in data.items()}
    text: str = yaml.dump(
        ordered,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        indent=2,
        width=10_000,
    )
    return text


def load_yaml(text: str | bytes) -> Any:
    """Parse YAML with ``yaml.safe_load`` (no object construction; tags such as ``!!python/object``
    are refused with ``yaml.YAMLError``)."""
    return yaml.safe_load(text)
