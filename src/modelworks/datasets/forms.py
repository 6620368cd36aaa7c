"""Forms of the dataset pages. They validate input; writes go through ``modelworks.datasets.services``."""

from __future__ import annotations

import json
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from modelworks.connections.models import Connection, ConnectionKind
from modelworks.core.forms import PageForm
from modelworks.core.models import Project, User
from modelworks.datasets.models import Dataset, DatasetVersion
from modelworks.engine.io import FORMATS, LOGICAL_TYPES
from modelworks.engine.quality import RULE_KINDS

__all__ = [
    "ConnectionImportForm",
    "DatasetSettingsForm",
    "RuleForm",
    "UploadForm",
    "default_name",
    "types_from_post",
]

_DELIMITERS = [("", "Detect"), (",", "Comma ,"), (";", "Semicolon ;"), ("\t", "Tab"), ("|", "Pipe |")]
_HEADER = [("", "Detect"), ("yes", "First row names the columns"), ("no", "No header row")]
_BAD_ROWS = [
    ("error", "Stop at the first malformed row"),
    ("skip", "Leave malformed rows out and report them"),
]
RULE_LABELS = {
    "not_null": "Not empty",
    "unique": "Unique",
    "range": "Within a range",
    "allowed_values": "Allowed values",
    "regex": "Matches a pattern",
    "row_count": "Row count",
    "freshness": "Fresh",
    "custom_sql": "Custom condition",
}


def default_name(file_name: str) -> str:
    """A dataset name from a file name: its base name without extension (never a path)."""
    base = PureWindowsPath(PurePosixPath(file_name.replace("\x00", "")).name).name
    stem = base.rsplit(".", 1)[0] if "." in base.strip(".") else base
    return stem.strip(" .")[:200] or "Uploaded data"


class _OptionsMixin(forms.Form):
    """How to read a file: every option defaults to "detect"."""

    format = forms.ChoiceField(
        choices=[("", "Detect from the content"), *[(f, f) for f in FORMATS]], required=False
    )
    encoding = forms.CharField(
        required=False, max_length=40, help_text="e.g. utf-8, latin-1; leave empty to detect."
    )
    delimiter = forms.ChoiceField(choices=_DELIMITERS, required=False)
    header = forms.ChoiceField(choices=_HEADER, required=False, label="Header row")
    sheet = forms.CharField(
        required=False, max_length=100, help_text="Excel only; the first sheet by default."
    )
    bad_rows = forms.ChoiceField(choices=_BAD_ROWS, required=False, initial="error", label="Malformed rows")
    duplicate_headers = forms.ChoiceField(
        choices=[
            ("reject", "Refuse the file"),
            ("rename", "Rename them (a, a_2, column_3…) and report it"),
        ],
        required=False,
        initial="reject",
        label="Unnamed or repeated column names",
    )
    header_rows = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=10,
        initial=1,
        label="Header rows",
        help_text="Rows the column names span; they are joined: Sales 2024 / Q1.",
    )
    skip_rows = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=100_000,
        label="Rows above the table to skip",
        help_text="A title or notes above the column names.",
    )

    def options(self) -> dict[str, Any]:
        data = self.cleaned_data
        header = {"yes": True, "no": False}.get(data.get("header") or "")
        return {
            "format": data.get("format") or None,
            "encoding": (data.get("encoding") or "").strip() or None,
            "delimiter": data.get("delimiter") or None,
            "header": header,
            "sheet": (data.get("sheet") or "").strip() or None,
            "bad_rows": data.get("bad_rows") or "error",
            "duplicate_headers": data.get("duplicate_headers") or "reject",
            "header_rows": data.get("header_rows") or None,
            "skip_rows": data.get("skip_rows") or None,
        }


class UploadForm(PageForm, _OptionsMixin):
    """Upload a file as a new dataset, or as a new version of ``dataset``."""

    file = forms.FileField(help_text="CSV, TSV, Parquet, Excel (.xlsx) or JSON Lines.")
    name = forms.CharField(required=False, max_length=200, help_text="Defaults to the file name.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, dataset: Dataset | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dataset = dataset
        if dataset is not None:
            del self.fields["name"], self.fields["description"]
        self.order_fields(["file", "name", "description"])

    def dataset_name(self) -> str | None:
        if self.dataset is not None:
            return None
        return (self.cleaned_data.get("name") or "").strip() or default_name(self.cleaned_data["file"].name)


class ConnectionImportForm(PageForm):
    """Import a table, a SQL query's result (PostgreSQL) or a file (S3) from a connection."""

    connection = forms.ModelChoiceField(queryset=Connection.objects.none(), empty_label=None)
    table = forms.CharField(
        required=False, max_length=500, help_text="PostgreSQL: schema.table, e.g. public.orders."
    )
    query = forms.CharField(
        required=False,
        label="SQL query",
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text="PostgreSQL: one SELECT statement; it runs read-only. Use it instead of a table.",
    )
    path = forms.CharField(
        required=False,
        max_length=1000,
        label="File",
        help_text="S3: the object key, e.g. exports/orders.parquet.",
    )
    keep_in_database = forms.BooleanField(
        required=False,
        label="Keep the data in the database; recipes on it run there",
        help_text="PostgreSQL tables only. Recipes on this dataset whose outputs are stored in the same "
        "connection then run inside PostgreSQL, on the live table. A copy (snapshot) is still kept here "
        "for exploring, profiling, quality checks and other recipes.",
    )
    name = forms.CharField(max_length=200, help_text="Name of the new dataset.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["connection"].queryset = Connection.objects.usable_in(project).order_by("name")
        self.fields["connection"].label_from_instance = lambda c: f"{c.name} ({c.get_kind_display()})"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        connection = data.get("connection")
        if connection is None:
            return data
        given = [k for k in ("table", "query", "path") if (data.get(k) or "").strip()]
        if connection.kind == ConnectionKind.POSTGRESQL:
            if "path" in given:
                self.add_error("path", "A PostgreSQL connection reads tables or queries, not files.")
            elif len(given) != 1:
                self.add_error("table", "Give either a table or a SQL query.")
            elif data.get("keep_in_database") and given != ["table"]:
                self.add_error(
                    "keep_in_database",
                    "Only a table can stay in its database; a SQL query's result is always copied. "
                    "Untick this, or import a table.",
                )
        elif data.get("keep_in_database"):
            self.add_error(
                "keep_in_database", "Only PostgreSQL tables can stay in their database; untick this."
            )
        elif given != ["path"]:
            self.add_error("path", "Give the key of the file to import from the bucket.")
        return data


class DatasetSettingsForm(PageForm):
    """Name, description, tags and owner; column descriptions are added per column."""

    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    tags = forms.CharField(
        required=False, max_length=1000, help_text="Comma-separated, e.g. flights, daily, gold."
    )
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="No owner")

    def __init__(self, *args: Any, dataset: Dataset, columns: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        members = User.objects.filter(is_active=True).filter(
            memberships__project=dataset.project
        ) | User.objects.filter(pk=dataset.owner_id or 0)
        self.fields["owner"].queryset = members.distinct().order_by("username")
        self.columns = columns
        for index, column in enumerate(columns):
            self.fields[f"col_{index}"] = forms.CharField(
                required=False,
                max_length=2000,
                label=column,
                initial=dataset.column_descriptions.get(column, ""),
            )

    def column_fields(self) -> list[forms.BoundField]:
        return [self[f"col_{i}"] for i in range(len(self.columns))]

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "description": data["description"],
            "tags": [t.strip() for t in (data.get("tags") or "").split(",") if t.strip()],
            "owner": data.get("owner"),
            "column_descriptions": {c: data.get(f"col_{i}", "") for i, c in enumerate(self.columns)},
        }


def types_from_post(post: Any, version: DatasetVersion) -> dict[str, str]:
    """The column types chosen in the schema table (``type_<n>`` fields) that differ from the version's."""
    chosen: dict[str, str] = {}
    for index, column in enumerate(version.schema):
        value = post.get(f"type_{index}")
        if value and value != column["type"]:
            if value not in LOGICAL_TYPES:
                raise ValidationError(
                    {"types": f"'{value}' is not a type; use one of {', '.join(LOGICAL_TYPES)}."}
                )
            chosen[column["name"]] = value
    return chosen


class RuleForm(PageForm):
    """A quality rule: its kind, the column(s) it checks and its parameters."""

    kind = forms.ChoiceField(choices=[(k, RULE_LABELS[k]) for k in RULE_KINDS], label="Rule")
    column = forms.ChoiceField(required=False, choices=())
    columns = forms.MultipleChoiceField(required=False, choices=(), help_text="Unique: the key columns.")
    min = forms.CharField(required=False, max_length=100, label="Minimum")
    max = forms.CharField(required=False, max_length=100, label="Maximum")
    values = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Allowed values: one per line."
    )
    pattern = forms.CharField(
        required=False, max_length=1000, help_text="Regular expression the whole value must match."
    )
    max_age_hours = forms.FloatField(required=False, min_value=0, label="Maximum age (hours)")
    expression = forms.CharField(
        required=False, max_length=2000, label="Condition", help_text="e.g. arr_time >= dep_time"
    )
    blocking = forms.BooleanField(
        required=False, help_text="A version that fails it is marked unusable for later builds."
    )

    def __init__(self, *args: Any, columns: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schema = {c["name"]: c for c in columns}
        choices = [(c["name"], c["name"]) for c in columns]
        self.fields["column"].choices = [("", "—"), *choices]
        self.fields["columns"].choices = choices

    def _bound(self, text: str, column: dict[str, Any] | None) -> Any:
        if text == "":
            return None
        if column is not None and column["type"] in ("integer", "float", "decimal"):
            try:
                number = float(text)
            except ValueError as exc:
                raise ValidationError(
                    f"'{text}' is not a number, and column {column['name']} holds numbers."
                ) from exc
            return int(number) if column["type"] == "integer" and number.is_integer() else number
        return text

    def params(self) -> dict[str, Any]:
        """The engine parameters of the rule (raises ValidationError keyed by field)."""
        data, kind = self.cleaned_data, self.cleaned_data["kind"]
        column = data.get("column") or ""
        needs_column = kind in ("not_null", "range", "allowed_values", "regex", "freshness")
        if needs_column and not column:
            raise ValidationError({"column": "Choose the column this rule checks."})
        info = self.schema.get(column)
        if kind == "not_null":
            return {"column": column}
        if kind == "unique":
            if not data.get("columns"):
                raise ValidationError({"columns": "Choose at least one key column."})
            return {"columns": list(data["columns"])}
        if kind in ("range", "row_count"):
            try:
                low = self._bound(
                    (data.get("min") or "").strip(),
                    info if kind == "range" else {"type": "integer", "name": "rows"},
                )
                high = self._bound(
                    (data.get("max") or "").strip(),
                    info if kind == "range" else {"type": "integer", "name": "rows"},
                )
            except ValidationError as exc:
                raise ValidationError({"min": exc.messages}) from exc
            if low is None and high is None:
                raise ValidationError({"min": "Give a minimum, a maximum or both."})
            params = {"min": low, "max": high}
            return {"column": column, **params} if kind == "range" else params
        if kind == "allowed_values":
            values = [v.strip() for v in (data.get("values") or "").splitlines() if v.strip()]
            if not values:
                raise ValidationError({"values": "List the allowed values, one per line."})
            return {"column": column, "values": values}
        if kind == "regex":
            if not data.get("pattern"):
                raise ValidationError({"pattern": "Give the pattern values must match."})
            return {"column": column, "pattern": data["pattern"]}
        if kind == "freshness":
            if data.get("max_age_hours") is None:
                raise ValidationError({"max_age_hours": "Give the largest acceptable age in hours."})
            return {"column": column, "max_age_hours": data["max_age_hours"]}
        if not (data.get("expression") or "").strip():
            raise ValidationError({"expression": "Write the condition every row must satisfy."})
        return {"expression": data["expression"].strip()}


def pretty_params(params: dict[str, Any]) -> str:
    """Rule parameters as short text for tables."""
    return json.dumps(params, ensure_ascii=False)[:200]
