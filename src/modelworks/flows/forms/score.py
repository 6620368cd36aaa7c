"""The Score recipe's settings as pickers: the project's registered models, then one of the chosen
model's aliases (with the version each points to now) or a fixed version, and the input's columns.

The spec keeps ``alias`` and ``version`` apart (exactly one is set); the form offers them as one
select, ``spec.target``, whose values are ``alias:<name>`` or ``version:<number>``
(:func:`encode_target` / :func:`decode_target`), so a user cannot set both or neither by mistake.

:func:`check_score` runs the same checks as saving (``normalize_score_spec``, the registry
resolution, the columns against the input) and keys each problem by the form field it belongs to,
with the engine's own message, so the page and the API say the same thing. Nothing here loads a
model: what is known of a version comes from its registry entry (``scoring.model_facts``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modelworks.core.models import Project
from modelworks.registry.models import ModelAlias, RegisteredModel

if TYPE_CHECKING:
    from modelworks.engine.recipes.types import Column
    from modelworks.registry.models import ModelVersion

__all__ = [
    "PICKED_SETTINGS",
    "TARGET_FIELD",
    "TARGET_SETTINGS",
    "AliasOption",
    "ScoreCheck",
    "ScorePicker",
    "VersionOption",
    "check_score",
    "decode_target",
    "default_target",
    "encode_target",
    "project_models",
    "score_picker",
]

#: The form field holding the alias or fixed version (``alias:<name>`` | ``version:<number>``).
TARGET_FIELD = "spec.target"

#: The settings the Score form draws itself (the others use the generated fields).
PICKED_SETTINGS = frozenset({"model", "alias", "version", "id_column", "time_column"})

#: The settings a Score recipe's page shows as "Model" and "Version" rather than one row each.
TARGET_SETTINGS = frozenset({"model", "alias", "version"})

#: The alias a new Score recipe follows when the model has it.
PREFERRED_ALIAS = "champion"


def encode_target(alias: Any, version: Any) -> str:
    """The ``spec.target`` value of a spec's ``alias`` / ``version`` (empty: neither is set)."""
    if isinstance(alias, str) and alias.strip():
        return f"alias:{alias.strip()}"
    if version not in (None, ""):
        return f"version:{version}"
    return ""


def decode_target(text: str) -> tuple[str, Any]:
    """``(alias, version)`` of a ``spec.target`` value: one of them is set, or neither.

    A version that is not a whole number is passed on as typed, for the engine to refuse by name.
    """
    kind, _, value = (text or "").strip().partition(":")
    value = value.strip()
    if kind == "alias" and value:
        return value, None
    if kind == "version" and value:
        return "", int(value) if value.isdigit() else value
    return "", None


def project_models(project: Project) -> list[RegisteredModel]:
    """The project's registered models by name."""
    return list(RegisteredModel.objects.filter(project=project).order_by("name"))


@dataclass(frozen=True)
class AliasOption:
    """An alias of the chosen model and the version number it points to now."""

    alias: str
    version: int

    @property
    def value(self) -> str:
        return encode_target(self.alias, None)


@dataclass(frozen=True)
class VersionOption:
    """A version of the chosen model, with the aliases pointing to it."""

    number: int
    aliases: tuple[str, ...] = ()

    @property
    def value(self) -> str:
        return encode_target("", self.number)


def _aliases(model: RegisteredModel) -> list[AliasOption]:
    links = ModelAlias.objects.filter(registered_model=model).select_related("model_version")
    return [AliasOption(link.alias, link.model_version.version) for link in links.order_by("alias")]


def default_target(model: RegisteredModel | None) -> str:
    """What a Score recipe follows by default: the ``champion`` alias, else the first alias, else
    the latest version (empty: the model has no version)."""
    if model is None:
        return ""
    aliases = _aliases(model)
    for option in aliases:
        if option.alias == PREFERRED_ALIAS:
            return option.value
    if aliases:
        return aliases[0].value
    latest = model.versions.order_by("-version").values_list("version", flat=True).first()
    return encode_target("", latest) if latest is not None else ""


@dataclass
class ScorePicker:
    """The model and version choices of a Score recipe's form.

    Attributes:
        models: the project's registered models.
        model_name: the chosen model's name (may name a model the project does not have).
        model: the chosen model, when the project has it.
        aliases: the chosen model's aliases with their versions now.
        versions: its versions, newest first.
        target: the chosen ``spec.target`` value.
        resolved: the version the target scores with now (None: it does not resolve).
    """

    models: list[RegisteredModel]
    model_name: str = ""
    model: RegisteredModel | None = None
    aliases: list[AliasOption] = field(default_factory=list)
    versions: list[VersionOption] = field(default_factory=list)
    target: str = ""
    resolved: ModelVersion | None = None

    @property
    def unknown_model(self) -> bool:
        """A model is named that the project does not have (kept as an option, marked missing)."""
        return bool(self.model_name) and self.model is None

    @property
    def unknown_target(self) -> str:
        """The chosen target when the model offers no such alias or version (kept, marked missing)."""
        known = {o.value for o in self.aliases} | {o.value for o in self.versions}
        return self.target if self.target and self.target not in known else ""

    @property
    def unknown_target_label(self) -> str:
        """The unknown target in words: ``production (no such alias)``, ``v9 (no such version)``."""
        alias, version = decode_target(self.unknown_target)
        if alias:
            return f"{alias} (no such alias)"
        return f"v{version} (no such version)" if version is not None else ""

    @property
    def following_alias(self) -> str:
        alias, _ = decode_target(self.target)
        return alias


def score_picker(project: Project, model_name: str, target: str | None) -> ScorePicker:
    """The choices for ``model_name`` in ``project``, with ``target`` chosen (None: the model's
    default, see :func:`default_target`)."""
    models = project_models(project)
    picker = ScorePicker(models=models, model_name=(model_name or "").strip())
    picker.model = next((m for m in models if m.name == picker.model_name), None)
    if picker.model is None:
        picker.target = target or ""
        return picker
    picker.aliases = _aliases(picker.model)
    by_version: dict[int, list[str]] = {}
    for option in picker.aliases:
        by_version.setdefault(option.version, []).append(option.alias)
    numbers = picker.model.versions.order_by("-version").values_list("version", flat=True)
    picker.versions = [VersionOption(n, tuple(by_version.get(n, ()))) for n in numbers]
    picker.target = default_target(picker.model) if target is None else target
    alias, version = decode_target(picker.target)
    if alias:
        link = next((o for o in picker.aliases if o.alias == alias), None)
        number = link.version if link is not None else None
    else:
        number = version if isinstance(version, int) else None
    if number is not None:
        picker.resolved = picker.model.versions.filter(version=number).first()
    return picker


@dataclass
class ScoreCheck:
    """What saving would say about a Score recipe's settings, by form field.

    Attributes:
        errors: messages by field (``model``, ``target``, ``keep_columns``, ``id_column``,
            ``time_column``, ``probabilities``, ``log_predictions``): the engine's own messages.
        columns: the output's columns when the settings are valid and the input's columns known.
        version: the model version the settings resolve to now.
    """

    errors: dict[str, str] = field(default_factory=dict)
    columns: tuple[Column, ...] | None = None
    version: ModelVersion | None = None


def _field_of_setting(setting: Any) -> str:
    return "target" if setting in ("alias", "version") else str(setting or "target")


def check_score(
    project: Project,
    spec: Mapping[str, Any],
    *,
    recipe: str,
    input_name: str = "",
    input_columns: Sequence[Column] | None = None,
) -> ScoreCheck:
    """Check a Score recipe's settings as saving does, and say which field each problem is on.

    Args:
        project: the recipe's project (its registry).
        spec: the settings.
        recipe: the recipe's name, for the messages.
        input_name: the input dataset's name.
        input_columns: the input's columns (None: not known yet; the column checks are skipped).
    """
    from modelworks.engine.recipes.score import normalize_score_spec, score_output_columns
    from modelworks.engine.recipes.types import MissingColumnError, RecipeSpecError, Relation
    from modelworks.flows.services.scoring import model_facts, resolve_score_version

    found = ScoreCheck()
    try:
        normalized = normalize_score_spec(spec, recipe=recipe)
    except RecipeSpecError as exc:
        found.errors[_field_of_setting(exc.details.get("setting"))] = exc.message
        return found
    try:
        found.version = resolve_score_version(project.pk, normalized, recipe=recipe)
    except RecipeSpecError as exc:
        place = "target" if {"alias", "version"} & set(exc.details) else "model"
        found.errors[place] = exc.message
        return found
    if input_columns is None:
        return found
    from sqlglot import exp

    relation = Relation(input_name, tuple(input_columns), exp.table_(input_name or "input", quoted=True))
    try:
        found.columns = score_output_columns(normalized, relation, model_facts(found.version), recipe=recipe)
    except MissingColumnError as exc:
        column = exc.details.get("column")
        place = "target"  # a column the model version needs (the details name the model)
        if "model" not in exc.details:
            for key in ("id_column", "time_column"):
                if normalized.get(key) == column:
                    place = key
            if column in (normalized.get("keep_columns") or ()):
                place = "keep_columns"
        found.errors[place] = exc.message
    return found
