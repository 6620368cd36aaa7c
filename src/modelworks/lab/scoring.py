"""``python -m modelworks.lab.scoring``: score and explain one what-if row in a separate process.

The web process never loads a model file: a pickled model can run code when it is loaded, so the
what-if form hands the row to this short-lived child process instead (``services.whatif``), run in
the model sandbox (``engine.scoring.sandbox.model_child``: no secret, no network, read-only model
and background rows). This module is shown there alone, so it imports nothing but the engine. Models
saved in the skops format are loaded with an explicit list of trusted types (never "trust all"); a
file naming any other type is refused.

Protocol: one JSON object on stdin ``{"model_dir", "background", "row"}``; one JSON object on stdout,
``{"ok": true, "result": RowExplanation dict}`` or ``{"ok": false, "error": "..."}``. No Django here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

# The types a skops file may name beyond skops' defaults: one list, kept with the scoring engine.
from modelworks.engine.scoring.model import TRUSTED_PREFIXES

__all__ = ["TRUSTED_PREFIXES", "load_lab_model", "main"]


class UntrustedModelError(Exception):
    """The model file names a type outside the trusted list."""


def _flavor(model_dir: Path) -> dict[str, Any]:
    import yaml

    meta = yaml.safe_load((model_dir / "MLmodel").read_text())
    flavors = meta.get("flavors") or {}
    sklearn_flavor = flavors.get("sklearn")
    if not isinstance(sklearn_flavor, dict):
        raise UntrustedModelError(
            "The model folder has no sklearn flavor; the Lab only scores its own models."
        )
    return sklearn_flavor


def load_lab_model(model_dir: Path) -> Any:
    """Load the sklearn pipeline of a Lab model folder (skops: with the trusted types only)."""
    flavor = _flavor(model_dir)
    data = model_dir / str(flavor.get("pickled_model", "model.pkl"))
    if Path(data).resolve().parent != model_dir.resolve():
        raise UntrustedModelError("The model file lies outside its folder.")
    if flavor.get("serialization_format") == "skops":
        import skops.io

        untrusted = skops.io.get_untrusted_types(file=str(data))
        refused = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
        if refused:
            raise UntrustedModelError(
                f"The model file names types that are not trusted: {', '.join(refused[:5])}."
            )
        return skops.io.load(str(data), trusted=untrusted)
    import mlflow.sklearn

    return mlflow.sklearn.load_model(str(model_dir))


def main() -> int:
    try:
        request = json.loads(sys.stdin.read())
        import pandas as pd

        from modelworks.engine.automl import AutoMLError
        from modelworks.engine.automl.explain import what_if

        model = load_lab_model(Path(request["model_dir"]))
        background = pd.read_parquet(request["background"])
        try:
            result = what_if(model, request["row"], background)
        except AutoMLError as exc:
            print(json.dumps({"ok": False, "error": exc.message, "details": _plain(exc.details)}))
            return 0
        print(json.dumps({"ok": True, "result": result.to_dict()}, default=str))
    except UntrustedModelError as exc:
        print(json.dumps({"ok": False, "error": str(exc)}))
    return 0


def _plain(details: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in details.items() if isinstance(v, str | int | float | bool | type(None))}


if __name__ == "__main__":
    sys.exit(main())
