"""Canonical YAML text: the same data always gives the same bytes (diff-friendly in Git).

Only PyYAML's *safe* machinery is used: ``dump_yaml`` uses a subclass of ``yaml.SafeDumper`` (it
only adds the block style for multi-line text, so SQL and Python code stay readable in a diff) and
``load_yaml`` is ``yaml.safe_load`` (C-accelerated when PyYAML has its C extension) narrowed to
what JSON can hold, since every value ends up in a JSON column: mappings with text keys (each key
once), lists, texts, finite numbers, true/false and null. ``!!python/...`` tags are refused by
``safe_load`` itself; :class:`NotPlainDataError` refuses the rest (``!!binary``, ``!!set``,
``!!omap``, ``!!pairs``, ``!!timestamp``, ``.nan``/``.inf``, integers beyond 64 bits), and
an unquoted date stays the text it is.
"""

from __future__ import annotations

import math
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

__all__ = ["SAFE_LOADER", "NotPlainDataError", "dump_yaml", "load_yaml", "sorted_deep"]

#: PyYAML's C parser when it was built with libyaml (about 20 times faster than the pure-Python one).
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class NotPlainDataError(yaml.MarkedYAMLError):
    """A YAML value that JSON cannot hold; ``problem`` says which and how to write it instead."""


class _PlainLoader(SAFE_LOADER):  # type: ignore[misc,valid-type]
    """``yaml.safe_load``'s loader, producing only JSON-compatible data (see the module docstring)."""

    yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag != _TIMESTAMP]
        for first, resolvers in SAFE_LOADER.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)  # "<<" merge keys first, as SafeConstructor does
        seen: set[str] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str):
                raise NotPlainDataError(
                    problem=f"the key {key!r} is not a text; put it in quotes ('{key}':)",
                    problem_mark=key_node.start_mark,
                )
            if key in seen:
                raise NotPlainDataError(
                    problem=f"the key {key[:80]!r} appears twice in the same mapping; keep one",
                    problem_mark=key_node.start_mark,
                )
            seen.add(key)
        mapping: dict[Any, Any] = SafeConstructor.construct_mapping(self, node, deep=deep)
        return mapping


def _refuse_tag(loader: SafeConstructor, node: yaml.Node) -> Any:
    raise NotPlainDataError(
        problem=f"the tag {node.tag.rsplit(':', 1)[-1]!r} is not allowed; a bundle holds only mappings, "
        "lists, texts, numbers, true/false and null",
        problem_mark=node.start_mark,
    )


def _finite_float(loader: SafeConstructor, node: yaml.ScalarNode) -> float:
    value = SafeConstructor.construct_yaml_float(loader, node)
    if not math.isfinite(value):
        raise NotPlainDataError(
            problem=f"the number {node.value!r} is not finite; write a number or null",
            problem_mark=node.start_mark,
        )
    return value


def _bounded_int(loader: SafeConstructor, node: yaml.ScalarNode) -> int:
    try:
        value: int = SafeConstructor.construct_yaml_int(loader, node)
    except ValueError:  # Python refuses to read decimal integers of more than 4,300 digits
        value = 1 << 64
    if value.bit_length() > 63:  # nor could JSON write one back (hex and 1:2:3 forms read any size)
        raise NotPlainDataError(
            problem=f"the number starting {node.value[:20]!r} is too large; write it in quotes as a text",
            problem_mark=node.start_mark,
        )
    return value


for _tag in ("binary", "set", "omap", "pairs", "timestamp"):
    _PlainLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse_tag)
_PlainLoader.add_constructor("tag:yaml.org,2002:float", _finite_float)
_PlainLoader.add_constructor("tag:yaml.org,2002:int", _bounded_int)


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
    """Parse YAML as ``yaml.safe_load`` does, to plain JSON-compatible data.

    Raises:
        yaml.YAMLError: invalid YAML or a ``!!python/...`` tag (``ConstructorError``); a value JSON
            cannot hold (:class:`NotPlainDataError`).
    """
    return yaml.load(text, Loader=_PlainLoader)  # noqa: S506 - a SafeLoader subclass
