"""The ``score`` recipe: score a dataset with a registered model (run, not compiled).

Spec: ``{"model": "<registered model name>", "alias": "champion" | "", "version": int | null,
"keep_columns": [...] | null (all), "probabilities": true, "log_predictions": true,
"id_column": "<column>" | null, "time_column": "<column>" | null}``; exactly one of ``alias`` and
``version``. ``id_column`` names the rows in the prediction log (so labels that arrive later can be
matched to them; default: ``<build request>:<row number>``) and ``time_column`` dates them (so
monitoring windows follow the data's own time; default: when the build ran). The platform resolves the alias to a version when a build starts
(so a promotion makes the next build score again) and runs ``engine.scoring.run_batch_scoring``.

:func:`score_output_columns` gives the output's columns before anything runs, from the input's
columns and what is known of the model without loading it (its signature's input columns, its
classes, the type of its predictions), so recipes downstream can be checked as for SQL recipes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from modelworks.engine.errors import did_you_mean
from modelworks.engine.recipes.types import Column, MissingColumnError, RecipeSpecError, Relation
from modelworks.engine.recipes.visual.spec import SpecReader

__all__ = ["ModelFacts", "check_score_inputs", "normalize_score_spec", "score_output_columns"]

SPEC_KEYS = (
    "model",
    "alias",
    "version",
    "keep_columns",
    "probabilities",
    "log_predictions",
    "id_column",
    "time_column",
)


def normalize_score_spec(spec: Mapping[str, Any] | None, *, recipe: str) -> dict[str, Any]:
    """Check a score spec's shape and fill its defaults.

    Raises:
        RecipeSpecError: no model, both or neither of alias and version, a bad value (the message
            names the recipe and the setting).
    """
    reader = SpecReader(spec, recipe=recipe)
    reader.allow(*SPEC_KEYS)
    model = str(reader.string("model")).strip()
    alias = reader.data.get("alias") or ""
    if not isinstance(alias, str):
        raise reader.error("alias", f"must be an alias name such as 'champion', not {alias!r}")
    alias = alias.strip()
    version = reader.integer("version", None, minimum=1)
    if alias and version is not None:
        raise reader.error(
            "version", f"is {version} but the alias {alias!r} is set too: choose an alias or a version"
        )
    if not alias and version is None:
        raise reader.error(
            "alias",
            "is empty and no version is given: choose an alias (e.g. 'champion', so promotions are "
            "picked up) or a fixed version",
        )
    keep = reader.data.get("keep_columns")
    kept: list[str] | None = None
    if keep is not None:
        kept = list(reader.strings("keep_columns"))
        if len(set(kept)) != len(kept):
            raise reader.error("keep_columns", "names a column twice")
    named: dict[str, str | None] = {}
    for key in ("id_column", "time_column"):
        value = reader.data.get(key) or None
        if value is not None and not isinstance(value, str):
            raise reader.error(key, f"must be a column name, not {value!r}")
        named[key] = value.strip() if value else None
    return {
        "model": model,
        "alias": alias,
        "version": version,
        "keep_columns": kept,
        "probabilities": reader.boolean("probabilities", True),
        "log_predictions": reader.boolean("log_predictions", True),
        **named,
    }


@dataclass(frozen=True)
class ModelFacts:
    """What is known of a model version without loading it.

    Attributes:
        label: ``"<model>/<version>"``, for messages.
        input_columns: the columns its signature requires (``None``: no signature).
        classes: class labels in probability order (``None``: not a classifier, or unknown).
        prediction_type: the logical type of its predictions (``string`` when unknown).
    """

    label: str
    input_columns: tuple[str, ...] | None
    classes: tuple[str, ...] | None
    prediction_type: str = "string"


def score_output_columns(
    spec: Mapping[str, Any], source: Relation, model: ModelFacts, *, recipe: str
) -> tuple[Column, ...]:
    """The columns a score recipe writes: kept input columns, ``prediction``, ``proba_<class>`` per
    class (when asked and known) and ``model_version`` (names made unique as the scorer does).

    Raises:
        MissingColumnError: a kept column, or a column the model needs, is not in the input (the
            message names the column, the input, the model and the recipe).
    """
    by_name = {c.name: c for c in source.columns}
    for needed in model.input_columns or ():
        if needed not in by_name:
            raise MissingColumnError(
                f"recipe {recipe!r}: model {model.label} needs column {needed!r}, which input "
                f"{source.name!r} does not have{did_you_mean(needed, by_name)}; add it upstream or "
                "score with a version trained on these columns",
                column=needed,
                input=source.name,
                recipe=recipe,
                model=model.label,
            )
    keep = spec.get("keep_columns")
    kept = [c.name for c in source.columns] if keep is None else list(keep)
    for name in kept:
        if name not in by_name:
            raise MissingColumnError.for_column(name, relation=source, recipe=recipe, where="columns to keep")
    for key, where in (("id_column", "row identifier"), ("time_column", "time of each row")):
        name = spec.get(key)
        if name and name not in by_name:
            raise MissingColumnError.for_column(name, relation=source, recipe=recipe, where=where)
    from modelworks.engine.scoring.batch import output_names  # loads the scorer only when needed

    classes = model.classes if spec.get("probabilities", True) else None
    prediction, probas, version = output_names(kept, classes)
    return (
        *(by_name[name] for name in kept),
        Column(prediction, model.prediction_type),
        *(Column(name, "float") for name in probas),
        Column(version, "string"),
    )


def check_score_inputs(inputs: Sequence[Relation], outputs: Sequence[str], *, recipe: str) -> None:
    """A score recipe reads one input and writes one output.

    Raises:
        RecipeSpecError: otherwise.
    """
    if len(inputs) != 1 or len(outputs) != 1:
        raise RecipeSpecError(
            f"recipe {recipe!r}: a Score recipe reads exactly 1 input and writes exactly 1 output "
            f"(this one has {len(inputs)} and {len(outputs)})",
            recipe=recipe,
        )
