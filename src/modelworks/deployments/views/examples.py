"""The "how to call" snippets of a deployment's page: curl, Python ``requests`` and the MLflow
scoring format, with an example row taken from the model version's input example or signature."""

from __future__ import annotations

import json
import shlex
from typing import Any

__all__ = ["call_examples", "example_record"]

_PLACEHOLDER = {
    "double": 1.5,
    "float": 1.5,
    "long": 1,
    "integer": 1,
    "boolean": True,
    "string": "text",
    "datetime": "2025-01-31T08:00:00",
    "binary": "",
}


def example_record(version: Any) -> dict[str, Any]:
    """One input row for ``version``: its stored input example's first row, else placeholders per
    signature column, else an empty object."""
    example = getattr(version, "input_example", None)
    if isinstance(example, dict) and isinstance(example.get("columns"), list) and example.get("data"):
        first = example["data"][0]
        if isinstance(first, list) and len(first) == len(example["columns"]):
            return dict(zip((str(c) for c in example["columns"]), first, strict=True))
    if isinstance(example, list) and example and isinstance(example[0], dict):
        return dict(example[0])
    if (
        isinstance(example, dict)
        and example
        and all(not isinstance(v, list | dict) for v in example.values())
    ):
        return dict(example)
    signature = getattr(version, "signature", None) or {}
    inputs = signature.get("inputs") if isinstance(signature, dict) else None
    if isinstance(inputs, str):
        try:
            inputs = json.loads(inputs)
        except ValueError:
            inputs = None
    record: dict[str, Any] = {}
    for column in inputs if isinstance(inputs, list) else []:
        if isinstance(column, dict) and column.get("name"):
            record[str(column["name"])] = _PLACEHOLDER.get(str(column.get("type", "")), "value")
    return record


def call_examples(base_url: str, name: str, record: dict[str, Any], *, id_column: str = "") -> dict[str, str]:
    """``{"curl": …, "python": …, "mlflow": …}`` ready to copy (the token is a placeholder)."""
    row = dict(record)
    if id_column and id_column not in row:
        row = {id_column: "row-0001", **row}
    url = f"{base_url}/score/{name}"
    body = json.dumps({"records": [row]})
    columns = list(row)
    split = {"dataframe_split": {"columns": columns, "data": [[row[c] for c in columns]]}}
    curl = (
        f"curl -X POST {shlex.quote(url)} \\\n"
        '  -H "Authorization: Bearer $MODELWORKS_ENDPOINT_TOKEN" \\\n'
        "  -H 'Content-Type: application/json' \\\n"
        f"  -d {shlex.quote(body)}"
    )
    python = (
        "import os\n\nimport requests\n\n"
        "response = requests.post(\n"
        f"    {url!r},\n"
        '    headers={"Authorization": f"Bearer {os.environ[\'MODELWORKS_ENDPOINT_TOKEN\']}"},\n'
        f"    json={{'records': [{row!r}]}},\n"
        "    timeout=10,\n"
        ")\n"
        "response.raise_for_status()\n"
        "answer = response.json()\n"
        'print(answer["predictions"], answer.get("probabilities"), answer["model_version"])'
    )
    mlflow = (
        "# Clients written for `mlflow models serve` keep working: same body, same answer shape.\n"
        "import os\n\nimport requests\n\n"
        "response = requests.post(\n"
        f"    {url + '/invocations'!r},\n"
        '    headers={"Authorization": f"Bearer {os.environ[\'MODELWORKS_ENDPOINT_TOKEN\']}"},\n'
        f"    json={split!r},\n"
        "    timeout=10,\n"
        ")\n"
        'print(response.json()["predictions"])'
    )
    return {"curl": curl, "python": python, "mlflow": mlflow}
