"""Forms generated from the engine's ``ParamSpec`` descriptors, for recipe settings and Prepare steps.

One codec serves every recipe kind and every processor: :func:`param_fields` turns descriptors and
current values into :class:`ParamField`\\ s the template ``flows/partials/param_field.html`` draws,
and :func:`read_params` reads the posted form back into the spec's JSON. Field names are dotted
paths under a prefix (``spec.keys``, ``step.2.column``, ``spec.aggregations.0.function``), so a
recipe's whole form round-trips through one POST.

Values are read as typed as the form allows (integers, numbers, booleans, lists); anything the
engine would refuse (an unknown column, a bad formula, a missing setting) is left for
``normalize_spec``/``compile_recipe`` to report with its own message, so the page and the API say the
same thing. Lists of objects (``kind="list"``) get "Add" and "Remove" buttons: they post ``op``
values (``add:<path>``, ``del:<path>.<index>``) that :func:`read_params` applies while reading.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from modelworks.engine.recipes.types import ParamSpec

__all__ = [
    "OBJECT_LISTS",
    "ColumnChoice",
    "ParamField",
    "as_param_specs",
    "choice_label",
    "default_values",
    "display_value",
    "param_fields",
    "read_params",
]

#: The ParamSpec kinds the codec draws; anything else is edited as JSON.
KNOWN_KINDS = frozenset(
    {
        "column",
        "columns",
        "string",
        "strings",
        "integer",
        "number",
        "boolean",
        "choice",
        "formula",
        "mapping",
        "date",
        "list",
        "code",
        "sql",
        "text",
    }
)


#: ``list`` settings that hold at most one object (a window's ``frame``): the form draws them as a list
#: of at most one item, and reads them back as that object (or leaves them out when there is none).
OBJECT_LISTS = frozenset({"frame"})


def _is_object_list(spec: ParamSpec) -> bool:
    return spec.kind == "list" and spec.name in OBJECT_LISTS


def choice_label(value: str) -> str:
    """An option as a person reads it: ``"is_not_missing"`` → ``"is not missing"``."""
    return value.replace("_", " ")


@dataclass(frozen=True)
class ColumnChoice:
    """A column offered by a column picker: its name, logical type and the input it comes from."""

    name: str
    type: str = ""
    input: str = ""


def as_param_specs(params: Iterable[Any]) -> tuple[ParamSpec, ...]:
    """``ParamSpec``\\ s from descriptors given as objects or as their ``to_dict()`` form."""
    specs = []
    for param in params or ():
        if isinstance(param, ParamSpec):
            specs.append(param)
        elif isinstance(param, Mapping):
            specs.append(
                ParamSpec(
                    name=str(param["name"]),
                    kind=str(param.get("kind", "string")),
                    label=str(param.get("label") or param["name"]),
                    required=bool(param.get("required", True)),
                    default=param.get("default"),
                    choices=tuple(param.get("choices") or ()),
                    help=str(param.get("help") or ""),
                    item=as_param_specs(param.get("item") or ()),
                )
            )
    return tuple(specs)


def default_values(specs: Sequence[ParamSpec]) -> dict[str, Any]:
    """The values of a new step or recipe: each descriptor's default (lists start with one item)."""
    values: dict[str, Any] = {}
    for spec in specs:
        if spec.default is not None:
            values[spec.name] = json.loads(json.dumps(spec.default, default=str))
        elif spec.kind == "list" and spec.required and spec.item:
            values[spec.name] = [default_values(spec.item)]
        elif spec.kind == "boolean":
            values[spec.name] = False
    return values


@dataclass
class ParamField:
    """One generated field, as the template draws it.

    Attributes:
        spec: the descriptor.
        name: the form field name (a dotted path).
        id: the HTML id.
        value: the current value, as text for text-like inputs (see ``text``), raw otherwise.
        columns: the columns a column picker offers.
        datalist: the id of the ``<datalist>`` of column names (single-column pickers).
        items: for a ``list``: one list of fields per item, with ``item_paths`` their prefixes.
        extra_columns: chosen columns the picker does not offer any more (kept, shown as missing).
        error: a message for this field (from the engine's error details), if any.
        readonly: draw the value only.
        show_if: when the field applies, as ``"<field name>=<value> <value>…"`` (a mode of the
            recipe or step, see ``modelworks.flows.forms.kinds.MODE_RULES``); "" when always.
    """

    spec: ParamSpec
    name: str
    id: str
    value: Any
    columns: Sequence[ColumnChoice] = ()
    datalist: str = ""
    items: list[list[ParamField]] = field(default_factory=list)
    item_paths: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    error: str = ""
    readonly: bool = False
    show_if: str = ""

    @property
    def kind(self) -> str:
        return self.spec.kind if self.spec.kind in KNOWN_KINDS else "json"

    @property
    def label(self) -> str:
        return self.spec.label or self.spec.name

    @property
    def help(self) -> str:
        return self.spec.help

    @property
    def required(self) -> bool:
        return self.spec.required

    @property
    def text(self) -> str:
        """The value as the text of an input or textarea."""
        value = self.value
        if value is None:
            return ""
        kind = self.kind
        if kind == "strings" or (kind == "columns" and not isinstance(value, str)):
            return "\n".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)
        if kind == "mapping":
            if isinstance(value, Mapping):
                return "\n".join(f"{k} = {v}" for k, v in value.items())
            return str(value)
        if kind == "json":
            return json.dumps(value, indent=2, ensure_ascii=False, default=str)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    @property
    def entries(self) -> list[tuple[str, list[ParamField]]]:
        """The items of a ``list`` with their name prefixes."""
        return list(zip(self.item_paths, self.items, strict=True))

    @property
    def chosen(self) -> list[str]:
        """The chosen names of a ``columns`` picker."""
        value = self.value
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, list | tuple):
            return [str(v) for v in value]
        return []

    @property
    def choice_options(self) -> list[str]:
        """The options of a ``choice``, with a current value that is not one of them kept first."""
        options = list(self.spec.choices)
        if self.value not in (None, "") and str(self.value) not in options:
            options.insert(0, str(self.value))
        return options

    @property
    def choice_pairs(self) -> list[tuple[str, str]]:
        """(value, label) of each option of a ``choice``, the label in words."""
        return [(option, choice_label(option)) for option in self.choice_options]

    @property
    def string_choices(self) -> list[tuple[str, str, bool]]:
        """For a ``strings`` setting with choices (e.g. the date parts to extract): (value, label,
        ticked) of each choice, drawn as check boxes."""
        if self.kind != "strings" or not self.spec.choices:
            return []
        chosen = self.chosen
        options = list(self.spec.choices) + [c for c in chosen if c not in self.spec.choices]
        return [(option, choice_label(option), option in chosen) for option in options]

    @property
    def can_add_item(self) -> bool:
        """Whether a ``list`` may take one more item (a one-object list holds at most one)."""
        return not (_is_object_list(self.spec) and self.items)

    @property
    def checked(self) -> bool:
        return self.value is True or str(self.value).lower() in ("true", "1", "on", "yes")

    @property
    def input_groups(self) -> list[tuple[str, list[ColumnChoice]]]:
        """Columns grouped by input (one group without a name when there is one input)."""
        groups: dict[str, list[ColumnChoice]] = {}
        for column in self.columns:
            groups.setdefault(column.input, []).append(column)
        return list(groups.items())


def _field_id(name: str) -> str:
    return "f-" + "".join(c if c.isalnum() else "-" for c in name)


def param_fields(
    specs: Sequence[ParamSpec],
    values: Mapping[str, Any] | None,
    prefix: str,
    *,
    columns: Sequence[ColumnChoice] = (),
    datalist: str = "",
    errors: Mapping[str, str] | None = None,
    readonly: bool = False,
    show_if: Mapping[str, str] | None = None,
) -> list[ParamField]:
    """The fields of ``specs`` filled with ``values``, named under ``prefix``.

    Args:
        specs: the descriptors.
        values: the current settings (missing keys are left empty).
        prefix: the dotted name prefix, e.g. ``"spec"`` or ``"step.3"``.
        columns: what column pickers offer.
        datalist: the id of the page's ``<datalist>`` of those columns (single-column pickers).
        errors: messages by setting name (an engine error that names the setting).
        readonly: draw values only.
        show_if: by setting name, when it applies (``ParamField.show_if``).
    """
    values = values or {}
    errors = errors or {}
    show_if = show_if or {}
    names = {c.name for c in columns}
    fields: list[ParamField] = []
    for spec in specs:
        name = f"{prefix}.{spec.name}"
        value = values.get(spec.name)
        item = ParamField(
            spec=spec,
            name=name,
            id=_field_id(name),
            value=value,
            columns=columns,
            datalist=datalist,
            error=errors.get(spec.name, ""),
            readonly=readonly,
            show_if=show_if.get(spec.name, ""),
        )
        if spec.kind == "columns":
            item.extra_columns = [c for c in item.chosen if c not in names]
        if spec.kind == "list":
            entries = [value] if isinstance(value, Mapping) else value if isinstance(value, list) else []
            for index, entry in enumerate(entries):
                path = f"{name}.{index}"
                entry_values = entry if isinstance(entry, Mapping) else {}
                item.items.append(
                    param_fields(
                        spec.item, entry_values, path, columns=columns, datalist=datalist, readonly=readonly
                    )
                )
                item.item_paths.append(path)
        fields.append(item)
    return fields


def _number(text: str, kind: str) -> Any:
    try:
        return int(text) if kind == "integer" else float(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            return text  # the engine says what is wrong with it
        return int(number) if kind == "integer" and number.is_integer() else number


def _mapping(text: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep:
            key, sep, value = line.partition("→")
        mapping[key.strip()] = value.strip()
    return mapping


def read_params(specs: Sequence[ParamSpec], data: Any, prefix: str, *, op: str = "") -> dict[str, Any]:
    """The settings posted for ``specs`` under ``prefix``.

    Empty optional values are left out (the engine fills its defaults); list operations in ``op``
    (``add:<path>``, ``del:<path>.<index>``) are applied while reading.

    Args:
        specs: the descriptors.
        data: the posted form (a ``QueryDict``: ``get`` and ``getlist``).
        prefix: the dotted name prefix used by :func:`param_fields`.
        op: the editor operation of this post, if any.
    """
    values: dict[str, Any] = {}
    for spec in specs:
        name = f"{prefix}.{spec.name}"
        kind = spec.kind if spec.kind in KNOWN_KINDS else "json"
        if kind == "boolean":
            values[spec.name] = name in data and data.get(name) not in ("", "false", "0", "off")
            continue
        if kind == "columns":
            chosen = [v.strip() for v in data.getlist(name) if v.strip()]
            typed = data.get(f"{name}.more", "")
            chosen += [v.strip() for v in typed.replace("\n", ",").split(",") if v.strip()]
            if chosen or spec.required:
                values[spec.name] = list(dict.fromkeys(chosen))
            continue
        if kind == "list":
            count = data.get(f"{name}.n")
            try:
                size = max(0, min(int(count), 500)) if count is not None else 0
            except ValueError:
                size = 0
            items = []
            for index in range(size):
                if op == f"del:{name}.{index}":
                    continue
                items.append(read_params(spec.item, data, f"{name}.{index}", op=op))
            if op == f"add:{name}":
                items.append(default_values(spec.item))
            if _is_object_list(spec):
                if items:
                    values[spec.name] = items[-1]
                continue
            if items or spec.required or count is not None:
                values[spec.name] = items
            continue
        if name not in data:
            continue
        if kind == "strings":  # a textarea (one per line), or one check box per choice
            lines = [line.strip() for raw in data.getlist(name) for line in str(raw).splitlines()]
            lines = [line for line in lines if line]
            if lines or spec.required:
                values[spec.name] = lines
            continue
        text = data.get(name, "")
        if kind in ("string", "formula", "code", "sql", "text", "column", "choice", "date"):
            if kind in ("code", "sql", "text"):
                text = text.replace("\r\n", "\n")
            elif kind != "string":
                text = text.strip()
            if text != "" or spec.required:
                values[spec.name] = text
        elif kind in ("integer", "number"):
            text = text.strip()
            if text != "":
                values[spec.name] = _number(text, kind)
        elif kind == "mapping":
            mapping = _mapping(text)
            if mapping or spec.required:
                values[spec.name] = mapping
        else:  # json
            text = text.strip()
            if text:
                try:
                    values[spec.name] = json.loads(text)
                except ValueError:
                    values[spec.name] = text
    return values


def display_value(spec: ParamSpec, value: Any) -> str:
    """A setting's value as one line of text (read-only pages)."""
    if value is None or value == "" or value == [] or value == {}:
        return "–"  # noqa: RUF001 - an en dash, as the other pages show a missing value
    if spec.kind == "boolean":
        return "Yes" if value else "No"
    if spec.kind in ("columns", "strings") and isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if spec.kind == "list" and isinstance(value, Mapping):
        value = [value]
    if spec.kind == "list" and isinstance(value, list | tuple):
        items = []
        for item in value:
            if isinstance(item, Mapping) and spec.item:
                parts = [
                    f"{sub.label}: {display_value(sub, item[sub.name])}"
                    for sub in spec.item
                    if sub.name in item and item[sub.name] not in (None, "", [], {})
                ]
                items.append(", ".join(parts))
            else:
                items.append(str(item))
        return "; ".join(items) or "–"  # noqa: RUF001
    if spec.kind == "mapping" and isinstance(value, Mapping):
        return ", ".join(f"{k} → {v}" for k, v in value.items())
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)
