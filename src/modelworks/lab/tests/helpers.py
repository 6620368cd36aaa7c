"""Small real datasets for the Lab's tests (from installed packages, made into CSV uploads)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd

from modelworks.core.models import Project, User
from modelworks.datasets.models import Dataset
from modelworks.datasets.testing import make_dataset, run_queued_jobs
from modelworks.lab import services
from modelworks.lab.models import Analysis, TrainingSession

__all__ = ["breast_cancer_csv", "dataset_from", "penguins_csv", "quick_design", "regression_csv", "train_now"]


def _csv(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def breast_cancer_csv(rows: int = 300) -> bytes:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    frame = data.frame.iloc[:, [0, 1, 2, 3, 4, 5, 6, 7, 20, 21, 22, 23]].copy()
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    frame["diagnosis"] = np.where(data.frame["target"] == 1, "benign", "malignant")
    return _csv(frame.sample(n=rows, random_state=1))


def penguins_csv() -> bytes:
    from palmerpenguins import load_penguins

    return _csv(load_penguins())


def regression_csv(rows: int = 240) -> bytes:
    rng = np.random.default_rng(7)
    size = rng.uniform(20, 200, rows)
    rooms = rng.integers(1, 7, rows)
    city = rng.choice(["Lyon", "Paris", "Nantes"], rows)
    day = pd.date_range("2023-01-01", periods=rows, freq="D")
    price = 3000 * size + 15000 * rooms + np.where(city == "Paris", 90000, 0) + rng.normal(0, 20000, rows)
    return _csv(
        pd.DataFrame(
            {
                "size_m2": size.round(1),
                "rooms": rooms,
                "city": city,
                "sold_on": day.date,
                "price": price.round(0),
            }
        )
    )


def dataset_from(project: Project, actor: User, content: bytes, name: str) -> Dataset:
    return make_dataset(project, actor, name=name, content=content, file_name=f"{name}.csv")


def quick_design(analysis: Analysis, actor: User, **changes: Any) -> Analysis:
    """A design that trains in a few seconds: two cheap algorithms, a few trials, three folds."""
    defaults: dict[str, Any] = {
        "algorithms": ["linear", "lightgbm"],
        "time_budget_s": 8,
        "max_trials": 4,
        "validation": {
            "kind": analysis.validation.get("kind", "kfold"),
            "folds": 3,
            "holdout_fraction": 0.25,
        },
    }
    return services.update_design(analysis, actor=actor, **{**defaults, **changes})


def train_now(analysis: Analysis, actor: User) -> TrainingSession:
    """Start a training and run its job in this process; return the session, ended."""
    session = services.start_training(analysis, actor=actor)
    run_queued_jobs()
    session.refresh_from_db()
    return session
