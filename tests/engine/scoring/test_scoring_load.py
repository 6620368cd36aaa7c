"""ScoringModel.load: every supported flavor, the schema, task and classes, and actionable failures."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from scoring_tables import FEATURES

from modelworks.engine.scoring import ColumnSpec, ModelLoadError, ScoringModel


@pytest.mark.parametrize(
    ("fixture", "flavor", "task", "classes", "fast"),
    [
        ("lab_dir", "sklearn", "binary", ("late", "on_time"), False),
        ("lgb_dir", "lightgbm", "binary", ("0", "1"), True),
        ("lgb_multi_dir", "lightgbm", "multiclass", ("0", "1", "2"), True),
        ("lgb_regression_dir", "lightgbm", "regression", None, True),
        ("xgb_dir", "xgboost", "binary", ("0", "1"), True),
        ("xgb_multi_dir", "xgboost", "multiclass", ("0", "1", "2"), True),
        ("sklearn_dir", "sklearn", "binary", ("no", "yes"), True),
        ("skops_dir", "sklearn", "regression", None, True),
    ],
)
def test_load_every_flavor(
    request: pytest.FixtureRequest,
    fixture: str,
    flavor: str,
    task: str,
    classes: tuple[str, ...] | None,
    fast: bool,
) -> None:
    folder: Path = request.getfixturevalue(fixture)
    model = ScoringModel.load(folder)
    assert model.flavor == flavor
    assert model.task == task
    assert model.classes == classes
    assert model.name == folder.name
    assert model._fast is fast


def test_schema_comes_from_the_signature(lab_dir: Path, lgb_dir: Path, lgb_regression_dir: Path) -> None:
    lab = ScoringModel.load(lab_dir, name="flights/1")
    assert lab.name == "flights/1"
    assert lab.schema is not None
    assert lab.schema.get("distance") == ColumnSpec("distance", "double", required=False)  # has nulls
    assert lab.schema.get("carrier") == ColumnSpec("carrier", "string", required=True)
    assert lab.schema.get("hour") == ColumnSpec("hour", "long", required=True)
    assert lab.schema.get("day") == ColumnSpec("day", "datetime", required=True)
    booster = ScoringModel.load(lgb_dir)
    assert booster.schema is not None and booster.schema.names == tuple(FEATURES)
    assert booster.schema.numeric
    # No signature: the booster's own feature names validate the input, but schema stays None.
    unsigned = ScoringModel.load(lgb_regression_dir)
    assert unsigned.schema is None


def _copy(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / folder.name
    shutil.copytree(folder, target)
    return target


def _edit_mlmodel(folder: Path, edit: object) -> None:
    meta = yaml.safe_load((folder / "MLmodel").read_text())
    edit(meta)  # type: ignore[operator]
    (folder / "MLmodel").write_text(yaml.safe_dump(meta))


def test_missing_folder_and_mlmodel(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="does not exist; was the model version deleted"):
        ScoringModel.load(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="has no MLmodel file, so it is not an MLflow model"):
        ScoringModel.load(tmp_path / "empty")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "MLmodel").write_text("flavors: [unclosed")
    with pytest.raises(ModelLoadError, match="not readable YAML"):
        ScoringModel.load(tmp_path / "broken")


def test_unknown_flavor(lgb_dir: Path, tmp_path: Path) -> None:
    folder = _copy(lgb_dir, tmp_path)
    _edit_mlmodel(folder, lambda m: m.update(flavors={"pytorch": {"data": "x"}}))
    with pytest.raises(ModelLoadError, match=r"has the flavors pytorch; the scoring service loads lightgbm"):
        ScoringModel.load(folder)


def test_model_file_outside_the_folder(lgb_dir: Path, tmp_path: Path) -> None:
    folder = _copy(lgb_dir, tmp_path / "copy")
    shutil.copy(folder / "model.lgb", tmp_path / "outside.lgb")
    _edit_mlmodel(folder, lambda m: m["flavors"]["lightgbm"].update(data="../outside.lgb"))
    with pytest.raises(ModelLoadError, match="outside the model folder"):
        ScoringModel.load(folder)


def test_missing_model_file(xgb_dir: Path, tmp_path: Path) -> None:
    folder = _copy(xgb_dir, tmp_path)
    (folder / "model.ubj").unlink()
    with pytest.raises(ModelLoadError, match=r"'model\.ubj' is missing from the model folder"):
        ScoringModel.load(folder)


def test_foreign_class_names_are_refused(xgb_dir: Path, tmp_path: Path) -> None:
    folder = _copy(xgb_dir, tmp_path)
    _edit_mlmodel(folder, lambda m: m["flavors"]["xgboost"].update(model_class="os.system"))
    with pytest.raises(ModelLoadError, match=r"'os\.system', which is not XGBoost's"):
        ScoringModel.load(folder)


def test_untrusted_skops_types_are_refused(tmp_path: Path) -> None:
    import mlflow.sklearn
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    import conftest

    frame = conftest.numeric_table(50)
    pipeline = make_pipeline(FunctionTransformer(shutil.disk_usage)).fit(frame[FEATURES])
    folder = tmp_path / "untrusted"
    mlflow.sklearn.save_model(
        pipeline,
        str(folder),
        serialization_format="skops",
        skops_trusted_types=["shutil.disk_usage"],
        pip_requirements=[],
    )
    with pytest.raises(ModelLoadError, match=r"names types that are not trusted: .*shutil\.disk_usage"):
        ScoringModel.load(folder)


def test_corrupt_model_file(lgb_dir: Path, tmp_path: Path) -> None:
    folder = _copy(lgb_dir, tmp_path)
    (folder / "model.lgb").write_text("not a model")
    with pytest.raises(
        ModelLoadError, match=r"The lightgbm model in 'lgb' could not be loaded: .*requirements.txt"
    ):
        ScoringModel.load(folder)


def test_bad_signature(lgb_dir: Path, tmp_path: Path) -> None:
    folder = _copy(lgb_dir, tmp_path)
    bad = json.dumps([{"name": "f0", "type": "array", "required": True}])
    _edit_mlmodel(folder, lambda m: m["signature"].update(inputs=bad))
    with pytest.raises(ModelLoadError, match="gives column 'f0' the type 'array'"):
        ScoringModel.load(folder)
