"""The generated model card of a version: what it is for, what it was trained on and how it scores,
its signature, the packages it needs, its aliases and their history, and its tags; as data for the
page and as Markdown for download."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modelworks.registry.models import AliasEvent, ModelVersion
from modelworks.registry.services.versions import version_metrics, version_params

__all__ = ["ModelCard", "card_markdown", "model_card"]


@dataclass(frozen=True)
class ModelCard:
    """Everything the card shows, gathered once."""

    version: ModelVersion
    purpose: str
    training_data: str
    lineage: list[tuple[str, str]]
    metrics: dict[str, float | None]
    params: dict[str, str]
    signature: dict[str, Any] | None
    input_example: Any
    package_versions: dict[str, Any]
    aliases: list[str]
    alias_history: list[AliasEvent]
    tags: dict[str, str]


def model_card(version: ModelVersion) -> ModelCard:
    """The card of ``version``."""
    model = version.registered_model
    data = version.training_dataset_version
    training = (
        f"{data.dataset.name} v{data.number} ({data.row_count} rows, {len(data.schema)} columns)"
        if data
        else ""
    )
    lineage: list[tuple[str, str]] = []
    if data is not None:
        lineage.append(
            ("Training data", f"{data.dataset.name} v{data.number}, content {data.content_hash[:19]}")
        )
    if version.recipe is not None:
        lineage.append(("Recipe", version.recipe.name))
    if version.run is not None:
        lineage.append(
            (
                "Run",
                f"{version.run.name or version.run.run_uuid} ({version.run.run_uuid}) in experiment "
                f"{version.run.experiment.name}",
            )
        )
    if version.logged_model is not None:
        lineage.append(("Logged model", f"{version.logged_model.name} ({version.logged_model.model_id})"))
    if version.code_reference:
        lineage.append(("Code", version.code_reference))
    lineage.append(("Source", version.source))
    return ModelCard(
        version=version,
        purpose=version.description or model.description,
        training_data=training,
        lineage=lineage,
        metrics=version_metrics(version),
        params=version_params(version),
        signature=version.signature,
        input_example=version.input_example,
        package_versions=dict(version.package_versions or {}),
        aliases=sorted(a.alias for a in version.aliases.all()),
        alias_history=list(
            AliasEvent.objects.filter(registered_model=model).filter(_touching(version.version))[:50]
        ),
        tags=dict(version.tags.values_list("key", "value")),
    )


def _touching(number: int) -> Any:
    """Alias events that moved an alias to or away from version ``number``."""
    from django.db.models import Q

    return Q(from_version=number) | Q(to_version=number)


def _md(text: Any) -> str:
    """Text safe inside Markdown (and a table cell): no markup, no line breaks, pipes escaped."""
    value = "" if text is None else str(text)
    value = value.replace("\r", " ").replace("\n", " ")
    for character in "\\`*_{}[]<>()#+!|":
        value = value.replace(character, "\\" + character)
    return value


def _signature_rows(part: Any) -> list[str]:
    if not isinstance(part, list):
        return []
    rows = []
    for column in part:
        if isinstance(column, dict):
            rows.append(f"| {_md(column.get('name', ''))} | {_md(column.get('type', ''))} |")
    return rows


def card_markdown(card: ModelCard) -> str:
    """The card as a Markdown document (every user-provided value escaped)."""
    version = card.version
    model = version.registered_model
    lines = [
        f"# Model card: {_md(model.name)} version {version.version}",
        "",
        f"Project: {_md(model.project.name)}. Registered {version.created_at:%Y-%m-%d %H:%M} UTC"
        + (f" by {_md(version.created_by.get_username())}" if version.created_by else "")
        + f". Load it with `models:/{model.name.replace('`', '')}/{version.version}`.",
        "",
        "## Purpose",
        "",
        _md(card.purpose) or "No description yet.",
        "",
        "## Training data and lineage",
        "",
    ]
    lines += [f"- **{_md(label)}**: {_md(value)}" for label, value in card.lineage] or ["Unknown."]
    lines += ["", "## Metrics", ""]
    if card.metrics:
        lines += ["| Metric | Value |", "| --- | --- |"]
        lines += [f"| {_md(k)} | {'' if v is None else f'{v:.6g}'} |" for k, v in card.metrics.items()]
    else:
        lines.append("No metrics recorded.")
    lines += ["", "## Parameters", ""]
    if card.params:
        lines += ["| Parameter | Value |", "| --- | --- |"]
        lines += [f"| {_md(k)} | {_md(v)} |" for k, v in card.params.items()]
    else:
        lines.append("No parameters recorded.")
    lines += ["", "## Signature", ""]
    if card.signature:
        for part in ("inputs", "outputs"):
            rows = _signature_rows(card.signature.get(part))
            if rows:
                lines += [f"{part.title()}:", "", "| Name | Type |", "| --- | --- |", *rows, ""]
    else:
        lines.append("No signature recorded.")
    lines += ["", "## Packages", ""]
    packages = {k: v for k, v in card.package_versions.items() if k != "flavors"}
    lines += [f"- {_md(k)} {_md(v)}" for k, v in sorted(packages.items())] or ["Unknown."]
    if card.package_versions.get("flavors"):
        lines.append(f"- Flavors: {_md(', '.join(card.package_versions['flavors']))}")
    lines += ["", "## Aliases", ""]
    lines.append(", ".join(_md(a) for a in card.aliases) if card.aliases else "None.")
    if card.alias_history:
        lines += ["", "| When (UTC) | Who | Alias | From | To |", "| --- | --- | --- | --- | --- |"]
        for event in card.alias_history:
            lines.append(
                f"| {event.created_at:%Y-%m-%d %H:%M} | {_md(event.actor_name or 'system')} | {_md(event.alias)} | "
                f"{'v' + str(event.from_version) if event.from_version else '-'} | "
                f"{'v' + str(event.to_version) if event.to_version else '-'} |"
            )
    lines += ["", "## Tags", ""]
    lines += [f"- {_md(k)}: {_md(v)}" for k, v in sorted(card.tags.items())] or ["None."]
    return "\n".join(lines) + "\n"
